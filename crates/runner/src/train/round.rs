//! A round of a run, as its algorithm reads: survey what the members' files hold, decide the
//! segment to train (with `--prune`, up to the next rung, the members ranked out there closed),
//! train it, and close the round (charts, what diverged). Shared by `sweep` (every round of a
//! run) and `work --index` (one arm of it).

use std::path::Path;

use anyhow::Result;
use lrsweep_data::Split;
use lrsweep_model::{Contender, EpochRecord, Pruned};

use super::claims::Claims;
use super::stacks;
use super::survey::{self, Member, Previous};
use crate::analysis::status::Worker;
use crate::backend::Selected;
use crate::config::{Arm, Unit};
use crate::interrupt;
use crate::render::progress::Progress;
use crate::results::{self, LiveReport};
use crate::store::claim;
use crate::store::layout::RunLayout;
use crate::store::metrics;
use crate::store::run::RunRecord;
use crate::track::mlflow::Tracker;

/// An arm and the records of the epochs it has trained under the run's seed.
pub type Trained = (Arm, Vec<EpochRecord>);

/// What a round trains next: the members ranked out at a rung now (to close), and the members
/// to train until `until` (the next rung) or to their end.
struct Segment {
    pruned: Vec<(usize, Pruned)>,
    train: Vec<usize>,
    until: Option<usize>,
}

/// What the rounds of one run train on and where they write: the run directory, the data,
/// the devices a round is spread over (the first one, but with `--devices`), progress, and the
/// claims this process holds.
pub struct Training<'a> {
    out: &'a Path,
    split: &'a Split,
    devices: &'a [Selected],
    progress: &'a Progress,
    /// Whether the directory holds a run to continue (`--resume`, a work task): finished
    /// members are kept and checkpoints continued.
    resuming: bool,
    claims: Claims,
    /// The live report, rewritten after every epoch of a stack (a sweep's).
    live: Option<&'a LiveReport>,
    /// The MLflow tracker each epoch is handed to (a sweep's, with `--mlflow`).
    tracker: Option<&'a Tracker>,
}

impl<'a> Training<'a> {
    /// Rounds of the run in `out` on `split`, spread over `devices`.
    pub fn new(
        out: &'a Path,
        split: &'a Split,
        devices: &'a [Selected],
        progress: &'a Progress,
        resuming: bool,
    ) -> Self {
        Self {
            out,
            split,
            devices,
            progress,
            resuming,
            claims: Claims::default(),
            live: None,
            tracker: None,
        }
    }

    /// Hands every epoch to `tracker`, when there is one.
    pub fn with_tracker(mut self, tracker: Option<&'a Tracker>) -> Self {
        self.tracker = tracker;
        self
    }

    /// Rewrites `live` after every epoch of a stack.
    pub fn with_live_report(mut self, live: &'a LiveReport) -> Self {
        self.live = Some(live);
        self
    }

    /// The claims this process holds (one taken before, by a work task, among them).
    pub fn claims(&mut self) -> &mut Claims {
        &mut self.claims
    }

    /// Trains a round of `record`'s arms (each one listed in `record.rates_trained`) and
    /// draws their charts; returns their records in the round's order. Stops with
    /// [`interrupt::stopped`] when a signal cut a member short.
    pub fn round(&mut self, record: &RunRecord, arms: &[Arm]) -> Result<Vec<Trained>> {
        let layout = RunLayout::new(self.out, &record.config);
        let units = record.config.units(arms);
        self.claim(record, &layout, &units)?;
        let mut members = self.survey(record, &layout, &units)?;
        let bar = self.bar(record, &layout, arms)?;
        loop {
            let segment = decide(record, &members, &bar);
            self.close_pruned(record, &layout, &mut members, &segment.pruned)?;
            if segment.train.is_empty() {
                break;
            }
            // A member finished before the run was extended (`--epochs`) trains again: it is
            // no longer done.
            for &i in &segment.train {
                let dir = layout.member(members[i].unit).path();
                if claim::done(&dir).is_some() {
                    claim::undo_done(&dir)?;
                }
            }
            let context = stacks::Context {
                record,
                layout: &layout,
                split: self.split,
                devices: self.devices,
                progress: self.progress,
                live: self.live,
                tracker: self.tracker,
                round: match arms.iter().all(|&a| record.config.is_listed(a)) {
                    true => 1,
                    false => 2,
                },
            };
            stacks::train(&context, arms, &mut members, &segment.train, segment.until)?;
            if interrupt::requested() && members.iter().any(|m| !m.finished) {
                self.progress.finish();
                return Err(interrupt::stopped(self.out));
            }
            if segment.until.is_none() {
                break;
            }
        }
        self.close(record, &layout, arms, members)
    }

    /// Claims every member of the round (refused, naming the holder, when another process
    /// trains one).
    fn claim(&mut self, record: &RunRecord, layout: &RunLayout, units: &[Unit]) -> Result<()> {
        for &unit in units {
            let files = layout.member(unit);
            self.claims
                .take(self.out, files.name(), &unit.label(record.config.seed))?;
        }
        Ok(())
    }

