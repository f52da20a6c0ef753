//! The reference network: Dense 784→H ReLU, Dense H→10 (softmax in the loss).

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Shape and initialisation of the network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Inputs per image (784 for 28×28).
    pub inputs: usize,
    /// Hidden units (the reference: 784).
    pub hidden: usize,
    /// Classes.
    pub classes: usize,
    /// Standard deviation of the Normal(0, σ) weight initialisation (Keras' `'normal'`: 0.05).
    pub init_std: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            inputs: 784,
            hidden: 784,
            classes: 10,
            init_std: 0.05,
        }
    }
}

impl ModelConfig {
    /// FLOPs of one forward pass of one image: 2·(inputs·H + H·classes).
    pub fn forward_flops(&self) -> f64 {
        2.0 * (self.inputs * self.hidden + self.hidden * self.classes) as f64
    }

    /// FLOPs of one training step per image: forward, the weight gradients of both layers and the
    /// hidden-layer gradient (no gradient for the input): 3 × forward − 2·inputs·H.
    pub fn train_flops(&self) -> f64 {
        3.0 * self.forward_flops() - 2.0 * (self.inputs * self.hidden) as f64
    }

    /// Parameters of the network (weights and biases), or `None` if the count overflows.
    pub fn parameters(&self) -> Option<usize> {
        let (i, h, c) = (self.inputs, self.hidden, self.classes);
        i.checked_mul(h)?
            .checked_add(h)?
            .checked_add(h.checked_mul(c)?)?
            .checked_add(c)
    }

    /// Bytes a training run of this network holds, roughly: every parameter four times (weights,
    /// gradient, Adam's two moments) and a batch's activations and their gradients (four
    /// `[batch, H]` tensors plus inputs and outputs), as f32; `None` if that overflows.
    pub fn training_bytes(&self, batch: usize) -> Option<u64> {
        let params = self.parameters()? as u64;
        let (b, h) = (batch as u64, self.hidden as u64);
        let activations = b
            .checked_mul(h)?
            .checked_mul(4)?
            .checked_add(b.checked_mul((self.inputs + self.classes) as u64)?)?;
        params
            .checked_mul(4)?
            .checked_add(activations)?
            .checked_mul(4)
    }

    /// Builds the network with seeded weights: the same seed gives the same weights on every backend.
    pub fn init(&self, seed: u64, device: &Device) -> Mlp {
        let mut normal = NormalSampler::new(seed, self.init_std);
        let layer = |d_in: usize, d_out: usize, normal: &mut NormalSampler| {
            let w: Vec<f32> = (0..d_in * d_out).map(|_| normal.sample()).collect();
            Linear {
                weight: Param::from_data(TensorData::new(w, [d_in, d_out]), device),
                bias: Some(Param::from_data(
                    TensorData::new(vec![0f32; d_out], [d_out]),
                    device,
                )),
            }
        };
        let hidden = layer(self.inputs, self.hidden, &mut normal);
        let output = layer(self.hidden, self.classes, &mut normal);
        Mlp { hidden, output }
    }
}

/// Normal(0, σ) from a ChaCha8 stream by Box–Muller in f64: portable across machines.
struct NormalSampler {
    rng: ChaCha8Rng,
    std: f64,
    spare: Option<f64>,
}

impl NormalSampler {
    fn new(seed: u64, std: f64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            std,
            spare: None,
        }
    }

    fn uniform(&mut self) -> f64 {
        // 53 random bits in (0, 1]: never 0, so the logarithm is finite.
        ((self.rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return (z * self.std) as f32;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        (r * theta.cos() * self.std) as f32
    }
}

/// The multilayer perceptron of the reference experiment.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Dense inputs→H, followed by ReLU. Weight layout `[inputs, H]`.
    pub hidden: Linear,
    /// Dense H→classes (logits; the loss applies the softmax). Weight layout `[H, classes]`.
    pub output: Linear,
}

