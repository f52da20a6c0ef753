//! The optimizers' update of a stacked parameter on the tensor engine: on the device as
//! element-wise tensor operations with the members' constants as small tensors, or fused on the
//! host (the crate's one update loop, [`crate::optim::update`]) for CPU backends.
//!
//! On the device, members whose steps have one [`Form`] are updated by one expression over the
//! whole stack; a stack of several forms computes each form's expression and takes, member by
//! member, its own form's result (a selection, no arithmetic across forms), so a member's
//! numbers never depend on the other members' optimizers. A stack of one form (every stack of a
//! run of one optimizer) computes exactly one expression, as before optimizers were several.

use burn::tensor::{Bool, Device, Tensor, TensorData};

use crate::config::UpdateExec;
use crate::optim::{self, Form, Slot, Step};

/// One update of a stacked parameter whose leading dimension holds the members, member `i` by
/// `steps[i]`, where `exec` says. A member's numbers never depend on another member's.
pub(crate) fn update_stacked(
    exec: UpdateExec,
    steps: &[Step],
    slot: Slot<Tensor<3>>,
    grad: Tensor<3>,
) -> Slot<Tensor<3>> {
    match exec {
        UpdateExec::OnDevice => on_device(steps, slot, grad),
        UpdateExec::FusedOnHost => fused_on_host(steps, slot, grad),
    }
}

fn on_device(steps: &[Step], slot: Slot<Tensor<3>>, grad: Tensor<3>) -> Slot<Tensor<3>> {
    let mut forms: Vec<Form> = Vec::new();
    for s in steps {
        if !forms.contains(&s.form()) {
            forms.push(s.form());
        }
    }
    if let [form] = forms.as_slice() {
        return of_form(*form, steps, slot, grad);
    }
    let shape = slot.param.dims();
    let device = slot.param.device();
    let mut out: Option<Slot<Tensor<3>>> = None;
    for form in forms {
        let part = of_form(form, steps, slot.clone(), grad.clone());
        out = Some(match out {
            None => part,
            Some(so_far) => {
                let members: Vec<bool> = steps.iter().map(|s| s.form() == form).collect();
                let mask = Tensor::<3, Bool>::from_data(
                    TensorData::new(members, [steps.len(), 1, 1]),
                    &device,
                )
                .expand(shape);
                Slot {
                    param: so_far.param.mask_where(mask.clone(), part.param),
                    m: so_far.m.mask_where(mask.clone(), part.m),
                    v: so_far.v.mask_where(mask, part.v),
                }
            }
        });
    }
    out.expect("a stack has members")
}

/// The members' values of `f` (their steps' constants) as a `[K, 1, 1]` column; members whose
/// step is of another form give 0 (their results are not taken).
fn column(steps: &[Step], device: &Device, f: impl Fn(&Step) -> Option<f32>) -> Tensor<3> {
    let values: Vec<f32> = steps.iter().map(|s| f(s).unwrap_or(0.0)).collect();
    Tensor::<3>::from_data(TensorData::new(values, [steps.len(), 1, 1]), device)
}

