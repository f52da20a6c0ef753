//! One model in training on the tensor engine: a stack of one, so that a rate trained alone and
//! in a stack follow the same code. What the range test, `eval` and the step tests drive.

use burn::tensor::Tensor;

use super::{Batch, DeviceData, TensorStack};
use crate::config::TrainConfig;
use crate::network::Mlp;
use crate::record::{Score, TrainError};
use crate::shape::ModelConfig;
use crate::state::{Member, TrainerState};

/// One model in training (a [`TensorStack`] of one).
#[derive(Debug, Clone)]
pub struct Trainer {
    stack: TensorStack,
}

impl Trainer {
    /// Starts training `network` of `model` (whose tensors live on the device to train on) at
    /// `config.learning_rate`, with zero moments; its layers' widths are the network's own.
    pub fn new(model: &ModelConfig, network: Mlp, config: TrainConfig) -> Result<Self, TrainError> {
        config.check(config.learning_rate)?;
        let device = network.hidden.weight.val().device();
        let state = TrainerState::of_network(&network)?;
        let member = Member {
            resume: Some((&state, Vec::new())),
            ..Member::fresh(config.learning_rate)
        };
        Ok(Self {
            stack: TensorStack::new(&state.shape(model)?, config, &[member], &device)?,
        })
    }

    /// The network with the current weights.
    pub fn network(&self) -> Mlp {
        self.stack.network(0)
    }

    /// Changes the learning rate for the following steps (a range test's schedule).
    pub fn set_rate(&mut self, rate: f64) -> Result<(), TrainError> {
        self.stack.set_rate(0, rate)
    }

    /// Adam steps taken so far.
    pub fn steps(&self) -> u64 {
        self.stack.steps()[0]
    }

    /// One Adam step on a batch; returns the batch's summed loss first, then its number of
    /// correct predictions (a regression's error sums: Σe², Σ(e·σ)², Σ|e·σ|), left on the
    /// device.
    pub fn train_step(&mut self, batch: Batch) -> Tensor<1> {
        let totals = self.stack.train_step(batch);
        let [_, n] = totals.dims();
        totals.reshape([n])
    }

    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Score, TrainError> {
        Ok(self.stack.train_epoch(data)?[0])
    }

    /// Loss and accuracy of the current weights on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Score, TrainError> {
        Ok(self.stack.evaluate(data)?[0])
    }
}
