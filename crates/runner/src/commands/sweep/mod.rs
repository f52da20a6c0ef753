//! `lrsweep sweep`: one fresh model per learning rate, then the refinement, charts and summary.

mod resolve;
mod slurm;

pub(crate) use resolve::{Resolved, Target};

use std::path::Path;

use anyhow::Result;
use lrsweep_data::Split;

use crate::analysis::range::FindResult;
use crate::analysis::refine;
use crate::backend::{self, Selected};
use crate::cli::SweepArgs;
use crate::commands::{check_fits, find, load_data, load_data_fitting, same_data};
use crate::config::Arm;
use crate::exit::{note, say, usage, with_hint};
use crate::interrupt;
use crate::render::progress::Progress;
use crate::render::text;
use crate::results::{self, LiveReport};
use crate::store::layout::RunLayout;
use crate::store::lock::Lock;
use crate::store::run::RunRecord;
use crate::track::mlflow::{self, Tracker, TrackingUri};
use crate::train::{Trained, Training};

/// Runs the sweep the arguments describe; `explicit` names the options given on the command line
/// (a resume refuses those that conflict with the saved run).
pub fn run(args: &SweepArgs, explicit: &[String]) -> Result<()> {
    if args.slurm.slurm {
        return slurm::submit(args, explicit);
    }
    // An address that cannot be one is refused before anything is written.
    if let Some(given) = &args.tracking.mlflow {
        TrackingUri::parse(given).map_err(|e| usage(anyhow::anyhow!("--mlflow: {e}")))?;
    }
    let Resolved {
        mut config,
        target,
        started,
        saved_data,
    } = Resolved::from_args(args, explicit)?;
    let (data, split) = match target.resuming() {
        true => load_data(&mut config)?,
        false => load_data_fitting(&mut config, explicit.iter().any(|e| e == "batch_size"))?,
    };
    if let (Some(saved), Target::Resume(dir)) = (&saved_data, &target) {
        same_data(saved, &data, dir)?;
    }
    check_fits(&config, split.shape(), config.stack_size())?;
    let devices = backend::select_devices(
        config.backend,
        config.exec.devices.as_ref(),
        config.exec.cpu_path,
    )
    .map_err(usage)?;
    let selected = &devices[0];
    let adapter = devices
        .iter()
        .map(|d| d.adapter.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    match &selected.fallback_reason {
        Some(reason) => note(&format!(
            "{reason}; training on {} ({adapter})",
            selected.backend
        )),
        None if devices.len() > 1 => note(&format!(
            "training on {} devices, one worker each: {adapter}",
            devices.len()
        )),
        None => note(&format!("training on {} ({adapter})", selected.backend)),
    }
    let record = RunRecord::new(
        config,
        (
            selected.backend.to_string(),
            adapter,
            selected.fallback_reason.clone(),
        ),
        data,
        started,
    );
    let resuming = target.resuming();
    let made_here = target.makes_directory();
    let out = target.open()?;
    // A fresh run records itself (config.json) before anything else is written, so that from
    // here on `--resume` can continue it; a start that fails before that leaves nothing: the
    // lock goes with its holder, and the directory if this start made it.
    let started = Lock::acquire(&out).map_err(usage).and_then(|lock| {
        if !resuming {
            record.write(&out)?;
        }
        Ok(lock)
    });
    let _lock = match started {
        Ok(lock) => lock,
        Err(e) => {
            if made_here {
                // Only ever an empty directory: remove_dir refuses anything else.
                let _ = std::fs::remove_dir(&out);
            }
            // A resumed run's files are as they were; a fresh start's are gone.
            let said = match resuming {
                true => format!(
                    "the run in {} could not be resumed now; it is left as it was",
                    out.display()
                ),
                false => format!(
                    "the run in {} could not start; nothing of it was kept",
                    out.display()
                ),
            };
            return Err(e.context(said));
        }
    };
    interrupt::install_handlers();
    let progress = Progress::new(record.config.rates.len() + record.config.refine)
        .pruned_by(record.config.prune);
    let live = LiveReport::new();
    let tracking = &args.tracking;
    let tracker = mlflow::destination(
        tracking.mlflow.as_deref(),
        tracking.mlflow_experiment.as_deref(),
        &out,
        Some(&|line: &str| note(line)),
    )
    .map_err(|e| usage(anyhow::anyhow!(e)))?
    .map(|(uri, experiment)| {
        note(&format!(
            "logging to MLflow at {uri}, experiment '{experiment}' (the run directory stays the record)"
        ));
        Tracker::start(uri, experiment, &out, &record, mlflow::Scope::Run)
    });
    for line in tracker.iter().flat_map(Tracker::said) {
        note(&line);
    }
    let mut sweep = Sweep {
        training: Training::new(&out, &split, &devices, &progress, resuming)
            .with_live_report(&live)
            .with_tracker(tracker.as_ref()),
        out: &out,
        split: &split,
        devices: &devices,
        progress: &progress,
        resuming,
        record,
        runs: Vec::new(),
        finds: Vec::new(),
    };
    let executed = sweep.execute();
    if let Err(e) = &executed {
        if live.written() {
            sweep.replace_live_report(e);
        }
    }
    let record = sweep.record.clone();
    drop(sweep);
    if let Some(tracker) = tracker {
        for line in tracker.finish(&record) {
            note(&line);
        }
    }
    executed.map_err(|e| {
        with_hint(
            e,
            format!(
                "What was written before stays valid; once the cause is fixed, continue with: lrsweep sweep --resume {}",
                out.display()
            ),
        )
    })
}

/// A whole sweep in progress: its record (`config.json`), the rates trained so far, and the
/// rounds' trainer.
struct Sweep<'a> {
    training: Training<'a>,
    out: &'a Path,
    split: &'a Split,
    /// The devices a round is spread over; the first runs the range test.
    devices: &'a [Selected],
    progress: &'a Progress,
    resuming: bool,
    /// `config.json`, rewritten as rates are planned.
    record: RunRecord,
    runs: Vec<Trained>,
    /// The range tests, one per optimizer (none with `--no-find`).
    finds: Vec<FindResult>,
}

