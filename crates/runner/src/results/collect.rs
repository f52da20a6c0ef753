//! A run's arms as its directory holds them: each planned arm's records, its state, and what
//! stopped without finishing.

use anyhow::Result;
use lrsweep_model::{EpochRecord, Stop};

use crate::analysis::status::{self, RateState};
use crate::config::Arm;
use crate::store::claim;
use crate::store::layout::RunLayout;
use crate::store::metrics::read_metrics;
use crate::store::run::RunRecord;

/// A run's arms as its directory holds them.
pub struct Collected {
    /// Each planned arm (`rates_trained`) with the epochs its `metrics.csv` holds under the
    /// run's seed (none yet: empty).
    pub runs: Vec<(Arm, Vec<EpochRecord>)>,
    /// The arms whose training stopped without finishing and that no process trains now (a
    /// failed or killed task of a distributed run, an interrupted sweep).
    pub missing: Vec<Missing>,
    /// The state of each arm of `runs`, in order.
    pub states: Vec<RateState>,
}

/// An arm that stopped without finishing and that no process trains now.
#[derive(Debug, Clone)]
pub struct Missing {
    /// The arm.
    pub arm: Arm,
    /// Why, in a sentence.
    pub reason: String,
    /// [`Stop::Interrupted`] when a signal stopped it (it continues on resume).
    pub stop: Option<Stop>,
}

/// Reads every planned arm of the run in `layout`: records, states, what is missing. A
/// malformed `metrics.csv`, or none for a finished arm, is an error naming it; an unfinished
/// arm without one (or with something else in its place, which its failure reports) has
/// trained nothing.
pub fn collect(layout: &RunLayout, record: &RunRecord) -> Result<Collected> {
    let mut collected = Collected {
        runs: Vec::new(),
        missing: Vec::new(),
        states: Vec::new(),
    };
    for &arm in &record.rates_trained {
        let files = layout.arm(arm);
        let path = files.metrics();
        let evidence = claim::evidence(&files.path());
        let state = status::state(&evidence, record.config.epochs);
        // A finished arm must have its metrics; another may not have written any yet.
        let records = if path.is_file() || matches!(state, RateState::Done { .. }) {
            read_metrics(&path)?
        } else {
            Vec::new()
        };
        // An arm whose trainer reported (status.json) and stopped; an older run's arms are
        // marked by their epoch counts alone.
        let reported = matches!(
            state,
            RateState::Interrupted { .. }
                | RateState::Failed {
                    worker: Some(_),
                    ..
                }
        );
        if let (true, Some(reason)) = (reported, state.why()) {
            if record.stop_rule().check(&records).is_none() {
                let interrupted = matches!(state, RateState::Interrupted { .. });
                collected.missing.push(Missing {
                    arm,
                    reason,
                    stop: interrupted.then_some(Stop::Interrupted {
                        epoch: records.len(),
                    }),
                });
            }
        }
        collected.runs.push((arm, records));
        collected.states.push(state);
    }
    Ok(collected)
}

/// The records of `arm` under the run's further seeds (`--seeds`), read from the run in
/// `layout`: none for a seed not trained yet; empty when the run has one seed.
pub fn other_seeds(
    layout: &RunLayout,
    record: &RunRecord,
    arm: Arm,
) -> Result<Vec<(u64, Vec<EpochRecord>)>> {
    let c = &record.config;
    c.units(&[arm])
        .into_iter()
        .filter(|u| u.seed != c.seed)
        .map(|unit| {
            let path = layout.member(unit).metrics();
            let records = if path.is_file() {
                read_metrics(&path)?
            } else {
                Vec::new()
            };
            Ok((unit.seed, records))
        })
        .collect()
}
