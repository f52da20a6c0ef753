//! `lrsweep status RUN_DIR`: where each rate of a run stands (waiting, running with host,
//! device and epoch, done, failed with the reason) and the recommendation once there is one.
//! Reads only; works while a sweep or the tasks of a distributed run are writing.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use serde::Serialize;

use crate::analysis::status::{self, Figures, RateState};
use crate::analysis::summary::{RateSummary, Recommendation, Summary};
use crate::analysis::verdict::Verdict;
use crate::cli::StatusArgs;
use crate::config::{Arm, Unit};
use crate::exit::say;
use crate::slurm::{Jobs, Plan};
use crate::store::claim;
use crate::store::layout::{names, RunLayout};
use crate::store::metrics::read_metrics;
use crate::store::run::RunRecord;

/// One rate as `status` reports it.
#[derive(Debug, Serialize)]
struct Row {
    /// Its index (`lrsweep work --index`).
    index: usize,
    /// The rate; absent for refined rates not planned yet.
    rate: Option<f64>,
    /// Its schedule.
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<lrsweep_model::Schedule>,
    /// Its directory in the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    /// The seed, with `--seeds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    /// As the reference wrote it.
    label: String,
    /// 1: listed; 2: refined.
    round: u8,
    #[serde(flatten)]
    state: RateState,
    /// Its latest and best validation figures, once it has trained an epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    figures: Option<Figures>,
    /// Why a finished member stopped (`all 150 epochs`, `pruned at epoch 3 (rank 4 of 5)`,
    /// `hopeless since epoch 2 …`).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
    /// What its curves say: as the summary wrote it once there is one, else read from its
    /// epochs so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
    /// The verdict's evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict_reason: Option<String>,
}

/// `lrsweep status --json`.
#[derive(Debug, Serialize)]
struct Report {
    run: String,
    /// Classification or regression (its accuracy is then R²).
    task: lrsweep_data::Task,
    epochs: usize,
    rates: Vec<Row>,
    /// Counts by state: waiting, running, done, failed.
    counts: Counts,
    /// The Slurm jobs, for a run submitted with `--slurm`.
    slurm: Option<Jobs>,
    /// From `summary.json`, once the run has one.
    recommended: Option<Recommendation>,
    /// What the summary lists as unfinished or missing.
    unfinished: Vec<String>,
    /// Why `summary.json`, which is there, could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary_problem: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Counts {
    waiting: usize,
    running: usize,
    done: usize,
    interrupted: usize,
    failed: usize,
}

