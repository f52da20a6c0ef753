//! Training a round of a sweep's rates (together, as one stack, unless `--serial`): continue or
//! keep what a resume finds, then after every epoch of each rate report progress, save model
//! files and the checkpoint, append the metrics and decide on early stopping.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lrsweep_model::{EpochRecord, Flow, Member, MemberView, StackFit};

use super::{interrupt, interrupted, Sweep};
use crate::analysis::status::{Activity, Status, Worker};
use crate::analysis::summary;
use crate::backend::Selected;
use crate::config::{rate_label, SweepConfig};
use crate::render::chart;
use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::claim;
use crate::store::metrics::MetricsWriter;
use crate::store::model_file::{self, ModelMeta};

/// What a resume finds for a rate.
enum Previous {
    /// Nothing to continue from: train from the start.
    Nothing,
    /// The rate finished before: its records.
    Finished(Vec<EpochRecord>),
    /// An unfinished rate's checkpoint.
    Checkpoint(Checkpoint),
}

/// Whether a rate with these records is done: all epochs, diverged, or stopped early.
fn finished(config: &SweepConfig, records: &[EpochRecord]) -> bool {
    summary::is_finished(records, config.epochs, config.patience)
}

/// Checks that a finished rate has its model files, each matching its sidecar: `model.bpk`, and
/// `best.bpk` when some epoch had a finite validation loss.
fn model_files_intact(dir: &Path, records: &[EpochRecord]) -> Result<()> {
    model_file::verify(&dir.join("model.bpk"))?;
    if records.iter().any(|r| r.val_loss.is_finite()) {
        model_file::verify(&dir.join("best.bpk"))?;
    }
    Ok(())
}

/// Everything that happens after an epoch, for one rate.
struct EpochSink<'a> {
    config: &'a SweepConfig,
    rate: f64,
    /// What the checkpoint belongs to ([`crate::store::run::RunRecord::rate_identity`]).
    identity: String,
    label: String,
    dir: PathBuf,
    progress: &'a Progress,
    metrics: MetricsWriter,
    records: Vec<EpochRecord>,
    best_loss: f64,
    /// Who trains it, for `status.json` and `done.json`.
    worker: Worker,
    /// The first write that failed: training stops and the error is reported.
    error: Option<anyhow::Error>,
}

