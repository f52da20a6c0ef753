//! Training curves: the reference's per-rate chart and the overview of every rate.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordu32;

use super::{axes, frame, legend, png, segments, stroke, svg, Axes, DrawResult, FAMILY};
use super::{AXIS_LIMIT, RATE_CHART_SIZE, TAB10};

/// The reference chart's colours (matplotlib's `b`, `g`, `r`, `c`): training accuracy blue,
/// validation accuracy green, training loss red, validation loss cyan.
const BLUE: RGBColor = RGBColor(0, 0, 255);
const GREEN: RGBColor = RGBColor(0, 128, 0);
const RED: RGBColor = RGBColor(255, 0, 0);
const CYAN: RGBColor = RGBColor(0, 191, 191);

const OVERVIEW_SIZE: (u32, u32) = (2400, 1200);

/// The accuracy axis of every chart: 0 to 1 whatever the curves, so that a rate stuck at
/// chance (0.1) reads as flat and low, not as a zig-zag across an autoscaled axis.
const ACCURACY_AXIS: std::ops::Range<f64> = 0.0..1.0;

/// Characters of the verdict line under a chart's title before it wraps (two lines at most).
const VERDICT_LINE: usize = 118;

/// The verdict under a chart's title, in at most two lines of about [`VERDICT_LINE`]
/// characters, broken between words (the rest elided).
fn verdict_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > VERDICT_LINE {
            if lines.len() == 2 {
                lines[1].push_str(" …");
                return lines;
            }
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// One curve of the per-rate chart: name, value, colour, and whether it reads the right axis.
type Curve = (&'static str, fn(&EpochRecord) -> f64, RGBColor, bool);

/// The reference chart's four curves.
const RATE_CURVES: [Curve; 4] = [
    ("Training accuracy", |r| r.train_acc, BLUE, false),
    ("Validation accuracy", |r| r.val_acc, GREEN, false),
    ("Training loss", |r| r.train_loss, RED, true),
    ("Validation loss", |r| r.val_loss, CYAN, true),
];

// The reference chart in one place: title and verdict, twin axes, four curves, legend, in
// drawing order.
fn draw_rate<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    verdict: &str,
    records: &[EpochRecord],
    band: &[&[EpochRecord]],
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 640.0; // one matplotlib point at this size
    root.fill(&WHITE)?;
    let (head, rest) = root.split_vertically((44.0 * u) as u32);
    let (plot, below) = rest.split_vertically(h - (44.0 * u) as u32 - (70.0 * u) as u32);
    // A schedule's rate, when it changes over the run, in a thin panel under the curves.
    let rates = scheduled_rates(records);
    let (plot, panel) = match rates {
        Some(_) => {
            let (_, ph) = plot.dim_in_pixel();
            let (top, strip) = plot.split_vertically(ph - (RATE_PANEL * u) as u32);
            (top, Some(strip))
        }
        None => (plot, None),
    };
    let centre = |text: &str, pt: f64, y: f64| -> DrawResult<DB> {
        let font = (FAMILY, pt * u).into_font().color(&BLACK);
        let (tw, _) = head.estimate_text_size(text, &font).unwrap_or((0, 0));
        head.draw(&Text::new(
            text.to_string(),
            ((w as i32 - tw as i32).max(0) / 2, (y * u) as i32),
            font,
        ))
    };
    centre(title, 14.0, 6.0)?;
    for (i, line) in verdict_lines(verdict).iter().enumerate() {
        centre(line, 8.0, 24.0 + 9.5 * i as f64)?;
    }
    let n = last_epoch(records.iter().map(|r| r.epoch));
    // Loss from 0: a flat hopeless rate reads as flat, a falling one as falling.
    let top = records
        .iter()
        .chain(band.iter().flat_map(|b| b.iter()))
        .flat_map(|r| [r.train_loss, r.val_loss])
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .min(AXIS_LIMIT);
    let loss = 0.0..if top > 0.0 { top * 1.05 } else { 1.0 };
    let mut chart = frame(&plot, "", u, 45.0)
        .right_y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d(1..n, ACCURACY_AXIS)?
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
    // The seeds' band (min to max at each epoch) behind the validation curves.
    for (get, color, secondary) in [
        (RATE_CURVES[1].1, RATE_CURVES[1].2, false),
        (RATE_CURVES[3].1, RATE_CURVES[3].2, true),
    ] {
        let Some(shape) = band_polygon(band, get) else {
            continue;
        };
        let area = Polygon::new(shape, color.mix(0.18).filled());
        if secondary {
            chart.draw_secondary_series(std::iter::once(area))?;
        } else {
            chart.draw_series(std::iter::once(area))?;
        }
    }
    for (_, get, color, secondary) in RATE_CURVES {
        for seg in segments(records.iter().map(|r| (r.epoch as f64, get(r)))) {
            let seg: Vec<(u32, f64)> = seg.into_iter().map(|(x, y)| (x as u32, y)).collect();
            // A lone point (the epoch before a NaN) as a dot, so that it still shows.
            let dot = (seg.len() == 1).then(|| Circle::new(seg[0], 2 * stroke, color.filled()));
            let line = LineSeries::new(seg, color.stroke_width(stroke));
            if secondary {
                chart.draw_secondary_series(dot)?;
                chart.draw_secondary_series(line)?;
            } else {
                chart.draw_series(dot)?;
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
    if let (Some(strip), Some((lo, hi))) = (panel, rates) {
        draw_rate_panel(&strip, records, (lo, hi), u, n)?;
    }
    root.present()
}

/// Height of the rate panel, in points.
const RATE_PANEL: f64 = 78.0;

/// The range of the records' learning rates when a schedule moved them (over 0.1% apart);
/// none for a constant rate or records that do not say.
fn scheduled_rates(records: &[EpochRecord]) -> Option<(f64, f64)> {
    let finite = records
        .iter()
        .map(|r| r.lr)
        .filter(|r| r.is_finite() && *r > 0.0);
    let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
        (lo.min(r), hi.max(r))
    });
    (hi > lo * 1.001).then_some((lo, hi))
}

/// The rate of each epoch's last step against epoch, on a log axis, under the curves.
fn draw_rate_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    records: &[EpochRecord],
    (lo, hi): (f64, f64),
    u: f64,
    n: u32,
) -> DrawResult<DB> {
    let mut chart = ChartBuilder::on(area)
        .margin_left((10.0 * u) as u32)
        .margin_right((10.0 * u) as u32)
        .x_label_area_size((18.0 * u) as u32)
        .y_label_area_size((45.0 * u) as u32)
        .right_y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d(1..n, (lo / 1.2..hi * 1.2).log_scale())?;
    let font = (FAMILY, 8.0 * u);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(epoch_labels(n))
        .y_labels(3)
        .y_desc("Rate")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(font)
        .axis_desc_style(font)
        .draw()?;
    let points = records
        .iter()
        .filter(|r| r.lr.is_finite() && r.lr > 0.0)
        .map(|r| (r.epoch as u32, r.lr));
    chart.draw_series(LineSeries::new(points, BLACK.stroke_width(stroke(u))))?;
    Ok(())
}

/// The outline of the band `series` span at each epoch where two or more have a finite value:
/// their maxima forward, their minima back; `None` without two series.
fn band_polygon(
    series: &[&[EpochRecord]],
    get: fn(&EpochRecord) -> f64,
) -> Option<Vec<(u32, f64)>> {
    if series.len() < 2 {
        return None;
    }
    let last = series
        .iter()
        .flat_map(|s| s.iter().map(|r| r.epoch))
        .max()?;
    let mut upper = Vec::new();
    let mut lower = Vec::new();
    for epoch in 1..=last {
        let values: Vec<f64> = series
            .iter()
            .filter_map(|s| s.iter().find(|r| r.epoch == epoch).map(get))
            .filter(|v| v.is_finite())
            .collect();
        if values.len() >= 2 {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            upper.push((epoch as u32, hi));
            lower.push((epoch as u32, lo));
        }
    }
    (upper.len() >= 2).then(|| upper.into_iter().chain(lower.into_iter().rev()).collect())
}

/// Writes `<stem>.png` (and `<stem>.svg`) for one rate, titled `Model - Learning Rate <label>`,
/// its `verdict` under the title; with several seeds' records in `band` (the first being
/// `records`), the band they span is shaded behind the validation curves; when a schedule
/// moved the rate, a thin panel under the curves shows it per epoch.
pub fn rate_chart(
    dir: &Path,
    stem: &str,
    label: &str,
    verdict: &str,
    records: &[EpochRecord],
    band: &[&[EpochRecord]],
) -> Result<()> {
    let title = format!("Model - Learning Rate {label}");
    png(&dir.join(format!("{stem}.png")), RATE_CHART_SIZE, |area| {
        draw_rate(area, &title, verdict, records, band)
    })?;
    svg(&dir.join(format!("{stem}.svg")), RATE_CHART_SIZE, |area| {
        draw_rate(area, &title, verdict, records, band)
    })
}

/// One rate's curve in the overview: its label, records, and how to draw it.
#[derive(Debug, Clone)]
pub struct Line {
    /// The rate's label.
    pub label: String,
    /// Its epochs.
    pub records: Vec<EpochRecord>,
    /// Diverged: drawn apart (dashed grey, outside the loss panel's scale).
    pub diverged: bool,
    /// The recommended rate: drawn thicker and named so.
    pub recommended: bool,
}

/// Grey, for diverged rates.
const GREY: RGBColor = RGBColor(150, 150, 150);

/// How each line of the overview is drawn: colour, width and dashes. Rates that did not
/// diverge take tab10's colours in order (dashed after the tenth, so that eleven or more stay
/// apart); diverged rates are dashed grey; the recommended rate is twice as thick.
fn styles(lines: &[Line], stroke: u32) -> Vec<(RGBColor, u32, bool)> {
    let mut next = 0;
    lines
        .iter()
        .map(|l| {
            let width = if l.recommended { 2 * stroke } else { stroke };
            if l.diverged {
                return (GREY, width, true);
            }
            let i = next;
            next += 1;
            (TAB10[i % TAB10.len()], width, i >= TAB10.len())
        })
        .collect()
}

fn draw_overview<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[Line],
) -> DrawResult<DB> {
    let label = |l: &Line| {
        let note = match (l.recommended, l.diverged) {
            (true, _) => " (recommended)",
            (false, true) => " (diverged)",
            (false, false) => "",
        };
        format!("lr {}{note}", l.label)
    };
    beside_the_loss(root, lines, label, |right, n, u, styles| {
        let mut chart =
            frame(right, "Validation accuracy", u, 45.0).build_cartesian_2d(1..n, ACCURACY_AXIS)?;
        epoch_axes(&mut chart, u, n, "Accuracy", None)?;
        draw_runs(&mut chart, lines, styles, |r| r.val_acc)
    })
}

