//! One model in training: the step maths (forward, hand-derived backward pass, Adam) over
//! device-resident batches, with one read-back per epoch.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{AdamConfig, Slot, UpdateExec};
use crate::data::{Batch, DeviceData};
use crate::loss::{self, LossKind};
use crate::mlp::{forward, linear_parts, Mlp};
use crate::record::{Score, TrainError};
use crate::state::{slot_from, slot_state, TrainerState, STATE_TENSORS};

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
        }
    }
}

/// The network's parameters and Adam's state during training.
#[derive(Debug, Clone)]
pub struct Trainer {
    /// Always `Some` between calls; taken during a step so the update owns its tensors.
    params: Option<Params>,
    step: u64,
    config: TrainConfig,
}

/// The four parameter tensors with Adam's moments.
#[derive(Debug, Clone)]
struct Params {
    w1: Slot<2>,
    b1: Slot<1>,
    w2: Slot<2>,
    b2: Slot<1>,
}

impl Params {
    fn forward(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        forward(
            x,
            &self.w1.param,
            &self.b1.param,
            &self.w2.param,
            &self.b2.param,
        )
    }
}

impl Trainer {
    /// Starts training `model` (whose tensors live on the device to train on).
    pub fn new(model: Mlp, config: TrainConfig) -> Result<Self, TrainError> {
        check_config(&config)?;
        let (w1, b1) = linear_parts(&model.hidden);
        let (w2, b2) = linear_parts(&model.output);
        Ok(Self {
            params: Some(Params {
                w1: Slot::new(w1),
                b1: Slot::new(b1),
                w2: Slot::new(w2),
                b2: Slot::new(b2),
            }),
            step: 0,
            config,
        })
    }

    /// The network with the current weights.
    pub fn model(&self) -> Mlp {
        use burn::module::Param;
        let layer = |w: &Tensor<2>, b: &Tensor<1>| burn::nn::Linear {
            weight: Param::from_tensor(w.clone()),
            bias: Some(Param::from_tensor(b.clone())),
        };
        let p = self.params();
        Mlp {
            hidden: layer(&p.w1.param, &p.b1.param),
            output: layer(&p.w2.param, &p.b2.param),
        }
    }

    fn params(&self) -> &Params {
        self.params
            .as_ref()
            .expect("parameters are only taken during a step")
    }

    /// Changes the learning rate for the following steps (a schedule, or a range test).
    pub fn set_learning_rate(&mut self, lr: f64) -> Result<(), TrainError> {
        check_config(&TrainConfig {
            learning_rate: lr,
            ..self.config
        })?;
        self.config.learning_rate = lr;
        Ok(())
    }

    /// Adam steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// One Adam step on a batch; returns the batch's summed loss and number of correct
    /// predictions as a two-element tensor left on the device.
    pub fn train_step(&mut self, batch: Batch) -> Tensor<1> {
        let Batch { x, y, labels } = batch;
        let p = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let (h, logits) = p.forward(x.clone());
        let correct = logits.clone().argmax(1).equal(labels).float().sum();
        let (losses, dz2) = loss::loss_and_grad(self.config.loss, logits, y);

        let [_, hidden] = h.dims();
        let [_, classes] = dz2.dims();
        let dw2 = h.clone().transpose().matmul(dz2.clone());
        let db2 = dz2.clone().sum_dim(0).reshape([classes]);
        let dz1 = dz2
            .matmul(p.w2.param.clone().transpose())
            .mask_fill(h.lower_equal_elem(0.0), 0.0);
        let dw1 = x.transpose().matmul(dz1.clone());
        let db1 = dz1.sum_dim(0).reshape([hidden]);

        self.step += 1;
        let (adam, exec, lr, t) = (
            self.config.adam,
            self.config.update,
            self.config.learning_rate,
            self.step,
        );
        self.params = Some(Params {
            w1: adam.update_with(exec, lr, t, p.w1, dw1),
            b1: adam.update_with(exec, lr, t, p.b1, db1),
            w2: adam.update_with(exec, lr, t, p.w2, dw2),
            b2: adam.update_with(exec, lr, t, p.b2, db2),
        });
        Tensor::cat(vec![losses.sum(), correct], 0)
    }

    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Score, TrainError> {
        self.train_epoch_unless(data, None)?
            .ok_or(TrainError::Interrupted)
    }

    /// Like [`Trainer::train_epoch`], but checks `interrupt` before every batch and gives up the
    /// epoch (returning `None`, the weights part-way through it) once it is set.
    pub fn train_epoch_unless(
        &mut self,
        data: &DeviceData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Score>, TrainError> {
        let mut totals: Option<Tensor<1>> = None;
        for batch in data.batches() {
            if interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
                return Ok(None);
            }
            let t = self.train_step(batch);
            totals = Some(match totals {
                Some(acc) => acc + t,
                None => t,
            });
        }
        read_score(totals, data.len()).map(Some)
    }

    /// Loss and accuracy of the current weights on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Score, TrainError> {
        let mut totals: Option<Tensor<1>> = None;
        let p = self.params();
        for Batch { x, y, labels } in data.batches() {
            let (_, logits) = p.forward(x);
            let correct = logits.clone().argmax(1).equal(labels).float().sum();
            let t = Tensor::cat(
                vec![loss::loss(self.config.loss, logits, y).sum(), correct],
                0,
            );
            totals = Some(match totals {
                Some(acc) => acc + t,
                None => t,
            });
        }
        read_score(totals, data.len())
    }

    /// Reads the full state back to the host (a device sync).
    pub fn state(&self) -> Result<TrainerState, TrainError> {
        let p = self.params();
        let mut tensors = Vec::with_capacity(STATE_TENSORS);
        tensors.extend(slot_state(&p.w1)?);
        tensors.extend(slot_state(&p.b1)?);
        tensors.extend(slot_state(&p.w2)?);
        tensors.extend(slot_state(&p.b2)?);
        Ok(TrainerState {
            step: self.step,
            tensors,
        })
    }

    /// Continues from a saved state on `device`.
    pub fn restore(
        state: &TrainerState,
        config: TrainConfig,
        device: &Device,
    ) -> Result<Self, TrainError> {
        if state.tensors.len() != STATE_TENSORS {
            return Err(TrainError::BadState(format!(
                "{} tensors, expected {STATE_TENSORS}",
                state.tensors.len()
            )));
        }
        check_config(&config)?;
        let t = &state.tensors;
        Ok(Self {
            params: Some(Params {
                w1: slot_from(&t[0..3], device)?,
                b1: slot_from(&t[3..6], device)?,
                w2: slot_from(&t[6..9], device)?,
                b2: slot_from(&t[9..12], device)?,
            }),
            step: state.step,
            config,
        })
    }
}

fn read_score(totals: Option<Tensor<1>>, n: usize) -> Result<Score, TrainError> {
    let Some(totals) = totals else {
        return Err(TrainError::NoData(
            "there are no images to train or evaluate on".into(),
        ));
    };
    let values = totals
        .try_into_data()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    Ok(Score {
        loss: values[0] as f64 / n as f64,
        accuracy: values[1] as f64 / n as f64,
    })
}

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
