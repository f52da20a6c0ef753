//! The run's HParams for TensorBoard (store/tfevents): one session per member, with every
//! dimension of its group, its seed and its verdict against its lowest validation loss and
//! best validation accuracy.

use anyhow::Result;
use lrsweep_model::EpochRecord;

use super::collect::Collected;
use crate::analysis::status::Figures;
use crate::analysis::summary::Summary;
use crate::config::{Setting, Unit};
use crate::store::claim;
use crate::store::layout::RunLayout;
use crate::store::run::RunRecord;
use crate::store::tfevents::{self, Session};

/// The session of member `unit` from its `records` and its verdict so far.
fn session(
    layout: &RunLayout,
    record: &RunRecord,
    unit: Unit,
    records: &[EpochRecord],
    verdict: &str,
) -> Option<Session> {
    let config = &record.config;
    let best = Figures::of(records).filter(|f| f.best_val_loss.is_finite())?;
    let files = layout.member(unit);
    let mut hparams: Vec<(String, Setting)> = config
        .member_settings(unit)
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    hparams.push(("verdict".into(), Setting::Text(verdict.to_string())));
    Some(Session {
        dir: files.name().to_string(),
        hparams,
        metrics: [best.best_val_loss, best.best_val_acc],
        epoch: best.best_val_loss_epoch,
        finished: claim::done(&files.path()).is_some(),
        time: std::fs::metadata(files.metrics())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64()),
    })
}

/// Writes the HParams of the run: a session for each member that has trained an epoch with a
/// finite validation loss.
pub fn write(
    layout: &RunLayout,
    record: &RunRecord,
    collected: &Collected,
    summary: &Summary,
) -> Result<()> {
    let config = &record.config;
    let mut sessions = Vec::new();
    for ((arm, records), row) in collected.runs.iter().zip(&summary.rates) {
        let unit = Unit {
            arm: *arm,
            seed: config.seed,
        };
        sessions.extend(session(
            layout,
            record,
            unit,
            records,
            row.verdict.display(),
        ));
        for (seed, others) in super::collect::other_seeds(layout, record, *arm)? {
            let reading = crate::analysis::verdict::read(
                &others,
                &record.hopeless(),
                Some(record.reach(*arm)),
            );
            let unit = Unit { arm: *arm, seed };
            sessions.extend(session(
                layout,
                record,
                unit,
                &others,
                reading.verdict.display(),
            ));
        }
    }
    tfevents::write_hparams(layout.root(), &sessions)
}
