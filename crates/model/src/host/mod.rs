//! The CPU engine: lrsweep's own code for the network's step, written out as a few fused passes
//! over host memory, with products that skip the input's zeros when the images are mostly zeros.
//!
//! It trains the same network with the same loss and Adam as the tensor engine
//! ([`crate::TensorStack`]) and saves the same [`TrainerState`]; the two agree to rounding (the
//! order of a product's sums differs), which `tests/host_engine.rs` bounds on real data.
//!
//! Layers, imports pointing down: `simd` (instruction sets and primitives) and `layout` (sparse
//! formats, panels, blocked matrices) → the kernels `sparse`, `dense`, `rows`, `loss` → `step`
//! (one member's pass) → this module (the stack) and `data` (a part laid out for a layout).
//! Every output element is computed by one thread in a fixed order, so results do not depend on
//! the number of threads; each member is computed alone, so a member's numbers never depend on
//! another's.

mod data;
mod dense;
mod layout;
mod loss;
mod rows;
mod simd;
mod sparse;
mod step;

/// Runs `work` on a thread of rayon's pool: the passes' parallel loops then split there (a
/// loop too small to split runs inline) instead of each handing its work from this thread to
/// the pool and sleeping until it is done, a thread hand-over per loop, a dozen per step.
fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

#[cfg(test)]
mod tests;

pub use data::HostData;
pub use simd::Isa;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::Device;

use crate::config::{CpuLayout, TrainConfig};
use crate::network::Mlp;
use crate::optim::{OptimizerConfig, Slot};
use crate::record::{ErrorSums, Regression, Score, TrainError};
use crate::shape::ModelConfig;
use crate::state::{Member, Starts, TrainerState, PER_PARAMETER};
use layout::{from_blocked, to_blocked, transpose};
use loss::Sums;
use step::{Params, Scratch};

/// K members trained together on the CPU, one after another on each batch (each step itself
/// uses every core): the CPU counterpart of [`crate::TensorStack`].
#[derive(Debug, Clone)]
pub struct HostStack {
    members: Vec<Params>,
    config: TrainConfig,
    model: ModelConfig,
    layout: CpuLayout,
    isa: Isa,
    device: Device,
    scratch: Scratch,
}

/// Batches a stack lays out at once, each member then taking all of them before the next
/// member: its weights and optimizer state stay in the cache for their steps (a stack of many
/// members otherwise streams every member's state from memory at every step), while every
/// member still takes its steps in the epoch's order.
const BLOCK: usize = 8;

impl HostStack {
    /// A stack of `members` computing on `layout` with the fastest instruction set this
    /// processor has; fresh members start from `config.seed`'s weights, saved states must fit
    /// `model`. `device` is where [`HostStack::network`] puts a member's network.
    pub fn new(
        model: &ModelConfig,
        config: TrainConfig,
        members: &[Member],
        layout: CpuLayout,
        device: &Device,
    ) -> Result<Self, TrainError> {
        if members.is_empty() {
            return Err(TrainError::NoMembers);
        }
        if layout == CpuLayout::Sparse && model.inputs > crate::config::SPARSE_MAX_INPUTS {
            return Err(TrainError::TooManyInputs(model.inputs));
        }
        let mut params = Vec::with_capacity(members.len());
        let starts = Starts::new(members, model, config.seed);
        for m in members {
            config.check(m.rate)?;
            params.push(params_from(
                model,
                m.rate,
                m.optimizer_in(&config.optimizer),
                m.seed_in(config.seed),
                starts.of(m),
                layout,
            )?);
        }
        Ok(Self {
            members: params,
            config,
            model: *model,
            layout,
            isa: Isa::detect(),
            device: device.clone(),
            scratch: Scratch::new(model, config.batch_size.max(1), layout),
        })
    }

