//! What a sweep runs, as one serialisable struct (saved as `config.json` with the run).

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, Scale, Shape, SplitConfig, UserData};
use lrsweep_model::{
    AdamConfig, AdamVariant, Compute, CpuPath, LossKind, ModelConfig, Schedule, StopRule,
    TrainConfig,
};
use serde::{Deserialize, Serialize};

use crate::backend::{BackendChoice, DeviceSpec, Selected};

/// Where the data comes from and how it is split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// The data set.
    pub dataset: DatasetKind,
    /// A directory holding the files, if the user named one.
    pub data_dir: Option<PathBuf>,
    /// Download base URLs replacing the public mirrors (empty: the public mirrors).
    pub mirrors: Vec<String>,
    /// Validation share.
    pub val_fraction: f64,
    /// Stratified subset size, if any.
    pub limit: Option<usize>,
    /// The user's own data (`--data`), read instead of `dataset`.
    #[serde(default)]
    pub user: Option<UserData>,
    /// A validation file of the same kind as `user` (`--val`), instead of a split.
    #[serde(default)]
    pub val: Option<PathBuf>,
    /// The features' scale (`--scale`); none: the data's default (`unit` for pixels,
    /// `standard` for tables and arrays).
    #[serde(default)]
    pub scale: Option<Scale>,
}

impl Default for DataConfig {
    fn default() -> Self {
        let split = SplitConfig::default();
        Self {
            dataset: DatasetKind::Mnist,
            data_dir: None,
            mirrors: Vec::new(),
            val_fraction: split.val_fraction,
            limit: split.limit,
            user: None,
            val: None,
            scale: split.scale,
        }
    }
}

impl DataConfig {
    /// The locator for this data (explicit directory, `LRSWEEP_DATA_DIR`, caches, mirrors).
    pub fn locator(&self) -> Locator {
        let mut locator = Locator::new(self.dataset, self.data_dir.clone());
        if !self.mirrors.is_empty() {
            locator.mirrors = self.mirrors.clone();
        }
        locator
    }

    /// The split for `seed`.
    pub fn split(&self, seed: u64) -> SplitConfig {
        SplitConfig {
            val_fraction: self.val_fraction,
            seed,
            limit: self.limit,
            scale: self.scale,
        }
    }

    /// The validation data named by `--val`: read as the training data is.
    pub fn val_data(&self) -> Option<UserData> {
        let (user, val) = (self.user.as_ref()?, self.val.as_ref()?);
        Some(UserData {
            path: val.clone(),
            labels: None,
            ..user.clone()
        })
    }

    /// What the data is called in messages: the catalogue set's name or the user's path.
    pub fn describe(&self) -> String {
        match &self.user {
            Some(u) => u.path.display().to_string(),
            None => self.dataset.to_string(),
        }
    }
}

