//! `lrsweep report <RUN_DIR>`: every chart and the summary again from the run's files alone, and
//! one self-contained `report.html`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use clap::Args;
use lrsweep_model::EpochRecord;

use crate::config::rate_label;
use crate::summary::Summary;
use crate::{chart, find, rundir, sweep, usage};

/// Options of `lrsweep report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run directory written by `lrsweep sweep`.
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn image(path: &Path, alt: &str) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(format!(
        "<img alt=\"{}\" style=\"max-width:100%\" src=\"data:image/png;base64,{}\">",
        escape(alt),
        base64(&bytes)
    ))
}

fn html(
    dir: &Path,
    header: &str,
    summary: &Summary,
    find: Option<&find::FindResult>,
) -> Result<String> {
    let mut h = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lrsweep report</title><style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head><body>\n<h1>Learning-rate sweep</h1>\n",
    );
    h += &format!("<p>{}</p>\n", escape(header));
    h += &match &summary.recommended {
        Some(r) => format!(
            "<p><b>Recommended: learning rate {}, stop at epoch {}</b> — {}.</p>\n",
            escape(&r.label),
            r.epoch,
            escape(&r.reason)
        ),
        None => "<p><b>No recommendation</b>: every rate diverged.</p>\n".to_string(),
    };
    h += "<table><tr><th>rate</th><th>epochs</th><th>best val acc (epoch)</th><th>min val loss (epoch)</th><th>final val loss / acc</th><th>val loss rise</th><th>patience 5 / 10 stop</th><th>status</th></tr>\n";
    let num = |x: f64| {
        if x.is_finite() {
            format!("{x:.4}")
        } else {
            "n/a".into()
        }
    };
    for r in &summary.rates {
        h += &format!(
            "<tr><td>{}</td><td>{}</td><td>{} ({})</td><td>{} ({})</td><td>{} / {}</td><td>{}</td><td>{} / {}</td><td>{}</td></tr>\n",
            escape(&r.label),
            r.epochs,
            num(r.best_val_acc),
            r.best_val_acc_epoch,
            num(r.min_val_loss),
            r.min_val_loss_epoch,
            num(r.final_val_loss),
            num(r.final_val_acc),
            num(r.val_loss_rise),
            r.patience_5_stop.map_or("-".into(), |e| e.to_string()),
            r.patience_10_stop.map_or("-".into(), |e| e.to_string()),
            escape(r.diverged_reason.as_deref().unwrap_or("ok"))
        );
    }
    h += "</table>\n";
    if let Some(f) = find {
        h += &format!(
            "<h2>Range test</h2>\n<p>{}</p>\n{}\n",
            escape(&find::describe(f)),
            image(&dir.join("find.png"), "range test")?
        );
    }
    h += &format!(
        "<h2>All rates</h2>\n{}\n",
        image(&dir.join("overview.png"), "overview")?
    );
    for r in &summary.rates {
        h += &format!(
            "<h2>Learning rate {}</h2>\n{}\n",
            escape(&r.label),
            image(&dir.join(format!("lr-{}.png", r.label)), &r.label)?
        );
    }
    h += "</body></html>\n";
    Ok(h)
}

/// Regenerates the charts, the summary and `report.html` of a run directory.
pub fn run(args: &ReportArgs) -> Result<()> {
    let dir = &args.run_dir;
    let saved = sweep::read_saved(dir)?;
    let mut runs: Vec<(f64, Vec<EpochRecord>)> = Vec::new();
    for &rate in &saved.rates_trained {
        let label = rate_label(rate);
        let records = rundir::read_metrics(&dir.join(format!("lr-{label}")).join("metrics.csv"))
            .map_err(usage)?;
        chart::rate_chart(dir, &format!("lr-{label}"), &label, &records)?;
        runs.push((rate, records));
    }
    let find = if dir.join("find.json").exists() {
        let f = find::read(dir).map_err(usage)?;
        chart::find(dir, &f)?;
        Some(f)
    } else {
        None
    };
    let header = saved.header();
    let summary = sweep::write_results(dir, &header, &runs, find.as_ref())?;
    let page = html(dir, &header, &summary, find.as_ref())?;
    rundir::write_atomic(&dir.join("report.html"), page.as_bytes())?;
    crate::say(&summary.to_markdown())?;
    crate::say(&format!(
        "Report written to {}",
        dir.join("report.html").display()
    ))?;
    if runs.is_empty() {
        return Err(anyhow!(
            "{} lists no trained rates",
            dir.join("config.json").display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
