//! The command line: every clap definition lives here; the commands receive the parsed structs.
//! Defaults come from the configuration structs in [`crate::config`] and the model crate.

mod args;
mod parse;
mod sweep;

use std::path::PathBuf;

use clap::{ArgMatches, Args, Parser, Subcommand};
use lrsweep_data::{DatasetKind, Scale, UserData};

pub use args::{BenchArgs, DevicesArgs, EvalArgs, FindArgs, ReportArgs, StatusArgs, WorkArgs};

pub use parse::{MAX_RATE, MIN_RATE};
pub use sweep::SweepArgs;

use crate::config::DataConfig;

/// The examples at the end of `lrsweep sweep --help`.
const SWEEP_EXAMPLES: &str = "Examples:
  lrsweep sweep --limit 3000 --epochs 3 --refine 0     a quick look (under a minute on a laptop CPU)
  lrsweep sweep                                        the full reference experiment (MNIST, 150 epochs)
  lrsweep sweep --rates 3e-4,1e-3,3e-3 --patience 10   your own rates, early stopping
  lrsweep sweep --data iris.csv --epochs 60            your own data (CSV, NumPy, IDX, image folder)
  lrsweep sweep --resume runs/20261202-101500          continue an interrupted run
  lrsweep report runs/20261202-101500                  charts and report.html again";

/// Which learning rate? Train the same network once per rate and let the curves answer.
#[derive(Debug, Parser)]
#[command(name = "lrsweep", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train the reference MLP once per learning rate; write metrics, charts and a summary.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(SweepArgs),
    /// Download and verify a catalogue data set; print where it is and what was checked.
    Fetch(CatalogueArgs),
    /// Time the same training on each backend: warm-up, median epoch, GFLOP/s, memory, accuracy.
    ///
    /// Each backend trains the same model on the same data from the same seed. The first epoch is
    /// reported apart (kernel compilation, autotuning); the figure to quote is the median of the
    /// others. FLOPs are counted from the model shape: a forward pass costs 2·(784·H + H·10) per
    /// image; a training step three times that, less the input gradient it does not need
    /// (2·784·H); an epoch is the training images at the training cost plus the validation images
    /// at the forward cost (162.2 GFLOP for MNIST with H = 784). GFLOP/s = that count / median
    /// epoch (dense FLOPs, also for the cpu backend's sparse path, which skips zeros). Peak
    /// memory is the process's peak resident set while the backend ran (Linux). Each row says
    /// what computed the steps: the cpu backend's path (sparse or dense) with the fraction of
    /// non-zero training pixels it saw, or `tensor` for Burn's backends.
    Bench(BenchArgs),
    /// Learning-rate range test (Leslie Smith): one short run with a growing rate, suggestions in seconds.
    Find(FindArgs),
    /// Regenerate a run's charts and summary from its files and write a self-contained report.html.
    Report(ReportArgs),
    /// Score a model file saved by a sweep on its validation split.
    Eval(EvalArgs),
    /// List the devices lrsweep can train on: wgpu adapters (index, name, type, API) and the CPU
    /// backends, and which one `--backend auto` picks.
    Devices(DevicesArgs),
    /// Where each rate of a run stands: waiting, running (host, device, epoch n of N), done or
    /// failed with the reason; the recommendation once there is one. For runs here and on Slurm.
    Status(StatusArgs),
    /// Train one rate of a prepared run by index, or plan its refinement, or write its summary:
    /// the steps the Slurm scripts of `sweep --slurm` run, usable from any scheduler that hands
    /// out an index (e.g. a Kubernetes Indexed Job's $JOB_COMPLETION_INDEX).
    ///
    /// A rate is trained by one process at a time (its claim.lock, which the kernel releases if
    /// the process dies); a finished rate (done.json) is never trained again; an unfinished one
    /// continues from its checkpoint. Running a task twice trains its rate once.
    Work(WorkArgs),
}

