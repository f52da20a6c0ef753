//! What a sweep runs, as one serialisable struct (saved as `config.json` with the run): the
//! settings that define the run, and apart from them the execution settings ([`Execution`])
//! that say how this machine runs it.

use lrsweep_data::Shape;
use lrsweep_model::{
    Activation, Compute, Convention, CpuPath, Defaults, Init, LossKind, ModelConfig, Optimizer,
    OptimizerConfig, Schedule, StopRule, TrainConfig, Widths,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::data::DataConfig;
use super::group::{Arm, Group, Network, ScaleLr, Unit};
use crate::backend::{BackendChoice, DeviceSpec, Selected};

/// How this machine runs a run, not what the run is: whether the range test runs first,
/// whether a round's rates train together or one after another, how the CPU engine computes
/// the input layer, and which devices train. A member's figures are the same either way, so a
/// resume takes these from its own command line (where given) and never compares them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Execution {
    /// Skip the learning-rate range test that runs before the sweep.
    pub no_find: bool,
    /// Train a round's rates one after another instead of together as one stack.
    pub serial: bool,
    /// How the CPU engine computes the input layer (`--backend cpu`): sparse, dense, or auto.
    pub cpu_path: CpuPath,
    /// The wgpu adapters a round is spread over, one worker thread each (`--devices`); none:
    /// the one device `backend` chooses.
    pub devices: Option<DeviceSpec>,
}

/// A learning-rate sweep; the defaults are the reference experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The rates listed by the user, in order (without `--rates`, the reference's; an
    /// optimizer with rates of its own, [`SweepConfig::optimizer_rates`], takes those).
    pub rates: Vec<f64>,
    /// Without `--rates`, the optimizers whose good rates lie elsewhere than the listed ones'
    /// (SGD: 1e-4 to 1) with their own grid; empty when `--rates` was given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizer_rates: Vec<OptimizerRates>,
    /// How many rates to add between the best and its better neighbour.
    pub refine: usize,
    /// Epochs per rate.
    pub epochs: usize,
    /// Images per batch: the run's one size, or with several (`batch_sizes`) the one whose
    /// members are named without `-b<size>` (256, the reference's, when listed; else the first).
    pub batch_size: usize,
    /// With `--batch-size LIST`: every size, in the order given, each rate trained at each
    /// (each size its own stack); empty with one size.
    #[serde(default)]
    pub batch_sizes: Vec<usize>,
    /// How a rate is scaled with the batch size (`--scale-lr`): none, by size/256 or by its
    /// square root.
    #[serde(default)]
    pub scale_lr: ScaleLr,
    /// The schedules every rate trains under (`--schedule`), each rate once per schedule;
    /// the reference: `constant` alone.
    #[serde(default = "constant_only")]
    pub schedules: Vec<Schedule>,
    /// Epochs of linear warm-up in front of every schedule (`--warmup`; the reference: 0).
    #[serde(default)]
    pub warmup: usize,
    /// Seed of split, order and weights.
    pub seed: u64,
    /// The networks' hidden layers (`--hidden`, repeatable): each a list of widths. Written as
    /// earlier versions wrote one layer (`784`), as one list (`[512,256]`) for one network,
    /// as a list of lists for several.
    pub hidden: HiddenLayers,
    /// The activations every network trains under (`--activation`; the reference: relu).
    #[serde(default = "relu_only", skip_serializing_if = "is_relu_only")]
    pub activations: Vec<Activation>,
    /// The dropouts every network trains under (`--dropout`; the reference: 0, none).
    #[serde(default = "no_dropout", skip_serializing_if = "is_no_dropout")]
    pub dropouts: Vec<f64>,
    /// How the weights start (`--init`; the reference: normal).
    #[serde(default = "normal_only", skip_serializing_if = "is_normal_only")]
    pub inits: Vec<Init>,
    /// Loss form.
    pub loss: LossKind,
    /// The optimizers every rate trains with (`--optimizer`; the reference: Adam), all of a
    /// round in one stack.
    #[serde(default = "adam_only", skip_serializing_if = "is_adam_only")]
    pub optimizers: Vec<Optimizer>,
    /// Whose definitions and defaults the optimizers follow (`--convention`; the reference:
    /// Keras). Recorded as `adam` by earlier versions, whose `--adam` it was.
    #[serde(alias = "adam")]
    pub convention: Convention,
    /// Every default the optimizers take from the convention, as this run trains with them.
    /// Absent in runs of earlier versions: [`Defaults::earlier`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimizer_defaults: Option<Defaults>,
    /// The coupled L2 term of adam, sgd and rmsprop (`--weight-decay`; `g ← g + wd·p`, as
    /// PyTorch's `weight_decay`); 0: none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weight_decay: f64,
    /// Reshuffle every epoch.
    pub reshuffle: bool,
    /// Stop a rate when validation loss has not improved for this many epochs.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Prune as rounds train (`--prune`): successive halving at its rungs.
    #[serde(default)]
    pub prune: Option<lrsweep_model::Halving>,
    /// Make each rate's `model.bpk` the best epoch's weights rather than the last epoch's.
    #[serde(default)]
    pub restore_best: bool,
    /// Train every rate to the last epoch, even a hopeless one (the reference did).
    #[serde(default)]
    pub full_curves: bool,
    /// Train each rate under this many seeds (weights and order): `seed`, `seed + 1`, …
    #[serde(default = "one")]
    pub seeds: usize,
    /// Backend asked for.
    pub backend: BackendChoice,
    /// How this machine runs it (recorded beside the rest, under the same keys).
    #[serde(flatten)]
    pub exec: Execution,
    /// The data.
    pub data: DataConfig,
}

