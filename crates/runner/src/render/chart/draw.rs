//! The primitives every chart is drawn with: the embedded font, the sizes and colours, the
//! frame, axes, legend and line segments, and the writers that draw a chart in memory and put
//! it in place through `store/fs.rs` (an exclusive temporary, renamed; no link followed).

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::store::fs::write_atomic;

/// The chart font, embedded so that charts render without system fonts.
static FONT: &[u8] = include_bytes!("../../../../../assets/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";

/// Pixel size of a per-rate chart: 6.4 × 4.8 inches at 300 dpi, like the reference's figures.
pub const RATE_CHART_SIZE: (u32, u32) = (1920, 1440);

/// matplotlib's tab10, so the charts look like the reference's.
pub(super) const TAB10: [RGBColor; 10] = [
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

pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

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

/// Writes a PNG of `size` drawn by `draw` to `path`: drawn in memory, encoded, and put in
/// place through [`write_atomic`] (the chart is either the old one or the whole new one).
pub(super) fn png(
    path: &Path,
    size: (u32, u32),
    draw: impl for<'b> FnOnce(&DrawingArea<BitMapBackend<'b>, Shift>) -> DrawResult<BitMapBackend<'b>>,
) -> Result<()> {
    register_font()?;
    let (w, h) = size;
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area();
        draw(&area).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    let mut encoded = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut encoded),
        &pixels,
        w,
        h,
        image::ColorType::Rgb8,
    )
    .map_err(|e| anyhow!("encoding {}: {e}", path.display()))?;
    write_atomic(path, &encoded)
}

/// Writes an SVG of `size` drawn by `draw` to `path`, as [`png`] does.
pub(super) fn svg(
    path: &Path,
    size: (u32, u32),
    draw: impl for<'b> FnOnce(&DrawingArea<SVGBackend<'b>, Shift>) -> DrawResult<SVGBackend<'b>>,
) -> Result<()> {
    register_font()?;
    let mut text = String::new();
    {
        let area = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&area).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    write_atomic(path, text.as_bytes())
}

/// The frame every chart shares: title, margin and label areas, scaled by `u` pixels per point.
pub(super) fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    u: f64,
    y_label_points: f64,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    if !title.is_empty() {
        builder.caption(title, (FAMILY, 14.0 * u));
    }
    builder
        .margin((10.0 * u) as u32)
        .x_label_area_size((30.0 * u) as u32)
        .y_label_area_size((y_label_points * u) as u32);
    builder
}

/// What a chart's axes say: names, how many labels on `x` (0: plotters' choice) and how to
/// write the values (`None`: plotters' default).
pub(super) struct Axes<'f, X, Y> {
    pub(super) x: &'f str,
    pub(super) y: &'f str,
    pub(super) x_labels: usize,
    pub(super) x_format: Option<&'f dyn Fn(&X) -> String>,
    pub(super) y_format: Option<&'f dyn Fn(&Y) -> String>,
}

/// Draws the axes with the shared fonts and without minor grid lines.
pub(super) fn axes<'f, DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    u: f64,
    a: Axes<'f, X::ValueType, Y::ValueType>,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<<X as Ranged>::ValueType>,
    Y: Ranged + ValueFormatter<<Y as Ranged>::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(a.x)
        .y_desc(a.y)
        .label_style((FAMILY, 10.0 * u))
        .axis_desc_style((FAMILY, 10.0 * u))
        .light_line_style(WHITE.mix(0.0));
    if a.x_labels > 0 {
        mesh.x_labels(a.x_labels);
    }
    if let Some(f) = a.x_format {
        mesh.x_label_formatter(f);
    }
    if let Some(f) = a.y_format {
        mesh.y_label_formatter(f);
    }
    mesh.draw()
}

/// Runs of consecutive finite points (a NaN breaks the line instead of ending the chart).
pub(super) fn segments(points: impl Iterator<Item = (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
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

/// The largest magnitude (and, on a log axis, the smallest positive value) an axis spans: a
/// damaged or crafted record's 1e308 or 5e-324 is drawn at the edge instead of overflowing the
/// axis arithmetic (an infinite range sends the tick code into an endless loop).
pub(super) const AXIS_LIMIT: f64 = 1e100;

/// The padded range of the finite `values`, within `floor` and `ceil` (and ±[`AXIS_LIMIT`]).
pub(super) fn range(
    values: impl Iterator<Item = f64>,
    floor: Option<f64>,
    ceil: Option<f64>,
) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = values
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(-AXIS_LIMIT, AXIS_LIMIT))
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
pub(super) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    font_px: f64,
    line_px: u32,
) -> DrawResult<DB> {
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

/// Line width for `u` pixels per point (matplotlib's 1.5 pt).
pub(super) fn stroke(u: f64) -> u32 {
    (1.5 * u).round().max(1.0) as u32
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