/// Which catalogue data set, and where its files are.
#[derive(Debug, Args, Clone)]
pub struct CatalogueArgs {
    /// Catalogue data set to use: mnist or fashion-mnist.
    #[arg(long, value_name = "mnist|fashion-mnist", default_value_t = DataConfig::default().dataset, value_parser = parse::dataset)]
    pub dataset: DatasetKind,

    /// Directory holding the four IDX files (gzipped or not); otherwise the cache, then a download.
    #[arg(long, env = "LRSWEEP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Base URL to download from instead of the public mirrors (may be repeated).
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
}

impl CatalogueArgs {
    /// The data part of a configuration for the catalogue set: the default split.
    pub fn to_config(&self) -> DataConfig {
        DataConfig {
            dataset: self.dataset,
            data_dir: self.data_dir.clone(),
            mirrors: self.mirror.clone(),
            ..DataConfig::default()
        }
    }
}

/// Where the data comes from: a catalogue set, or the user's own (`--data`).
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// The catalogue set.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,

    /// Your own classification data instead of a catalogue set: a CSV file with a header row
    /// (.csv or .csv.gz), a NumPy .npz (arrays x and y) or .npy (with --labels), an IDX images
    /// file or a directory of IDX files (any image size), or a folder with one subfolder of PNG or
    /// JPEG images per class. The network's input width and class count come from the data.
    #[arg(
        long = "data",
        id = "user",
        value_name = "PATH",
        conflicts_with = "dataset"
    )]
    pub data: Option<PathBuf>,

    /// The labels of a .npy (or IDX images) file given to --data.
    #[arg(long, value_name = "PATH", requires = "user")]
    pub labels: Option<PathBuf>,

    /// The CSV's label column, by name or by number from 1 [default: a column named label,
    /// target, class or y, else the last].
    #[arg(long, value_name = "NAME|INDEX", requires = "user")]
    pub label: Option<String>,

    /// Resize an image folder's images to WxH (otherwise they must all be one size).
    #[arg(long, value_name = "WxH", value_parser = parse::image_size, requires = "user")]
    pub image_size: Option<(u32, u32)>,

    /// A validation file of the same kind as --data, instead of splitting off --val-fraction.
    #[arg(long, value_name = "PATH", requires = "user")]
    pub val: Option<PathBuf>,

    /// How features are scaled: standard (minus the training part's mean, over its standard
    /// deviation), unit (÷255) or none [default: unit for images and IDX, standard for CSV and
    /// NumPy]; recorded, and applied by eval.
    #[arg(long, value_name = "standard|unit|none")]
    pub scale: Option<Scale>,
}

impl DataArgs {
    /// The data part of a configuration: the default split, optionally a stratified subset;
    /// the user's paths made absolute (the run records them; Slurm tasks read them elsewhere).
    pub fn to_config(&self, limit: Option<usize>) -> anyhow::Result<DataConfig> {
        let absolute = |p: &PathBuf, flag: &str| -> anyhow::Result<PathBuf> {
            std::path::absolute(p)
                .map_err(|e| crate::exit::usage(anyhow::anyhow!("{flag} {}: {e}", p.display())))
        };
        let user = match &self.data {
            Some(path) => Some(UserData {
                path: absolute(path, "--data")?,
                labels: self
                    .labels
                    .as_ref()
                    .map(|l| absolute(l, "--labels"))
                    .transpose()?,
                label: self.label.clone(),
                image_size: self.image_size,
            }),
            None => None,
        };
        Ok(DataConfig {
            limit,
            user,
            val: self
                .val
                .as_ref()
                .map(|v| absolute(v, "--val"))
                .transpose()?,
            scale: self.scale,
            ..self.catalogue.to_config()
        })
    }
}

/// The ids of the options of `subcommand` given on the command line (not defaulted), so that a
/// resume can refuse only what the user asked for.
pub fn explicit_ids(matches: &ArgMatches, subcommand: &str) -> Vec<String> {
    matches
        .subcommand_matches(subcommand)
        .map(|m| {
            m.ids()
                .filter(|id| {
                    m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
                })
                .map(|id| id.to_string())
                .collect()
        })
        .unwrap_or_default()
}
