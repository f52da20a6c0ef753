//! `lrsweep bench`: the same training on each backend, timed fairly side by side.

use std::panic::AssertUnwindSafe;

use anyhow::{anyhow, Result};
use lrsweep_data::Split;
use lrsweep_model::{Compute, EpochRecord, Flow, Member, StackFit};

use crate::analysis::bench::{flag_accuracy, median, BenchReport, BenchRow};
use crate::backend::{self, BackendChoice, Selected};
use crate::cli::BenchArgs;
use crate::config::{Arm, SweepConfig};
use crate::exit::{note, say, usage};
use crate::render::{self, chart};
use crate::store;

/// The backends named by `--backends`, each once, in order.
fn parse_backends(names: &[String]) -> Result<Vec<BackendChoice>> {
    let mut out = Vec::new();
    for name in names {
        let more: &[BackendChoice] = match name.trim() {
            "all" => &[
                BackendChoice::Wgpu,
                BackendChoice::Cpu,
                BackendChoice::Flex,
                BackendChoice::Ndarray,
            ],
            "wgpu" => &[BackendChoice::Wgpu],
            "cpu" => &[BackendChoice::Cpu],
            "ndarray" => &[BackendChoice::Ndarray],
            "flex" => &[BackendChoice::Flex],
            other => {
                return Err(usage(anyhow!(
                "unknown backend '{other}' in --backends: choose from wgpu, cpu, flex, ndarray or all"
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
    /// Fraction of the training pixels that are not zero.
    density: f64,
}

/// Times `choice` at every rate alone and, with several rates, all of them as one stack; a
/// backend that cannot start or fails gets rows saying why.
fn time_backend(choice: BackendChoice, work: &Workload) -> Vec<BenchRow> {
    let name = match choice {
        BackendChoice::Wgpu => "wgpu",
        BackendChoice::Cpu => "cpu",
        BackendChoice::Flex => "flex",
        _ => "ndarray",
    };
    let arms = work.config.listed_arms();
    let selected = match backend::select(choice, work.config.exec.cpu_path) {
        Ok(s) => s,
        Err(e) => {
            return arms
                .iter()
                .map(|&arm| BenchRow::failed(name, "unavailable", arm, 1, format!("{e:#}")))
                .collect()
        }
    };
    let mut rows: Vec<BenchRow> = arms
        .iter()
        .flat_map(|&arm| time_stack(name, &selected, work, &[arm]))
        .collect();
    if arms.len() > 1 {
        rows.extend(time_stack(name, &selected, work, &arms));
    }
    rows
}

// Run, then turn the run into rows: one measurement, kept in one place.
/// Trains `arms` together (one: alone) for the configured epochs and makes their rows.
fn time_stack(name: &str, selected: &Selected, work: &Workload, arms: &[Arm]) -> Vec<BenchRow> {
    let config = work.config;
    let k = arms.len();
    let labels: Vec<String> = arms.iter().map(|a| a.label()).collect();
    note(&format!(
        "bench: {name} on {} at lr {}{}",
        selected.adapter,
        labels.join(", "),
        if k > 1 { " together" } else { "" }
    ));
    reset_peak_memory();
    let model = config.model(work.split.shape());
    let train = config.train(arms[0].group, selected);
    let members: Vec<Member> = arms
        .iter()
        .map(|a| {
            Member::fresh(a.rate)
                .scheduled(a.group.schedule)
                .optimized(config.optimizer_of(a.group))
        })
        .collect();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        StackFit::new(
            &model,
            &train,
            &work.split.train,
            &work.split.valid,
            &selected.device,
            members,
        )
        .run(|id, r: &EpochRecord, view| {
            if view.is_last() {
                note(&format!(
                    "  epoch {}: {:.0} ms, val acc {:.4}",
                    r.epoch,
                    r.seconds * 1e3,
                    r.val_acc
                ));
            }
            let _ = id;
            Flow::Continue
        })
    }));
    let peak = peak_memory_mib();
    let failed = |why: String| -> Vec<BenchRow> {
        arms.iter()
            .map(|&arm| BenchRow::failed(name, &selected.adapter, arm, k, why.clone()))
            .collect()
    };
    let all = match result {
        Ok(Ok(all)) => all,
        Ok(Err(e)) => return failed(e.to_string()),
        Err(p) => return failed(panic_text(p)),
    };
    // The stack's epochs are timed together: the longest-lived member saw them all.
    let Some(longest) = all.iter().max_by_key(|r| r.len()).filter(|r| r.len() >= 2) else {
        return failed("diverged before the second epoch".into());
    };
    let med = median(longest[1..].iter().map(|r| r.seconds).collect());
    let path = match train.compute {
        Compute::Cpu(asked) => asked.layout_for(&work.split.train).name(),
        Compute::Tensor(_) => "tensor",
    };
    let rates: Vec<f64> = arms.iter().map(|a| a.rate).collect();
    let launches = (name == "wgpu")
        .then(|| backend::launches_per_step(&model, &train, &rates, work.split, selected))
        .flatten();
    arms.iter()
        .zip(&all)
        .map(|(&arm, records)| BenchRow {
            backend: name.to_string(),
            device: selected.adapter.clone(),
            rate: arm.rate,
            schedule: arm.group.schedule,
            optimizer: arm.group.optimizer,
            stack: k,
            path: path.to_string(),
            density: work.density,
            ok: true,
            error: None,
            warmup_s: longest[0].seconds,
            median_ms: med * 1e3,
            rate_epoch_ms: med * 1e3 / k as f64,
            launches_per_step: launches,
            images_per_s: work.images * k as f64 / med,
            gflops: work.flop * k as f64 / med / 1e9,
            peak_mib: peak,
            val_acc: records.last().map_or(f64::NAN, |r| r.val_acc),
            acc_differs: false,
        })
        .collect()
}

/// Runs the benchmark the arguments describe.
pub fn run(args: &BenchArgs) -> Result<()> {
    let mut backends = parse_backends(&args.backends)?;
    // `all` times wgpu only on a GPU: on a CPU Vulkan driver (lavapipe) an epoch takes minutes
    // and tells nothing about a GPU. Asked for by name, it is timed, and said so first.
    let adapters = crate::backend::probe_adapters();
    let gpu = crate::backend::auto_choice(&adapters).is_some();
    let by_name = args.backends.iter().any(|b| b.trim() == "wgpu");
    if backends.contains(&BackendChoice::Wgpu) && !gpu {
        let what = match adapters.first() {
            Some(a) => format!("its only adapter, {}, is a CPU Vulkan driver", a.name),
            None => "there is no wgpu adapter".to_string(),
        };
        if by_name {
            note(&format!(
                "bench: timing wgpu although {what}: expect minutes per epoch"
            ));
        } else {
            backends.retain(|b| *b != BackendChoice::Wgpu);
            note(&format!(
                "bench: leaving wgpu out: {what} (minutes per epoch, nothing a GPU would show); --backends wgpu times it anyway"
            ));
        }
    }
    let mut config = SweepConfig {
        rates: args.rates.clone(),
        refine: 0,
        epochs: args.epochs as usize,
        batch_size: args.batch_size as usize,
        schedules: args.schedules.clone(),
        optimizers: args.optimizers.clone(),
        convention: args.convention.into(),
        optimizer_defaults: Some(lrsweep_model::Defaults::of(args.convention.into())),
        weight_decay: args.weight_decay,
        seed: args.seed,
        exec: crate::config::Execution {
            cpu_path: args.cpu_path,
            ..Default::default()
        },
        data: args.data.to_config(args.limit)?,
        ..SweepConfig::default()
    }
    .training(args.network.network());
    let out = store::fresh_out(args.out.clone(), Some("bench"))?;
    let (_, split) = super::load_data(&mut config)?;
    let model = config.model(split.shape());
    let work = Workload {
        config: &config,
        split: &split,
        flop: model.train_flops() * split.train.len() as f64
            + model.forward_flops() * split.valid.len() as f64,
        images: (split.train.len() + split.valid.len()) as f64,
        density: split.train.density(),
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
        network: config.first_network().describe(),
        lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
        rows,
    };
    let out = out.create()?;
    store::write_json(&out.join("bench.json"), &report)?;
    store::write_atomic(
        &out.join("bench.csv"),
        render::bench::csv(&report).as_bytes(),
    )?;
    let bars = render::bench::bars(&report.rows);
    chart::bench(&out, &bars)?;
    if args.json {
        say(&serde_json::to_string_pretty(&report)?)?;
    } else {
        say(&render::bench::markdown(&report))?;
        say(&format!("Written to {}", out.display()))?;
    }
    Ok(())
}
