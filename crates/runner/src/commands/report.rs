//! `lrsweep report <RUN_DIR>`: every chart and the summary again from the run's files alone, and
//! one self-contained `report.html`. Everything is read and checked before anything is written,
//! and a run that a sweep is still writing is left alone.

use crate::cli::ReportArgs;
use crate::exit::{say, usage};
use crate::render::{chart, text};
use crate::store::{
    self,
    lock::{Held, Lock},
    run::RunRecord,
};
use anyhow::{anyhow, Context, Result};

/// Regenerates the charts, the summary and `report.html` of a run directory.
pub fn run(args: &ReportArgs) -> Result<()> {
    let dir = &args.run_dir;
    let saved = RunRecord::read(dir)?;
    // Holding the run's lock: a sweep still writing it is not reported half-way, and cannot
    // start while the report is written.
    let _lock = Lock::acquire(dir).map_err(|e| {
        if e.is::<Held>() {
            usage(e.context(
                "the run is in progress; report it once the sweep has finished or been stopped",
            ))
        } else {
            usage(e.context(format!(
                "report could not take the lock of {}; nothing was written",
                dir.display()
            )))
        }
    })?;
    if saved.rates_trained.is_empty() {
        return Err(usage(anyhow!(
            "{} lists no trained rates: nothing to report yet",
            dir.join(store::run::FILE).display()
        )));
    }
    let collected = crate::results::collect(dir, &saved).map_err(usage)?;
    let runs = collected.runs;
    let find = if store::range::exists(dir) {
        Some(store::range::read(dir).map_err(usage)?)
    } else {
        None
    };
    let failed = || {
        format!(
            "writing the report of {} failed; the run's records are untouched, and each file is either its old or its new version",
            dir.display()
        )
    };
    for (rate, records) in &runs {
        let others = crate::results::other_seeds(dir, &saved, *rate).map_err(usage)?;
        crate::results::rate_chart(dir, &saved, *rate, records, &others).with_context(failed)?;
    }
    if let Some(f) = &find {
        chart::find(dir, f).with_context(failed)?;
    }
    let header = text::run_header(&saved.config, &saved.backend, &saved.adapter);
    let summary = crate::results::write(
        dir,
        &header,
        &saved,
        &runs,
        find.as_ref(),
        &collected.missing,
    )
    .with_context(failed)?;
    say(&text::summary_markdown(&summary))?;
    if !summary.unfinished.is_empty() {
        say(&format!(
            "Continue the run with: lrsweep sweep --resume {}",
            dir.display()
        ))?;
    }
    say(&format!(
        "Report written to {}",
        dir.join(crate::results::REPORT).display()
    ))
}
