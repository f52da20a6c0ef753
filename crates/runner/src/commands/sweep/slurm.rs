//! `lrsweep sweep --slurm`: prepares the run directory, writes the plan and batch scripts, and
//! submits round 1 as a job array with the refine job after it (or, with `--dry-run`, prints
//! what it would submit).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use super::Resolved;
use crate::cli::SweepArgs;
use crate::commands::{load_data, load_data_fitting, same_data};
use crate::exit::{note, say, usage};
use crate::slurm::{self, Jobs, Plan, PlanTracking, Script};
use crate::store::lock::{Lock, Mode};
use crate::store::run::RunRecord;
use crate::track::mlflow::{self, Client, Patience, Sync, TrackingUri};

/// `path` made absolute (the scripts run elsewhere, from another working directory).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("resolving {}", path.display()))
}

/// Prepares and submits (or, with `--dry-run`, prints) the run.
pub fn submit(args: &SweepArgs, explicit: &[String]) -> Result<()> {
    let options = &args.slurm;
    slurm::check_sbatch_args(&options.sbatch).map_err(usage)?;
    if let Some(given) = &args.tracking.mlflow {
        TrackingUri::parse(given).map_err(|e| usage(anyhow!("--mlflow: {e}")))?;
    }
    // Paths the scripts hold, checked before anything is written.
    for (what, path) in [("--out", &args.out), ("--resume", &args.resume)] {
        if let Some(path) = path {
            slurm::check_script_path(what, path).map_err(usage)?;
        }
    }
    if args.out.is_none() && args.resume.is_none() {
        let here = std::env::current_dir().context("finding the current directory")?;
        slurm::check_script_path("the current directory (where runs/ goes)", &here)
            .map_err(usage)?;
    }
    let exe =
        std::env::current_exe().context("finding the lrsweep binary the scripts are to run")?;
    slurm::check_script_path("the lrsweep binary's path", &exe).map_err(usage)?;
    if !options.dry_run {
        slurm::check_sbatch().map_err(usage)?;
    }
    let Resolved {
        mut config,
        target,
        started,
        saved_data,
    } = Resolved::from_args(args, explicit)?;
    // The nodes read the data themselves, from wherever this process is started.
    if let Some(dir) = &config.data.location.data_dir {
        config.data.location.data_dir = Some(absolute(dir)?);
    }
    // Read and split here so that bad data is refused before anything is submitted; the nodes
    // check that they read the same files (their SHA-256 are in config.json).
    let (data, split) = match target.resuming() {
        true => load_data(&mut config)?,
        false => load_data_fitting(&mut config, explicit.iter().any(|e| e == "batch_size"))?,
    };
    if let (Some(saved), super::Target::Resume(dir)) = (&saved_data, &target) {
        same_data(saved, &data, dir)?;
    }
    let resuming = target.resuming();
    let out = absolute(&target.open()?)?;
    // Shared, as the tasks hold it: a resubmission may go on while tasks of an earlier one run.
    let _lock = Lock::wait(&out, Mode::Shared, "the submission waits for it").map_err(usage)?;
    let mut record = if resuming {
        let mut saved = RunRecord::read(&out)?;
        saved.config = config.clone();
        saved
    } else {
        RunRecord::new(
            config.clone(),
            (
                config.backend.name().to_string(),
                "chosen by each Slurm task on its node (see lrsweep status)".to_string(),
                None,
            ),
            data,
            started,
        )
    };
    drop(split);
    let listed = config.listed_arms();
    record.plan(&listed);
    record.write(&out)?;
    let lrsweep =
        std::env::current_exe().context("finding the lrsweep binary the scripts are to run")?;
    let mut plan = Plan {
        lrsweep,
        run_dir: out.clone(),
        sbatch: options.sbatch.clone(),
        max_parallel: options.max_parallel,
        submitted: !options.dry_run,
        jobs: Jobs::default(),
        mlflow: tracking(args, &out, &record, options.dry_run),
    };
    plan.write()?;
    let round1 = 0..listed.len();
    let array = plan.array(&round1);
    if options.dry_run {
        for script in Script::ALL {
            say(&format!(
                "## {}\n{}",
                plan.path(script).display(),
                plan.script(script)
            ))?;
        }
        return say(&format!(
            "Nothing submitted. To run it:\n  sbatch {array} {train}\n  sbatch --dependency=afterany:<that job id> {refine}\n\
             or drive it from another scheduler: `lrsweep work {dir} --index N` for N from 0 to {last}, then \
             `lrsweep work {dir} --refine`, the indices it names, and `lrsweep work {dir} --finish`.",
            train = plan.path(Script::Train).display(),
            refine = plan.path(Script::Refine).display(),
            dir = out.display(),
            last = listed.len().saturating_sub(1),
        ));
    }
    let first = slurm::submit(&plan.path(Script::Train), &[array])
        .with_context(|| format!("submitting round 1 of {}", out.display()))?;
    plan.jobs.round1 = Some(first.clone());
    plan.save()?;
    let refine = slurm::submit(
        &plan.path(Script::Refine),
        &[format!("--dependency=afterany:{first}")],
    )
    .map_err(|e| {
        anyhow!(
            "{e:#}; round 1 is submitted as job {first} and will train, but nothing will refine or summarise it: once it ends, run `lrsweep work {} --refine` (or cancel it with scancel {first})",
            out.display()
        )
    })?;
    plan.jobs.refine = Some(refine.clone());
    plan.save()?;
    say(&format!(
        "Submitted {dir} to Slurm: round 1 ({n} rates) as job array {first}{limit}, then job {refine} \
         (after it, whatever the tasks' outcomes) refines and submits round 2 and the summary.\n\
         Follow it with: lrsweep status {dir}   (Slurm: squeue -j {first},{refine}; logs in {logs})",
        dir = out.display(),
        n = listed.len(),
        limit = options
            .max_parallel
            .map_or(String::new(), |m| format!(" (at most {m} at once)")),
        logs = out.join(slurm::DIR).join("logs").display(),
    ))
}

/// Where the run's tasks log (`--mlflow`, or `$MLFLOW_TRACKING_URI`): its parent run made now,
/// before the tasks start (so that they find it rather than each make one), unless this is a
/// dry run; a server that does not answer is said, and the tasks try again.
fn tracking(
    args: &SweepArgs,
    out: &Path,
    record: &RunRecord,
    dry_run: bool,
) -> Option<PlanTracking> {
    let t = &args.tracking;
    let (uri, experiment) = mlflow::destination(
        t.mlflow.as_deref(),
        t.mlflow_experiment.as_deref(),
        out,
        Some(&|line: &str| note(line)),
    )
    .ok()
    .flatten()?;
    if !dry_run {
        let mut sync = Sync::new(
            Client::new(uri.clone(), Patience::probe()),
            &experiment,
            mlflow::run_key(record, out),
        );
        match sync.parent(record, out) {
            Ok(_) => note(&format!(
                "the tasks log to MLflow at {uri}, experiment '{experiment}'"
            )),
            Err(e) => note(&format!(
                "warning: {e}; the tasks will try again, and `lrsweep track {} --mlflow {uri}` uploads the run at any time",
                out.display()
            )),
        }
    }
    Some(PlanTracking {
        uri: uri.to_string(),
        experiment,
    })
}
