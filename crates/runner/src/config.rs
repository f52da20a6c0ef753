//! What a sweep runs, as one serialisable struct (saved as `config.json` with the run).

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, Scale, Shape, SplitConfig, UserData};
use lrsweep_model::{
    AdamConfig, AdamVariant, Compute, CpuPath, LossKind, ModelConfig, StopRule, TrainConfig,
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
    /// Images per batch.
    pub batch_size: usize,
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
    /// The most rates trained at once: the largest round, or one with `--serial`.
    pub fn stack_size(&self) -> usize {
        if self.serial {
            1
        } else {
            self.rates.len().max(self.refine).max(1) * self.seeds.max(1)
        }
    }

    /// The seeds each rate trains under: the run's, then the next ones (`--seeds`).
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.seeds.max(1) as u64)
            .map(|j| self.seed.wrapping_add(j))
            .collect()
    }

    /// The directory of `rate` under `seed` inside the run: `lr-<rate>` for the run's seed,
    /// `lr-<rate>-seed<seed>` for a further one.
    pub fn member_dir(&self, rate: f64, seed: u64) -> String {
        if seed == self.seed {
            format!("lr-{}", rate_label(rate))
        } else {
            format!("lr-{}-seed{seed}", rate_label(rate))
        }
    }

    /// How progress and messages name `rate` under `seed`: `0.001`, or `0.001 (seed 43)`.
    pub fn member_label(&self, rate: f64, seed: u64) -> String {
        if seed == self.seed {
            rate_label(rate)
        } else {
            format!("{} (seed {seed})", rate_label(rate))
        }
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
