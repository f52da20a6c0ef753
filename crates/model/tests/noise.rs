//! Each epoch's `val_loss_se` (the standard error of the mean validation loss) against a
//! direct computation from the member's network, item by item, on every engine: the CPU
//! engine's sparse and dense paths, and the tensor engine on flex, ndarray and wgpu.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use lrsweep_data::Split;
use lrsweep_model::{
    Compute, CpuPath, EpochRecord, Flow, Member, Mlp, ModelConfig, StackFit, TrainConfig,
    UpdateExec,
};

/// Keras 2's clipped cross-entropy of each validation item under `network`, in f64, from its
/// logits.
fn item_losses(network: &Mlp, valid: &lrsweep_data::Part) -> Vec<f64> {
    let device = network.hidden.weight.val().device();
    let n = valid.len();
    let x = Tensor::<2>::from_data(
        TensorData::new(valid.features_f32(0..n), [n, valid.width()]),
        &device,
    );
    let logits = network.forward(x).into_data().try_to_vec::<f32>().unwrap();
    let classes = valid.classes();
    logits
        .chunks(classes)
        .zip(valid.labels())
        .map(|(row, &label)| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = row.iter().map(|&z| (z as f64 - max).exp()).sum();
            let p = (row[label as usize] as f64 - max).exp() / sum;
            -p.clamp(1e-7, 1.0 - 1e-7).ln()
        })
        .collect()
}

/// Mean and standard error of `values`.
fn mean_se(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Trains a stack of two rates for two epochs with `compute` on `device`; after each epoch,
/// each member's recorded loss and standard error against the direct computation.
fn check(split: &Split, compute: Compute, device: &Device, what: &str) {
    let config = TrainConfig {
        epochs: 2,
        compute,
        ..TrainConfig::default()
    };
    let model = ModelConfig {
        inputs: split.train.width(),
        hidden: lrsweep_model::Widths::one(64),
        classes: split.train.classes(),
        ..ModelConfig::default()
    };
    let members = vec![Member::fresh(1e-3), Member::fresh(1e-2)];
    let mut seen = 0;
    StackFit::new(&model, &config, &split.train, &split.valid, device, members)
        .run(|id, r: &EpochRecord, view| {
            let direct = item_losses(&view.network(), &split.valid);
            let (mean, se) = mean_se(&direct);
            assert!(
                (r.val_loss - mean).abs() < 2e-5 * mean.max(1.0),
                "{what} member {id} epoch {}: val_loss {} against {mean}",
                r.epoch,
                r.val_loss
            );
            assert!(
                se > 0.0 && (r.val_loss_se - se).abs() < 2e-3 * se,
                "{what} member {id} epoch {}: val_loss_se {} against {se}",
                r.epoch,
                r.val_loss_se
            );
            seen += 1;
            Flow::Continue
        })
        .unwrap();
    assert_eq!(seen, 4, "{what}: two members, two epochs");
}

#[test]
fn the_standard_error_is_the_items_on_every_engine() {
    let split = common::split(Some(2_000));
    let flex = Device::flex();
    check(&split, Compute::Cpu(CpuPath::Sparse), &flex, "cpu sparse");
    check(&split, Compute::Cpu(CpuPath::Dense), &flex, "cpu dense");
    check(
        &split,
        Compute::Tensor(UpdateExec::FusedOnHost),
        &flex,
        "flex",
    );
    #[allow(deprecated)]
    let ndarray = Device::ndarray();
    check(
        &split,
        Compute::Tensor(UpdateExec::FusedOnHost),
        &ndarray,
        "ndarray",
    );
    if let Some((device, name)) = common::wgpu_device() {
        let small = common::split(Some(600));
        check(
            &small,
            Compute::Tensor(UpdateExec::OnDevice),
            &device,
            &format!("wgpu on {name}"),
        );
    }
}
