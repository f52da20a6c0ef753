//! The run directory and its files: created fresh, written atomically or line by line so that
//! an interrupted run keeps what it finished, read back with errors that name file and line.

pub mod checkpoint;
pub mod lock;
pub mod metrics;
pub mod model_file;
pub mod range;
pub mod run;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

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
    check_fresh(&out).map_err(crate::exit::usage)?;
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
