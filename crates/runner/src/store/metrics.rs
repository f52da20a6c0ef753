//! `metrics.csv`: one line per epoch, flushed as it is written, read back exactly.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lrsweep_model::EpochRecord;

/// Header of every `metrics.csv`: the figures of an epoch, its seconds, and the learning rate
/// of its last step.
pub const METRICS_HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,seconds,lr";

/// The header of older versions' files, without the `lr` column: still read (lr unknown).
const OLD_HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,seconds";

/// A `metrics.csv` being appended to, one flushed line per epoch.
pub struct MetricsWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl MetricsWriter {
    /// Creates `path` with its header.
    pub fn create(path: &Path) -> Result<Self> {
        let file = super::fs::create(path)?;
        let mut w = Self {
            out: BufWriter::new(file),
            path: path.to_path_buf(),
        };
        w.line(METRICS_HEADER)?;
        Ok(w)
    }

    fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.out, "{line}")
            .and_then(|_| self.out.flush())
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Appends one epoch and flushes it to the file.
    pub fn append(&mut self, r: &EpochRecord) -> Result<()> {
        self.line(&format_record(r))
    }
}

/// One CSV line: shortest exact decimal for the metrics and the rate, milliseconds for the
/// time.
pub fn format_record(r: &EpochRecord) -> String {
    format!(
        "{},{},{},{},{},{:.3},{}",
        r.epoch, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.seconds, r.lr
    )
}

/// Parses one metrics line written by [`format_record`] (or by an older version, without the
/// rate: NaN then).
pub fn parse_record(line: &str) -> Result<EpochRecord> {
    parse_fields(line, 7)
}

fn parse_fields(line: &str, want: usize) -> Result<EpochRecord> {
    let fields: Vec<&str> = line.trim_end().split(',').collect();
    if fields.len() != want && !(want == 7 && fields.len() == 6) {
        let header = if want == 7 {
            METRICS_HEADER
        } else {
            OLD_HEADER
        };
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
        Some(METRICS_HEADER) => 7,
        Some(OLD_HEADER) => 6,
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
    for (name, acc) in [("train_acc", r.train_acc), ("val_acc", r.val_acc)] {
        if !(acc.is_nan() || (0.0..=1.0).contains(&acc)) {
            bail!("{name} {acc} is not an accuracy between 0 and 1");
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
    if r.lr <= 0.0 || r.lr.is_infinite() {
        bail!("lr {} is not a learning rate", r.lr);
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
        let good = "1,0.5,0.8,0.6,0.79,1.000,0.001\n2,NaN,0.1,NaN,0.1,1.000,0.0005\n";
        std::fs::write(&path, format!("{METRICS_HEADER}\n{good}")).unwrap();
        let read = read_metrics(&path).unwrap();
        assert_eq!((read.len(), read[1].lr), (2, 0.0005));
        let old = "1,0.5,0.8,0.6,0.79,1.000\n";
        std::fs::write(&path, format!("{OLD_HEADER}\n{old}")).unwrap();
        assert!(
            read_metrics(&path).unwrap()[0].lr.is_nan(),
            "an older file: lr unknown"
        );
        for (bad, says) in [
            (
                "1,0.5,0.8,0.6,0.79,1.0\n1,0.5,0.8,0.6,0.79,1.0\n",
                "line 3: epoch 1 where epoch 2",
            ),
            ("0,0.5,0.8,0.6,0.79,1.0\n", "line 2: epoch 0"),
            ("1,0.5,7.5,0.6,0.79,1.0\n", "train_acc 7.5"),
            ("1,-0.5,0.8,0.6,0.79,1.0\n", "train_loss -0.5 is negative"),
            ("1,0.5,0.8,0.6,0.79,-1\n", "seconds -1"),
            ("1,0.5,0.8,0.6,0.79,1.0,-0.1\n", "lr -0.1"),
            ("1,0.5,0.8,0.6,0.79,1.0,0.1,7\n", "expected 7"),
        ] {
            std::fs::write(&path, format!("{METRICS_HEADER}\n{bad}")).unwrap();
            let e = format!("{:#}", read_metrics(&path).unwrap_err());
            assert!(e.contains(says) && e.contains("metrics.csv"), "{bad}: {e}");
        }
    }
}
