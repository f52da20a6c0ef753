//! A member's full state on the host, so that a run can stop after any epoch and continue later
//! with the same results; the state a fresh member starts from; and what a member of a stack
//! brings with it.

use serde::{Deserialize, Serialize};

use crate::network::Mlp;
use crate::optim::OptimizerConfig;
use crate::record::{EpochRecord, TrainError};
use crate::schedule::Schedule;
use crate::shape::{HostTensor, ModelConfig};

/// Weights, Adam's moments and the step count, as host values. Both engines save and read
/// this one format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Adam steps taken.
    pub step: u64,
    /// The tensors in the order w1, m, v, b1, m, v, w2, m, v, b2, m, v, … (each layer's weight
    /// then its bias, each with its two moments): shape and values.
    pub tensors: Vec<HostTensor>,
}

/// Tensors a [`TrainerState`] holds per parameter: the parameter and its two moments.
pub const PER_PARAMETER: usize = 3;

/// A member joining a stack: its learning rate, its seed, its schedule, and, when it continues, its state
/// and the records of the epochs that state is after (`None`: fresh weights from its seed).
#[derive(Debug, Clone)]
pub struct Member<'a> {
    /// The learning rate.
    pub rate: f64,
    /// The seed of its initial weights and its training order (`None`: the run's seed, whose
    /// order is the training part's own). Members with other seeds see the same images in
    /// another seeded order, so their spread measures how much a rate's result owes to luck.
    pub seed: Option<u64>,
    /// How its rate changes over the run (the reference: constant).
    pub schedule: Schedule,
    /// Its optimizer (`None`: the run's, [`crate::TrainConfig::optimizer`]).
    pub optimizer: Option<OptimizerConfig>,
    /// The state after the epochs of the records, when continuing.
    pub resume: Option<(&'a TrainerState, Vec<EpochRecord>)>,
}

impl Member<'_> {
    /// A member starting from the run's seed.
    pub fn fresh(rate: f64) -> Self {
        Self {
            rate,
            seed: None,
            schedule: Schedule::Constant,
            optimizer: None,
            resume: None,
        }
    }

    /// The same member trained by `optimizer`.
    pub fn optimized(self, optimizer: OptimizerConfig) -> Self {
        Self {
            optimizer: Some(optimizer),
            ..self
        }
    }

    /// Its optimizer in a run whose own is `run`.
    pub fn optimizer_in(&self, run: &OptimizerConfig) -> OptimizerConfig {
        self.optimizer.unwrap_or(*run)
    }

    /// The same member under `schedule`.
    pub fn scheduled(self, schedule: Schedule) -> Self {
        Self { schedule, ..self }
    }

    /// The same member under `seed` (its weights and order).
    pub fn seeded(self, seed: u64) -> Self {
        Self {
            seed: Some(seed),
            ..self
        }
    }

    /// The state it continues from, if any.
    pub fn state(&self) -> Option<&TrainerState> {
        self.resume.as_ref().map(|(s, _)| *s)
    }

    /// Its seed in a run seeded `run_seed`.
    pub fn seed_in(&self, run_seed: u64) -> u64 {
        self.seed.unwrap_or(run_seed)
    }
}

/// The states the members of a stack start from: each one's saved state, or its seed's initial
/// state, made once per seed.
pub(crate) struct Starts {
    run_seed: u64,
    fresh: Vec<(u64, TrainerState)>,
}

impl Starts {
    /// The initial states `members` of `model` need in a run seeded `run_seed`.
    pub(crate) fn new(members: &[Member], model: &ModelConfig, run_seed: u64) -> Self {
        let mut fresh: Vec<(u64, TrainerState)> = Vec::new();
        for m in members.iter().filter(|m| m.state().is_none()) {
            let seed = m.seed_in(run_seed);
            if !fresh.iter().any(|(k, _)| *k == seed) {
                fresh.push((seed, TrainerState::initial(model, seed)));
            }
        }
        Self { run_seed, fresh }
    }

    /// The state `member` starts from.
    pub(crate) fn of<'a>(&'a self, member: &'a Member) -> &'a TrainerState {
        member.state().unwrap_or_else(|| {
            let seed = member.seed_in(self.run_seed);
            let (_, s) = self
                .fresh
                .iter()
                .find(|(k, _)| *k == seed)
                .expect("made for every fresh member's seed");
            s
        })
    }
}

