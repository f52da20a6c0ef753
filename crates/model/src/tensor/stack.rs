//! The stack itself: its members' parameters side by side, their rates, plans and steps;
//! made from the members' states, and each member's state and network read back.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{Compute, TrainConfig, UpdateExec};
use crate::network::{read_tensor, Mlp};
use crate::optim::{OptimizerConfig, Slot};
use crate::record::TrainError;
use crate::shape::ModelConfig;
use crate::state::{Member, Starts, TrainerState, PER_PARAMETER};

/// K members in training on tensors, stacked: each layer's weight `[K, fan_in, fan_out]` and
/// bias `[K, 1, fan_out]`, each with its optimizer's state; per member a learning rate, an
/// optimizer, a step count and a seed (its dropout masks').
#[derive(Debug, Clone)]
pub struct TensorStack {
    /// Each layer's weight then its bias, stacked; always `Some` between calls; taken during a
    /// step so the update owns its tensors.
    pub(super) params: Option<Vec<Slot<Tensor<3>>>>,
    pub(super) rates: Vec<f64>,
    /// Each member's optimizer.
    pub(super) optimizers: Vec<OptimizerConfig>,
    /// Each member's seed: its dropout masks' stream.
    pub(super) seeds: Vec<u64>,
    /// Per member, the rate of each step of the epoch in training (its schedule's); empty: its
    /// rate.
    pub(super) plans: Vec<Vec<f64>>,
    /// Steps taken in the epoch in training: where in the plans the next step is.
    pub(super) batch: usize,
    pub(super) steps: Vec<u64>,
    pub(super) config: TrainConfig,
    pub(super) update: UpdateExec,
    pub(super) model: ModelConfig,
}

/// Parameter `i` (w1, b1, w2, b2, …) of one member as a stacked slice `[1, rows, cols]`
/// (biases as one row).
fn slice_shape(m: &ModelConfig, i: usize) -> [usize; 3] {
    let (fan_in, fan_out) = m.layers()[i / 2];
    match i % 2 {
        0 => [1, fan_in, fan_out],
        _ => [1, 1, fan_out],
    }
}

