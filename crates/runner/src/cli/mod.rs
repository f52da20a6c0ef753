//! The command line: every clap definition lives here; the commands receive the parsed structs.
//! Defaults come from the configuration structs in [`crate::config`] and the model crate.

mod args;
mod data;
mod parse;
mod sweep;

use clap::{ArgMatches, Parser, Subcommand};

pub use args::{
    BenchArgs, DevicesArgs, EvalArgs, ExportArgs, ExportFormat, FindArgs, PredictArgs, ReportArgs,
    StatusArgs, TrackArgs, TrackingArgs, WorkArgs,
};
pub use data::CatalogueArgs;
pub use sweep::SweepArgs;

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
    /// Upload a run to an MLflow tracking server, or bring it up to date there: a finished,
    /// interrupted or running sweep, without duplicating what a live sweep already logged.
    Track(TrackArgs),
    /// Score a model file saved by a sweep: on its validation split, or on any labelled file
    /// of the kind it was trained on (`--data`), with standard errors.
    Eval(EvalArgs),
    /// Predict with a model file saved by a sweep: each item's class and every class's
    /// probability, as a CSV.
    Predict(PredictArgs),
    /// Write a model file's weights in a format other tools load: safetensors, for PyTorch's
    /// `nn.Sequential` of the same layers (the command prints the lines that load it).
    Export(ExportArgs),
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
