//! A trainer's full state on the host, so that a run can stop after any epoch and continue later
//! with the same results.

use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::adam::Slot;
use crate::record::TrainError;

/// Weights, Adam's moments and the step count, as host values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Adam steps taken.
    pub step: u64,
    /// The tensors in the order w1, m, v, b1, m, v, w2, m, v, b2, m, v: shape and values.
    pub tensors: Vec<(Vec<usize>, Vec<f32>)>,
}

/// Number of tensors in a [`TrainerState`]: four parameters, each with two moments.
pub const STATE_TENSORS: usize = 12;

pub(crate) fn read_tensor<const D: usize>(
    t: &Tensor<D>,
) -> Result<(Vec<usize>, Vec<f32>), TrainError> {
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
        return Err(TrainError::BadState(format!(
            "a tensor of shape {shape:?} with {} values where a rank-{D} tensor was expected",
            values.len()
        )));
    }
    Ok(Tensor::from_data(
        TensorData::new(values.clone(), shape.clone()),
        device,
    ))
}

/// A slot's three tensors read back to the host.
pub(crate) fn slot_state<const D: usize>(
    s: &Slot<D>,
) -> Result<[(Vec<usize>, Vec<f32>); 3], TrainError> {
    Ok([
        read_tensor(&s.param)?,
        read_tensor(&s.m)?,
        read_tensor(&s.v)?,
    ])
}

/// A slot from three saved tensors (parameter, first and second moment).
pub(crate) fn slot_from<const D: usize>(
    t: &[(Vec<usize>, Vec<f32>)],
    device: &Device,
) -> Result<Slot<D>, TrainError> {
    Ok(Slot {
        param: write_tensor(&t[0], device)?,
        m: write_tensor(&t[1], device)?,
        v: write_tensor(&t[2], device)?,
    })
}