/// The update of every member by the expression of `form`, each with its own constants.
fn of_form(form: Form, steps: &[Step], slot: Slot<Tensor<3>>, grad: Tensor<3>) -> Slot<Tensor<3>> {
    let Slot { param, m, v } = slot;
    let device = param.device();
    let col = |f: &dyn Fn(&Step) -> Option<f32>| column(steps, &device, f);
    match form {
        Form::Adam { l2, decay } => {
            let Some(first) = steps.iter().find_map(|s| match s {
                Step::Adam(k) => Some(*k),
                _ => None,
            }) else {
                unreachable!("an Adam form has an Adam member")
            };
            let adam = |s: &Step| match s {
                Step::Adam(k) => Some(*k),
                _ => None,
            };
            let (step, eps) = (
                col(&|s| adam(s).map(|k| k.step)),
                col(&|s| adam(s).map(|k| k.eps)),
            );
            let grad = match l2 {
                true => grad.add(param.clone().mul(col(&|s| adam(s).map(|k| k.l2)))),
                false => grad,
            };
            let param = match decay {
                true => param.mul(col(&|s| adam(s).map(|k| k.keep))),
                false => param,
            };
            // β1 and β2 are the convention's, the same for every member.
            let m = m
                .mul_scalar(first.b1)
                .add(grad.clone().mul_scalar(first.c1));
            let v = v
                .mul_scalar(first.b2)
                .add(grad.square().mul_scalar(first.c2));
            let delta = m.clone().div(v.clone().sqrt().add(eps)).mul(step);
            Slot {
                param: param.sub(delta),
                m,
                v,
            }
        }
        Form::Sgd {
            momentum,
            nesterov,
            keras,
            l2,
        } => {
            let sgd = |s: &Step| match s {
                Step::Sgd(k) => Some(*k),
                _ => None,
            };
            let lr = col(&|s| sgd(s).map(|k| k.lr));
            let grad = match l2 {
                true => grad.add(param.clone().mul(col(&|s| sgd(s).map(|k| k.l2)))),
                false => grad,
            };
            if !momentum {
                return Slot {
                    param: param.sub(grad.mul(lr)),
                    m,
                    v,
                };
            }
            let mu = col(&|s| sgd(s).map(|k| k.mu));
            if keras {
                let m = m.mul(mu.clone()).sub(grad.clone().mul(lr.clone()));
                let param = match nesterov {
                    true => param.add(m.clone().mul(mu).sub(grad.mul(lr))),
                    false => param.add(m.clone()),
                };
                Slot { param, m, v }
            } else {
                let m = m.mul(mu.clone()).add(grad.clone());
                let u = match nesterov {
                    true => grad.add(m.clone().mul(mu)),
                    false => m.clone(),
                };
                Slot {
                    param: param.sub(u.mul(lr)),
                    m,
                    v,
                }
            }
        }
        Form::RmsProp {
            momentum,
            keras,
            l2,
        } => {
            let rms = |s: &Step| match s {
                Step::RmsProp(k) => Some(*k),
                _ => None,
            };
            let (rho, c, eps, lr) = (
                col(&|s| rms(s).map(|k| k.rho)),
                col(&|s| rms(s).map(|k| k.c)),
                col(&|s| rms(s).map(|k| k.eps)),
                col(&|s| rms(s).map(|k| k.lr)),
            );
            let grad = match l2 {
                true => grad.add(param.clone().mul(col(&|s| rms(s).map(|k| k.l2)))),
                false => grad,
            };
            let v = v.mul(rho).add(grad.clone().mul(grad.clone()).mul(c));
            let mu = momentum.then(|| col(&|s| rms(s).map(|k| k.mu)));
            if keras {
                let increment = lr.mul(grad).div(v.clone().add(eps).sqrt());
                match mu {
                    Some(mu) => {
                        let m = m.mul(mu).add(increment);
                        Slot {
                            param: param.sub(m.clone()),
                            m,
                            v,
                        }
                    }
                    None => Slot {
                        param: param.sub(increment),
                        m,
                        v,
                    },
                }
            } else {
                let scaled = grad.div(v.clone().sqrt().add(eps));
                match mu {
                    Some(mu) => {
                        let m = m.mul(mu).add(scaled);
                        Slot {
                            param: param.sub(m.clone().mul(lr)),
                            m,
                            v,
                        }
                    }
                    None => Slot {
                        param: param.sub(scaled.mul(lr)),
                        m,
                        v,
                    },
                }
            }
        }
    }
}

fn fused_on_host(steps: &[Step], slot: Slot<Tensor<3>>, grad: Tensor<3>) -> Slot<Tensor<3>> {
    let device = slot.param.device();
    let mut data = slot.map(Tensor::into_data);
    let g = grad.into_data();
    let fused = if let (Ok(ps), Ok(ms), Ok(vs), Ok(gs)) = (
        data.param.as_mut_slice::<f32>(),
        data.m.as_mut_slice::<f32>(),
        data.v.as_mut_slice::<f32>(),
        g.as_slice::<f32>(),
    ) {
        let per = ps.len() / steps.len().max(1);
        for (i, &step) in steps.iter().enumerate() {
            let r = i * per..(i + 1) * per;
            optim::update(
                &mut ps[r.clone()],
                &mut ms[r.clone()],
                &mut vs[r.clone()],
                &gs[r],
                step,
            );
        }
        true
    } else {
        false
    };
    let slot = data.map(|d| Tensor::from_data(d, &device));
    if fused {
        slot
    } else {
        on_device(steps, slot, Tensor::from_data(g, &device))
    }
}
