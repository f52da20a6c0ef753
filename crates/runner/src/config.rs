//! What a sweep runs, as one serialisable struct (saved as `config.json` with the run).

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, SplitConfig};
use lrsweep_model::{AdamConfig, AdamVariant, LossKind, ModelConfig, TrainConfig, UpdateExec};
use serde::{Deserialize, Serialize};

use crate::backend::BackendChoice;

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
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetKind::Mnist,
            data_dir: None,
            mirrors: Vec::new(),
            val_fraction: 0.15,
            limit: None,
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
    /// Make each rate's `model.bpk` the best epoch's weights rather than the last epoch's.
    #[serde(default)]
    pub restore_best: bool,
    /// Skip the learning-rate range test that runs before the sweep.
    #[serde(default)]
    pub no_find: bool,
    /// Backend asked for.
    pub backend: BackendChoice,
    /// The data.
    pub data: DataConfig,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            rates: vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            refine: 2,
            epochs: 150,
            batch_size: 256,
            seed: 42,
            hidden: 784,
            loss: LossKind::Keras,
            adam: AdamVariant::Keras,
            reshuffle: false,
            patience: None,
            restore_best: false,
            no_find: false,
            backend: BackendChoice::Auto,
            data: DataConfig::default(),
        }
    }
}

impl SweepConfig {
    /// The network.
    pub fn model(&self) -> ModelConfig {
        ModelConfig {
            hidden: self.hidden,
            ..ModelConfig::default()
        }
    }

    /// The training of one rate, with the optimizer update placed where the backend wants it.
    pub fn train(&self, learning_rate: f64, update: UpdateExec) -> TrainConfig {
        TrainConfig {
            learning_rate,
            epochs: self.epochs,
            batch_size: self.batch_size,
            seed: self.seed,
            loss: self.loss,
            adam: AdamConfig {
                variant: self.adam,
                ..AdamConfig::default()
            },
            reshuffle: self.reshuffle,
            update,
        }
    }
}

/// A rate written the way the reference did: fixed-point, no trailing zeros (0.001, 0.00025).
pub fn rate_label(rate: f64) -> String {
    // Rust's `Display` for f64 is the shortest round-trip form and never uses an exponent.
    format!("{rate}")
}

/// The rates to add after a sweep: `n` rates strictly between `best` and `neighbour`, halving
/// (or doubling) from `best` as the reference did (1e-3 toward 1e-4 gives 5e-4, 2.5e-4), or
/// evenly spaced on a log scale where halvings would reach the neighbour.
pub fn refined_rates(best: f64, neighbour: f64, n: usize) -> Vec<f64> {
    let ratio = (neighbour / best).abs();
    let (lo, hi) = if ratio > 1.0 {
        (1.0, ratio)
    } else {
        (ratio, 1.0)
    };
    let span = hi / lo;
    if n == 0 || span <= 1.0 {
        return vec![];
    }
    let toward_up = neighbour > best;
    if 2f64.powi(n as i32) < span {
        (1..=n)
            .map(|k| {
                let f = 2f64.powi(k as i32);
                if toward_up {
                    best * f
                } else {
                    best / f
                }
            })
            .collect()
    } else {
        (1..=n)
            .map(|k| best * (neighbour / best).powf(k as f64 / (n + 1) as f64))
            .collect()
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
        ];
        for (r, l) in cases {
            assert_eq!(rate_label(r), l);
        }
    }

    #[test]
    fn refinement_reproduces_the_reference_and_stays_between() {
        let r = refined_rates(1e-3, 1e-4, 2);
        assert_eq!(r.len(), 2);
        assert!(
            (r[0] - 5e-4).abs() < 1e-15 && (r[1] - 2.5e-4).abs() < 1e-15,
            "{r:?}"
        );
        assert_eq!(refined_rates(1e-3, 1e-2, 2), vec![2e-3, 4e-3]);
        for (b, nb, n) in [(1e-3, 1e-4, 5), (1e-2, 2e-2, 3), (1e-3, 1e-2, 1)] {
            let r = refined_rates(b, nb, n);
            assert_eq!(r.len(), n);
            let (lo, hi) = if b < nb { (b, nb) } else { (nb, b) };
            assert!(r.iter().all(|&x| x > lo && x < hi), "{b} {nb} {r:?}");
        }
        assert!(refined_rates(1e-3, 1e-4, 0).is_empty());
    }
}
