//! The network's shape: its sizes, layers, activation, dropout and initialisation, what a step
//! costs, and its seeded initial weights as plain host values, the same on every machine and for
//! every engine.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::layers::{Activation, Init, Widths};

/// A tensor on the host: its shape and its values, row-major.
pub type HostTensor = (Vec<usize>, Vec<f32>);

/// Shape and initialisation of the network: Dense inputs→H₁, activation, (dropout,) …,
/// Dense H_last→classes. The reference is one hidden layer of 784 ReLU units, no dropout,
/// Normal(0, 0.05) weights; written as earlier versions wrote it when it is (the settings at
/// their defaults are left out), so the identities of older checkpoints still match.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Inputs per image (784 for 28×28).
    pub inputs: usize,
    /// The hidden layers' widths (the reference: one layer of 784).
    pub hidden: Widths,
    /// Classes.
    pub classes: usize,
    /// Standard deviation of the Normal(0, σ) weight initialisation (Keras' `'normal'`: 0.05).
    pub init_std: f64,
    /// The activation after each hidden layer (the reference: ReLU).
    #[serde(default, skip_serializing_if = "is_default")]
    pub activation: Activation,
    /// Inverted dropout after each hidden activation, its drop probability (0 ≤ p < 1; the
    /// reference: 0, none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// How the weights start (the reference: Normal(0, `init_std`)).
    #[serde(default, skip_serializing_if = "is_default")]
    pub init: Init,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            inputs: 784,
            hidden: Widths::default(),
            classes: 10,
            init_std: 0.05,
            activation: Activation::Relu,
            dropout: 0.0,
            init: Init::Normal,
        }
    }
}

impl ModelConfig {
    /// Each dense layer's `(fan_in, fan_out)`, the hidden ones then the output one.
    pub fn layers(&self) -> Vec<(usize, usize)> {
        let mut ins = vec![self.inputs];
        ins.extend_from_slice(&self.hidden);
        let mut outs = self.hidden.to_vec();
        outs.push(self.classes);
        ins.into_iter().zip(outs).collect()
    }

    /// Number of dense layers (hidden and output).
    pub fn depth(&self) -> usize {
        self.hidden.depth() + 1
    }

    /// FLOPs of one forward pass of one image: 2·Σ fan_in·fan_out over the layers.
    pub fn forward_flops(&self) -> f64 {
        self.layers()
            .iter()
            .map(|&(i, o)| 2.0 * i as f64 * o as f64)
            .sum()
    }

    /// FLOPs of one training step per image: forward, every layer's weight gradient and every
    /// hidden layer's input gradient (none for the input): 3 × forward − 2·inputs·H₁.
    pub fn train_flops(&self) -> f64 {
        3.0 * self.forward_flops() - 2.0 * (self.inputs * self.hidden.first()) as f64
    }

    /// Parameters of the network (weights and biases), or `None` if the count overflows.
    pub fn parameters(&self) -> Option<usize> {
        self.layers().iter().try_fold(0usize, |n, &(i, o)| {
            n.checked_add(i.checked_mul(o)?)?.checked_add(o)
        })
    }

    /// Bytes a training run of this network holds, roughly: every parameter four times (weights,
    /// gradient, Adam's two moments) and a batch's activations and their gradients (four
    /// `[batch, H]` tensors per hidden layer, a fifth with dropout, plus inputs and outputs), as
    /// f32; `None` if that overflows.
    pub fn training_bytes(&self, batch: usize) -> Option<u64> {
        let params = self.parameters()? as u64;
        let b = batch as u64;
        let per_unit = if self.dropout > 0.0 { 5 } else { 4 };
        let hidden = self.hidden.iter().try_fold(0u64, |n, &h| {
            n.checked_add((h as u64).checked_mul(per_unit)?)
        })?;
        let activations = b
            .checked_mul(hidden)?
            .checked_add(b.checked_mul((self.inputs + self.classes) as u64)?)?;
        params
            .checked_mul(4)?
            .checked_add(activations)?
            .checked_mul(4)
    }

