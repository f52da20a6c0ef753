//! Whole training runs: epochs over device-resident data, a record per epoch, resumable; one
//! rate ([`Fit`]) or several trained together ([`StackFit`]).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::Device;
use lrsweep_data::Part;

use crate::config::{Kernels, TrainConfig};
use crate::data::DeviceData;
use crate::host::{self, HostData, HostStack};
use crate::mlp::{Mlp, ModelConfig};
use crate::record::{EpochRecord, Flow, Score, TrainError};
use crate::stack::{Joining, StackTrainer};
use crate::state::TrainerState;

/// A member of a [`StackFit`]: its rate, and the state and records to continue from.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The learning rate.
    pub rate: f64,
    /// The state after the epochs of `records`, when continuing.
    pub resume: Option<(&'a TrainerState, Vec<EpochRecord>)>,
}

/// What trains a stack: Burn's tensor operations ([`StackTrainer`]) or the CPU engine
/// ([`HostStack`]), each with its own form of the data.
trait Engine {
    type Data;
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> Self::Data;
    fn len(&self) -> usize;
    fn step_count(&self, i: usize) -> u64;
    fn state_of(&self, i: usize) -> Result<TrainerState, TrainError>;
    fn model_of(&self, i: usize) -> Mlp;
    fn epoch(
        &mut self,
        data: &Self::Data,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Score>>, TrainError>;
    fn score(&self, data: &Self::Data) -> Result<Vec<Score>, TrainError>;
    fn keep(&mut self, keep: &[usize]);
}

impl Engine for StackTrainer {
    type Data = DeviceData;
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> DeviceData {
        DeviceData::upload(part, batch, order, &self.device())
    }
    fn len(&self) -> usize {
        StackTrainer::len(self)
    }
    fn step_count(&self, i: usize) -> u64 {
        self.steps()[i]
    }
    fn state_of(&self, i: usize) -> Result<TrainerState, TrainError> {
        self.state(i)
    }
    fn model_of(&self, i: usize) -> Mlp {
        self.model(i)
    }
    fn epoch(
        &mut self,
        data: &DeviceData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        self.train_epoch_unless(data, interrupt)
    }
    fn score(&self, data: &DeviceData) -> Result<Vec<Score>, TrainError> {
        self.evaluate(data)
    }
    fn keep(&mut self, keep: &[usize]) {
        self.retain(keep)
    }
}

impl Engine for HostStack {
    type Data = HostData;
    fn prepare(&self, part: &Part, batch: usize, order: Option<&[usize]>) -> HostData {
        HostData::new(part, batch, order, self.path())
    }
    fn len(&self) -> usize {
        HostStack::len(self)
    }
    fn step_count(&self, i: usize) -> u64 {
        self.steps()[i]
    }
    fn state_of(&self, i: usize) -> Result<TrainerState, TrainError> {
        Ok(self.state(i))
    }
    fn model_of(&self, i: usize) -> Mlp {
        self.model(i)
    }
    fn epoch(
        &mut self,
        data: &HostData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        self.train_epoch_unless(data, interrupt)
    }
    fn score(&self, data: &HostData) -> Result<Vec<Score>, TrainError> {
        self.evaluate(data)
    }
    fn keep(&mut self, keep: &[usize]) {
        self.retain(keep)
    }
}

/// One member of a stack as an epoch's callback sees it.
pub struct MemberView<'t> {
    stack: &'t dyn Members,
    slot: usize,
}

/// The members of a stack as [`MemberView`] reads them, whatever the engine.
trait Members {
    fn count(&self) -> usize;
    fn steps_of(&self, i: usize) -> u64;
    fn state_at(&self, i: usize) -> Result<TrainerState, TrainError>;
    fn model_at(&self, i: usize) -> Mlp;
}

impl<E: Engine> Members for E {
    fn count(&self) -> usize {
        self.len()
    }
    fn steps_of(&self, i: usize) -> u64 {
        self.step_count(i)
    }
    fn state_at(&self, i: usize) -> Result<TrainerState, TrainError> {
        self.state_of(i)
    }
    fn model_at(&self, i: usize) -> Mlp {
        self.model_of(i)
    }
}

impl MemberView<'_> {
    /// The member's full state on the host (a device sync).
    pub fn state(&self) -> Result<TrainerState, TrainError> {
        self.stack.state_at(self.slot)
    }

    /// The member's network with its current weights.
    pub fn model(&self) -> Mlp {
        self.stack.model_at(self.slot)
    }

    /// Adam steps the member has taken.
    pub fn steps(&self) -> u64 {
        self.stack.steps_of(self.slot)
    }

    /// Whether this is the last member to report this epoch.
    pub fn is_last(&self) -> bool {
        self.slot + 1 == self.stack.count()
    }
}

