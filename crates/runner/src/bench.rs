//! `lrsweep bench`: the same training on each backend, timed fairly side by side.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use lrsweep_model::{fit, EpochRecord, Flow};
use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendChoice};
use crate::cli::DataArgs;
use crate::config::{rate_label, SweepConfig};
use crate::{chart, rundir, sweep, usage};

/// Options of `lrsweep bench` (the FLOP formula is in the subcommand's `--help`).
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Backends to time, comma-separated (wgpu, ndarray, flex), or `all`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub backends: Vec<String>,

    /// Epochs per backend; the first is reported apart as warm-up (kernel compilation, autotuning).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(2..))]
    pub epochs: u64,

    /// Use a stratified subset of N images.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Images per batch.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,

    /// Learning rates to train (each backend trains each rate).
    #[arg(long, value_delimiter = ',', default_value = "1e-3", value_parser = crate::cli::parse_rate, allow_hyphen_values = true)]
    pub rates: Vec<f64>,

    /// Seed of split, order and weights.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Directory for bench.json, bench.csv and bench.png [default: runs/bench-<YYYYMMDD-HHMMSS>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the results as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Where the data comes from.
    #[command(flatten)]
    pub data: DataArgs,
}

/// One backend at one rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchRow {
    /// Backend name.
    pub backend: String,
    /// Device or adapter, with its type.
    pub device: String,
    /// Learning rate.
    pub rate: f64,
    /// Whether it ran.
    pub ok: bool,
    /// Why it did not run, when it did not.
    pub error: Option<String>,
    /// Seconds of the first epoch.
    pub warmup_s: f64,
    /// Median milliseconds of the later epochs.
    pub median_ms: f64,
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
    /// lrsweep version.
    pub lrsweep_version: String,
    /// One row per backend and rate.
    pub rows: Vec<BenchRow>,
}

fn parse_backends(names: &[String]) -> Result<Vec<BackendChoice>> {
    let mut out = Vec::new();
    for name in names {
        let more: &[BackendChoice] = match name.trim() {
            "all" => &[
                BackendChoice::Wgpu,
                BackendChoice::Ndarray,
                BackendChoice::Flex,
            ],
            "wgpu" => &[BackendChoice::Wgpu],
            "ndarray" => &[BackendChoice::Ndarray],
            "flex" => &[BackendChoice::Flex],
            other => {
                return Err(usage(anyhow!(
                "unknown backend '{other}' in --backends: choose from wgpu, ndarray, flex or all"
            )))
            }
        };
        for b in more {
            if !out.contains(b) {
                out.push(*b);
            }
        }
    }
    Ok(out)
}

/// Resets the kernel's peak-RSS counter so each backend's peak is its own (Linux).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory since the last reset, MiB (Linux; NaN elsewhere).
fn peak_memory_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn failed(backend: &str, device: &str, rate: f64, error: String) -> BenchRow {
    BenchRow {
        backend: backend.to_string(),
        device: device.to_string(),
        rate,
        ok: false,
        error: Some(error),
        warmup_s: f64::NAN,
        median_ms: f64::NAN,
        images_per_s: f64::NAN,
        gflops: f64::NAN,
        peak_mib: f64::NAN,
        val_acc: f64::NAN,
        acc_differs: false,
    }
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the backend panicked".to_string())
}

