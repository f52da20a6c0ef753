//! The optimizers a member trains with — Adam (the reference), AdamW, SGD with momentum and
//! RMSprop — each as one framework defines it ([`Convention`]): the spec a user writes
//! ([`Optimizer`]), the defaults each convention gives ([`Defaults`]), the settings a member
//! resolves to ([`OptimizerConfig`]), the constants of one step ([`Step`]) with the element
//! maths both engines share, and the one loop over host memory that applies them
//! ([`update`]). See `rule` for every update's formula.

mod rule;
mod spec;

use rayon::prelude::*;

pub use rule::{Form, OptimizerConfig, Step};
pub use spec::{Convention, Defaults, Optimizer, OPTIMIZER_FORMS};

/// One parameter with its optimizer's two state tensors (Adam's moments; SGD's velocity in
/// `m`; RMSprop's mean square in `v` and momentum in `m`), owned together so that an update can
/// run in place: `Slot<Tensor<3>>` on the tensor engine, `Slot<Vec<f32>>` on the CPU engine.
#[derive(Debug, Clone)]
pub struct Slot<T> {
    /// The parameter.
    pub param: T,
    /// The first state tensor (Adam's first moment, a velocity or momentum).
    pub m: T,
    /// The second (Adam's second moment, RMSprop's mean square).
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
    /// One update of this parameter with gradient `g` at step `k` ([`update`]).
    pub fn update(&mut self, g: &[f32], k: Step) {
        update(&mut self.param, &mut self.m, &mut self.v, g, k);
    }
}

/// Elements per parallel task of [`update`]: large enough that a task outweighs its scheduling.
const UPDATE_CHUNK: usize = 1 << 15;

/// A step `k` over whole slices of host memory, in parallel over chunks: the crate's one
/// update loop (the CPU engine's parameters, and the tensor engine's fused update on CPU
/// backends). Element by element, so the result does not depend on how the work is split.
pub fn update(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Step) {
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
fn update_part(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Step) {
    k.apply(p, m, v, g);
}

/// [`update_part`] compiled for AVX2: eight elements at a time, the same arithmetic (square
/// root and division are exactly rounded in every lane width; nothing is fused), so the
/// same results as the portable loop.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_avx2(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Step) {
    update_part(p, m, v, g, k);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slice_update_is_the_element_update_everywhere() {
        let n = 3 * UPDATE_CHUNK + 7;
        let g: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 - 48.0) * 1e-3).collect();
        let convention = |o: &str, c| OptimizerConfig {
            weight_decay: 1e-3,
            ..OptimizerConfig::new(o.parse().unwrap(), c)
        };
        for config in [
            OptimizerConfig::default(),
            convention("adam", Convention::Keras),
            convention("adamw", Convention::Torch),
            convention("sgd:0.9:nesterov", Convention::Keras),
            convention("sgd:0.9", Convention::Torch),
            convention("rmsprop:0.9:0.5", Convention::Keras),
            convention("rmsprop", Convention::Torch),
        ] {
            let k = config.step(1e-3, 3);
            let (mut p, mut m, mut v) = (vec![0.05f32; n], vec![1e-4f32; n], vec![1e-6f32; n]);
            update(&mut p, &mut m, &mut v, &g, k);
            for (i, &gi) in g.iter().enumerate() {
                let (mut pe, mut me, mut ve) = ([0.05f32], [1e-4f32], [1e-6f32]);
                k.apply(&mut pe, &mut me, &mut ve, &[gi]);
                assert_eq!(
                    (p[i], m[i], v[i]),
                    (pe[0], me[0], ve[0]),
                    "{config:?}: element {i}"
                );
            }
        }
    }
}