/// Several rates trained together over the same batches in the same order; each member leaves
/// the stack when it finishes, diverges or its callback says stop, and the others go on.
pub struct StackFit<'a> {
    model: &'a ModelConfig,
    config: &'a TrainConfig,
    train: &'a Part,
    valid: &'a Part,
    device: &'a Device,
    members: Vec<Member<'a>>,
    interrupt: Option<&'a AtomicBool>,
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
        }
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
    /// at the same epoch form a stack, one stack after another.
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
        let mut records: Vec<Vec<EpochRecord>> = self
            .members
            .iter()
            .map(|m| m.resume.as_ref().map_or_else(Vec::new, |(_, r)| r.clone()))
            .collect();
        let waiting: Vec<usize> = (0..self.members.len())
            .filter(|&i| records[i].len() < self.config.epochs)
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
            if !self.run_group(group, &mut records, &mut on_epoch)? {
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
        records: &mut [Vec<EpochRecord>],
        on_epoch: &mut impl FnMut(usize, &EpochRecord, &MemberView) -> Flow,
    ) -> Result<bool, TrainError> {
        let (config, device) = (self.config, self.device);
        let joining: Vec<Joining> = ids
            .iter()
            .map(|&i| Joining {
                rate: self.members[i].rate,
                state: self.members[i].resume.as_ref().map(|(s, _)| *s),
            })
            .collect();
        match config.kernels {
            Kernels::Tensor => {
                let stack = StackTrainer::new(self.model, *config, &joining, device)?;
                self.train_stack(stack, ids, records, on_epoch)
            }
            Kernels::Cpu(path) => {
                let path = host::path_for(path, self.train);
                let stack = HostStack::new(self.model, *config, &joining, path, device)?;
                self.train_stack(stack, ids, records, on_epoch)
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
        records: &mut [Vec<EpochRecord>],
        on_epoch: &mut impl FnMut(usize, &EpochRecord, &MemberView) -> Flow,
    ) -> Result<bool, TrainError> {
        let (config, train) = (self.config, self.train);
        let order = |epoch: usize| {
            (config.reshuffle && epoch > 1).then(|| {
                lrsweep_data::split::seeded_permutation(
                    train.len(),
                    config.seed.wrapping_add(epoch as u64),
                )
            })
        };
        // With reshuffling every member of the group is at the same epoch.
        let first = records[ids[0]].len() + 1;
        let mut train_data = stack.prepare(train, config.batch_size, order(first).as_deref());
        let valid_data = stack.prepare(self.valid, config.batch_size, None);
        for round in 0.. {
            if ids.is_empty() {
                break;
            }
            let start = Instant::now();
            if round > 0 {
                if let Some(order) = order(first + round) {
                    train_data = stack.prepare(train, config.batch_size, Some(&order));
                }
            }
            let Some(scores) = stack.epoch(&train_data, self.interrupt)? else {
                return Ok(false);
            };
            let valid = stack.score(&valid_data)?;
            let seconds = start.elapsed().as_secs_f64();
            let mut keep = Vec::with_capacity(ids.len());
            for (slot, &id) in ids.iter().enumerate() {
                let record = EpochRecord {
                    epoch: records[id].len() + 1,
                    train_loss: scores[slot].loss,
                    train_acc: scores[slot].accuracy,
                    val_loss: valid[slot].loss,
                    val_acc: valid[slot].accuracy,
                    seconds,
                };
                records[id].push(record);
                let view = MemberView {
                    stack: &stack,
                    slot,
                };
                let flow = on_epoch(id, &record, &view);
                if flow == Flow::Continue && !record.diverged() && record.epoch < config.epochs {
                    keep.push(slot);
                }
            }
            ids = keep.iter().map(|&s| ids[s]).collect();
            stack.keep(&keep);
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
        let member = Member {
            rate: config.learning_rate,
            resume: None,
        };
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

    /// Trains; `on_epoch` sees each record (and the model) as soon as it exists. A diverged
    /// epoch (NaN or infinite loss) ends the run: it is the last record.
    pub fn run(
        self,
        mut on_epoch: impl FnMut(&EpochRecord, &MemberView) -> Flow,
    ) -> Result<Vec<EpochRecord>, TrainError> {
        let mut all = self.inner.run(|_, r, v| on_epoch(r, v))?;
        Ok(all.pop().unwrap_or_default())
    }
}
