//! The round layer: training a round of a run's rates, shared by `sweep` (every round of a run)
//! and `work --index` (one rate of it). A round's rates train together, as one stack (one
//! after another with `--serial`; spread over the devices with `--devices`); each rate is
//! claimed first, kept if a resume finds it finished, continued from its checkpoint if one
//! fits, and after every epoch persisted ([`persist`]); its chart is drawn once it stops.
//!
//! Layers below: `store` (files), `analysis` (states), `render` (progress, charts), `backend`,
//! the `interrupt` service and the model crate.

mod claims;
mod persist;
mod resume;

pub use claims::{Claims, HeldElsewhere};

use std::path::Path;

use anyhow::{Context, Result};
use lrsweep_data::Split;
use lrsweep_model::{EpochRecord, Member, StackFit};

use crate::analysis::status::{Activity, Worker};
use crate::backend::Selected;
use crate::config::Arm;
use crate::interrupt;
use crate::render::progress::Progress;
use crate::results;
use crate::store::checkpoint::Checkpoint;
use crate::store::claim;
use crate::store::run::RunRecord;
use persist::EpochSink;
use resume::Previous;

/// A rate (under its schedule) and the records of the epochs it has trained.
pub type Trained = (Arm, Vec<EpochRecord>);

/// One member of a round: a rate under its schedule and one of the run's seeds (`--seeds`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Unit {
    /// The rate and its schedule.
    pub arm: Arm,
    /// Its seed (weights and order).
    pub seed: u64,
}

/// A member of a round waiting to train: its place in the round, the member, and the
/// checkpoint it continues from.
type Pending = (usize, Unit, Option<Checkpoint>);

