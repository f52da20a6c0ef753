//! Adam's update of a stacked parameter on the tensor engine: on the device as element-wise
//! tensor operations with the members' constants as a small tensor, or fused on the host (the
//! crate's one update loop, [`crate::adam::update`]) for CPU backends.

use burn::tensor::{Tensor, TensorData};

use crate::adam::{self, AdamConfig, Slot};
use crate::config::UpdateExec;

/// One update of a stacked parameter whose leading dimension holds the members, each with its
/// own `(step, eps)` ([`AdamConfig::step_scalars`]), where `exec` says. A member's numbers never
/// depend on another member's.
pub(crate) fn update_stacked(
    config: &AdamConfig,
    exec: UpdateExec,
    scalars: &[(f64, f64)],
    slot: Slot<Tensor<3>>,
    grad: Tensor<3>,
) -> Slot<Tensor<3>> {
    match exec {
        UpdateExec::OnDevice => on_device(config, scalars, slot, grad),
        UpdateExec::FusedOnHost => fused_on_host(config, scalars, slot, grad),
    }
}

fn on_device(
    config: &AdamConfig,
    scalars: &[(f64, f64)],
    slot: Slot<Tensor<3>>,
    grad: Tensor<3>,
) -> Slot<Tensor<3>> {
    let device = slot.param.device();
    let k = scalars.len();
    let column = |f: fn(&(f64, f64)) -> f64| {
        let values: Vec<f32> = scalars.iter().map(|s| f(s) as f32).collect();
        Tensor::<3>::from_data(TensorData::new(values, [k, 1, 1]), &device)
    };
    let (step, eps) = (column(|s| s.0), column(|s| s.1));
    let Slot { param, m, v } = slot;
    let m = m
        .mul_scalar(config.beta1)
        .add(grad.clone().mul_scalar(1.0 - config.beta1));
    let v = v
        .mul_scalar(config.beta2)
        .add(grad.square().mul_scalar(1.0 - config.beta2));
    let delta = m.clone().div(v.clone().sqrt().add(eps)).mul(step);
    Slot {
        param: param.sub(delta),
        m,
        v,
    }
}

fn fused_on_host(
    config: &AdamConfig,
    scalars: &[(f64, f64)],
    slot: Slot<Tensor<3>>,
    grad: Tensor<3>,
) -> Slot<Tensor<3>> {
    let device = slot.param.device();
    let mut data = slot.map(Tensor::into_data);
    let g = grad.into_data();
    let fused = if let (Ok(ps), Ok(ms), Ok(vs), Ok(gs)) = (
        data.param.as_mut_slice::<f32>(),
        data.m.as_mut_slice::<f32>(),
        data.v.as_mut_slice::<f32>(),
        g.as_slice::<f32>(),
    ) {
        let per = ps.len() / scalars.len().max(1);
        for (i, &scalar) in scalars.iter().enumerate() {
            let r = i * per..(i + 1) * per;
            adam::update(
                &mut ps[r.clone()],
                &mut ms[r.clone()],
                &mut vs[r.clone()],
                &gs[r],
                adam::StepConstants::new(config, scalar),
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
        on_device(config, scalars, slot, Tensor::from_data(g, &device))
    }
}
