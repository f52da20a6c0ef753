//! The options of `lrsweep sweep`; every default is the reference experiment's, read from
//! [`SweepConfig::default`].

use std::path::PathBuf;

use clap::Args;
use lrsweep_model::{
    Activation, Convention, CpuPath, Defaults, Halving, Init, LossKind, Optimizer, Schedule, Widths,
};

use super::data::DataArgs;
use super::parse::{
    activation, at_least_one, backend, dropout, fraction, init, optimizer, parse_rate, schedule,
    weight_decay, widths,
};
use crate::backend::{BackendChoice, DeviceSpec};
use crate::config::{Execution, HiddenLayers, OptimizerRates, SweepConfig};

/// The most seeds a rate trains under ([`crate::config::MAX_SEEDS`]).
const MAX_SEEDS: u64 = crate::config::MAX_SEEDS as u64;

/// The most rates a refinement adds ([`crate::config::MAX_REFINE`]).
const MAX_REFINE: u64 = crate::config::MAX_REFINE as u64;

fn parse_devices(s: &str) -> Result<DeviceSpec, String> {
    s.parse()
}

fn parse_prune(s: &str) -> Result<Halving, String> {
    s.parse()
}

/// The fewest epochs `--quick`'s pruning (`halving:3:3`) ranks at: its first rung is epoch 3,
/// and a run must go on past it.
const QUICK_EPOCHS: usize = 4;

/// `--quick`'s patience.
pub const QUICK_PATIENCE: usize = 10;

fn d() -> SweepConfig {
    SweepConfig::default()
}

/// `--rates`' help, with each optimizer's default grid from [`SweepConfig::default`] and
/// [`OptimizerRates::default_for`].
static RATES_HELP: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let sgd = OptimizerRates::default_for(&Optimizer::Sgd {
        momentum: 0.0,
        nesterov: false,
    })
    .map(|o| super::parse::rate_list(&o.rates))
    .unwrap_or_default();
    format!(
        "Learning rates to train, comma-separated; each between 1e-10 (smaller ones cannot move f32 weights) and 3.4e38 (the largest f32). Without it, each optimizer gets five decades around where its good rates live: adam, adamw and rmsprop the reference's {} (they divide each step by the gradient's scale), sgd {sgd} (its step is the raw gradient times the rate).\n\n[default: {}; sgd: {sgd}]",
        super::parse::rate_list(&d().rates),
        super::parse::rate_list(&d().rates)
    )
});

/// The default batch size, from [`SweepConfig::default`].
static DEFAULT_BATCH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| d().batch_size.to_string());

/// The default network's hidden layers, from [`SweepConfig::default`].
static DEFAULT_HIDDEN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| d().first_network().hidden.to_string());