/// The two-panel chart of several runs (the overview, the batch sizes'): validation loss
/// against epoch on the left, what `right(area, epochs, unit, styles)` draws on the right, and
/// the legend, each line named by `label`, under both.
fn beside_the_loss<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[Line],
    label: impl Fn(&Line) -> String,
    right: impl FnOnce(&DrawingArea<DB, Shift>, u32, f64, &[(RGBColor, u32, bool)]) -> DrawResult<DB>,
) -> DrawResult<DB> {
    let (w, h) = root.dim_in_pixel();
    let u = w as f64 / 800.0;
    root.fill(&WHITE)?;
    let (top, below) = root.split_vertically(h - (60.0 * u) as u32);
    let (left, right_area) = top.split_horizontally(w / 2);
    let n = last_epoch(lines.iter().flat_map(|l| l.records.iter().map(|e| e.epoch)));
    let stroke = stroke(u);
    let styles = styles(lines, stroke);
    loss_panel(&left, lines, &styles, n, u)?;
    right(&right_area, n, u, &styles)?;
    let entries: Vec<(String, RGBColor)> = lines
        .iter()
        .zip(&styles)
        .map(|(l, (color, _, _))| (label(l), *color))
        .collect();
    legend(&below, &entries, 9.0 * u, stroke)?;
    root.present()
}

