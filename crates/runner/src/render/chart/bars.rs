//! The benchmark's bars: milliseconds per epoch for each backend and rate.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{frame, png, DrawResult, FAMILY, RATE_CHART_SIZE, TAB10};

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[(String, f64)],
) -> DrawResult<DB> {
    let (w, _) = root.dim_in_pixel();
    let u = w as f64 / 640.0;
    root.fill(&WHITE)?;
    let n = bars.len().max(1);
    let top = bars.iter().map(|(_, ms)| *ms).fold(0.0, f64::max).max(1.0) * 1.15;
    let mut chart = frame(
        root,
        "Milliseconds per epoch (median after warm-up)",
        u,
        50.0,
    )
    .build_cartesian_2d(0.0..n as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_labels(0)
        .y_desc("ms per epoch")
        .label_style((FAMILY, 10.0 * u))
        .axis_desc_style((FAMILY, 10.0 * u))
        .disable_x_mesh()
        .draw()?;
    for (i, (name, ms)) in bars.iter().enumerate() {
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.2, 0.0), (x + 0.8, *ms)],
            TAB10[i % TAB10.len()].filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{name}: {ms:.0} ms"),
            (x + 0.2, ms + top * 0.05),
            (FAMILY, 10.0 * u).into_font(),
        )))?;
    }
    root.present()
}

/// Writes `bench.png`: one bar per `(name, median milliseconds per epoch)`.
pub fn bench(dir: &Path, bars: &[(String, f64)]) -> Result<()> {
    png(&dir.join("bench.png"), RATE_CHART_SIZE, |area| {
        draw_bars(area, bars)
    })
}
