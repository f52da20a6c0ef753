//! The options of `find`, `bench`, `eval` and `report`.

use std::path::PathBuf;
use std::sync::LazyLock;

use clap::Args;
use lrsweep_model::RangeConfig;

use super::data::DataArgs;
use super::parse::{parse_rate, rate_list};
use crate::backend::BackendChoice;
use crate::config::{BenchConfig, SweepConfig};

fn sweep() -> SweepConfig {
    SweepConfig::default()
}

fn range() -> RangeConfig {
    RangeConfig::default()
}

fn bench() -> BenchConfig {
    BenchConfig::default()
}

static BENCH_RATES: LazyLock<String> = LazyLock::new(|| rate_list(&bench().rates));

/// Options of `lrsweep find`.
#[derive(Debug, Args)]
pub struct FindArgs {
    /// Most batches to train while the rate grows.
    #[arg(long, default_value_t = range().steps as u64, value_parser = clap::value_parser!(u64).range(5..))]
    pub steps: u64,
    /// First learning rate.
    #[arg(long, default_value_t = range().start, value_parser = parse_rate)]
    pub start: f64,
    /// Last learning rate.
    #[arg(long, default_value_t = range().end, value_parser = parse_rate)]
    pub end: f64,
    /// Images per batch.
    #[arg(long, default_value_t = sweep().batch_size as u64, value_parser = super::parse::at_least_one)]
    pub batch_size: u64,
    /// Seed of the split, the order and the weights.
    #[arg(long, default_value_t = sweep().seed)]
    pub seed: u64,
    /// Use a stratified subset of N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Where to train.
    #[arg(long, value_name = "auto|cpu|wgpu|flex|ndarray", default_value = sweep().backend.name(), value_parser = super::parse::backend)]
    pub backend: BackendChoice,
    /// Directory for find.csv, find.png and find.json [default: runs/find-<YYYYMMDD-HHMMSS>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,

    /// The optimizer it trains with, as `sweep --optimizer` takes one.
    #[arg(long, value_name = "SPEC", default_value = "adam", value_parser = super::parse::optimizer)]
    pub optimizer: lrsweep_model::Optimizer,

    /// Whose definition the optimizer follows, as `sweep --convention` (`--adam`) takes it.
    #[arg(long, visible_alias = "adam", value_enum, default_value_t = sweep().convention.into())]
    pub convention: super::sweep::ConventionArg,

    /// The coupled weight decay, as `sweep --weight-decay` takes it.
    #[arg(long, value_name = "W", default_value_t = 0.0, value_parser = super::parse::weight_decay)]
    pub weight_decay: f64,

    /// Share of the items held out for validation (stratified), as `sweep --val-fraction`; not
    /// with --val.
    #[arg(long, visible_alias = "validation-split", default_value_t = sweep().data.val_fraction, value_parser = super::parse::fraction, conflicts_with = "val")]
    pub val_fraction: f64,

    /// Loss, as `sweep --loss`: keras (probabilities clipped, the reference) or exact
    /// (log-softmax).
    #[arg(long, value_enum, default_value_t = sweep().loss.into())]
    pub loss: super::sweep::LossArg,

    /// The network it trains.
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// One network (`lrsweep bench` and `find`), as `sweep` takes each of its networks.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// The network's hidden layers, widths comma-separated, as `sweep --hidden` takes one (784:
    /// the reference's).
    #[arg(long, value_name = "W[,W…]", default_value = "784", value_parser = super::parse::widths)]
    pub hidden: lrsweep_model::Widths,

    /// The hidden layers' activation: relu, tanh or gelu.
    #[arg(long, value_name = "relu|tanh|gelu", default_value = "relu", value_parser = super::parse::activation)]
    pub activation: lrsweep_model::Activation,

    /// Dropout after each hidden activation (0 ≤ P < 1; 0 is none).
    #[arg(long, value_name = "P", default_value = "0", value_parser = super::parse::dropout)]
    pub dropout: f64,

    /// How the weights start: normal, glorot-uniform, he-normal or torch.
    #[arg(long, value_name = "normal|glorot-uniform|he-normal|torch", default_value = "normal", value_parser = super::parse::init)]
    pub init: lrsweep_model::Init,
}

