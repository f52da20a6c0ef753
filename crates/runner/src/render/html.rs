//! `report.html`: one self-contained page, the charts embedded as data URLs.

use std::path::Path;

use anyhow::Result;

use crate::analysis::range::FindResult;
use crate::analysis::summary::Summary;
use crate::config::SweepConfig;
use crate::render::text::{describe_range, escape, summary_html};
use crate::store::names::{BATCH_CHART, NETWORK_CHART, OPTIMIZER_CHART};

pub fn base64(bytes: &[u8]) -> String {
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

fn image(path: &Path, alt: &str) -> Result<String> {
    let bytes = crate::store::fs::read(path, crate::store::fs::limit::CHART)?;
    Ok(format!(
        "<img alt=\"{}\" style=\"max-width:100%\" src=\"data:image/png;base64,{}\">",
        escape(alt),
        base64(&bytes)
    ))
}

/// The page's style: a table a person scans (numbers right-aligned, prose left, the verdict a
/// coloured word whose text says it too, the recommended row marked) at any width.
const STYLE: &str = "body{font-family:sans-serif;max-width:1400px;margin:auto;padding:0 12px}\
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}\
table.rates td.text,table.rates th.text{text-align:left}table.rates td.num{white-space:nowrap}\
table.rates td:nth-child(2){min-width:16em}tr.recommended{background:#e8f5e9}.scroll{overflow-x:auto}\
.mark{color:#1b5e20;font-weight:bold;white-space:nowrap}\
.verdict{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:bold;color:#fff;background:#616161;white-space:nowrap}\
.v-fits{background:#2e7d32}.v-overfitting{background:#e65100}.v-diverged{background:#c62828}\
.v-still_improving{background:#1565c0}.v-not_moving{background:#6d4c41}.v-unstable{background:#ad1457}\
details{font-size:smaller;color:#444}summary{cursor:pointer}\
@media (max-width:900px){table.rates{font-size:smaller}}";

/// The page for the run in `dir`, whose charts are already drawn there.
pub fn report(
    dir: &Path,
    config: &SweepConfig,
    header: &str,
    summary: &Summary,
    finds: &[FindResult],
) -> Result<String> {
    let mut h = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>lrsweep report</title><style>{STYLE}</style></head><body>\n<h1>Learning-rate sweep</h1>\n",
    );
    h += &format!("<p>{}</p>\n", escape(header));
    h += &summary_html(summary);
    for f in finds {
        let with = match finds.len() > 1 || f.optimizer != lrsweep_model::Optimizer::Adam {
            true => format!(" with {}", f.optimizer),
            false => String::new(),
        };
        let stem = crate::store::range::stem_of(config, &f.optimizer);
        h += &format!(
            "<h2>Range test{}</h2>\n<p>{}</p>\n{}\n",
            escape(&with),
            escape(&describe_range(f)),
            image(&dir.join(format!("{stem}.png")), "range test")?
        );
    }
    match summary.overviews.as_slice() {
        [] => {
            h += &format!(
                "<h2>All rates</h2>\n{}\n",
                image(&dir.join("overview.png"), "overview")?
            )
        }
        overviews => {
            for o in overviews {
                h += &format!(
                    "<h2>All rates, {}</h2>\n{}\n",
                    escape(&o.group),
                    image(&dir.join(&o.file), "overview")?
                );
            }
        }
    }
    if !summary.batch_sizes.is_empty() {
        h += &format!(
            "<h2>Batch sizes</h2>\n{}\n",
            image(&dir.join(BATCH_CHART), "batch sizes")?
        );
    }
    if !summary.networks.is_empty() {
        h += &format!(
            "<h2>Networks</h2>\n{}\n",
            image(&dir.join(NETWORK_CHART), "each network's best rate")?
        );
    }
    if !summary.optimizers.is_empty() {
        h += &format!(
            "<h2>Optimizers</h2>\n{}\n",
            image(
                &dir.join(OPTIMIZER_CHART),
                "each optimizer at its best rate"
            )?
        );
    }
    for r in &summary.rates {
        // Older summaries name no directory: the rate's own then.
        let stem = match r.dir.is_empty() {
            true => format!("lr-{}", r.label),
            false => r.dir.clone(),
        };
        let (word, class) = match &r.unfinished {
            Some(_) => ("unfinished", "unfinished"),
            None => (r.verdict.display(), r.verdict.name()),
        };
        h += &format!(
            "<h2 id=\"chart-{stem}\">Learning rate {} <span class=\"verdict v-{class}\">{word}</span></h2>\n{}\n<p><a href=\"#row-{stem}\">back to the table</a></p>\n",
            escape(&r.label),
            image(&dir.join(format!("{stem}.png")), &r.label)?,
            stem = escape(&stem)
        );
    }
    h += "</body></html>\n";
    Ok(h)
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