/// Options of `lrsweep sweep`; the defaults are the reference experiment's.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Learning rates to train, comma-separated; without it, each optimizer's five decades.
    #[arg(long, visible_aliases = ["lr", "lrs", "learning-rate", "learning-rates"], value_delimiter = ',', value_name = "RATES", value_parser = parse_rate, allow_hyphen_values = true, long_help = RATES_HELP.as_str(), help_heading = "Rates")]
    pub rates: Vec<f64>,

    /// After the listed rates, train N more (at most 20) between the best rate (lowest validation
    /// loss) and its better neighbour: r/2, r/4, ... as the reference did; 0 turns it off.
    #[arg(long, default_value_t = d().refine as u64, value_name = "N", value_parser = clap::value_parser!(u64).range(0..=MAX_REFINE), help_heading = "Rates")]
    pub refine: u64,

    /// Epochs per rate.
    #[arg(long, default_value_t = d().epochs as u64, value_parser = at_least_one, help_heading = "Training")]
    pub epochs: u64,

    /// Images per batch (the last batch of an epoch is smaller); a comma-separated list
    /// (32,64,…,1024) trains every rate and schedule at every size, each size a stack of its
    /// own, and adds a chart of validation loss against epochs and seconds per size.
    #[arg(long, value_name = "N[,N…]", value_delimiter = ',', default_value = DEFAULT_BATCH.as_str(), value_parser = at_least_one, help_heading = "Training")]
    pub batch_size: Vec<u64>,

    /// Scale each rate with its batch size: none (the default), linear (rate × size/256, Goyal
    /// et al.'s linear scaling rule) or sqrt (rate × √(size/256)); the run records the listed
    /// and the effective rate.
    #[arg(long, value_name = "none|linear|sqrt", default_value_t = d().scale_lr, help_heading = "Training")]
    pub scale_lr: crate::config::ScaleLr,

    /// Seed of the split, the training order and the initial weights.
    #[arg(long, default_value_t = d().seed, help_heading = "Training")]
    pub seed: u64,

    /// Learning-rate schedules, comma-separated: every rate trains under each, all in one
    /// stack; r is the rate, e the epoch (1 trains at r), s the step from 0, S the run's steps.
    /// constant: r (the reference). step:N:G: r·G^⌊(e−1)/N⌋ (PyTorch StepLR). exp:G:
    /// r·G^(e−1) (ExponentialLR). cosine[:A]: r·(A + (1−A)·½(1+cos(πs/S))) per step (Keras
    /// CosineDecay, A = 0). onecycle: PyTorch OneCycleLR with r as max_lr (from r/25 up to r
    /// over 30% of the steps, then down to r/25e4, cosine; Adam's β1 stays 0.9). plateau[:F:P]:
    /// r times F after P epochs whose validation loss did not improve by 1e-4 (Keras
    /// ReduceLROnPlateau, F 0.1, P 10). 0 < G ≤ 1, 0 ≤ A ≤ 1, 0 < F < 1, N ≥ 1.
    #[arg(long = "schedule", id = "schedules", value_name = "LIST", value_delimiter = ',', default_value = "constant", value_parser = schedule, help_heading = "Training")]
    pub schedules: Vec<Schedule>,

    /// Warm up over the first E epochs: the rate climbs linearly, step t (from 1) at t/(E·steps
    /// per epoch) of the schedule's first rate; the schedule then runs over the remaining
    /// epochs as if the run began there (Goyal et al.'s warm-up for large batches).
    #[arg(long, value_name = "E", default_value_t = d().warmup as u64, help_heading = "Training")]
    pub warmup: u64,

    /// Share of the images held out for validation (stratified); not with --val, whose file is
    /// the validation part.
    #[arg(long, visible_alias = "validation-split", default_value_t = d().data.val_fraction, value_parser = fraction, conflicts_with = "val", help_heading = "Data")]
    pub val_fraction: f64,

    /// Use a stratified subset of N images, for quick looks.
    #[arg(long, value_name = "N", help_heading = "Data")]
    pub limit: Option<usize>,

    /// Where to train: auto picks wgpu on a real GPU and otherwise the CPU (cpu: lrsweep's own
    /// CPU engine), saying why; flex and ndarray are Burn's CPU backends.
    #[arg(long, value_name = "auto|cpu|wgpu|flex|ndarray", default_value = d().backend.name(), value_parser = backend, help_heading = "Compute")]
    pub backend: BackendChoice,

    /// How the cpu backend computes the input layer: sparse (skips the images' zero pixels),
    /// dense, or auto (sparse when at most 35% of the training pixels are non-zero).
    #[arg(long, default_value_t = d().exec.cpu_path, value_name = "auto|sparse|dense", help_heading = "Compute")]
    pub cpu_path: CpuPath,

    /// Spread each round's rates over these wgpu adapters, one worker thread per adapter
    /// (stacked on each): `all` (every GPU) or indices as `lrsweep devices` lists them, e.g.
    /// 0,1 (Vulkan's numbering, which CUDA_VISIBLE_DEVICES does not change). An index given
    /// twice gets two workers sharing that adapter.
    #[arg(long, value_name = "all|0,1,...", value_parser = parse_devices, conflicts_with = "slurm", help_heading = "Scale-out")]
    pub devices: Option<DeviceSpec>,

    /// The network's hidden layers, widths comma-separated (784: the reference's one layer;
    /// 512,256: two, Dense → activation → dropout each, then the softmax layer); at most 16
    /// layers. Repeatable: --hidden 784 --hidden 512,256 trains every rate on each network,
    /// each network a stack of its own, each refined on its own, and compares their best rates.
    #[arg(long, value_name = "W[,W…]", action = clap::ArgAction::Append, default_value = DEFAULT_HIDDEN.as_str(), value_parser = widths, help_heading = "Network")]
    pub hidden: Vec<Widths>,

    /// The hidden layers' activation, comma-separated for several (each a network of its own):
    /// relu (the reference), tanh, or gelu (exact, with erf, as PyTorch's nn.GELU()).
    #[arg(long = "activation", id = "activations", value_name = "relu|tanh|gelu", value_delimiter = ',', default_value = "relu", value_parser = activation, help_heading = "Network")]
    pub activations: Vec<Activation>,

    /// Dropout after each hidden activation, comma-separated for several: the probability of
    /// zeroing a unit in training (the kept ones scaled by 1/(1−P), as Keras' Dropout and
    /// PyTorch's nn.Dropout do; none at evaluation); 0 (the reference) is none, 0 ≤ P < 1.
    #[arg(long = "dropout", id = "dropouts", value_name = "P[,P…]", value_delimiter = ',', default_value = "0", value_parser = dropout, allow_hyphen_values = true, help_heading = "Network")]
    pub dropouts: Vec<f64>,

    /// How the weights start, comma-separated for several: normal (Normal(0, 0.05) with zero
    /// biases: the reference, Keras' 'normal'), glorot-uniform (Keras' default), he-normal
    /// (Keras) or torch (PyTorch's nn.Linear: weights and biases U(±1/√fan_in)).
    #[arg(long = "init", id = "inits", value_name = "normal|glorot-uniform|he-normal|torch", value_delimiter = ',', default_value = "normal", value_parser = init, help_heading = "Network")]
    pub inits: Vec<Init>,

    /// Loss: keras (probabilities clipped to [1e-7, 1-1e-7], the reference) or exact
    /// (log-softmax) for a classification; mse (its default) or huber (δ = 1 on the
    /// standardised targets) for a regression.
    #[arg(long, value_enum, default_value_t = d().loss.into(), help_heading = "Training")]
    pub loss: LossArg,

    /// Optimizers, comma-separated: every rate trains with each, all of a round in one stack.
    /// adam (the reference). adamw[:WD]: decoupled weight decay, the weights shrinking by
    /// rate × WD each step. sgd[:MOMENTUM[:nesterov]]: heavy-ball or Nesterov momentum (0:
    /// none). rmsprop[:RHO[:MOMENTUM]]. MOMENTUM and RHO in [0, 1), WD ≥ 0; what is left out
    /// takes the --convention's default.
    #[arg(long = "optimizer", id = "optimizers", value_name = "LIST", value_delimiter = ',', default_value = "adam", value_parser = optimizer, help_heading = "Optimizer")]
    pub optimizers: Vec<Optimizer>,

    /// Whose definition every optimizer follows, with its defaults. keras (the reference;
    /// `keras.optimizers`): Adam and AdamW β 0.9/0.999, ε 1e-7 before the bias correction,
    /// AdamW WD 0.004; SGD keeps the rate in its velocity (m ← μ·m − lr·g, p ← p + m); RMSprop
    /// ρ 0.9, ε 1e-7 inside the root. torch (`torch.optim`): ε 1e-8 after the bias correction,
    /// AdamW WD 0.01; SGD b ← μ·b + g, p ← p − lr·b, dampening 0; RMSprop ρ (alpha) 0.99, ε
    /// 1e-8 outside the root. (Burn's own configs differ again: momentum dampening 0.1,
    /// RMSprop momentum 0.9; lrsweep follows Keras or PyTorch.) --adam is its earlier name.
    #[arg(long, visible_alias = "adam", value_enum, default_value_t = d().convention.into(), help_heading = "Optimizer")]
    pub convention: ConventionArg,

    /// The coupled L2 term of adam, sgd and rmsprop: g ← g + W·p before each step (PyTorch's
    /// weight_decay; a Keras L2 regulariser of W/2 on every weight and bias). adamw's decay is
    /// its own (adamw:WD). 0 (the reference) is none.
    #[arg(long, value_name = "W", default_value_t = d().weight_decay, value_parser = weight_decay, allow_hyphen_values = true, help_heading = "Optimizer")]
    pub weight_decay: f64,

    /// Reshuffle the training order every epoch (the reference keeps it fixed).
    #[arg(long, help_heading = "Training")]
    pub reshuffle: bool,

    /// Early stopping: stop a rate when validation loss has not improved for N epochs.
    #[arg(long, value_name = "N", value_parser = at_least_one, help_heading = "Training")]
    pub patience: Option<u64>,

    /// Save the best epoch's weights (lowest validation loss) as each rate's model.bpk, not the
    /// last epoch's (Keras' restore_best_weights).
    #[arg(long, help_heading = "Training")]
    pub restore_best: bool,

    /// Train every rate to the last epoch, as the reference did, even one whose curves show it
    /// hopeless (by default such a rate stops once that has held for 3 epochs: validation loss
    /// above 1.5 × a uniform guess's, or a training loss above it or at chance accuracy that
    /// does not fall; see the README's "Verdicts").
    #[arg(long, help_heading = "Training")]
    pub full_curves: bool,

    /// Train each rate under N seeds (weights and training order: the --seed, then the next
    /// ones), all members of the same stack; the summary gives each rate's mean and spread of
    /// its minimum validation loss and best epoch, the charts draw the seeds' band, and the
    /// recommendation says whether the best rate's lead is beyond the seeds' spread.
    #[arg(long, value_name = "N", default_value_t = d().seeds as u64, value_parser = clap::value_parser!(u64).range(1..=MAX_SEEDS), help_heading = "Rates")]
    pub seeds: u64,

    /// Prune as each round trains (successive halving, all members at once): at rungs MIN,
    /// MIN·ETA, MIN·ETA², … below --epochs (3, 9, 27, 81 by default), the members still
    /// training are ranked by their lowest validation loss so far (a diverged one last, ties by
    /// listed order); the best ⌈n/ETA⌉ go on, the others stop there, keeping all they trained.
    /// In the listed rates' round the leader's two neighbours go on until it is clear which
    /// side the refinement takes (see the README's "Pruning"); the refined rates are ranked with
    /// the listed rates that finished, at the same epochs. ETA ≥ 2 (default 3), MIN ≥ 1
    /// (default 3), MIN below --epochs; not with --seeds above 1 or --slurm.
    #[arg(long, value_name = "halving[:ETA[:MIN]]", value_parser = parse_prune, help_heading = "Rates")]
    pub prune: Option<Halving>,

    /// "Just tell me": the reference's rates and refinement with --prune halving and
    /// --patience 10 (each may still be given otherwise); a fraction of the full run's time.
    #[arg(long, help_heading = "Rates")]
    pub quick: bool,

    /// Skip the learning-rate range test (`lrsweep find`, a few seconds) that runs first and whose
    /// suggestions the summary sets beside the sweep's answer.
    #[arg(long, help_heading = "Rates")]
    pub no_find: bool,

    /// Train a round's rates one after another, as separate models, instead of together as one
    /// stack (the default: the same batches serve every rate; a rate's results do not depend on
    /// the others). A resumed run may switch either way.
    #[arg(long, conflicts_with = "together", help_heading = "Compute")]
    pub serial: bool,

    /// Train a round's rates together (the default); with --resume, continues a run made with
    /// --serial as a stack.
    #[arg(long, help_heading = "Compute")]
    pub together: bool,

    /// Run directory [default: runs/<YYYYMMDD-HHMMSS>]; must not hold a previous run.
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub out: Option<PathBuf>,

    /// Continue an interrupted sweep in RUN_DIR: finished rates are kept, unfinished ones go on
    /// from their last checkpoint; settings given here must agree with the run's.
    #[arg(long, value_name = "RUN_DIR", help_heading = "Output")]
    pub resume: Option<PathBuf>,

    /// Train rates that look like typos (above 1, where Adam diverges at once, or three
    /// decades away from every other listed rate) without the warning.
    #[arg(long, help_heading = "Rates")]
    pub yes: bool,

    /// Where the data comes from.
    #[command(flatten, next_help_heading = "Data")]
    pub data: DataArgs,

    /// Running the sweep as Slurm jobs.
    #[command(flatten, next_help_heading = "Scale-out")]
    pub slurm: SlurmArgs,

    /// Where the sweep is tracked besides its directory.
    #[command(flatten, next_help_heading = "Tracking")]
    pub tracking: crate::cli::TrackingArgs,
}