impl NetworkArgs {
    /// The network.
    pub fn network(&self) -> crate::config::Network {
        crate::config::Network {
            hidden: self.hidden,
            activation: self.activation,
            dropout: self.dropout,
            init: self.init,
        }
    }
}

/// Options of `lrsweep bench` (the FLOP formula is in the subcommand's `--help`).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Backends to time, comma-separated (wgpu, cpu, flex, ndarray), or `all`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub backends: Vec<String>,

    /// How the cpu backend computes the input layer: sparse, dense, or auto (by the images'
    /// density); the table says which ran.
    #[arg(long, default_value_t = sweep().exec.cpu_path, value_name = "auto|sparse|dense")]
    pub cpu_path: lrsweep_model::CpuPath,

    /// Epochs per backend (2 to 1000); the first is reported apart as warm-up (kernel
    /// compilation, autotuning).
    #[arg(long, default_value_t = bench().epochs as u64, value_parser = clap::value_parser!(u64).range(2..=1000))]
    pub epochs: u64,

    /// Use a stratified subset of N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Images per batch.
    #[arg(long, default_value_t = sweep().batch_size as u64, value_parser = super::parse::at_least_one)]
    pub batch_size: u64,

    /// Learning rates to train (each backend trains each rate).
    #[arg(long, value_delimiter = ',', default_value = BENCH_RATES.as_str(), value_parser = parse_rate, allow_hyphen_values = true)]
    pub rates: Vec<f64>,

    /// Optimizers every rate trains with, as `sweep --optimizer` takes them: each rate and
    /// optimizer alone, then all together as one stack.
    #[arg(long = "optimizer", value_name = "LIST", value_delimiter = ',', default_value = "adam", value_parser = super::parse::optimizer)]
    pub optimizers: Vec<lrsweep_model::Optimizer>,

    /// Whose definition the optimizers follow, as `sweep --convention` (`--adam`) takes it.
    #[arg(long, visible_alias = "adam", value_enum, default_value_t = sweep().convention.into())]
    pub convention: super::sweep::ConventionArg,

    /// The coupled weight decay of adam, sgd and rmsprop, as `sweep --weight-decay` takes it.
    #[arg(long, value_name = "W", default_value_t = 0.0, value_parser = super::parse::weight_decay)]
    pub weight_decay: f64,

    /// Schedules every rate trains under, as `sweep --schedule` takes them: each rate and
    /// schedule alone, then all together as one stack (the table gives the ratio).
    #[arg(long = "schedule", value_name = "LIST", value_delimiter = ',', default_value = "constant", value_parser = super::parse::schedule)]
    pub schedules: Vec<lrsweep_model::Schedule>,

    /// Seed of split, order and weights.
    #[arg(long, default_value_t = sweep().seed)]
    pub seed: u64,

    /// The network it trains.
    #[command(flatten)]
    pub network: NetworkArgs,

    /// Directory for bench.json, bench.csv and bench.png [default: runs/bench-<YYYYMMDD-HHMMSS>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the results as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
}

/// Options of `lrsweep eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model file written by a sweep (`lr-<rate>/best.bpk` or `model.bpk`); its `.json` sidecar
    /// says which data and split it was validated on.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,

    /// Directory holding the data files (otherwise `LRSWEEP_DATA_DIR`, the cache, a download).
    #[arg(long, env = "LRSWEEP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Score this file instead of the validation part: any labelled file of the kind the
    /// model was trained on (a CSV with its feature columns, found by name; a .npz, a .npy with
    /// --labels, an IDX images file, an image folder of class folders), scaled as its training
    /// part was. Prints the accuracy and the loss with their standard errors.
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// The labels of a .npy or IDX images file given to --data.
    #[arg(long, value_name = "FILE", requires = "data")]
    pub labels: Option<PathBuf>,

    /// Where the sweep's own data is now, if it moved (its SHA-256 must match what the model
    /// file records): read as the sweep read it, to score the validation part again.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub train_data: Option<PathBuf>,

    /// Where the sweep's validation file (its `--val`) is now, if it moved.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub val: Option<PathBuf>,

    /// Where to compute.
    #[arg(long, value_name = "auto|cpu|wgpu|flex|ndarray", default_value = sweep().backend.name(), value_parser = super::parse::backend)]
    pub backend: BackendChoice,
}

