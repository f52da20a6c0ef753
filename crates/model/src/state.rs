//! A trainer's full state on the host, so that a run can stop after any epoch and continue later
//! with the same results.

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

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