impl TensorStack {
    /// A stack of `members` on `device`, fresh ones from `config.seed`; saved states must fit
    /// `model`. `config.learning_rate` is ignored (each member has its own); Adam's update runs
    /// where `config.compute` says (on the device unless it asks for a fused host update).
    pub fn new(
        model: &ModelConfig,
        config: TrainConfig,
        members: &[Member],
        device: &Device,
    ) -> Result<Self, TrainError> {
        if members.is_empty() {
            return Err(TrainError::NoMembers);
        }
        for m in members {
            config.check(m.rate)?;
        }
        // Per tensor (w1, m, v, b1, …): every member's slice.
        let tensors = PER_PARAMETER * model.parameter_shapes().len();
        let mut parts: Vec<Vec<Tensor<3>>> = (0..tensors)
            .map(|_| Vec::with_capacity(members.len()))
            .collect();
        let starts = Starts::new(members, model, config.seed);
        for state in members.iter().map(|m| starts.of(m)) {
            state.check(model)?;
            for (i, (part, (_, values))) in parts.iter_mut().zip(&state.tensors).enumerate() {
                part.push(Tensor::from_data(
                    TensorData::new(values.clone(), slice_shape(model, i / PER_PARAMETER)),
                    device,
                ));
            }
        }
        let mut stacked = parts.into_iter().map(|p| Tensor::cat(p, 0));
        let params = (0..tensors / PER_PARAMETER)
            .map(|_| Slot {
                param: stacked.next().expect("a parameter"),
                m: stacked.next().expect("its first moment"),
                v: stacked.next().expect("its second moment"),
            })
            .collect();
        Ok(Self {
            params: Some(params),
            rates: members.iter().map(|m| m.rate).collect(),
            optimizers: members
                .iter()
                .map(|m| m.optimizer_in(&config.optimizer))
                .collect(),
            seeds: members.iter().map(|m| m.seed_in(config.seed)).collect(),
            plans: vec![Vec::new(); members.len()],
            batch: 0,
            steps: members
                .iter()
                .map(|m| m.state().map_or(0, |s| s.step))
                .collect(),
            update: match config.compute {
                Compute::Tensor(update) => update,
                Compute::Cpu(_) => UpdateExec::FusedOnHost,
            },
            config,
            model: *model,
        })
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the stack has no member left.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// The device the stack trains on.
    pub fn device(&self) -> Device {
        self.params()[0].param.device()
    }

    /// Adam steps taken by each member.
    pub fn steps(&self) -> &[u64] {
        &self.steps
    }

    /// Changes member `i`'s learning rate for the following steps (a range test's schedule).
    pub fn set_rate(&mut self, i: usize, rate: f64) -> Result<(), TrainError> {
        self.config.check(rate)?;
        self.rates[i] = rate;
        Ok(())
    }

    /// Member `i`'s learning rate at each step of the next epoch ([`crate::Engine::plan_epoch`]).
    pub fn plan_epoch(&mut self, i: usize, rates: Vec<f64>) {
        self.plans[i] = rates;
    }

    /// Member `i`'s rate at step `b` of the epoch: its plan's (the last past its end), else its
    /// rate.
    pub(super) fn rate_of_step(&self, i: usize, b: usize) -> f64 {
        let plan = &self.plans[i];
        plan.get(b)
            .or(plan.last())
            .copied()
            .unwrap_or(self.rates[i])
    }

    pub(super) fn params(&self) -> &[Slot<Tensor<3>>] {
        self.params
            .as_ref()
            .expect("parameters are only taken during a step")
    }

    /// Member `i`'s state on the host, in the format both engines save (a device sync).
    pub fn state(&self, i: usize) -> Result<TrainerState, TrainError> {
        let shapes = self.model.parameter_shapes();
        let mut tensors = Vec::with_capacity(PER_PARAMETER * shapes.len());
        for (slot, shape) in self.params().iter().zip(&shapes) {
            for t in slot.parts() {
                let (_, values) = read_tensor(&t.clone().narrow(0, i, 1))?;
                tensors.push((shape.clone(), values));
            }
        }
        Ok(TrainerState {
            step: self.steps[i],
            tensors,
        })
    }

    /// Member `i`'s network with its current weights, on the stack's device.
    pub fn network(&self, i: usize) -> Mlp {
        use burn::module::Param;
        let params = self.params();
        let take = |t: &Tensor<3>, shape: [usize; 2]| t.clone().narrow(0, i, 1).reshape(shape);
        let mut layers: Vec<burn::nn::Linear> = self
            .model
            .layers()
            .into_iter()
            .enumerate()
            .map(|(l, (fan_in, fan_out))| burn::nn::Linear {
                weight: Param::from_tensor(take(&params[2 * l].param, [fan_in, fan_out])),
                bias: Some(Param::from_tensor(
                    take(&params[2 * l + 1].param, [1, fan_out]).reshape([fan_out]),
                )),
            })
            .collect();
        let output = layers.pop().expect("an output layer");
        let mut hidden = layers.into_iter();
        Mlp {
            hidden: hidden.next().expect("a hidden layer"),
            deeper: hidden.collect(),
            output,
            activation: self.model.activation,
        }
    }

    /// Keeps only the members at positions `keep` (in that order): the others leave the stack.
    pub fn retain(&mut self, keep: &[usize]) {
        if keep.len() == self.len() && keep.iter().enumerate().all(|(i, &k)| i == k) {
            return;
        }
        let params = self
            .params
            .take()
            .expect("parameters are only taken during a step");
        let device = params[0].param.device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(
                keep.iter().map(|&k| k as i32).collect::<Vec<_>>(),
                [keep.len()],
            ),
            &device,
        );
        self.params = Some(
            params
                .into_iter()
                .map(|s| s.map(|t| t.select(0, idx.clone())))
                .collect(),
        );
        self.rates = keep.iter().map(|&k| self.rates[k]).collect();
        self.optimizers = keep.iter().map(|&k| self.optimizers[k]).collect();
        self.seeds = keep.iter().map(|&k| self.seeds[k]).collect();
        self.plans = keep.iter().map(|&k| self.plans[k].clone()).collect();
        self.steps = keep.iter().map(|&k| self.steps[k]).collect();
    }
}