impl EpochSink<'_> {
    fn on_epoch(&mut self, record: &EpochRecord, trainer: &MemberView) -> Flow {
        self.progress
            .epoch(&self.label, self.config.epochs, record, trainer.is_last());
        self.records.push(*record);
        let stop_early = self
            .config
            .patience
            .is_some_and(|p| summary::patience_stop(&self.records, p).is_some());
        match self.save(record, trainer, stop_early) {
            Ok(()) if stop_early => {
                self.progress.println(&format!(
                    "learning rate {}: validation loss has not improved for {} epochs; stopping at epoch {}",
                    self.label,
                    self.config.patience.unwrap_or_default(),
                    record.epoch
                ));
                Flow::Stop
            }
            Ok(()) => Flow::Continue,
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    /// Model files before the checkpoint: a crash between the two retrains the epoch
    /// (identically) and writes them again, never leaving them behind the checkpoint.
    fn save(&mut self, record: &EpochRecord, trainer: &MemberView, stop_early: bool) -> Result<()> {
        let meta = ModelMeta::new(self.config, self.rate, record);
        if record.val_loss < self.best_loss {
            self.best_loss = record.val_loss;
            model_file::save(&self.dir, "best", trainer.model(), &meta)?;
        }
        let last = record.epoch >= self.config.epochs || stop_early || record.diverged();
        if last {
            // With no finite validation loss there is no best epoch: keep the last one.
            if self.config.restore_best && self.best_loss.is_finite() {
                model_file::copy(&self.dir, "best", "model")?;
            } else {
                model_file::save(&self.dir, "model", trainer.model(), &meta)?;
            }
        }
        let state = trainer.state()?;
        checkpoint::save(
            &self.dir.join(checkpoint::FILE),
            &self.identity,
            self.rate,
            &self.records,
            &state,
        )?;
        self.metrics.append(record)?;
        if last {
            // Last, once everything else is on disk: from here on the rate is never retrained.
            claim::mark_done(&self.dir, self.records.len(), &self.worker)
        } else {
            self.report(Activity::Running, None)
        }
    }

    /// Rewrites the rate's `status.json`: what this process is doing with it, how far it got.
    fn report(&self, activity: Activity, reason: Option<String>) -> Result<()> {
        let status = Status {
            reason,
            ..Status::now(
                activity,
                &self.worker,
                self.records.len(),
                self.config.epochs,
            )
        };
        claim::report(&self.dir, &status)
    }
}

impl Sweep<'_> {
    /// On a resume: the records of a rate that finished, or the checkpoint to continue from.
    fn previous(&self, rate: f64, dir: &Path) -> Previous {
        let label = rate_label(rate);
        if !self.resuming || !dir.exists() {
            return Previous::Nothing;
        }
        if let Ok(records) = crate::store::metrics::read_metrics(&dir.join("metrics.csv")) {
            if finished(self.config, &records) {
                match model_files_intact(dir, &records) {
                    Ok(()) => return Previous::Finished(records),
                    Err(e) => {
                        self.progress.println(&format!(
                            "learning rate {label}: finished before, but {e:#}; training it again from the start"
                        ));
                        return Previous::Nothing;
                    }
                }
            }
        }
        let path = dir.join(checkpoint::FILE);
        if !path.exists() {
            self.progress.println(&format!(
                "learning rate {label}: no checkpoint; training it from the start"
            ));
            return Previous::Nothing;
        }
        match checkpoint::load(&path, &self.record.rate_identity(rate), rate) {
            Ok(c) => {
                self.progress.println(&format!(
                    "learning rate {label}: continuing after epoch {} from its checkpoint",
                    c.records.len()
                ));
                Previous::Checkpoint(c)
            }
            Err(e) => {
                self.progress.println(&format!(
                    "learning rate {label}: {e:#}; training it again from the start"
                ));
                Previous::Nothing
            }
        }
    }

    /// Claims the rate (its directory's `claim.lock`) unless this process holds it already;
    /// refuses, naming the holder, when another process trains it.
    pub(crate) fn claim(&mut self, rate: f64) -> Result<()> {
        if self.claims.iter().any(|(r, _)| *r == rate) {
            return Ok(());
        }
        let dir = self.out.join(format!("lr-{}", rate_label(rate)));
        match claim::take(&dir)? {
            Some(c) => {
                self.claims.push((rate, c));
                Ok(())
            }
            None => Err(anyhow::Error::new(HeldElsewhere::of(rate, &dir))),
        }
    }

    /// Trains a round of rates together (one after another with `--serial`; spread over the
    /// devices with `--devices`, each device's share as a stack or, with `--serial`, one after
    /// another), keeping those a resume finds finished, and draws their charts; the runs are
    /// added in the round's order.
    pub(crate) fn train_round(&mut self, rates: &[f64]) -> Result<()> {
        if self.config.serial && rates.len() > 1 && self.devices.len() == 1 {
            for &rate in rates {
                self.train_round(&[rate])?;
            }
            return Ok(());
        }
        if !self.task {
            for &rate in rates {
                if !self.record.rates_trained.contains(&rate) {
                    self.record.rates_trained.push(rate);
                }
            }
            self.record.write(self.out)?;
        }
        for &rate in rates {
            self.claim(rate)?;
        }
        let mut results: Vec<Option<Vec<EpochRecord>>> = vec![None; rates.len()];
        let mut pending = Vec::new();
        for (i, &rate) in rates.iter().enumerate() {
            let label = rate_label(rate);
            let dir = self.out.join(format!("lr-{label}"));
            match self.previous(rate, &dir) {
                Previous::Finished(records) => {
                    self.progress.println(&format!(
                        "learning rate {label}: finished before, kept as it is"
                    ));
                    if claim::done(&dir).is_none() {
                        claim::mark_done(&dir, records.len(), &self.worker(0))?;
                    }
                    results[i] = Some(records);
                }
                Previous::Checkpoint(c) => pending.push((i, rate, Some(c))),
                Previous::Nothing => pending.push((i, rate, None)),
            }
        }
        if !pending.is_empty() {
            let labels: Vec<String> = pending.iter().map(|(_, r, _)| rate_label(*r)).collect();
            let total = self.config.rates.len() + self.config.refine;
            let n = self.devices.len().min(pending.len()).max(1);
            let how = match (n, self.config.serial) {
                (1, _) => "together".to_string(),
                (n, false) => format!("over {n} devices, each device's share together"),
                (n, true) => format!("over {n} devices, one after another on each"),
            };
            // A task's rate is numbered by its index in the run, a sweep's by those it trained.
            let before = if self.task {
                let first = rates.first().copied().unwrap_or_default();
                self.record
                    .rates_trained
                    .iter()
                    .position(|r| *r == first)
                    .unwrap_or_default()
            } else {
                self.runs.len()
            };
            self.progress.start_round(
                &labels,
                &how,
                before,
                total.max(self.record.rates_trained.len()),
                self.config.epochs,
            );
            // Rate k of the round goes to device k mod n, each device's share trained by a
            // thread of its own.
            let mut groups: Vec<Vec<(usize, f64, Option<Checkpoint>)>> =
                (0..n).map(|_| Vec::new()).collect();
            for (k, p) in pending.into_iter().enumerate() {
                groups[k % n].push(p);
            }
            let this = &*self;
            // A device's share: one stack, or with --serial one rate after another.
            let share = |group: &[(usize, f64, Option<Checkpoint>)], d: usize| {
                if this.config.serial {
                    let mut all = Vec::with_capacity(group.len());
                    for member in group.chunks(1) {
                        if interrupt::requested() {
                            break;
                        }
                        all.extend(this.train_members(member, d)?);
                    }
                    Ok(all)
                } else {
                    this.train_members(group, d)
                }
            };
            let trained: Vec<Result<Vec<Vec<EpochRecord>>>> = if n == 1 {
                vec![share(&groups[0], 0)]
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = groups
                        .iter()
                        .enumerate()
                        .map(|(d, group)| scope.spawn(move || share(group, d)))
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(anyhow::anyhow!("a device's worker thread panicked"))
                            })
                        })
                        .collect()
                })
            };
            for (group, result) in groups.iter().zip(trained) {
                for ((i, _, _), records) in group.iter().zip(result?) {
                    results[*i] = Some(records);
                }
            }
            let unfinished = results
                .iter()
                .any(|r| r.as_ref().is_none_or(|r| !finished(self.config, r)));
            if interrupt::requested() && unfinished {
                self.progress.finish();
                return Err(interrupted(self.out));
            }
        }
        for (&rate, records) in rates.iter().zip(results) {
            let records = records.unwrap_or_default();
            let label = rate_label(rate);
            if let Some(bad) = records.iter().find(|r| r.diverged()) {
                self.progress.println(&format!(
                    "learning rate {label} diverged at epoch {} (loss NaN or infinite); going on with the other rates",
                    bad.epoch
                ));
            }
            chart::rate_chart(self.out, &format!("lr-{label}"), &label, &records)?;
            self.runs.push((rate, records));
        }
        Ok(())
    }

    /// Who trains on device `d` of this sweep.
    fn worker(&self, d: usize) -> Worker {
        claim::worker_here(&self.devices[d.min(self.devices.len() - 1)].adapter)
    }

    /// Trains the `pending` rates of a round as one stack on device `d`; returns their records
    /// in order. Each rate's `status.json` says what happened to it.
    fn train_members(
        &self,
        pending: &[(usize, f64, Option<Checkpoint>)],
        d: usize,
    ) -> Result<Vec<Vec<EpochRecord>>> {
        let selected: &Selected = &self.devices[d];
        let worker = self.worker(d);
        let labels: Vec<String> = pending.iter().map(|(_, r, _)| rate_label(*r)).collect();
        let mut sinks = Vec::with_capacity(pending.len());
        for ((_, rate, resume), label) in pending.iter().zip(&labels) {
            let dir = self.out.join(format!("lr-{label}"));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut metrics = MetricsWriter::create(&dir.join("metrics.csv"))?;
            let records: Vec<EpochRecord> =
                resume.as_ref().map_or_else(Vec::new, |c| c.records.clone());
            for r in &records {
                metrics.append(r)?;
            }
            let sink = EpochSink {
                config: self.config,
                rate: *rate,
                identity: self.record.rate_identity(*rate),
                label: label.clone(),
                dir,
                progress: &self.progress,
                metrics,
                best_loss: records
                    .iter()
                    .map(|r| r.val_loss)
                    .filter(|l| l.is_finite())
                    .fold(f64::INFINITY, f64::min),
                records,
                worker: worker.clone(),
                error: None,
            };
            sink.report(Activity::Running, None)?;
            sinks.push(sink);
        }
        let model = self.config.model();
        let train = self.config.train(pending[0].1, selected);
        let members = pending
            .iter()
            .map(|(_, rate, resume)| Member {
                rate: *rate,
                resume: resume.as_ref().map(|c| (&c.state, c.records.clone())),
            })
            .collect();
        let trained = StackFit::new(
            &model,
            &train,
            &self.split.train,
            &self.split.valid,
            &selected.device,
            members,
        )
        .interrupt(interrupt::flag())
        .run(|id, record, view| sinks[id].on_epoch(record, view))
        .with_context(|| format!("training learning rates {}", labels.join(", ")));
        let failure = match &trained {
            Err(_) => None,
            Ok(_) => sinks.iter_mut().find_map(|sink| {
                sink.error
                    .take()
                    .map(|e| e.context(format!("saving learning rate {}", sink.label)))
            }),
        };
        let result = match failure {
            Some(e) => Err(e),
            None => trained,
        };
        match &result {
            Err(e) => {
                let reason = format!("{e:#}");
                for sink in &sinks {
                    if !finished(self.config, &sink.records) {
                        let _ = sink.report(Activity::Failed, Some(reason.clone()));
                    }
                }
            }
            Ok(_) if interrupt::requested() => {
                for sink in &sinks {
                    if !finished(self.config, &sink.records) {
                        let _ = sink.report(Activity::Interrupted, None);
                    }
                }
            }
            Ok(_) => {}
        }
        result
    }
}

/// Another process trains a rate this one was to train (its claim is held).
#[derive(Debug)]
pub struct HeldElsewhere {
    /// The rate.
    pub label: String,
    /// Who, as its `status.json` says.
    pub holder: Option<String>,
}

impl HeldElsewhere {
    /// The claim on `rate`, whose directory is `dir`, is another process's: who, as it reported.
    pub fn of(rate: f64, dir: &Path) -> Self {
        Self {
            label: rate_label(rate),
            holder: claim::status(dir).map(|s| s.worker.describe()),
        }
    }
}

impl std::fmt::Display for HeldElsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "learning rate {} is being trained by another process ({}); `lrsweep status` follows it",
            self.label,
            self.holder.as_deref().unwrap_or("it has not reported yet")
        )
    }
}

impl std::error::Error for HeldElsewhere {}