/// Log-axis ticks at round values inside `lo..hi`: 1, 2, 3, 5, 7 per decade over a narrow
/// range, 1, 2, 5 over a few decades, powers of ten over more.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = (hi / lo).log10();
    let mantissas: &[f64] = if decades <= 1.5 {
        &[1.0, 2.0, 3.0, 5.0, 7.0]
    } else if decades <= 4.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut ticks = Vec::new();
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    // Over many decades, every so many: about ten ticks at most.
    let every = ((last - first) / 10).max(1) as usize;
    for k in (first..=last).step_by(every) {
        for m in mantissas {
            // Written as a decimal and read back: 3e-1 is 0.3, not 3 × 0.1.
            let t: f64 = format!("{m}e{k}").parse().unwrap_or(f64::NAN);
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    ticks
}

/// The overview's loss panel, on a log axis scaled to the rates that did not diverge (ticks
/// at round values of that region): a diverged rate's 14.5 no longer squashes the good rates'
/// 0.06 to 0.3; it is drawn where it falls inside the scale, dashed grey.
fn loss_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
    styles: &[(RGBColor, u32, bool)],
    n: u32,
    u: f64,
) -> DrawResult<DB> {
    let positive = |l: &&Line| l.records.iter().map(|e| e.val_loss).collect::<Vec<_>>();
    let kept: Vec<&Line> = lines.iter().filter(|l| !l.diverged).collect();
    let pool: Vec<&Line> = if kept.is_empty() {
        lines.iter().collect()
    } else {
        kept
    };
    let (lo, hi) = pool
        .iter()
        .flat_map(positive)
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo / 1.25, (hi * 1.25).max(lo * 2.0))
    } else {
        (0.01, 10.0)
    };
    let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
    let mut chart =
        frame(area, "Validation loss (log scale)", u, 45.0).build_cartesian_2d(1..n, y)?;
    epoch_axes(&mut chart, u, n, "Loss", Some(&|y| tidy(*y)))?;
    // Log scale: a loss that is not positive is left out like a NaN; so is a diverged rate's
    // beyond the scale (its legend says it diverged; the accuracy panel shows it).
    let inside: Vec<Line> = lines
        .iter()
        .map(|l| Line {
            records: l
                .records
                .iter()
                .map(|r| EpochRecord {
                    val_loss: if r.val_loss > 0.0
                        && (!l.diverged || (lo..=hi).contains(&r.val_loss))
                    {
                        r.val_loss
                    } else {
                        f64::NAN
                    },
                    ..*r
                })
                .collect(),
            ..l.clone()
        })
        .collect();
    draw_runs(&mut chart, &inside, styles, |r| r.val_loss)
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

