//! One Adam step of every member of a stack: the forward pass, the loss and its gradient, the
//! backward pass and the update, each a batched operation along the members' dimension.

use burn::tensor::{Int, Tensor, TensorData};

use super::data::Batch;
use super::loss;
use super::stack::TensorStack;
use super::update;
use crate::dropout;
use crate::layers::Activation;
use crate::network::activate;
use crate::optim::{Slot, Step};

/// What a step trains on: one batch every member shares, or each member's own batch (members
/// with other seeds see the data in other orders), stacked `[K, rows, …]`.
enum Input {
    Shared(Batch),
    Each {
        x: Tensor<3>,
        y: Tensor<3>,
        labels: Tensor<3, Int>,
        sd: Option<Tensor<2>>,
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
            sd: batches[0].sd.clone(),
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

/// What the forward pass keeps of a hidden layer for the backward one: its pre-activation
/// (GELU's derivative needs it), its activation, the dropout mask applied to it, and what it
/// hands the next layer (the activation, masked).
pub(super) struct Hidden {
    z: Option<Tensor<3>>,
    a: Tensor<3>,
    mask: Option<Tensor<3>>,
    out: Tensor<3>,
}

/// The network's forward pass for K members on images `[1 or K, rows, in]` with the stacked
/// parameters `params` (each layer's weight then bias), `masks` (one per hidden layer, during
/// training with dropout): each hidden layer's [`Hidden`] and the logits `[K, rows, C]`.
pub(super) fn forward(
    x: Tensor<3>,
    params: &[Slot<Tensor<3>>],
    activation: Activation,
    masks: Option<Vec<Tensor<3>>>,
) -> (Vec<Hidden>, Tensor<3>) {
    let layers = params.len() / 2;
    let mut masks = masks.map(Vec::into_iter);
    let mut hidden = Vec::with_capacity(layers - 1);
    let mut h = x;
    for l in 0..layers - 1 {
        let z = h
            .matmul(params[2 * l].param.clone())
            .add(params[2 * l + 1].param.clone());
        let a = activate(activation, z.clone());
        let mask = masks.as_mut().and_then(Iterator::next);
        let out = match &mask {
            Some(m) => a.clone().mul(m.clone()),
            None => a.clone(),
        };
        h = out.clone();
        hidden.push(Hidden {
            z: activation.needs_input().then_some(z),
            a,
            mask,
            out,
        });
    }
    let last = 2 * (layers - 1);
    let logits = h
        .matmul(params[last].param.clone())
        .add(params[last + 1].param.clone());
    (hidden, logits)
}

/// The gradient at a hidden layer's pre-activation from the gradient `dh` at what it handed
/// on: through its dropout mask, then its activation's derivative.
fn through(activation: Activation, dh: Tensor<3>, layer: &Hidden) -> Tensor<3> {
    let da = match &layer.mask {
        Some(m) => dh.mul(m.clone()),
        None => dh,
    };
    match activation {
        Activation::Relu => da.mask_fill(layer.a.clone().lower_equal_elem(0.0), 0.0),
        Activation::Tanh => da.mul(layer.a.clone().powi_scalar(2).neg().add_scalar(1.0)),
        Activation::Gelu => {
            let z = layer.z.clone().expect("GELU keeps its pre-activation");
            let cdf = z
                .clone()
                .div_scalar(std::f64::consts::SQRT_2)
                .erf()
                .add_scalar(1.0)
                .mul_scalar(0.5);
            let pdf = z
                .clone()
                .powi_scalar(2)
                .mul_scalar(-0.5)
                .exp()
                .mul_scalar(1.0 / (2.0 * std::f64::consts::PI).sqrt());
            da.mul(cdf.add(z.mul(pdf)))
        }
    }
}

impl TensorStack {
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

    /// Each hidden layer's dropout mask for this step (none without dropout): every member's
    /// from its own seed and step ([`crate::dropout`]), `[K, rows, width]`.
    fn masks(&self, rows: usize, device: &burn::tensor::Device) -> Option<Vec<Tensor<3>>> {
        let p = self.model.dropout;
        if p <= 0.0 {
            return None;
        }
        Some(
            self.model
                .hidden
                .iter()
                .enumerate()
                .map(|(l, &width)| {
                    let mut values = Vec::with_capacity(self.len() * rows * width);
                    for (seed, step) in self.seeds.iter().zip(&self.steps) {
                        values.extend(dropout::mask(*seed, step + 1, l, rows, width, p));
                    }
                    Tensor::<3>::from_data(
                        TensorData::new(values, [self.len(), rows, width]),
                        device,
                    )
                })
                .collect(),
        )
    }

    fn step(&mut self, input: Input) -> Tensor<2> {
        let params = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let rows = input.rows();
        let activation = self.model.activation;
        let masks = self.masks(rows, &params[0].param.device());
        let (hidden, logits) = forward(input.x(), &params, activation, masks);
        let (totals, mut dz) = self.loss_and_grad(logits, &input, rows);
        let layers = params.len() / 2;
        let mut grads: Vec<Option<Tensor<3>>> = vec![None; params.len()];
        for l in (1..layers).rev() {
            let below = &hidden[l - 1];
            grads[2 * l] = Some(below.out.clone().swap_dims(1, 2).matmul(dz.clone()));
            grads[2 * l + 1] = Some(dz.clone().sum_dim(1));
            let dh = dz.matmul(params[2 * l].param.clone().swap_dims(1, 2));
            dz = through(activation, dh, below);
        }
        grads[0] = Some(match input {
            Input::Shared(b) => b.x.transpose().unsqueeze_dim::<3>(0).matmul(dz.clone()),
            Input::Each { x, .. } => x.swap_dims(1, 2).matmul(dz.clone()),
        });
        grads[1] = Some(dz.sum_dim(1));

        for t in &mut self.steps {
            *t += 1;
        }
        let b = self.batch;
        self.batch += 1;
        let steps: Vec<Step> = (0..self.len())
            .map(|i| self.optimizers[i].step(self.rate_of_step(i, b), self.steps[i]))
            .collect();
        let exec = self.update;
        self.params = Some(
            params
                .into_iter()
                .zip(grads)
                .map(|(slot, grad)| {
                    let grad = grad.expect("every parameter's gradient");
                    update::update_stacked(exec, &steps, slot, grad)
                })
                .collect(),
        );
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
        let (target, labels, sd) = match input {
            Input::Shared(b) => (
                b.y.clone().unsqueeze_dim::<3>(0).expand([k, rows, classes]),
                b.labels.clone().unsqueeze_dim::<3>(0).expand([k, rows, 1]),
                b.sd.clone(),
            ),
            Input::Each { y, labels, sd, .. } => (y.clone(), labels.clone(), sd.clone()),
        };
        // A classification counts its correct guesses; a regression sums its errors.
        let scored = match sd {
            Some(sd) => error_sums(&logits, target.clone(), sd),
            None => correct_counts(&logits, labels),
        };
        let (losses, dz2) = loss::loss_and_grad(
            self.config.loss,
            logits.reshape([k * rows, classes]),
            target.reshape([k * rows, classes]),
            rows,
        );
        let sums = losses.reshape([k, rows]).sum_dim(1);
        (
            Tensor::cat(vec![sums, scored], 1),
            dz2.reshape([k, rows, classes]),
        )
    }
}

/// A regression's error sums per member `[K, 3]` from outputs and targets `[K, rows, m]` and the
/// targets' standard deviations `[1, m]`: Σe², Σ(e·σ)² and Σ|e·σ| over the rows and targets.
pub(super) fn error_sums(outputs: &Tensor<3>, target: Tensor<3>, sd: Tensor<2>) -> Tensor<2> {
    let [k, rows, m] = outputs.dims();
    let e = outputs.clone() - target;
    let units = e.clone() * sd.unsqueeze_dim::<3>(0).expand([k, rows, m]);
    let total = |t: Tensor<3>| t.sum_dim(2).sum_dim(1).reshape([k, 1]);
    Tensor::cat(
        vec![
            total(e.powi_scalar(2)),
            total(units.clone().powi_scalar(2)),
            total(units.abs()),
        ],
        1,
    )
}

/// Correct predictions per member `[K, 1]` from logits `[K, rows, C]` and labels `[K, rows, 1]`.
pub(super) fn correct_counts(logits: &Tensor<3>, labels: Tensor<3, Int>) -> Tensor<2> {
    let [k, _, _] = logits.dims();
    logits
        .clone()
        .argmax(2)
        .equal(labels)
        .float()
        .sum_dim(1)
        .reshape([k, 1])
}