/// Prints the status of a run directory.
pub fn run(args: &StatusArgs) -> Result<()> {
    let dir = &args.run_dir;
    let record = RunRecord::read(dir)?;
    let config = &record.config;
    // Sets of the rates' bits: every look-up below is constant-time, so status stays linear in
    // the number of rates (a million rates took minutes with list searches).
    let key = |a: &Arm| {
        (
            a.rate.to_bits(),
            a.group.schedule.to_string(),
            a.group.batch,
        )
    };
    let mut planned = record.rates_trained.clone();
    let mut seen: HashSet<(u64, String, Option<usize>)> = planned.iter().map(key).collect();
    for a in config.listed_arms() {
        if seen.insert(key(&a)) {
            planned.push(a);
        }
    }
    // One row per planned rate, and per further seed with --seeds (the same index: a work task
    // trains a rate under every seed).
    let seeds = config.seeds();
    let layout = RunLayout::new(dir, config);
    // A summary that is there but cannot be read is said, with the fix, not taken for none.
    let summary_path = layout.file(names::SUMMARY_JSON);
    let (summary, summary_problem): (Option<Summary>, Option<String>) =
        match std::fs::symlink_metadata(&summary_path) {
            Err(_) => (None, None),
            Ok(_) => match crate::store::fs::read_text(
                &summary_path,
                crate::store::fs::limit::RECORD,
            )
            .and_then(|t| serde_json::from_str(&t).map_err(anyhow::Error::from))
            {
                Ok(s) => (Some(s), None),
                Err(e) => (
                    None,
                    Some(format!(
                        "{} could not be read ({e:#}); `lrsweep report {}` writes it again from the run's files",
                        summary_path.display(),
                        dir.display()
                    )),
                ),
            },
        };
    // By directory: one per rate and schedule (older summaries name none: by rate then).
    let by_dir: HashMap<String, &RateSummary> = summary
        .iter()
        .flat_map(|s| &s.rates)
        .map(|r| match r.dir.is_empty() {
            true => (format!("lr-{}", crate::config::rate_label(r.rate)), r),
            false => (r.dir.clone(), r),
        })
        .collect();
    let mut rows: Vec<Row> = planned
        .iter()
        .enumerate()
        .flat_map(|(index, &arm)| seeds.iter().map(move |&seed| (index, arm, seed)))
        .map(|(index, arm, seed)| {
            let unit = Unit { arm, seed };
            let files = layout.member(unit);
            let evidence = claim::evidence(&files.path());
            let state = status::state(&evidence, config.epochs);
            // Its epochs so far: the figures, the verdict so far and, once done, why it stopped.
            let records = match files.metrics().is_file() {
                true => read_metrics(&files.metrics()).unwrap_or_default(),
                false => Vec::new(),
            };
            // The summary's verdict and stop (it knows the run's pruning) for the run's seed once
            // there is one; else what the member's epochs say so far.
            let summarized = (seed == config.seed)
                .then(|| by_dir.get(files.name()))
                .flatten();
            let (verdict, verdict_reason) = match summarized {
                Some(r) => (Some(r.verdict), Some(r.verdict_reason.clone())),
                None if records.is_empty() => (None, None),
                None => {
                    let reading = crate::analysis::verdict::read(
                        &records,
                        &record.hopeless(),
                        Some(record.reach(arm)),
                    );
                    (Some(reading.verdict), Some(reading.reason))
                }
            };
            let stopped = match state {
                RateState::Done { epochs, .. } => Some(
                    summarized
                        .and_then(|r| r.stopped)
                        .or_else(|| record.stop_rule().check(&records))
                        .map_or_else(|| format!("stopped at epoch {epochs}"), |s| s.describe()),
                ),
                _ => None,
            };
            Row {
                figures: Figures::of(&records),
                stopped,
                index,
                rate: Some(arm.rate),
                schedule: Some(arm.group.schedule),
                dir: Some(files.name().to_string()),
                seed: (seeds.len() > 1).then_some(seed),
                label: unit.label(config.seed),
                round: if config.is_listed(arm) { 1 } else { 2 },
                state,
                verdict,
                verdict_reason,
            }
        })
        .collect();
    let refined = rows.iter().filter(|r| r.round == 2).count();
    if refined == 0 {
        for k in 0..config.refine * config.groups().len() {
            rows.push(Row {
                index: planned.len() + k,
                rate: None,
                schedule: None,
                dir: None,
                seed: None,
                label: "refined".to_string(),
                round: 2,
                state: RateState::Waiting,
                figures: None,
                stopped: None,
                verdict: None,
                verdict_reason: None,
            });
        }
    }
    let mut counts = Counts::default();
    for r in &rows {
        match r.state {
            RateState::Waiting => counts.waiting += 1,
            RateState::Running { .. } => counts.running += 1,
            RateState::Done { .. } => counts.done += 1,
            RateState::Interrupted { .. } => counts.interrupted += 1,
            RateState::Failed { .. } => counts.failed += 1,
        }
    }
    let report = Report {
        run: dir.display().to_string(),
        task: record.data.task,
        epochs: config.epochs,
        rates: rows,
        counts,
        slurm: Plan::read(dir).filter(|p| p.submitted).map(|p| p.jobs),
        recommended: summary.as_ref().and_then(|s| s.recommended.clone()),
        unfinished: summary.map(|s| s.unfinished).unwrap_or_default(),
        summary_problem,
    };
    if args.json {
        return say(&serde_json::to_string_pretty(&report)?);
    }
    say(&table(&report))
}

