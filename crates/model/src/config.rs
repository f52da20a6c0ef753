//! What defines a training run besides the data and the device: the run's settings, which code
//! computes its steps (the compute choice), and the checks that it can run.

use std::str::FromStr;

use lrsweep_data::Part;
use serde::{Deserialize, Serialize};

use crate::loss::LossKind;
use crate::optim::OptimizerConfig;
use crate::record::TrainError;
use crate::stop::{Hopeless, StopRule};

/// Everything that defines one training run except the data and the device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The learning rate (of a run of one; a stack's members bring their own).
    pub learning_rate: f64,
    /// Epochs to train (the reference: 150).
    pub epochs: usize,
    /// Early stopping: stop a member when validation loss has not improved for this many
    /// epochs (the reference: none).
    #[serde(default)]
    pub patience: Option<usize>,
    /// Train every member to the last epoch, even one the curves show hopeless ([`Hopeless`]),
    /// as the reference did (default: a settled hopeless member stops).
    #[serde(default)]
    pub full_curves: bool,
    /// Images per batch; the last batch of an epoch is smaller (the reference: 256).
    pub batch_size: usize,
    /// Epochs of linear warm-up in front of every member's schedule (the reference: none).
    #[serde(default)]
    pub warmup: usize,
    /// Seed of the initial weights (and of the per-epoch order when reshuffling).
    pub seed: u64,
    /// The loss to train and report with.
    pub loss: LossKind,
    /// The optimizer (of a run of one, and of a stack's members that bring none of their own).
    pub optimizer: OptimizerConfig,
    /// Reshuffle the training order every epoch (the reference keeps it fixed: false).
    pub reshuffle: bool,
    /// Which code computes a step.
    #[serde(default)]
    pub compute: Compute,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            epochs: 150,
            patience: None,
            full_curves: false,
            batch_size: 256,
            warmup: 0,
            seed: 42,
            loss: LossKind::Keras,
            optimizer: OptimizerConfig::default(),
            reshuffle: false,
            compute: Compute::default(),
        }
    }
}

impl TrainConfig {
    /// When a member whose curves are read against `hopeless` stops: after `epochs`, at
    /// divergence (a settled hopeless reading too, unless `full_curves`), or by `patience`.
    pub fn stop_rule(&self, hopeless: Hopeless) -> StopRule {
        StopRule::new(
            self.epochs,
            self.patience,
            (!self.full_curves).then_some(hopeless),
        )
    }

    /// Refuses a configuration that cannot train at `rate`: a rate that is not a positive
    /// number, batch 0.
    pub(crate) fn check(&self, rate: f64) -> Result<(), TrainError> {
        check_rate(rate)?;
        if self.batch_size == 0 {
            return Err(TrainError::ZeroBatch);
        }
        Ok(())
    }
}

/// Refuses a learning rate that is not a finite number above 0.
pub(crate) fn check_rate(rate: f64) -> Result<(), TrainError> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(TrainError::InvalidRate(rate))
    }
}

/// Which code computes a training step: the compute choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compute {
    /// Burn's tensor operations on the device ([`crate::TensorStack`]): any backend, with
    /// Adam's update where `UpdateExec` says.
    Tensor(UpdateExec),
    /// lrsweep's CPU engine ([`crate::HostStack`]) on host memory, its input layer as
    /// [`CpuPath`] asks.
    Cpu(CpuPath),
}

impl Default for Compute {
    fn default() -> Self {
        Compute::Tensor(UpdateExec::OnDevice)
    }
}

/// Where the tensor engine's Adam update runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateExec {
    /// Element-wise tensor operations on the device (any backend; right for GPUs).
    #[default]
    OnDevice,
    /// One fused pass over host memory, for CPU backends whose tensors live there (flex,
    /// ndarray): a dozen element-wise passes become one. Same arithmetic, same results.
    FusedOnHost,
}

