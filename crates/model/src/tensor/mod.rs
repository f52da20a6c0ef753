//! The tensor engine: several members trained together on Burn's tensors, on any backend. The
//! same data, the same batches in the same order; the members' parameters stacked along a
//! leading dimension so that every operation of a step (the matrix products as batched
//! products) serves all of them at once. On a GPU that is one set of kernel launches for K
//! rates instead of K sets.
//!
//! Members are independent: every operation works slice by slice along the leading dimension,
//! so a member's numbers never depend on another's (a diverging member's NaN stays in its slice),
//! and a member trained in a stack of one follows the same code as in a stack of many.

mod data;
mod loss;
mod trainer;
mod update;

pub use data::{Batch, DeviceData};
pub use trainer::Trainer;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::adam::Slot;
use crate::config::{Compute, TrainConfig, UpdateExec};
use crate::network::{read_tensor, Mlp};
use crate::record::{Score, TrainError};
use crate::shape::ModelConfig;
use crate::state::{Member, Starts, TrainerState, STATE_TENSORS};

/// K members in training on tensors, stacked: `w1 [K, in, H]`, `b1 [K, 1, H]`, `w2 [K, H, C]`,
/// `b2 [K, 1, C]`, each with Adam's moments; per member a learning rate and a step count.
#[derive(Debug, Clone)]
pub struct TensorStack {
    /// Always `Some` between calls; taken during a step so the update owns its tensors.
    params: Option<[Slot<Tensor<3>>; 4]>,
    rates: Vec<f64>,
    /// Per member, the rate of each step of the epoch in training (its schedule's); empty: its
    /// rate.
    plans: Vec<Vec<f64>>,
    /// Steps taken in the epoch in training: where in the plans the next step is.
    batch: usize,
    steps: Vec<u64>,
    config: TrainConfig,
    update: UpdateExec,
    model: ModelConfig,
}

/// Parameter `i` (w1, b1, w2, b2) of one member as a stacked slice `[1, rows, cols]` (biases as
/// one row).
fn slice_shape(m: &ModelConfig, i: usize) -> [usize; 3] {
    match i {
        0 => [1, m.inputs, m.hidden],
        1 => [1, 1, m.hidden],
        2 => [1, m.hidden, m.classes],
        _ => [1, 1, m.classes],
    }
}

/// What a step trains on: one batch every member shares, or each member's own batch (members
/// with other seeds see the data in other orders), stacked `[K, rows, …]`.
enum Input {
    Shared(Batch),
    Each {
        x: Tensor<3>,
        y: Tensor<3>,
        labels: Tensor<3, Int>,
    },
}

impl Input {
    /// `batches[assign[i]]` for member `i`: one shared batch when there is only one.
    fn of(mut batches: Vec<Batch>, assign: &[usize]) -> Self {
        if batches.len() == 1 {
            return Input::Shared(batches.remove(0));
        }
        let device = batches[0].x.device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(
                assign.iter().map(|&a| a as i32).collect::<Vec<_>>(),
                [assign.len()],
            ),
            &device,
        );
        let stack = |parts: Vec<Tensor<2>>| Tensor::stack::<3>(parts, 0).select(0, idx.clone());
        let labels = Tensor::stack::<3>(batches.iter().map(|b| b.labels.clone()).collect(), 0)
            .select(0, idx.clone());
        Input::Each {
            x: stack(batches.iter().map(|b| b.x.clone()).collect()),
            y: stack(batches.iter().map(|b| b.y.clone()).collect()),
            labels,
        }
    }

    fn rows(&self) -> usize {
        match self {
            Input::Shared(b) => b.x.dims()[0],
            Input::Each { x, .. } => x.dims()[1],
        }
    }

    /// The images as `[1 or K, rows, in]`.
    fn x(&self) -> Tensor<3> {
        match self {
            Input::Shared(b) => b.x.clone().unsqueeze_dim::<3>(0),
            Input::Each { x, .. } => x.clone(),
        }
    }
}

/// The network's forward pass for K members on images `[1 or K, rows, in]`: hidden activations
/// after ReLU `[K, rows, H]` (the backward pass needs them) and logits `[K, rows, C]`.
fn forward(x: Tensor<3>, [w1, b1, w2, b2]: &[Slot<Tensor<3>>; 4]) -> (Tensor<3>, Tensor<3>) {
    let h = relu(x.matmul(w1.param.clone()).add(b1.param.clone()));
    let logits = h.clone().matmul(w2.param.clone()).add(b2.param.clone());
    (h, logits)
}

