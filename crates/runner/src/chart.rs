//! Charts: one per rate (accuracy on the left axis, loss on a twin right axis, legends under the
//! plot) and an overview of every rate; drawn with the font embedded from `assets/`.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use lrsweep_model::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// The chart font, embedded so that charts render without system fonts.
static FONT: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Pixel size of a per-rate chart: 6.4 × 4.8 inches at 300 dpi, like the reference's figures.
pub const RATE_CHART_SIZE: (u32, u32) = (1920, 1440);
const OVERVIEW_SIZE: (u32, u32) = (2400, 1200);

/// matplotlib's tab10, so the charts look like the reference's.
const TAB10: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font(FAMILY, style, FONT).is_err() {
                result = Err(anyhow!("the embedded chart font could not be loaded"));
            }
        }
    });
    result
}

/// Draws into a temporary file beside `path` (same extension, so the encoder knows the format)
/// and renames it into place: a chart is either the old one, absent, or complete.
fn write_atomically(path: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("chart");
    let tmp = path.with_file_name(format!(".partial-{}-{name}", std::process::id()));
    let result = draw(&tmp).and_then(|()| {
        std::fs::rename(&tmp, path).map_err(|e| anyhow!("writing {}: {e}", path.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Runs of consecutive finite points (a NaN breaks the line instead of ending the chart).
fn segments(points: impl Iterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![vec![]];
    for (x, y) in points {
        if y.is_finite() {
            if let Some(last) = out.last_mut() {
                last.push((x, y));
            }
        } else if out.last().is_some_and(|l| !l.is_empty()) {
            out.push(vec![]);
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn range(
    values: impl Iterator<Item = f64>,
    floor: Option<f64>,
    ceil: Option<f64>,
) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return floor.unwrap_or(0.0)..ceil.unwrap_or(1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    lo -= pad;
    hi += pad;
    if let Some(f) = floor {
        lo = lo.max(f);
    }
    if let Some(c) = ceil {
        hi = hi.min(c);
    }
    lo..hi
}

/// One legend row: coloured line samples and labels, centred in `area`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    font_px: f64,
    line_px: u32,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = area.dim_in_pixel();
    let font = (FAMILY, font_px).into_font().color(&BLACK);
    let sample = (font_px * 2.0) as i32;
    let gap = (font_px * 0.5) as i32;
    let widths: Vec<i32> = entries
        .iter()
        .map(|(label, _)| {
            let (tw, _) = area.estimate_text_size(label, &font).unwrap_or((0, 0));
            sample + gap + tw as i32 + 2 * gap
        })
        .collect();
    let total: i32 = widths.iter().sum();
    let mut x = (w as i32 - total).max(0) / 2;
    let y = h as i32 / 2;
    for ((label, color), width) in entries.iter().zip(widths) {
        area.draw(&PathElement::new(
            vec![(x, y), (x + sample, y)],
            color.stroke_width(line_px),
        ))?;
        area.draw(&Text::new(
            label.clone(),
            (x + sample + gap, y - (font_px * 0.6) as i32),
            font.clone(),
        ))?;
        x += width;
    }
    Ok(())
}

fn draw_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    records: &[EpochRecord],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
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
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, (FAMILY, 14.0 * u))
        .margin((10.0 * u) as u32)
        .x_label_area_size((30.0 * u) as u32)
        .y_label_area_size((45.0 * u) as u32)
        .right_y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d(1.0..n, acc)?
        .set_secondary_coord(1.0..n, loss);
    let label_font = (FAMILY, 10.0 * u);
    chart
        .configure_mesh()
        .x_desc("Epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("Accuracy")
        .label_style(label_font)
        .axis_desc_style(label_font)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("Loss")
        .label_style(label_font)
        .axis_desc_style(label_font)
        .draw()?;
    let stroke = (1.5 * u).round().max(1.0) as u32;
    let series: [(&str, fn(&EpochRecord) -> f64, RGBColor, bool); 4] = [
        ("Training accuracy", |r| r.train_acc, TAB10[0], false),
        ("Validation accuracy", |r| r.val_acc, TAB10[1], false),
        ("Training loss", |r| r.train_loss, TAB10[2], true),
        ("Validation loss", |r| r.val_loss, TAB10[3], true),
    ];
    for (_, get, color, secondary) in series {
        for seg in segments(records.iter().map(|r| (r.epoch as f64, get(r)))) {
            let line = LineSeries::new(seg, color.stroke_width(stroke));
            if secondary {
                chart.draw_secondary_series(line)?;
            } else {
                chart.draw_series(line)?;
            }
        }
    }
    let entries: Vec<(String, RGBColor)> = series
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
    register_font()?;
    let title = format!("Model - Learning Rate {label}");
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    write_atomically(&png, |tmp| {
        let area = BitMapBackend::new(tmp, RATE_CHART_SIZE).into_drawing_area();
        draw_rate(&area, &title, records).map_err(|e| anyhow!("drawing {}: {e}", png.display()))
    })?;
    write_atomically(&svg, |tmp| {
        let area = SVGBackend::new(tmp, RATE_CHART_SIZE).into_drawing_area();
        draw_rate(&area, &title, records).map_err(|e| anyhow!("drawing {}: {e}", svg.display()))
    })
}

fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    runs: &[(String, Vec<EpochRecord>)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
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
    let stroke = (1.5 * u).round().max(1.0) as u32;
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
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FAMILY, 14.0 * u))
            .margin((10.0 * u) as u32)
            .x_label_area_size((30.0 * u) as u32)
            .y_label_area_size((45.0 * u) as u32)
            .build_cartesian_2d(1.0..n, y)?;
        chart
            .configure_mesh()
            .x_desc("Epoch")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_desc(axis)
            .label_style((FAMILY, 10.0 * u))
            .axis_desc_style((FAMILY, 10.0 * u))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
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
    register_font()?;
    let png = dir.join("overview.png");
    write_atomically(&png, |tmp| {
        let area = BitMapBackend::new(tmp, OVERVIEW_SIZE).into_drawing_area();
        draw_overview(&area, runs).map_err(|e| anyhow!("drawing {}: {e}", png.display()))
    })
}

fn draw_bench<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rows: &[&crate::bench::BenchRow],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    let u = w as f64 / 640.0;
    root.fill(&WHITE)?;
    let n = rows.len().max(1);
    let top = rows
        .iter()
        .map(|r| r.median_ms)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{} @ {}", r.backend, crate::config::rate_label(r.rate)))
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Milliseconds per epoch (median after warm-up)",
            (FAMILY, 14.0 * u),
        )
        .margin((10.0 * u) as u32)
        .x_label_area_size((30.0 * u) as u32)
        .y_label_area_size((50.0 * u) as u32)
        .build_cartesian_2d(0.0..n as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_labels(0)
        .y_desc("ms per epoch")
        .label_style((FAMILY, 10.0 * u))
        .axis_desc_style((FAMILY, 10.0 * u))
        .disable_x_mesh()
        .draw()?;
    for (i, r) in rows.iter().enumerate() {
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.2, 0.0), (x + 0.8, r.median_ms)],
            TAB10[i % TAB10.len()].filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{}: {:.0} ms", names[i], r.median_ms),
            (x + 0.2, r.median_ms + top * 0.05),
            (FAMILY, 10.0 * u).into_font(),
        )))?;
    }
    root.present()
}

