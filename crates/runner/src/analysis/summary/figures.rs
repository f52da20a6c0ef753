//! The run-wide figures of a summary besides its rows: what pruning did, each batch size's and
//! each network's best member, each group's overview chart, and the user's data.

use lrsweep_model::{EpochRecord, Schedule};
use serde::{Deserialize, Serialize};

use super::rank::{best, ties};
use super::row::RateSummary;
use crate::config::{rate_label, Network};
use lrsweep_model::Optimizer;

/// What `--prune` did to a run: its rungs' cost against the full run's, the members the
/// refinement's side kept, and which way the refinement went and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruningSummary {
    /// The pruner, e.g. `halving:3:3`.
    pub spec: String,
    /// Epochs trained, summed over the rates.
    pub rate_epochs: usize,
    /// What the same rates would have trained without pruning (each its epochs, less what
    /// the stop rule stopped on its own).
    pub rate_epochs_unpruned: usize,
    /// Members that ranked out at a rung but went on because the refinement's side was not
    /// clear yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_for_side: Vec<String>,
    /// Which way the refinement went and on what evidence, when pruning bore on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refinement: Option<String>,
}

/// One batch size's answer to "small batches are faster but noisier, large ones smoother":
/// its best member (lowest validation loss), when it got there in epochs and in seconds, and
/// how fast its stack trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFigures {
    /// Images per batch.
    pub batch_size: usize,
    /// The best member's rate (as listed).
    pub rate: f64,
    /// Its schedule.
    pub schedule: Schedule,
    /// Its directory.
    pub dir: String,
    /// Its lowest validation loss.
    pub min_val_loss: f64,
    /// The epoch of it.
    pub min_val_loss_epoch: usize,
    /// Wall-clock seconds of training until that epoch's end (its stack's epochs, summed).
    pub seconds_to_best: f64,
    /// Training images per second of the stack it trained in (median epoch; the stack's other
    /// members trained on the same batches in that time).
    pub images_per_s: f64,
}

/// With several batch sizes: each size's figures ([`BatchFigures`]) from the summaries of
/// `rates`, whose records are `records` (in the same order), on `train_images` images; sizes in
/// the order of `sizes`, a size where no member learned left out.
pub fn batch_figures(
    rates: &[RateSummary],
    records: &[&[EpochRecord]],
    sizes: &[usize],
    train_images: usize,
) -> Vec<BatchFigures> {
    sizes
        .iter()
        .filter_map(|&size| {
            let (s, r) = rates
                .iter()
                .zip(records)
                .filter(|(s, _)| s.batch_size == size && s.verdict.learned())
                .filter(|(s, _)| s.score().is_finite())
                .min_by(|a, b| a.0.score().total_cmp(&b.0.score()))?;
            let mut seconds: Vec<f64> = r.iter().map(|e| e.seconds).collect();
            let to_best = r.iter().take(s.min_val_loss_epoch).map(|e| e.seconds).sum();
            seconds.sort_by(f64::total_cmp);
            let median = seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN);
            Some(BatchFigures {
                batch_size: size,
                rate: s.rate,
                schedule: s.schedule,
                dir: s.dir.clone(),
                min_val_loss: s.min_val_loss,
                min_val_loss_epoch: s.min_val_loss_epoch,
                seconds_to_best: to_best,
                images_per_s: train_images as f64 / median,
            })
        })
        .collect()
}

/// The best member of one value of a dimension the run varies (a network, an optimizer): its
/// rate, its figures and verdict, the rates that tie with it within noise, and how far its best
/// rate is from the first value's ("does the best rate move with the network?", "which
/// optimizer, at which rate?").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestFigures {
    /// The value in words: `784 relu`, `512-256 tanh, dropout 0.2`, `sgd:0.9`.
    pub name: String,
    /// Whether it is the run's first value (what the others are compared with; with several
    /// networks, what the range test trained).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// Its best member's rate (as listed).
    pub rate: f64,
    /// Its best member's label.
    pub label: String,
    /// Its best member's directory.
    pub dir: String,
    /// Its lowest validation loss (mean over the seeds with `--seeds`).
    pub min_val_loss: f64,
    /// The noise of that figure (the minimum's standard error, with `--seeds` the seeds'
    /// spread added).
    #[serde(default)]
    pub noise: f64,
    /// The epoch of the minimum.
    pub min_val_loss_epoch: usize,
    /// The epoch to stop at (one standard error).
    #[serde(default)]
    pub stop_epoch: usize,
    /// Its highest validation accuracy.
    pub best_val_acc: f64,
    /// Its best member's verdict, for people.
    #[serde(default)]
    pub verdict: String,
    /// With AdamW: the weights' shrinking per step at its best rate (rate × WD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_per_step: Option<f64>,
    /// The value's other rates whose minima tie with it within their noise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ties: Vec<String>,
    /// Its best rate over the first value's (2: twice as high; absent for the first and when
    /// the first has no best rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<f64>,
}

