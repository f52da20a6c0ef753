//! One training run: device-resident epochs with a hand-derived backward pass and Adam.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::activation::relu;
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor};
use lrsweep_data::Part;
use serde::{Deserialize, Serialize};

use crate::adam::{AdamConfig, Slot, UpdateExec};
use crate::data::{Batch, DeviceData};
use crate::loss::{self, LossKind};
use crate::mlp::{Mlp, ModelConfig};

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

/// The figures of one epoch, as Keras reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches, weighted by batch size.
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_acc: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation accuracy after the epoch.
    pub val_acc: f64,
    /// Wall-clock seconds of the epoch, training and validation.
    pub seconds: f64,
}

impl EpochRecord {
    /// Whether a loss became NaN or infinite: the run diverged.
    pub fn diverged(&self) -> bool {
        !(self.train_loss.is_finite() && self.val_loss.is_finite())
    }
}

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The configuration cannot be trained.
    #[error("{0}")]
    InvalidConfig(String),
    /// The device failed to execute or read back the work.
    #[error("the device failed: {0}")]
    Device(String),
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

/// Loss and accuracy of a pass over a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Mean loss per image.
    pub loss: f64,
    /// Share of images classified correctly.
    pub accuracy: f64,
}

impl Trainer {
    /// Starts training `model` (whose tensors live on the device to train on).
    pub fn new(model: Mlp, config: TrainConfig) -> Result<Self, TrainError> {
        check_config(&config)?;
        let take = |l: burn::nn::Linear| {
            let w = l.weight.val();
            let b = match l.bias {
                Some(b) => b.val(),
                None => Tensor::zeros([w.dims()[1]], &w.device()),
            };
            (w, b)
        };
        let (w1, b1) = take(model.hidden);
        let (w2, b2) = take(model.output);
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
        let h = relu(linear(
            x.clone(),
            p.w1.param.clone(),
            Some(p.b1.param.clone()),
        ));
        let logits = linear(h.clone(), p.w2.param.clone(), Some(p.b2.param.clone()));
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
            .ok_or_else(|| TrainError::InvalidConfig("interrupted".into()))
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
            let h = relu(linear(x, p.w1.param.clone(), Some(p.b1.param.clone())));
            let logits = linear(h, p.w2.param.clone(), Some(p.b2.param.clone()));
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
}

fn read_score(totals: Option<Tensor<1>>, n: usize) -> Result<Score, TrainError> {
    let Some(totals) = totals else {
        return Err(TrainError::InvalidConfig(
            "no data to train or evaluate on".into(),
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

fn check_config(config: &TrainConfig) -> Result<(), TrainError> {
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

/// A trainer's full state on the host: weights, Adam's moments and step count, so that a run can
/// stop after any epoch and continue later with the same results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Adam steps taken.
    pub step: u64,
    /// The tensors in the order w1, m, v, b1, m, v, w2, m, v, b2, m, v: shape and values.
    pub tensors: Vec<(Vec<usize>, Vec<f32>)>,
}

fn read_tensor<const D: usize>(t: &Tensor<D>) -> Result<(Vec<usize>, Vec<f32>), TrainError> {
    let data = t
        .clone()
        .try_into_data()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    let shape = data.shape().to_vec();
    let values = data
        .try_to_vec::<f32>()
        .map_err(|e| TrainError::Device(format!("{e:?}")))?;
    Ok((shape, values))
}

fn write_tensor<const D: usize>(
    (shape, values): &(Vec<usize>, Vec<f32>),
    device: &Device,
) -> Result<Tensor<D>, TrainError> {
    if shape.len() != D || shape.iter().product::<usize>() != values.len() {
        return Err(TrainError::InvalidConfig(format!(
            "saved state holds a tensor of shape {shape:?} with {} values where a rank-{D} tensor was expected",
            values.len()
        )));
    }
    Ok(Tensor::from_data(
        burn::tensor::TensorData::new(values.clone(), shape.clone()),
        device,
    ))
}

fn slot_state<const D: usize>(s: &Slot<D>) -> Result<[(Vec<usize>, Vec<f32>); 3], TrainError> {
    Ok([
        read_tensor(&s.param)?,
        read_tensor(&s.m)?,
        read_tensor(&s.v)?,
    ])
}

fn slot_from<const D: usize>(
    t: &[(Vec<usize>, Vec<f32>)],
    device: &Device,
) -> Result<Slot<D>, TrainError> {
    Ok(Slot {
        param: write_tensor(&t[0], device)?,
        m: write_tensor(&t[1], device)?,
        v: write_tensor(&t[2], device)?,
    })
}

impl Trainer {
    /// Reads the full state back to the host (a device sync).
    pub fn state(&self) -> Result<TrainerState, TrainError> {
        let p = self.params();
        let mut tensors = Vec::with_capacity(12);
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
        if state.tensors.len() != 12 {
            return Err(TrainError::InvalidConfig(format!(
                "saved state holds {} tensors, expected 12",
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

/// Whether to go on after an epoch (the caller's progress, early stopping or interruption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Train the next epoch.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Trains a fresh model from `config.seed` on `train` and scores it on `valid` after every
/// epoch; `on_epoch` sees each record (and the trainer) as soon as it exists. A diverged epoch
/// (NaN or infinite loss) ends the run: it is the last record.
pub fn fit(
    model_config: &ModelConfig,
    config: &TrainConfig,
    train: &Part,
    valid: &Part,
    device: &Device,
    on_epoch: impl FnMut(&EpochRecord, &Trainer) -> Flow,
) -> Result<Vec<EpochRecord>, TrainError> {
    fit_from(
        model_config,
        config,
        None,
        None,
        train,
        valid,
        device,
        on_epoch,
    )
}

/// Like [`fit`], but continuing from a saved state and the records of the epochs it covers, and
/// giving up the epoch in progress (after its current batch) once `interrupt` is set: the
/// records returned are those of the finished epochs.
#[allow(clippy::too_many_arguments)]
pub fn fit_from(
    model_config: &ModelConfig,
    config: &TrainConfig,
    resume: Option<(&TrainerState, Vec<EpochRecord>)>,
    interrupt: Option<&AtomicBool>,
    train: &Part,
    valid: &Part,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochRecord, &Trainer) -> Flow,
) -> Result<Vec<EpochRecord>, TrainError> {
    if config.batch_size == 0 || train.is_empty() || valid.is_empty() {
        return Err(TrainError::InvalidConfig(format!(
            "need a batch size above 0 and data in both parts (batch {}, train {}, validation {})",
            config.batch_size,
            train.len(),
            valid.len()
        )));
    }
    let (mut trainer, mut records) = match resume {
        Some((state, records)) => (Trainer::restore(state, *config, device)?, records),
        None => (
            Trainer::new(model_config.init(config.seed, device), *config)?,
            Vec::with_capacity(config.epochs),
        ),
    };
    let first = records.len() + 1;
    let order = |epoch: usize| {
        (config.reshuffle && epoch > 1).then(|| {
            lrsweep_data::split::seeded_permutation(
                train.len(),
                config.seed.wrapping_add(epoch as u64),
            )
        })
    };
    let mut train_data =
        DeviceData::upload(train, config.batch_size, order(first).as_deref(), device);
    let valid_data = DeviceData::upload(valid, config.batch_size, None, device);
    for epoch in first..=config.epochs {
        let start = Instant::now();
        if epoch > first {
            if let Some(order) = order(epoch) {
                train_data = DeviceData::upload(train, config.batch_size, Some(&order), device);
            }
        }
        let Some(t) = trainer.train_epoch_unless(&train_data, interrupt)? else {
            break;
        };
        let v = trainer.evaluate(&valid_data)?;
        let record = EpochRecord {
            epoch,
            train_loss: t.loss,
            train_acc: t.accuracy,
            val_loss: v.loss,
            val_acc: v.accuracy,
            seconds: start.elapsed().as_secs_f64(),
        };
        records.push(record);
        if on_epoch(&record, &trainer) == Flow::Stop || record.diverged() {
            break;
        }
    }
    Ok(records)
}
