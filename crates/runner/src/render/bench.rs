//! The benchmark's table (Markdown) and `bench.csv`.

use crate::analysis::bench::{stack_ratio, BenchReport, BenchRow};

/// The bars of `bench.png`: milliseconds per rate-epoch, one bar per rate trained alone and one
/// per stack (its rates share the bar).
pub fn bars(rows: &[BenchRow]) -> Vec<(String, f64)> {
    let mut bars: Vec<(String, f64)> = Vec::new();
    for r in rows.iter().filter(|r| r.ok) {
        let name = if r.stack > 1 {
            format!("{} stack of {} (per rate)", r.backend, r.stack)
        } else {
            format!("{} @ {}", r.backend, label(r))
        };
        if !bars.iter().any(|(n, _)| *n == name) {
            bars.push((name, r.rate_epoch_ms));
        }
    }
    bars
}

/// The row's rate, with its schedule when that is not `constant` and its optimizer when that
/// is not Adam.
fn label(r: &BenchRow) -> String {
    crate::config::Arm::new(
        r.rate,
        crate::config::Group {
            schedule: r.schedule,
            optimizer: r.optimizer,
            ..Default::default()
        },
    )
    .label()
}

/// `sparse (19.1% non-zero)`, `dense (50.2% non-zero)` or `tensor`.
fn path(r: &BenchRow) -> String {
    match r.path.as_str() {
        "sparse" | "dense" => format!("{} ({:.1}% non-zero)", r.path, r.density * 100.0),
        other => other.to_string(),
    }
}

fn launches(r: &BenchRow) -> String {
    r.launches_per_step.map_or("-".to_string(), |l| {
        format!("{l:.1} ({:.1} per rate)", l / r.stack as f64)
    })
}

/// `bench.csv`: one line per row.
pub fn csv(report: &BenchReport) -> String {
    let mut s = String::from(
        "backend,device,path,density,rate,schedule,stack,ok,warmup_s,median_ms,rate_epoch_ms,launches_per_step,images_per_s,gflops,peak_mib,val_acc,acc_differs,error\n",
    );
    for r in &report.rows {
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        s += &format!(
            "{},{},{},{:.4},{},{},{},{},{:.3},{:.1},{:.1},{},{:.0},{:.2},{:.1},{},{},{}\n",
            r.backend,
            quote(&r.device),
            r.path,
            r.density,
            r.rate,
            r.schedule,
            r.stack,
            r.ok,
            r.warmup_s,
            r.median_ms,
            r.rate_epoch_ms,
            r.launches_per_step
                .map_or(String::new(), |l| format!("{l:.2}")),
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

/// The table printed after a benchmark.
pub fn markdown(report: &BenchReport) -> String {
    let mut s = format!(
        "Network {}: {} training + {} validation images per epoch, batch {}, {:.1} GFLOP per epoch, {} epochs (the first is warm-up)\n\n| backend | device | path | rate | stack | warm-up (s) | median epoch (ms) | per rate (ms) | launches per step | images/s | GFLOP/s | peak memory (MiB) | val acc |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        report.network, report.train_images, report.valid_images, report.batch_size, report.epoch_gflop, report.epochs
    );
    for r in &report.rows {
        if r.ok {
            s += &format!(
                "| {} | {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {} | {:.0} | {:.1} | {:.0} | {:.4}{} |\n",
                r.backend,
                r.device,
                path(r),
                label(r),
                r.stack,
                r.warmup_s,
                r.median_ms,
                r.rate_epoch_ms,
                launches(r),
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
                "| {} | {} | | {} | {} | failed: {} | | | | | | | |\n",
                r.backend,
                r.device,
                label(r),
                r.stack,
                r.error.as_deref().unwrap_or("")
            );
        }
    }
    let mut backends: Vec<&str> = report.rows.iter().map(|r| r.backend.as_str()).collect();
    backends.dedup();
    for b in backends {
        if let Some(ratio) = stack_ratio(&report.rows, b) {
            s += &format!(
                "\n{b}: a rate's epoch in the stack takes {ratio:.2}× its epoch alone ({}).\n",
                if ratio <= 1.0 {
                    "the stack is no slower"
                } else {
                    "the stack is slower"
                }
            );
        }
    }
    s
}
