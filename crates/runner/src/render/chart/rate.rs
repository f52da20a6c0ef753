//! The reference's per-rate chart: accuracy on the left axis, loss on a twin right axis, the
//! verdict under the title, the seeds' band, and the rate panel when a schedule moved it.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::draw::RATE_CHART_SIZE;
use super::draw::{frame, legend, png, segments, stroke, svg, DrawResult, AXIS_LIMIT, FAMILY};
use super::epochs::{
    accuracy_axis, accuracy_word, epoch_axes, epoch_labels, is_regression, last_epoch, log_ticks,
    LOWEST_R2,
};

/// The reference chart's colours (matplotlib's `b`, `g`, `r`, `c`): training accuracy blue,
/// validation accuracy green, training loss red, validation loss cyan.
const BLUE: RGBColor = RGBColor(0, 0, 255);
const GREEN: RGBColor = RGBColor(0, 128, 0);
const RED: RGBColor = RGBColor(255, 0, 0);
const CYAN: RGBColor = RGBColor(0, 191, 191);

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

/// A regression's four curves: R² (drawn from [`LOWEST_R2`] up) where accuracy was.
const REGRESSION_CURVES: [Curve; 4] = [
    ("Training R²", |r| r.train_acc.max(LOWEST_R2), BLUE, false),
    ("Validation R²", |r| r.val_acc.max(LOWEST_R2), GREEN, false),
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
    let regression = is_regression(records);
    let curves = match regression {
        true => REGRESSION_CURVES,
        false => RATE_CURVES,
    };
    let left = accuracy_axis(
        records
            .iter()
            .chain(band.iter().flat_map(|b| b.iter()))
            .flat_map(|r| [r.train_acc, r.val_acc]),
        regression,
    );
    let mut chart = frame(&plot, "", u, 45.0)
        .right_y_label_area_size((45.0 * u) as u32)
        .build_cartesian_2d(1..n, left)?
        .set_secondary_coord(1..n, loss);
    epoch_axes(&mut chart, u, n, accuracy_word(regression), None)?;
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
        (curves[1].1, curves[1].2, false),
        (curves[3].1, curves[3].2, true),
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
    for (_, get, color, secondary) in curves {
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
    let entries: Vec<(String, RGBColor)> = curves
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
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(on_axis);
    let (lo, hi) = finite.fold((f64::INFINITY, 0.0f64), |(lo, hi), r| {
        (lo.min(r), hi.max(r))
    });
    (hi > lo * 1.001).then_some((lo, hi))
}

/// A rate where the log axis can draw it: within ±100 decades (a schedule that decays into
/// subnormal numbers, or a crafted record, would otherwise stall the axis' ticks).
fn on_axis(rate: f64) -> f64 {
    rate.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT)
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
        .build_cartesian_2d(
            1..n,
            (lo / 1.2..hi * 1.2)
                .log_scale()
                .with_key_points(thinned(log_ticks(lo / 1.2, hi * 1.2), 3)),
        )?;
    let font = (FAMILY, 8.0 * u);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(epoch_labels(n))
        .y_desc("Rate")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(font)
        .axis_desc_style(font)
        .draw()?;
    let points = records
        .iter()
        .filter(|r| r.lr.is_finite() && r.lr > 0.0)
        .map(|r| (r.epoch as u32, on_axis(r.lr)));
    chart.draw_series(LineSeries::new(points, BLACK.stroke_width(stroke(u))))?;
    Ok(())
}

/// At most about `most` of `ticks`, evenly taken (the first always).
fn thinned(ticks: Vec<f64>, most: usize) -> Vec<f64> {
    let every = ticks.len().div_ceil(most.max(1)).max(1);
    ticks.into_iter().step_by(every).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn rec(epoch: usize, loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: loss,
            train_acc: 0.9,
            val_loss: loss * 1.1,
            val_acc: 0.88,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }
    }

    /// The polylines of an SVG as (stroke colour, number of points).
    pub(super) fn polylines(svg: &str) -> Vec<(String, usize)> {
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
    fn a_rate_decayed_into_subnormal_numbers_or_crafted_huge_is_drawn() {
        // exp:0.005 over 150 epochs ends in subnormal rates; a crafted record holds f64's
        // largest: the rate panel's log axis once stalled on both (issue 37, class 6).
        for last in [5e-324, 1e-321, 0.0, f64::MAX] {
            let dir = tempfile::tempdir().unwrap();
            let records: Vec<EpochRecord> = [1e-3, 1e-200, last]
                .iter()
                .enumerate()
                .map(|(i, &lr)| EpochRecord {
                    lr,
                    ..rec(i + 1, 1.0)
                })
                .collect();
            rate_chart(dir.path(), "lr-0.001", "0.001", "", &records, &[]).unwrap();
            let svg = std::fs::read_to_string(dir.path().join("lr-0.001.svg")).unwrap();
            let black = polylines(&svg)
                .into_iter()
                .filter(|(c, _)| c == "#000000")
                .count();
            assert!(black >= 1, "{last}: the rate panel's curve");
        }
    }
}
