//! The network a member hands out (to be saved, loaded, scored): a Burn module with its dense
//! layers and activation, built from host values on any device, whichever engine trained it.
//! The reference's one hidden layer is `hidden` and its output `output`, as earlier versions
//! saved them; further hidden layers are `deeper` (empty for the reference).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Device, Tensor, TensorData};

use crate::layers::Activation;
use crate::record::TrainError;
use crate::shape::{HostTensor, ModelConfig};

/// The multilayer perceptron: Dense inputs→H₁, activation, Dense H₁→H₂, activation, …,
/// Dense H_last→classes (logits; the loss applies the softmax). Weights `[fan_in, fan_out]`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// The first hidden layer, followed by the activation.
    pub hidden: Linear,
    /// Further hidden layers, each followed by the activation (none in the reference).
    pub deeper: Vec<Linear>,
    /// The output layer (logits).
    pub output: Linear,
    /// The activation after each hidden layer (not saved: the model file's description says
    /// it).
    #[module(skip)]
    pub activation: Activation,
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

/// `activation` applied to `z`, as the engines apply it.
pub(crate) fn activate<const D: usize>(activation: Activation, z: Tensor<D>) -> Tensor<D> {
    match activation {
        Activation::Relu => relu(z),
        Activation::Tanh => z.tanh(),
        Activation::Gelu => gelu(z),
    }
}

impl Mlp {
    /// The network of `model`'s shape with its parameters (each layer's weight then its bias,
    /// row-major), on `device`.
    pub fn from_values(model: &ModelConfig, values: Vec<Vec<f32>>, device: &Device) -> Self {
        let mut values = values.into_iter();
        let mut layers: Vec<Linear> = model
            .layers()
            .into_iter()
            .map(|(i, o)| {
                let w = values.next().unwrap_or_default();
                let b = values.next().unwrap_or_default();
                layer(w, b, i, o, device)
            })
            .collect();
        let output = layers.pop().expect("an output layer");
        let mut hidden = layers.into_iter();
        Mlp {
            hidden: hidden.next().expect("a hidden layer"),
            deeper: hidden.collect(),
            output,
            activation: model.activation,
        }
    }

    /// Every dense layer, the hidden ones then the output one.
    fn linears(&self) -> impl Iterator<Item = &Linear> {
        std::iter::once(&self.hidden)
            .chain(&self.deeper)
            .chain(std::iter::once(&self.output))
    }

    /// The parameters (each layer's weight then its bias as one row) as tensors on the
    /// network's device.
    pub(crate) fn parameters(&self) -> Vec<Tensor<2>> {
        self.linears()
            .flat_map(|l| {
                let (w, b) = linear_parts(l);
                [w, b.unsqueeze_dim(0)]
            })
            .collect()
    }

    /// The parameters read back to the host (a device sync): shape and values each.
    pub fn read_parameters(&self) -> Result<Vec<HostTensor>, TrainError> {
        self.parameters()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (mut shape, values) = read_tensor(t)?;
                if i % 2 == 1 {
                    shape.remove(0);
                }
                Ok((shape, values))
            })
            .collect()
    }

    /// Logits for a batch of flattened images `[batch, inputs]` (no dropout: scoring).
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x;
        for l in std::iter::once(&self.hidden).chain(&self.deeper) {
            let (w, b) = linear_parts(l);
            h = activate(self.activation, h.matmul(w).add(b.unsqueeze_dim(0)));
        }
        let (w, b) = linear_parts(&self.output);
        h.matmul(w).add(b.unsqueeze_dim(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Widths;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_network_on_every_backend() {
        let config = ModelConfig::default();
        let model = config.init(42, &Device::flex());
        let init = config.initial_values(42);
        let read = model.read_parameters().unwrap();
        assert_eq!(read[0], (vec![784, 784], init[0].clone()));
        assert_eq!(read[1], (vec![784], init[1].clone()));
        assert_eq!(read[2], (vec![784, 10], init[2].clone()));
        assert_eq!(read[3], (vec![10], init[3].clone()));
        assert!(model.deeper.is_empty());
        #[allow(deprecated)]
        let on_ndarray = config.init(42, &Device::ndarray());
        assert_eq!(values(on_ndarray.hidden.weight.val()), init[0]);
    }

    #[test]
    fn forward_is_the_dense_layers_with_the_activation() {
        let model = ModelConfig {
            inputs: 2,
            hidden: Widths::one(2),
            classes: 2,
            ..ModelConfig::default()
        };
        let device = Device::flex();
        let net = Mlp::from_values(
            &model,
            vec![
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
        // Two hidden layers under tanh: each layer in turn.
        let deep = ModelConfig {
            hidden: Widths::new(&[2, 2]).unwrap(),
            activation: Activation::Tanh,
            ..model
        };
        let net = Mlp::from_values(
            &deep,
            vec![
                vec![1.0, 0.0, 0.0, 1.0],
                vec![0.0, 0.0],
                vec![2.0, 0.0, 0.0, 2.0],
                vec![0.0, 0.0],
                vec![1.0, 0.0, 0.0, 1.0],
                vec![0.0, 0.0],
            ],
            &device,
        );
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, -1.0], [1, 2]), &device);
        let want: Vec<f32> = [0.5f32, -1.0]
            .iter()
            .map(|&v| (2.0 * v.tanh()).tanh())
            .collect();
        let got = values(net.forward(x));
        assert!(
            got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{got:?}"
        );
    }
}