/// Runs the benchmark the arguments describe.
pub fn run(args: &BenchArgs) -> Result<()> {
    let backends = parse_backends(&args.backends)?;
    let config = SweepConfig {
        rates: args.rates.clone(),
        refine: 0,
        epochs: args.epochs as usize,
        batch_size: args.batch_size as usize,
        seed: args.seed,
        data: args.data.to_config(0.15, args.limit),
        ..SweepConfig::default()
    };
    let out = rundir::fresh_out(args.out.clone(), Some("bench"))?;
    let (_, split) = sweep::load_data(&config)?;
    let model = config.model();
    let flop = model.train_flops() * split.train.len() as f64
        + model.forward_flops() * split.valid.len() as f64;
    let images = (split.train.len() + split.valid.len()) as f64;
    let mut rows = Vec::new();
    for choice in backends {
        let name = match choice {
            BackendChoice::Wgpu => "wgpu",
            BackendChoice::Flex => "flex",
            _ => "ndarray",
        };
        let selected = match backend::select(choice) {
            Ok(s) => s,
            Err(e) => {
                for &rate in &config.rates {
                    rows.push(failed(name, "unavailable", rate, format!("{e:#}")));
                }
                continue;
            }
        };
        for &rate in &config.rates {
            eprintln!(
                "bench: {name} on {} at lr {}",
                selected.adapter,
                rate_label(rate)
            );
            reset_peak_memory();
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                fit(
                    &model,
                    &config.train(rate, selected.update),
                    &split.train,
                    &split.valid,
                    &selected.device,
                    |r: &EpochRecord, _| {
                        eprintln!(
                            "  epoch {}: {:.0} ms, val acc {:.4}",
                            r.epoch,
                            r.seconds * 1e3,
                            r.val_acc
                        );
                        Flow::Continue
                    },
                )
            }));
            let records = match result {
                Ok(Ok(records)) if records.len() >= 2 => records,
                Ok(Ok(_)) => {
                    rows.push(failed(
                        name,
                        &selected.adapter,
                        rate,
                        "diverged before the second epoch".into(),
                    ));
                    continue;
                }
                Ok(Err(e)) => {
                    rows.push(failed(name, &selected.adapter, rate, e.to_string()));
                    continue;
                }
                Err(p) => {
                    rows.push(failed(name, &selected.adapter, rate, panic_text(p)));
                    continue;
                }
            };
            let med = median(records[1..].iter().map(|r| r.seconds).collect());
            rows.push(BenchRow {
                backend: name.to_string(),
                device: selected.adapter.clone(),
                rate,
                ok: true,
                error: None,
                warmup_s: records[0].seconds,
                median_ms: med * 1e3,
                images_per_s: images / med,
                gflops: flop / med / 1e9,
                peak_mib: peak_memory_mib(),
                val_acc: records.last().map_or(f64::NAN, |r| r.val_acc),
                acc_differs: false,
            });
        }
    }
    for &rate in &config.rates {
        let best = rows
            .iter()
            .filter(|r| r.ok && r.rate == rate)
            .map(|r| r.val_acc)
            .fold(f64::NEG_INFINITY, f64::max);
        for r in rows.iter_mut().filter(|r| r.ok && r.rate == rate) {
            r.acc_differs = best - r.val_acc > 0.01;
        }
    }
    let report = BenchReport {
        epochs: config.epochs,
        train_images: split.train.len(),
        valid_images: split.valid.len(),
        epoch_gflop: flop / 1e9,
        batch_size: config.batch_size,
        lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
        rows,
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    rundir::write_json(&out.join("bench.json"), &report)?;
    rundir::write_atomic(&out.join("bench.csv"), to_csv(&report).as_bytes())?;
    chart::bench(&out, &report.rows)?;
    if args.json {
        crate::say(&serde_json::to_string_pretty(&report)?)?;
    } else {
        crate::say(&to_markdown(&report))?;
        crate::say(&format!("Written to {}", out.display()))?;
    }
    Ok(())
}

fn to_csv(report: &BenchReport) -> String {
    let mut s = String::from(
        "backend,device,rate,ok,warmup_s,median_ms,images_per_s,gflops,peak_mib,val_acc,acc_differs,error\n",
    );
    for r in &report.rows {
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        s += &format!(
            "{},{},{},{},{:.3},{:.1},{:.0},{:.2},{:.1},{},{},{}\n",
            r.backend,
            quote(&r.device),
            r.rate,
            r.ok,
            r.warmup_s,
            r.median_ms,
            r.images_per_s,
            r.gflops,
            r.peak_mib,
            r.val_acc,
            r.acc_differs,
            quote(r.error.as_deref().unwrap_or(""))
        );
    }
    s
}

fn to_markdown(report: &BenchReport) -> String {
    let mut s = format!(
        "{} training + {} validation images per epoch, batch {}, {:.1} GFLOP per epoch, {} epochs (the first is warm-up)\n\n| backend | device | rate | warm-up (s) | median epoch (ms) | images/s | GFLOP/s | peak memory (MiB) | val acc |\n|---|---|---|---|---|---|---|---|---|\n",
        report.train_images, report.valid_images, report.batch_size, report.epoch_gflop, report.epochs
    );
    for r in &report.rows {
        if r.ok {
            s += &format!(
                "| {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.1} | {:.0} | {:.4}{} |\n",
                r.backend,
                r.device,
                rate_label(r.rate),
                r.warmup_s,
                r.median_ms,
                r.images_per_s,
                r.gflops,
                r.peak_mib,
                r.val_acc,
                if r.acc_differs {
                    " (differs by more than 1 point from the best backend)"
                } else {
                    ""
                }
            );
        } else {
            s += &format!(
                "| {} | {} | {} | failed: {} | | | | | |\n",
                r.backend,
                r.device,
                rate_label(r.rate),
                r.error.as_deref().unwrap_or("")
            );
        }
    }
    s
}
