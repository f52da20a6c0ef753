//! One Adam step of every member of a stack: the forward pass, the loss and its gradient, the
//! backward pass and the update, each a batched operation along the members' dimension.

use burn::tensor::activation::relu;
use burn::tensor::{Int, Tensor, TensorData};

use super::data::Batch;
use super::loss;
use super::stack::TensorStack;
use super::update;
use crate::adam::Slot;

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
pub(super) fn forward(
    x: Tensor<3>,
    [w1, b1, w2, b2]: &[Slot<Tensor<3>>; 4],
) -> (Tensor<3>, Tensor<3>) {
    let h = relu(x.matmul(w1.param.clone()).add(b1.param.clone()));
    let logits = h.clone().matmul(w2.param.clone()).add(b2.param.clone());
    (h, logits)
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
