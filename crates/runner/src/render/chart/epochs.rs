//! What the charts against epoch share: the accuracy axis, whole-number epoch axes, lines of
//! several runs in their styles, and the log-scale validation-loss panel with round ticks.

use lrsweep_model::EpochRecord;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordu32;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::{axes, frame, segments, Axes, DrawResult, AXIS_LIMIT, TAB10};

/// The accuracy axis of every chart: 0 to 1 whatever the curves, so that a rate stuck at
/// chance (0.1) reads as flat and low, not as a zig-zag across an autoscaled axis.
pub(super) const ACCURACY_AXIS: std::ops::Range<f64> = 0.0..1.0;

/// The lowest R² a regression's chart draws: below it a curve is drawn at it (an R² of −5 says
/// no more than one of −1: worse than predicting the mean).
pub(super) const LOWEST_R2: f64 = -1.0;

/// Whether records are a regression's (they have an RMSE or an MAE): their accuracy is R².
pub(super) fn is_regression<'a>(records: impl IntoIterator<Item = &'a EpochRecord>) -> bool {
    records
        .into_iter()
        .any(|r| !(r.val_rmse.is_nan() && r.val_mae.is_nan()))
}

/// The left axis of a chart of `values`: accuracy from 0 to 1, or a `regression`'s R² from 0 (or
/// the lowest value, down to [`LOWEST_R2`]) to 1.
pub(super) fn accuracy_axis(
    values: impl Iterator<Item = f64>,
    regression: bool,
) -> std::ops::Range<f64> {
    if !regression {
        return ACCURACY_AXIS;
    }
    let low = values.filter(|v| v.is_finite()).fold(0.0f64, f64::min);
    low.max(LOWEST_R2)..1.0
}

/// What a chart says for its left axis: `Accuracy`, or `R²` for a regression.
pub(super) fn accuracy_word(regression: bool) -> &'static str {
    match regression {
        true => "R²",
        false => "Accuracy",
    }
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
pub(super) fn styles(lines: &[Line], stroke: u32) -> Vec<(RGBColor, u32, bool)> {
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

/// The round values a log axis over `lo..hi` is ticked at: 1, 2, 3, 5, 7 per decade over a
/// narrow range, 1, 2, 5 over a few decades, powers of ten over more.
fn mantissas(lo: f64, hi: f64) -> &'static [f64] {
    let decades = (hi / lo).log10();
    if decades <= 1.5 {
        &[1.0, 2.0, 3.0, 5.0, 7.0]
    } else if decades <= 4.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    }
}

/// A round value of `mantissas`: `m`×10^`k`, written as a decimal and read back (3e-1 is 0.3,
/// not 3 × 0.1).
fn round_value(m: f64, k: i32) -> f64 {
    format!("{m}e{k}").parse().unwrap_or(f64::NAN)
}

/// A log axis drawn over the values `lo..hi` (both positive): widened to the round values at
/// or below `lo` and at or above `hi`, so that a labelled tick stands at or below the lowest
/// value drawn and at or above the highest; the axis' range and its ticks.
pub(super) fn log_axis(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let marks = mantissas(lo / 1.25, hi * 1.25);
    let (kl, kh) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let below = (kl - 1..=kl)
        .flat_map(|k| marks.iter().map(move |&m| round_value(m, k)))
        .filter(|&t| t <= lo)
        .fold(f64::NAN, f64::max);
    let above = (kh - 1..=kh)
        .flat_map(|k| marks.iter().map(move |&m| round_value(m, k)))
        .filter(|&t| t >= hi)
        .fold(f64::NAN, f64::min);
    let (a, b) = match (below.is_finite(), above.is_finite()) {
        (true, true) if above > below => (below, above),
        _ => (lo / 1.25, hi * 1.25),
    };
    (a, b, log_ticks(a, b))
}

/// The log axis of the losses `values`: the positive finite ones (within ±100 decades) and a
/// span of at least 1.6×, widened to round ticks at both ends ([`log_axis`]); 0.01 to 10
/// when none can be drawn. Its range and ticks.
pub(crate) fn loss_axis(values: impl IntoIterator<Item = f64>) -> (f64, f64, Vec<f64>) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    match lo.is_finite() {
        true => log_axis(lo, hi.max(lo * 1.6)),
        false => (0.01, 10.0, log_ticks(0.01, 10.0)),
    }
}

/// Log-axis ticks at round values inside `lo..hi` (see [`mantissas`]).
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mantissas = mantissas(lo, hi);
    let mut ticks = Vec::new();
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    // Over many decades, every so many: about ten ticks at most.
    let every = ((last - first) / 10).max(1) as usize;
    for k in (first..=last).step_by(every) {
        for m in mantissas {
            let t = round_value(*m, k);
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
pub(super) fn loss_panel<DB: DrawingBackend>(
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
    let (lo, hi, ticks) = loss_axis(pool.iter().flat_map(positive));
    let y = (lo..hi).log_scale().with_key_points(ticks);
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
pub(super) fn epoch_axes<DB, Y>(
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
pub(super) fn draw_runs<DB, Y>(
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
pub(crate) fn tidy(y: f64) -> String {
    let s = format!("{y:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The last epoch of the records, at least 2 (an axis needs a span).
pub(super) fn last_epoch(epochs: impl Iterator<Item = usize>) -> u32 {
    epochs.max().unwrap_or(1).clamp(2, u32::MAX as usize) as u32
}

/// How many epoch labels: every epoch up to ten, else ten (whole numbers, so none repeats).
pub(super) fn epoch_labels(n: u32) -> usize {
    (n as usize).min(10)
}
