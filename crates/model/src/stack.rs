//! Several models trained together: one per learning rate, the same data, the same batches in
//! the same order, their parameters stacked along a leading dimension so that every operation of
//! a step (the matrix products as batched products) serves all of them at once. On a GPU that
//! is one set of kernel launches for K rates instead of K sets.
//!
//! Members are independent: every operation works slice by slice along the leading dimension,
//! so a member's numbers never depend on another's (a diverging member's NaN stays in its slice),
//! and a member trained in a stack of one follows the same code as in a stack of many.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::adam::Slot;
use crate::config::{check_config, TrainConfig};
use crate::data::{Batch, DeviceData};
use crate::loss;
use crate::mlp::{forward_stack, Mlp, ModelConfig};
use crate::record::{Score, TrainError};
use crate::state::{read_tensor, TrainerState, STATE_TENSORS};

/// A member joining a stack: its learning rate, and the state to continue from (`None`: fresh
/// weights from the configuration's seed, the same for every member).
#[derive(Debug, Clone, Copy)]
pub struct Joining<'a> {
    /// The member's learning rate.
    pub rate: f64,
    /// Where it continues from.
    pub state: Option<&'a TrainerState>,
}

/// K models in training, stacked: `w1 [K, in, H]`, `b1 [K, 1, H]`, `w2 [K, H, C]`, `b2 [K, 1, C]`,
/// each with Adam's moments; per member a learning rate and a step count.
#[derive(Debug, Clone)]
pub struct StackTrainer {
    /// Always `Some` between calls; taken during a step so the update owns its tensors.
    params: Option<[Slot<3>; 4]>,
    rates: Vec<f64>,
    steps: Vec<u64>,
    config: TrainConfig,
    model: ModelConfig,
}

/// The shapes of one member's four parameters, as saved in a [`TrainerState`].
pub(crate) fn member_shapes(m: &ModelConfig) -> [Vec<usize>; 4] {
    [
        vec![m.inputs, m.hidden],
        vec![m.hidden],
        vec![m.hidden, m.classes],
        vec![m.classes],
    ]
}

/// The same as stacked slices `[1, rows, cols]` (biases as one row).
fn slice_shape(m: &ModelConfig, i: usize) -> [usize; 3] {
    match i {
        0 => [1, m.inputs, m.hidden],
        1 => [1, 1, m.hidden],
        2 => [1, m.hidden, m.classes],
        _ => [1, 1, m.classes],
    }
}

