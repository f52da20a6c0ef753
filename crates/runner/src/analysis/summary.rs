//! What the curves say: per rate the best epoch and its verdict (`verdict`); then a
//! recommendation.

use lrsweep_model::{EpochRecord, Pruned, Schedule, Stop, StopRule};
use serde::{Deserialize, Serialize};

use crate::analysis::range::Suggestions;
use crate::analysis::verdict::{self, Verdict};
use crate::config::rate_label;
use lrsweep_model::Hopeless;

/// The analysis of one rate's curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateSummary {
    /// The learning rate (as listed or refined).
    pub rate: f64,
    /// The rate as the reference wrote it, and its schedule when that is not `constant`.
    pub label: String,
    /// The schedule it trained under, as its spec (`constant`, `step:2:0.5`, …).
    #[serde(default)]
    pub schedule: Schedule,
    /// Images per batch.
    #[serde(default)]
    pub batch_size: usize,
    /// The rate Adam took (before its schedule): the listed rate, scaled for the batch size
    /// with `--scale-lr`.
    #[serde(default)]
    pub effective_rate: f64,
    /// The member's directory in the run (`lr-0.001`, `lr-0.001-cosine`).
    #[serde(default)]
    pub dir: String,
    /// Epochs trained.
    pub epochs: usize,
    /// Highest validation accuracy.
    pub best_val_acc: f64,
    /// Epoch of the highest validation accuracy (first one on ties).
    pub best_val_acc_epoch: usize,
    /// Lowest validation loss.
    pub min_val_loss: f64,
    /// Epoch of the lowest validation loss: where early stopping would stop.
    pub min_val_loss_epoch: usize,
    /// Last epoch's training loss.
    pub final_train_loss: f64,
    /// Last epoch's training accuracy.
    pub final_train_acc: f64,
    /// Last epoch's validation loss.
    pub final_val_loss: f64,
    /// Last epoch's validation accuracy.
    pub final_val_acc: f64,
    /// How far validation loss rose after its minimum (last minus minimum): overfitting.
    pub val_loss_rise: f64,
    /// What the curves say: diverged, overfitting, still improving or fits.
    pub verdict: Verdict,
    /// The verdict's evidence, in a sentence.
    pub verdict_reason: String,
    /// Whether the verdict is diverged.
    pub diverged: bool,
    /// Why it counts as diverged.
    pub diverged_reason: Option<String>,
    /// Overfitting: the epoch to stop at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_at: Option<usize>,
    /// Still improving: about how many more epochs would help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_epochs: Option<usize>,
    /// The epoch early stopping with patience 5 (on validation loss) would have stopped at; none
    /// when it would have run to the end.
    pub patience_5_stop: Option<usize>,
    /// The same with patience 10.
    pub patience_10_stop: Option<usize>,
    /// With `--seeds`: each seed's figures (the run's seed first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<SeedFigures>,
    /// With `--seeds`: the mean over the seeds of the minimum validation loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val_loss_mean: Option<f64>,
    /// With `--seeds`: its sample standard deviation over the seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val_loss_sd: Option<f64>,
    /// With `--seeds`: the mean over the seeds of the epoch of the minimum validation loss.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val_loss_epoch_mean: Option<f64>,
    /// With `--seeds`: its sample standard deviation over the seeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val_loss_epoch_sd: Option<f64>,
    /// Why the rate stopped training, by the run's stop rule (with the user's patience), or
    /// that a signal interrupted it; none while it goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// Set when the rate has not finished (its run was interrupted): how far it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
    /// With `--prune`: the rung's epoch where it was pruned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned_at: Option<usize>,
    /// With `--prune`: its rank at that rung, e.g. `rank 4 of 5 at epoch 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rung_rank: Option<String>,
}

/// The epoch at which early stopping on validation loss with `patience` stops (Keras'
/// `EarlyStopping(monitor="val_loss", patience=N)`), if it does within `records`.
pub fn patience_stop(records: &[EpochRecord], patience: usize) -> Option<usize> {
    lrsweep_model::patience_stop(records, patience).map(|(_, epoch)| epoch)
}

/// Says why `summary`'s rate stopped, by the run's stop rule, or marks it unfinished.
pub fn mark_stop(
    summary: &mut RateSummary,
    records: &[EpochRecord],
    rule: &StopRule,
    epochs: usize,
) {
    if summary.pruned_at.is_some() {
        return;
    }
    summary.stopped = rule.check(records);
    if summary.stopped.is_none() {
        summary.unfinished = Some(format!("{} of {epochs} epochs", records.len()));
    }
}