/// The options of `lrsweep sweep --slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Run the sweep as Slurm jobs instead of here: write the plan and batch scripts into
    /// DIR/slurm/ (DIR on a filesystem the nodes share), submit round 1 as one job array (one
    /// task per rate, each `lrsweep work DIR --index $SLURM_ARRAY_TASK_ID`), then a job that runs
    /// after it whatever its tasks' outcomes, refines from the rates that finished, submits
    /// round 2 and the summary; return at once. Follow with `lrsweep status DIR`.
    #[arg(long)]
    pub slurm: bool,

    /// An option for every sbatch submission (repeatable), written as an `#SBATCH` line into
    /// the scripts, e.g. --sbatch=--partition=gpu --sbatch=--gres=gpu:1 --sbatch=--time=2:00:00.
    #[arg(
        long,
        value_name = "ARG",
        allow_hyphen_values = true,
        requires = "slurm"
    )]
    pub sbatch: Vec<String>,

    /// Run at most N array tasks at once (sbatch --array=...%N).
    #[arg(long, value_name = "N", requires = "slurm", value_parser = at_least_one)]
    pub max_parallel: Option<u64>,

    /// Write the run directory, plan and scripts, print the scripts and the sbatch commands,
    /// submit nothing (also how to prepare a run for another scheduler: `lrsweep work`).
    #[arg(long, requires = "slurm")]
    pub dry_run: bool,
}

