//! What is derived from a run's records, written the same way by `sweep` and `report`:
//! `overview.png`, `summary.json` and `summary.md`.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;

use crate::analysis::range::FindResult;
use crate::analysis::refine::{self, Refinement};
use crate::analysis::summary::{self, RateSummary, Summary};
use crate::config::{rate_label, SweepConfig};
use crate::render::{chart, text};
use crate::store;

/// The analysis of each rate's records, in training order.
pub fn summarize_runs(runs: &[(f64, Vec<EpochRecord>)]) -> Vec<RateSummary> {
    runs.iter()
        .map(|(rate, records)| summary::summarize_rate(*rate, records))
        .collect()
}

/// The summary of a run's records: each rate marked if it has not finished, and the rates the
/// run should have (listed and refined) but has not trained yet.
pub fn summarize(
    config: &SweepConfig,
    runs: &[(f64, Vec<EpochRecord>)],
    find: Option<&FindResult>,
) -> Summary {
    let mut rates = summarize_runs(runs);
    for (s, (_, records)) in rates.iter_mut().zip(runs) {
        summary::mark_progress(s, records, config.epochs, config.patience);
    }
    let trained: Vec<f64> = runs.iter().map(|(r, _)| *r).collect();
    let listed: Vec<RateSummary> = rates
        .iter()
        .filter(|s| config.rates.contains(&s.rate))
        .cloned()
        .collect();
    let mut expected = config.rates.clone();
    if listed.len() == config.rates.len() {
        if let Refinement::Between { rates, .. } = refine::plan(&listed, config.refine) {
            expected.extend(rates);
        }
    }
    let mut summary = summary::summarize(rates, find.and_then(|f| f.suggestions));
    summary.unfinished.extend(
        expected
            .iter()
            .filter(|r| !trained.contains(r))
            .map(|r| format!("{}: not trained yet", rate_label(*r))),
    );
    summary
}

/// Writes `overview.png`, `summary.json` and `summary.md` into `out`; returns the summary.
pub fn write(
    out: &Path,
    header: &str,
    config: &SweepConfig,
    runs: &[(f64, Vec<EpochRecord>)],
    find: Option<&FindResult>,
) -> Result<Summary> {
    let labelled: Vec<(String, Vec<EpochRecord>)> = runs
        .iter()
        .map(|(r, rec)| (rate_label(*r), rec.clone()))
        .collect();
    chart::overview(out, &labelled)?;
    let summary = summarize(config, runs, find);
    store::write_json(&out.join("summary.json"), &summary)?;
    let md = format!(
        "# Learning-rate sweep\n\n{header}\n\n{}",
        text::summary_markdown(&summary)
    );
    store::write_atomic(&out.join("summary.md"), md.as_bytes())?;
    Ok(summary)
}