/// Says which member of the run `summary` is: its schedule, batch size, the rate Adam took
/// (scaled for the batch size) and its directory (its label naming what differs from the
/// reference).
pub fn mark_arm(
    summary: &mut RateSummary,
    arm: crate::config::Arm,
    batch_size: usize,
    effective_rate: f64,
    dir: &str,
) {
    summary.schedule = arm.schedule;
    summary.batch_size = batch_size;
    summary.effective_rate = effective_rate;
    summary.dir = dir.to_string();
    summary.label = arm.label();
}

/// Marks a rate pruned at a rung: stopped there, not unfinished, its verdict `pruned` with
/// what its curve showed until then (a diverged or not-moving curve keeps that verdict, the
/// pruning added to its evidence).
pub fn mark_pruned(summary: &mut RateSummary, pruned: Pruned) {
    summary.pruned_at = Some(pruned.epoch);
    summary.rung_rank = Some(format!(
        "rank {} of {} at epoch {}",
        pruned.rank, pruned.of, pruned.epoch
    ));
    summary.stopped = Some(Stop::Pruned {
        epoch: pruned.epoch,
        rank: pruned.rank,
        of: pruned.of,
    });
    summary.unfinished = None;
    let note = format!(
        "ranked {} of {} at epoch {} by its lowest validation loss so far ({:.4})",
        pruned.rank, pruned.of, pruned.epoch, summary.min_val_loss
    );
    if summary.verdict.learned() {
        summary.verdict_reason = format!(
            "{note}; its curve until then: {}: {}",
            summary.verdict.display(),
            summary.verdict_reason
        );
        summary.verdict = Verdict::Pruned;
        summary.stop_at = None;
        summary.more_epochs = None;
    } else {
        summary.verdict_reason = format!("{}; pruned, {note}", summary.verdict_reason);
    }
}

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

/// The recommended rate and epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The rate.
    pub rate: f64,
    /// Its label.
    pub label: String,
    /// Its schedule.
    #[serde(default)]
    pub schedule: Schedule,
    /// Its batch size.
    #[serde(default)]
    pub batch_size: usize,
    /// Its directory in the run.
    #[serde(default)]
    pub dir: String,
    /// The epoch to stop at (minimum validation loss).
    pub epoch: usize,
    /// One line saying why.
    pub reason: String,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One entry per rate, in training order.
    pub rates: Vec<RateSummary>,
    /// The recommendation, absent when every rate diverged.
    pub recommended: Option<Recommendation>,
    /// The range test's suggestions, when it ran, beside the sweep's answer.
    #[serde(default)]
    pub range_test: Option<Suggestions>,
    /// What the run has not finished yet (rates cut short or not started); empty for a complete
    /// run. The recommendation is then from the rates that finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfinished: Vec<String>,
    /// The user's data the run trained on (absent for the catalogue's sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSummary>,
    /// With `--prune`: what the pruning did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningSummary>,
    /// With several schedules or batch sizes: the overview chart of each group (one group:
    /// `overview.png` alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overviews: Vec<Overview>,
    /// With several batch sizes: each size's best rate, how soon it got there, and its speed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_sizes: Vec<BatchFigures>,
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

fn first_best(
    records: &[EpochRecord],
    key: impl Fn(&EpochRecord) -> f64,
    lower: bool,
) -> Option<&EpochRecord> {
    records
        .iter()
        .filter(|r| key(r).is_finite())
        .fold(None, |best: Option<&EpochRecord>, r| match best {
            Some(b) if (lower && key(r) >= key(b)) || (!lower && key(r) <= key(b)) => Some(b),
            _ => Some(r),
        })
}

