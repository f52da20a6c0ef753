//! Training on the real MNIST copy, and the same steps on two backends.

mod common;

use burn::tensor::Device;
use lrsweep_data::Split;
use lrsweep_model::{
    Compute, DeviceData, Fit, Flow, ModelConfig, TrainConfig, Trainer, UpdateExec,
};

fn split(limit: usize) -> Split {
    common::split(Some(limit))
}

#[test]
fn three_epochs_at_1e_3_on_3000_images_reach_90_percent() {
    let split = split(3_000);
    let config = TrainConfig {
        epochs: 3,
        compute: Compute::Tensor(UpdateExec::FusedOnHost),
        ..TrainConfig::default()
    };
    let mut seen = 0;
    let records = Fit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &Device::flex(),
    )
    .run(|r, t| {
        seen += 1;
        assert_eq!(r.epoch, seen);
        assert_eq!(t.steps() as usize, seen * 2_550usize.div_ceil(256));
        Flow::Continue
    })
    .unwrap();
    assert_eq!(records.len(), 3);
    let last = records[2];
    assert!(last.val_acc >= 0.90, "{records:#?}");
    assert!(records[0].train_loss > last.train_loss, "{records:#?}");
    assert!(records.iter().all(|r| !r.diverged() && r.seconds > 0.0));
}

#[test]
fn a_huge_rate_is_reported_not_crashed() {
    let split = split(1_000);
    let config = TrainConfig {
        epochs: 3,
        learning_rate: 1e4,
        ..TrainConfig::default()
    };
    let records = Fit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &Device::flex(),
    )
    .run(|_, _| Flow::Continue)
    .unwrap();
    let last = records.last().unwrap();
    assert!(last.diverged() || last.val_acc < 0.3, "{records:#?}");
}

/// Per-step losses of `steps` batches of `batch` from the same seed.
fn step_losses(
    device: &Device,
    update: UpdateExec,
    split: &Split,
    batch: usize,
    steps: usize,
) -> Vec<f32> {
    let config = TrainConfig {
        batch_size: batch,
        compute: Compute::Tensor(update),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(
        &ModelConfig::default(),
        ModelConfig::default().init(config.seed, device),
        config,
    )
    .unwrap();
    let data = DeviceData::upload(&split.train, batch, None, device);
    data.batches()
        .take(steps)
        .map(|b| {
            trainer
                .train_step(b)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()[0]
                / batch as f32
        })
        .collect()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let rel = (x - y).abs() / x.abs().max(1e-6);
        assert!(rel < 1e-4, "{what}: step {i}: {x} vs {y} (relative {rel})");
    }
}

#[test]
fn ndarray_and_flex_agree_step_by_step() {
    let split = split(2_000);
    #[allow(deprecated)]
    let nd = step_losses(&Device::ndarray(), UpdateExec::FusedOnHost, &split, 64, 20);
    let fx = step_losses(&Device::flex(), UpdateExec::OnDevice, &split, 64, 20);
    assert!(nd[19] < nd[0], "training progresses: {nd:?}");
    assert_close(&nd, &fx, "ndarray vs flex");
}

/// wgpu on whatever Vulkan/Metal adapter exists (lavapipe in CI). Where none exists the test
/// says so and passes, unless `LRSWEEP_REQUIRE_WGPU` is set (CI sets it, so there it must run).
#[test]
fn ndarray_and_wgpu_agree_step_by_step() {
    let Some((device, name)) = common::wgpu_device() else {
        return;
    };
    let split = split(1_000);
    let gpu = step_losses(&device, UpdateExec::OnDevice, &split, 32, 20);
    #[allow(deprecated)]
    let cpu = step_losses(&Device::ndarray(), UpdateExec::FusedOnHost, &split, 32, 20);
    assert_close(&cpu, &gpu, &format!("ndarray vs wgpu on {name}"));
}

#[test]
fn a_run_continued_from_a_saved_state_matches_an_uninterrupted_one() {
    use lrsweep_model::TrainerState;
    let split = split(1_500);
    let config = TrainConfig {
        epochs: 3,
        compute: Compute::Tensor(UpdateExec::FusedOnHost),
        ..TrainConfig::default()
    };
    let device = Device::flex();
    let mut saved: Option<TrainerState> = None;
    let whole = Fit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &device,
    )
    .run(|r, t| {
        if r.epoch == 1 {
            saved = Some(t.state().unwrap());
        }
        Flow::Continue
    })
    .unwrap();
    let state = saved.unwrap();
    assert_eq!(state.tensors.len(), 12);
    let resumed = Fit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &device,
    )
    .resume(&state, whole[..1].to_vec())
    .run(|_, _| Flow::Continue)
    .unwrap();
    assert_eq!(resumed.len(), 3);
    for (a, b) in whole.iter().zip(&resumed) {
        assert_eq!(
            (a.epoch, a.train_loss, a.train_acc, a.val_loss, a.val_acc),
            (b.epoch, b.train_loss, b.train_acc, b.val_loss, b.val_acc)
        );
    }
}
