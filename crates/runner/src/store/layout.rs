//! Every path of a run directory, named once: the run's own files ([`names`]) and each
//! member's directory and files ([`RunLayout::member`]).
//!
//! ```text
//! RUN/config.json  summary.json  summary.md  report.html  lrsweep.lock
//!     find.json  find.csv  find.png  find-<optimizer>.*  overview.png  overview-<group>.png  batch-sizes.png
//!     networks.png  optimizers.png
//!     lr-0.001.png (.svg)  slurm/
//!     lr-0.001/  metrics.csv  checkpoint.bin  best.bpk  best.json  model.bpk  model.json
//!                status.json  done.json  claim.lock
//! ```

use std::path::{Path, PathBuf};

use crate::config::{Arm, Network, SweepConfig, Unit};

/// The names of a run's files.
pub mod names {
    /// The run's record.
    pub const CONFIG: &str = "config.json";
    /// The summary, as data.
    pub const SUMMARY_JSON: &str = "summary.json";
    /// The summary, as Markdown.
    pub const SUMMARY_MD: &str = "summary.md";
    /// The self-contained page.
    pub const REPORT: &str = "report.html";
    /// The run's lock.
    pub const LOCK: &str = "lrsweep.lock";
    /// The stem of the range test's files (`find.json`: its result, `find.csv`: its curve,
    /// `find.png`: its chart); with several optimizers, each other optimizer's are
    /// `find-<optimizer>.*` ([`super::find_stem`]).
    pub const FIND: &str = "find";
    /// The chart of every batch size's best member.
    pub const BATCH_CHART: &str = "batch-sizes.png";
    /// The chart of every network's best member.
    pub const NETWORK_CHART: &str = "networks.png";
    /// The chart of every optimizer's best member.
    pub const OPTIMIZER_CHART: &str = "optimizers.png";
    /// The Slurm plan and scripts.
    pub const SLURM: &str = "slurm";
    /// A member's epochs.
    pub const METRICS: &str = "metrics.csv";
    /// A member's checkpoint.
    pub const CHECKPOINT: &str = "checkpoint.bin";
    /// The stem of a member's best weights (`best.bpk`, described by `best.json`).
    pub const BEST_MODEL: &str = "best";
    /// The stem of a member's final weights (`model.bpk`, described by `model.json`).
    pub const FINAL_MODEL: &str = "model";
    /// A member's claim, held by the process training it.
    pub const CLAIM: &str = "claim.lock";
    /// What a member's trainer last said.
    pub const STATUS: &str = "status.json";
    /// Written once a member has finished.
    pub const DONE: &str = "done.json";
}

/// The stem of `optimizer`'s range test in a run whose first optimizer is `first`: `find` for
/// the first's, `find-sgd-0.9` for another's.
pub fn find_stem(optimizer: &lrsweep_model::Optimizer, first: &lrsweep_model::Optimizer) -> String {
    match optimizer == first {
        true => names::FIND.to_string(),
        false => format!("{}-{}", names::FIND, optimizer.slug()),
    }
}

/// The paths of one run directory: its files, and its members' directories named after their
/// arm and seed ([`Unit::dir_name`]).
#[derive(Debug, Clone)]
pub struct RunLayout {
    root: PathBuf,
    run_seed: u64,
    first: Network,
}

impl RunLayout {
    /// The layout of the run of `config` in `root`.
    pub fn new(root: &Path, config: &SweepConfig) -> Self {
        Self {
            root: root.to_path_buf(),
            run_seed: config.seed,
            first: config.first_network(),
        }
    }

    /// The run directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The run's file `name` (one of [`names`]).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The files of member `unit`.
    pub fn member(&self, unit: Unit) -> MemberDir {
        MemberDir {
            root: self.root.clone(),
            name: unit.dir_name(self.run_seed, &self.first),
        }
    }

    /// The files of `arm` under the run's own seed.
    pub fn arm(&self, arm: Arm) -> MemberDir {
        self.member(Unit {
            arm,
            seed: self.run_seed,
        })
    }
}

/// One member's directory in a run, and its chart beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberDir {
    root: PathBuf,
    name: String,
}

impl MemberDir {
    /// The directory's name (`lr-0.001-cosine`), also its chart's stem.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory.
    pub fn path(&self) -> PathBuf {
        self.root.join(&self.name)
    }

    /// The member's file `name` (one of [`names`]).
    pub fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Its `metrics.csv`.
    pub fn metrics(&self) -> PathBuf {
        self.file(names::METRICS)
    }

    /// Its chart, `<name>.png` in the run directory (an `.svg` beside it).
    pub fn chart(&self) -> PathBuf {
        self.root.join(format!("{}.png", self.name))
    }
}
