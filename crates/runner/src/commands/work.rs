//! `lrsweep work RUN_DIR`: one step of a prepared run, as a scheduler's task runs it: train
//! one rate by index (`--index`), plan round 2 after round 1 (`--refine`), or write the summary
//! (`--finish`). Safe to run twice, and from many nodes at once on a shared filesystem.

use std::path::Path;

use anyhow::{anyhow, Result};

use super::{check_fits, find, load_data, same_data};
use crate::analysis::refine;
use crate::analysis::status::{Activity, RateState, Status};
use crate::backend;
use crate::cli::WorkArgs;
use crate::config::Arm;
use crate::exit::{note, say, usage, with_hint, Interrupted};
use crate::interrupt;
use crate::render::progress::Progress;
use crate::render::text;
use crate::results;
use crate::slurm::{self, Plan, Script};
use crate::store::claim::{self, Claim};
use crate::store::layout::RunLayout;
use crate::store::lock::{Lock, Mode};
use crate::store::range as find_files;
use crate::store::run::RunRecord;
use crate::track::mlflow::{self, Client, Patience, Scope, Sync, Tracker, TrackingUri};
use crate::train::{HeldElsewhere, Training};

/// Runs the step the arguments name.
pub fn run(args: &WorkArgs) -> Result<()> {
    let dir = args.run_dir.as_path();
    let record = RunRecord::read(dir)?;
    if let Some(h) = &record.config.prune {
        // A work task trains one rate to its end; a pruned round decides across its rates.
        return Err(usage(anyhow!(
            "{} prunes its rounds (--prune {h}), which needs every rate of a round trained together to each rung; continue it with lrsweep sweep --resume {}",
            dir.display(),
            dir.display()
        )));
    }
    let tracking = &args.tracking;
    let destination = mlflow::destination(
        tracking.mlflow.as_deref(),
        tracking.mlflow_experiment.as_deref(),
        dir,
        Some(&|line: &str| note(line)),
    )
    .map_err(|e| usage(anyhow!(e)))?;
    match args.index {
        Some(index) => train(dir, record, index, destination),
        None if args.refine => refine(dir),
        None => {
            let _lock = Lock::wait(dir, Mode::Exclusive, "the summary waits for it")?;
            finish(dir)?;
            if let Some((uri, experiment)) = destination {
                track(dir, uri, &experiment);
            }
            Ok(())
        }
    }
}

/// Brings MLflow up to date with the run (its results once published); a server that does not
/// answer is said, never a failure of the step.
fn track(dir: &Path, uri: TrackingUri, experiment: &str) {
    let said = RunRecord::read(dir).and_then(|record| {
        let key = mlflow::run_key(&record, dir);
        let mut sync = Sync::new(
            Client::new(uri.clone(), Patience::training()),
            experiment,
            key,
        );
        sync.everything(dir, &record, &Scope::Run)
    });
    match said {
        Ok((sent, _)) => note(&format!(
            "MLflow at {uri}, experiment '{experiment}': up to date ({sent} epochs sent now)"
        )),
        Err(e) => note(&format!(
            "warning: MLflow at {uri} did not take the run ({e:#}); `lrsweep track {} --mlflow {uri} --mlflow-experiment {experiment}` uploads it at any time",
            dir.display()
        )),
    }
}