/// Options of `lrsweep predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model file written by a sweep (`lr-<rate>/best.bpk` or `model.bpk`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,

    /// The items to predict: a file of the kind the model was trained on (a CSV with its
    /// feature columns, found by name, with or without the label column; a .npz with `x` and
    /// perhaps `y`; a .npy; an IDX images file; a folder of images, or of class folders),
    /// scaled as its training part was.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,

    /// The labels of a .npy or IDX images file given to --data (optional: without them, only
    /// predictions).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Where to write the predictions: a CSV with each item's number (from 1, in file order),
    /// its predicted class, its label where the file has one, and each class's probability.
    #[arg(long, value_name = "FILE", default_value = "predictions.csv")]
    pub out: PathBuf,

    /// Where to compute.
    #[arg(long, value_name = "auto|cpu|wgpu|flex|ndarray", default_value = sweep().backend.name(), value_parser = super::parse::backend)]
    pub backend: BackendChoice,
}

/// Formats `lrsweep export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// safetensors (Hugging Face's format): the tensors of a PyTorch `nn.Sequential` of the same
    /// layers, loaded with `load_state_dict`; also read by NumPy, JAX and Candle.
    Safetensors,
}

/// Options of `lrsweep export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A model file written by a sweep (`lr-<rate>/best.bpk` or `model.bpk`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,

    /// The format to write.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub format: ExportFormat,

    /// Where to write it [default: beside the model file, as `<name>.safetensors`].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Options of `lrsweep report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory written by `lrsweep sweep`.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
}

/// Where a sweep is tracked besides its run directory (TensorBoard's event files are always
/// written: `tensorboard --logdir RUN_DIR`).
#[derive(Debug, Args, Clone, Default)]
pub struct TrackingArgs {
    /// Log the sweep to this MLflow tracking server as it trains (http://HOST:PORT): a parent
    /// run with every setting, one nested run per member with its parameters, its metrics per
    /// epoch, its verdict and its chart; [default: $MLFLOW_TRACKING_URI when set]. A server
    /// that is down or slow never stops or slows training: a warning, and `lrsweep track`
    /// uploads the rest later.
    #[arg(long, value_name = "URI", help_heading = "Tracking")]
    pub mlflow: Option<String>,

    /// The MLflow experiment to log to (made when the server has none of that name)
    /// [default: the run directory's name].
    #[arg(long, value_name = "NAME", help_heading = "Tracking")]
    pub mlflow_experiment: Option<String>,
}

/// Options of `lrsweep track`.
#[derive(Debug, Args)]
pub struct TrackArgs {
    /// A run directory written by `lrsweep sweep` (finished, interrupted or still training).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// The tracking server and experiment.
    #[command(flatten)]
    pub tracking: TrackingArgs,
}

/// Options of `lrsweep devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print the devices as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Options of `lrsweep work`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("step").required(true).args(["index", "refine", "finish"])))]
pub struct WorkArgs {
    /// A run directory prepared by `lrsweep sweep --slurm` (or `--slurm --dry-run`).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Train rate number N of the run: the listed rates are 0, 1, ...; the refined ones follow
    /// once `--refine` has planned them. Under Slurm: $SLURM_ARRAY_TASK_ID; in a Kubernetes
    /// Indexed Job: $JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "N")]
    pub index: Option<usize>,

    /// After round 1: plan the refined rates from the round-1 rates that finished (saying which
    /// are missing) and, in a submitted Slurm run, submit them and the summary.
    #[arg(long)]
    pub refine: bool,

    /// At the end: the range test (unless the run skips it), the charts and the summary, with
    /// missing rates marked.
    #[arg(long)]
    pub finish: bool,

    /// Where the run is tracked: a training task logs its rate's epochs as it trains, the
    /// summary the results (the scripts of `sweep --slurm --mlflow` pass these).
    #[command(flatten)]
    pub tracking: TrackingArgs,
}

/// Options of `lrsweep status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A run directory (of a sweep here, of `--devices`, or of `--slurm`).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,

    /// Print the status as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}
