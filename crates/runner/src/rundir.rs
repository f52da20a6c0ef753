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

/// The output directory: `out`, or the default one (`runs/[<kind>-]<YYYYMMDD-HHMMSS>`); refused
/// (as a usage error) when it already holds anything.
pub fn fresh_out(out: Option<PathBuf>, kind: Option<&str>) -> Result<PathBuf> {
    let out = out.unwrap_or_else(|| kind.map_or_else(default_dir, default_dir_for));
    check_fresh(&out).map_err(crate::usage)?;
    Ok(out)
}

/// The default directory of another command: `runs/<kind>-<YYYYMMDD-HHMMSS>`.
pub fn default_dir_for(kind: &str) -> PathBuf {
    PathBuf::from("runs").join(format!(
        "{kind}-{}",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    ))
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

/// Parses one metrics line written by [`format_record`].
pub fn parse_record(line: &str) -> Result<EpochRecord> {
    let fields: Vec<&str> = line.trim_end().split(',').collect();
    if fields.len() != 6 {
        bail!(
            "expected 6 comma-separated fields ({METRICS_HEADER}), found {}",
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
    })
}

/// Reads a `metrics.csv`; a malformed file is an error naming the file and the line.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochRecord>> {
    if !path.is_file() {
        bail!("{} is missing or not a regular file", path.display());
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    if lines.next() != Some(METRICS_HEADER) {
        bail!(
            "{} line 1: expected the header '{METRICS_HEADER}'",
            path.display()
        );
    }
    lines
        .enumerate()
        .map(|(i, line)| {
            parse_record(line).with_context(|| format!("{} line {}", path.display(), i + 2))
        })
        .collect()
}

/// A lock file that keeps two processes from writing one run; removed when dropped.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock of `dir`, or refuses while a live process holds it; a lock left by a dead
    /// process is taken over with a message.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("lrsweep.lock");
        let me = std::process::id().to_string();
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim().parse::<u32>().ok();
                    let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
                    if alive {
                        bail!(
                            "{} is being written by another lrsweep (process {}); wait for it to finish or stop it, or choose another directory",
                            dir.display(),
                            holder.trim()
                        );
                    }
                    eprintln!(
                        "taking over the lock of {} left by a process that no longer runs ({})",
                        dir.display(),
                        if holder.trim().is_empty() {
                            "unknown"
                        } else {
                            holder.trim()
                        }
                    );
                    std::fs::remove_file(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        bail!("could not take the lock {}", path.display())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
