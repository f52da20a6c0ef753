//! Each optimizer's update as its convention computes it: the resolved settings of a member
//! ([`OptimizerConfig`]), the constants of one of its steps ([`Step`]), and the element maths
//! every engine applies, the same arithmetic in the same order wherever it runs.
//!
//! With `g` the gradient, `p` the parameter, `lr` the step's rate, `t` the step (from 1), `wd`
//! the coupled L2 term (`g ← g + wd·p` first, as PyTorch's `weight_decay`):
//!
//! * Adam, Keras (as Keras 2, the reference): `m ← β1·m + (1−β1)·g`, `v ← β2·v + (1−β2)·g²`,
//!   `p ← p − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m/(√v + ε)`. PyTorch: the same with ε after the bias
//!   correction, `p ← p − lr·m̂/(√v̂ + ε)`, computed as the Keras form with ε·√(1−β2ᵗ).
//! * AdamW: `p ← p·(1 − lr·WD)`, then Adam (PyTorch's `AdamW`; Keras' subtracts `p·WD·lr`).
//! * SGD, PyTorch: `b ← μ·b + g`, `p ← p − lr·b` (Nesterov: `p ← p − lr·(g + μ·b)`); Keras
//!   keeps the rate in the velocity: `m ← μ·m − lr·g`, `p ← p + m` (Nesterov:
//!   `p ← p + μ·m − lr·g`). With a constant rate the two are the same; under a schedule they
//!   differ.
//! * RMSprop, PyTorch: `v ← ρ·v + (1−ρ)·g²`, `p ← p − lr·g/(√v + ε)` (momentum:
//!   `b ← μ·b + g/(√v + ε)`, `p ← p − lr·b`); Keras: `p ← p − lr·g/√(v + ε)` (momentum:
//!   `m ← μ·m + lr·g/√(v + ε)`, `p ← p − m`).

use serde::{Deserialize, Serialize};

use super::spec::{Convention, Defaults, Optimizer};

/// A member's optimizer with every number resolved: its spec, the convention, the defaults
/// where the spec gave none, and the coupled weight decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    /// The spec as listed.
    pub optimizer: Optimizer,
    /// Whose definition it follows.
    pub convention: Convention,
    /// The defaults the spec's missing numbers take.
    pub defaults: Defaults,
    /// The coupled L2 term `wd` (`g ← g + wd·p`; not for AdamW, whose decay is its own).
    pub weight_decay: f64,
}

impl Default for OptimizerConfig {
    /// The reference's: Adam as Keras 2 computed it.
    fn default() -> Self {
        Self::new(Optimizer::Adam, Convention::Keras)
    }
}

impl OptimizerConfig {
    /// `optimizer` under `convention` with its defaults and no weight decay.
    pub fn new(optimizer: Optimizer, convention: Convention) -> Self {
        Self {
            optimizer,
            convention,
            defaults: Defaults::of(convention),
            weight_decay: 0.0,
        }
    }

    /// AdamW's decoupled decay (the spec's, else the convention's); none for the others.
    pub fn decoupled_decay(&self) -> Option<f64> {
        match self.optimizer {
            Optimizer::AdamW { decay } => Some(decay.unwrap_or(self.defaults.adamw_decay)),
            _ => None,
        }
    }

    /// The coupled L2 term this optimizer applies (AdamW's decay is its own: none).
    fn l2(&self) -> f32 {
        match self.optimizer {
            Optimizer::AdamW { .. } => 0.0,
            _ => self.weight_decay as f32,
        }
    }

    /// Adam's step size and ε at step `t` (1-based), so that either convention updates as
    /// `p ← p − step · m / (√v + eps)`.
    pub fn adam_scalars(&self, lr: f64, t: u64) -> (f64, f64) {
        let d = &self.defaults;
        let t = t as i32;
        let c1 = 1.0 - d.beta1.powi(t);
        let c2 = 1.0 - d.beta2.powi(t);
        match self.convention {
            Convention::Keras => (lr * c2.sqrt() / c1, d.adam_epsilon),
            // lr·(m/c1)/(√(v/c2)+ε) = lr·√c2/c1 · m/(√v + ε·√c2)
            Convention::Torch => (lr * c2.sqrt() / c1, d.adam_epsilon * c2.sqrt()),
        }
    }