/// Text from the run's files as a terminal shows it: control characters (escape sequences,
/// line breaks, bells) written out (`\u{1b}`), never sent; the files are anyone's on a shared
/// filesystem.
fn shown(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// [`shown`] for a Markdown table's cell: a `|` cannot end the cell and forge another.
fn cell(text: &str) -> String {
    shown(text).replace('|', "\\|")
}

/// The report as text: a line about the run, a Markdown table, the recommendation.
fn table(report: &Report) -> String {
    let c = &report.counts;
    let mut text = format!(
        "{}: {} rates, {} epochs each: {} done, {} running, {}{} failed, {} waiting\n",
        report.run,
        report.rates.len(),
        report.epochs,
        c.done,
        c.running,
        if c.interrupted > 0 {
            format!("{} interrupted, ", c.interrupted)
        } else {
            String::new()
        },
        c.failed,
        c.waiting
    );
    // How to continue a stopped rate: the run's own resume (or resubmission, on Slurm).
    let again = match report.slurm {
        Some(_) => format!("lrsweep sweep --resume {} --slurm", report.run),
        None => format!("lrsweep sweep --resume {}", report.run),
    };
    if let Some(jobs) = &report.slurm {
        let ids: Vec<String> = [
            ("round 1", &jobs.round1),
            ("refine", &jobs.refine),
            ("round 2", &jobs.round2),
            ("summary", &jobs.summary),
        ]
        .iter()
        .filter_map(|(what, id)| id.as_ref().map(|id| format!("{what} {id}")))
        .collect();
        text += &format!("Slurm jobs: {}\n", ids.join(", "));
    }
    let acc = match report.task {
        lrsweep_data::Task::Regression => "val R²",
        lrsweep_data::Task::Classification => "val acc",
    };
    text += &format!("\n| index | rate | state | epoch | val loss (latest / best) | {acc} (latest / best) | verdict | where | note |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in &report.rates {
        let (epoch, place, note) = match &r.state {
            RateState::Waiting if r.rate.is_none() => (
                String::new(),
                String::new(),
                "planned once round 1 has ended".to_string(),
            ),
            RateState::Waiting => (String::new(), String::new(), String::new()),
            RateState::Running {
                worker,
                epoch,
                epochs,
            } => (
                format!("{epoch} of {epochs}"),
                worker.as_ref().map_or(String::new(), |w| w.describe()),
                String::new(),
            ),
            RateState::Done { worker, epochs } => (
                format!("{epochs} of {}", report.epochs),
                worker.describe(),
                match (&r.stopped, &r.verdict_reason) {
                    (Some(stop), Some(why)) => format!("{stop}; {why}"),
                    (Some(stop), None) => stop.clone(),
                    (None, Some(why)) => why.clone(),
                    (None, None) => String::new(),
                },
            ),
            state @ RateState::Interrupted { worker, epoch } => (
                format!("{epoch} of {}", report.epochs),
                worker.describe(),
                format!(
                    "{}; continue with {again} ({})",
                    state.why().unwrap_or_default(),
                    state.continues()
                ),
            ),
            state @ RateState::Failed {
                worker,
                epoch,
                reason,
            } => (
                format!("{epoch} of {}", report.epochs),
                worker.as_ref().map_or(String::new(), |w| w.describe()),
                format!("{reason}; run it again ({})", state.continues()),
            ),
        };
        let (loss, acc) = match &r.figures {
            Some(f) => (
                format!(
                    "{:.4} / {:.4} ({})",
                    f.val_loss, f.best_val_loss, f.best_val_loss_epoch
                ),
                format!("{:.4} / {:.4}", f.val_acc, f.best_val_acc),
            ),
            None => (String::new(), String::new()),
        };
        let verdict = r.verdict.map_or("", |v| v.display());
        text += &format!(
            "| {} | {} | {} | {epoch} | {loss} | {acc} | {verdict} | {} | {} |\n",
            r.index,
            cell(&r.label),
            r.state.name(),
            cell(&place),
            cell(&note)
        );
    }
    match &report.recommended {
        Some(rec) => {
            text += &format!(
                "\nRecommended: learning rate {}, stopping at epoch {} ({})\n",
                shown(&rec.label),
                rec.epoch,
                shown(&rec.reason)
            );
        }
        None => {
            match &report.summary_problem {
                Some(problem) => text += &format!("\n{}\n", shown(problem)),
                None => text +=
                    "\nNo recommendation yet: it comes with the summary, at the end of the run.\n",
            }
        }
    }
    if !report.unfinished.is_empty() {
        text += &format!(
            "The summary marks: {}\n",
            shown(&report.unfinished.join("; "))
        );
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn strings_from_the_run_files_cannot_drive_the_terminal_or_forge_a_row() {
        // Issue 37, class 14: status.json's host and device, crafted.
        assert_eq!(super::shown("vm\u{1b}[2J\u{7}"), "vm\\u{1b}[2J\\u{7}");
        assert_eq!(
            super::cell("GPU\n| 9 | done |"),
            "GPU\\u{a}\\| 9 \\| done \\|"
        );
    }
}
