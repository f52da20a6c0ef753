//! Charts of several runs: the overview of a group's rates and the best members of the batch
//! sizes or the networks, validation loss on a log scale beside accuracy or wall-clock time.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

#[cfg(test)]
use super::draw::svg;
use super::draw::{axes, frame, legend, png, segments, stroke, Axes, DrawResult};
use super::epochs::{
    accuracy_axis, accuracy_word, draw_runs, epoch_axes, is_regression, last_epoch, loss_axis,
    loss_panel, styles, tidy, Line, LOWEST_R2,
};

const OVERVIEW_SIZE: (u32, u32) = (2400, 1200);

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
    let regression = is_regression(lines.iter().flat_map(|l| l.records.iter()));
    beside_the_loss(root, lines, label, |right, n, u, styles| {
        let word = accuracy_word(regression);
        let axis = accuracy_axis(
            lines
                .iter()
                .flat_map(|l| l.records.iter().map(|r| r.val_acc)),
            regression,
        );
        let title = match regression {
            true => "Validation R²",
            false => "Validation accuracy",
        };
        let mut chart = frame(right, title, u, 45.0).build_cartesian_2d(1..n, axis)?;
        epoch_axes(&mut chart, u, n, word, None)?;
        draw_runs(&mut chart, lines, styles, |r| r.val_acc.max(LOWEST_R2))
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

/// Writes `<stem>.png` (`overview.png`): every rate's validation loss and accuracy against
/// epoch.
pub fn overview(dir: &Path, stem: &str, lines: &[Line]) -> Result<()> {
    png(&dir.join(format!("{stem}.png")), OVERVIEW_SIZE, |area| {
        draw_overview(area, lines)
    })
}

/// Writes `file` (`batch-sizes.png`, `networks.png`, `optimizers.png`): the best member of each
/// batch size, network or optimizer, its validation loss against epoch (left) and against the wall-clock seconds its
/// training took (right), one curve each.
pub fn best_members(dir: &Path, file: &str, lines: &[Line]) -> Result<()> {
    png(&dir.join(file), OVERVIEW_SIZE, |area| {
        draw_best_members(area, lines)
    })
}

fn draw_best_members<DB: DrawingBackend>(
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
    let (lo, hi, ticks) = loss_axis(
        lines
            .iter()
            .flat_map(|l| l.records.iter().map(|r| r.val_loss)),
    );
    let y = (lo..hi).log_scale().with_key_points(ticks);
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
    use crate::render::chart::draw::AXIS_LIMIT;
    use crate::render::chart::epochs::log_ticks;
    use lrsweep_model::EpochRecord;

    fn rec(epoch: usize, loss: f64) -> EpochRecord {
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

    #[test]
    fn a_log_axis_has_a_labelled_tick_at_or_below_its_lowest_value_and_above_its_highest() {
        // Issue 38: the quick run's overview labelled 0.1 lowest while its curves reached
        // 0.063; batch-sizes.png stopped at 0.2 while they reached 0.137.
        for (lo, hi) in [
            (0.063, 2.3),
            (0.137, 0.9),
            (0.066, 0.35),
            (2e-5, 14.5),
            (0.5, 0.52),
            (1e-90, 1e90),
        ] {
            let (a, b, ticks) = crate::render::chart::epochs::log_axis(lo, hi);
            assert!(a <= lo && b >= hi, "{lo}..{hi}: axis {a}..{b}");
            let (first, last) = (ticks[0], *ticks.last().unwrap());
            assert!(first <= lo, "{lo}..{hi}: lowest tick {first} in {ticks:?}");
            assert!(last >= hi, "{lo}..{hi}: highest tick {last} in {ticks:?}");
            assert!(ticks.len() <= 12, "{ticks:?}");
        }
    }
}
