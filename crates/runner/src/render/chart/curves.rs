//! Training curves: the reference's per-rate chart and the overview of every rate.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axes, frame, legend, png, range, segments, stroke, svg, DrawResult, FAMILY};
use super::{RATE_CHART_SIZE, TAB10};

const OVERVIEW_SIZE: (u32, u32) = (2400, 1200);

/// One curve of the per-rate chart: name, value, colour, and whether it reads the right axis.
type Curve = (&'static str, fn(&EpochRecord) -> f64, RGBColor, bool);

/// The reference chart's four curves.
const RATE_CURVES: [Curve; 4] = [
    ("Training accuracy", |r| r.train_acc, TAB10[0], false),
    ("Validation accuracy", |r| r.val_acc, TAB10[1], false),
    ("Training loss", |r| r.train_loss, TAB10[2], true),
    ("Validation loss", |r| r.val_loss, TAB10[3], true),
];

fn draw_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    records: &[EpochRecord],
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 640.0; // one matplotlib point at this size
    root.fill(&WHITE)?;
    let (plot, below) = root.split_vertically(h - (70.0 * u) as u32);
    let n = records.iter().map(|r| r.epoch).max().unwrap_or(1).max(2) as f64;
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
        .build_cartesian_2d(1.0..n, acc)?
        .set_secondary_coord(1.0..n, loss);
    axes(&mut chart, u, "Epoch", "Accuracy", &|x| format!("{x:.0}"))?;
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
    let n = runs
        .iter()
        .flat_map(|(_, r)| r.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(1)
        .max(2) as f64;
    let stroke = stroke(u);
    let panels: [(&DrawingArea<DB, Shift>, &str, &str, fn(&EpochRecord) -> f64); 2] = [
        (&left, "Validation loss", "Loss", |r| r.val_loss),
        (&right, "Validation accuracy", "Accuracy", |r| r.val_acc),
    ];
    for (area, title, axis, get) in panels {
        let (floor, ceil) = if axis == "Accuracy" {
            (Some(0.0), Some(1.0))
        } else {
            (Some(0.0), None)
        };
        let y = range(
            runs.iter().flat_map(|(_, r)| r.iter().map(get)),
            floor,
            ceil,
        );
        let mut chart = frame(area, title, u, 45.0).build_cartesian_2d(1.0..n, y)?;
        axes(&mut chart, u, "Epoch", axis, &|x| format!("{x:.0}"))?;
        for (i, (_, records)) in runs.iter().enumerate() {
            let color = TAB10[i % TAB10.len()];
            for seg in segments(records.iter().map(|r| (r.epoch as f64, get(r)))) {
                chart.draw_series(LineSeries::new(seg, color.stroke_width(stroke)))?;
            }
        }
    }
    let entries: Vec<(String, RGBColor)> = runs
        .iter()
        .enumerate()
        .map(|(i, (label, _))| (format!("lr {label}"), TAB10[i % TAB10.len()]))
        .collect();
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// Writes `overview.png`: every rate's validation loss and accuracy against epoch.
pub fn overview(dir: &Path, runs: &[(String, Vec<EpochRecord>)]) -> Result<()> {
    png(&dir.join("overview.png"), OVERVIEW_SIZE, |area| {
        draw_overview(area, runs)
    })
}
