//! `lrsweep sweep`: one fresh model per learning rate, then the refinement, charts and summary.

pub(crate) mod interrupt;
mod rate;
mod resume;
mod slurm;

pub(crate) use rate::HeldElsewhere;

use std::path::{Path, PathBuf};

use anyhow::Result;
use lrsweep_data::Split;
use lrsweep_model::EpochRecord;

use crate::analysis::range::FindResult;
use crate::analysis::refine::{self, Refinement};
use crate::backend::{self, Selected};
use crate::cli::SweepArgs;
use crate::commands::{check_fits, find, load_data, results};
use crate::config::{rate_label, SweepConfig};
use crate::exit::{note, say, usage, with_hint};
use crate::render::progress::Progress;
use crate::render::text;
use crate::store::claim::Claim;
use crate::store::lock::Lock;
use crate::store::run::{DataRecord, RunRecord, BURN_VERSION};
use crate::store::{self, range as find_files, OutDir};

/// Runs the sweep the arguments describe; `explicit` names the options given on the command line
/// (a resume refuses those that conflict with the saved run).
pub fn run(args: &SweepArgs, explicit: &[String]) -> Result<()> {
    if args.slurm.slurm {
        return slurm::submit(args, explicit);
    }
    let (config, target, started) = destination(args, explicit)?;
    check_fits(&config)?;
    let (images, split) = load_data(&config)?;
    let devices = backend::select_devices(config.backend, config.devices.as_ref(), config.cpu_path)
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
    let record = RunRecord {
        lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
        burn_version: BURN_VERSION.to_string(),
        config,
        rates_trained: Vec::new(),
        backend: selected.backend.to_string(),
        adapter,
        backend_fallback_reason: selected.fallback_reason.clone(),
        data: DataRecord::new(&images, &split),
        started,
    };
    drop(images);
    let out = match target {
        Target::Fresh(dir) => dir.create()?,
        Target::Resume(dir) => dir,
    };
    let _lock = Lock::acquire(&out).map_err(usage)?;
    interrupt::install_handlers();
    let config = record.config.clone();
    let mut sweep = Sweep::new(
        &config,
        &out,
        &split,
        &devices,
        record,
        args.resume.is_some(),
    );
    sweep.execute().map_err(|e| {
        with_hint(
            e,
            format!(
                "What was written before stays valid; once the cause is fixed, continue with: lrsweep sweep --resume {}",
                out.display()
            ),
        )
    })
}

/// Where a sweep writes.
enum Target {
    /// A new run directory, created once the data is loaded.
    Fresh(OutDir),
    /// The directory of the run `--resume` continues.
    Resume(PathBuf),
}

/// The configuration, the run directory and the start time: a fresh run's, or those of the run
/// `--resume` continues.
fn destination(args: &SweepArgs, explicit: &[String]) -> Result<(SweepConfig, Target, String)> {
    let now = chrono::Local::now().to_rfc3339();
    match &args.resume {
        Some(dir) => {
            let (saved, out) = resume::resolve(args, dir, explicit)?;
            let started = if saved.started.is_empty() {
                now
            } else {
                saved.started
            };
            Ok((saved.config, Target::Resume(out), started))
        }
        None => Ok((
            args.to_config(),
            Target::Fresh(store::fresh_out(args.out.clone(), None)?),
            now,
        )),
    }
}

/// A sweep in progress (a whole one, or the one rate an `lrsweep work` task trains): what it
/// runs on and the rates trained so far.
pub(crate) struct Sweep<'a> {
    config: &'a SweepConfig,
    out: &'a Path,
    split: &'a Split,
    /// The devices a round is spread over (one, but with `--devices`); the first runs the
    /// range test.
    devices: &'a [Selected],
    /// `config.json`, rewritten as rates are added.
    record: RunRecord,
    runs: Vec<(f64, Vec<EpochRecord>)>,
    progress: Progress,
    resuming: bool,
    find: Option<FindResult>,
    /// The rates this process has claimed (`claim.lock`), released when the sweep ends.
    claims: Vec<(f64, Claim)>,
    /// One `lrsweep work` task's sweep: `config.json` is read, never written.
    task: bool,
}

impl<'a> Sweep<'a> {
    /// A sweep of `record`'s run in `out`; `resuming` keeps what the directory holds.
    pub(crate) fn new(
        config: &'a SweepConfig,
        out: &'a Path,
        split: &'a Split,
        devices: &'a [Selected],
        record: RunRecord,
        resuming: bool,
    ) -> Self {
        Self {
            progress: Progress::new(config.rates.len() + config.refine),
            config,
            out,
            split,
            devices,
            record,
            runs: Vec::new(),
            resuming,
            find: None,
            claims: Vec::new(),
            task: false,
        }
    }

    /// Makes this the sweep of one `lrsweep work` task: it holds `claim` on `rate`, taken
    /// before, and never writes `config.json` (the refine step does, while no task runs).
    pub(crate) fn task(mut self, rate: f64, claim: Claim) -> Self {
        self.claims.push((rate, claim));
        self.task = true;
        self
    }

    /// The claims this sweep holds (each released when dropped).
    pub(crate) fn into_claims(self) -> Vec<Claim> {
        self.claims.into_iter().map(|(_, c)| c).collect()
    }

    /// The range test, the listed rates, the refinement, then the results.
    fn execute(&mut self) -> Result<()> {
        if !self.config.no_find {
            self.find = Some(self.range_test()?);
        }
        let listed = self.config.rates.clone();
        self.train_round(&listed)?;
        self.refine()?;
        self.progress.finish();
        self.finish()
    }

    /// The range test before the sweep (or its saved result when resuming).
    fn range_test(&self) -> Result<FindResult> {
        if self.resuming && find_files::exists(self.out) {
            if let Ok(saved) = find_files::read(self.out) {
                return Ok(saved);
            }
        }
        let result = find::for_sweep(self.out, self.config, self.split, &self.devices[0])?;
        self.progress.println(&text::describe_range(&result));
        Ok(result)
    }

    /// Adds `refine` rates between the best listed rate and its better neighbour.
    fn refine(&mut self) -> Result<()> {
        match refine::plan(&results::summarize_runs(&self.runs), self.config.refine) {
            Refinement::None(_) if self.config.refine == 0 => Ok(()),
            Refinement::None(why) => {
                self.progress.println(why);
                Ok(())
            }
            Refinement::Between {
                best,
                neighbour,
                rates,
            } => {
                let labels: Vec<String> = rates.iter().map(|r| rate_label(*r)).collect();
                self.progress.println(&format!(
                    "refining between {best} (best) and {neighbour}: {}",
                    labels.join(", ")
                ));
                let new: Vec<f64> = rates
                    .into_iter()
                    .filter(|rate| !self.runs.iter().any(|(r, _)| r == rate))
                    .collect();
                self.train_round(&new)
            }
        }
    }

    fn finish(&self) -> Result<()> {
        let header = text::run_header(self.config, &self.record.backend, &self.record.adapter);
        let summary = results::write(
            self.out,
            &header,
            self.config,
            &self.runs,
            self.find.as_ref(),
            &[],
        )?;
        say(&text::summary_markdown(&summary))?;
        say(&format!("Run written to {}", self.out.display()))?;
        Ok(())
    }
}

/// The error a sweep stopped by a signal ends with.
fn interrupted(out: &Path) -> anyhow::Error {
    anyhow::Error::new(crate::exit::Interrupted {
        continue_with: format!("lrsweep sweep --resume {}", out.display()),
    })
}