impl Sweep<'_> {
    /// The range test, the listed rates, the refinement, then the results.
    fn execute(&mut self) -> Result<()> {
        if !self.record.config.exec.no_find {
            self.finds = self.range_tests()?;
        }
        let listed = self.record.config.listed_arms();
        self.round(&listed)?;
        self.refine()?;
        self.progress.finish();
        self.finish()
    }

    /// Plans `arms` in `config.json` and trains them as a round; with `--serial` on one
    /// device, one rate after another, each planned as it starts.
    fn round(&mut self, rates: &[Arm]) -> Result<()> {
        // Pruning decides over the whole round at each rung: planned at once (--serial then
        // trains its members one after another within each stretch between rungs).
        let one_by_one = self.record.config.exec.serial
            && self.devices.len() == 1
            && self.record.config.prune.is_none();
        let parts: Vec<&[Arm]> = match one_by_one {
            true => rates.chunks(1).collect(),
            false => vec![rates],
        };
        for part in parts {
            self.record.plan(part);
            self.record.write(self.out)?;
            let trained = self.training.round(&self.record, part)?;
            self.runs.extend(trained);
        }
        Ok(())
    }

    /// The range tests before the sweep, one per optimizer (or their saved results when
    /// resuming).
    fn range_tests(&self) -> Result<Vec<FindResult>> {
        find::for_sweep_each(
            self.out,
            &self.record.config,
            self.split,
            &self.devices[0],
            self.resuming,
            |result| self.progress.println(&text::describe_range(result)),
        )
    }

    /// Adds `refine` rates between each group's best listed rate and its better neighbour (a
    /// group: a schedule at a batch size); every group's refined rates train as one round.
    fn refine(&mut self) -> Result<()> {
        let config = &self.record.config;
        let layout = RunLayout::new(self.out, config);
        let summaries = results::summarize_runs(&layout, &self.record, &self.runs)?;
        let (arms, lines) = refine::refined_arms(&summaries, config, "");
        for line in lines {
            self.progress.println(&line);
        }
        let mut new: Vec<Arm> = arms
            .into_iter()
            .filter(|arm| !self.runs.iter().any(|(a, _)| a == arm))
            .collect();
        // Refined arms planned before (a run extended by `--epochs`, whose best may since have
        // moved) go on too: every planned arm trains to the run's epochs.
        for &arm in &self.record.rates_trained {
            if !config.is_listed(arm) && !new.contains(&arm) {
                new.push(arm);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        self.round(&new)
    }

    /// After a sweep stopped short by `why`: the report of what it trained replaces the live
    /// one (or, when that cannot be made, the live page without its refresh, saying why).
    fn replace_live_report(&self, why: &anyhow::Error) {
        let layout = RunLayout::new(self.out, &self.record.config);
        let published = results::collect(&layout, &self.record).and_then(|collected| {
            results::publish(
                &layout,
                &self.record,
                collected,
                &self.finds,
                results::Charts::Missing,
            )
        });
        if published.is_err() {
            let banner = format!(
                "stopped: {why:#}; continue with: lrsweep sweep --resume {}",
                self.out.display()
            );
            let _ = results::write_live_page(self.out, &self.record, &banner, false);
        }
    }

    /// Publishes the results (each arm's chart is drawn as its round closes).
    fn finish(&self) -> Result<()> {
        let layout = RunLayout::new(self.out, &self.record.config);
        let collected = results::collect(&layout, &self.record)?;
        let summary = results::publish(
            &layout,
            &self.record,
            collected,
            &self.finds,
            results::Charts::Missing,
        )?;
        say(&text::summary_markdown(&summary))?;
        say(&format!("Run written to {}", self.out.display()))?;
        say(&results::where_to_look(self.out))?;
        Ok(())
    }
}