    /// The shapes of the parameters, as a [`crate::TrainerState`] saves them: each layer's
    /// weight `[fan_in, fan_out]` then its bias `[fan_out]`, the first hidden layer first.
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        self.layers()
            .into_iter()
            .flat_map(|(i, o)| [vec![i, o], vec![o]])
            .collect()
    }

    /// The standard deviation of the first layer's weights at the start (what a rate's reach is
    /// measured in).
    pub fn first_layer_std(&self) -> f64 {
        self.init
            .weight_std(self.inputs, self.hidden.first(), self.init_std)
    }

    /// The seeded initial parameters (row-major, shapes as [`ModelConfig::parameter_shapes`]):
    /// each layer's weights drawn in layer order from one stream by `init`, biases 0 (but under
    /// `torch`, whose biases are drawn after their layer's weights). The same seed gives the
    /// same values everywhere; the reference's are its Normal(0, σ) draws, w1 then w2.
    pub fn initial_values(&self, seed: u64) -> Vec<Vec<f32>> {
        let mut stream = NormalSampler::new(seed, 1.0);
        let mut values = Vec::with_capacity(2 * self.depth());
        for (fan_in, fan_out) in self.layers() {
            let n = fan_in * fan_out;
            let (i, o) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
            let weights: Vec<f32> = match self.init {
                Init::Normal => (0..n)
                    .map(|_| stream.sample_scaled(self.init_std))
                    .collect(),
                Init::GlorotUniform => {
                    let limit = (6.0 / (i + o)).sqrt();
                    (0..n).map(|_| stream.uniform_in(limit)).collect()
                }
                Init::HeNormal => {
                    // Keras' truncated normal: deviation √(2/fan_in) / .8796…, redrawn beyond
                    // two deviations.
                    let std = (2.0 / i).sqrt() / 0.879_625_661_034_239_8;
                    (0..n).map(|_| stream.truncated(std)).collect()
                }
                Init::Torch => (0..n).map(|_| stream.uniform_in(1.0 / i.sqrt())).collect(),
            };
            let biases = match self.init {
                Init::Torch => (0..fan_out)
                    .map(|_| stream.uniform_in(1.0 / i.sqrt()))
                    .collect(),
                _ => vec![0.0; fan_out],
            };
            values.push(weights);
            values.push(biases);
        }
        values
    }
}

/// Normal(0, σ) from a ChaCha8 stream by Box–Muller in f64: portable across machines.
struct NormalSampler {
    rng: ChaCha8Rng,
    std: f64,
    spare: Option<f64>,
}

impl NormalSampler {
    /// A Normal(0, `std`) draw in f32 (the one draw the others are made of).
    fn sample_scaled(&mut self, std: f64) -> f32 {
        self.std = std;
        self.sample()
    }

    /// A U(−`limit`, `limit`) draw from the stream's 53-bit uniforms.
    fn uniform_in(&mut self, limit: f64) -> f32 {
        ((2.0 * self.uniform() - 1.0) * limit) as f32
    }

