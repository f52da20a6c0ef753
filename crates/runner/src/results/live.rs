//! The live report: while a sweep trains, `report.html` is rewritten (atomically) after every
//! epoch of a stack, at most once a second, with every planned member's curves so far, a banner
//! saying where the sweep stands and a refresh; the final report (or, when the sweep stops
//! short, the report of what it trained) replaces it. Writing it never stops training: a
//! failure is said once.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::render::live::{self, LiveMember};
use crate::render::text;
use crate::store::claim;
use crate::store::fs::write_atomic;
use crate::store::layout::{names, RunLayout};
use crate::store::metrics::read_metrics;
use crate::store::run::RunRecord;

/// Where the sweep stands after an epoch of a stack.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    /// 1: the listed rates; 2: the refined ones.
    pub round: usize,
    /// The stack's epoch just finished.
    pub epoch: usize,
    /// About how many seconds the sweep has left.
    pub left: f64,
}

/// The live `report.html` of one sweep.
pub struct LiveReport {
    /// When it was last written (none yet: never).
    last: Mutex<Option<Instant>>,
    /// Whether a write failed (said once).
    failed: AtomicBool,
}

/// The shortest time between two writes.
const EVERY: Duration = Duration::from_secs(1);

impl LiveReport {
    pub fn new() -> Self {
        Self {
            last: Mutex::new(None),
            failed: AtomicBool::new(false),
        }
    }

    /// Whether a live page has been written (so that a final one must replace it).
    pub fn written(&self) -> bool {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    /// After an epoch of a stack of the run `record` in `out`: rewrites the page unless it was
    /// written less than a second ago; a failure is returned once (to be said), then ignored.
    pub fn update(&self, out: &Path, record: &RunRecord, at: Standing) -> Option<String> {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < EVERY) {
            return None;
        }
        let banner = format!(
            "running: round {}, epoch {} of {}, {} left (updated {} UTC)",
            at.round,
            at.epoch,
            record.config.epochs,
            text::about(at.left),
            chrono::Utc::now().format("%H:%M:%S")
        );
        match write(out, record, &banner, true) {
            Ok(()) => {
                *last = Some(Instant::now());
                None
            }
            Err(e) if !self.failed.swap(true, Ordering::Relaxed) => Some(format!(
                "warning: the live report could not be written ({e:#}); training goes on"
            )),
            Err(_) => None,
        }
    }
}

/// Writes `report.html` of the run `record` in `out` as a page of its members' curves so far
/// under `banner`, reloading itself when `refresh`.
pub fn write(out: &Path, record: &RunRecord, banner: &str, refresh: bool) -> Result<()> {
    let config = &record.config;
    let layout = RunLayout::new(out, config);
    let mut members = Vec::new();
    for unit in config.units(&record.rates_trained) {
        let files = layout.member(unit);
        let path = files.metrics();
        let records = match path.is_file() {
            true => read_metrics(&path).unwrap_or_default(),
            false => Vec::new(),
        };
        let state = match (claim::done(&files.path()), records.len()) {
            (Some(_), n) => format!("finished after {n} epochs"),
            (None, 0) => "waiting".to_string(),
            (None, n) => format!("epoch {n} of {}", config.epochs),
        };
        members.push(LiveMember {
            label: unit.label(config.seed),
            state,
            records,
        });
    }
    let header = text::run_header(config, &record.backend, &record.adapter, &[]);
    let page = live::page(&header, banner, config.epochs, &members, refresh);
    write_atomic(&layout.file(names::REPORT), page.as_bytes())
}
