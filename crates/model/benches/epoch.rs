//! Milliseconds per training epoch (full 59,500-image training set plus 10,500 validation images,
//! batch 256) per backend, with the achieved GFLOP/s.
//!
//!     LRSWEEP_DATA_DIR=../shared/data/mnist cargo bench -p lrsweep-model --bench epoch
//!
//! Environment: `BENCH_EPOCHS` (default 3; the first is reported apart as warm-up),
//! `BENCH_BACKENDS` (comma list of ndarray, flex, wgpu; default ndarray,flex),
//! `BENCH_LIMIT` (a stratified subset instead of all 70,000 images).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use burn::tensor::Device;
use lrsweep_model::{Compute, DeviceData, ModelConfig, TrainConfig, Trainer, UpdateExec};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn device(name: &str) -> Option<Device> {
    match name {
        #[allow(deprecated)]
        "ndarray" => Some(Device::ndarray()),
        "flex" => Some(Device::flex()),
        "wgpu" => Some(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        _ => None,
    }
}

fn main() {
    let limit = std::env::var("BENCH_LIMIT")
        .ok()
        .and_then(|v| v.parse().ok());
    let split = common::split(limit);
    let epochs: usize = env_or("BENCH_EPOCHS", 3).max(2);
    let backends: String = env_or("BENCH_BACKENDS", "ndarray,flex".to_string());
    let model = ModelConfig::default();
    let flop = model.train_flops() * split.train.len() as f64
        + model.forward_flops() * split.valid.len() as f64;
    println!(
        "{} train + {} validation images, batch 256, {:.1} GFLOP per epoch; {} threads",
        split.train.len(),
        split.valid.len(),
        flop / 1e9,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| backend | warm-up epoch (ms) | median epoch (ms) | GFLOP/s | final val acc |");
    println!("|---|---|---|---|---|");
    for name in backends.split(',').map(str::trim) {
        let Some(device) = device(name) else {
            println!("| {name} | unknown backend | | | |");
            continue;
        };
        let update = if name == "wgpu" {
            UpdateExec::OnDevice
        } else {
            UpdateExec::FusedOnHost
        };
        let config = TrainConfig {
            compute: Compute::Tensor(update),
            ..TrainConfig::default()
        };
        let mut trainer =
            Trainer::new(&model, model.init(config.seed, &device), config).expect("trainer");
        let train = DeviceData::upload(&split.train, config.batch_size, None, &device);
        let valid = DeviceData::upload(&split.valid, config.batch_size, None, &device);
        let mut ms = Vec::with_capacity(epochs);
        let mut acc = 0.0;
        for _ in 0..epochs {
            let start = Instant::now();
            trainer.train_epoch(&train).expect("epoch");
            acc = trainer.evaluate(&valid).expect("evaluate").accuracy;
            ms.push(start.elapsed().as_secs_f64() * 1e3);
        }
        let mut rest = ms[1..].to_vec();
        rest.sort_by(f64::total_cmp);
        let median = rest[rest.len() / 2];
        println!(
            "| {name} | {:.0} | {median:.0} | {:.1} | {acc:.4} |",
            ms[0],
            flop / (median / 1e3) / 1e9
        );
    }
}