impl TensorStack {
    /// A stack of `members` on `device`, fresh ones from `config.seed`; saved states must fit
    /// `model`. `config.learning_rate` is ignored (each member has its own); Adam's update runs
    /// where `config.compute` says (on the device unless it asks for a fused host update).
    pub fn new(
        model: &ModelConfig,
        config: TrainConfig,
        members: &[Member],
        device: &Device,
    ) -> Result<Self, TrainError> {
        if members.is_empty() {
            return Err(TrainError::NoMembers);
        }
        for m in members {
            config.check(m.rate)?;
        }
        // Per tensor (w1, m, v, b1, …): every member's slice.
        let mut parts: Vec<Vec<Tensor<3>>> = (0..STATE_TENSORS)
            .map(|_| Vec::with_capacity(members.len()))
            .collect();
        let starts = Starts::new(members, model, config.seed);
        for state in members.iter().map(|m| starts.of(m)) {
            state.check(model)?;
            for (i, (part, (_, values))) in parts.iter_mut().zip(&state.tensors).enumerate() {
                part.push(Tensor::from_data(
                    TensorData::new(values.clone(), slice_shape(model, i / 3)),
                    device,
                ));
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
            plans: vec![Vec::new(); members.len()],
            batch: 0,
            steps: members
                .iter()
                .map(|m| m.state().map_or(0, |s| s.step))
                .collect(),
            update: match config.compute {
                Compute::Tensor(update) => update,
                Compute::Cpu(_) => UpdateExec::FusedOnHost,
            },
            config,
            model: *model,
        })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the stack has no member left.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// The device the stack trains on.
    pub fn device(&self) -> Device {
        self.params()[0].param.device()
    }

    /// Adam steps taken by each member.
    pub fn steps(&self) -> &[u64] {
        &self.steps
    }

    /// Changes member `i`'s learning rate for the following steps (a range test's schedule).
    pub fn set_rate(&mut self, i: usize, rate: f64) -> Result<(), TrainError> {
        self.config.check(rate)?;
        self.rates[i] = rate;
        Ok(())
    }

    /// Member `i`'s learning rate at each step of the next epoch ([`crate::Engine::plan_epoch`]).
    pub fn plan_epoch(&mut self, i: usize, rates: Vec<f64>) {
        self.plans[i] = rates;
    }

    /// Member `i`'s rate at step `b` of the epoch: its plan's (the last past its end), else its
    /// rate.
    fn rate_of_step(&self, i: usize, b: usize) -> f64 {
        let plan = &self.plans[i];
        plan.get(b)
            .or(plan.last())
            .copied()
            .unwrap_or(self.rates[i])
    }

    fn params(&self) -> &[Slot<Tensor<3>>; 4] {
        self.params
            .as_ref()
            .expect("parameters are only taken during a step")
    }

    /// One Adam step of every member on `batch`; returns `[K, 2]`: each member's summed loss
    /// and number of correct predictions, left on the device.
    pub fn train_step(&mut self, batch: Batch) -> Tensor<2> {
        self.step(Input::Shared(batch))
    }

    /// One Adam step of every member on its own batch, `batches[assign[i]]` for member `i`
    /// (batches of the same size, from the data in the members' orders); as
    /// [`TensorStack::train_step`] when there is one batch.
    pub fn train_step_each(&mut self, batches: Vec<Batch>, assign: &[usize]) -> Tensor<2> {
        self.step(Input::of(batches, assign))
    }

    fn step(&mut self, input: Input) -> Tensor<2> {
        let params = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let rows = input.rows();
        let (h, logits) = forward(input.x(), &params);
        let [w1, b1, w2, b2] = params;
        let (totals, dz2) = self.loss_and_grad(logits, &input, rows);

        let dw2 = h.clone().swap_dims(1, 2).matmul(dz2.clone());
        let db2 = dz2.clone().sum_dim(1);
        let dz1 = dz2
            .matmul(w2.param.clone().swap_dims(1, 2))
            .mask_fill(h.lower_equal_elem(0.0), 0.0);
        let dw1 = match input {
            Input::Shared(b) => b.x.transpose().unsqueeze_dim::<3>(0).matmul(dz1.clone()),
            Input::Each { x, .. } => x.swap_dims(1, 2).matmul(dz1.clone()),
        };
        let db1 = dz1.sum_dim(1);

        for t in &mut self.steps {
            *t += 1;
        }
        let adam = &self.config.adam;
        let b = self.batch;
        self.batch += 1;
        let scalars: Vec<(f64, f64)> = (0..self.len())
            .map(|i| adam.step_scalars(self.rate_of_step(i, b), self.steps[i]))
            .collect();
        let exec = self.update;
        let step = |slot, grad| update::update_stacked(adam, exec, &scalars, slot, grad);
        self.params = Some([step(w1, dw1), step(b1, db1), step(w2, dw2), step(b2, db2)]);
        totals
    }

    /// Each member's summed loss and correct count `[K, 2]`, and the gradient of each member's
    /// mean loss with respect to its logits `[K, rows, C]`.
    fn loss_and_grad(
        &self,
        logits: Tensor<3>,
        input: &Input,
        rows: usize,
    ) -> (Tensor<2>, Tensor<3>) {
        let [k, _, classes] = logits.dims();
        let (target, labels) = match input {
            Input::Shared(b) => (
                b.y.clone().unsqueeze_dim::<3>(0).expand([k, rows, classes]),
                b.labels.clone().unsqueeze_dim::<3>(0).expand([k, rows, 1]),
            ),
            Input::Each { y, labels, .. } => (y.clone(), labels.clone()),
        };
        let correct = correct_counts(&logits, labels);
        let (losses, dz2) = loss::loss_and_grad(
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
        self.batch = 0;
        let mut totals = None;
        for batch in data.batches() {
            totals = Some(add(totals, self.train_step(batch)));
        }
        read_scores(totals, data.len(), self.len())
    }

    /// Like [`TensorStack::train_epoch`], but checks `interrupt` before every batch and gives
    /// up the epoch (returning `None`, the weights part-way through it) once it is set.
    pub fn train_epoch_unless(
        &mut self,
        data: &DeviceData,
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        self.batch = 0;
        let mut totals = None;
        for batch in data.batches() {
            if interrupt.load(Ordering::Relaxed) {
                return Ok(None);
            }
            totals = Some(add(totals, self.train_step(batch)));
        }
        read_scores(totals, data.len(), self.len()).map(Some)
    }

    /// Like [`TensorStack::train_epoch_unless`] with each member on its own data,
    /// `data[assign[i]]` for member `i` (the same part in the members' orders).
    pub fn train_epoch_each(
        &mut self,
        data: &[&DeviceData],
        assign: &[usize],
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        match data {
            [] => return Err(TrainError::NoData("no data to train on".into())),
            [one] => return self.train_epoch_unless(one, interrupt),
            _ => {}
        }
        self.batch = 0;
        let mut iters: Vec<_> = data.iter().map(|d| d.batches()).collect();
        let mut totals = None;
        while let Some(batches) = iters
            .iter_mut()
            .map(Iterator::next)
            .collect::<Option<Vec<_>>>()
        {
            if interrupt.load(Ordering::Relaxed) {
                return Ok(None);
            }
            totals = Some(add(totals, self.train_step_each(batches, assign)));
        }
        let n = data.first().map_or(0, |d| d.len());
        read_scores(totals, n, self.len()).map(Some)
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        let mut totals = None;
        for Batch { x, y, labels } in data.batches() {
            let [rows, _] = x.dims();
            let (_, logits) = forward(x.unsqueeze_dim::<3>(0), self.params());
            let [k, _, classes] = logits.dims();
            let correct =
                correct_counts(&logits, labels.unsqueeze_dim::<3>(0).expand([k, rows, 1]));
            let target = y.unsqueeze_dim::<3>(0).expand([k, rows, classes]);
            let losses = loss::loss(
                self.config.loss,
                logits.reshape([k * rows, classes]),
                target.reshape([k * rows, classes]),
            );
            let t = Tensor::cat(vec![losses.reshape([k, rows]).sum_dim(1), correct], 1);
            totals = Some(add(totals, t));
        }
        read_scores(totals, data.len(), self.len())
    }

    /// Member `i`'s state on the host, in the format both engines save (a device sync).
    pub fn state(&self, i: usize) -> Result<TrainerState, TrainError> {
        let shapes = self.model.parameter_shapes();
        let mut tensors = Vec::with_capacity(STATE_TENSORS);
        for (slot, shape) in self.params().iter().zip(&shapes) {
            for t in slot.parts() {
                let (_, values) = read_tensor(&t.clone().narrow(0, i, 1))?;
                tensors.push((shape.clone(), values));
            }
        }
        Ok(TrainerState {
            step: self.steps[i],
            tensors,
        })
    }

    /// Member `i`'s network with its current weights, on the stack's device.
    pub fn network(&self, i: usize) -> Mlp {
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
        self.params = Some(params.map(|s| s.map(|t| t.select(0, idx.clone()))));
        self.rates = keep.iter().map(|&k| self.rates[k]).collect();
        self.plans = keep.iter().map(|&k| self.plans[k].clone()).collect();
        self.steps = keep.iter().map(|&k| self.steps[k]).collect();
    }
}

/// `acc + t`, or `t` when there is nothing yet.
fn add(acc: Option<Tensor<2>>, t: Tensor<2>) -> Tensor<2> {
    match acc {
        Some(acc) => acc + t,
        None => t,
    }
}

/// Correct predictions per member `[K, 1]` from logits `[K, rows, C]` and labels `[K, rows, 1]`.
fn correct_counts(logits: &Tensor<3>, labels: Tensor<3, Int>) -> Tensor<2> {
    let [k, _, _] = logits.dims();
    logits
        .clone()
        .argmax(2)
        .equal(labels)
        .float()
        .sum_dim(1)
        .reshape([k, 1])
}

/// Each member's mean loss and accuracy over `n` images from the summed totals `[K, 2]`.
fn read_scores(totals: Option<Tensor<2>>, n: usize, k: usize) -> Result<Vec<Score>, TrainError> {
    let Some(totals) = totals else {
        return Err(TrainError::NoData(
            "there are no images to train or evaluate on".into(),
        ));
    };
    let (_, values) = read_tensor(&totals)?;
    Ok((0..k)
        .map(|i| Score {
            loss: values[2 * i] as f64 / n as f64,
            accuracy: values[2 * i + 1] as f64 / n as f64,
        })
        .collect())
}