/// What the rounds of one run train on and where they write: the run directory, the data,
/// the devices a round is spread over (the first one, but with `--devices`), progress, and the
/// claims this process holds.
pub struct Training<'a> {
    out: &'a Path,
    split: &'a Split,
    devices: &'a [Selected],
    progress: &'a Progress,
    /// Whether the directory holds a run to continue (`--resume`, a work task): finished rates
    /// are kept and checkpoints continued.
    resuming: bool,
    claims: Claims,
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
        }
    }

    /// The claims this process holds (one taken before, by a work task, among them).
    pub fn claims(&mut self) -> &mut Claims {
        &mut self.claims
    }

    /// Trains a round of `record`'s rates (each one listed in `record.rates_trained`) and
    /// draws their charts; returns their records in the round's order. Stops with
    /// [`interrupt::stopped`] when a signal cut a rate short.
    pub fn round(&mut self, record: &RunRecord, arms: &[Arm]) -> Result<Vec<Trained>> {
        let config = &record.config;
        let units: Vec<Unit> = arms
            .iter()
            .flat_map(|&arm| {
                config
                    .seeds()
                    .into_iter()
                    .map(move |seed| Unit { arm, seed })
            })
            .collect();
        for u in &units {
            let name = config.member_dir(u.arm, u.seed);
            self.claims
                .take(self.out, &name, &config.member_label(u.arm, u.seed))?;
        }
        let mut results: Vec<Option<Vec<EpochRecord>>> = vec![None; units.len()];
        // With --prune the round trains in segments, rung to rung: each segment's start reads
        // every member's records (from its files, as a resume does), decides the rungs they
        // have reached, and trains the survivors to the next one.
        let guard_side = arms.iter().map(|a| a.rate).eq(config.rates.iter().copied());
        let references = match (&config.prune, guard_side) {
            (Some(_), false) => results::prune_references(self.out, record)?,
            _ => Vec::new(),
        };
        let references: Vec<(f64, &[EpochRecord])> =
            references.iter().map(|(r, e)| (*r, e.as_slice())).collect();
        let rule = record.stop_rule();
        let mut first = true;
        loop {
            let mut pending: Vec<Pending> = Vec::new();
            let mut known: Vec<Vec<EpochRecord>> = vec![Vec::new(); units.len()];
            for (i, &unit) in units.iter().enumerate() {
                let label = config.member_label(unit.arm, unit.seed);
                let dir = self.out.join(config.member_dir(unit.arm, unit.seed));
                let previous = match self.resuming || !first {
                    true => resume::find(record, unit, &dir, self.progress, first),
                    false => Previous::Nothing,
                };
                match previous {
                    Previous::Finished(records) => {
                        if first {
                            self.progress.println(&format!(
                                "learning rate {label}: finished before, kept as it is"
                            ));
                        }
                        if claim::done(&dir).is_none() {
                            claim::mark_done(&dir, records.len(), &self.worker(0))?;
                        }
                        known[i] = records.clone();
                        results[i] = Some(records);
                    }
                    Previous::Checkpoint(c) => {
                        known[i] = c.records.clone();
                        pending.push((i, unit, Some(c)));
                    }
                    Previous::Nothing => pending.push((i, unit, None)),
                }
            }
            let mut pause = None;
            if let Some(halving) = &config.prune {
                let members: Vec<(f64, &[EpochRecord])> = units
                    .iter()
                    .zip(&known)
                    .map(|(u, r)| (u.arm.rate, r.as_slice()))
                    .collect();
                let decisions = lrsweep_model::prune_decisions(
                    halving,
                    &rule,
                    config.epochs,
                    &members,
                    guard_side,
                    &references,
                );
                let mut kept = Vec::with_capacity(pending.len());
                for p in pending {
                    let i = p.0;
                    let Some(pruned) = decisions.pruned[i] else {
                        kept.push(p);
                        continue;
                    };
                    let unit = p.1;
                    let dir = self.out.join(config.member_dir(unit.arm, unit.seed));
                    if claim::done(&dir).is_none() {
                        self.progress.println(&format!(
                            "learning rate {}: {}",
                            config.member_label(unit.arm, unit.seed),
                            pruned.describe()
                        ));
                        claim::mark_done(&dir, known[i].len(), &self.worker(0))?;
                    }
                    results[i] = Some(known[i].clone());
                }
                pending = kept;
                if decisions.next < config.epochs {
                    let next = decisions.next;
                    pause = Some(next);
                    // Members already at the rung wait there for the others.
                    pending.retain(|(i, _, _)| known[*i].len() < next);
                }
            }
            if pending.is_empty() {
                break;
            }
            self.train_pending(record, arms, pending, &mut results, pause)?;
            let unfinished = results
                .iter()
                .any(|r| r.as_ref().is_none_or(|r| rule.check(r).is_none()));
            if interrupt::requested() && unfinished {
                self.progress.finish();
                return Err(interrupt::stopped(self.out));
            }
            if pause.is_none() {
                break;
            }
            first = false;
        }
        let mut trained = Vec::with_capacity(arms.len());
        let per_rate = config.seeds().len();
        let mut results = units.into_iter().zip(results);
        for &arm in arms {
            let mut base = Vec::new();
            let mut others = Vec::new();
            for (unit, records) in results.by_ref().take(per_rate) {
                let records = records.unwrap_or_default();
                if let Some(bad) = records.iter().find(|r| r.diverged()) {
                    self.progress.println(&format!(
                        "learning rate {} diverged at epoch {} (loss NaN or infinite); going on with the other rates",
                        config.member_label(arm, unit.seed),
                        bad.epoch
                    ));
                }
                if unit.seed == config.seed {
                    base = records;
                } else {
                    others.push((unit.seed, records));
                }
            }
            results::rate_chart(self.out, record, arm, &base, &others)?;
            trained.push((arm, base));
        }
        Ok(trained)
    }

    /// Spreads the `pending` rates of a round over the devices (rate k to device k mod n, each
    /// device's share trained by a thread of its own) and fills in their `results`.
    fn train_pending(
        &self,
        record: &RunRecord,
        arms: &[Arm],
        pending: Vec<Pending>,
        results: &mut [Option<Vec<EpochRecord>>],
        pause: Option<usize>,
    ) -> Result<()> {
        let config = &record.config;
        let labels: Vec<String> = pending
            .iter()
            .map(|(_, u, _)| config.member_label(u.arm, u.seed))
            .collect();
        let n = self.devices.len().min(pending.len()).max(1);
        // Members of one batch size next to each other, so that each device's share of a size
        // trains as one stack.
        let mut pending = pending;
        pending.sort_by_key(|p| {
            let size = config.batch_of(p.1.arm);
            config.sizes().iter().position(|&s| s == size)
        });
        let how = match (n, config.serial) {
            (1, _) => "together".to_string(),
            (n, false) => format!("over {n} devices, each device's share together"),
            (n, true) => format!("over {n} devices, one after another on each"),
        };
        // Rates are numbered by their place in the run (listed first, refined after).
        let first = arms.first().copied();
        let seeds = config.seeds().len();
        let before = seeds
            * record
                .rates_trained
                .iter()
                .position(|r| Some(*r) == first)
                .unwrap_or_default();
        let total = seeds
            * ((config.rates.len() + config.refine) * config.groups().len())
                .max(record.rates_trained.len());
        self.progress
            .start_round(&labels, &how, before, total, config.epochs);
        let mut groups: Vec<Vec<Pending>> = (0..n).map(|_| Vec::new()).collect();
        for (k, p) in pending.into_iter().enumerate() {
            groups[k % n].push(p);
        }
        // A device's share: a stack per batch size (sizes differ in their batches), or with
        // --serial one rate after another.
        let share = |group: &[Pending], d: usize| {
            let mut all = Vec::with_capacity(group.len());
            let size = |p: &Pending| config.batch_of(p.1.arm);
            let stacks: Vec<&[Pending]> = match config.serial {
                true => group.chunks(1).collect(),
                false => group.chunk_by(|a, b| size(a) == size(b)).collect(),
            };
            for stack in stacks {
                if interrupt::requested() {
                    break;
                }
                all.extend(self.train_stack(record, stack, d, pause)?);
            }
            Ok(all)
        };
        let trained: Vec<Result<Vec<Vec<EpochRecord>>>> = if n == 1 {
            vec![share(&groups[0], 0)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = groups
                    .iter()
                    .enumerate()
                    .map(|(d, group)| scope.spawn(move || share(group, d)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(anyhow::anyhow!("a device's worker thread panicked"))
                        })
                    })
                    .collect()
            })
        };
        for (group, result) in groups.iter().zip(trained) {
            for ((i, _, _), records) in group.iter().zip(result?) {
                results[*i] = Some(records);
            }
        }
        Ok(())
    }

    /// Who trains on device `d` of this run.
    fn worker(&self, d: usize) -> Worker {
        claim::worker_here(&self.devices[d.min(self.devices.len() - 1)].adapter)
    }

    /// Trains the `pending` rates (of one batch size) as one stack on device `d`; returns their
    /// records in order. Each rate's `status.json` says what happened to it.
    fn train_stack(
        &self,
        record: &RunRecord,
        pending: &[Pending],
        d: usize,
        pause: Option<usize>,
    ) -> Result<Vec<Vec<EpochRecord>>> {
        let selected = &self.devices[d];
        let worker = self.worker(d);
        let mut sinks = Vec::with_capacity(pending.len());
        for (_, unit, resume) in pending {
            let sink = EpochSink::open(
                record,
                self.out,
                *unit,
                resume.as_ref(),
                self.progress,
                worker.clone(),
                pause,
            )?;
            sinks.push(sink);
        }
        let labels: Vec<&str> = sinks.iter().map(|s| s.label.as_str()).collect();
        let what = format!("training learning rates {}", labels.join(", "));
        let config = &record.config;
        let model = record.model();
        let train = lrsweep_model::TrainConfig {
            batch_size: config.batch_of(pending[0].1.arm),
            ..config.train(pending[0].1.arm.rate, selected)
        };
        let members = pending
            .iter()
            .map(|(_, unit, resume)| Member {
                resume: resume.as_ref().map(|c| (&c.state, c.records.clone())),
                ..Member::fresh(config.effective_rate(unit.arm))
                    .seeded(unit.seed)
                    .scheduled(unit.arm.schedule)
            })
            .collect();
        let trained = StackFit::new(
            &model,
            &train,
            &self.split.train,
            &self.split.valid,
            &selected.device,
            members,
        )
        .interrupt(interrupt::flag())
        .run(|id, epoch, member| sinks[id].on_epoch(epoch, member))
        .context(what);
        let failure = match &trained {
            Err(_) => None,
            Ok(_) => sinks.iter_mut().find_map(|sink| {
                sink.error
                    .take()
                    .map(|e| e.context(format!("saving learning rate {}", sink.label)))
            }),
        };
        let result = match failure {
            Some(e) => Err(e),
            None => trained,
        };
        let (activity, reason) = match &result {
            Err(e) => (Some(Activity::Failed), Some(format!("{e:#}"))),
            Ok(_) if interrupt::requested() => (Some(Activity::Interrupted), None),
            Ok(_) => (None, None),
        };
        if let Some(activity) = activity {
            for sink in sinks.iter().filter(|s| !s.stopped()) {
                let _ = sink.report(activity, reason.clone());
            }
        }
        result
    }
}
