//! `metrics.csv`: one line per epoch, flushed as it is written, read back exactly.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lrsweep_data::Task;
use lrsweep_model::EpochRecord;

/// Header of every `metrics.csv`: the figures of an epoch, its seconds, the learning rate of
/// its last step, and the standard error of its validation loss.
pub const METRICS_HEADER: &str =
    "epoch,train_loss,train_acc,val_loss,val_acc,seconds,lr,val_loss_se";

/// Header of a regression's `metrics.csv`: R² where a classification has its accuracy, and
/// after the standard error the validation RMSE and MAE, in the targets' units.
pub const REGRESSION_HEADER: &str =
    "epoch,train_loss,train_r2,val_loss,val_r2,seconds,lr,val_loss_se,val_rmse,val_mae";

/// The headers of older versions' files, still read: without `val_loss_se` (its noise then
/// estimated from the curve), and without `lr` either (the rate unknown).
const OLDER_HEADERS: [&str; 2] = [
    "epoch,train_loss,train_acc,val_loss,val_acc,seconds,lr",
    "epoch,train_loss,train_acc,val_loss,val_acc,seconds",
];

/// A `metrics.csv` being appended to, one flushed line per epoch.
pub struct MetricsWriter {
    out: BufWriter<File>,
    path: PathBuf,
    regression: bool,
}

impl MetricsWriter {
    /// Creates `path` with its header (a regression's when `task` is one).
    pub fn create(path: &Path, task: Task) -> Result<Self> {
        let file = super::fs::create(path)?;
        let regression = task == Task::Regression;
        let mut w = Self {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
            regression,
        };
        w.line(match regression {
            true => REGRESSION_HEADER,
            false => METRICS_HEADER,
        })?;
        Ok(w)
    }

    fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.out, "{line}")
            .and_then(|_| self.out.flush())
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Appends one epoch and flushes it to the file.
    pub fn append(&mut self, r: &EpochRecord) -> Result<()> {
        self.line(&format_fields(r, self.regression))
    }
}

/// One CSV line (a checkpoint's record): a regression's when it has an RMSE or MAE.
pub fn format_record(r: &EpochRecord) -> String {
    format_fields(r, !(r.val_rmse.is_nan() && r.val_mae.is_nan()))
}

/// One CSV line: shortest exact decimal for the metrics, the rate and the standard error,
/// milliseconds for the time; a `regression`'s RMSE and MAE after them.
fn format_fields(r: &EpochRecord, regression: bool) -> String {
    let mut line = format!(
        "{},{},{},{},{},{:.3},{},{}",
        r.epoch, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.seconds, r.lr, r.val_loss_se
    );
    if regression {
        line.push_str(&format!(",{},{}", r.val_rmse, r.val_mae));
    }
    line
}

/// Parses one metrics line written by [`format_record`] (or by an older version, without the
/// standard error or the rate: NaN then).
pub fn parse_record(line: &str) -> Result<EpochRecord> {
    let fields = line.trim_end().split(',').count();
    parse_fields(line, if fields == 10 { 10 } else { 8 })
}

/// The header of a file whose lines have `fields` fields.
fn header_of(fields: usize) -> &'static str {
    match fields {
        6 => OLDER_HEADERS[1],
        7 => OLDER_HEADERS[0],
        10 => REGRESSION_HEADER,
        _ => METRICS_HEADER,
    }
}

/// Parses a line of `want` fields (a checkpoint's records, the newest form, may also be of an
/// older version's shorter forms).
fn parse_fields(line: &str, want: usize) -> Result<EpochRecord> {
    let fields: Vec<&str> = line.trim_end().split(',').collect();
    if fields.len() != want && !(want == 8 && (6..8).contains(&fields.len())) {
        let header = header_of(want);
        bail!(
            "expected {want} comma-separated fields ({header}), found {}",
            fields.len()
        );
    }
    let num = |i: usize| -> Result<f64> {
        fields[i]
            .trim()
            .parse::<f64>()
            .with_context(|| format!("field {} ('{}') is not a number", i + 1, fields[i]))
    };
    let epoch = fields[0]
        .trim()
        .parse::<usize>()
        .with_context(|| format!("epoch '{}' is not a whole number", fields[0]))?;
    Ok(EpochRecord {
        epoch,
        train_loss: num(1)?,
        train_acc: num(2)?,
        val_loss: num(3)?,
        val_acc: num(4)?,
        seconds: num(5)?,
        lr: if fields.len() > 6 { num(6)? } else { f64::NAN },
        val_loss_se: if fields.len() > 7 { num(7)? } else { f64::NAN },
        val_rmse: if fields.len() > 9 { num(8)? } else { f64::NAN },
        val_mae: if fields.len() > 9 { num(9)? } else { f64::NAN },
    })
}