    /// The constants of step `t` (1-based) at rate `lr`.
    pub fn step(&self, lr: f64, t: u64) -> Step {
        let d = &self.defaults;
        let keras = self.convention == Convention::Keras;
        let l2 = self.l2();
        match self.optimizer {
            Optimizer::Adam | Optimizer::AdamW { .. } => {
                let (step, eps) = self.adam_scalars(lr, t);
                Step::Adam(AdamStep {
                    b1: d.beta1 as f32,
                    c1: (1.0 - d.beta1) as f32,
                    b2: d.beta2 as f32,
                    c2: (1.0 - d.beta2) as f32,
                    step: step as f32,
                    eps: eps as f32,
                    l2,
                    keep: self
                        .decoupled_decay()
                        .map_or(1.0, |wd| (1.0 - lr * wd) as f32),
                })
            }
            Optimizer::Sgd { momentum, nesterov } => Step::Sgd(SgdStep {
                mu: momentum as f32,
                lr: lr as f32,
                nesterov,
                keras,
                l2,
            }),
            Optimizer::RmsProp { rho, momentum } => {
                let rho = rho.unwrap_or(d.rmsprop_rho);
                Step::RmsProp(RmsStep {
                    rho: rho as f32,
                    c: (1.0 - rho) as f32,
                    eps: d.rmsprop_epsilon as f32,
                    lr: lr as f32,
                    mu: momentum as f32,
                    keras,
                    l2,
                })
            }
        }
    }
}

/// One step of one member, in f32 as the updates use it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// Adam or AdamW.
    Adam(AdamStep),
    /// SGD.
    Sgd(SgdStep),
    /// RMSprop.
    RmsProp(RmsStep),
}

/// Adam's constants at one step: the moments' decays, the step size and ε of
/// [`OptimizerConfig::adam_scalars`], the coupled L2 term and AdamW's `1 − lr·WD` (1: none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    pub(crate) b1: f32,
    pub(crate) c1: f32,
    pub(crate) b2: f32,
    pub(crate) c2: f32,
    pub(crate) step: f32,
    pub(crate) eps: f32,
    pub(crate) l2: f32,
    pub(crate) keep: f32,
}

/// SGD's constants at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdStep {
    pub(crate) mu: f32,
    pub(crate) lr: f32,
    pub(crate) nesterov: bool,
    pub(crate) keras: bool,
    pub(crate) l2: f32,
}

/// RMSprop's constants at one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsStep {
    pub(crate) rho: f32,
    pub(crate) c: f32,
    pub(crate) eps: f32,
    pub(crate) lr: f32,
    pub(crate) mu: f32,
    pub(crate) keras: bool,
    pub(crate) l2: f32,
}

/// The shape of a step's arithmetic: members whose steps have one form compute with the same
/// operations (their numbers differ), so a stack groups them, and a member's result never
/// depends on the form of another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// Adam, with or without the coupled L2 term and AdamW's decay.
    Adam {
        /// With `g ← g + wd·p`.
        l2: bool,
        /// With `p ← p·(1 − lr·WD)`.
        decay: bool,
    },
    /// SGD.
    Sgd {
        /// With momentum.
        momentum: bool,
        /// Nesterov's.
        nesterov: bool,
        /// Keras' (the rate in the velocity).
        keras: bool,
        /// With the coupled L2 term.
        l2: bool,
    },
    /// RMSprop.
    RmsProp {
        /// With momentum.
        momentum: bool,
        /// Keras' (ε inside the root, the rate in the momentum).
        keras: bool,
        /// With the coupled L2 term.
        l2: bool,
    },
}

