//! The network's shape: its sizes, what a step costs, and its seeded initial weights as plain
//! host values, the same on every machine and for every engine.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A tensor on the host: its shape and its values, row-major.
pub type HostTensor = (Vec<usize>, Vec<f32>);

/// Shape and initialisation of the network: Dense inputs→H ReLU, Dense H→classes.
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

    /// The shapes of the four parameters, as a [`crate::TrainerState`] saves them: `w1 [inputs,
    /// H]`, `b1 [H]`, `w2 [H, classes]`, `b2 [classes]`.
    pub fn parameter_shapes(&self) -> [Vec<usize>; 4] {
        [
            vec![self.inputs, self.hidden],
            vec![self.hidden],
            vec![self.hidden, self.classes],
            vec![self.classes],
        ]
    }

    /// The seeded initial parameters `w1, b1, w2, b2` (row-major, shapes as
    /// [`ModelConfig::parameter_shapes`]): Normal(0, `init_std`) weights drawn w1 first, zero
    /// biases. The same seed gives the same values everywhere.
    pub fn initial_values(&self, seed: u64) -> [Vec<f32>; 4] {
        let mut normal = NormalSampler::new(seed, self.init_std);
        let mut weights = |n: usize| -> Vec<f32> { (0..n).map(|_| normal.sample()).collect() };
        let w1 = weights(self.inputs * self.hidden);
        let w2 = weights(self.hidden * self.classes);
        [w1, vec![0.0; self.hidden], w2, vec![0.0; self.classes]]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_normal_init_statistics_and_seeding() {
        let config = ModelConfig::default();
        let [w, b1, w2, b2] = config.initial_values(42);
        assert_eq!(w.len(), 614_656);
        assert_eq!(w2.len(), 7_840);
        let n = w.len() as f64;
        let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n;
        let std = (w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!(mean.abs() < 0.001, "mean {mean}");
        assert!((std - 0.05).abs() < 0.001, "std {std}");
        assert!(b1.iter().chain(&b2).all(|&x| x == 0.0));
        let again = config.initial_values(42);
        assert_eq!(again[0], w);
        assert_eq!(again[2], w2);
        assert_ne!(config.initial_values(43)[0], w);
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
