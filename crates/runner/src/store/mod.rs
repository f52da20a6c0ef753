//! The run directory and its files: created fresh, written atomically or line by line so that
//! an interrupted run keeps what it finished, read back with errors that name file and line.

pub mod checkpoint;
pub mod claim;
pub mod fs;
pub mod lock;
pub mod metrics;
pub mod model_file;
pub mod out;
pub mod range;
pub mod run;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// Writes `value` as pretty JSON to `path` through a temporary file and a rename.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serialising JSON")?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file and a rename: never half-written. The
/// error names the file and the cause once.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write_atomic(path, bytes)
}

pub use out::{fresh_out, OutDir};
