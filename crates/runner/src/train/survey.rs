//! The survey at a round's start: what a member's files hold (nothing to continue from, a
//! finished member to keep, or a checkpoint to continue from). Whether a member has finished
//! is the run's stop rule's say.

use lrsweep_data::Task;
use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;

use crate::config::Unit;
use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::layout::{names, MemberDir};
use crate::store::metrics;
use crate::store::model_file;
use crate::store::run::RunRecord;

/// A member of a round as the round knows it: its unit, its records so far, the state it
/// continues from, and whether it has finished (stopped by the rule, or pruned).
pub(super) struct Member {
    pub(super) unit: Unit,
    pub(super) records: Vec<EpochRecord>,
    pub(super) resume: Option<Checkpoint>,
    pub(super) finished: bool,
}

/// What a member's files hold.
pub(super) enum Previous {
    /// Nothing to continue from: train from the start.
    Nothing,
    /// The rate finished before: its records.
    Finished(Vec<EpochRecord>),
    /// An unfinished rate's checkpoint.
    Checkpoint(Checkpoint),
}

/// Checks that a finished rate has its model files, each matching its sidecar: `model.bpk`, and
/// `best.bpk` when some epoch had a finite validation loss.
fn model_files_intact(dir: &Path, records: &[EpochRecord]) -> Result<()> {
    let bpk = |stem: &str| dir.join(format!("{stem}.bpk"));
    model_file::verify(&bpk(names::FINAL_MODEL))?;
    if records.iter().any(|r| r.val_loss.is_finite()) {
        model_file::verify(&bpk(names::BEST_MODEL))?;
    }
    Ok(())
}

/// Writes the member's `metrics.csv` anew with `records`.
fn rewrite_metrics(files: &MemberDir, records: &[EpochRecord], task: Task) -> Result<()> {
    let mut writer = metrics::MetricsWriter::create(&files.metrics(), task)?;
    records.iter().try_for_each(|r| writer.append(r))
}

/// What `files` hold for `unit` of the run `record`, saying on `progress` what is done with it.
pub(super) fn find(
    record: &RunRecord,
    unit: Unit,
    files: &MemberDir,
    progress: &Progress,
) -> Previous {
    let say = |m: &str| progress.println(m);
    let (rate, label) = (unit.arm.rate, unit.label(record.config.seed));
    let dir = &files.path();
    if !dir.exists() {
        return Previous::Nothing;
    }
    if let Ok(records) = metrics::read_metrics(&files.metrics()) {
        if record.stop_rule().check(&records).is_some() {
            match model_files_intact(dir, &records) {
                Ok(()) => return Previous::Finished(records),
                Err(e) => {
                    say(&format!(
                        "learning rate {label}: finished before, but {e:#}; training it again from the start"
                    ));
                    return Previous::Nothing;
                }
            }
        }
    }
    let path = dir.join(checkpoint::FILE);
    if !path.exists() {
        say(&format!(
            "learning rate {label}: no checkpoint; training it from the start"
        ));
        return Previous::Nothing;
    }
    match checkpoint::load(&path, &record.member_identity(unit), rate) {
        Ok(c) => {
            // Killed after its last checkpoint but before done.json (or its metrics.csv lost):
            // finished all the same, its metrics written again from the checkpoint's records.
            if record.stop_rule().check(&c.records).is_some()
                && model_files_intact(dir, &c.records).is_ok()
            {
                match rewrite_metrics(files, &c.records, record.data.task) {
                    Ok(()) => {
                        say(&format!(
                            "learning rate {label}: finished before (by its checkpoint), kept as it is"
                        ));
                        return Previous::Finished(c.records);
                    }
                    Err(e) => say(&format!(
                        "learning rate {label}: finished before, but {e:#}; continuing from its checkpoint"
                    )),
                }
            }
            say(&format!(
                "learning rate {label}: continuing after epoch {} from its checkpoint",
                c.records.len()
            ));
            Previous::Checkpoint(c)
        }
        Err(e) => {
            say(&format!(
                "learning rate {label}: {e:#}; training it again from the start"
            ));
            Previous::Nothing
        }
    }
}
