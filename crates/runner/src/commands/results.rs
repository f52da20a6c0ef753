//! What is derived from a run's records, written the same way by `sweep` and `report`:
//! `overview.png`, `summary.json` and `summary.md`.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;

use crate::analysis::range::FindResult;
use crate::analysis::summary::{self, RateSummary, Summary};
use crate::config::rate_label;
use crate::render::{chart, text};
use crate::store;

/// The analysis of each rate's records, in training order.
pub fn summarize_runs(runs: &[(f64, Vec<EpochRecord>)]) -> Vec<RateSummary> {
    runs.iter()
        .map(|(rate, records)| summary::summarize_rate(*rate, records))
        .collect()
}

/// Writes `overview.png`, `summary.json` and `summary.md` into `out`; returns the summary.
pub fn write(
    out: &Path,
    header: &str,
    runs: &[(f64, Vec<EpochRecord>)],
    find: Option<&FindResult>,
) -> Result<Summary> {
    let labelled: Vec<(String, Vec<EpochRecord>)> = runs
        .iter()
        .map(|(r, rec)| (rate_label(*r), rec.clone()))
        .collect();
    chart::overview(out, &labelled)?;
    let summary = summary::summarize(summarize_runs(runs), find.and_then(|f| f.suggestions));
    store::write_json(&out.join("summary.json"), &summary)?;
    let md = format!(
        "# Learning-rate sweep\n\n{header}\n\n{}",
        text::summary_markdown(&summary)
    );
    store::write_atomic(&out.join("summary.md"), md.as_bytes())?;
    Ok(summary)
}
