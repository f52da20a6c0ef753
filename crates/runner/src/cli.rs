//! The command line: clap fills the configuration structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use lrsweep_data::DatasetKind;
use lrsweep_model::{AdamVariant, LossKind};

use crate::backend::BackendChoice;
use crate::config::{DataConfig, SweepConfig};

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
    Sweep(SweepArgs),
    /// Download and verify the data set; print where it is and what was checked.
    Fetch(DataArgs),
    /// Time the same training on each backend: warm-up, median epoch, GFLOP/s, memory, accuracy.
    ///
    /// Each backend trains the same model on the same data from the same seed. The first epoch is
    /// reported apart (kernel compilation, autotuning); the figure to quote is the median of the
    /// others. FLOPs are counted from the model shape: a forward pass costs 2·(784·H + H·10) per
    /// image; a training step three times that, less the input gradient it does not need
    /// (2·784·H); an epoch is the training images at the training cost plus the validation images
    /// at the forward cost (162.2 GFLOP for MNIST with H = 784). GFLOP/s = that count / median
    /// epoch. Peak memory is the process's peak resident set while the backend ran (Linux).
    Bench(crate::bench::BenchArgs),
    /// Learning-rate range test (Leslie Smith): one short run with a growing rate, suggestions in a minute.
    Find(crate::find::FindArgs),
    /// Regenerate a run's charts and summary from its files and write a self-contained report.html.
    Report(crate::report::ReportArgs),
    /// Score a model file saved by a sweep on its validation split.
    Eval(crate::models::EvalArgs),
}

/// Where the data comes from.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Data set to use.
    #[arg(long, default_value = "mnist", value_parser = parse_dataset)]
    pub dataset: DatasetKind,

    /// Directory holding the four IDX files (gzipped or not); otherwise the cache, then a download.
    #[arg(long, env = "LRSWEEP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Base URL to download from instead of the public mirrors (may be repeated).
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
}

/// Options of `lrsweep sweep`; the defaults are the reference experiment's.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Learning rates to train, comma-separated; each a finite number above 0.
    #[arg(long, value_delimiter = ',', default_value = "1e-5,1e-4,1e-3,1e-2,1e-1", value_parser = parse_rate, allow_hyphen_values = true)]
    pub rates: Vec<f64>,

    /// After the listed rates, train N more between the best rate (lowest validation loss) and
    /// its better neighbour: r/2, r/4, ... as the reference did; 0 turns it off.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub refine: usize,

    /// Epochs per rate.
    #[arg(long, default_value_t = 150, value_parser = clap::value_parser!(u64).range(1..))]
    pub epochs: u64,

    /// Images per batch (the last batch of an epoch is smaller).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,

    /// Seed of the split, the training order and the initial weights.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Share of the images held out for validation (stratified).
    #[arg(long, default_value_t = 0.15, value_parser = parse_fraction)]
    pub val_fraction: f64,

    /// Use a stratified subset of N images, for quick looks.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Where to train: auto picks wgpu on a real GPU and otherwise the CPU (flex), saying why.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendChoice,

    /// Hidden units of the network.
    #[arg(long, default_value_t = 784, value_parser = clap::value_parser!(u64).range(1..))]
    pub hidden: u64,

    /// Loss: keras (probabilities clipped to [1e-7, 1-1e-7], the reference) or exact (log-softmax).
    #[arg(long, value_enum, default_value = "keras")]
    pub loss: LossArg,

    /// Adam's form: keras (epsilon before bias correction, the reference) or torch.
    #[arg(long, value_enum, default_value = "keras")]
    pub adam: AdamArg,

    /// Reshuffle the training order every epoch (the reference keeps it fixed).
    #[arg(long)]
    pub reshuffle: bool,

    /// Early stopping: stop a rate when validation loss has not improved for N epochs.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub patience: Option<u64>,

    /// Save the best epoch's weights (lowest validation loss) as each rate's model.bpk, not the
    /// last epoch's (Keras' restore_best_weights).
    #[arg(long)]
    pub restore_best: bool,

    /// Skip the learning-rate range test (`lrsweep find`, about a second) that runs first and whose
    /// suggestions the summary sets beside the sweep's answer.
    #[arg(long)]
    pub no_find: bool,

    /// Run directory [default: runs/<YYYYMMDD-HHMMSS>]; must not hold a previous run.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Continue an interrupted sweep in RUN_DIR: finished rates are kept, unfinished ones go on
    /// from their last checkpoint; settings given here must agree with the run's.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,

    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
}

/// `--loss`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LossArg {
    /// Keras 2's clipped cross-entropy.
    Keras,
    /// Exact log-softmax cross-entropy.
    Exact,
}

/// `--adam`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AdamArg {
    /// Keras 2's form.
    Keras,
    /// PyTorch's (and Burn's) form.
    Torch,
}

fn parse_dataset(s: &str) -> Result<DatasetKind, String> {
    s.parse()
        .map_err(|e: lrsweep_data::DataError| e.to_string())
}

/// A learning rate: a finite number above 0, with a message that says how to write one.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty learning rate: give a comma-separated list such as 1e-4,1e-3".into());
    }
    let r: f64 = t
        .parse()
        .map_err(|_| format!("'{t}' is not a number: give learning rates such as 1e-3 or 0.001"))?;
    if !r.is_finite() || r <= 0.0 {
        return Err(format!("learning rate {t} must be a finite number above 0"));
    }
    Ok(r)
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let f: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if f > 0.0 && f < 1.0 {
        Ok(f)
    } else {
        Err(format!("{s} is not strictly between 0 and 1 (e.g. 0.15)"))
    }
}

impl SweepArgs {
    /// The run's configuration.
    pub fn to_config(&self) -> SweepConfig {
        let mut rates = Vec::with_capacity(self.rates.len());
        for &r in &self.rates {
            if !rates.contains(&r) {
                rates.push(r);
            }
        }
        SweepConfig {
            rates,
            refine: self.refine,
            epochs: self.epochs as usize,
            batch_size: self.batch_size as usize,
            seed: self.seed,
            hidden: self.hidden as usize,
            loss: match self.loss {
                LossArg::Keras => LossKind::Keras,
                LossArg::Exact => LossKind::Exact,
            },
            adam: match self.adam {
                AdamArg::Keras => AdamVariant::Keras,
                AdamArg::Torch => AdamVariant::Torch,
            },
            reshuffle: self.reshuffle,
            patience: self.patience.map(|p| p as usize),
            restore_best: self.restore_best,
            no_find: self.no_find,
            backend: self.backend,
            data: self.data.to_config(self.val_fraction, self.limit),
        }
    }
}

impl DataArgs {
    /// The data part of a configuration.
    pub fn to_config(&self, val_fraction: f64, limit: Option<usize>) -> DataConfig {
        DataConfig {
            dataset: self.dataset,
            data_dir: self.data_dir.clone(),
            mirrors: self.mirror.clone(),
            val_fraction,
            limit,
        }
    }
}