/// A learning-rate sweep; the defaults are the reference experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// The rates listed by the user, in order.
    pub rates: Vec<f64>,
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
    /// Hidden units.
    pub hidden: usize,
    /// Loss form.
    pub loss: LossKind,
    /// Adam form.
    pub adam: AdamVariant,
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
    /// Skip the learning-rate range test that runs before the sweep.
    #[serde(default)]
    pub no_find: bool,
    /// Train a round's rates one after another instead of together as one stack.
    #[serde(default)]
    pub serial: bool,
    /// Backend asked for.
    pub backend: BackendChoice,
    /// How the CPU engine computes the input layer (`--backend cpu`): sparse, dense, or auto.
    #[serde(default)]
    pub cpu_path: CpuPath,
    /// The wgpu adapters a round is spread over, one worker thread each (`--devices`); none:
    /// the one device `backend` chooses.
    #[serde(default)]
    pub devices: Option<DeviceSpec>,
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
            hidden: ModelConfig::default().hidden,
            loss: train.loss,
            adam: train.adam.variant,
            reshuffle: train.reshuffle,
            patience: None,
            prune: None,
            restore_best: false,
            full_curves: false,
            seeds: 1,
            no_find: false,
            serial: false,
            backend: BackendChoice::Auto,
            cpu_path: CpuPath::Auto,
            devices: None,
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

    /// The batch size `arm` trains at.
    pub fn batch_of(&self, arm: Arm) -> usize {
        arm.batch.unwrap_or(self.batch_size)
    }

    /// The rate Adam takes for `arm`: its rate scaled for its batch size ([`ScaleLr`]).
    pub fn effective_rate(&self, arm: Arm) -> f64 {
        self.scale_lr.scale(arm.rate, self.batch_of(arm))
    }

    /// The most members trained at once: the largest round (each rate under every schedule and
    /// seed; each batch size is a stack of its own), or one with `--serial`.
    pub fn stack_size(&self) -> usize {
        if self.serial {
            1
        } else {
            self.rates.len().max(self.refine).max(1)
                * self.schedules.len().max(1)
                * self.seeds.max(1)
        }
    }

    /// `rates` at each of the run's batch sizes under each of its schedules (size by size,
    /// schedule by schedule): a round's arms.
    pub fn arms(&self, rates: &[f64]) -> Vec<Arm> {
        let mut arms = Vec::new();
        for size in self.sizes() {
            let batch = (size != self.batch_size).then_some(size);
            for &schedule in &self.schedules {
                arms.extend(rates.iter().map(|&rate| Arm {
                    rate,
                    schedule,
                    batch,
                }));
            }
        }
        arms
    }

    /// The groups a run compares (each refined on its own): every batch size under every
    /// schedule, as arms of rate 0.
    pub fn groups(&self) -> Vec<Arm> {
        self.arms(&[0.0])
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

    /// The directory of `arm` under `seed` inside the run: `lr-<rate>` for the reference's
    /// schedule and the run's seed, with what differs added: `lr-0.001-cosine`,
    /// `lr-0.001-seed43`, `lr-0.001-step-2-0.5-seed43`.
    pub fn member_dir(&self, arm: Arm, seed: u64) -> String {
        let mut name = format!("lr-{}", rate_label(arm.rate));
        if let Some(slug) = arm.schedule.slug() {
            name = format!("{name}-{slug}");
        }
        if let Some(size) = arm.batch {
            name = format!("{name}-b{size}");
        }
        if seed != self.seed {
            name = format!("{name}-seed{seed}");
        }
        name
    }

    /// How progress and messages name `arm` under `seed`: `0.001`, `0.001 cosine`, or
    /// `0.001 (seed 43)`.
    pub fn member_label(&self, arm: Arm, seed: u64) -> String {
        let mut label = arm.label();
        if seed != self.seed {
            label = format!("{label} (seed {seed})");
        }
        label
    }

    /// The network for data of `shape` (its input width and class count).
    pub fn model(&self, shape: Shape) -> ModelConfig {
        ModelConfig {
            inputs: shape.inputs,
            hidden: self.hidden,
            classes: shape.classes,
            ..ModelConfig::default()
        }
    }

    /// When a rate stops (the rule its training loop follows), with `classes` classes scored
    /// on `valid_len` validation items: after `epochs`, at divergence, by `patience`.
    pub fn stop_rule(&self, classes: usize, valid_len: usize) -> StopRule {
        self.settings(0.0, Compute::default())
            .stop_rule(classes, valid_len)
    }

    /// The training of one rate, computed the way the selected backend wants it.
    pub fn train(&self, learning_rate: f64, selected: &Selected) -> TrainConfig {
        self.settings(learning_rate, selected.compute)
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
            adam: AdamConfig {
                variant: self.adam,
                ..AdamConfig::default()
            },
            reshuffle: self.reshuffle,
            compute,
        }
    }
}

fn one() -> usize {
    1
}

fn constant_only() -> Vec<Schedule> {
    vec![Schedule::Constant]
}

/// The batch size the linear scaling rule scales from: the reference's.
pub const REFERENCE_BATCH: usize = 256;

/// How `--scale-lr` scales a rate with the batch size (Goyal et al.'s linear scaling rule, or
/// its square-root form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleLr {
    /// Every size trains at the listed rate.
    #[default]
    None,
    /// The rate times size/256.
    Linear,
    /// The rate times √(size/256).
    Sqrt,
}

impl ScaleLr {
    /// `rate` scaled for batches of `size`.
    pub fn scale(self, rate: f64, size: usize) -> f64 {
        let ratio = size as f64 / REFERENCE_BATCH as f64;
        match self {
            ScaleLr::None => rate,
            ScaleLr::Linear => rate * ratio,
            ScaleLr::Sqrt => rate * ratio.sqrt(),
        }
    }

    /// `none`, `linear` or `sqrt`.
    pub fn name(self) -> &'static str {
        match self {
            ScaleLr::None => "none",
            ScaleLr::Linear => "linear",
            ScaleLr::Sqrt => "sqrt",
        }
    }
}

impl std::str::FromStr for ScaleLr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "none" => Ok(ScaleLr::None),
            "linear" => Ok(ScaleLr::Linear),
            "sqrt" => Ok(ScaleLr::Sqrt),
            other => Err(format!(
                "unknown --scale-lr '{other}': choose none, linear (rate × size/256) or sqrt (rate × √(size/256))"
            )),
        }
    }
}

