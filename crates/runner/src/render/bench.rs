//! The benchmark's table (Markdown) and `bench.csv`.

use crate::analysis::bench::BenchReport;
use crate::config::rate_label;

/// `bench.csv`: one line per row.
pub fn csv(report: &BenchReport) -> String {
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

/// The table printed after a benchmark.
pub fn markdown(report: &BenchReport) -> String {
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