/// `--loss`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LossArg {
    /// Keras 2's clipped cross-entropy (a classification's; a regression's default becomes
    /// mse).
    Keras,
    /// Exact log-softmax cross-entropy (a classification's).
    Exact,
    /// Mean squared error on the standardised targets (a regression's).
    Mse,
    /// Huber loss, δ = 1 on the standardised targets, as PyTorch's HuberLoss (a regression's).
    Huber,
}

impl From<LossKind> for LossArg {
    fn from(k: LossKind) -> Self {
        match k {
            LossKind::Keras => Self::Keras,
            LossKind::Exact => Self::Exact,
            LossKind::Mse => Self::Mse,
            LossKind::Huber => Self::Huber,
        }
    }
}

impl From<LossArg> for LossKind {
    fn from(a: LossArg) -> Self {
        match a {
            LossArg::Keras => Self::Keras,
            LossArg::Exact => Self::Exact,
            LossArg::Mse => Self::Mse,
            LossArg::Huber => Self::Huber,
        }
    }
}

/// `--convention`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ConventionArg {
    /// Keras' definitions (the reference).
    Keras,
    /// PyTorch's.
    Torch,
}

impl From<Convention> for ConventionArg {
    fn from(v: Convention) -> Self {
        match v {
            Convention::Keras => Self::Keras,
            Convention::Torch => Self::Torch,
        }
    }
}

