//! One model in training (a stack of one) and the configuration of a training run.

use std::sync::atomic::AtomicBool;

use crate::config::{check_config, TrainConfig};
use crate::data::{Batch, DeviceData};
use crate::mlp::{linear_parts, Mlp, ModelConfig};
use crate::record::{Score, TrainError};
use crate::stack::{Joining, StackTrainer};
use crate::state::{read_tensor, TrainerState, STATE_TENSORS};
use burn::tensor::{Device, Tensor};

/// One model in training: a stack of one ([`StackTrainer`]), so that a rate trained alone and
/// in a stack follow the same code.
#[derive(Debug, Clone)]
pub struct Trainer {
    stack: StackTrainer,
}

impl Trainer {
    /// Starts training `model` (whose tensors live on the device to train on), with zero moments.
    pub fn new(model: Mlp, config: TrainConfig) -> Result<Self, TrainError> {
        check_config(&config)?;
        let device = model.hidden.weight.val().device();
        Self::restore(&initial_state(&model)?, config, &device)
    }

    /// Continues from a saved state on `device`.
    pub fn restore(
        state: &TrainerState,
        config: TrainConfig,
        device: &Device,
    ) -> Result<Self, TrainError> {
        check_config(&config)?;
        let shape = shape_of(state)?;
        Ok(Self {
            stack: StackTrainer::new(
                &shape,
                config,
                &[Joining {
                    rate: config.learning_rate,
                    state: Some(state),
                }],
                device,
            )?,
        })
    }

    /// The network with the current weights.
    pub fn model(&self) -> Mlp {
        self.stack.model(0)
    }

    /// Changes the learning rate for the following steps (a schedule, or a range test).
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), TrainError> {
        self.stack.set_learning_rate(0, lr)
    }

    /// Adam steps taken so far.
    pub fn steps(&self) -> u64 {
        self.stack.steps()[0]
    }

    /// One Adam step on a batch; returns the batch's summed loss and number of correct
    /// predictions as a two-element tensor left on the device.
    pub fn train_step(&mut self, batch: Batch) -> Tensor<1> {
        self.stack.train_step(batch).reshape([2])
    }

    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Score, TrainError> {
        Ok(self.stack.train_epoch(data)?[0])
    }

    /// Like [`Trainer::train_epoch`], but checks `interrupt` before every batch and gives up the
    /// epoch (returning `None`, the weights part-way through it) once it is set.
    pub fn train_epoch_unless(
        &mut self,
        data: &DeviceData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Score>, TrainError> {
        Ok(self
            .stack
            .train_epoch_unless(data, interrupt)?
            .map(|s| s[0]))
    }

    /// Loss and accuracy of the current weights on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Score, TrainError> {
        Ok(self.stack.evaluate(data)?[0])
    }

    /// Reads the full state back to the host (a device sync).
    pub fn state(&self) -> Result<TrainerState, TrainError> {
        self.stack.state(0)
    }
}

/// The network shape a saved state holds.
fn shape_of(state: &TrainerState) -> Result<ModelConfig, TrainError> {
    let dims = |i: usize| state.tensors.get(i).map(|(s, _)| s.clone());
    match (dims(0), dims(6)) {
        (Some(w1), Some(w2)) if w1.len() == 2 && w2.len() == 2 && w1[1] == w2[0] => {
            Ok(ModelConfig {
                inputs: w1[0],
                hidden: w1[1],
                classes: w2[1],
                ..ModelConfig::default()
            })
        }
        _ => Err(TrainError::BadState(format!(
            "{} tensors that are not the two layers of an MLP",
            state.tensors.len()
        ))),
    }
}

/// The state of `model` before its first step: its weights, zero moments.
pub(crate) fn initial_state(model: &Mlp) -> Result<TrainerState, TrainError> {
    let (w1, b1) = linear_parts(&model.hidden);
    let (w2, b2) = linear_parts(&model.output);
    let mut tensors = Vec::with_capacity(STATE_TENSORS);
    for (shape, values) in [
        read_tensor(&w1)?,
        read_tensor(&b1)?,
        read_tensor(&w2)?,
        read_tensor(&b2)?,
    ] {
        let zeros = vec![0.0; values.len()];
        tensors.push((shape.clone(), values));
        tensors.push((shape.clone(), zeros.clone()));
        tensors.push((shape, zeros));
    }
    Ok(TrainerState { step: 0, tensors })
}
