//! The range test's files: `find.csv` (the exact steps) and `find.json` (settings, suggestions).

use std::path::Path;

use anyhow::{anyhow, Result};

use super::fs::{write_atomic, write_json};
use super::layout::names;
use crate::analysis::range::{FindResult, FindStep};

const CSV_HEADER: &str = "step,rate,loss,smoothed";

/// Whether `dir` holds a range test.
pub fn exists(dir: &Path) -> bool {
    dir.join(names::FIND_JSON).exists()
}

/// Writes `find.csv` and `find.json` into `dir`.
pub fn write(dir: &Path, result: &FindResult) -> Result<()> {
    let mut csv = format!("{CSV_HEADER}\n");
    for s in &result.steps {
        csv += &format!("{},{},{},{}\n", s.step, s.rate, s.loss, s.smoothed);
    }
    write_atomic(&dir.join(names::FIND_CSV), csv.as_bytes())?;
    write_json(&dir.join(names::FIND_JSON), result)
}

/// Reads a range test back from `dir` (`find.json` for its settings, `find.csv` for the exact
/// steps), recomputing the suggestions, so a report reproduces the run's summary exactly.
pub fn read(dir: &Path) -> Result<FindResult> {
    let json = dir.join(names::FIND_JSON);
    let text = super::fs::read_text(&json, super::fs::limit::RECORD)?;
    let saved: FindResult = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a range test ({e})", json.display()))?;
    let csv = dir.join(names::FIND_CSV);
    let text = super::fs::read_text(&csv, super::fs::limit::RECORD)?;
    let mut lines = text.lines();
    if lines.next() != Some(CSV_HEADER) {
        return Err(anyhow!(
            "{} line 1: expected the header '{CSV_HEADER}'",
            csv.display()
        ));
    }
    let steps = lines
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || {
                anyhow!(
                    "{} line {}: expected {CSV_HEADER} numbers",
                    csv.display(),
                    i + 2
                )
            };
            if f.len() != 4 {
                return Err(bad());
            }
            Ok(FindStep {
                step: f[0].parse().map_err(|_| bad())?,
                rate: f[1].parse().map_err(|_| bad())?,
                loss: f[2].parse().map_err(|_| bad())?,
                smoothed: f[3].parse().map_err(|_| bad())?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FindResult::new(
        saved.config,
        saved.seed,
        saved.diverged,
        steps,
    ))
}
