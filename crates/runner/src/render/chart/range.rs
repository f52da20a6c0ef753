//! The range test's chart: smoothed loss against the rate on a log axis, suggestions marked.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{axes, frame, legend, png, range, stroke, DrawResult, RATE_CHART_SIZE, TAB10};
use crate::analysis::range::FindResult;
use crate::render::text::short;

fn draw_find<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    result: &FindResult,
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 640.0;
    root.fill(&WHITE)?;
    let (plot, below) = root.split_vertically(h - (50.0 * u) as u32);
    let steps = &result.steps;
    let curve = result.curve();
    let lo = steps.first().map_or(1e-7, |s| s.rate);
    let hi = steps.last().map_or(10.0, |s| s.rate).max(lo * 10.0);
    let y = range(curve.iter().map(|s| s.smoothed), Some(0.0), None);
    let mut chart = frame(&plot, "Learning-rate range test", u, 45.0)
        .build_cartesian_2d((lo..hi).log_scale(), y)?;
    axes(
        &mut chart,
        u,
        super::draw::Axes {
            x: "Learning rate (log scale)",
            y: "Smoothed training loss",
            x_labels: 0,
            x_format: Some(&|x| format!("{x:.0e}")),
            y_format: None,
        },
    )?;
    let stroke = stroke(u);
    chart.draw_series(LineSeries::new(
        curve.iter().map(|s| (s.rate, s.smoothed)),
        TAB10[0].stroke_width(stroke),
    ))?;
    let mut entries = vec![("Smoothed loss".to_string(), TAB10[0])];
    if let Some(sg) = &result.suggestions {
        for (i, (name, rate)) in [
            ("valley", sg.valley),
            ("steep", sg.steep),
            ("minimum/10", sg.minimum_10),
        ]
        .into_iter()
        .enumerate()
        {
            let color = TAB10[i + 1];
            let near = curve.iter().min_by(|a, b| {
                (a.rate.ln() - rate.ln())
                    .abs()
                    .total_cmp(&(b.rate.ln() - rate.ln()).abs())
            });
            if let Some(p) = near {
                chart.draw_series(std::iter::once(Circle::new(
                    (rate, p.smoothed),
                    (5.0 * u) as i32,
                    color.filled(),
                )))?;
            }
            entries.push((format!("{name} {}", short(rate)), color));
        }
    }
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// Writes `<stem>.png` (`find.png`): the smoothed loss against the rate, the suggestions marked.
pub fn find(dir: &Path, stem: &str, result: &FindResult) -> Result<()> {
    png(&dir.join(format!("{stem}.png")), RATE_CHART_SIZE, |area| {
        draw_find(area, result)
    })
}
