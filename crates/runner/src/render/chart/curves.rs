//! Training curves: the reference's per-rate chart and the overview of every rate.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordu32;

use super::{axes, frame, legend, png, range, segments, stroke, svg, Axes, DrawResult, FAMILY};
use super::{RATE_CHART_SIZE, TAB10};

/// The reference chart's colours (matplotlib's `b`, `g`, `r`, `c`): training accuracy blue,
/// validation accuracy green, training loss red, validation loss cyan.
const BLUE: RGBColor = RGBColor(0, 0, 255);
const GREEN: RGBColor = RGBColor(0, 128, 0);
const RED: RGBColor = RGBColor(255, 0, 0);
const CYAN: RGBColor = RGBColor(0, 191, 191);

const OVERVIEW_SIZE: (u32, u32) = (2400, 1200);

/// One curve of the per-rate chart: name, value, colour, and whether it reads the right axis.
type Curve = (&'static str, fn(&EpochRecord) -> f64, RGBColor, bool);

/// The reference chart's four curves.
const RATE_CURVES: [Curve; 4] = [
    ("Training accuracy", |r| r.train_acc, BLUE, false),
    ("Validation accuracy", |r| r.val_acc, GREEN, false),
    ("Training loss", |r| r.train_loss, RED, true),
    ("Validation loss", |r| r.val_loss, CYAN, true),
];

// The reference chart in one place: frame, twin axes, four curves, legend, in drawing order.
fn draw_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    records: &[EpochRecord],
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 640.0; // one matplotlib point at this size
    root.fill(&WHITE)?;
    let (plot, below) = root.split_vertically(h - (70.0 * u) as u32);
    let n = last_epoch(records.iter().map(|r| r.epoch));
    let acc = range(
        records.iter().flat_map(|r| [r.train_acc, r.val_acc]),
        Some(0.0),
        Some(1.0),
    );
    let loss = range(
        records.iter().flat_map(|r| [r.train_loss, r.val_loss]),
        Some(0.0),
        None,
    );
    let mut chart = frame(&plot, title, u, 45.0)
        .right_y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d(1..n, acc)?
        .set_secondary_coord(1..n, loss);
    epoch_axes(&mut chart, u, n, "Accuracy", None)?;
    let label_font = (FAMILY, 10.0 * u);
    chart
        .configure_secondary_axes()
        .y_desc("Loss")
        .label_style(label_font)
        .axis_desc_style(label_font)
        .draw()?;
    let stroke = stroke(u);
    for (_, get, color, secondary) in RATE_CURVES {
        for seg in segments(records.iter().map(|r| (r.epoch as f64, get(r)))) {
            let seg = seg.into_iter().map(|(x, y)| (x as u32, y));
            let line = LineSeries::new(seg, color.stroke_width(stroke));
            if secondary {
                chart.draw_secondary_series(line)?;
            } else {
                chart.draw_series(line)?;
            }
        }
    }
    let entries: Vec<(String, RGBColor)> = RATE_CURVES
        .iter()
        .map(|(name, _, color, secondary)| {
            let axis = if *secondary {
                "right axis"
            } else {
                "left axis"
            };
            (format!("{name} ({axis})"), *color)
        })
        .collect();
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// Writes `<stem>.png` (and `<stem>.svg`) for one rate, titled `Model - Learning Rate <label>`.
pub fn rate_chart(dir: &Path, stem: &str, label: &str, records: &[EpochRecord]) -> Result<()> {
    let title = format!("Model - Learning Rate {label}");
    png(&dir.join(format!("{stem}.png")), RATE_CHART_SIZE, |area| {
        draw_rate(area, &title, records)
    })?;
    svg(&dir.join(format!("{stem}.svg")), RATE_CHART_SIZE, |area| {
        draw_rate(area, &title, records)
    })
}

fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, Vec<EpochRecord>)],
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 800.0;
    root.fill(&WHITE)?;
    let (top, below) = root.split_vertically(h - (60.0 * u) as u32);
    let (left, right) = top.split_horizontally(w / 2);
    let n = last_epoch(runs.iter().flat_map(|(_, r)| r.iter().map(|e| e.epoch)));
    let stroke = stroke(u);
    loss_panel(&left, runs, n, u, stroke)?;
    let y = range(
        runs.iter().flat_map(|(_, r)| r.iter().map(|e| e.val_acc)),
        Some(0.0),
        Some(1.0),
    );
    let mut chart = frame(&right, "Validation accuracy", u, 45.0).build_cartesian_2d(1..n, y)?;
    epoch_axes(&mut chart, u, n, "Accuracy", None)?;
    draw_runs(&mut chart, runs, |r| r.val_acc, stroke)?;
    let entries: Vec<(String, RGBColor)> = runs
        .iter()
        .enumerate()
        .map(|(i, (label, _))| (format!("lr {label}"), TAB10[i % TAB10.len()]))
        .collect();
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// The overview's loss panel, on a log axis: a diverged rate's loss of 14.5 and a good rate's
/// 0.07 both stay readable.
fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[(String, Vec<EpochRecord>)],
    n: u32,
    u: f64,
    stroke: u32,
) -> DrawResult<DB> {
    let (lo, hi) = runs
        .iter()
        .flat_map(|(_, r)| r.iter().map(|e| e.val_loss))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo / 1.25, (hi * 1.25).max(lo * 2.0))
    } else {
        (0.01, 10.0)
    };
    let mut chart = frame(area, "Validation loss (log scale)", u, 45.0)
        .build_cartesian_2d(1..n, (lo..hi).log_scale())?;
    epoch_axes(&mut chart, u, n, "Loss", Some(&|y| tidy(*y)))?;
    // Log scale: a loss that is not positive is left out like a NaN.
    draw_runs(
        &mut chart,
        runs,
        |r| {
            if r.val_loss > 0.0 {
                r.val_loss
            } else {
                f64::NAN
            }
        },
        stroke,
    )
}

