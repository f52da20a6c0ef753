//! The range test's files: `find.csv` (the exact steps) and `find.json` (settings, suggestions),
//! with several optimizers one pair per optimizer (`find-<optimizer>.*` beside the first's).

use std::path::Path;

use anyhow::{anyhow, Result};

use super::fs::{write_atomic, write_json};
use super::layout::find_stem;
use crate::analysis::range::{FindResult, FindStep};
use crate::config::SweepConfig;

const CSV_HEADER: &str = "step,rate,loss,smoothed";

/// Whether `dir` holds the range test of stem `stem`.
pub fn exists(dir: &Path, stem: &str) -> bool {
    dir.join(format!("{stem}.json")).exists()
}

/// The stems of the run `config`'s range tests, one per optimizer, in order.
pub fn stems(config: &SweepConfig) -> Vec<(lrsweep_model::Optimizer, String)> {
    let first = config.optimizers.first().copied().unwrap_or_default();
    config
        .optimizers
        .iter()
        .map(|o| (*o, find_stem(o, &first)))
        .collect()
}

/// The stem of `optimizer`'s range test in the run `config`.
pub fn stem_of(config: &SweepConfig, optimizer: &lrsweep_model::Optimizer) -> String {
    find_stem(
        optimizer,
        &config.optimizers.first().copied().unwrap_or_default(),
    )
}

/// The range tests of the run `config` that `dir` holds, in the optimizers' order.
pub fn read_all(dir: &Path, config: &SweepConfig) -> Result<Vec<FindResult>> {
    stems(config)
        .into_iter()
        .filter(|(_, stem)| exists(dir, stem))
        .map(|(o, stem)| Ok(read(dir, &stem)?.with_optimizer(o)))
        .collect()
}

/// Writes `<stem>.csv` and `<stem>.json` into `dir`.
pub fn write(dir: &Path, stem: &str, result: &FindResult) -> Result<()> {
    let mut csv = format!("{CSV_HEADER}\n");
    for s in &result.steps {
        csv += &format!("{},{},{},{}\n", s.step, s.rate, s.loss, s.smoothed);
    }
    write_atomic(&dir.join(format!("{stem}.csv")), csv.as_bytes())?;
    write_json(&dir.join(format!("{stem}.json")), result)
}

/// Reads a range test back from `dir` (`<stem>.json` for its settings, `<stem>.csv` for the
/// exact steps), recomputing the suggestions, so a report reproduces the run's summary exactly.
pub fn read(dir: &Path, stem: &str) -> Result<FindResult> {
    let json = dir.join(format!("{stem}.json"));
    let text = super::fs::read_text(&json, super::fs::limit::RECORD)?;
    let saved: FindResult = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a range test ({e})", json.display()))?;
    let csv = dir.join(format!("{stem}.csv"));
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
    Ok(
        FindResult::new(saved.config, saved.seed, saved.diverged, steps)
            .with_optimizer(saved.optimizer),
    )
}
