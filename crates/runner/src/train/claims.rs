//! The claims a process holds on the rates it trains (`claim.lock`, [`crate::store::claim`]),
//! and the refusal when another process holds one.

use std::path::Path;

use anyhow::Result;

use crate::store::claim::{self, Claim};

/// The members this process has claimed, by their directory's name (`lr-0.001`,
/// `lr-0.001-seed43`), each released when the set is dropped.
#[derive(Debug, Default)]
pub struct Claims {
    held: Vec<(String, Claim)>,
}

impl Claims {
    /// Adds a claim taken before on the member whose directory is `name` (a work task takes
    /// its rate's before loading the data).
    pub fn hold(&mut self, name: &str, claim: Claim) {
        self.held.push((name.to_string(), claim));
    }

    /// Claims the member whose directory in `out` is `name` (`label` in messages) unless it
    /// is held here already; refuses, naming the holder, when another process trains it.
    pub fn take(&mut self, out: &Path, name: &str, label: &str) -> Result<()> {
        if self.held.iter().any(|(n, _)| n == name) {
            return Ok(());
        }
        let dir = out.join(name);
        match claim::take(&dir)? {
            Some(c) => {
                self.held.push((name.to_string(), c));
                Ok(())
            }
            None => Err(anyhow::Error::new(HeldElsewhere::of(label, &dir))),
        }
    }

    /// Gives up the claim on the member `name`, handing it back (to report a task's failure
    /// under it).
    pub fn release(&mut self, name: &str) -> Option<Claim> {
        let at = self.held.iter().position(|(n, _)| n == name)?;
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
    /// The claim on the rate `label`, whose directory is `dir`, is another process's: who, as
    /// it reported.
    pub fn of(label: &str, dir: &Path) -> Self {
        Self {
            label: label.to_string(),
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