/// Analyses one rate's records (none: a rate that has not finished an epoch), reading its
/// curves against what makes a rate `hopeless` on its data and, when known, its
/// [`verdict::reach`].
pub fn summarize_rate(
    rate: f64,
    records: &[EpochRecord],
    hopeless: &Hopeless,
    reach: Option<f64>,
) -> RateSummary {
    let last = records.last().copied().unwrap_or(EpochRecord {
        epoch: 0,
        train_loss: f64::NAN,
        train_acc: f64::NAN,
        val_loss: f64::NAN,
        val_acc: f64::NAN,
        seconds: 0.0,
        lr: f64::NAN,
    });
    let best_acc = first_best(records, |r| r.val_acc, false);
    let min_loss = first_best(records, |r| r.val_loss, true);
    let best_val_acc = best_acc.map_or(f64::NAN, |r| r.val_acc);
    let min_val_loss = min_loss.map_or(f64::NAN, |r| r.val_loss);
    let reading = verdict::read(records, hopeless, reach);
    let diverged = reading.verdict == Verdict::Diverged;
    RateSummary {
        rate,
        label: rate_label(rate),
        schedule: Schedule::Constant,
        batch_size: 0,
        effective_rate: rate,
        dir: format!("lr-{}", rate_label(rate)),
        epochs: records.len(),
        best_val_acc,
        best_val_acc_epoch: best_acc.map_or(0, |r| r.epoch),
        min_val_loss,
        min_val_loss_epoch: min_loss.map_or(0, |r| r.epoch),
        final_train_loss: last.train_loss,
        final_train_acc: last.train_acc,
        final_val_loss: last.val_loss,
        final_val_acc: last.val_acc,
        val_loss_rise: last.val_loss - min_val_loss,
        verdict: reading.verdict,
        diverged,
        diverged_reason: diverged.then(|| reading.reason.clone()),
        verdict_reason: reading.reason,
        stop_at: reading.stop_at,
        more_epochs: reading.more_epochs,
        patience_5_stop: patience_stop(records, 5),
        patience_10_stop: patience_stop(records, 10),
        seeds: Vec::new(),
        min_val_loss_mean: None,
        min_val_loss_sd: None,
        min_val_loss_epoch_mean: None,
        min_val_loss_epoch_sd: None,
        stopped: None,
        unfinished: None,
        pruned_at: None,
        rung_rank: None,
    }
}

/// One seed's figures of a rate (`--seeds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedFigures {
    /// The seed (weights and order).
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Lowest validation loss.
    pub min_val_loss: f64,
    /// Its epoch.
    pub min_val_loss_epoch: usize,
    /// Highest validation accuracy.
    pub best_val_acc: f64,
}

impl SeedFigures {
    fn of(seed: u64, records: &[EpochRecord]) -> Self {
        let min = first_best(records, |r| r.val_loss, true);
        Self {
            seed,
            epochs: records.len(),
            min_val_loss: min.map_or(f64::NAN, |r| r.val_loss),
            min_val_loss_epoch: min.map_or(0, |r| r.epoch),
            best_val_acc: first_best(records, |r| r.val_acc, false).map_or(f64::NAN, |r| r.val_acc),
        }
    }
}