    /// What the members' files hold: a finished member is kept (and marked done if it was
    /// not), an unfinished one continues from its checkpoint; a fresh run's start fresh.
    fn survey(
        &self,
        record: &RunRecord,
        layout: &RunLayout,
        units: &[Unit],
    ) -> Result<Vec<Member>> {
        let mut members = Vec::with_capacity(units.len());
        for &unit in units {
            let files = layout.member(unit);
            let previous = match self.resuming {
                true => survey::find(record, unit, &files, self.progress),
                false => Previous::Nothing,
            };
            members.push(match previous {
                Previous::Finished(records) => {
                    self.progress.println(&format!(
                        "learning rate {}: finished before, kept as it is",
                        unit.label(record.config.seed)
                    ));
                    if claim::done(&files.path()).is_none() {
                        claim::mark_done(&files.path(), records.len(), &self.worker())?;
                    }
                    Member {
                        unit,
                        records,
                        resume: None,
                        finished: true,
                    }
                }
                Previous::Checkpoint(c) => Member {
                    unit,
                    records: c.records.clone(),
                    resume: Some(c),
                    finished: false,
                },
                Previous::Nothing => Member {
                    unit,
                    records: Vec::new(),
                    resume: None,
                    finished: false,
                },
            });
        }
        Ok(members)
    }

    /// With `--prune`, a refined round's bar: the listed rates' records (finished before this
    /// round), read once; none otherwise.
    fn bar(&self, record: &RunRecord, layout: &RunLayout, arms: &[Arm]) -> Result<Vec<Trained>> {
        let config = &record.config;
        if config.prune.is_none() || arms.iter().all(|&a| config.is_listed(a)) {
            return Ok(Vec::new());
        }
        config
            .listed_arms()
            .into_iter()
            .map(|arm| Ok((arm, metrics::read_metrics(&layout.arm(arm).metrics())?)))
            .collect()
    }

    /// Closes the members ranked out at a rung: said once, marked done (their model files were
    /// written when they left the stack there), finished.
    fn close_pruned(
        &self,
        record: &RunRecord,
        layout: &RunLayout,
        members: &mut [Member],
        pruned: &[(usize, Pruned)],
    ) -> Result<()> {
        for &(i, p) in pruned {
            let m = &mut members[i];
            let dir = layout.member(m.unit).path();
            if claim::done(&dir).is_none() {
                self.progress.println(&format!(
                    "learning rate {}: {}",
                    m.unit.label(record.config.seed),
                    p.describe()
                ));
                claim::mark_done(&dir, m.records.len(), &self.worker())?;
            }
            m.finished = true;
        }
        Ok(())
    }

    /// Draws each arm's chart (with its seeds' band) and says which diverged; the arms'
    /// records under the run's seed, in the round's order.
    fn close(
        &self,
        record: &RunRecord,
        layout: &RunLayout,
        arms: &[Arm],
        members: Vec<Member>,
    ) -> Result<Vec<Trained>> {
        let config = &record.config;
        let mut trained = Vec::with_capacity(arms.len());
        let mut members = members.into_iter();
        for &arm in arms {
            let mut base = Vec::new();
            let mut others = Vec::new();
            for m in members.by_ref().take(config.seeds().len()) {
                if let Some(bad) = m.records.iter().find(|r| r.diverged()) {
                    self.progress.println(&format!(
                        "learning rate {} diverged at epoch {} (loss NaN or infinite); going on with the other rates",
                        m.unit.label(config.seed),
                        bad.epoch
                    ));
                }
                match m.unit.seed == config.seed {
                    true => base = m.records,
                    false => others.push((m.unit.seed, m.records)),
                }
            }
            results::rate_chart(layout, record, arm, &base, &others)?;
            trained.push((arm, base));
        }
        Ok(trained)
    }

    /// Who trains here (the first device's worker).
    fn worker(&self) -> Worker {
        claim::worker_here(&self.devices[0].adapter)
    }
}

/// The segment a round trains next, decided from its members' records (and, for a refined
/// round, its bar's): without `--prune`, every unfinished member to its end; with it, the
/// run's pruning replayed ([`lrsweep_model::replay_pruning`]), the members ranked out now, and
/// the others trained to the next rung (those there already wait).
fn decide(record: &RunRecord, members: &[Member], bar: &[Trained]) -> Segment {
    let config = &record.config;
    let open = || (0..members.len()).filter(|&i| !members[i].finished);
    let Some(halving) = &config.prune else {
        return Segment {
            pruned: Vec::new(),
            train: open().collect(),
            until: None,
        };
    };
    let groups = config.groups();
    let group = |arm: Arm| groups.iter().position(|g| *g == arm.group).unwrap_or(0);
    let mut contenders: Vec<Contender> = members
        .iter()
        .map(|m| Contender {
            rate: m.unit.arm.rate,
            listed: config.is_listed(m.unit.arm),
            group: group(m.unit.arm),
            records: &m.records,
        })
        .collect();
    contenders.extend(bar.iter().map(|(arm, records)| Contender {
        rate: arm.rate,
        listed: true,
        group: group(*arm),
        records,
    }));
    let replay =
        lrsweep_model::replay_pruning(halving, &record.stop_rule(), config.epochs, &contenders);
    let pruned: Vec<(usize, Pruned)> = open()
        .filter_map(|i| replay.pruned[i].map(|p| (i, p)))
        .collect();
    let next = open()
        .filter(|i| replay.pruned[*i].is_none())
        .map(|i| replay.next[i])
        .min()
        .unwrap_or(config.epochs);
    let train = open()
        .filter(|i| replay.pruned[*i].is_none() && members[*i].records.len() < next)
        .collect();
    Segment {
        pruned,
        train,
        until: (next < config.epochs).then_some(next),
    }
}
