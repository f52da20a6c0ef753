//! One row of the summary: what one arm's curves say, built in one place ([`RateSummary::of`])
//! from everything known of it — its records and seeds', its group, whether pruning ranked
//! it out and why its training stopped — in that order, written nowhere else.

use lrsweep_model::{EpochRecord, Hopeless, Optimizer, Pruned, Schedule, Stop, StopRule};
use serde::{Deserialize, Serialize};

use crate::analysis::verdict::{self, Verdict};
#[cfg(test)]
use crate::config::rate_label;
use crate::config::{Arm, Group, Network};

fn is_adam(o: &Optimizer) -> bool {
    *o == Optimizer::Adam
}

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
    /// The network it trained (left out for the reference's).
    #[serde(default, skip_serializing_if = "Network::is_reference")]
    pub network: Network,
    /// The optimizer it trained with (left out for Adam).
    #[serde(default, skip_serializing_if = "is_adam")]
    pub optimizer: Optimizer,
    /// With AdamW: how much the weights shrink each step (rate × WD: PyTorch multiplies them
    /// by 1 − that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay_per_step: Option<f64>,
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
    /// The epoch to stop at by the one-standard-error rule: the earliest whose validation loss
    /// is within one standard error of the minimum (absent without a finite loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_epoch: Option<usize>,
    /// The noise of the minimum validation loss: its recorded standard error (or, for records
    /// of older versions, the curve's estimated noise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_val_loss_noise: Option<f64>,
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

/// Everything known of one arm when its summary row is built.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The arm.
    pub arm: Arm,
    /// Its batch size.
    pub batch_size: usize,
    /// The rate Adam took (scaled for the batch size with `--scale-lr`).
    pub effective_rate: f64,
    /// With AdamW: the weights' shrinking per step (rate × WD).
    pub decay_per_step: Option<f64>,
    /// Its directory in the run.
    pub dir: String,
    /// Its records under the run's seed.
    pub records: &'a [EpochRecord],
    /// The run's seed.
    pub run_seed: u64,
    /// Its further seeds' records (`--seeds`; empty without).
    pub others: &'a [(u64, Vec<EpochRecord>)],
    /// What makes a member hopeless on the run's data.
    pub hopeless: Hopeless,
    /// Its rate's [`verdict::reach`] on the run, when known.
    pub reach: Option<f64>,
    /// Where `--prune` ranked it out, if it did.
    pub pruned: Option<Pruned>,
    /// The run's stop rule (and epochs): why it stopped, or how far it got.
    pub rule: StopRule,
    /// Why it stopped without finishing and no process trains it now, when that is so: the
    /// reason, and the stop (an interruption) when a resume continues it.
    pub missing: Option<(String, Option<Stop>)>,
}

#[cfg(test)]
impl<'a> Facts<'a> {
    /// The facts of `rate` in the reference's group with `records` alone, on data that makes
    /// members hopeless as `hopeless` says, in a run of as many epochs as the records.
    pub fn plain(rate: f64, records: &'a [EpochRecord], hopeless: Hopeless) -> Self {
        Facts {
            arm: Arm::reference(rate),
            batch_size: 0,
            effective_rate: rate,
            decay_per_step: None,
            dir: format!("lr-{}", rate_label(rate)),
            records,
            run_seed: 0,
            others: &[],
            hopeless,
            reach: None,
            pruned: None,
            rule: StopRule::new(records.len().max(1), None, None),
            missing: None,
        }
    }
}