/// The network's forward pass, the one every path uses (training, validation,
/// [`Mlp::forward`]), for K models stacked along the leading dimension (weights `[K, in, H]`,
/// `[K, H, C]`, biases `[K, 1, H]`, `[K, 1, C]`) on one batch `[rows, in]`: hidden activations
/// after ReLU `[K, rows, H]` (the backward pass needs them) and logits `[K, rows, C]`.
pub fn forward_stack(
    x: Tensor<2>,
    w1: &Tensor<3>,
    b1: &Tensor<3>,
    w2: &Tensor<3>,
    b2: &Tensor<3>,
) -> (Tensor<3>, Tensor<3>) {
    let h = relu(x.unsqueeze_dim::<3>(0).matmul(w1.clone()).add(b1.clone()));
    let logits = h.clone().matmul(w2.clone()).add(b2.clone());
    (h, logits)
}

/// A layer's weight and bias (zeros where it has none).
pub(crate) fn linear_parts(l: &Linear) -> (Tensor<2>, Tensor<1>) {
    let w = l.weight.val();
    let b = match &l.bias {
        Some(b) => b.val(),
        None => Tensor::zeros([w.dims()[1]], &w.device()),
    };
    (w, b)
}

impl Mlp {
    /// Logits for a batch of flattened images `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let ((w1, b1), (w2, b2)) = (linear_parts(&self.hidden), linear_parts(&self.output));
        let [rows, _] = x.dims();
        let [inputs, hidden] = w1.dims();
        let classes = b2.dims()[0];
        let (_, logits) = forward_stack(
            x,
            &w1.reshape([1, inputs, hidden]),
            &b1.reshape([1, 1, hidden]),
            &w2.reshape([1, hidden, classes]),
            &b2.reshape([1, 1, classes]),
        );
        logits.reshape([rows, classes])
    }

    /// Class probabilities (softmax of the logits).
    pub fn probabilities(&self, x: Tensor<2>) -> Tensor<2> {
        burn::tensor::activation::softmax(self.forward(x), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn keras_normal_init_statistics_and_seeding() {
        let device = Device::flex();
        let config = ModelConfig::default();
        let model = config.init(42, &device);
        let w = values(model.hidden.weight.val());
        assert_eq!(w.len(), 614_656);
        let n = w.len() as f64;
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n;
        let std = (w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.001, "mean {mean}");
        assert!((std - 0.05).abs() < 0.001, "std {std}");
        for b in [&model.hidden.bias, &model.output.bias] {
            let b = b
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap();
            assert!(b.iter().all(|&x| x == 0.0));
        }
        assert_eq!(model.output.weight.val().dims(), [784, 10]);

        let again = config.init(42, &device);
        assert_eq!(values(again.hidden.weight.val()), w);
        assert_eq!(
            values(again.output.weight.val()),
            values(model.output.weight.val())
        );
        let other = config.init(43, &device);
        assert_ne!(values(other.hidden.weight.val()), w);
        #[allow(deprecated)]
        let on_ndarray = config.init(42, &Device::ndarray());
        assert_eq!(
            values(on_ndarray.hidden.weight.val()),
            w,
            "same weights on every backend"
        );
    }

    #[test]
    fn memory_estimates_grow_with_the_shape_and_never_overflow() {
        let c = ModelConfig::default();
        assert_eq!(c.parameters(), Some(784 * 784 + 784 + 784 * 10 + 10));
        let bytes = c.training_bytes(256).unwrap();
        assert!((9_000_000..20_000_000).contains(&bytes), "{bytes}");
        let huge = ModelConfig {
            hidden: 100_000_000,
            ..c
        };
        assert!(huge.training_bytes(256).unwrap() > 1 << 40);
        let absurd = ModelConfig {
            hidden: usize::MAX,
            ..c
        };
        assert_eq!(absurd.parameters(), None);
        assert_eq!(absurd.training_bytes(256), None);
    }

    #[test]
    fn flop_counts_match_the_model_shape() {
        let c = ModelConfig::default();
        assert_eq!(c.forward_flops(), 2.0 * (784.0 * 784.0 + 784.0 * 10.0));
        assert!(
            (c.train_flops() / 1e6 - 2.5).abs() < 0.02,
            "{}",
            c.train_flops()
        );
    }
}