/// Reads a `metrics.csv`; a malformed file is an error naming the file and the line.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>> {
    if !path.is_file() {
        bail!("{} is missing or not a regular file", path.display());
    }
    let text = super::fs::read_text(path, super::fs::limit::METRICS)?;
    let mut lines = text.lines();
    let want = match lines.next() {
        Some(METRICS_HEADER) => 8,
        Some(REGRESSION_HEADER) => 10,
        Some(h) if h == OLDER_HEADERS[0] => 7,
        Some(h) if h == OLDER_HEADERS[1] => 6,
        _ => bail!(
            "{} line 1: expected the header '{METRICS_HEADER}'",
            path.display()
        ),
    };
    lines
        .enumerate()
        .map(|(i, line)| {
            parse_fields(line, want)
                .and_then(|r| check_record(&r, i + 1).map(|()| r))
                .with_context(|| format!("{} line {}", path.display(), i + 2))
        })
        .collect()
}

/// Checks that a record read back is one lrsweep could have written as the `nth` epoch: epochs
/// counted from 1 without gaps or repeats, accuracies within 0..=1, losses not negative (NaN and
/// infinity mark divergence), seconds finite and not negative.
fn check_record(r: &EpochRecord, nth: usize) -> Result<()> {
    if r.epoch != nth {
        bail!(
            "epoch {} where epoch {nth} was expected (epochs count from 1, one line each)",
            r.epoch
        );
    }
    // A regression's R² (in the accuracy's place) is at most 1, and below 0 when it predicts
    // worse than the mean.
    let regression = !(r.val_rmse.is_nan() && r.val_mae.is_nan());
    for (name, acc) in [("train_acc", r.train_acc), ("val_acc", r.val_acc)] {
        let fits = match regression {
            true => acc <= 1.0 + 1e-9,
            false => (0.0..=1.0).contains(&acc),
        };
        if !(acc.is_nan() || fits) {
            bail!("{name} {acc} is not an accuracy between 0 and 1 (or an R² at most 1)");
        }
    }
    for (name, err) in [("val_rmse", r.val_rmse), ("val_mae", r.val_mae)] {
        if err < 0.0 {
            bail!("{name} {err} is negative");
        }
    }
    for (name, loss) in [("train_loss", r.train_loss), ("val_loss", r.val_loss)] {
        if loss < 0.0 {
            bail!("{name} {loss} is negative");
        }
    }
    if !(r.seconds.is_finite() && r.seconds >= 0.0) {
        bail!("seconds {} is not a duration", r.seconds);
    }
    if r.lr < 0.0 || r.lr.is_infinite() {
        bail!("lr {} is not a learning rate", r.lr);
    }
    if r.val_loss_se < 0.0 {
        bail!("val_loss_se {} is negative", r.val_loss_se);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_records_are_refused_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        let good = "1,0.5,0.8,0.6,0.79,1.000,0.001,0.004\n2,NaN,0.1,NaN,0.1,1.000,0.0005,NaN\n";
        std::fs::write(&path, format!("{METRICS_HEADER}\n{good}")).unwrap();
        let read = read_metrics(&path).unwrap();
        assert_eq!(
            (read.len(), read[1].lr, read[0].val_loss_se),
            (2, 0.0005, 0.004)
        );
        let older = "1,0.5,0.8,0.6,0.79,1.000,0.001\n";
        std::fs::write(&path, format!("{}\n{older}", OLDER_HEADERS[0])).unwrap();
        let r = read_metrics(&path).unwrap()[0];
        assert!(
            r.lr == 0.001 && r.val_loss_se.is_nan(),
            "no standard error: unknown"
        );
        let oldest = "1,0.5,0.8,0.6,0.79,1.000\n";
        std::fs::write(&path, format!("{}\n{oldest}", OLDER_HEADERS[1])).unwrap();
        assert!(
            read_metrics(&path).unwrap()[0].lr.is_nan(),
            "an older file: lr unknown"
        );
        // A rate a schedule decayed to 0 is written and read back.
        let zero = "1,0.5,0.8,0.6,0.79,1.000,0,0.004\n";
        std::fs::write(&path, format!("{METRICS_HEADER}\n{zero}")).unwrap();
        assert_eq!(read_metrics(&path).unwrap()[0].lr, 0.0);
        for (bad, says) in [
            (
                "1,0.5,0.8,0.6,0.79,1.0,0.1,0.1\n1,0.5,0.8,0.6,0.79,1.0,0.1,0.1\n",
                "line 3: epoch 1 where epoch 2",
            ),
            ("0,0.5,0.8,0.6,0.79,1.0,0.1,0.1\n", "line 2: epoch 0"),
            ("1,0.5,7.5,0.6,0.79,1.0,0.1,0.1\n", "train_acc 7.5"),
            (
                "1,-0.5,0.8,0.6,0.79,1.0,0.1,0.1\n",
                "train_loss -0.5 is negative",
            ),
            ("1,0.5,0.8,0.6,0.79,-1,0.1,0.1\n", "seconds -1"),
            ("1,0.5,0.8,0.6,0.79,1.0,-0.1,0.1\n", "lr -0.1"),
            ("1,0.5,0.8,0.6,0.79,1.0,0.1,-0.1\n", "val_loss_se -0.1"),
            ("1,0.5,0.8,0.6,0.79,1.0,0.1,7,1\n", "expected 8"),
        ] {
            std::fs::write(&path, format!("{METRICS_HEADER}\n{bad}")).unwrap();
            let e = format!("{:#}", read_metrics(&path).unwrap_err());
            assert!(e.contains(says) && e.contains("metrics.csv"), "{bad}: {e}");
        }
    }
}
