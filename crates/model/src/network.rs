//! The network a member hands out (to be saved, loaded, scored): a Burn module with the two
//! dense layers, built from host values on any device, whichever engine trained it.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::record::TrainError;
use crate::shape::{HostTensor, ModelConfig};

/// The multilayer perceptron of the reference experiment.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Dense inputs→H, followed by ReLU. Weight layout `[inputs, H]`.
    pub hidden: Linear,
    /// Dense H→classes (logits; the loss applies the softmax). Weight layout `[H, classes]`.
    pub output: Linear,
}

impl ModelConfig {
    /// Builds the network with seeded weights ([`ModelConfig::initial_values`]) on `device`:
    /// the same seed gives the same weights on every backend.
    pub fn init(&self, seed: u64, device: &Device) -> Mlp {
        Mlp::from_values(self, self.initial_values(seed), device)
    }
}

/// A dense layer `[d_in, d_out]` from row-major weights and a bias.
fn layer(w: Vec<f32>, b: Vec<f32>, d_in: usize, d_out: usize, device: &Device) -> Linear {
    Linear {
        weight: Param::from_data(TensorData::new(w, [d_in, d_out]), device),
        bias: Some(Param::from_data(TensorData::new(b, [d_out]), device)),
    }
}

/// Reads a tensor back to the host: its shape and values.
pub(crate) fn read_tensor<const D: usize>(t: &Tensor<D>) -> Result<HostTensor, TrainError> {
    let data = t
        .clone()
        .try_into_data()
        .map_err(burn::tensor::TensorReadError::from)?;
    let shape = data.shape().to_vec();
    let values = data
        .try_to_vec::<f32>()
        .map_err(burn::tensor::TensorReadError::from)?;
    Ok((shape, values))
}

/// A layer's weight and bias (zeros where it has none).
fn linear_parts(l: &Linear) -> (Tensor<2>, Tensor<1>) {
    let w = l.weight.val();
    let b = match &l.bias {
        Some(b) => b.val(),
        None => Tensor::zeros([w.dims()[1]], &w.device()),
    };
    (w, b)
}

impl Mlp {
    /// The network of `model`'s shape with parameters `w1, b1, w2, b2` (row-major), on `device`.
    pub fn from_values(
        model: &ModelConfig,
        [w1, b1, w2, b2]: [Vec<f32>; 4],
        device: &Device,
    ) -> Self {
        Mlp {
            hidden: layer(w1, b1, model.inputs, model.hidden, device),
            output: layer(w2, b2, model.hidden, model.classes, device),
        }
    }

    /// The four parameters `w1, b1, w2, b2` as tensors on the network's device.
    pub(crate) fn parameters(&self) -> [Tensor<2>; 4] {
        let (w1, b1) = linear_parts(&self.hidden);
        let (w2, b2) = linear_parts(&self.output);
        [w1, b1.unsqueeze_dim(0), w2, b2.unsqueeze_dim(0)]
    }

    /// The four parameters read back to the host (a device sync): shape and values each.
    pub fn read_parameters(&self) -> Result<[HostTensor; 4], TrainError> {
        let [w1, b1, w2, b2] = self.parameters();
        let flat = |(mut shape, values): HostTensor| {
            shape.remove(0);
            (shape, values)
        };
        Ok([
            read_tensor(&w1)?,
            flat(read_tensor(&b1)?),
            read_tensor(&w2)?,
            flat(read_tensor(&b2)?),
        ])
    }

    /// Logits for a batch of flattened images `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [w1, b1, w2, b2] = self.parameters();
        relu(x.matmul(w1).add(b1)).matmul(w2).add(b2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_network_on_every_backend() {
        let config = ModelConfig::default();
        let model = config.init(42, &Device::flex());
        let [w1, b1, w2, b2] = config.initial_values(42);
        let read = model.read_parameters().unwrap();
        assert_eq!(read[0], (vec![784, 784], w1.clone()));
        assert_eq!(read[1], (vec![784], b1));
        assert_eq!(read[2], (vec![784, 10], w2));
        assert_eq!(read[3], (vec![10], b2));
        #[allow(deprecated)]
        let on_ndarray = config.init(42, &Device::ndarray());
        assert_eq!(values(on_ndarray.hidden.weight.val()), w1);
    }

    #[test]
    fn forward_is_the_two_dense_layers() {
        let model = ModelConfig {
            inputs: 2,
            hidden: 2,
            classes: 2,
            init_std: 0.05,
        };
        let device = Device::flex();
        let net = Mlp::from_values(
            &model,
            [
                vec![1.0, -1.0, 2.0, 0.5],
                vec![0.0, 0.25],
                vec![1.0, 0.0, 0.0, 1.0],
                vec![0.5, -0.5],
            ],
            &device,
        );
        let x = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [1, 2]), &device);
        // h = relu([1 + 2, -1 + 0.5 + 0.25]) = [3, 0]; logits = [3 + 0.5, 0 - 0.5].
        assert_eq!(values(net.forward(x)), vec![3.5, -0.5]);
    }
}