    /// The same stack computing with instruction set `isa` (the portable one, to compare).
    pub fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = isa;
        self
    }

    /// The instruction set the inner loops run on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// Sparse or dense.
    pub fn layout(&self) -> CpuLayout {
        self.layout
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no member is left.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adam steps taken by each member.
    pub fn steps(&self) -> Vec<u64> {
        self.members.iter().map(|m| m.step).collect()
    }

    /// Trains one epoch over `data` in its order.
    pub fn train_epoch(&mut self, data: &HostData) -> Result<Vec<Score>, TrainError> {
        let never = AtomicBool::new(false);
        Ok(self
            .train_epoch_unless(data, &never)?
            .expect("never interrupted"))
    }

    /// Like [`HostStack::train_epoch`], but checks `interrupt` before every block of batches ([`BLOCK`]) and gives up
    /// the epoch (returning `None`, the weights part-way through it) once it is set.
    pub fn train_epoch_unless(
        &mut self,
        data: &HostData,
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        let shared = vec![0; self.len()];
        self.train_epoch_each(&[data], &shared, interrupt)
    }

    /// Like [`HostStack::train_epoch_unless`] with each member on its own data,
    /// `data[assign[i]]` for member `i` (the same part in the members' orders).
    pub fn train_epoch_each(
        &mut self,
        data: &[&HostData],
        assign: &[usize],
        interrupt: &AtomicBool,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        if data.is_empty() {
            return Err(TrainError::NoData("no data to train on".into()));
        }
        for d in data {
            self.check_data(d)?;
        }
        let n = data.first().map_or(0, |d| d.len());
        let mut totals = vec![Totals::default(); self.len()];
        let Self {
            members,
            config,
            model,
            scratch,
            isa,
            ..
        } = self;
        let orders = data.len();
        let finished = on_pool(|| {
            let mut iters: Vec<_> = data.iter().map(|d| d.batches()).collect();
            let mut b = 0;
            loop {
                // The next block of batches (in each order), laid out once for every member.
                let mut block = Vec::with_capacity(BLOCK);
                while block.len() < BLOCK {
                    match iters
                        .iter_mut()
                        .map(Iterator::next)
                        .collect::<Option<Vec<_>>>()
                    {
                        Some(batches) => block.push(batches),
                        None => break,
                    }
                }
                if block.is_empty() {
                    return true;
                }
                if interrupt.load(Ordering::Relaxed) {
                    return false;
                }
                for (k, batches) in block.iter().enumerate() {
                    for (j, (x, _)) in batches.iter().enumerate() {
                        scratch.prepare(k * orders + j, x, model.inputs, true);
                    }
                }
                // Each member takes the block's batches in turn, its weights and state staying
                // in the cache for them; its steps are in the epoch's order, as alone.
                for ((member, total), &j) in members.iter_mut().zip(&mut totals).zip(assign) {
                    for (k, batches) in block.iter().enumerate() {
                        let (x, truth) = &batches[j];
                        let rate = member.rate_of_step(b + k);
                        let at = k * orders + j;
                        let sums =
                            step::step(*isa, member, rate, config, model, x, *truth, at, scratch);
                        total.add(sums);
                    }
                }
                b += block.len();
            }
        });
        let regression = data.first().and_then(|d| d.regression());
        Ok(finished.then(|| scores(&totals, n, regression)))
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &HostData) -> Result<Vec<Score>, TrainError> {
        self.check_data(data)?;
        let mut scratch = Scratch::new(
            &self.model,
            self.config.batch_size.max(1),
            CpuLayout::Sparse,
        );
        let mut totals = vec![Totals::default(); self.len()];
        on_pool(|| {
            for (x, truth) in data.batches() {
                scratch.prepare(0, &x, self.model.inputs, false);
                for (member, total) in self.members.iter().zip(&mut totals) {
                    let sums = step::score(
                        self.isa,
                        member,
                        self.config.loss,
                        &self.model,
                        &x,
                        truth,
                        &mut scratch,
                    );
                    total.add(sums);
                }
            }
        });
        Ok(scores(&totals, data.len(), data.regression()))
    }

    fn check_data(&self, data: &HostData) -> Result<(), TrainError> {
        if data.is_empty() {
            return Err(TrainError::NoData(
                "there are no images to train or evaluate on".into(),
            ));
        }
        if data.layout() != self.layout {
            return Err(TrainError::WrongLayout {
                data: data.layout().name(),
                stack: self.layout.name(),
            });
        }
        Ok(())
    }

    /// Member `i`'s state, in the format both engines save.
    pub fn state(&self, i: usize) -> TrainerState {
        let p = &self.members[i];
        let shapes = self.model.parameter_shapes();
        let mut tensors = Vec::with_capacity(PER_PARAMETER * shapes.len());
        for (shape, slot) in shapes.into_iter().zip(self.row_major(p)) {
            for values in slot.parts() {
                tensors.push((shape.clone(), values.clone()));
            }
        }
        TrainerState {
            step: p.step,
            tensors,
        }
    }

    /// Member `i`'s network with its current weights, on the stack's device.
    pub fn network(&self, i: usize) -> Mlp {
        let values = self
            .row_major(&self.members[i])
            .into_iter()
            .map(|slot| slot.param)
            .collect();
        Mlp::from_values(&self.model, values, &self.device)
    }

    /// A member's parameters with their moments as a [`TrainerState`] orders and lays them out:
    /// each layer's weight row-major `[fan_in, fan_out]` (W1 out of its blocks on the sparse
    /// layout, the output weights out of their transpose), then its bias.
    fn row_major(&self, p: &Params) -> Vec<Slot<Vec<f32>>> {
        let m = &self.model;
        let w1 = match self.layout {
            CpuLayout::Sparse => {
                p.w1.clone()
                    .map(|b| from_blocked(&b, m.inputs, m.hidden.first()))
            }
            CpuLayout::Dense => p.w1.clone(),
        };
        let out = p
            .out_t
            .clone()
            .map(|t| transpose(&t, m.classes, m.hidden.last()));
        let weights = std::iter::once(w1)
            .chain(p.middle.iter().cloned())
            .chain(std::iter::once(out));
        weights
            .zip(p.biases.iter().cloned())
            .flat_map(|(w, b)| [w, b])
            .collect()
    }

    /// Member `i`'s learning rate at each step of the next epoch ([`crate::Engine::plan_epoch`]).
    pub fn plan_epoch(&mut self, i: usize, rates: Vec<f64>) {
        self.members[i].plan = rates;
    }

    /// Keeps only the members at positions `keep` (in that order).
    pub fn retain(&mut self, keep: &[usize]) {
        let mut old: Vec<Option<Params>> = self.members.drain(..).map(Some).collect();
        self.members = keep.iter().filter_map(|&k| old[k].take()).collect();
    }
}

