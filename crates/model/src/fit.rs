//! Whole training runs: epochs over prepared data, a record per epoch, resumable; one rate
//! ([`Fit`]) or several trained together ([`StackFit`]), on whichever engine the configuration
//! names. After every epoch the run's [`StopRule`] decides, member by member, who leaves.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::Device;
use lrsweep_data::Part;

use crate::config::{Compute, TrainConfig};
use crate::engine::Engine;
use crate::host::HostStack;
use crate::network::Mlp;
use crate::record::{EpochRecord, Flow, TrainError};
use crate::schedule::Clock;
use crate::shape::ModelConfig;
use crate::state::{Member, TrainerState};
use crate::stop::{Stop, StopRule};
use crate::tensor::TensorStack;

/// One member of a stack as an epoch's callback sees it, right after the epoch.
pub struct MemberView<'t> {
    steps: u64,
    is_last: bool,
    stop: Option<Stop>,
    paused: bool,
    state: &'t dyn Fn() -> Result<TrainerState, TrainError>,
    network: &'t dyn Fn() -> Mlp,
}

impl MemberView<'_> {
    /// The member's full state on the host (a device sync).
    pub fn state(&self) -> Result<TrainerState, TrainError> {
        (self.state)()
    }

    /// The member's network with its current weights.
    pub fn network(&self) -> Mlp {
        (self.network)()
    }

    /// Adam steps the member has taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Whether this is the last member to report this epoch.
    pub fn is_last(&self) -> bool {
        self.is_last
    }

    /// Why the member stops after this epoch, if the run's rule says it does (it then leaves
    /// the stack whatever the callback answers).
    pub fn stop(&self) -> Option<Stop> {
        self.stop
    }

    /// Whether the member leaves the stack after this epoch: it stopped, or it reached the
    /// epoch the stack trains until ([`StackFit::until`]) and waits there, not finished.
    pub fn leaves(&self) -> bool {
        self.stop.is_some() || self.paused
    }
}

/// Several rates trained together over the same batches in the same order; each member leaves
/// the stack when the stop rule says so or its callback says stop, and the others go on.
pub struct StackFit<'a> {
    model: &'a ModelConfig,
    config: &'a TrainConfig,
    train: &'a Part,
    valid: &'a Part,
    device: &'a Device,
    members: Vec<Member<'a>>,
    interrupt: Option<&'a AtomicBool>,
    until: Option<usize>,
}

impl<'a> StackFit<'a> {
    /// Trains `members` (fresh ones from `config.seed`) on `train`, scoring each on `valid`
    /// after every epoch; `config.learning_rate` is ignored.
    pub fn new(
        model: &'a ModelConfig,
        config: &'a TrainConfig,
        train: &'a Part,
        valid: &'a Part,
        device: &'a Device,
        members: Vec<Member<'a>>,
    ) -> Self {
        Self {
            model,
            config,
            train,
            valid,
            device,
            members,
            interrupt: None,
            until: None,
        }
    }

    /// Trains the members only until `epoch`: a member that reaches it leaves the stack there,
    /// not stopped (a pruned round's segment, from one rung to the next), and one already
    /// there does not train.
    pub fn until(mut self, epoch: usize) -> Self {
        self.until = Some(epoch);
        self
    }

