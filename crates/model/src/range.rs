//! The training loop of a learning-rate range test: one batch per rate, the rate growing
//! geometrically, each batch's mean loss handed to the caller, who decides when to stop.

use burn::tensor::Device;
use lrsweep_data::Part;

use crate::config::{Compute, TrainConfig, UpdateExec};
use crate::loss::LossKind;
use crate::network::read_tensor;
use crate::record::{Flow, TrainError};
use crate::shape::ModelConfig;
use crate::tensor::{DeviceData, Trainer};

/// The schedule of a range test; the defaults are fastai's `lr_find`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RangeConfig {
    /// Most batches to train.
    pub steps: usize,
    /// First learning rate.
    pub start: f64,
    /// Last learning rate.
    pub end: f64,
}

impl Default for RangeConfig {
    fn default() -> Self {
        Self {
            steps: 100,
            start: 1e-7,
            end: 10.0,
        }
    }
}

impl RangeConfig {
    /// The rate of 0-based step `i`: geometric from `start` to `end`.
    pub fn rate(&self, i: usize) -> f64 {
        self.start * (self.end / self.start).powf(i as f64 / (self.steps - 1).max(1) as f64)
    }
}

/// Trains a fresh model from `train.seed` for at most `schedule.steps` batches of `part`
/// (repeating the data if needed), the rate following `schedule`; `on_step(rate, loss)`
/// sees each batch's mean loss and may stop the test. Scores with the exact cross-entropy,
/// whatever `train.loss` says: Keras' clipped loss saturates at 16.1 and would hide divergence.
pub fn range_test(
    model: &ModelConfig,
    train: TrainConfig,
    part: &Part,
    device: &Device,
    schedule: &RangeConfig,
    mut on_step: impl FnMut(f64, f64) -> Flow,
) -> Result<(), TrainError> {
    // A test of ~100 steps at changing rates: the tensor engine, whatever trains the sweep
    // (with the CPU engine's choice, on the host).
    let compute = match train.compute {
        Compute::Cpu(_) => Compute::Tensor(UpdateExec::FusedOnHost),
        tensor => tensor,
    };
    let train = TrainConfig {
        compute,
        loss: LossKind::Exact,
        learning_rate: schedule.start,
        ..train
    };
    if part.is_empty() {
        return Err(TrainError::NoData(
            "the range test needs training images".into(),
        ));
    }
    let mut trainer = Trainer::new(model, model.init(train.seed, device), train)?;
    let data = DeviceData::upload(part, train.batch_size, None, device);
    let mut batches = std::iter::repeat_with(|| data.batches()).flatten();
    for i in 0..schedule.steps {
        let rate = schedule.rate(i);
        trainer.set_rate(rate)?;
        let Some(batch) = batches.next() else { break };
        let rows = batch.x.dims()[0];
        let (_, totals) = read_tensor(&trainer.train_step(batch))?;
        if on_step(rate, totals[0] as f64 / rows as f64) == Flow::Stop {
            break;
        }
    }
    Ok(())
}