/// The epoch at which early stopping on validation loss with `patience` stops (Keras'
/// `EarlyStopping(monitor="val_loss", patience=N)`), if it does within `records`.
pub fn patience_stop(records: &[EpochRecord], patience: usize) -> Option<usize> {
    lrsweep_model::patience_stop(records, patience).map(|(_, epoch)| epoch)
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

impl RateSummary {
    /// The summary row of an arm: its curves read (verdict and figures), then its seeds'
    /// spread, then its pruning (stopped at the rung, its verdict `pruned` with what its curve
    /// showed until then), then why it stopped, or how far it got when it has not finished.
    pub fn of(facts: Facts) -> Self {
        let records = facts.records;
        let mut row = Self::reading(&facts);
        if !facts.others.is_empty() {
            row.add_seeds(facts.run_seed, records, facts.others);
        }
        match facts.pruned {
            Some(p) => row.prune(p),
            None => {
                row.stopped = facts.rule.check(records);
                if row.stopped.is_none() {
                    row.unfinished =
                        Some(format!("{} of {} epochs", records.len(), facts.rule.epochs));
                }
            }
        }
        if let Some((reason, stop)) = &facts.missing {
            // An interrupted rate is not missing: it waits for its resume.
            let missing = if stop.is_some() { "" } else { "missing: " };
            row.unfinished = Some(format!(
                "{missing}{reason}; {} of {} epochs trained",
                records.len(),
                facts.rule.epochs
            ));
            row.stopped = row.stopped.or(*stop);
        }
        row
    }

    /// The row's figures and verdict from the arm's records (none: an arm that has not
    /// finished an epoch).
    fn reading(facts: &Facts) -> Self {
        let records = facts.records;
        let last = records.last().copied().unwrap_or(EpochRecord {
            epoch: 0,
            train_loss: f64::NAN,
            train_acc: f64::NAN,
            val_loss: f64::NAN,
            val_acc: f64::NAN,
            seconds: 0.0,
            lr: f64::NAN,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        });
        let best_acc = first_best(records, |r| r.val_acc, false);
        let min_loss = first_best(records, |r| r.val_loss, true);
        let best_val_acc = best_acc.map_or(f64::NAN, |r| r.val_acc);
        let min_val_loss = min_loss.map_or(f64::NAN, |r| r.val_loss);
        let reading = verdict::read(records, &facts.hopeless, facts.reach);
        let diverged = reading.verdict == Verdict::Diverged;
        RateSummary {
            rate: facts.arm.rate,
            label: facts.arm.label(),
            schedule: facts.arm.group.schedule,
            batch_size: facts.batch_size,
            network: facts.arm.group.network,
            optimizer: facts.arm.group.optimizer,
            decay_per_step: facts.decay_per_step,
            effective_rate: facts.effective_rate,
            dir: facts.dir.clone(),
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
            stop_epoch: reading.stop_epoch,
            min_val_loss_noise: reading.min_se.is_finite().then_some(reading.min_se),
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

    /// The seeds' figures: the run-seed `records` under `run_seed` and the further seeds'
    /// (`others`); mean and spread over the seeds that trained.
    fn add_seeds(
        &mut self,
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
            self.min_val_loss_mean = Some(m);
            self.min_val_loss_sd = Some(sd);
            self.min_val_loss_epoch_mean = Some(e);
            self.min_val_loss_epoch_sd = Some(esd);
        }
        self.seeds = seeds;
    }

    /// Pruned at a rung: stopped there, not unfinished, its verdict `pruned` with what its
    /// curve showed until then (a diverged or not-moving curve keeps that verdict, the pruning
    /// added to its evidence).
    fn prune(&mut self, pruned: Pruned) {
        self.pruned_at = Some(pruned.epoch);
        self.rung_rank = Some(format!(
            "rank {} of {} at epoch {}",
            pruned.rank, pruned.of, pruned.epoch
        ));
        self.stopped = Some(Stop::Pruned(pruned));
        self.unfinished = None;
        let note = format!(
            "ranked {} of {} at epoch {} by its lowest validation loss so far ({:.4})",
            pruned.rank, pruned.of, pruned.epoch, self.min_val_loss
        );
        if self.verdict == Verdict::StillImproving {
            // Three points say nothing of where a slow curve ends: no estimate from them.
            self.verdict_reason = format!(
                "undecided: pruned at epoch {}, {note}, while its validation loss was still falling ({:.4} at epoch {}); pruning cut it short, and slow rates lose early rungs",
                pruned.epoch, self.final_val_loss, self.epochs
            );
            self.verdict = Verdict::Pruned;
            self.stop_at = None;
            self.more_epochs = None;
        } else if self.verdict.learned() {
            self.verdict_reason = format!(
                "{note}; its curve until then: {}: {}",
                self.verdict.display(),
                self.verdict_reason
            );
            self.verdict = Verdict::Pruned;
            self.stop_at = None;
            self.more_epochs = None;
        } else {
            self.verdict_reason = format!("{}; pruned, {note}", self.verdict_reason);
        }
    }

    /// Whether it is of `group`, trained at `size` (the group's batch size).
    pub fn is_of(&self, group: Group, size: usize) -> bool {
        self.schedule == group.schedule
            && self.batch_size == size
            && self.network == group.network
            && self.optimizer == group.optimizer
    }

    /// Whether it and `other` are of one group (their curves are compared with each other).
    pub fn same_group(&self, other: &RateSummary) -> bool {
        (self.schedule, self.batch_size, self.network, self.optimizer)
            == (
                other.schedule,
                other.batch_size,
                other.network,
                other.optimizer,
            )
    }

    /// What rates are ranked by: the minimum validation loss, its mean over the seeds with
    /// `--seeds`.
    pub fn score(&self) -> f64 {
        self.min_val_loss_mean.unwrap_or(self.min_val_loss)
    }

    /// The noise of [`RateSummary::score`]: the minimum's standard error, with `--seeds` the
    /// seeds' spread added to it (`√(se² + sd²)`); 0 when neither is known.
    pub fn noise(&self) -> f64 {
        let se = self.min_val_loss_noise.unwrap_or(0.0);
        let sd = self.min_val_loss_sd.unwrap_or(0.0);
        (se * se + sd * sd).sqrt()
    }

    /// The epoch its training can stop at: the one-standard-error epoch (the minimum's where
    /// it is not known).
    pub fn stop_epoch(&self) -> usize {
        self.stop_epoch.unwrap_or(self.min_val_loss_epoch)
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