/// Above this fraction of non-zero pixels `Auto` takes the dense products: the sparse ones do
/// one multiply-add per load where the dense product reuses what it loads, so skipping zeros
/// pays only below it (measured with `lrsweep bench --backends cpu --cpu-path sparse|dense`).
pub const SPARSE_MAX_DENSITY: f64 = 0.35;

/// The most features the sparse layout indexes (its column indices are `u16`).
pub const SPARSE_MAX_INPUTS: usize = u16::MAX as usize + 1;

/// How the user asks the CPU engine to compute the input layer's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuPath {
    /// Sparse when the training images' density is at most [`SPARSE_MAX_DENSITY`], else dense.
    #[default]
    Auto,
    /// Products over each image's non-zero pixels.
    Sparse,
    /// Dense matrix products (the `gemm` crate).
    Dense,
}

/// The layout the CPU engine computes with: [`CpuPath`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuLayout {
    /// Images by their non-zero pixels; W1 in column blocks.
    Sparse,
    /// Images as dense rows; W1 row-major.
    Dense,
}

impl CpuLayout {
    /// `sparse` or `dense`.
    pub fn name(self) -> &'static str {
        match self {
            CpuLayout::Sparse => "sparse",
            CpuLayout::Dense => "dense",
        }
    }
}

impl std::fmt::Display for CpuLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl CpuPath {
    /// The layout to take for images with `density` non-zero pixels.
    pub fn resolve(self, density: f64) -> CpuLayout {
        match self {
            CpuPath::Auto if density <= SPARSE_MAX_DENSITY => CpuLayout::Sparse,
            CpuPath::Auto | CpuPath::Dense => CpuLayout::Dense,
            CpuPath::Sparse => CpuLayout::Sparse,
        }
    }

    /// The layout to take when training on `train` (its density decides `Auto`; more features
    /// than a sparse layout indexes, [`SPARSE_MAX_INPUTS`], take the dense one).
    pub fn layout_for(self, train: &Part) -> CpuLayout {
        match self {
            CpuPath::Auto if train.width() > SPARSE_MAX_INPUTS => CpuLayout::Dense,
            CpuPath::Auto => self.resolve(train.density()),
            other => other.resolve(0.0),
        }
    }

    /// `auto`, `sparse` or `dense`.
    pub fn name(self) -> &'static str {
        match self {
            CpuPath::Auto => "auto",
            CpuPath::Sparse => "sparse",
            CpuPath::Dense => "dense",
        }
    }
}

impl FromStr for CpuPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(CpuPath::Auto),
            "sparse" => Ok(CpuPath::Sparse),
            "dense" => Ok(CpuPath::Dense),
            other => Err(format!(
                "unknown CPU path '{other}': choose auto, sparse or dense"
            )),
        }
    }
}

impl std::fmt::Display for CpuPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_layouts() {
        assert_eq!(CpuPath::Auto.resolve(0.19), CpuLayout::Sparse);
        assert_eq!(CpuPath::Auto.resolve(0.5), CpuLayout::Dense);
        assert_eq!(CpuPath::Dense.resolve(0.01), CpuLayout::Dense);
        assert_eq!(CpuPath::Sparse.resolve(0.9), CpuLayout::Sparse);
        for p in [CpuPath::Auto, CpuPath::Sparse, CpuPath::Dense] {
            assert_eq!(p.name().parse::<CpuPath>(), Ok(p));
        }
        assert!("fast".parse::<CpuPath>().is_err());
        let config = TrainConfig::default();
        assert!(matches!(config.check(0.0), Err(TrainError::InvalidRate(_))));
        assert!(matches!(
            config.check(f64::NAN),
            Err(TrainError::InvalidRate(_))
        ));
        let zero = TrainConfig {
            batch_size: 0,
            ..config
        };
        assert!(matches!(zero.check(1e-3), Err(TrainError::ZeroBatch)));
    }
}
