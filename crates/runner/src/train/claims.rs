//! The claims a process holds on the rates it trains (`claim.lock`, [`crate::store::claim`]),
//! and the refusal when another process holds one.

use std::path::Path;

use anyhow::Result;

use crate::config::rate_label;
use crate::store::claim::{self, Claim};

/// The rates this process has claimed, each released when the set is dropped.
#[derive(Debug, Default)]
pub struct Claims {
    held: Vec<(f64, Claim)>,
}

impl Claims {
    /// Adds a claim taken before (a work task takes its rate's before loading the data).
    pub fn hold(&mut self, rate: f64, claim: Claim) {
        self.held.push((rate, claim));
    }

    /// Claims `rate` (its directory in `out`) unless it is held here already; refuses, naming
    /// the holder, when another process trains it.
    pub fn take(&mut self, out: &Path, rate: f64) -> Result<()> {
        if self.held.iter().any(|(r, _)| *r == rate) {
            return Ok(());
        }
        let dir = out.join(format!("lr-{}", rate_label(rate)));
        match claim::take(&dir)? {
            Some(c) => {
                self.held.push((rate, c));
                Ok(())
            }
            None => Err(anyhow::Error::new(HeldElsewhere::of(rate, &dir))),
        }
    }

    /// Gives up the claim on `rate`, handing it back (to report a task's failure under it).
    pub fn release(&mut self, rate: f64) -> Option<Claim> {
        let at = self.held.iter().position(|(r, _)| *r == rate)?;
        Some(self.held.remove(at).1)
    }
}

/// Another process trains a rate this one was to train (its claim is held).
#[derive(Debug)]
pub struct HeldElsewhere {
    /// The rate.
    pub label: String,
    /// Who, as its `status.json` says.
    pub holder: Option<String>,
}

impl HeldElsewhere {
    /// The claim on `rate`, whose directory is `dir`, is another process's: who, as it reported.
    pub fn of(rate: f64, dir: &Path) -> Self {
        Self {
            label: rate_label(rate),
            holder: claim::status(dir).map(|s| s.worker.describe()),
        }
    }
}

impl std::fmt::Display for HeldElsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "learning rate {} is being trained by another process ({}); `lrsweep status` follows it",
            self.label,
            self.holder.as_deref().unwrap_or("it has not reported yet")
        )
    }
}

impl std::error::Error for HeldElsewhere {}
