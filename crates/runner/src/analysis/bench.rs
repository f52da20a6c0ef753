//! The benchmark's results as data: one row per backend and rate, medians and the accuracy flag.

use serde::{Deserialize, Serialize};

/// One backend at one rate: trained alone (`stack` 1) or together with others.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchRow {
    /// Backend name.
    pub backend: String,
    /// Device or adapter, with its type.
    pub device: String,
    /// Learning rate.
    pub rate: f64,
    /// Its schedule (`bench --schedule`).
    #[serde(default)]
    pub schedule: lrsweep_model::Schedule,
    /// Its optimizer (`bench --optimizer`).
    #[serde(default)]
    pub optimizer: lrsweep_model::Optimizer,
    /// Rates trained together with this one, itself included (1: alone).
    pub stack: usize,
    /// What computed the steps: `sparse` or `dense` (the cpu backend's products), or `tensor`
    /// (Burn's tensor operations: wgpu, flex, ndarray).
    #[serde(default)]
    pub path: String,
    /// Fraction of the training images' pixels that are not zero (what `auto` decides by).
    #[serde(default)]
    pub density: f64,
    /// Whether it ran.
    pub ok: bool,
    /// Why it did not run, when it did not.
    pub error: Option<String>,
    /// Seconds of the first epoch.
    pub warmup_s: f64,
    /// Median milliseconds of the later epochs (of the whole stack).
    pub median_ms: f64,
    /// The median epoch divided by the stack size: what one rate's epoch costs.
    pub rate_epoch_ms: f64,
    /// Kernel launches per training step of the whole stack, counted on the cubecl backends
    /// (wgpu); `None` where not counted (the CPU backends launch no kernels).
    pub launches_per_step: Option<f64>,
    /// Training plus validation images per second at the median epoch.
    pub images_per_s: f64,
    /// Achieved GFLOP/s at the median epoch.
    pub gflops: f64,
    /// Peak resident memory of the process while this backend ran, MiB.
    pub peak_mib: f64,
    /// Validation accuracy after the last epoch.
    pub val_acc: f64,
    /// Whether the accuracy differs from the best backend's by more than 1 point.
    pub acc_differs: bool,
}

/// `bench.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct BenchReport {
    /// Epochs per backend.
    pub epochs: usize,
    /// Training images.
    pub train_images: usize,
    /// Validation images.
    pub valid_images: usize,
    /// FLOPs of one epoch.
    pub epoch_gflop: f64,
    /// Batch size.
    pub batch_size: usize,
    /// The network: `784 relu`, `512-256 tanh, dropout 0.2`.
    #[serde(default)]
    pub network: String,
    /// lrsweep version.
    pub lrsweep_version: String,
    /// One row per backend and rate.
    pub rows: Vec<BenchRow>,
}

impl BenchRow {
    /// The row of a backend that could not run, with why.
    pub fn failed(
        backend: &str,
        device: &str,
        arm: crate::config::Arm,
        stack: usize,
        error: String,
    ) -> BenchRow {
        BenchRow {
            backend: backend.to_string(),
            device: device.to_string(),
            rate: arm.rate,
            schedule: arm.group.schedule,
            optimizer: arm.group.optimizer,
            stack,
            path: String::new(),
            density: f64::NAN,
            ok: false,
            error: Some(error),
            warmup_s: f64::NAN,
            median_ms: f64::NAN,
            rate_epoch_ms: f64::NAN,
            launches_per_step: None,
            images_per_s: f64::NAN,
            gflops: f64::NAN,
            peak_mib: f64::NAN,
            val_acc: f64::NAN,
            acc_differs: false,
        }
    }
}

/// The median of `xs` (the upper one of an even count); NaN for none.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Per backend, how a stack's per-rate epoch compares with training the rates alone: the stack
/// row's `rate_epoch_ms` over the mean `rate_epoch_ms` of the same backend's rows of one
/// (below 1: the stack is faster per rate).
pub fn stack_ratio(rows: &[BenchRow], backend: &str) -> Option<f64> {
    let ours = rows.iter().filter(|r| r.ok && r.backend == backend);
    let stacked = ours.clone().find(|r| r.stack > 1)?.rate_epoch_ms;
    let alone: Vec<f64> = ours
        .filter(|r| r.stack == 1)
        .map(|r| r.rate_epoch_ms)
        .collect();
    if alone.is_empty() {
        return None;
    }
    Some(stacked / (alone.iter().sum::<f64>() / alone.len() as f64))
}

/// Flags, per rate, the rows whose accuracy trails the best backend's by more than a point.
pub fn flag_accuracy(rows: &mut [BenchRow]) {
    let arms: Vec<(f64, lrsweep_model::Schedule, lrsweep_model::Optimizer)> = rows
        .iter()
        .map(|r| (r.rate, r.schedule, r.optimizer))
        .collect();
    for arm in arms {
        let same = |r: &BenchRow| r.ok && (r.rate, r.schedule, r.optimizer) == arm;
        let best = rows
            .iter()
            .filter(|r| same(r))
            .map(|r| r.val_acc)
            .fold(f64::NEG_INFINITY, f64::max);
        for r in rows.iter_mut().filter(|r| same(r)) {
            r.acc_differs = best - r.val_acc > 0.01;
        }
    }
}