/// The defaults of the reference experiment; the network, training and Adam defaults come from
/// `lrsweep-model` (`ModelConfig`, `TrainConfig`, `AdamConfig`), the split's from `lrsweep-data`.
impl Default for SweepConfig {
    fn default() -> Self {
        let train = TrainConfig::default();
        Self {
            rates: vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            refine: 2,
            epochs: train.epochs,
            batch_size: train.batch_size,
            batch_sizes: Vec::new(),
            scale_lr: ScaleLr::None,
            schedules: constant_only(),
            warmup: train.warmup,
            seed: train.seed,
            hidden: HiddenLayers(vec![ModelConfig::default().hidden]),
            activations: relu_only(),
            dropouts: no_dropout(),
            inits: normal_only(),
            loss: train.loss,
            optimizers: adam_only(),
            convention: train.optimizer.convention,
            optimizer_defaults: Some(train.optimizer.defaults),
            weight_decay: 0.0,
            optimizer_rates: Vec::new(),
            reshuffle: train.reshuffle,
            patience: None,
            prune: None,
            restore_best: false,
            full_curves: false,
            seeds: 1,
            backend: BackendChoice::Auto,
            exec: Execution::default(),
            data: DataConfig::default(),
        }
    }
}

impl SweepConfig {
    /// The batch sizes the run trains at: its one size, or every listed one.
    pub fn sizes(&self) -> Vec<usize> {
        match self.batch_sizes.is_empty() {
            true => vec![self.batch_size],
            false => self.batch_sizes.clone(),
        }
    }

    /// The largest batch size of the run (what its memory estimate takes).
    pub fn largest_batch(&self) -> usize {
        self.sizes().into_iter().max().unwrap_or(self.batch_size)
    }

    /// The batch size `group` trains at.
    pub fn batch_of(&self, group: Group) -> usize {
        group.batch.unwrap_or(self.batch_size)
    }

    /// The rate Adam takes for `arm`: its rate scaled for its batch size ([`ScaleLr`]).
    pub fn effective_rate(&self, arm: Arm) -> f64 {
        self.scale_lr.scale(arm.rate, self.batch_of(arm.group))
    }

    /// The most members trained at once: the largest round (each rate under every schedule,
    /// optimizer and seed; each batch size and network is a stack of its own), or one with
    /// `--serial`.
    pub fn stack_size(&self) -> usize {
        if self.exec.serial {
            1
        } else {
            let most_rates = self
                .optimizers
                .iter()
                .map(|o| self.rates_of_optimizer(o).len())
                .max()
                .unwrap_or(self.rates.len());
            most_rates.max(self.refine).max(1)
                * self.schedules.len().max(1)
                * self.optimizers.len().max(1)
                * self.seeds.max(1)
        }
    }

    /// The networks the run trains, in order: every `--hidden` under every activation,
    /// dropout and initialisation.
    pub fn networks(&self) -> Vec<Network> {
        let mut networks = Vec::new();
        for &hidden in &self.hidden.0 {
            for &activation in &self.activations {
                for &dropout in &self.dropouts {
                    for &init in &self.inits {
                        networks.push(Network {
                            hidden,
                            activation,
                            dropout,
                            init,
                        });
                    }
                }
            }
        }
        networks
    }

    /// These settings training `network` alone.
    pub fn training(self, network: Network) -> Self {
        Self {
            hidden: HiddenLayers(vec![network.hidden]),
            activations: vec![network.activation],
            dropouts: vec![network.dropout],
            inits: vec![network.init],
            ..self
        }
    }

    /// The run's first network: members of it are named without it (`lr-0.001`).
    pub fn first_network(&self) -> Network {
        self.networks().first().copied().unwrap_or_default()
    }

