//! `lrsweep sweep`: one fresh model per learning rate, then the refinement, charts and summary.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{anyhow, Context, Result};
use lrsweep_data::{Images, Split, VerifiedFile, CLASSES};
use lrsweep_model::{fit_from, EpochRecord, Flow};
use serde::{Deserialize, Serialize};

use crate::backend::{self, Selected};
use crate::cli::SweepArgs;
use crate::config::{rate_label, refined_rates, SweepConfig};
use crate::find::{self, FindConfig, FindResult};
use crate::models::{self, ModelMeta};
use crate::progress::Progress;
use crate::rundir::{self, MetricsWriter};
use crate::summary::{self, RateSummary};
use crate::usage;
use crate::{chart, checkpoint};

/// The Burn version lrsweep is built against (pinned in the workspace manifest).
pub const BURN_VERSION: &str = "0.22.1";

/// The data as recorded in `config.json`.
#[derive(Debug, Serialize)]
pub struct DataRecord {
    /// Files read, with origin and SHA-256.
    pub files: Vec<VerifiedFile>,
    /// Images loaded (before any `--limit`).
    pub images: usize,
    /// Training images.
    pub train_size: usize,
    /// Validation images.
    pub valid_size: usize,
    /// Training images per class.
    pub train_class_counts: [usize; CLASSES],
    /// Validation images per class.
    pub valid_class_counts: [usize; CLASSES],
}

/// `config.json`: everything that was run.
#[derive(Debug, Serialize)]
pub struct RunRecord<'a> {
    /// lrsweep's version.
    pub lrsweep_version: &'static str,
    /// Burn's version.
    pub burn_version: &'static str,
    /// The sweep's settings.
    pub config: &'a SweepConfig,
    /// Rates trained or being trained, listed then refined.
    pub rates_trained: Vec<f64>,
    /// The backend used.
    pub backend: &'static str,
    /// The adapter or processor.
    pub adapter: &'a str,
    /// Why `auto` fell back to the CPU.
    pub backend_fallback_reason: Option<&'a str>,
    /// The data.
    pub data: &'a DataRecord,
    /// When the run started (local time, RFC 3339).
    pub started: String,
}

/// Loads and splits the data, mapping every problem to a usage error that says how to fix it,
/// and refuses a batch larger than the training part.
pub fn load_data(config: &SweepConfig) -> Result<(Images, Split)> {
    let images = lrsweep_data::load(&config.data.locator())
        .map_err(|e| usage(anyhow!(e).context(format!("loading {}", config.data.dataset))))?;
    let split = images
        .split(&config.data.split(config.seed))
        .map_err(|e| usage(anyhow!(e)))?;
    if config.batch_size > split.train.len() {
        return Err(usage(anyhow!(
            "--batch-size {} is larger than the {} training images; choose a smaller batch or a larger --limit",
            config.batch_size,
            split.train.len()
        )));
    }
    Ok((images, split))
}

/// Writes what is derived from the records: overview.png, summary.json and summary.md.
pub fn write_results(
    out: &Path,
    header: &str,
    runs: &[(f64, Vec<EpochRecord>)],
    find: Option<&FindResult>,
) -> Result<summary::Summary> {
    let labelled: Vec<(String, Vec<EpochRecord>)> = runs
        .iter()
        .map(|(r, rec)| (rate_label(*r), rec.clone()))
        .collect();
    chart::overview(out, &labelled)?;
    let summary = summary::summarize(summarize_runs(runs), find.and_then(|f| f.suggestions));
    rundir::write_json(&out.join("summary.json"), &summary)?;
    let md = format!(
        "# Learning-rate sweep\n\n{header}\n\n{}",
        summary.to_markdown()
    );
    rundir::write_atomic(&out.join("summary.md"), md.as_bytes())?;
    Ok(summary)
}

