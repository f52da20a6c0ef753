//! `lrsweep report <RUN_DIR>`: every chart and the summary again from the run's files alone, and
//! one self-contained `report.html`.

use anyhow::{anyhow, Result};
use lrsweep_model::EpochRecord;

use crate::cli::ReportArgs;
use crate::config::rate_label;
use crate::exit::{say, usage};
use crate::render::{chart, html, text};
use crate::store::{self, metrics, run::RunRecord};

/// Regenerates the charts, the summary and `report.html` of a run directory.
pub fn run(args: &ReportArgs) -> Result<()> {
    let dir = &args.run_dir;
    let saved = RunRecord::read(dir)?;
    let mut runs: Vec<(f64, Vec<EpochRecord>)> = Vec::new();
    for &rate in &saved.rates_trained {
        let label = rate_label(rate);
        let records = metrics::read_metrics(&dir.join(format!("lr-{label}")).join("metrics.csv"))
            .map_err(usage)?;
        chart::rate_chart(dir, &format!("lr-{label}"), &label, &records)?;
        runs.push((rate, records));
    }
    let find = if store::range::exists(dir) {
        let f = store::range::read(dir).map_err(usage)?;
        chart::find(dir, &f)?;
        Some(f)
    } else {
        None
    };
    let header = text::run_header(&saved.config, &saved.backend, &saved.adapter);
    let summary = super::results::write(dir, &header, &runs, find.as_ref())?;
    let page = html::report(dir, &header, &summary, find.as_ref())?;
    store::write_atomic(&dir.join("report.html"), page.as_bytes())?;
    say(&text::summary_markdown(&summary))?;
    say(&format!(
        "Report written to {}",
        dir.join("report.html").display()
    ))?;
    if runs.is_empty() {
        return Err(anyhow!(
            "{} lists no trained rates",
            dir.join("config.json").display()
        ));
    }
    Ok(())
}