    /// The groups the run compares (each refined on its own), in order: every batch size, every
    /// network, every optimizer, every schedule, size by size, network by network.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups = Vec::new();
        for size in self.sizes() {
            let batch = (size != self.batch_size).then_some(size);
            for network in self.networks() {
                for &optimizer in &self.optimizers {
                    for &schedule in &self.schedules {
                        groups.push(Group {
                            schedule,
                            batch,
                            network,
                            optimizer,
                        });
                    }
                }
            }
        }
        groups
    }

    /// The rates `optimizer` lists: its own grid when it has one, else the run's.
    pub fn rates_of_optimizer(&self, optimizer: &Optimizer) -> &[f64] {
        self.optimizer_rates
            .iter()
            .find(|o| o.optimizer == *optimizer)
            .map_or(&self.rates, |o| &o.rates)
    }

    /// The rates `group` lists (round 1).
    pub fn rates_of(&self, group: Group) -> &[f64] {
        self.rates_of_optimizer(&group.optimizer)
    }

    /// Every group's listed rates, group by group: round 1's arms.
    pub fn listed_arms(&self) -> Vec<Arm> {
        self.groups()
            .into_iter()
            .flat_map(|group| {
                self.rates_of(group)
                    .iter()
                    .map(move |&rate| Arm::new(rate, group))
            })
            .collect()
    }

    /// Whether `arm` is one of the listed rates' (round 1), not a refined one.
    pub fn is_listed(&self, arm: Arm) -> bool {
        self.groups().contains(&arm.group) && self.rates_of(arm.group).contains(&arm.rate)
    }

    /// The defaults the run's optimizers take: recorded, or, for a run of an earlier version,
    /// what it trained with.
    pub fn defaults(&self) -> Defaults {
        self.optimizer_defaults
            .unwrap_or_else(|| Defaults::earlier(self.convention))
    }

    /// The optimizer `group`'s members train with, every number resolved.
    pub fn optimizer_of(&self, group: Group) -> OptimizerConfig {
        OptimizerConfig {
            optimizer: group.optimizer,
            convention: self.convention,
            defaults: self.defaults(),
            weight_decay: self.weight_decay,
        }
    }

    /// Whether the run trains more than one batch size.
    pub fn several_sizes(&self) -> bool {
        self.batch_sizes.len() > 1
    }

    /// The seeds each rate trains under: the run's, then the next ones (`--seeds`).
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.seeds.max(1) as u64)
            .map(|j| self.seed.wrapping_add(j))
            .collect()
    }

    /// Member `unit`'s settings by name, as the trackers show them (TensorBoard's HParams,
    /// MLflow's parameters): its rate, the rate its optimizer took, every dimension of its
    /// group, its seed.
    pub fn member_settings(&self, unit: Unit) -> Vec<(&'static str, Setting)> {
        let group = unit.arm.group;
        vec![
            ("lr", Setting::Number(unit.arm.rate)),
            (
                "effective_lr",
                Setting::Number(self.effective_rate(unit.arm)),
            ),
            ("schedule", Setting::Text(group.schedule.to_string())),
            ("batch_size", Setting::Number(self.batch_of(group) as f64)),
            ("network", Setting::Text(group.network.describe())),
            ("optimizer", Setting::Text(group.optimizer.to_string())),
            ("seed", Setting::Number(unit.seed as f64)),
        ]
    }

    /// The members of a round of `arms`: each arm under each of the run's seeds, in order.
    pub fn units(&self, arms: &[Arm]) -> Vec<Unit> {
        arms.iter()
            .flat_map(|&arm| self.seeds().into_iter().map(move |seed| Unit { arm, seed }))
            .collect()
    }

    /// The run's first network for data of `shape` (its input width and class count): what
    /// the range test trains.
    pub fn model(&self, shape: Shape) -> ModelConfig {
        self.model_of(&self.first_network(), shape)
    }

    /// `network` for data of `shape`.
    pub fn model_of(&self, network: &Network, shape: Shape) -> ModelConfig {
        ModelConfig {
            inputs: shape.inputs,
            hidden: network.hidden,
            classes: shape.classes,
            activation: network.activation,
            dropout: network.dropout,
            init: network.init,
            ..ModelConfig::default()
        }
    }

    /// The largest of the run's networks for data of `shape`: what the memory check counts.
    pub fn largest_model(&self, shape: Shape) -> ModelConfig {
        self.networks()
            .iter()
            .map(|n| self.model_of(n, shape))
            .max_by_key(|m| m.training_bytes(self.largest_batch()).unwrap_or(u64::MAX))
            .unwrap_or_else(|| self.model(shape))
    }

    /// When a rate stops (the rule its training loop follows), its curves read against
    /// `hopeless`: after `epochs`, at divergence, by `patience`.
    pub fn stop_rule(&self, hopeless: lrsweep_model::Hopeless) -> StopRule {
        self.settings(0.0, Compute::default()).stop_rule(hopeless)
    }

    /// The training of a stack of `group`, computed the way the selected backend wants it
    /// (each member brings its own rate).
    pub fn train(&self, group: Group, selected: &Selected) -> TrainConfig {
        TrainConfig {
            batch_size: self.batch_of(group),
            ..self.settings(0.0, selected.compute)
        }
    }

    /// The range test's training with `optimizer` (one of the run's) at `learning_rate`.
    pub fn train_with(
        &self,
        optimizer: Optimizer,
        learning_rate: f64,
        selected: &Selected,
    ) -> TrainConfig {
        TrainConfig {
            optimizer: self.optimizer_of(Group {
                optimizer,
                ..Group::default()
            }),
            ..self.settings(learning_rate, selected.compute)
        }
    }

    fn settings(&self, learning_rate: f64, compute: Compute) -> TrainConfig {
        TrainConfig {
            learning_rate,
            epochs: self.epochs,
            patience: self.patience,
            full_curves: self.full_curves,
            batch_size: self.batch_size,
            warmup: self.warmup,
            seed: self.seed,
            loss: self.loss,
            optimizer: self.optimizer_of(Group {
                optimizer: self.optimizers.first().copied().unwrap_or_default(),
                ..Group::default()
            }),
            reshuffle: self.reshuffle,
            compute,
        }
    }
}