/// Draws each line's `value` against epoch in its style: lines broken where the value is not
/// finite, a lone point (a rate that diverged after one epoch) as a dot so that it still shows.
fn draw_runs<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordu32, Y>>,
    lines: &[Line],
    styles: &[(RGBColor, u32, bool)],
    value: impl Fn(&EpochRecord) -> f64,
) -> DrawResult<DB>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    for (line, &(color, width, dashed)) in lines.iter().zip(styles) {
        for seg in segments(line.records.iter().map(|r| (r.epoch as f64, value(r)))) {
            let seg: Vec<(u32, f64)> = seg.into_iter().map(|(x, y)| (x as u32, y)).collect();
            if let [only] = seg[..] {
                chart.draw_series(std::iter::once(Circle::new(
                    only,
                    2 * width,
                    color.filled(),
                )))?;
            }
            let style = color.stroke_width(width);
            if dashed {
                chart.draw_series(DashedLineSeries::new(seg, 6 * width, 4 * width, style))?;
            } else {
                chart.draw_series(LineSeries::new(seg, style))?;
            }
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

/// Writes `<stem>.png` (`overview.png`): every rate's validation loss and accuracy against
/// epoch.
pub fn overview(dir: &Path, stem: &str, lines: &[Line]) -> Result<()> {
    png(&dir.join(format!("{stem}.png")), OVERVIEW_SIZE, |area| {
        draw_overview(area, lines)
    })
}

/// File name of the batch sizes' chart.
pub const BATCH_CHART: &str = "batch-sizes.png";

/// Writes `batch-sizes.png`: each size's best member's validation loss against epoch (left)
/// and against the wall-clock seconds its training took (right), one curve per size.
pub fn batch_sizes(dir: &Path, lines: &[Line]) -> Result<()> {
    png(&dir.join(BATCH_CHART), OVERVIEW_SIZE, |area| {
        draw_batch_sizes(area, lines)
    })
}

fn draw_batch_sizes<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lines: &[Line],
) -> DrawResult<DB> {
    let label = |l: &Line| {
        let note = if l.recommended { " (recommended)" } else { "" };
        format!("{}{note}", l.label)
    };
    beside_the_loss(root, lines, label, |right, _, u, styles| {
        against_seconds(right, lines, u, styles)
    })
}

/// Each line's validation loss against the seconds its training had taken by each epoch's end.
fn against_seconds<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
    u: f64,
    styles: &[(RGBColor, u32, bool)],
) -> DrawResult<DB> {
    // Seconds since the start of training at each epoch's end.
    let timeline = |l: &Line| -> Vec<(f64, f64)> {
        let mut t = 0.0;
        l.records
            .iter()
            .map(|r| {
                t += r.seconds;
                (t, r.val_loss)
            })
            .collect()
    };
    let end = lines
        .iter()
        .flat_map(|l| timeline(l).last().map(|p| p.0))
        .fold(0.0f64, f64::max)
        .max(1e-3);
    let losses: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.records.iter().map(|r| r.val_loss))
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT))
        .collect();
    let lo = losses.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = losses.iter().copied().fold(0.0f64, f64::max);
    let (lo, hi) = match lo.is_finite() {
        true => (lo / 1.25, (hi * 1.25).max(lo * 2.0)),
        false => (0.01, 10.0),
    };
    let y = (lo..hi).log_scale().with_key_points(log_ticks(lo, hi));
    let mut chart = frame(area, "Validation loss against wall-clock time", u, 45.0)
        .build_cartesian_2d(0.0..end * 1.02, y)?;
    axes(
        &mut chart,
        u,
        Axes {
            x: "Seconds of training",
            y: "Loss",
            x_labels: 0,
            x_format: None,
            y_format: Some(&|y| tidy(*y)),
        },
    )?;
    for (l, (color, width, _)) in lines.iter().zip(styles) {
        for seg in segments(timeline(l).into_iter()) {
            chart.draw_series(LineSeries::new(seg, color.stroke_width(*width)))?;
        }
    }
    Ok(())
}

