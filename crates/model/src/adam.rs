//! Adam, in the form Keras 2 computes it (the default) or the PyTorch/Burn form.
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

use burn::tensor::Tensor;
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

/// Where the update runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateExec {
    /// Element-wise tensor operations on the device (any backend; right for GPUs).
    #[default]
    OnDevice,
    /// One fused pass over host memory, for CPU backends whose tensors live there (flex,
    /// ndarray): a dozen element-wise passes become one. Same arithmetic, same results.
    FusedOnHost,
}

/// Adam's hyper-parameters (the learning rate is per run).
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

/// One parameter tensor with its moments, owned together so that the update can run in place
/// on the CPU backends (a tensor that nothing else references is reused, not reallocated).
#[derive(Debug, Clone)]
pub struct Slot<const D: usize> {
    /// The parameter.
    pub param: Tensor<D>,
    /// First moment.
    pub m: Tensor<D>,
    /// Second moment.
    pub v: Tensor<D>,
}

impl<const D: usize> Slot<D> {
    /// A parameter with zero moments.
    pub fn new(param: Tensor<D>) -> Self {
        Self {
            m: param.zeros_like(),
            v: param.zeros_like(),
            param,
        }
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

    /// One update of a parameter with gradient `grad` at step `t` (1-based), where `exec` says.
    pub fn update_with<const D: usize>(
        &self,
        exec: UpdateExec,
        lr: f64,
        t: u64,
        slot: Slot<D>,
        grad: Tensor<D>,
    ) -> Slot<D> {
        // A stack of one: the same arithmetic as every member of a stack.
        let dims = slot.param.dims();
        let n = dims.iter().product::<usize>();
        let flat = |x: Tensor<D>| x.reshape([1, 1, n]);
        let out = self.update_stacked(
            exec,
            &[self.step_scalars(lr, t)],
            Slot {
                param: flat(slot.param),
                m: flat(slot.m),
                v: flat(slot.v),
            },
            flat(grad),
        );
        let back = |x: Tensor<3>| x.reshape(dims);
        Slot {
            param: back(out.param),
            m: back(out.m),
            v: back(out.v),
        }
    }

    /// Per-member `(step, eps)` for members of a stack at learning rates `rates` and Adam steps
    /// `steps` (1-based, each member's own).
    pub fn stack_scalars(&self, rates: &[f64], steps: &[u64]) -> Vec<(f64, f64)> {
        rates
            .iter()
            .zip(steps)
            .map(|(&lr, &t)| self.step_scalars(lr, t))
            .collect()
    }

    /// One update of a stacked parameter whose leading dimension holds the members, each with
    /// its own `(step, eps)`: on the device with the scalars as one small tensor (one set of
    /// kernels for every member), or fused on the host member by member. A member's numbers
    /// never depend on another member's.
    pub fn update_stacked(
        &self,
        exec: UpdateExec,
        scalars: &[(f64, f64)],
        slot: Slot<3>,
        grad: Tensor<3>,
    ) -> Slot<3> {
        match exec {
            UpdateExec::OnDevice => self.update_stacked_on_device(scalars, slot, grad),
            UpdateExec::FusedOnHost => self.update_stacked_fused(scalars, slot, grad),
        }
    }

    fn update_stacked_on_device(
        &self,
        scalars: &[(f64, f64)],
        slot: Slot<3>,
        grad: Tensor<3>,
    ) -> Slot<3> {
        let device = slot.param.device();
        let k = scalars.len();
        let column = |f: fn(&(f64, f64)) -> f64| {
            let values: Vec<f32> = scalars.iter().map(|s| f(s) as f32).collect();
            Tensor::<3>::from_data(burn::tensor::TensorData::new(values, [k, 1, 1]), &device)
        };
        let (step, eps) = (column(|s| s.0), column(|s| s.1));
        let Slot { param, m, v } = slot;
        let (m, v) = self.moments(m, v, grad);
        let delta = m.clone().div(v.clone().sqrt().add(eps)).mul(step);
        Slot {
            param: param.sub(delta),
            m,
            v,
        }
    }

    fn update_stacked_fused(
        &self,
        scalars: &[(f64, f64)],
        slot: Slot<3>,
        grad: Tensor<3>,
    ) -> Slot<3> {
        let device = slot.param.device();
        let (mut p, mut m, mut v) = (
            slot.param.into_data(),
            slot.m.into_data(),
            slot.v.into_data(),
        );
        let g = grad.into_data();
        let fused = if let (Ok(ps), Ok(ms), Ok(vs), Ok(gs)) = (
            p.as_mut_slice::<f32>(),
            m.as_mut_slice::<f32>(),
            v.as_mut_slice::<f32>(),
            g.as_slice::<f32>(),
        ) {
            let per = ps.len() / scalars.len().max(1);
            for (i, &scalar) in scalars.iter().enumerate() {
                let r = i * per..(i + 1) * per;
                let k = FusedScalars::new(self, scalar);
                fused_adam(
                    &mut ps[r.clone()],
                    &mut ms[r.clone()],
                    &mut vs[r.clone()],
                    &gs[r],
                    k,
                );
            }
            true
        } else {
            false
        };
        let slot = Slot {
            param: Tensor::from_data(p, &device),
            m: Tensor::from_data(m, &device),
            v: Tensor::from_data(v, &device),
        };
        if fused {
            slot
        } else {
            self.update_stacked_on_device(scalars, slot, Tensor::from_data(g, &device))
        }
    }

    /// The moments after gradient `grad`: `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`.
    fn moments<const D: usize>(
        &self,
        m: Tensor<D>,
        v: Tensor<D>,
        grad: Tensor<D>,
    ) -> (Tensor<D>, Tensor<D>) {
        let m = m
            .mul_scalar(self.beta1)
            .add(grad.clone().mul_scalar(1.0 - self.beta1));
        let v = v
            .mul_scalar(self.beta2)
            .add(grad.square().mul_scalar(1.0 - self.beta2));
        (m, v)
    }

    /// One update of a parameter with gradient `grad` at step `t` (1-based).
    pub fn update<const D: usize>(
        &self,
        lr: f64,
        t: u64,
        slot: Slot<D>,
        grad: Tensor<D>,
    ) -> Slot<D> {
        let (step, eps) = self.step_scalars(lr, t);
        let Slot { param, m, v } = slot;
        let (m, v) = self.moments(m, v, grad);
        let delta = m
            .clone()
            .div(v.clone().sqrt().add_scalar(eps))
            .mul_scalar(step);
        Slot {
            param: param.sub(delta),
            m,
            v,
        }
    }
}

/// Adam's constants for one member at one step, as the fused update uses them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FusedScalars {
    b1: f32,
    c1: f32,
    b2: f32,
    c2: f32,
    step: f32,
    eps: f32,
}

impl FusedScalars {
    /// The constants of `config` with step size and ε from [`AdamConfig::step_scalars`].
    pub(crate) fn new(config: &AdamConfig, (step, eps): (f64, f64)) -> Self {
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

/// One element of the fused update: the same arithmetic, in the same order, wherever it runs.
#[inline(always)]
pub(crate) fn adam_element(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: FusedScalars) {
    *m = *m * k.b1 + g * k.c1;
    *v = *v * k.b2 + g * g * k.c2;
    *p -= *m / (v.sqrt() + k.eps) * k.step;
}

/// Adam over slices, split across the available cores for large tensors.
fn fused_adam(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: FusedScalars) {
    fn run(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: FusedScalars) {
        for (((p, m), v), &g) in p.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
            adam_element(p, m, v, g, k);
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || p.len() < 1 << 16 {
        return run(p, m, v, g, k);
    }
    let chunk = p.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (((p, m), v), g) in p
            .chunks_mut(chunk)
            .zip(m.chunks_mut(chunk))
            .zip(v.chunks_mut(chunk))
            .zip(g.chunks(chunk))
        {
            s.spawn(move || run(p, m, v, g, k));
        }
    });
}
