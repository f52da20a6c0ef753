//! What a resume finds for a rate: nothing to continue from, a finished rate to keep, or a
//! checkpoint to continue from. Whether a rate has finished is the run's stop rule's say.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;

use crate::render::progress::Progress;
use crate::store::checkpoint::{self, Checkpoint};
use crate::store::metrics;
use crate::store::model_file;
use crate::store::run::RunRecord;

/// What a resume finds for a rate.
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
    model_file::verify(&dir.join("model.bpk"))?;
    if records.iter().any(|r| r.val_loss.is_finite()) {
        model_file::verify(&dir.join("best.bpk"))?;
    }
    Ok(())
}

/// What `dir` holds for `unit` of the run `record`, saying on `progress` what is done with it.
pub(super) fn find(
    record: &RunRecord,
    unit: super::Unit,
    dir: &Path,
    progress: &Progress,
) -> Previous {
    let (rate, label) = (unit.rate, record.config.member_label(unit.rate, unit.seed));
    if !dir.exists() {
        return Previous::Nothing;
    }
    if let Ok(records) = metrics::read_metrics(&dir.join("metrics.csv")) {
        if record.stop_rule().check(&records).is_some() {
            match model_files_intact(dir, &records) {
                Ok(()) => return Previous::Finished(records),
                Err(e) => {
                    progress.println(&format!(
                        "learning rate {label}: finished before, but {e:#}; training it again from the start"
                    ));
                    return Previous::Nothing;
                }
            }
        }
    }
    let path = dir.join(checkpoint::FILE);
    if !path.exists() {
        progress.println(&format!(
            "learning rate {label}: no checkpoint; training it from the start"
        ));
        return Previous::Nothing;
    }
    match checkpoint::load(&path, &record.member_identity(rate, unit.seed), rate) {
        Ok(c) => {
            progress.println(&format!(
                "learning rate {label}: continuing after epoch {} from its checkpoint",
                c.records.len()
            ));
            Previous::Checkpoint(c)
        }
        Err(e) => {
            progress.println(&format!(
                "learning rate {label}: {e:#}; training it again from the start"
            ));
            Previous::Nothing
        }
    }
}