/// Writes `overview.svg` (what the tests read).
#[cfg(test)]
fn overview_svg(dir: &Path, lines: &[Line]) -> Result<()> {
    svg(&dir.join("overview.svg"), OVERVIEW_SIZE, |area| {
        draw_overview(area, lines)
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
            lr: 1e-3,
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
        rate_chart(
            dir.path(),
            "lr-0.001",
            "0.001",
            "fits: validation loss reached 0.2750 at epoch 4",
            &records,
            &[],
        )
        .unwrap();
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
        assert!(
            texts[1].starts_with("fits: validation loss"),
            "verdict: {texts:?}"
        );
        // The accuracy axis runs from 0 to 1 whatever the curves (0.88 to 0.9 here).
        for tick in ["0.0", "1.0"] {
            assert!(texts.contains(&tick), "accuracy tick {tick} in {texts:?}");
        }
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

    #[test]
    fn the_overview_scales_its_loss_to_the_good_rates_and_marks_the_recommended_one() {
        let dir = tempfile::tempdir().unwrap();
        let good = |label: &str, lo: f64, recommended| Line {
            label: label.to_string(),
            records: (1..=6).map(|e| rec(e, lo + 0.2 / e as f64)).collect(),
            diverged: false,
            recommended,
        };
        let lines = vec![
            good("0.0001", 0.12, false),
            good("0.001", 0.06, true),
            Line {
                label: "0.1".into(),
                records: (1..=6).map(|e| rec(e, 14.5)).collect(),
                diverged: true,
                recommended: false,
            },
        ];
        overview_svg(dir.path(), &lines).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("overview.svg")).unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| {
                t.split_once('>')
                    .and_then(|(_, r)| r.split("</text>").next())
            })
            .map(str::trim)
            .collect();
        // Ticks inside the good rates' region (0.066 to 0.35), none at 10 for the diverged 14.5.
        for tick in ["0.1", "0.2", "0.3"] {
            assert!(texts.contains(&tick), "tick {tick} in {texts:?}");
        }
        assert!(!texts.contains(&"10"), "{texts:?}");
        assert!(texts.contains(&"lr 0.001 (recommended)"), "{texts:?}");
        assert!(texts.contains(&"lr 0.1 (diverged)"), "{texts:?}");
        // Over the widest span an axis takes, a tick every 20 decades.
        let wide = log_ticks(1.0 / AXIS_LIMIT, AXIS_LIMIT);
        assert_eq!((wide.len(), wide[0], wide[10]), (11, 1e-100, 1e100));
        assert_eq!(log_ticks(0.05, 0.4), vec![0.05, 0.07, 0.1, 0.2, 0.3]);
        assert_eq!(
            log_ticks(0.01, 5.0),
            vec![0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0]
        );
    }
}