impl From<ConventionArg> for Convention {
    fn from(a: ConventionArg) -> Self {
        match a {
            ConventionArg::Keras => Self::Keras,
            ConventionArg::Torch => Self::Torch,
        }
    }
}

/// `list` with repeats dropped, in the order given.
fn once<T: PartialEq + Clone>(list: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(list.len());
    for item in list {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

impl SweepArgs {
    /// The run's configuration (repeated rates once, in the order given).
    pub fn to_config(&self) -> anyhow::Result<SweepConfig> {
        let optimizers = once(&self.optimizers);
        // Without --rates: the reference's, and each optimizer whose good rates lie elsewhere
        // its own grid.
        let (rates, optimizer_rates) = match self.rates.is_empty() {
            true => (
                d().rates,
                optimizers
                    .iter()
                    .filter_map(OptimizerRates::default_for)
                    .collect(),
            ),
            false => (once(&self.rates), Vec::new()),
        };
        // One of each schedule, however it is written (cosine and cosine:0 are one).
        let mut schedules: Vec<Schedule> = Vec::new();
        for s in &self.schedules {
            match schedules.iter().find(|kept| kept.same_as(s)) {
                Some(kept) if kept != s => crate::exit::note(&format!(
                    "--schedule {s} is {kept}, listed before: trained once"
                )),
                Some(_) => {}
                None => schedules.push(*s),
            }
        }
        let convention: Convention = self.convention.into();
        let sizes: Vec<usize> = once(&self.batch_size)
            .into_iter()
            .map(|b| b as usize)
            .collect();
        // The size named without `-b<size>`: the reference's when listed, else the first.
        let reference = crate::config::REFERENCE_BATCH;
        let batch_size = match sizes.contains(&reference) {
            true => reference,
            false => sizes.first().copied().unwrap_or(reference),
        };
        let batch_sizes = if sizes.len() > 1 { sizes } else { Vec::new() };
        let mut data = self.data.to_config(self.limit)?;
        data.val_fraction = self.val_fraction;
        let quick = self.quick.then(Halving::default);
        let prune = self.prune.or(quick);
        let patience = self
            .patience
            .map(|p| p as usize)
            .or(self.quick.then_some(QUICK_PATIENCE));
        // Pruning needs every member of a round at the same epoch at each rung; a Slurm job
        // array trains each rate in a task of its own (not a setting of the run: checked here).
        if let (Some(h), true) = (&prune, self.slurm.slurm) {
            return Err(crate::exit::usage(anyhow::anyhow!(
                "--prune {h}: not with --slurm: a rung needs every member of its round at the same epoch, and a Slurm job array trains each rate in a task of its own, to the end; prune on one machine (--devices spreads a round over its GPUs)"
            )));
        }
        let config = SweepConfig {
            rates,
            refine: self.refine as usize,
            epochs: self.epochs as usize,
            batch_size,
            batch_sizes,
            scale_lr: self.scale_lr,
            schedules,
            warmup: self.warmup as usize,
            seed: self.seed,
            hidden: HiddenLayers(once(&self.hidden)),
            activations: once(&self.activations),
            dropouts: once(&self.dropouts),
            inits: once(&self.inits),
            loss: self.loss.into(),
            optimizers,
            convention,
            optimizer_defaults: Some(Defaults::of(convention)),
            weight_decay: self.weight_decay,
            optimizer_rates,
            reshuffle: self.reshuffle,
            patience,
            prune,
            restore_best: self.restore_best,
            full_curves: self.full_curves,
            seeds: self.seeds as usize,
            backend: self.backend,
            exec: Execution {
                no_find: self.no_find,
                serial: self.serial,
                cpu_path: self.cpu_path,
                devices: self.devices.clone(),
            },
            data,
        };
        config.validate().map_err(|e| {
            // What --quick set is said as --quick: the user never typed --prune.
            let spec = Halving::default().to_string();
            let quick = self.quick && self.prune.is_none();
            let e = match e.0.strip_prefix(&format!("--prune {spec}: ")) {
                Some(why) if quick && why.contains("would never prune") => format!(
                    "--quick prunes with {spec}, whose first rung is epoch 3: give --epochs of at least {QUICK_EPOCHS}, or leave --quick out"
                ),
                Some(why) if quick => format!("--quick (which prunes with {spec}): {why}"),
                _ => e.0,
            };
            crate::exit::usage(anyhow::anyhow!(e))
        })?;
        Ok(config)
    }
}
