//! Epochs of a stack and its scoring: its batches in order, every member's totals summed on the
//! device and read back once.

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Tensor;

use super::data::{Batch, DeviceData};
use super::loss;
use super::stack::TensorStack;
use super::step::{correct_counts, forward};
use crate::network::read_tensor;
use crate::record::{Score, TrainError};

impl TensorStack {
    /// Trains one epoch over `data` in its order; reads the device back once, at the end.
    pub fn train_epoch(&mut self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        self.batch = 0;
        let mut totals = None;
        for batch in data.batches() {
            totals = Some(add(totals, self.train_step(batch)));
        }
        read_scores(totals, data.len(), self.len(), false)
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
        read_scores(totals, data.len(), self.len(), false).map(Some)
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
        read_scores(totals, n, self.len(), false).map(Some)
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        let mut totals = None;
        for Batch { x, y, labels } in data.batches() {
            let [rows, _] = x.dims();
            let (_, logits) = forward(
                x.unsqueeze_dim::<3>(0),
                self.params(),
                self.model.activation,
                None,
            );
            let [k, _, classes] = logits.dims();
            let correct =
                correct_counts(&logits, labels.unsqueeze_dim::<3>(0).expand([k, rows, 1]));
            let target = y.unsqueeze_dim::<3>(0).expand([k, rows, classes]);
            let losses = loss::loss(
                self.config.loss,
                logits.reshape([k * rows, classes]),
                target.reshape([k * rows, classes]),
            );
            let losses = losses.reshape([k, rows]);
            let squares = losses.clone().powi_scalar(2).sum_dim(1);
            let t = Tensor::cat(vec![losses.sum_dim(1), correct, squares], 1);
            totals = Some(add(totals, t));
        }
        read_scores(totals, data.len(), self.len(), true)
    }
}

/// `acc + t`, or `t` when there is nothing yet.
fn add(acc: Option<Tensor<2>>, t: Tensor<2>) -> Tensor<2> {
    match acc {
        Some(acc) => acc + t,
        None => t,
    }
}

/// Each member's mean loss and accuracy over `n` images from the summed totals: `[K, 2]`
/// (loss, correct), or with `squares` `[K, 3]` (the squared losses' sum third: the standard
/// error of the mean loss).
fn read_scores(
    totals: Option<Tensor<2>>,
    n: usize,
    k: usize,
    squares: bool,
) -> Result<Vec<Score>, TrainError> {
    let Some(totals) = totals else {
        return Err(TrainError::NoData(
            "there are no images to train or evaluate on".into(),
        ));
    };
    let (_, values) = read_tensor(&totals)?;
    let cols = if squares { 3 } else { 2 };
    Ok((0..k)
        .map(|i| {
            let at = |j: usize| values[cols * i + j] as f64;
            let sq = if squares { at(2) } else { f64::NAN };
            Score::of(n, at(0), sq, at(1))
        })
        .collect())
}
