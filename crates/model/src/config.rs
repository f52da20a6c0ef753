//! What defines a training run besides the data and the device, and the check that it can run.

use serde::{Deserialize, Serialize};

use crate::adam::{AdamConfig, UpdateExec};
use crate::host::CpuPath;
use crate::loss::LossKind;
use crate::record::TrainError;

/// Everything that defines one training run except the data and the device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Epochs to train (the reference: 150).
    pub epochs: usize,
    /// Images per batch; the last batch of an epoch is smaller (the reference: 256).
    pub batch_size: usize,
    /// Seed of the initial weights (and of the per-epoch order when reshuffling).
    pub seed: u64,
    /// The loss to train and report with.
    pub loss: LossKind,
    /// Adam's other hyper-parameters.
    pub adam: AdamConfig,
    /// Reshuffle the training order every epoch (the reference keeps it fixed: false).
    pub reshuffle: bool,
    /// Where the optimizer's update runs (fused on the host for CPU backends).
    #[serde(default)]
    pub update: UpdateExec,
    /// Which code computes a step: Burn's tensor operations, or lrsweep's CPU engine.
    #[serde(default)]
    pub kernels: Kernels,
}

/// Which code computes a training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kernels {
    /// Burn's tensor operations on the device ([`crate::StackTrainer`]): any backend.
    #[default]
    Tensor,
    /// lrsweep's CPU engine ([`crate::HostStack`]) on host memory, by the given path.
    Cpu(CpuPath),
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            epochs: 150,
            batch_size: 256,
            seed: 42,
            loss: LossKind::Keras,
            adam: AdamConfig::default(),
            reshuffle: false,
            update: UpdateExec::OnDevice,
            kernels: Kernels::Tensor,
        }
    }
}

/// Refuses a configuration that cannot train: a rate that is not a positive number, batch 0.
pub(crate) fn check_config(config: &TrainConfig) -> Result<(), TrainError> {
    let lr = config.learning_rate;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(TrainError::InvalidConfig(format!(
            "learning rate {lr} is not a finite number above 0"
        )));
    }
    if config.batch_size == 0 {
        return Err(TrainError::InvalidConfig(
            "batch size 0: use at least 1".into(),
        ));
    }
    Ok(())
}
