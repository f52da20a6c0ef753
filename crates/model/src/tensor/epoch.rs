//! Epochs of a stack and its scoring: its batches in order, every member's totals summed on the
//! device and read back once.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Tensor;

use super::data::{Batch, DeviceData};
use super::loss;
use super::stack::TensorStack;
use super::step::{correct_counts, error_sums, forward};
use crate::network::read_tensor;
use crate::record::{ErrorSums, Regression, Score, TrainError};

impl TensorStack {
    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        self.batch = 0;
        let mut totals = None;
        for batch in data.batches() {
            totals = Some(add(totals, self.train_step(batch)));
        }
        read_scores(totals, data.len(), self.len(), false, data.regression())
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
        read_scores(totals, data.len(), self.len(), false, data.regression()).map(Some)
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
        let regression = data.first().and_then(|d| d.regression());
        read_scores(totals, n, self.len(), false, regression).map(Some)
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        let mut totals = None;
        for Batch { x, y, labels, sd } in data.batches() {
            let [rows, _] = x.dims();
            let (_, logits) = forward(
                x.unsqueeze_dim::<3>(0),
                self.params(),
                self.model.activation,
                None,
            );
            let [k, _, classes] = logits.dims();
            let target = y.unsqueeze_dim::<3>(0).expand([k, rows, classes]);
            // A classification counts its correct guesses; a regression sums its errors.
            let scored = match sd {
                Some(sd) => error_sums(&logits, target.clone(), sd),
                None => correct_counts(&logits, labels.unsqueeze_dim::<3>(0).expand([k, rows, 1])),
            };
            let losses = loss::loss(
                self.config.loss,
                logits.reshape([k * rows, classes]),
                target.reshape([k * rows, classes]),
            );
            let losses = losses.reshape([k, rows]);
            let squares = losses.clone().powi_scalar(2).sum_dim(1);
            let t = Tensor::cat(vec![losses.sum_dim(1), scored, squares], 1);
            totals = Some(add(totals, t));
        }
        read_scores(totals, data.len(), self.len(), true, data.regression())
    }
}

/// `acc + t`, or `t` when there is nothing yet.
fn add(acc: Option<Tensor<2>>, t: Tensor<2>) -> Tensor<2> {
    match acc {
        Some(acc) => acc + t,
        None => t,
    }
}

/// Each member's score over `n` items from the summed totals: `[K, 2]` (loss, correct) for a
/// classification, `[K, 4]` (loss, Σe², Σ(e·σ)², Σ|e·σ|) for a `regression`, each with the
/// squared losses' sum after them with `squares` (the standard error of the mean loss).
fn read_scores(
    totals: Option<Tensor<2>>,
    n: usize,
    k: usize,
    squares: bool,
    regression: Option<Regression>,
) -> Result<Vec<Score>, TrainError> {
    let Some(totals) = totals else {
        return Err(TrainError::NoData(
            "there are no images to train or evaluate on".into(),
        ));
    };
    let (_, values) = read_tensor(&totals)?;
    let scored = if regression.is_some() { 3 } else { 1 };
    let cols = 1 + scored + usize::from(squares);
    Ok((0..k)
        .map(|i| {
            let at = |j: usize| values[cols * i + j] as f64;
            let sq = if squares { at(1 + scored) } else { f64::NAN };
            match regression {
                Some(r) => {
                    let errors = ErrorSums {
                        squared: at(1),
                        squared_units: at(2),
                        absolute_units: at(3),
                    };
                    Score::of_regression(n, at(0), sq, errors, r)
                }
                None => Score::of(n, at(0), sq, at(1)),
            }
        })
        .collect())
}