    /// Gives up the epoch in progress (after its current batch) once `flag` is set; the records
    /// returned are then those of the finished epochs.
    pub fn interrupt(mut self, flag: &'a AtomicBool) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Trains; `on_epoch(member, record, view)` sees each member's record as soon as it exists.
    /// Returns every member's records, in the order of the members given. Members at different
    /// epochs train together unless the order is reshuffled per epoch: then those that start
    /// at the same epoch form a stack, one stack after another. A member the rule has stopped
    /// already (a finished rate resumed) does not train.
    pub fn run(
        self,
        mut on_epoch: impl FnMut(usize, &EpochRecord, &MemberView) -> Flow,
    ) -> Result<Vec<Vec<EpochRecord>>, TrainError> {
        if self.train.is_empty() || self.valid.is_empty() {
            return Err(TrainError::NoData(format!(
                "training needs images in both parts (train {}, validation {})",
                self.train.len(),
                self.valid.len()
            )));
        }
        let steps = self.train.len().div_ceil(self.config.batch_size.max(1));
        for m in &self.members {
            m.schedule
                .check(self.config.epochs, steps, self.config.warmup)
                .map_err(TrainError::Schedule)?;
        }
        let rule = self.config.stop_rule(crate::stop::Hopeless::of(
            self.model.classes,
            self.valid,
            self.config.loss,
        ));
        let mut records: Vec<Vec<EpochRecord>> = self
            .members
            .iter()
            .map(|m| m.resume.as_ref().map_or_else(Vec::new, |(_, r)| r.clone()))
            .collect();
        let before_until = |n: usize| self.until.is_none_or(|u| n < u);
        let waiting: Vec<usize> = (0..self.members.len())
            .filter(|&i| rule.check(&records[i]).is_none() && before_until(records[i].len()))
            .collect();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for i in waiting {
            let first = records[i].len();
            match groups
                .iter_mut()
                .find(|g| !self.config.reshuffle || records[g[0]].len() == first)
            {
                Some(g) => g.push(i),
                None => groups.push(vec![i]),
            }
        }
        for group in groups {
            if !self.run_group(group, rule, &mut records, &mut on_epoch)? {
                break;
            }
        }
        Ok(records)
    }

    /// Trains one group as a stack on the engine the configuration names; false when
    /// interrupted.
    fn run_group(
        &self,
        ids: Vec<usize>,
        rule: StopRule,
        records: &mut [Vec<EpochRecord>],
        on_epoch: &mut impl FnMut(usize, &EpochRecord, &MemberView) -> Flow,
    ) -> Result<bool, TrainError> {
        let (config, device) = (self.config, self.device);
        let members: Vec<Member> = ids.iter().map(|&i| self.members[i].clone()).collect();
        match config.compute {
            Compute::Tensor(_) => {
                let stack = TensorStack::new(self.model, *config, &members, device)?;
                self.train_stack(stack, ids, rule, records, on_epoch)
            }
            Compute::Cpu(path) => {
                let layout = path.layout_for(self.train);
                let stack = HostStack::new(self.model, *config, &members, layout, device)?;
                self.train_stack(stack, ids, rule, records, on_epoch)
            }
        }
    }

    // One epoch loop with its bookkeeping (order, timing, records, who leaves): kept whole so
    // that the order of events in an epoch reads top to bottom.
    /// Trains `stack` (the members `ids`) until every member has left it; false when interrupted.
    fn train_stack<E: Engine>(
        &self,
        mut stack: E,
        mut ids: Vec<usize>,
        rule: StopRule,
        records: &mut [Vec<EpochRecord>],
        on_epoch: &mut impl FnMut(usize, &EpochRecord, &MemberView) -> Flow,
    ) -> Result<bool, TrainError> {
        let (config, train) = (self.config, self.train);
        let steps = train.len().div_ceil(config.batch_size.max(1));
        // A member's order: its seed's permutation of the training part (the part's own order
        // for the run's seed), fixed across epochs unless reshuffled every epoch.
        let order = |seed: u64, epoch: usize| {
            if config.reshuffle && epoch > 1 {
                Some(seed.wrapping_add(epoch as u64))
            } else {
                (seed != config.seed).then_some(seed)
            }
            .map(|s| lrsweep_data::seeded_permutation(train.len(), s))
        };
        let seed_of = |id: usize| self.members[id].seed_in(config.seed);
        let never = AtomicBool::new(false);
        let interrupt = self.interrupt.unwrap_or(&never);
        // With reshuffling every member of the group is at the same epoch.
        let first = records[ids[0]].len() + 1;
        let prepare = |stack: &E, seeds: &[u64], epoch: usize| -> Vec<E::Data> {
            seeds
                .iter()
                .map(|&s| stack.prepare(train, config.batch_size, order(s, epoch).as_deref()))
                .collect()
        };
        // The distinct seeds of the members still training, and which one each member has.
        let seeds_of = |ids: &[usize]| -> (Vec<u64>, Vec<usize>) {
            let mut seeds: Vec<u64> = Vec::new();
            let assign = ids
                .iter()
                .map(|&id| {
                    let s = seed_of(id);
                    seeds.iter().position(|&k| k == s).unwrap_or_else(|| {
                        seeds.push(s);
                        seeds.len() - 1
                    })
                })
                .collect();
            (seeds, assign)
        };
        let (mut seeds, mut assign) = seeds_of(&ids);
        let mut train_data = prepare(&stack, &seeds, first);
        let valid_data = stack.prepare(self.valid, config.batch_size, None);
        for round in 0.. {
            if ids.is_empty() {
                break;
            }
            let start = Instant::now();
            if round > 0 && config.reshuffle {
                train_data = prepare(&stack, &seeds, first + round);
            }
            // Each member's rates for this epoch, from its schedule and its records so far.
            let mut last_rates = Vec::with_capacity(ids.len());
            for (slot, &id) in ids.iter().enumerate() {
                let member = &self.members[id];
                let clock = Clock {
                    epoch: records[id].len() + 1,
                    steps,
                    epochs: config.epochs,
                    warmup: config.warmup,
                };
                let plan = member.schedule.rates(member.rate, clock, &records[id]);
                last_rates.push(plan.last().copied().unwrap_or(member.rate));
                stack.plan_epoch(slot, plan);
            }
            let data: Vec<&E::Data> = train_data.iter().collect();
            let Some(scores) = stack.train_epoch_each(&data, &assign, interrupt)? else {
                return Ok(false);
            };
            let valid = stack.evaluate(&valid_data)?;
            let seconds = start.elapsed().as_secs_f64();
            let mut keep = Vec::with_capacity(ids.len());
            let count = ids.len();
            for (slot, &id) in ids.iter().enumerate() {
                let record = EpochRecord {
                    epoch: records[id].len() + 1,
                    train_loss: scores[slot].loss,
                    train_acc: scores[slot].accuracy,
                    val_loss: valid[slot].loss,
                    val_acc: valid[slot].accuracy,
                    seconds,
                    lr: last_rates[slot],
                    val_loss_se: valid[slot].loss_se,
                    val_rmse: valid[slot].rmse,
                    val_mae: valid[slot].mae,
                };
                records[id].push(record);
                let stop = rule.check(&records[id]);
                let view = MemberView {
                    steps: stack.steps(slot),
                    is_last: slot + 1 == count,
                    stop,
                    paused: self.until == Some(record.epoch),
                    state: &|| stack.state(slot),
                    network: &|| stack.network(slot),
                };
                let flow = on_epoch(id, &record, &view);
                if flow == Flow::Continue && !view.leaves() {
                    keep.push(slot);
                }
            }
            ids = keep.iter().map(|&s| ids[s]).collect();
            stack.retain(&keep);
            let (left, left_assign) = seeds_of(&ids);
            if left != seeds {
                // A seed no member trains under any more: its data goes.
                let mut old: Vec<Option<E::Data>> = std::mem::take(&mut train_data)
                    .into_iter()
                    .map(Some)
                    .collect();
                train_data = left
                    .iter()
                    .filter_map(|s| seeds.iter().position(|k| k == s))
                    .filter_map(|i| old[i].take())
                    .collect();
                seeds = left;
            }
            assign = left_assign;
        }
        Ok(true)
    }
}

/// One training run to carry out: what to train, on which data and device, and optionally from
/// where to continue and what may interrupt it. Build it with [`Fit::new`], then [`Fit::run`].
pub struct Fit<'a> {
    inner: StackFit<'a>,
}