/// A pass's running sums per member: loss, squared loss (f64) and correct predictions.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    loss: f64,
    squares: f64,
    correct: u64,
    errors: ErrorSums,
}

impl Totals {
    fn add(&mut self, s: Sums) {
        self.loss += s.loss;
        self.squares += s.squares;
        self.correct += u64::from(s.correct);
        self.errors.squared += s.errors.squared;
        self.errors.squared_units += s.errors.squared_units;
        self.errors.absolute_units += s.errors.absolute_units;
    }
}

/// Each member's score of `n` items from its totals (a regression's against `regression`).
fn scores(totals: &[Totals], n: usize, regression: Option<Regression>) -> Vec<Score> {
    totals
        .iter()
        .map(|t| match regression {
            Some(r) => Score::of_regression(n, t.loss, t.squares, t.errors, r),
            None => Score::of(n, t.loss, t.squares, t.correct as f64),
        })
        .collect()
}

/// A member's parameters from a saved state; on the sparse layout W1 and its moments are put
/// in blocks, and the output weights are kept transposed on both.
fn params_from(
    model: &ModelConfig,
    rate: f64,
    optimizer: OptimizerConfig,
    seed: u64,
    state: &TrainerState,
    layout: CpuLayout,
) -> Result<Params, TrainError> {
    state.check(model)?;
    let owned = |i: usize| state.slot(i).map(<[f32]>::to_vec);
    let (hidden, depth) = (model.hidden.first(), model.depth());
    let w1 = match layout {
        CpuLayout::Sparse => state.slot(0).map(|values| {
            let mut blocked = Vec::new();
            to_blocked(values, model.inputs, hidden, &mut blocked);
            blocked
        }),
        CpuLayout::Dense => owned(0),
    };
    let last = 2 * (depth - 1);
    Ok(Params {
        rate,
        optimizer,
        plan: Vec::new(),
        step: state.step,
        seed,
        w1,
        middle: (1..depth - 1).map(|l| owned(2 * l)).collect(),
        out_t: state
            .slot(last)
            .map(|values| transpose(values, model.hidden.last(), model.classes)),
        biases: (0..depth).map(|l| owned(2 * l + 1)).collect(),
    })
}