/// Mean and sample standard deviation (0 for one value).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Adds the seeds' figures to `summary`: its run-seed `records` under `run_seed` and the
/// further seeds' (`others`); mean and spread over the seeds that trained.
pub fn add_seeds(
    summary: &mut RateSummary,
    run_seed: u64,
    records: &[EpochRecord],
    others: &[(u64, Vec<EpochRecord>)],
) {
    let mut seeds = vec![SeedFigures::of(run_seed, records)];
    seeds.extend(others.iter().map(|(s, r)| SeedFigures::of(*s, r)));
    let trained: Vec<&SeedFigures> = seeds
        .iter()
        .filter(|s| s.min_val_loss.is_finite())
        .collect();
    if !trained.is_empty() {
        let (m, sd) = mean_sd(&trained.iter().map(|s| s.min_val_loss).collect::<Vec<_>>());
        let (e, esd) = mean_sd(
            &trained
                .iter()
                .map(|s| s.min_val_loss_epoch as f64)
                .collect::<Vec<_>>(),
        );
        summary.min_val_loss_mean = Some(m);
        summary.min_val_loss_sd = Some(sd);
        summary.min_val_loss_epoch_mean = Some(e);
        summary.min_val_loss_epoch_sd = Some(esd);
    }
    summary.seeds = seeds;
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

impl RateSummary {
    /// What rates are ranked by: the minimum validation loss, its mean over the seeds with
    /// `--seeds`.
    pub fn score(&self) -> f64 {
        self.min_val_loss_mean.unwrap_or(self.min_val_loss)
    }
}

/// The rate whose lowest validation loss (mean over the seeds, with `--seeds`) is the lowest,
/// among those that did not diverge.
pub fn best(rates: &[RateSummary]) -> Option<&RateSummary> {
    rates
        .iter()
        .filter(|r| r.verdict.learned() && r.unfinished.is_none() && r.score().is_finite())
        .filter(|r| r.pruned_at.is_none())
        .min_by(|a, b| a.score().total_cmp(&b.score()))
}

/// A curve that stayed where an untrained network starts reads as not moving (too small a
/// rate) alone; in a sweep where a smaller rate learned, it is the larger rate's collapse
/// (all units dead, the output the class prior), so it is called diverged, with that evidence.
fn collapsed_not_stalled(rates: &mut [RateSummary]) {
    // Within each group (schedule and batch size): another group's rate says nothing of this one's.
    let smallest_learned = |schedule: Schedule, size: usize| {
        rates
            .iter()
            .filter(|r| r.schedule == schedule && r.batch_size == size)
            .filter(|r| r.verdict.learned() && r.epochs > 0)
            .map(|r| (r.rate, r.label.clone()))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let collapsed: Vec<(usize, String)> = rates
        .iter()
        .enumerate()
        .filter(|(_, r)| r.verdict == Verdict::NotMoving)
        .filter_map(|(i, r)| {
            smallest_learned(r.schedule, r.batch_size)
                .filter(|(smallest, _)| r.rate > *smallest)
                .map(|(_, label)| (i, label))
        })
        .collect();
    for (i, label) in collapsed {
        let r = &mut rates[i];
        let reason = format!(
            "training loss {:.4} stayed where an untrained network starts (validation accuracy {:.3}) while the smaller rate {label} learned: a collapse, not a rate too small",
            r.final_train_loss, r.final_val_acc
        );
        r.verdict = Verdict::Diverged;
        r.diverged = true;
        r.diverged_reason = Some(reason.clone());
        r.verdict_reason = reason;
    }
}

/// With `--seeds`: whether the best rate's lead over the next-best is beyond the seeds'
/// spread (the two standard deviations combined), in a sentence.
fn seed_lead(best: &RateSummary, rates: &[RateSummary]) -> Option<String> {
    let sd = best.min_val_loss_sd?;
    let next = rates
        .iter()
        .filter(|r| r.dir != best.dir || r.rate != best.rate)
        .filter(|r| r.verdict.learned() && r.unfinished.is_none())
        .filter(|r| r.score().is_finite())
        .min_by(|a, b| a.score().total_cmp(&b.score()))?;
    let spread = (sd.powi(2) + next.min_val_loss_sd.unwrap_or(0.0).powi(2)).sqrt();
    let lead = next.score() - best.score();
    let n = best.seeds.len();
    Some(if lead > spread {
        format!(
            "over {n} seeds its mean {:.4} ± {sd:.4} leads {}'s {:.4} by {lead:.4}, beyond the seeds' spread ({spread:.4})",
            best.score(),
            next.label,
            next.score()
        )
    } else {
        format!(
            "{} and {} tie within seed noise (means {:.4} and {:.4} over {n} seeds, {lead:.4} apart, spread {spread:.4}); either",
            best.label,
            next.label,
            best.score(),
            next.score()
        )
    })
}

/// Builds the summary and its recommendation.
pub fn summarize(mut rates: Vec<RateSummary>, range_test: Option<Suggestions>) -> Summary {
    collapsed_not_stalled(&mut rates);
    let recommended = best(&rates).map(|b| {
        let overfit = match b.verdict {
            Verdict::Overfitting => format!(
                "; validation loss then rose by {:.4} by epoch {} (overfitting), so stop at epoch {}",
                b.val_loss_rise, b.epochs, b.min_val_loss_epoch
            ),
            Verdict::StillImproving => format!(
                "; it was still improving at its last epoch: train longer{}",
                b.more_epochs
                    .map_or(String::new(), |k| format!(" (about {k} more epochs)"))
            ),
            _ => String::new(),
        };
        let seeds = seed_lead(b, &rates).map_or(String::new(), |s| format!("; {s}"));
        Recommendation {
            rate: b.rate,
            label: b.label.clone(),
            schedule: b.schedule,
            batch_size: b.batch_size,
            dir: b.dir.clone(),
            epoch: b.min_val_loss_epoch,
            reason: format!(
                "lowest validation loss of all rates ({:.4} at epoch {}, validation accuracy {:.4} at best){overfit}{seeds}",
                b.min_val_loss, b.min_val_loss_epoch, b.best_val_acc
            ),
        }
    });
    let unfinished = rates
        .iter()
        .filter_map(|r| r.unfinished.as_ref().map(|u| format!("{}: {u}", r.label)))
        .collect();
    Summary {
        rates,
        recommended,
        range_test,
        unfinished,
        data: None,
        pruning: None,
        overviews: Vec::new(),
        batch_sizes: Vec::new(),
    }
}

/// MNIST's ten classes and 10,500 validation images, for tests.
#[cfg(test)]
pub const TEST_DATA: Hopeless = Hopeless {
    classes: 10,
    valid_len: 10_500,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: usize, val_loss: f64, val_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss * 0.9,
            train_acc: val_acc,
            val_loss,
            val_acc,
            seconds: 1.0,
            lr: 1e-3,
        }
    }

    #[test]
    fn finds_minimum_rise_and_divergence() {
        // Validation loss rises after epoch 2 while the training loss falls: overfitting.
        let falling = |mut r: EpochRecord| {
            r.train_loss = 0.3 / r.epoch as f64;
            r
        };
        let good = summarize_rate(
            1e-3,
            &[
                rec(1, 0.3, 0.9),
                rec(2, 0.1, 0.97),
                rec(3, 0.2, 0.98),
                rec(4, 0.25, 0.98),
            ]
            .map(falling),
            &TEST_DATA,
            None,
        );
        assert_eq!((good.min_val_loss_epoch, good.best_val_acc_epoch), (2, 3));
        assert!((good.val_loss_rise - 0.15).abs() < 1e-12);
        assert!(!good.diverged);
        assert_eq!(
            (good.verdict, good.stop_at),
            (Verdict::Overfitting, Some(2))
        );

        let nan = summarize_rate(
            1e-1,
            &[rec(1, 2.3, 0.1), rec(2, f64::NAN, f64::NAN)],
            &TEST_DATA,
            None,
        );
        assert!(nan.diverged && nan.diverged_reason.as_deref().unwrap().contains("epoch 2"));
        // At chance and flat at a rate that moves each weight hundreds of times its scale in an
        // epoch: a collapse, so diverged (not "not moving").
        let chance = summarize_rate(
            1e-1,
            &[rec(1, 2.3, 0.11), rec(2, 2.3, 0.10)],
            &TEST_DATA,
            Some(verdict::reach(1e-1, 233, 0.05)),
        );
        assert!(
            chance.diverged
                && chance
                    .diverged_reason
                    .as_deref()
                    .unwrap()
                    .contains("chance")
        );

        let worse = summarize_rate(
            1e-4,
            &[rec(1, 0.5, 0.85), rec(2, 0.4, 0.9), rec(3, 0.35, 0.91)],
            &TEST_DATA,
            None,
        );
        let s = summarize(vec![worse, good, chance], None);
        let r = s.recommended.as_ref().unwrap();
        assert_eq!((r.label.as_str(), r.epoch), ("0.001", 2));
        assert!(r.reason.contains("overfitting"));
        assert_eq!(
            (s.rates[1].patience_5_stop, s.rates[1].patience_10_stop),
            (None, None)
        );
        let rising: Vec<EpochRecord> = (1..=12)
            .map(|e| {
                rec(
                    e,
                    if e <= 3 {
                        1.0 / e as f64
                    } else {
                        0.3 + e as f64 * 0.01
                    },
                    0.9,
                )
            })
            .collect();
        assert_eq!(patience_stop(&rising, 5), Some(8));
        assert_eq!(patience_stop(&rising, 10), None);
        assert_eq!(patience_stop(&rising, 2), Some(5));

        // The stop the run's rule gives, with the user's patience; unfinished otherwise.
        let rule = |patience| StopRule {
            epochs: 12,
            patience,
            hopeless: None,
        };
        let mut s = summarize_rate(1e-3, &rising, &TEST_DATA, None);
        mark_stop(&mut s, &rising, &rule(Some(5)), 12);
        assert_eq!(
            s.stopped,
            Some(Stop::Patience {
                patience: 5,
                best_epoch: 3,
                epoch: 8
            })
        );
        mark_stop(&mut s, &rising, &rule(None), 12);
        assert_eq!(
            (s.stopped, s.unfinished.as_deref()),
            (Some(Stop::Completed { epochs: 12 }), None)
        );
        let mut cut = summarize_rate(1e-3, &rising[..4], &TEST_DATA, None);
        mark_stop(&mut cut, &rising[..4], &rule(None), 12);
        assert_eq!(
            (cut.stopped, cut.unfinished.as_deref()),
            (None, Some("4 of 12 epochs"))
        );
    }
}