    /// A Normal(0, `std`) draw redrawn until within two deviations.
    fn truncated(&mut self, std: f64) -> f32 {
        self.std = 1.0;
        loop {
            let z = self.sample() as f64;
            if z.abs() <= 2.0 {
                return (z * std) as f32;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_normal_init_statistics_and_seeding() {
        let config = ModelConfig::default();
        let values = config.initial_values(42);
        let [w, b1, w2, b2] = [&values[0], &values[1], &values[2], &values[3]];
        assert_eq!(w.len(), 614_656);
        assert_eq!(w2.len(), 7_840);
        let n = w.len() as f64;
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n;
        let std = (w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.001, "mean {mean}");
        assert!((std - 0.05).abs() < 0.001, "std {std}");
        assert!(b1.iter().chain(b2.iter()).all(|&x| x == 0.0));
        let again = config.initial_values(42);
        assert_eq!(&again[0], w);
        assert_eq!(&again[2], w2);
        assert_ne!(&config.initial_values(43)[0], w);
    }

    /// Keras' glorot_uniform and he_normal, PyTorch's nn.Linear default: bounds, deviations and
    /// (for torch) biases, on a 3-layer network.
    #[test]
    fn every_init_draws_as_its_framework_defines_it() {
        let stats = |v: &[f32]| {
            let n = v.len() as f64;
            let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
            let sd = (v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
            (mean, sd, max)
        };
        let model = |init| ModelConfig {
            inputs: 400,
            hidden: Widths::new(&[300, 200]).unwrap(),
            classes: 10,
            init,
            ..ModelConfig::default()
        };
        for init in [
            Init::GlorotUniform,
            Init::HeNormal,
            Init::Torch,
            Init::Normal,
        ] {
            let m = model(init);
            let values = m.initial_values(7);
            assert_eq!(values.len(), 6);
            for (l, (fan_in, fan_out)) in m.layers().into_iter().enumerate() {
                let w = &values[2 * l];
                assert_eq!(w.len(), fan_in * fan_out);
                let (mean, sd, max) = stats(w);
                let want = init.weight_std(fan_in, fan_out, m.init_std);
                assert!(
                    mean.abs() < 0.05 * want + 1e-3,
                    "{init} layer {l}: mean {mean}"
                );
                assert!(
                    (sd - want).abs() < 0.03 * want,
                    "{init} layer {l}: sd {sd} vs {want}"
                );
                let (i, o) = (fan_in as f64, fan_out as f64);
                match init {
                    Init::GlorotUniform => assert!(max <= (6.0 / (i + o)).sqrt()),
                    Init::Torch => assert!(max <= 1.0 / i.sqrt()),
                    Init::HeNormal => {
                        assert!(max <= 2.0 * (2.0 / i).sqrt() / 0.879_625_661_034_239_8)
                    }
                    Init::Normal => {}
                }
                let b = &values[2 * l + 1];
                match init {
                    Init::Torch => {
                        assert!(b.iter().all(|&x| (x as f64).abs() <= 1.0 / i.sqrt()));
                        assert!(b.iter().any(|&x| x != 0.0));
                    }
                    _ => assert!(b.iter().all(|&x| x == 0.0)),
                }
            }
        }
    }

    #[test]
    fn memory_estimates_grow_with_the_shape_and_never_overflow() {
        let c = ModelConfig::default();
        assert_eq!(c.parameters(), Some(784 * 784 + 784 + 784 * 10 + 10));
        let bytes = c.training_bytes(256).unwrap();
        assert!((9_000_000..20_000_000).contains(&bytes), "{bytes}");
        let huge = ModelConfig {
            hidden: Widths::one(100_000_000),
            ..c
        };
        assert!(huge.training_bytes(256).unwrap() > 1 << 40);
        let absurd = ModelConfig {
            hidden: Widths::one(usize::MAX),
            ..c
        };
        // Every layer counts.
        let deep = ModelConfig {
            hidden: Widths::new(&[784, 784, 784]).unwrap(),
            ..c
        };
        assert_eq!(
            deep.parameters(),
            Some(784 * 784 * 3 + 784 * 3 + 784 * 10 + 10)
        );
        assert!(deep.training_bytes(256).unwrap() > 2 * bytes);
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
        let deep = ModelConfig {
            hidden: Widths::new(&[512, 256]).unwrap(),
            ..c
        };
        assert_eq!(
            deep.forward_flops(),
            2.0 * (784.0 * 512.0 + 512.0 * 256.0 + 256.0 * 10.0)
        );
        // The reference is written as earlier versions wrote it; other settings are added.
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"inputs":784,"hidden":784,"classes":10,"init_std":0.05}"#
        );
        let other = ModelConfig {
            activation: Activation::Tanh,
            dropout: 0.2,
            ..deep
        };
        let text = serde_json::to_string(&other).unwrap();
        assert!(text.contains(r#""hidden":[512,256]"#) && text.contains(r#""activation":"tanh""#));
        assert_eq!(serde_json::from_str::<ModelConfig>(&text).unwrap(), other);
    }
}