/// Trains rate number `index` of the run, unless it is done or another process trains it; its
/// epochs logged to MLflow as they come, with a `destination`.
fn train(
    dir: &Path,
    record: RunRecord,
    index: usize,
    destination: Option<(TrackingUri, String)>,
) -> Result<()> {
    let config = record.config.clone();
    let planned = record.rates_trained.len();
    let Some(&arm) = record.rates_trained.get(index) else {
        let listed = config.listed_arms().len();
        if index < listed + config.refine * config.groups().len() {
            return Err(usage(anyhow!(
                "--index {index}: rate {index} of {} is a refined rate, not planned yet (round 1 is 0 to {}); run `lrsweep work {} --refine` once round 1 has ended",
                dir.display(),
                listed.saturating_sub(1),
                dir.display()
            )));
        }
        return Err(usage(anyhow!(
            "--index {index}: the run {} has {planned} rates (indices 0 to {}){}",
            dir.display(),
            planned.saturating_sub(1),
            if config.refine > 0 && planned == listed {
                format!(
                    ", and {} refined ones to come",
                    config.refine * config.groups().len()
                )
            } else {
                String::new()
            }
        )));
    };
    let label = arm.label();
    let layout = RunLayout::new(dir, &config);
    let rate_dir = layout.arm(arm).path();
    // Done when every seed's member is (one, but with --seeds).
    let already_done = || {
        let all_done = config
            .units(&[arm])
            .into_iter()
            .all(|u| claim::done(&layout.member(u).path()).is_some());
        claim::done(&rate_dir).filter(|_| all_done).map(|d| {
            note(&format!(
                "learning rate {label} (index {index}) was finished by {}: nothing to train",
                d.worker.describe()
            ))
        })
    };
    if already_done().is_some() {
        return Ok(());
    }
    let _run = Lock::wait(dir, Mode::Shared, "this task waits for it")?;
    let Some(claim) = claim::take(&rate_dir)? else {
        let held = HeldElsewhere::of(&label, &rate_dir);
        note(&format!("{held}: this task leaves it alone"));
        return Ok(());
    };
    if already_done().is_some() {
        return Ok(());
    }
    let mut held = Some(claim);
    let mine = Scope::Members(record.config.units(&[arm]));
    let tracker =
        destination.map(|(uri, experiment)| Tracker::start(uri, experiment, dir, &record, mine));
    for line in tracker.iter().flat_map(Tracker::said) {
        note(&line);
    }
    let result = train_claimed(dir, record.clone(), arm, &mut held, tracker.as_ref());
    if let Some(tracker) = tracker {
        for line in tracker.finish(&record) {
            note(&line);
        }
    }
    let again = format!(
        "lrsweep work {} --index {index} (or resubmit the task: sbatch --array={index} {})",
        dir.display(),
        dir.join(slurm::DIR).join(Script::Train.file()).display()
    );
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.is::<Interrupted>() => Err(anyhow::Error::new(Interrupted {
            continue_with: again,
        })),
        Err(e) => {
            // Training failures are reported by the trainer; this also covers the data and the
            // device, and gives the whole chain of causes. The claim is still held.
            let recorded = claim::evidence(&rate_dir).epochs_recorded;
            let status = Status {
                reason: Some(format!("{e:#}")),
                ..Status::now(
                    Activity::Failed,
                    &claim::worker_here("(not chosen)"),
                    recorded,
                    config.epochs,
                )
            };
            let _ = claim::report(&rate_dir, &status);
            drop(held);
            Err(with_hint(
                e,
                format!("Once the cause is fixed, run it again (it continues from its checkpoint): {again}"),
            ))
        }
    }
}

/// Loads the data, checks it is the run's, and trains `arm` holding `held` (given back there).
fn train_claimed(
    dir: &Path,
    record: RunRecord,
    arm: Arm,
    held: &mut Option<Claim>,
    tracker: Option<&Tracker>,
) -> Result<()> {
    let mut config = record.config.clone();
    let (here, split) = load_data(&mut config)?;
    // A task trains one rate under each of the run's seeds: refused, as a sweep is, when that
    // does not fit this node's memory.
    check_fits(&config, split.shape(), config.seeds.max(1))?;
    same_data(&record.data, &here, dir)?;
    let devices = vec![backend::select(config.backend, config.exec.cpu_path).map_err(usage)?];
    note(&format!(
        "learning rate {}: training on {} ({})",
        arm.label(),
        devices[0].backend,
        devices[0].adapter
    ));
    interrupt::install_handlers();
    let Some(claim) = held.take() else {
        return Err(anyhow!("internal: the claim on the rate was lost"));
    };
    let progress = Progress::new(config.rates.len() + config.refine);
    let mut training = Training::new(dir, &split, &devices, &progress, true).with_tracker(tracker);
    let files = RunLayout::new(dir, &config).arm(arm);
    training.claims().hold(files.name(), claim);
    let result = training.round(&record, &[arm]).map(|_| ());
    *held = training.claims().release(files.name());
    result
}