/// How a value is written on an axis.
type Format<'f, V> = &'f dyn Fn(&V) -> String;

/// The axes of a chart against epoch: whole-number epochs (every one up to ten), `y` named
/// `y_desc`, its values written by `y_format` (or plotters' default).
fn epoch_axes<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordu32, Y>>,
    u: f64,
    n: u32,
    y_desc: &str,
    y_format: Option<Format<Y::ValueType>>,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    Y: Ranged + ValueFormatter<<Y as Ranged>::ValueType>,
{
    axes(
        chart,
        u,
        Axes {
            x: "Epoch",
            y: y_desc,
            x_labels: epoch_labels(n),
            x_format: None,
            y_format,
        },
    )
}

/// Draws each run's `value` against epoch in its own colour: lines broken where the value is not
/// finite, a lone point (a rate that diverged after one epoch) as a dot so that it still shows.
fn draw_runs<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordu32, Y>>,
    runs: &[(String, Vec<EpochRecord>)],
    value: impl Fn(&EpochRecord) -> f64,
    stroke: u32,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    for (i, (_, records)) in runs.iter().enumerate() {
        let color = TAB10[i % TAB10.len()];
        for seg in segments(records.iter().map(|r| (r.epoch as f64, value(r)))) {
            let seg: Vec<(u32, f64)> = seg.into_iter().map(|(x, y)| (x as u32, y)).collect();
            if let [only] = seg[..] {
                chart.draw_series(std::iter::once(Circle::new(
                    only,
                    2 * stroke,
                    color.filled(),
                )))?;
            }
            chart.draw_series(LineSeries::new(seg, color.stroke_width(stroke)))?;
        }
    }
    Ok(())
}

/// A loss tick as people write it: 10, 1, 0.1, 0.05.
fn tidy(y: f64) -> String {
    let s = format!("{y:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The last epoch of the records, at least 2 (an axis needs a span).
fn last_epoch(epochs: impl Iterator<Item = usize>) -> u32 {
    epochs.max().unwrap_or(1).clamp(2, u32::MAX as usize) as u32
}

/// How many epoch labels: every epoch up to ten, else ten (whole numbers, so none repeats).
fn epoch_labels(n: u32) -> usize {
    (n as usize).min(10)
}

/// Writes `overview.png`: every rate's validation loss and accuracy against epoch.
pub fn overview(dir: &Path, runs: &[(String, Vec<EpochRecord>)]) -> Result<()> {
    png(&dir.join("overview.png"), OVERVIEW_SIZE, |area| {
        draw_overview(area, runs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: usize, loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: loss,
            train_acc: 0.9,
            val_loss: loss * 1.1,
            val_acc: 0.88,
            seconds: 1.0,
        }
    }

    /// The polylines of an SVG as (stroke colour, number of points).
    fn polylines(svg: &str) -> Vec<(String, usize)> {
        svg.split("<polyline")
            .skip(1)
            .map(|p| {
                let attr = |name: &str| {
                    p.split(&format!("{name}=\""))
                        .nth(1)
                        .and_then(|r| r.split('"').next())
                        .unwrap_or("")
                        .to_string()
                };
                (attr("stroke"), attr("points").split_whitespace().count())
            })
            .collect()
    }

    #[test]
    fn the_rate_chart_draws_four_curves_in_the_reference_colours_under_its_title() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<EpochRecord> = (1..=4).map(|e| rec(e, 1.0 / e as f64)).collect();
        rate_chart(dir.path(), "lr-0.001", "0.001", &records).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("lr-0.001.svg")).unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                t.split_once('>')
                    .and_then(|(_, r)| r.split("</text>").next())
            })
            .map(str::trim)
            .collect();
        assert_eq!(texts[0], "Model - Learning Rate 0.001", "title: {texts:?}");
        let lines = polylines(&svg);
        for colour in ["#0000FF", "#008000", "#FF0000", "#00BFBF"] {
            let curves: Vec<usize> = lines
                .iter()
                .filter(|(c, _)| c == colour)
                .map(|(_, n)| *n)
                .collect();
            // The curve (one point per epoch) and its legend sample (two points).
            assert_eq!(curves, vec![4, 2], "{colour}: {lines:?}");
        }
        // Epoch labels 1, 2, 3, 4, each once (no repeats such as 1 2 2 2 3 4 4).
        let at = texts.iter().position(|t| *t == "Epoch").unwrap();
        let epochs: Vec<&str> = texts[at + 1..]
            .iter()
            .copied()
            .filter(|t| t.parse::<u32>().is_ok())
            .collect();
        assert_eq!(epochs, vec!["1", "2", "3", "4"], "{texts:?}");
        assert!(dir.path().join("lr-0.001.png").is_file());
    }
}
