//! The run directory: created fresh, written so that an interrupted run keeps what it finished.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lrsweep_model::EpochRecord;
use serde::Serialize;

/// Header of every `metrics.csv`.
pub const METRICS_HEADER: &str = "epoch,train_loss,train_acc,val_loss,val_acc,seconds";

/// Refuses a directory that already holds anything (a previous run is never overwritten).
pub fn check_fresh(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "--out {} exists and is not a directory; choose another path with --out DIR",
                dir.display()
            );
        }
        let occupied = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some();
        if occupied {
            bail!(
                "--out {} already holds files (a previous run?); lrsweep never overwrites a run: choose another directory with --out DIR, or remove this one",
                dir.display()
            );
        }
    }
    Ok(())
}

/// The default run directory: `runs/<YYYYMMDD-HHMMSS>`.
pub fn default_dir() -> PathBuf {
    PathBuf::from("runs").join(chrono::Local::now().format("%Y%m%d-%H%M%S").to_string())
}

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serialising JSON")?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file and a rename: never half-written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    lrsweep_data::source::write_atomically(path, bytes)
        .with_context(|| format!("writing {}", path.display()))
}

/// A `metrics.csv` being appended to, one flushed line per epoch.
pub struct MetricsWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl MetricsWriter {
    /// Creates `path` with its header.
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
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

/// One CSV line: shortest exact decimal for the metrics, milliseconds for the time.
pub fn format_record(r: &EpochRecord) -> String {
    format!(
        "{},{},{},{},{},{:.3}",
        r.epoch, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.seconds
    )
}