/// After round 1: plans round 2 from the round-1 rates that finished and, in a submitted Slurm
/// run, submits it with the summary after it (or writes the summary at once when there is
/// nothing to train).
fn refine(dir: &Path) -> Result<()> {
    let _lock = Lock::wait(
        dir,
        Mode::Exclusive,
        "the refine step waits for its tasks to end",
    )?;
    let mut record = RunRecord::read(dir)?;
    let config = record.config.clone();
    let layout = RunLayout::new(dir, &config);
    let collected = results::collect(&layout, &record).map_err(usage)?;
    let mut finished = Vec::new();
    let mut missing = Vec::new();
    for ((arm, records), state) in collected.runs.iter().zip(&collected.states) {
        if !config.is_listed(*arm) {
            continue;
        }
        match state {
            RateState::Done { .. } => finished.push((*arm, records.clone())),
            other => missing.push(format!("{} ({})", arm.label(), describe(other))),
        }
    }
    let listed = config.listed_arms().len();
    say(&format!(
        "round 1: {} of {listed} rates finished{}",
        finished.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!("; missing: {}", missing.join("; "))
        }
    ))?;
    let planned_before = record.rates_trained.len() > listed;
    if planned_before {
        let labels: Vec<String> = record.rates_trained[listed..]
            .iter()
            .map(|a| a.label())
            .collect();
        say(&format!(
            "round 2 was planned before: {}; kept",
            labels.join(", ")
        ))?;
    } else if config.refine > 0 {
        let summaries = results::summarize_runs(&layout, &record, &finished)?;
        let from = match missing.is_empty() {
            true => String::new(),
            false => format!(", from the {} rates that finished", finished.len()),
        };
        let (arms, lines) = refine::refined_arms(&summaries, &config, &from);
        for line in lines {
            say(&line)?;
        }
        record.plan(&arms);
        record.write(dir)?;
    }
    let round2 = listed..record.rates_trained.len();
    match Plan::read(dir).filter(|p| p.submitted) {
        Some(mut plan) if !round2.is_empty() => {
            let job = slurm::submit(&plan.path(Script::Train), &[plan.array(&round2)])?;
            plan.jobs.round2 = Some(job.clone());
            plan.save()?;
            let summary = slurm::submit(
                &plan.path(Script::Summary),
                &[format!("--dependency=afterany:{job}")],
            )?;
            plan.jobs.summary = Some(summary.clone());
            plan.save()?;
            say(&format!(
                "submitted round 2 (indices {} to {}) as job array {job}, and the summary as job {summary} after it",
                round2.start,
                round2.end - 1
            ))
        }
        Some(_) => {
            say("nothing to train in round 2: writing the summary now")?;
            finish(dir)
        }
        None if round2.is_empty() => say(&format!(
            "nothing to train in round 2; next: lrsweep work {} --finish",
            dir.display()
        )),
        None => say(&format!(
            "round 2: run `lrsweep work {d} --index N` for N from {a} to {b} (in a Kubernetes Indexed Job: --index $((JOB_COMPLETION_INDEX + {a}))), then `lrsweep work {d} --finish`",
            d = dir.display(),
            a = round2.start,
            b = round2.end - 1
        )),
    }
}

/// A rate's state in a few words, for the refine step's report.
fn describe(state: &RateState) -> String {
    match state {
        RateState::Waiting => "never started".to_string(),
        RateState::Running { epoch, epochs, .. } => {
            format!("still running, epoch {epoch} of {epochs}")
        }
        RateState::Done { .. } => "done".to_string(),
        RateState::Interrupted { epoch, .. } => format!("interrupted after epoch {epoch}"),
        RateState::Failed { reason, .. } => format!("failed: {reason}"),
    }
}

/// The range test (unless the run skips it or has it), every missing chart and the summary,
/// with missing rates marked; the caller holds the run's lock.
fn finish(dir: &Path) -> Result<()> {
    let record = RunRecord::read(dir)?;
    let config = &record.config;
    let have = find_files::stems(config)
        .iter()
        .all(|(_, stem)| find_files::exists(dir, stem));
    let finds = if have || config.exec.no_find {
        find_files::read_all(dir, config).unwrap_or_default()
    } else {
        let run_it = || -> Result<_> {
            let (_, split) = load_data(&mut config.clone())?;
            let selected = backend::select(config.backend, config.exec.cpu_path)?;
            find::for_sweep_each(dir, config, &split, &selected, true, |_| {})
        };
        match run_it() {
            Ok(f) => f,
            Err(e) => {
                note(&format!(
                    "the range test could not run ({e:#}); the summary goes without it"
                ));
                Vec::new()
            }
        }
    };
    let layout = RunLayout::new(dir, config);
    let collected = results::collect(&layout, &record).map_err(usage)?;
    let summary = results::publish(
        &layout,
        &record,
        collected,
        &finds,
        results::Charts::Missing,
    )?;
    say(&text::summary_markdown(&summary))?;
    if !summary.unfinished.is_empty() {
        say(&format!(
            "Unfinished: {}. Resubmit their tasks (they continue from their checkpoints), or continue here with: lrsweep sweep --resume {}",
            summary.unfinished.join("; "),
            dir.display()
        ))?;
    }
    say(&format!("Run written to {}", dir.display()))?;
    say(&results::where_to_look(dir))
}