impl<'a> Fit<'a> {
    /// A fresh run of `config` on `model` from `config.seed`, trained on `train`, scored on
    /// `valid` after every epoch.
    pub fn new(
        model: &'a ModelConfig,
        config: &'a TrainConfig,
        train: &'a Part,
        valid: &'a Part,
        device: &'a Device,
    ) -> Self {
        let member = Member::fresh(config.learning_rate);
        Self {
            inner: StackFit::new(model, config, train, valid, device, vec![member]),
        }
    }

    /// Continues from a saved state and the records of the epochs it covers.
    pub fn resume(mut self, state: &'a TrainerState, records: Vec<EpochRecord>) -> Self {
        self.inner.members[0].resume = Some((state, records));
        self
    }

    /// Gives up the epoch in progress (after its current batch) once `flag` is set; the records
    /// returned are then those of the finished epochs.
    pub fn interrupt(self, flag: &'a AtomicBool) -> Self {
        Self {
            inner: self.inner.interrupt(flag),
        }
    }

    /// Trains; `on_epoch` sees each record (and the model) as soon as it exists. The run ends
    /// when the stop rule says (all epochs, a NaN or infinite loss, patience) or `on_epoch`
    /// says stop.
    pub fn run(
        self,
        mut on_epoch: impl FnMut(&EpochRecord, &MemberView) -> Flow,
    ) -> Result<Vec<EpochRecord>, TrainError> {
        let mut all = self.inner.run(|_, r, v| on_epoch(r, v))?;
        Ok(all.pop().unwrap_or_default())
    }
}
