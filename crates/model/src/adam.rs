//! Adam, in the form Keras 2 computes it (the default) or the PyTorch/Burn form: the element
//! maths both engines share, and the one loop over host memory that applies it.
//!
//! Both keep `m ← β1·m + (1−β1)·g` and `v ← β2·v + (1−β2)·g²`. They differ in where ε enters:
//!
//! * Keras 2 (`tf.keras.optimizers.Adam`, ε is Kingma and Ba's "ε-hat"):
//!   `θ ← θ − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)`
//! * PyTorch and Burn's `AdamConfig`: `θ ← θ − lr · m̂ / (√v̂ + ε)` with `m̂ = m/(1−β1ᵗ)`,
//!   `v̂ = v/(1−β2ᵗ)`.
//!
//! The Keras form equals the PyTorch form with ε scaled by `√(1−β2ᵗ)`: about 0.03·ε at the first
//! step, so the two differ where `√v̂` is comparable to ε (tiny gradients, the first steps) and
//! agree once `√v̂ ≫ ε`. Burn's own Adam also defaults to ε = 1e-5, not 1e-7.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Where ε enters the update; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdamVariant {
    /// ε added to √v before the bias correction (Keras 2, the reference).
    #[default]
    Keras,
    /// ε added to the bias-corrected √v̂ (PyTorch, Burn).
    Torch,
}

/// Adam's hyper-parameters (the learning rate is per member).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Decay of the first moment (0.9).
    pub beta1: f64,
    /// Decay of the second moment (0.999).
    pub beta2: f64,
    /// ε (Keras: 1e-7).
    pub epsilon: f64,
    /// Where ε enters.
    pub variant: AdamVariant,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-7,
            variant: AdamVariant::Keras,
        }
    }
}

/// One parameter with its two moments, owned together so that an update can run in place:
/// `Slot<Tensor<3>>` on the tensor engine, `Slot<Vec<f32>>` on the CPU engine.
#[derive(Debug, Clone)]
pub struct Slot<T> {
    /// The parameter.
    pub param: T,
    /// First moment.
    pub m: T,
    /// Second moment.
    pub v: T,
}

impl<T> Slot<T> {
    /// Applies `f` to the parameter and each moment, in that order.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Slot<U> {
        Slot {
            param: f(self.param),
            m: f(self.m),
            v: f(self.v),
        }
    }

    /// The parameter and its moments, in that order.
    pub fn parts(&self) -> [&T; 3] {
        [&self.param, &self.m, &self.v]
    }
}

impl Slot<Vec<f32>> {
    /// One Adam update of this parameter with gradient `g` ([`update`]).
    pub fn update(&mut self, g: &[f32], k: StepConstants) {
        update(&mut self.param, &mut self.m, &mut self.v, g, k);
    }
}

impl AdamConfig {
    /// Step size and ε for step `t` (1-based), so that every variant updates as
    /// `θ ← θ − step · m / (√v + eps)`.
    pub fn step_scalars(&self, lr: f64, t: u64) -> (f64, f64) {
        let t = t as i32;
        let c1 = 1.0 - self.beta1.powi(t);
        let c2 = 1.0 - self.beta2.powi(t);
        match self.variant {
            AdamVariant::Keras => (lr * c2.sqrt() / c1, self.epsilon),
            // lr·(m/c1)/(√(v/c2)+ε) = lr·√c2/c1 · m/(√v + ε·√c2)
            AdamVariant::Torch => (lr * c2.sqrt() / c1, self.epsilon * c2.sqrt()),
        }
    }

    /// The constants of one member's update at learning rate `lr` and step `t` (1-based).
    pub fn constants(&self, lr: f64, t: u64) -> StepConstants {
        StepConstants::new(self, self.step_scalars(lr, t))
    }
}

/// Adam's constants for one member at one step, in f32 as the updates use them.
#[derive(Debug, Clone, Copy)]
pub struct StepConstants {
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    step: f32,
    eps: f32,
}

impl StepConstants {
    /// The constants of `config` with step size and ε from [`AdamConfig::step_scalars`].
    pub fn new(config: &AdamConfig, (step, eps): (f64, f64)) -> Self {
        Self {
            b1: config.beta1 as f32,
            c1: (1.0 - config.beta1) as f32,
            b2: config.beta2 as f32,
            c2: (1.0 - config.beta2) as f32,
            step: step as f32,
            eps: eps as f32,
        }
    }
}

/// One element of the update: the same arithmetic, in the same order, wherever it runs.
#[inline(always)]
pub(crate) fn adam_element(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: StepConstants) {
    *m = *m * k.b1 + g * k.c1;
    *v = *v * k.b2 + g * g * k.c2;
    *p -= *m / (v.sqrt() + k.eps) * k.step;
}

/// Elements per parallel task of [`update`]: large enough that a task outweighs its scheduling.
const UPDATE_CHUNK: usize = 1 << 15;

/// Adam over whole slices of host memory, in parallel over chunks: the crate's one update
/// loop (the CPU engine's parameters, and the tensor engine's fused update on CPU backends).
/// Element by element, so the result does not depend on how the work is split.
pub fn update(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: StepConstants) {
    p.par_chunks_mut(UPDATE_CHUNK)
        .zip(m.par_chunks_mut(UPDATE_CHUNK))
        .zip(v.par_chunks_mut(UPDATE_CHUNK))
        .zip(g.par_chunks(UPDATE_CHUNK))
        .for_each(|(((p, m), v), g)| {
            #[cfg(target_arch = "x86_64")]
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2 (just checked).
                unsafe { update_avx2(p, m, v, g, k) };
                return;
            }
            update_part(p, m, v, g, k);
        });
}

/// [`update`] on one part, element by element.
#[inline(always)]
fn update_part(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: StepConstants) {
    for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
        adam_element(p, m, v, g, k);
    }
}

/// [`update_part`] compiled for AVX2: eight elements at a time, the same arithmetic (square
/// root and division are exactly rounded in every lane width; nothing is fused), so the
/// same results as the portable loop.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: StepConstants) {
    update_part(p, m, v, g, k);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_update_is_the_element_update_everywhere() {
        let n = 3 * UPDATE_CHUNK + 7;
        let g: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect();
        let k = AdamConfig::default().constants(1e-3, 3);
        let (mut p, mut m, mut v) = (vec![0.05f32; n], vec![1e-4f32; n], vec![1e-6f32; n]);
        update(&mut p, &mut m, &mut v, &g, k);
        for (i, &gi) in g.iter().enumerate() {
            let (mut pe, mut me, mut ve) = (0.05f32, 1e-4f32, 1e-6f32);
            adam_element(&mut pe, &mut me, &mut ve, gi, k);
            assert_eq!((p[i], m[i], v[i]), (pe, me, ve), "element {i}");
        }
    }
}
