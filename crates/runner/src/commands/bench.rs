//! `lrsweep bench`: the same training on each backend, timed fairly side by side.

use std::panic::AssertUnwindSafe;

use anyhow::{anyhow, Context, Result};
use lrsweep_data::Split;
use lrsweep_model::{EpochRecord, Fit, Flow};

use crate::analysis::bench::{flag_accuracy, median, BenchReport, BenchRow};
use crate::backend::{self, BackendChoice};
use crate::cli::BenchArgs;
use crate::config::{rate_label, SweepConfig};
use crate::exit::{say, usage};
use crate::render::{self, chart};
use crate::store;

/// The backends named by `--backends`, each once, in order.
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

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the backend panicked".to_string())
}

/// What every backend is timed on: the data, the FLOPs and images of one epoch.
struct Workload<'a> {
    config: &'a SweepConfig,
    split: &'a Split,
    flop: f64,
    images: f64,
}

/// Times `choice` at every rate; a backend that cannot start or fails gets rows saying why.
fn time_backend(choice: BackendChoice, work: &Workload) -> Vec<BenchRow> {
    let name = match choice {
        BackendChoice::Wgpu => "wgpu",
        BackendChoice::Flex => "flex",
        _ => "ndarray",
    };
    let config = work.config;
    let selected = match backend::select(choice) {
        Ok(s) => s,
        Err(e) => {
            return config
                .rates
                .iter()
                .map(|&rate| BenchRow::failed(name, "unavailable", rate, format!("{e:#}")))
                .collect()
        }
    };
    let model = config.model();
    let mut rows = Vec::new();
    for &rate in &config.rates {
        eprintln!(
            "bench: {name} on {} at lr {}",
            selected.adapter,
            rate_label(rate)
        );
        reset_peak_memory();
        let train = config.train(rate, selected.update);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            Fit::new(
                &model,
                &train,
                &work.split.train,
                &work.split.valid,
                &selected.device,
            )
            .run(|r: &EpochRecord, _| {
                eprintln!(
                    "  epoch {}: {:.0} ms, val acc {:.4}",
                    r.epoch,
                    r.seconds * 1e3,
                    r.val_acc
                );
                Flow::Continue
            })
        }));
        let failed = |why: String| BenchRow::failed(name, &selected.adapter, rate, why);
        let records = match result {
            Ok(Ok(records)) if records.len() >= 2 => records,
            Ok(Ok(_)) => {
                rows.push(failed("diverged before the second epoch".into()));
                continue;
            }
            Ok(Err(e)) => {
                rows.push(failed(e.to_string()));
                continue;
            }
            Err(p) => {
                rows.push(failed(panic_text(p)));
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
            images_per_s: work.images / med,
            gflops: work.flop / med / 1e9,
            peak_mib: peak_memory_mib(),
            val_acc: records.last().map_or(f64::NAN, |r| r.val_acc),
            acc_differs: false,
        });
    }
    rows
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
        data: args.data.to_config(args.limit),
        ..SweepConfig::default()
    };
    let out = store::fresh_out(args.out.clone(), Some("bench"))?;
    let (_, split) = super::load_data(&config)?;
    let model = config.model();
    let work = Workload {
        config: &config,
        split: &split,
        flop: model.train_flops() * split.train.len() as f64
            + model.forward_flops() * split.valid.len() as f64,
        images: (split.train.len() + split.valid.len()) as f64,
    };
    let mut rows: Vec<BenchRow> = backends
        .into_iter()
        .flat_map(|choice| time_backend(choice, &work))
        .collect();
    flag_accuracy(&mut rows);
    let report = BenchReport {
        epochs: config.epochs,
        train_images: split.train.len(),
        valid_images: split.valid.len(),
        epoch_gflop: work.flop / 1e9,
        batch_size: config.batch_size,
        lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
        rows,
    };
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    store::write_json(&out.join("bench.json"), &report)?;
    store::write_atomic(
        &out.join("bench.csv"),
        render::bench::csv(&report).as_bytes(),
    )?;
    let bars: Vec<(String, f64)> = report
        .rows
        .iter()
        .filter(|r| r.ok)
        .map(|r| {
            (
                format!("{} @ {}", r.backend, rate_label(r.rate)),
                r.median_ms,
            )
        })
        .collect();
    chart::bench(&out, &bars)?;
    if args.json {
        say(&serde_json::to_string_pretty(&report)?)?;
    } else {
        say(&render::bench::markdown(&report))?;
        say(&format!("Written to {}", out.display()))?;
    }
    Ok(())
}