/// The analysis of each rate's records, in training order.
fn summarize_runs(runs: &[(f64, Vec<EpochRecord>)]) -> Vec<RateSummary> {
    runs.iter()
        .map(|(rate, records)| summary::summarize_rate(*rate, records))
        .collect()
}

/// What `report` and `--resume` read back from a run's `config.json`.
#[derive(Debug, Deserialize)]
pub struct SavedRun {
    /// The settings.
    pub config: SweepConfig,
    /// Rates trained or being trained.
    #[serde(default)]
    pub rates_trained: Vec<f64>,
    /// Backend used.
    #[serde(default)]
    pub backend: String,
    /// Adapter used.
    #[serde(default)]
    pub adapter: String,
    /// When the run first started.
    #[serde(default)]
    pub started: String,
}

impl SavedRun {
    /// The line under the summary's title.
    pub fn header(&self) -> String {
        header(&self.config, &self.backend, &self.adapter)
    }
}

/// The line under the summary's title: what ran where.
fn header(config: &SweepConfig, backend: &str, adapter: &str) -> String {
    format!(
        "{} epochs per rate, batch {}, seed {}, {backend} on {adapter}.",
        config.epochs, config.batch_size, config.seed
    )
}

/// Reads a run's `config.json`; a missing or foreign file is a usage error naming it.
pub fn read_saved(dir: &Path) -> Result<SavedRun> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        usage(anyhow!(
            "{}: {e}; give the directory of a previous `lrsweep sweep`",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        usage(anyhow!(
            "{}: not a lrsweep run configuration ({e})",
            path.display()
        ))
    })
}

/// Set by SIGINT or SIGTERM: give up the epoch in progress after its current batch; the last
/// finished epoch's metrics and checkpoint are already on disk.
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn interrupted() -> &'static Arc<AtomicBool> {
    INTERRUPTED.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The error a sweep stopped by a signal ends with (exit code 130).
#[derive(Debug)]
pub struct Interrupted(pub PathBuf);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted; every finished epoch and its checkpoint are saved. Continue with: lrsweep sweep --resume {}",
            self.0.display()
        )
    }
}

impl std::error::Error for Interrupted {}

fn install_signal_handlers() {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, interrupted().clone());
    }
}

/// Options that define a run, as (clap id, flag, JSON pointer into [`SweepConfig`]).
const RUN_SETTINGS: [(&str, &str, &str); 15] = [
    ("rates", "--rates", "/rates"),
    ("refine", "--refine", "/refine"),
    ("epochs", "--epochs", "/epochs"),
    ("batch_size", "--batch-size", "/batch_size"),
    ("seed", "--seed", "/seed"),
    ("hidden", "--hidden", "/hidden"),
    ("loss", "--loss", "/loss"),
    ("adam", "--adam", "/adam"),
    ("reshuffle", "--reshuffle", "/reshuffle"),
    ("patience", "--patience", "/patience"),
    ("restore_best", "--restore-best", "/restore_best"),
    ("backend", "--backend", "/backend"),
    ("dataset", "--dataset", "/data/dataset"),
    ("val_fraction", "--val-fraction", "/data/val_fraction"),
    ("limit", "--limit", "/data/limit"),
];

/// The settings given explicitly (`explicit` holds clap ids) that differ from the saved run's.
fn conflicts(saved: &SweepConfig, asked: &SweepConfig, explicit: &[String]) -> Vec<String> {
    let (saved, asked) = (serde_json::to_value(saved), serde_json::to_value(asked));
    let (Ok(saved), Ok(asked)) = (saved, asked) else {
        return vec!["the settings could not be compared".to_string()];
    };
    RUN_SETTINGS
        .iter()
        .filter(|(id, _, _)| explicit.iter().any(|e| e == id))
        .filter_map(|(_, flag, ptr)| {
            let (old, new) = (saved.pointer(ptr)?, asked.pointer(ptr)?);
            (old != new).then(|| format!("{flag} {new} (the run has {old})"))
        })
        .collect()
}