impl TrainerState {
    /// The state of a network before its first step: `parameters` (each layer's weight then
    /// its bias), zero moments.
    pub fn before_training(parameters: Vec<HostTensor>) -> Self {
        let mut tensors = Vec::with_capacity(PER_PARAMETER * parameters.len());
        for (shape, values) in parameters {
            let zeros = vec![0.0; values.len()];
            tensors.push((shape.clone(), values));
            tensors.push((shape.clone(), zeros.clone()));
            tensors.push((shape, zeros));
        }
        Self { step: 0, tensors }
    }

    /// The state a fresh member of `model` starts from: the weights of `seed`, zero moments.
    pub fn initial(model: &ModelConfig, seed: u64) -> Self {
        let shapes = model.parameter_shapes();
        let values = model.initial_values(seed);
        Self::before_training(shapes.into_iter().zip(values).collect())
    }

    /// The state before the first step of `network` (read back from its device).
    pub fn of_network(network: &Mlp) -> Result<Self, TrainError> {
        Ok(Self::before_training(network.read_parameters()?))
    }

    /// The widths of the layers this state holds, checked to chain (each layer's input the
    /// previous one's output): `model` with its inputs, hidden widths and classes taken from
    /// the state (its activation, dropout and initialisation kept).
    pub fn shape(&self, model: &ModelConfig) -> Result<ModelConfig, TrainError> {
        let bad = || {
            TrainError::BadState(format!(
                "{} tensors that are not the layers of an MLP",
                self.tensors.len()
            ))
        };
        if self.tensors.is_empty() || !self.tensors.len().is_multiple_of(2 * PER_PARAMETER) {
            return Err(bad());
        }
        let weights: Vec<&Vec<usize>> = self
            .tensors
            .iter()
            .step_by(2 * PER_PARAMETER)
            .map(|(s, _)| s)
            .collect();
        if weights.len() < 2 || weights.iter().any(|s| s.len() != 2) {
            return Err(bad());
        }
        if weights.windows(2).any(|w| w[0][1] != w[1][0]) {
            return Err(bad());
        }
        let hidden: Vec<usize> = weights[..weights.len() - 1].iter().map(|s| s[1]).collect();
        Ok(ModelConfig {
            inputs: weights[0][0],
            hidden: crate::layers::Widths::new(&hidden).map_err(TrainError::BadState)?,
            classes: weights[weights.len() - 1][1],
            ..*model
        })
    }

    /// Refuses a state that does not fit `model`: another tensor count, shape or value count.
    pub fn check(&self, model: &ModelConfig) -> Result<(), TrainError> {
        let shapes = model.parameter_shapes();
        if self.tensors.len() != PER_PARAMETER * shapes.len() {
            return Err(TrainError::BadState(format!(
                "{} tensors, expected {} (a network of {} layers)",
                self.tensors.len(),
                PER_PARAMETER * shapes.len(),
                model.depth()
            )));
        }
        for (i, (shape, values)) in self.tensors.iter().enumerate() {
            let want = &shapes[i / PER_PARAMETER];
            if shape != want || values.len() != want.iter().product::<usize>() {
                return Err(TrainError::BadState(format!(
                    "a tensor of shape {shape:?} with {} values where {want:?} was expected",
                    values.len()
                )));
            }
        }
        Ok(())
    }

    /// Parameter `i` (0 w1, 1 b1, 2 w2, 3 b2, …) with its moments, as slices.
    pub(crate) fn slot(&self, i: usize) -> crate::optim::Slot<&[f32]> {
        let at = |j: usize| self.tensors[PER_PARAMETER * i + j].1.as_slice();
        crate::optim::Slot {
            param: at(0),
            m: at(1),
            v: at(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn a_fresh_state_is_the_seeded_network_with_zero_moments() {
        let model = ModelConfig {
            hidden: crate::layers::Widths::new(&[16, 12, 8]).unwrap(),
            ..ModelConfig::default()
        };
        let state = TrainerState::initial(&model, 7);
        state.check(&model).unwrap();
        assert_eq!(state.tensors.len(), 4 * 2 * PER_PARAMETER);
        assert_eq!(state.shape(&ModelConfig::default()).unwrap(), model);
        let read = TrainerState::of_network(&model.init(7, &Device::flex())).unwrap();
        assert_eq!(state, read, "host values = the network read back");
        assert!(state.tensors[1].1.iter().all(|&m| m == 0.0));
        let other = ModelConfig {
            hidden: crate::layers::Widths::new(&[16, 12]).unwrap(),
            ..model
        };
        assert!(matches!(state.check(&other), Err(TrainError::BadState(_))));
    }
}