impl std::fmt::Display for ScaleLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One configuration a run trains: a listed or refined rate under one of the run's schedules
/// at one of its batch sizes. Recorded in `config.json` as the bare rate for the reference's
/// schedule at the run's batch size (as older versions recorded every rate), as `{"rate",
/// "schedule", "batch_size"}` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "ArmRecord", into = "ArmRecord")]
pub struct Arm {
    /// The learning rate as listed (or refined), before any batch-size scaling.
    pub rate: f64,
    /// Its schedule.
    pub schedule: Schedule,
    /// Its batch size when the run lists several and it is not the run's `batch_size`.
    pub batch: Option<usize>,
}

impl Arm {
    /// The rate under the reference's schedule at the run's batch size.
    pub fn constant(rate: f64) -> Self {
        Self {
            rate,
            schedule: Schedule::Constant,
            batch: None,
        }
    }

    /// The same rate and schedule at another rate (a group's refined rate).
    pub fn at(self, rate: f64) -> Self {
        Self { rate, ..self }
    }

    /// Whether `other` is of the same group: the same schedule and batch size.
    pub fn same_group(&self, other: &Arm) -> bool {
        self.schedule == other.schedule && self.batch == other.batch
    }

    /// `0.001`, with what differs from the reference: `0.001 cosine`, `0.001 b1024`.
    pub fn label(&self) -> String {
        let mut label = rate_label(self.rate);
        if self.schedule != Schedule::Constant {
            label = format!("{label} {}", self.schedule);
        }
        if let Some(size) = self.batch {
            label = format!("{label} b{size}");
        }
        label
    }

    /// The group in a file name: `cosine`, `b1024`, `step-2-0.5-b1024`; `constant` for the
    /// reference's.
    pub fn group_slug(&self) -> String {
        let mut parts: Vec<String> = self.schedule.slug().into_iter().collect();
        parts.extend(self.batch.map(|size| format!("b{size}")));
        match parts.is_empty() {
            true => "constant".to_string(),
            false => parts.join("-"),
        }
    }

    /// The group's name (schedule and batch size): `cosine, batch 1024`; empty for the
    /// reference's.
    pub fn group_label(&self) -> String {
        let mut parts = Vec::new();
        if self.schedule != Schedule::Constant {
            parts.push(self.schedule.to_string());
        }
        if let Some(size) = self.batch {
            parts.push(format!("batch {size}"));
        }
        parts.join(", ")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum ArmRecord {
    Rate(f64),
    Full {
        rate: f64,
        #[serde(default)]
        schedule: Schedule,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_size: Option<usize>,
    },
}

impl From<ArmRecord> for Arm {
    fn from(r: ArmRecord) -> Self {
        match r {
            ArmRecord::Rate(rate) => Arm::constant(rate),
            ArmRecord::Full {
                rate,
                schedule,
                batch_size,
            } => Arm {
                rate,
                schedule,
                batch: batch_size,
            },
        }
    }
}

impl From<Arm> for ArmRecord {
    fn from(a: Arm) -> Self {
        match (a.schedule, a.batch) {
            (Schedule::Constant, None) => ArmRecord::Rate(a.rate),
            (schedule, batch_size) => ArmRecord::Full {
                rate: a.rate,
                schedule,
                batch_size,
            },
        }
    }
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

/// Longest label in fixed-point form; longer ones use an exponent, so that a directory name
/// (`lr-<label>`) stays short whatever the rate.
const MAX_FIXED_LABEL: usize = 16;

/// A rate written the way the reference did: fixed-point, no trailing zeros (0.001, 0.00025);
/// with an exponent (`1.2345e-9`, `3e20`) where that would be longer than 16 characters.
pub fn rate_label(rate: f64) -> String {
    // Rust's `Display` for f64 is the shortest round-trip form and never uses an exponent.
    let fixed = format!("{rate}");
    if fixed.len() <= MAX_FIXED_LABEL {
        fixed
    } else {
        format!("{rate:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_fixed_point_without_trailing_zeros() {
        let cases = [
            (1e-5, "0.00001"),
            (1e-4, "0.0001"),
            (1e-3, "0.001"),
            (1e-2, "0.01"),
            (1e-1, "0.1"),
            (5e-4, "0.0005"),
            (2.5e-4, "0.00025"),
            (1.0, "1"),
            (1e-10, "0.0000000001"),
            (1.2345678901e-9, "1.2345678901e-9"),
            (3e38, "3e38"),
            (1e-320, "1e-320"),
        ];
        for (r, l) in cases {
            assert_eq!(rate_label(r), l);
            assert!(rate_label(r).len() <= 24);
        }
    }
}