impl StackTrainer {
    // Long but linear: check the members, gather each one's twelve slices (saved or fresh),
    // stack them. Splitting it would only pass the twelve lists around.
    /// A stack of `members` on `device`; `config.learning_rate` is ignored (each member has its
    /// own). Saved states must fit `model`.
    pub fn new(
        model: &ModelConfig,
        config: TrainConfig,
        members: &[Joining],
        device: &Device,
    ) -> Result<Self, TrainError> {
        if members.is_empty() {
            return Err(TrainError::InvalidConfig(
                "a stack needs at least one rate".into(),
            ));
        }
        for m in members {
            check_config(&TrainConfig {
                learning_rate: m.rate,
                ..config
            })?;
        }
        let fresh = members
            .iter()
            .any(|m| m.state.is_none())
            .then(|| model.init(config.seed, device));
        let shapes = member_shapes(model);
        // Per parameter (w1, b1, w2, b2) and per part (value, m, v): every member's slice.
        let mut parts: Vec<Vec<Tensor<3>>> =
            (0..12).map(|_| Vec::with_capacity(members.len())).collect();
        for member in members {
            let tensors: Vec<Tensor<3>> = match member.state {
                Some(state) => {
                    check_state(state, &shapes)?;
                    state
                        .tensors
                        .iter()
                        .enumerate()
                        .map(|(i, (_, values))| {
                            Tensor::from_data(
                                TensorData::new(values.clone(), slice_shape(model, i / 3)),
                                device,
                            )
                        })
                        .collect()
                }
                None => {
                    let mlp = fresh.as_ref().expect("made when a member is fresh");
                    let (w1, b1) = crate::mlp::linear_parts(&mlp.hidden);
                    let (w2, b2) = crate::mlp::linear_parts(&mlp.output);
                    let values = [
                        w1.reshape(slice_shape(model, 0)),
                        b1.reshape(slice_shape(model, 1)),
                        w2.reshape(slice_shape(model, 2)),
                        b2.reshape(slice_shape(model, 3)),
                    ];
                    values
                        .into_iter()
                        .flat_map(|p| [p.clone(), p.zeros_like(), p.zeros_like()])
                        .collect()
                }
            };
            for (part, t) in parts.iter_mut().zip(tensors) {
                part.push(t);
            }
        }
        let mut stacked = parts.into_iter().map(|p| Tensor::cat(p, 0));
        let mut slot = || Slot {
            param: stacked.next().expect("12 parts"),
            m: stacked.next().expect("12 parts"),
            v: stacked.next().expect("12 parts"),
        };
        let params = [slot(), slot(), slot(), slot()];
        Ok(Self {
            params: Some(params),
            rates: members.iter().map(|m| m.rate).collect(),
            steps: members
                .iter()
                .map(|m| m.state.map_or(0, |s| s.step))
                .collect(),
            config,
            model: *model,
        })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// The device the stack trains on.
    pub fn device(&self) -> Device {
        self.params()[0].param.device()
    }

    /// Whether the stack has no member left.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// The members' learning rates, in stack order.
    pub fn rates(&self) -> &[f64] {
        &self.rates
    }

    /// Adam steps taken by each member.
    pub fn steps(&self) -> &[u64] {
        &self.steps
    }

    /// Changes member `i`'s learning rate for the following steps (a range test's schedule).
    pub fn set_learning_rate(&mut self, i: usize, lr: f64) -> Result<(), TrainError> {
        check_config(&TrainConfig {
            learning_rate: lr,
            ..self.config
        })?;
        self.rates[i] = lr;
        Ok(())
    }

    fn params(&self) -> &[Slot<3>; 4] {
        self.params
            .as_ref()
            .expect("parameters are only taken during a step")
    }

    /// One Adam step of every member on `batch`; returns `[K, 2]`: each member's summed loss
    /// and number of correct predictions, left on the device.
    pub fn train_step(&mut self, batch: Batch) -> Tensor<2> {
        let Batch { x, y, labels } = batch;
        let [w1, b1, w2, b2] = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let k = self.len();
        let [rows, _] = x.dims();
        let (h, logits) = forward_stack(x.clone(), &w1.param, &b1.param, &w2.param, &b2.param);
        let totals_and_dz2 = self.loss_and_grad(logits, y, labels, rows);
        let (totals, dz2) = totals_and_dz2;

        let dw2 = h.clone().swap_dims(1, 2).matmul(dz2.clone());
        let db2 = dz2.clone().sum_dim(1);
        let dz1 = dz2
            .matmul(w2.param.clone().swap_dims(1, 2))
            .mask_fill(h.lower_equal_elem(0.0), 0.0);
        let dw1 = x.transpose().unsqueeze_dim::<3>(0).matmul(dz1.clone());
        let db1 = dz1.sum_dim(1);

        for t in &mut self.steps {
            *t += 1;
        }
        let adam = self.config.adam;
        let scalars = adam.stack_scalars(&self.rates, &self.steps);
        let exec = self.config.update;
        self.params = Some([
            adam.update_stacked(exec, &scalars, w1, dw1),
            adam.update_stacked(exec, &scalars, b1, db1),
            adam.update_stacked(exec, &scalars, w2, dw2),
            adam.update_stacked(exec, &scalars, b2, db2),
        ]);
        debug_assert_eq!(totals.dims(), [k, 2]);
        totals
    }

    /// Each member's summed loss and correct count `[K, 2]`, and the gradient of each member's
    /// mean loss with respect to its logits `[K, rows, C]`.
    fn loss_and_grad(
        &self,
        logits: Tensor<3>,
        y: Tensor<2>,
        labels: Tensor<2, Int>,
        rows: usize,
    ) -> (Tensor<2>, Tensor<3>) {
        let [k, _, classes] = logits.dims();
        let correct = correct_counts(&logits, labels);
        let target = y.unsqueeze_dim::<3>(0).expand([k, rows, classes]);
        let (losses, dz2) = loss::loss_and_grad_of_batches(
            self.config.loss,
            logits.reshape([k * rows, classes]),
            target.reshape([k * rows, classes]),
            rows,
        );
        let sums = losses.reshape([k, rows]).sum_dim(1);
        (
            Tensor::cat(vec![sums, correct], 1),
            dz2.reshape([k, rows, classes]),
        )
    }

    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        self.train_epoch_unless(data, None)?
            .ok_or(TrainError::Interrupted)
    }

