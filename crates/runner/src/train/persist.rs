//! Everything that happens after an epoch, for one member: progress, the best and final model
//! files, the checkpoint, the metrics line, `status.json`, and `done.json` once the stop rule
//! says the member has stopped. Written so that a crash at any point leaves files a resume
//! trusts. It only persists: when a member stops or pauses is the fit loop's and the round's
//! say.

use anyhow::{Context, Result};
use lrsweep_model::{Cause, EpochRecord, Flow, MemberView, Stop, StopRule, TrainerState};

use crate::analysis::status::{Activity, Status, Worker};
use crate::config::{SweepConfig, Unit};
use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::claim;
use crate::store::layout::{names, MemberDir};
use crate::store::metrics::MetricsWriter;
use crate::store::model_file::{self, ModelMeta};
use crate::store::run::RunRecord;
use crate::store::tfevents::EventLog;

/// One member's files, written after each of its epochs.
pub(super) struct EpochSink<'a> {
    run: &'a RunRecord,
    config: &'a SweepConfig,
    rule: StopRule,
    unit: Unit,
    /// What the checkpoint belongs to ([`RunRecord::member_identity`]).
    identity: String,
    pub(super) label: String,
    files: MemberDir,
    progress: &'a Progress,
    metrics: MetricsWriter,
    /// The member's TensorBoard event file.
    events: EventLog,
    records: Vec<EpochRecord>,
    /// The state after the last epoch saved, kept so that the round's next segment continues
    /// from memory.
    state: Option<TrainerState>,
    best_loss: f64,
    /// Who trains it, for `status.json` and `done.json`.
    worker: Worker,
    /// The first write that failed: training stops and the error is reported.
    pub(super) error: Option<anyhow::Error>,
}

impl<'a> EpochSink<'a> {
    /// Opens the member's directory for writing (metrics rewritten from the checkpoint's
    /// records when continuing) and reports it running.
    pub(super) fn open(
        record: &'a RunRecord,
        files: MemberDir,
        unit: Unit,
        resume: Option<&Checkpoint>,
        progress: &'a Progress,
        worker: Worker,
    ) -> Result<Self> {
        let config = &record.config;
        let dir = files.path();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut metrics = MetricsWriter::create(&files.metrics(), record.data.task)?;
        let records: Vec<EpochRecord> = resume.map_or_else(Vec::new, |c| c.records.clone());
        for r in &records {
            metrics.append(r)?;
        }
        let events = EventLog::open(&dir, &records)?;
        let sink = Self {
            run: record,
            config,
            rule: record.stop_rule(),
            unit,
            identity: record.member_identity(unit),
            label: unit.label(config.seed),
            files,
            progress,
            metrics,
            events,
            best_loss: records
                .iter()
                .map(|r| r.val_loss)
                .filter(|l| l.is_finite())
                .fold(f64::INFINITY, f64::min),
            records,
            state: None,
            worker,
            error: None,
        };
        sink.report(Activity::Running, None)?;
        Ok(sink)
    }

    /// After an epoch: saves it, and says why the member stops when it does. Asks to stop only
    /// when a write failed (the error is kept for the caller).
    pub(super) fn on_epoch(&mut self, record: &EpochRecord, member: &MemberView) -> Flow {
        self.progress
            .epoch(&self.label, self.config.epochs, record, member.is_last());
        self.records.push(*record);
        let stop = member.stop();
        match self.save(record, member) {
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
                Flow::Continue
            }
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    /// Model files before the checkpoint: a crash between the two retrains the epoch
    /// (identically) and writes them again, never leaving them behind the checkpoint. A member
    /// leaving the stack (stopped, or waiting at a rung) gets its final model file.
    fn save(&mut self, record: &EpochRecord, member: &MemberView) -> Result<()> {
        let dir = self.files.path();
        let meta = ModelMeta::new(self.run, self.unit.arm, record);
        if record.val_loss < self.best_loss {
            self.best_loss = record.val_loss;
            model_file::save(&dir, names::BEST_MODEL, member.network(), &meta)?;
        }
        if member.leaves() {
            // With no finite validation loss there is no best epoch: keep the last one.
            if self.config.restore_best && self.best_loss.is_finite() {
                model_file::copy(&dir, names::BEST_MODEL, names::FINAL_MODEL)?;
            } else {
                model_file::save(&dir, names::FINAL_MODEL, member.network(), &meta)?;
            }
        }
        let state = member.state()?;
        checkpoint::save(
            &self.files.file(names::CHECKPOINT),
            &self.identity,
            self.unit.arm.rate,
            &self.records,
            &state,
        )?;
        self.state = Some(state);
        self.metrics.append(record)?;
        self.events.append(record)?;
        if member.stop().is_some() {
            // Last, once everything else is on disk: from here on the member is never retrained.
            claim::mark_done(&dir, self.records.len(), &self.worker)
        } else {
            self.report(Activity::Running, None)
        }
    }

    /// Whether the run's stop rule says this member has stopped.
    pub(super) fn stopped(&self) -> bool {
        self.rule.check(&self.records).is_some()
    }

    /// What the member has after this stack: its records and, when it trained an epoch, the
    /// state after the last (what its checkpoint holds).
    pub(super) fn into_trained(self) -> (Vec<EpochRecord>, Option<Checkpoint>) {
        let checkpoint = self.state.map(|state| Checkpoint {
            records: self.records.clone(),
            state,
        });
        (self.records, checkpoint)
    }

    /// Rewrites the member's `status.json`: what this process is doing with it, how far it got.
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
        claim::report(&self.files.path(), &status)
    }
}
