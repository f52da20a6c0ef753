//! `lrsweep report <RUN_DIR>`: every chart and the summary again from the run's files alone, and
//! one self-contained `report.html`. Everything is read and checked before anything is written,
//! and a run that a sweep is still writing is left alone.

use crate::cli::ReportArgs;
use crate::exit::{say, usage};
use crate::render::text;
use crate::results::{self, Charts};
use crate::store::{
    self,
    layout::{names, RunLayout},
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
    let layout = RunLayout::new(dir, &saved.config);
    let collected = results::collect(&layout, &saved).map_err(usage)?;
    for (arm, _) in &collected.runs {
        results::other_seeds(&layout, &saved, *arm).map_err(usage)?;
    }
    let finds = store::range::read_all(dir, &saved.config).map_err(usage)?;
    let summary = results::publish(&layout, &saved, collected, &finds, Charts::All)
        .with_context(|| {
            format!(
                "writing the report of {} failed; the run's records are untouched, and each file is either its old or its new version",
                dir.display()
            )
        })?;
    say(&text::summary_markdown(&summary))?;
    if !summary.unfinished.is_empty() {
        say(&format!(
            "Continue the run with: lrsweep sweep --resume {}",
            dir.display()
        ))?;
    }
    say(&format!(
        "Report written to {}",
        layout.file(names::REPORT).display()
    ))
}
