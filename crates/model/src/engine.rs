//! The seam between the drivers (the fit loop, the range test, `lrsweep bench`) and the two
//! engines, which never import each other: one trait that both implement, with the names the
//! engines themselves use.

use std::sync::atomic::AtomicBool;

use lrsweep_data::Part;

use crate::host::{HostData, HostStack};
use crate::network::Mlp;
use crate::record::{Score, TrainError};
use crate::state::TrainerState;
use crate::tensor::{DeviceData, TensorStack};

/// A stack of members in training, whichever engine computes it: what a driver needs.
pub trait Engine {
    /// The engine's form of a part of the data (on the device, or laid out on the host).
    type Data;
    /// `part` in the order `order` (or its own), in batches of `batch`.
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> Self::Data;
    /// Number of members.
    fn len(&self) -> usize;
    /// Whether no member is left.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Adam steps member `i` has taken.
    fn steps(&self, i: usize) -> u64;
    /// Member `i`'s full state on the host (a device sync).
    fn state(&self, i: usize) -> Result<TrainerState, TrainError>;
    /// Member `i`'s network with its current weights.
    fn network(&self, i: usize) -> Mlp;
    /// Member `i`'s learning rate at each step of the next epoch (its schedule's), in place of
    /// its own rate; a step beyond `rates` takes the last one.
    fn plan_epoch(&mut self, i: usize, rates: Vec<f64>);
    /// One epoch, member `i` on `data[assign[i]]` (the training part in each member's order),
    /// checking `interrupt` before every batch: `None` when it was set (the weights are then
    /// part-way through the epoch).
    fn train_epoch_each(
        &mut self,
        data: &[&Self::Data],
        assign: &[usize],
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError>;
    /// Each member's loss and accuracy on `data`, without gradients.
    fn evaluate(&self, data: &Self::Data) -> Result<Vec<Score>, TrainError>;
    /// Keeps only the members at positions `keep` (in that order): the others leave.
    fn retain(&mut self, keep: &[usize]);
}

impl Engine for TensorStack {
    type Data = DeviceData;
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> DeviceData {
        DeviceData::upload(part, batch, order, &self.device())
    }
    fn len(&self) -> usize {
        TensorStack::len(self)
    }
    fn steps(&self, i: usize) -> u64 {
        TensorStack::steps(self)[i]
    }
    fn state(&self, i: usize) -> Result<TrainerState, TrainError> {
        TensorStack::state(self, i)
    }
    fn network(&self, i: usize) -> Mlp {
        TensorStack::network(self, i)
    }
    fn plan_epoch(&mut self, i: usize, rates: Vec<f64>) {
        TensorStack::plan_epoch(self, i, rates)
    }
    fn train_epoch_each(
        &mut self,
        data: &[&DeviceData],
        assign: &[usize],
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        TensorStack::train_epoch_each(self, data, assign, interrupt)
    }
    fn evaluate(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        TensorStack::evaluate(self, data)
    }
    fn retain(&mut self, keep: &[usize]) {
        TensorStack::retain(self, keep)
    }
}

impl Engine for HostStack {
    type Data = HostData;
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> HostData {
        HostData::new(part, batch, order, self.layout())
    }
    fn len(&self) -> usize {
        HostStack::len(self)
    }
    fn steps(&self, i: usize) -> u64 {
        HostStack::steps(self)[i]
    }
    fn state(&self, i: usize) -> Result<TrainerState, TrainError> {
        Ok(HostStack::state(self, i))
    }
    fn network(&self, i: usize) -> Mlp {
        HostStack::network(self, i)
    }
    fn plan_epoch(&mut self, i: usize, rates: Vec<f64>) {
        HostStack::plan_epoch(self, i, rates)
    }
    fn train_epoch_each(
        &mut self,
        data: &[&HostData],
        assign: &[usize],
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        HostStack::train_epoch_each(self, data, assign, interrupt)
    }
    fn evaluate(&self, data: &HostData) -> Result<Vec<Score>, TrainError> {
        HostStack::evaluate(self, data)
    }
    fn retain(&mut self, keep: &[usize]) {
        HostStack::retain(self, keep)
    }
}
