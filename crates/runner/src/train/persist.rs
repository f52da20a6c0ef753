//! Everything that happens after an epoch, for one rate: progress, the best and final model
//! files, the checkpoint, the metrics line, `status.json`, and `done.json` once the stop rule
//! says the rate has stopped. Written so that a crash at any point leaves files a resume trusts.

use std::path::PathBuf;

use anyhow::{Context, Result};
use lrsweep_model::{Cause, EpochRecord, Flow, MemberView, Stop, StopRule};

use crate::analysis::status::{Activity, Status, Worker};
use crate::config::SweepConfig;
use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::claim;
use crate::store::metrics::MetricsWriter;
use crate::store::model_file::{self, ModelMeta};
use crate::store::run::RunRecord;

/// One rate's files, written after each of its epochs.
pub(super) struct EpochSink<'a> {
    run: &'a RunRecord,
    config: &'a SweepConfig,
    rule: StopRule,
    rate: f64,
    /// The member's rate, schedule and batch size.
    arm: crate::config::Arm,
    /// What the checkpoint belongs to ([`RunRecord::member_identity`]).
    identity: String,
    pub(super) label: String,
    dir: PathBuf,
    progress: &'a Progress,
    /// The rung this segment of a pruned round trains to: the member leaves the stack there
    /// (not finished; the round decides) with its model files written as a last epoch's.
    pause_at: Option<usize>,
    metrics: MetricsWriter,
    pub(super) records: Vec<EpochRecord>,
    best_loss: f64,
    /// Who trains it, for `status.json` and `done.json`.
    worker: Worker,
    /// The first write that failed: training stops and the error is reported.
    pub(super) error: Option<anyhow::Error>,
}

impl<'a> EpochSink<'a> {
    /// Opens the member's directory in `out` for writing (metrics rewritten from the
    /// checkpoint's records when continuing) and reports it running.
    pub(super) fn open(
        record: &'a RunRecord,
        out: &std::path::Path,
        unit: super::Unit,
        resume: Option<&Checkpoint>,
        progress: &'a Progress,
        worker: Worker,
        pause_at: Option<usize>,
    ) -> Result<Self> {
        let config = &record.config;
        let (rate, label) = (unit.arm.rate, config.member_label(unit.arm, unit.seed));
        let dir = out.join(config.member_dir(unit.arm, unit.seed));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut metrics = MetricsWriter::create(&dir.join("metrics.csv"))?;
        let records: Vec<EpochRecord> = resume.map_or_else(Vec::new, |c| c.records.clone());
        for r in &records {
            metrics.append(r)?;
        }
        let sink = Self {
            run: record,
            config: &record.config,
            rule: record.stop_rule(),
            rate,
            arm: unit.arm,
            identity: record.member_identity(unit.arm, unit.seed),
            label,
            dir,
            progress,
            pause_at,
            metrics,
            best_loss: records
                .iter()
                .map(|r| r.val_loss)
                .filter(|l| l.is_finite())
                .fold(f64::INFINITY, f64::min),
            records,
            worker,
            error: None,
        };
        sink.report(Activity::Running, None)?;
        Ok(sink)
    }

    /// After an epoch: saves it, and says why the rate stops when it does. Asks to stop only
    /// when a write failed (the error is kept for the caller).
    pub(super) fn on_epoch(&mut self, record: &EpochRecord, member: &MemberView) -> Flow {
        self.progress
            .epoch(&self.label, self.config.epochs, record, member.is_last());
        self.records.push(*record);
        let stop = member.stop();
        match self.save(record, member, stop) {
            Ok(()) => {
                match stop {
                    Some(Stop::Patience {
                        patience, epoch, ..
                    }) => self.progress.println(&format!(
                        "learning rate {}: validation loss has not improved for {patience} epochs; stopping at epoch {epoch}",
                        self.label
                    )),
                    Some(Stop::Diverged {
                        epoch,
                        since,
                        cause,
                    }) if cause != Cause::NotFinite => self.progress.println(&format!(
                        "learning rate {}: hopeless since epoch {since} ({}); stopping at epoch {epoch} (--full-curves trains it to the end)",
                        self.label,
                        cause.describe()
                    )),
                    _ => {}
                }
                if stop.is_none() && self.pause_at == Some(record.epoch) {
                    Flow::Stop
                } else {
                    Flow::Continue
                }
            }
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    /// Model files before the checkpoint: a crash between the two retrains the epoch
    /// (identically) and writes them again, never leaving them behind the checkpoint.
    fn save(
        &mut self,
        record: &EpochRecord,
        member: &MemberView,
        stop: Option<Stop>,
    ) -> Result<()> {
        let meta = ModelMeta::new(self.run, self.arm, record);
        if record.val_loss < self.best_loss {
            self.best_loss = record.val_loss;
            model_file::save(&self.dir, "best", member.network(), &meta)?;
        }
        let last = stop.is_some();
        if last || self.pause_at == Some(record.epoch) {
            // With no finite validation loss there is no best epoch: keep the last one.
            if self.config.restore_best && self.best_loss.is_finite() {
                model_file::copy(&self.dir, "best", "model")?;
            } else {
                model_file::save(&self.dir, "model", member.network(), &meta)?;
            }
        }
        let state = member.state()?;
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

    /// Whether the run's stop rule says this rate has stopped.
    pub(super) fn stopped(&self) -> bool {
        self.rule.check(&self.records).is_some()
    }

    /// Rewrites the rate's `status.json`: what this process is doing with it, how far it got.
    pub(super) fn report(&self, activity: Activity, reason: Option<String>) -> Result<()> {
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