impl Step {
    /// The form of this step's arithmetic.
    pub fn form(&self) -> Form {
        match *self {
            Step::Adam(k) => Form::Adam {
                l2: k.l2 != 0.0,
                decay: k.keep != 1.0,
            },
            Step::Sgd(k) => Form::Sgd {
                momentum: k.mu != 0.0,
                nesterov: k.nesterov,
                keras: k.keras,
                l2: k.l2 != 0.0,
            },
            Step::RmsProp(k) => Form::RmsProp {
                momentum: k.mu > 0.0,
                keras: k.keras,
                l2: k.l2 != 0.0,
            },
        }
    }

    /// The update of whole slices, the form chosen once (so that each loop is branch-free and
    /// vectorises): `p`, its two state slices `m` and `v` (what each optimizer keeps there:
    /// Adam its moments, SGD its velocity in `m`, RMSprop its mean square in `v` and its
    /// momentum in `m`) and the gradient `g`.
    #[inline(always)]
    pub fn apply(self, p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
        let each = p.iter_mut().zip(m).zip(v).zip(g);
        match self {
            Step::Adam(k) if k.l2 == 0.0 && k.keep == 1.0 => {
                for (((p, m), v), &g) in each {
                    adam_element(p, m, v, g, k);
                }
            }
            Step::Adam(k) => {
                for (((p, m), v), &g) in each {
                    adam_decayed(p, m, v, g, k);
                }
            }
            Step::Sgd(k) => {
                for (((p, m), _), &g) in each {
                    sgd_element(p, m, g, k);
                }
            }
            Step::RmsProp(k) => {
                for (((p, m), v), &g) in each {
                    rmsprop_element(p, m, v, g, k);
                }
            }
        }
    }
}

/// One element of Adam without decay terms: the reference's arithmetic, in its order.
#[inline(always)]
pub(crate) fn adam_element(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: AdamStep) {
    *m = *m * k.b1 + g * k.c1;
    *v = *v * k.b2 + g * g * k.c2;
    *p -= *m / (v.sqrt() + k.eps) * k.step;
}

/// One element of Adam with the coupled L2 term and AdamW's decay (each only where it is set).
#[inline(always)]
fn adam_decayed(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: AdamStep) {
    let g = if k.l2 != 0.0 { g + *p * k.l2 } else { g };
    if k.keep != 1.0 {
        *p *= k.keep;
    }
    adam_element(p, m, v, g, k);
}

/// One element of SGD (its velocity in `m`).
#[inline(always)]
fn sgd_element(p: &mut f32, m: &mut f32, g: f32, k: SgdStep) {
    let g = if k.l2 != 0.0 { g + *p * k.l2 } else { g };
    if k.mu == 0.0 {
        *p -= g * k.lr;
    } else if k.keras {
        *m = *m * k.mu - g * k.lr;
        *p += if k.nesterov { *m * k.mu - g * k.lr } else { *m };
    } else {
        *m = *m * k.mu + g;
        let u = if k.nesterov { g + *m * k.mu } else { *m };
        *p -= u * k.lr;
    }
}

/// One element of RMSprop (its mean square in `v`, its momentum in `m`).
#[inline(always)]
fn rmsprop_element(p: &mut f32, m: &mut f32, v: &mut f32, g: f32, k: RmsStep) {
    let g = if k.l2 != 0.0 { g + *p * k.l2 } else { g };
    *v = *v * k.rho + g * g * k.c;
    if k.keras {
        let increment = k.lr * g / (*v + k.eps).sqrt();
        if k.mu > 0.0 {
            *m = *m * k.mu + increment;
            *p -= *m;
        } else {
            *p -= increment;
        }
    } else {
        let avg = v.sqrt() + k.eps;
        if k.mu > 0.0 {
            *m = *m * k.mu + g / avg;
            *p -= *m * k.lr;
        } else {
            *p -= g / avg * k.lr;
        }
    }
}