    /// Like [`StackTrainer::train_epoch`], but checks `interrupt` before every batch and gives up
    /// the epoch (returning `None`, the weights part-way through it) once it is set.
    pub fn train_epoch_unless(
        &mut self,
        data: &DeviceData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        let mut totals: Option<Tensor<2>> = None;
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
        read_scores(totals, data.len(), self.len()).map(Some)
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        let [w1, b1, w2, b2] = self.params();
        let mut totals: Option<Tensor<2>> = None;
        for Batch { x, y, labels } in data.batches() {
            let [rows, _] = x.dims();
            let (_, logits) = forward_stack(x, &w1.param, &b1.param, &w2.param, &b2.param);
            let [k, _, classes] = logits.dims();
            let correct = correct_counts(&logits, labels);
            let target = y.unsqueeze_dim::<3>(0).expand([k, rows, classes]);
            let losses = loss::loss(
                self.config.loss,
                logits.reshape([k * rows, classes]),
                target.reshape([k * rows, classes]),
            );
            let t = Tensor::cat(vec![losses.reshape([k, rows]).sum_dim(1), correct], 1);
            totals = Some(match totals {
                Some(acc) => acc + t,
                None => t,
            });
        }
        read_scores(totals, data.len(), self.len())
    }

    /// Member `i`'s state on the host, in the format of a single model's (a device sync).
    pub fn state(&self, i: usize) -> Result<TrainerState, TrainError> {
        let shapes = member_shapes(&self.model);
        let mut tensors = Vec::with_capacity(STATE_TENSORS);
        for (slot, shape) in self.params().iter().zip(&shapes) {
            for t in [&slot.param, &slot.m, &slot.v] {
                let (_, values) = read_tensor(&t.clone().narrow(0, i, 1))?;
                tensors.push((shape.clone(), values));
            }
        }
        Ok(TrainerState {
            step: self.steps[i],
            tensors,
        })
    }

    /// Member `i`'s network with its current weights.
    pub fn model(&self, i: usize) -> Mlp {
        use burn::module::Param;
        let [w1, b1, w2, b2] = self.params();
        let m = &self.model;
        let take2 = |t: &Tensor<3>, shape: [usize; 2]| t.clone().narrow(0, i, 1).reshape(shape);
        let take1 = |t: &Tensor<3>, len: usize| t.clone().narrow(0, i, 1).reshape([len]);
        let layer = |w: Tensor<2>, b: Tensor<1>| burn::nn::Linear {
            weight: Param::from_tensor(w),
            bias: Some(Param::from_tensor(b)),
        };
        Mlp {
            hidden: layer(
                take2(&w1.param, [m.inputs, m.hidden]),
                take1(&b1.param, m.hidden),
            ),
            output: layer(
                take2(&w2.param, [m.hidden, m.classes]),
                take1(&b2.param, m.classes),
            ),
        }
    }

    /// Keeps only the members at positions `keep` (in that order): the others leave the stack.
    pub fn retain(&mut self, keep: &[usize]) {
        if keep.len() == self.len() && keep.iter().enumerate().all(|(i, &k)| i == k) {
            return;
        }
        let params = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let device = params[0].param.device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(
                keep.iter().map(|&k| k as i32).collect::<Vec<_>>(),
                [keep.len()],
            ),
            &device,
        );
        let pick = |t: Tensor<3>| t.select(0, idx.clone());
        self.params = Some(params.map(|s| Slot {
            param: pick(s.param),
            m: pick(s.m),
            v: pick(s.v),
        }));
        self.rates = keep.iter().map(|&k| self.rates[k]).collect();
        self.steps = keep.iter().map(|&k| self.steps[k]).collect();
    }
}

/// Correct predictions per member `[K, 1]` from logits `[K, rows, C]` and labels `[rows, 1]`.
fn correct_counts(logits: &Tensor<3>, labels: Tensor<2, Int>) -> Tensor<2> {
    let [k, rows, _] = logits.dims();
    logits
        .clone()
        .argmax(2)
        .equal(labels.unsqueeze_dim::<3>(0).expand([k, rows, 1]))
        .float()
        .sum_dim(1)
        .reshape([k, 1])
}

pub(crate) fn check_state(
    state: &TrainerState,
    shapes: &[Vec<usize>; 4],
) -> Result<(), TrainError> {
    if state.tensors.len() != STATE_TENSORS {
        return Err(TrainError::BadState(format!(
            "{} tensors, expected {STATE_TENSORS}",
            state.tensors.len()
        )));
    }
    for (i, (shape, values)) in state.tensors.iter().enumerate() {
        let want = &shapes[i / 3];
        if shape != want || values.len() != want.iter().product::<usize>() {
            return Err(TrainError::BadState(format!(
                "a tensor of shape {shape:?} with {} values where {want:?} was expected",
                values.len()
            )));
        }
    }
    Ok(())
}

fn read_scores(totals: Option<Tensor<2>>, n: usize, k: usize) -> Result<Vec<Score>, TrainError> {
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
    Ok((0..k)
        .map(|i| Score {
            loss: values[2 * i] as f64 / n as f64,
            accuracy: values[2 * i + 1] as f64 / n as f64,
        })
        .collect())
}