fn one() -> usize {
    1
}

fn adam_only() -> Vec<Optimizer> {
    vec![Optimizer::Adam]
}

fn is_adam_only(o: &[Optimizer]) -> bool {
    o == adam_only().as_slice()
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// An optimizer's own listed rates (without `--rates`): SGD's grid lies about two decades above
/// the adaptive optimizers'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerRates {
    /// The optimizer, as listed.
    pub optimizer: Optimizer,
    /// Its rates.
    pub rates: Vec<f64>,
}

impl OptimizerRates {
    /// Where `optimizer`'s good rates live when no rates are given: SGD (its step the raw
    /// gradient times the rate) from 1e-4 to 1, five decades; none for the adaptive ones (Adam,
    /// AdamW, RMSprop divide by the gradient's scale, so the reference's 1e-5 to 1e-1 serves).
    pub fn default_for(optimizer: &Optimizer) -> Option<Self> {
        (!optimizer.is_adaptive()).then(|| Self {
            optimizer: *optimizer,
            rates: vec![1e-4, 1e-3, 1e-2, 1e-1, 1.0],
        })
    }
}

fn relu_only() -> Vec<Activation> {
    vec![Activation::Relu]
}

fn is_relu_only(a: &[Activation]) -> bool {
    a == relu_only().as_slice()
}

fn no_dropout() -> Vec<f64> {
    vec![0.0]
}

fn is_no_dropout(d: &[f64]) -> bool {
    d == no_dropout().as_slice()
}

fn normal_only() -> Vec<Init> {
    vec![Init::Normal]
}

fn is_normal_only(i: &[Init]) -> bool {
    i == normal_only().as_slice()
}

/// The hidden layers of each network a run trains (`--hidden`, repeatable). Written as
/// earlier versions wrote one layer (`784`), as one list of widths for one network
/// (`[512,256]`), and as a list of lists for several (`[[784],[512,256]]`); read from any of
/// these.
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenLayers(pub Vec<Widths>);

impl Serialize for HiddenLayers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(s),
            many => many
                .iter()
                .map(|w| w.as_slice().to_vec())
                .collect::<Vec<_>>()
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for HiddenLayers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Item {
            One(usize),
            Many(Vec<usize>),
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(usize),
            List(Vec<Item>),
        }
        let widths = |list: &[usize]| Widths::new(list).map_err(serde::de::Error::custom);
        Ok(HiddenLayers(match Form::deserialize(d)? {
            Form::One(w) => vec![widths(&[w])?],
            Form::List(items) if items.iter().all(|i| matches!(i, Item::One(_))) => {
                let list: Vec<usize> = items
                    .iter()
                    .map(|i| match i {
                        Item::One(w) => *w,
                        Item::Many(_) => 0,
                    })
                    .collect();
                vec![widths(&list)?]
            }
            Form::List(items) => items
                .iter()
                .map(|i| match i {
                    Item::One(w) => widths(&[*w]),
                    Item::Many(list) => widths(list),
                })
                .collect::<Result<_, _>>()?,
        }))
    }
}

fn constant_only() -> Vec<Schedule> {
    vec![Schedule::Constant]
}

/// What `lrsweep bench` times; recorded in `bench.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// Epochs per backend and rate (the first is warm-up).
    pub epochs: usize,
    /// Rates each backend trains.
    pub rates: Vec<f64>,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            epochs: 3,
            rates: vec![TrainConfig::default().learning_rate],
        }
    }
}

/// A setting's value as a tracker shows it: a number or a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Number(f64),
    Text(String),
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setting::Number(v) => write!(f, "{v}"),
            Setting::Text(s) => f.write_str(s),
        }
    }
}