/// Runs the sweep the arguments describe; `explicit` names the options given on the command line
/// (a resume refuses those that conflict with the saved run).
pub fn run(args: &SweepArgs, explicit: &[String]) -> Result<()> {
    let asked = args.to_config();
    let mut started = chrono::Local::now().to_rfc3339();
    let (config, out) = match &args.resume {
        Some(dir) => {
            if args.out.is_some() {
                return Err(usage(anyhow!(
                    "--resume continues the run in its own directory; drop --out"
                )));
            }
            let saved = read_saved(dir)?;
            let clashes = conflicts(&saved.config, &asked, explicit);
            if !clashes.is_empty() {
                return Err(usage(anyhow!(
                    "--resume {}: the run was made with other settings: {}; resume without them, or start a new run with --out",
                    dir.display(),
                    clashes.join("; ")
                )));
            }
            if !saved.started.is_empty() {
                started = saved.started;
            }
            let mut config = saved.config;
            // Where the data lives is not a setting of the run: its checksums are verified anyway.
            config.data.data_dir = asked.data.data_dir.clone().or(config.data.data_dir);
            if !asked.data.mirrors.is_empty() {
                config.data.mirrors = asked.data.mirrors.clone();
            }
            (config, dir.clone())
        }
        None => (asked, rundir::fresh_out(args.out.clone(), None)?),
    };
    let resuming = args.resume.is_some();
    let (images, split) = load_data(&config)?;
    let selected = backend::select(config.backend).map_err(usage)?;
    match &selected.fallback_reason {
        Some(reason) => eprintln!(
            "{reason}; training on {} ({})",
            selected.backend, selected.adapter
        ),
        None => eprintln!("training on {} ({})", selected.backend, selected.adapter),
    }
    let data = DataRecord {
        files: images.files.clone(),
        images: images.len(),
        train_size: split.train.len(),
        valid_size: split.valid.len(),
        train_class_counts: split.train.class_counts(),
        valid_class_counts: split.valid.class_counts(),
    };
    drop(images);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let _lock = rundir::Lock::acquire(&out).map_err(usage)?;
    install_signal_handlers();
    let mut sweep = Sweep {
        config: &config,
        out: &out,
        split: &split,
        selected: &selected,
        data: &data,
        started,
        runs: Vec::new(),
        progress: Progress::new(config.rates.len() + config.refine),
        resuming,
        find: None,
    };
    if !config.no_find {
        sweep.find = Some(sweep.range_test()?);
    }
    for &rate in &config.rates {
        sweep.train_rate(rate)?;
    }
    sweep.refine()?;
    sweep.progress.finish();
    sweep.finish()
}

struct Sweep<'a> {
    config: &'a SweepConfig,
    out: &'a Path,
    split: &'a Split,
    selected: &'a Selected,
    data: &'a DataRecord,
    started: String,
    runs: Vec<(f64, Vec<EpochRecord>)>,
    progress: Progress,
    resuming: bool,
    find: Option<FindResult>,
}

