//! The live `report.html` of a sweep in progress: a banner saying where the sweep stands, every
//! member's curves so far drawn inline (SVG, nothing to fetch), and a refresh every few seconds.
//! Opened from disk in a browser; the final report replaces it.

use lrsweep_model::EpochRecord;

use crate::render::chart::{loss_axis, tidy};
use crate::render::text::escape;

/// Seconds between two reloads of the live page.
pub const REFRESH_SECONDS: u32 = 5;

/// A member as the live page shows it.
#[derive(Debug, Clone)]
pub struct LiveMember {
    /// `0.001`, `0.001 cosine seed 43`.
    pub label: String,
    /// Where it stands: `epoch 12 of 150`, `finished at epoch 40`, `waiting`.
    pub state: String,
    /// Its epochs so far.
    pub records: Vec<EpochRecord>,
}

const W: f64 = 300.0;
const H: f64 = 170.0;
const PAD_L: f64 = 46.0;
const PAD_R: f64 = 8.0;
const PAD_T: f64 = 18.0;
const PAD_B: f64 = 24.0;
const TRAIN: &str = "#1f77b4";
const VALID: &str = "#ff7f0e";

/// `x` in SVG's short form.
fn n(x: f64) -> String {
    format!("{x:.1}")
}

/// An inline SVG panel of `curves` (colour, values by epoch; non-finite values left out) over
/// `epochs` epochs, on a log scale when `log`; `title` above it.
fn panel(title: &str, epochs: usize, curves: &[(&str, Vec<f64>)], log: bool) -> String {
    // A log axis as the charts draw theirs (round ticks at both ends), placed by its logarithm;
    // accuracy from 0 to 1.
    let (lo, hi, ticks) = match log {
        true => {
            let (a, b, ticks) = loss_axis(curves.iter().flat_map(|(_, v)| v.iter().copied()));
            (a.log10(), b.log10(), ticks)
        }
        false => (0.0, 1.0, (0..=4).map(|k| k as f64 / 4.0).collect()),
    };
    let f = |v: f64| match log {
        true => v.clamp(10f64.powf(lo), 10f64.powf(hi)).log10(),
        false => v,
    };
    let x =
        |e: usize| PAD_L + (e as f64 - 1.0) / (epochs.max(2) as f64 - 1.0) * (W - PAD_L - PAD_R);
    let y = |v: f64| PAD_T + (hi - f(v)) / (hi - lo) * (H - PAD_T - PAD_B);
    let mut s = format!(
        "<svg class=\"panel\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    s += &format!(
        "<text x=\"{}\" y=\"12\" font-size=\"11\">{}</text>",
        n(PAD_L),
        escape(title)
    );
    s += &format!(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        n(PAD_L),
        n(PAD_T),
        n(W - PAD_L - PAD_R),
        n(H - PAD_T - PAD_B)
    );
    for v in ticks {
        let py = PAD_T + (hi - f(v)) / (hi - lo) * (H - PAD_T - PAD_B);
        s += &format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"end\">{}</text>",
            n(PAD_L - 3.0),
            n(py + 3.0),
            tidy(v)
        );
    }
    s += &format!(
        "<text x=\"{}\" y=\"{}\" font-size=\"9\" text-anchor=\"end\">epoch {epochs}</text>",
        n(W - PAD_R),
        n(H - 8.0)
    );
    for (colour, values) in curves {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite() && (!log || **v > 0.0))
            .map(|(i, v)| format!("{},{}", n(x(i + 1)), n(y(*v))))
            .collect();
        if !points.is_empty() {
            s += &format!(
                "<polyline class=\"curve\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
                points.join(" ")
            );
        }
    }
    s + "</svg>"
}

/// The live page: `header` (the run's settings), `banner` (where the sweep stands) and each of
/// `members` with its curves so far over `epochs` epochs; reloading itself when `refresh`.
pub fn page(
    header: &str,
    banner: &str,
    epochs: usize,
    members: &[LiveMember],
    refresh: bool,
) -> String {
    let reload = match refresh {
        true => format!("<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">"),
        false => String::new(),
    };
    let mut h = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">{reload}<title>lrsweep: {}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}#banner{{background:#fff3cd;border:1px solid #e0c46c;padding:8px 12px;font-weight:bold}}.member{{display:inline-block;margin:6px 10px 6px 0;vertical-align:top}}.member h3{{margin:4px 0;font-size:14px}}.legend span{{margin-right:12px}}</style></head><body>\n<h1>Learning-rate sweep</h1>\n",
        if refresh { "running" } else { "stopped" }
    );
    h += &format!("<p id=\"banner\">{}</p>\n", escape(banner));
    let note = match refresh {
        true => format!(
            " This page reloads every {REFRESH_SECONDS} s while the sweep trains; the final report replaces it."
        ),
        false => String::new(),
    };
    h += &format!(
        "<p>{}</p>\n<p class=\"legend\"><span style=\"color:{TRAIN}\">&#9632; training</span><span style=\"color:{VALID}\">&#9632; validation</span>{note}</p>\n",
        escape(header)
    );
    for m in members {
        let column = |g: fn(&EpochRecord) -> f64| m.records.iter().map(g).collect::<Vec<f64>>();
        let loss = panel(
            "loss (log scale)",
            epochs,
            &[
                (TRAIN, column(|r| r.train_loss)),
                (VALID, column(|r| r.val_loss)),
            ],
            true,
        );
        let regression = m.records.iter().any(|r| !r.val_rmse.is_nan());
        let acc = panel(
            if regression { "R²" } else { "accuracy" },
            epochs,
            &[
                (TRAIN, column(|r| r.train_acc)),
                (VALID, column(|r| r.val_acc)),
            ],
            false,
        );
        let latest = m
            .records
            .last()
            .map_or(String::new(), |r| match regression {
                true => format!(": val_loss {:.4}, val_r2 {:.4}", r.val_loss, r.val_acc),
                false => format!(": val_loss {:.4}, val_acc {:.4}", r.val_loss, r.val_acc),
            });
        h += &format!(
            "<div class=\"member\" data-epochs=\"{}\"><h3>Learning rate {} ({}{})</h3>{loss}{acc}</div>\n",
            m.records.len(),
            escape(&m.label),
            escape(&m.state),
            escape(&latest)
        );
    }
    h + "</body></html>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_acc: 0.5,
            val_loss: if epoch == 2 { f64::NAN } else { 2.0 },
            val_acc: 0.25,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: 0.01,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }
    }

    #[test]
    fn the_page_refreshes_and_draws_each_member_so_far() {
        let members = [
            LiveMember {
                label: "0.001".into(),
                state: "epoch 3 of 10".into(),
                records: (1..=3).map(record).collect(),
            },
            LiveMember {
                label: "<0.1>".into(),
                state: "waiting".into(),
                records: Vec::new(),
            },
        ];
        let page = page(
            "settings",
            "running: round 1, epoch 3 of 10",
            10,
            &members,
            true,
        );
        assert!(page.contains("http-equiv=\"refresh\""));
        assert!(page.contains("<p id=\"banner\">running: round 1, epoch 3 of 10</p>"));
        // Two panels a member, two curves a panel; a NaN left out, the waiting member empty.
        assert_eq!(page.matches("<svg").count(), 4);
        assert_eq!(page.matches("class=\"curve\"").count(), 4);
        assert!(page.contains("&lt;0.1&gt;"));
        assert!(!page.contains("NaN"));
        let stopped = super::page("settings", "stopped", 10, &members, false);
        assert!(!stopped.contains("refresh"));
    }
}