impl BestFigures {
    /// How far its best rate moved from the first value's, in words: `×2 lower`, `×4 higher`,
    /// `unchanged`; none for the first.
    pub fn movement(&self) -> Option<String> {
        let ratio = self.moved?;
        let factor = |f: f64| {
            let shown = if (f - f.round()).abs() < 0.05 {
                format!("{}", f.round())
            } else {
                format!("{f:.1}")
            };
            format!("×{shown}")
        };
        Some(if (ratio - 1.0).abs() < 1e-9 {
            "unchanged".to_string()
        } else if ratio < 1.0 {
            format!("{} lower", factor(1.0 / ratio))
        } else {
            format!("{} higher", factor(ratio))
        })
    }
}

/// Each value's figures ([`BestFigures`]) from the summaries `rates`, whose value is `value_of`,
/// values in the order of `values` (the first is what the others are compared with), a value
/// where no member learned left out.
pub fn best_of_each<K: PartialEq>(
    rates: &[RateSummary],
    values: &[K],
    value_of: impl Fn(&RateSummary) -> K,
    name: impl Fn(&K) -> String,
) -> Vec<BestFigures> {
    let mut figures: Vec<BestFigures> = Vec::new();
    let mut first_rate = None;
    for (k, value) in values.iter().enumerate() {
        let mine: Vec<RateSummary> = rates
            .iter()
            .filter(|r| value_of(r) == *value)
            .cloned()
            .collect();
        let Some(best) = best(&mine) else {
            continue;
        };
        if k == 0 {
            first_rate = Some(best.rate);
        }
        figures.push(BestFigures {
            name: name(value),
            first: k == 0,
            rate: best.rate,
            label: best.label.clone(),
            dir: best.dir.clone(),
            min_val_loss: best.score(),
            noise: best.noise(),
            min_val_loss_epoch: best.min_val_loss_epoch,
            stop_epoch: best.stop_epoch(),
            best_val_acc: best.best_val_acc,
            verdict: best.verdict.display().to_string(),
            decay_per_step: best.decay_per_step,
            ties: ties(best, &mine)
                .iter()
                .filter(|r| r.dir != best.dir)
                .map(|r| rate_label(r.rate))
                .collect(),
            moved: first_rate.filter(|_| k > 0).map(|first| best.rate / first),
        });
    }
    figures
}

/// With several networks: each network's best member.
pub fn network_figures(rates: &[RateSummary], networks: &[Network]) -> Vec<BestFigures> {
    best_of_each(rates, networks, |r| r.network, Network::describe)
}

/// With several optimizers: each optimizer's best member.
pub fn optimizer_figures(rates: &[RateSummary], optimizers: &[Optimizer]) -> Vec<BestFigures> {
    best_of_each(rates, optimizers, |r| r.optimizer, Optimizer::to_string)
}

/// One group's overview chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The group: its schedule and batch size (`cosine, batch 1024`).
    pub group: String,
    /// The chart's file in the run directory.
    pub file: String,
}

/// What the user's data was: its name, size, shape, scale and classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    /// The path given to `--data`.
    pub name: String,
    /// Classification or regression (the classes are then the targets).
    #[serde(default)]
    pub task: lrsweep_data::Task,
    /// A table's label column and how it was chosen: `'species' (by its name)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// Training and validation items.
    pub items: usize,
    /// The shape of one item.
    pub item_shape: Vec<usize>,
    /// The scale its features were given.
    pub scale: String,
    /// Each class: its name and its items in the training and validation parts.
    pub classes: Vec<ClassCount>,
}

/// One class of the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCount {
    /// The class's name (its label as written in the data).
    pub name: String,
    /// Items in the training part.
    pub train: usize,
    /// Items in the validation part.
    pub valid: usize,
}

impl BatchFigures {
    /// The best member as the tables name it: `lr 0.001`, `lr 0.001 cosine`.
    pub fn best(&self) -> String {
        match self.schedule {
            Schedule::Constant => format!("lr {}", rate_label(self.rate)),
            s => format!("lr {} {s}", rate_label(self.rate)),
        }
    }
}