/// Writes `bench.png`: a bar of median milliseconds per epoch for each backend that ran.
pub fn bench(dir: &Path, rows: &[crate::bench::BenchRow]) -> Result<()> {
    register_font()?;
    let ok: Vec<&crate::bench::BenchRow> = rows.iter().filter(|r| r.ok).collect();
    let png = dir.join("bench.png");
    write_atomically(&png, |tmp| {
        let area = BitMapBackend::new(tmp, RATE_CHART_SIZE).into_drawing_area();
        draw_bench(&area, &ok).map_err(|e| anyhow!("drawing {}: {e}", png.display()))
    })
}

fn draw_find<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    result: &crate::find::FindResult,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 640.0;
    root.fill(&WHITE)?;
    let (plot, below) = root.split_vertically(h - (50.0 * u) as u32);
    let steps = &result.steps;
    let curve = if result.diverged && steps.len() > 1 {
        &steps[..steps.len() - 1]
    } else {
        &steps[..]
    };
    let lo = steps.first().map_or(1e-7, |s| s.rate);
    let hi = steps.last().map_or(10.0, |s| s.rate).max(lo * 10.0);
    let y = range(curve.iter().map(|s| s.smoothed), Some(0.0), None);
    let mut chart = ChartBuilder::on(&plot)
        .caption("Learning-rate range test", (FAMILY, 14.0 * u))
        .margin((10.0 * u) as u32)
        .x_label_area_size((30.0 * u) as u32)
        .y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d((lo..hi).log_scale(), y)?;
    chart
        .configure_mesh()
        .x_desc("Learning rate (log scale)")
        .y_desc("Smoothed training loss")
        .x_label_formatter(&|x| format!("{x:.0e}"))
        .label_style((FAMILY, 10.0 * u))
        .axis_desc_style((FAMILY, 10.0 * u))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    let stroke = (1.5 * u).round().max(1.0) as u32;
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
            entries.push((format!("{name} {}", crate::find::short(rate)), color));
        }
    }
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// Writes `find.png`: the smoothed loss against the rate, the suggestions marked.
pub fn find(dir: &Path, result: &crate::find::FindResult) -> Result<()> {
    register_font()?;
    let png = dir.join("find.png");
    write_atomically(&png, |tmp| {
        let area = BitMapBackend::new(tmp, RATE_CHART_SIZE).into_drawing_area();
        draw_find(&area, result).map_err(|e| anyhow!("drawing {}: {e}", png.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_breaks_a_line_into_segments() {
        let pts = [
            (1.0, 1.0),
            (2.0, f64::NAN),
            (3.0, 2.0),
            (4.0, 3.0),
            (5.0, f64::INFINITY),
        ];
        let s = segments(pts.into_iter());
        assert_eq!(s, vec![vec![(1.0, 1.0)], vec![(3.0, 2.0), (4.0, 3.0)]]);
    }
}