impl Sweep<'_> {
    fn write_config(&self, rates: &[f64]) -> Result<()> {
        rundir::write_json(
            &self.out.join("config.json"),
            &RunRecord {
                lrsweep_version: env!("CARGO_PKG_VERSION"),
                burn_version: BURN_VERSION,
                config: self.config,
                rates_trained: rates.to_vec(),
                backend: self.selected.backend,
                adapter: &self.selected.adapter,
                backend_fallback_reason: self.selected.fallback_reason.as_deref(),
                data: self.data,
                started: self.started.clone(),
            },
        )
    }

    /// The range test before the sweep (or its saved result when resuming).
    fn range_test(&self) -> Result<FindResult> {
        let path = self.out.join("find.json");
        if self.resuming && path.exists() {
            if let Ok(saved) = find::read(self.out) {
                return Ok(saved);
            }
        }
        let result = find::range_test(
            &FindConfig::default(),
            &self.config.model(),
            self.config
                .train(FindConfig::default().start, self.selected.update),
            self.split,
            self.selected,
        )?;
        find::write(self.out, &result)?;
        self.progress.println(&find::describe(&result));
        Ok(result)
    }

    /// Whether a rate with these records is done: all epochs, diverged, or stopped early.
    fn finished(&self, records: &[EpochRecord]) -> bool {
        records.len() >= self.config.epochs
            || records.last().is_some_and(|r| r.diverged())
            || self
                .config
                .patience
                .is_some_and(|p| summary::patience_stop(records, p).is_some())
    }

    /// On a resume: the records of a rate that finished, or the checkpoint to continue from.
    fn previous(
        &self,
        rate: f64,
        dir: &Path,
    ) -> (Option<Vec<EpochRecord>>, Option<checkpoint::Checkpoint>) {
        let label = rate_label(rate);
        if !self.resuming || !dir.exists() {
            return (None, None);
        }
        if let Ok(records) = rundir::read_metrics(&dir.join("metrics.csv")) {
            if self.finished(&records) {
                return (Some(records), None);
            }
        }
        let path = dir.join(checkpoint::FILE);
        if !path.exists() {
            self.progress.println(&format!(
                "learning rate {label}: no checkpoint; training it from the start"
            ));
            return (None, None);
        }
        match checkpoint::load(&path, rate) {
            Ok(c) => {
                self.progress.println(&format!(
                    "learning rate {label}: continuing after epoch {} from its checkpoint",
                    c.records.len()
                ));
                (None, Some(c))
            }
            Err(e) => {
                self.progress.println(&format!(
                    "learning rate {label}: {e:#}; training it again from the start"
                ));
                (None, None)
            }
        }
    }

    fn train_rate(&mut self, rate: f64) -> Result<()> {
        let label = rate_label(rate);
        let mut rates: Vec<f64> = self.runs.iter().map(|(r, _)| *r).collect();
        rates.push(rate);
        self.write_config(&rates)?;
        let dir: PathBuf = self.out.join(format!("lr-{label}"));
        let (finished, resume) = self.previous(rate, &dir);
        if let Some(records) = finished {
            self.progress.println(&format!(
                "learning rate {label}: finished before, kept as it is"
            ));
            chart::rate_chart(self.out, &format!("lr-{label}"), &label, &records)?;
            self.runs.push((rate, records));
            return Ok(());
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut metrics = MetricsWriter::create(&dir.join("metrics.csv"))?;
        let mut records: Vec<EpochRecord> =
            resume.as_ref().map_or_else(Vec::new, |c| c.records.clone());
        for r in &records {
            metrics.append(r)?;
        }
        let total = self.config.rates.len() + self.config.refine;
        self.progress.start_rate(
            &label,
            self.runs.len(),
            total.max(rates.len()),
            self.config.epochs,
        );
        let mut write_error = None;
        let progress = &self.progress;
        let epochs = self.config.epochs;
        let ckpt_path = dir.join(checkpoint::FILE);
        let (config, patience, restore_best) =
            (self.config, self.config.patience, self.config.restore_best);
        let mut best_loss = records
            .iter()
            .map(|r| r.val_loss)
            .filter(|l| l.is_finite())
            .fold(f64::INFINITY, f64::min);
        let trained = fit_from(
            &self.config.model(),
            &self.config.train(rate, self.selected.update),
            resume.as_ref().map(|c| (&c.state, c.records.clone())),
            Some(interrupted()),
            &self.split.train,
            &self.split.valid,
            &self.selected.device,
            |record, trainer| {
                progress.epoch(&label, epochs, record);
                records.push(*record);
                let improved = record.val_loss < best_loss;
                if improved {
                    best_loss = record.val_loss;
                }
                let stop_early = patience.is_some_and(|p| summary::patience_stop(&records, p).is_some());
                let last = record.epoch >= epochs || stop_early || record.diverged();
                let meta = ModelMeta::new(config, rate, record);
                // Model files before the checkpoint: a crash between the two retrains the epoch
                // (identically) and writes them again, never leaving them behind the checkpoint.
                let saved = if improved {
                    models::save(&dir, "best", trainer, &meta)
                } else {
                    Ok(())
                }
                .and_then(|()| match (last, restore_best) {
                    (false, _) => Ok(()),
                    (true, true) => models::copy(&dir, "best", "model"),
                    (true, false) => models::save(&dir, "model", trainer, &meta),
                })
                .and_then(|()| trainer.state().map_err(anyhow::Error::from))
                .and_then(|state| checkpoint::save(&ckpt_path, rate, &records, &state))
                .and_then(|()| metrics.append(record));
                match saved {
                    Ok(()) if stop_early => {
                        progress.println(&format!(
                            "learning rate {label}: validation loss has not improved for {} epochs; stopping at epoch {}",
                            patience.unwrap_or_default(),
                            record.epoch
                        ));
                        Flow::Stop
                    }
                    Ok(()) => Flow::Continue,
                    Err(e) => {
                        write_error = Some(e);
                        Flow::Stop
                    }
                }
            },
        )
        .with_context(|| format!("training learning rate {label}"))?;
        if let Some(e) = write_error {
            return Err(e.context(format!(
                "saving learning rate {label}; what was written before stays valid"
            )));
        }
        let done = self.finished(&trained);
        if interrupted().load(Ordering::Relaxed) && !done {
            self.progress.finish();
            return Err(anyhow::Error::new(Interrupted(self.out.to_path_buf())));
        }
        if let Some(bad) = trained.iter().find(|r| r.diverged()) {
            self.progress.println(&format!(
                "learning rate {label} diverged at epoch {} (loss NaN or infinite); going on with the other rates",
                bad.epoch
            ));
        }
        chart::rate_chart(self.out, &format!("lr-{label}"), &label, &trained)?;
        self.runs.push((rate, trained));
        Ok(())
    }

    /// Adds `refine` rates between the best listed rate and its better neighbour.
    fn refine(&mut self) -> Result<()> {
        if self.config.refine == 0 {
            return Ok(());
        }
        let listed = summarize_runs(&self.runs);
        let Some(best) = summary::best(&listed) else {
            self.progress
                .println("no refinement: every listed rate diverged");
            return Ok(());
        };
        let mut sorted: Vec<&RateSummary> = listed.iter().collect();
        sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        let pos = sorted.iter().position(|r| r.rate == best.rate).unwrap_or(0);
        let neighbours = [
            pos.checked_sub(1).map(|i| sorted[i]),
            sorted.get(pos + 1).copied(),
        ];
        // The better neighbour: the lower minimum validation loss; a diverged one loses.
        let score = |r: &RateSummary| {
            if r.diverged || !r.min_val_loss.is_finite() {
                f64::INFINITY
            } else {
                r.min_val_loss
            }
        };
        let Some(neighbour) = neighbours
            .into_iter()
            .flatten()
            .min_by(|a, b| score(a).total_cmp(&score(b)))
        else {
            self.progress
                .println("no refinement: it needs at least two listed rates");
            return Ok(());
        };
        let added = refined_rates(best.rate, neighbour.rate, self.config.refine);
        self.progress.println(&format!(
            "refining between {} (best) and {}: {}",
            best.label,
            neighbour.label,
            added
                .iter()
                .map(|r| rate_label(*r))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for rate in added {
            if !self.runs.iter().any(|(r, _)| *r == rate) {
                self.train_rate(rate)?;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Result<()> {
        let header = header(self.config, self.selected.backend, &self.selected.adapter);
        let summary = write_results(self.out, &header, &self.runs, self.find.as_ref())?;
        crate::say(&summary.to_markdown())?;
        crate::say(&format!("Run written to {}", self.out.display()))?;
        Ok(())
    }
}
