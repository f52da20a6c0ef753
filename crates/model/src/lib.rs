//! The reference network of the learning-rate experiment: a seeded Keras-style MLP, the Keras 2
//! cross-entropy (or the exact one), Adam, AdamW, SGD or RMSprop as Keras or PyTorch define them,
//! trained by one of two
//! engines — Burn's tensors on any backend, or lrsweep's own CPU engine — several rates at once.
//!
//! Nothing here chooses a backend: every function takes the [`burn::tensor::Device`] to run on.
//!
//! # Glossary
//! - **network**: the layers a member trains ([`ModelConfig`]): the hidden layers' widths
//!   ([`Widths`]), their activation ([`Activation`]), dropout after each, and how the weights
//!   start ([`Init`]); the reference is one hidden layer of 784 ReLU units, no dropout,
//!   Normal(0, 0.05).
//! - **member**: one learning rate in training, with its weights and optimizer state
//!   ([`Member`] when it joins a stack).
//! - **optimizer**: how a member turns gradients into steps ([`Optimizer`], as listed:
//!   `sgd:0.9`); **convention**: whose definition it follows ([`Convention`]: Keras, the
//!   reference's, or PyTorch), with that framework's defaults ([`Defaults`]); resolved per
//!   member as an [`OptimizerConfig`], one step of it a [`Step`].
//! - **stack**: the members trained together on the same batches in the same order, their
//!   parameters side by side, so that one pass of the engine serves all of them
//!   ([`TensorStack`], [`HostStack`]). A member's numbers never depend on the others'.
//! - **engine**: the code that computes a stack's steps ([`Engine`]): the tensor engine
//!   (`tensor/`, Burn) or the CPU engine (`host/`, lrsweep's kernels).
//! - **compute choice**: which engine, and how ([`Compute`]); the CPU engine's **layout**
//!   ([`CpuLayout`]) is the user's [`CpuPath`] decided by the data's density.
//! - **state**: a member's weights, moments and step count on the host ([`TrainerState`]),
//!   the one format both engines save and continue from.
//! - **stop**: why a member leaves its stack ([`Stop`]), decided by the run's [`StopRule`].
//! - **schedule**: how a member's rate changes over its run ([`Schedule`]): the rate of each
//!   step is a pure function of the listed rate, the step's place ([`Clock`]) and, for
//!   `plateau`, the member's earlier validation losses; **warm-up** ramps it up in front.
//! - **rung**: an epoch where `--prune` ranks the members still training and stops the worse
//!   ones (**pruned**, [`Pruned`]); [`Halving`] says where the rungs are and how many go on.
//!
//! # Layers
//! Each imports only from those above it:
//! 1. vocabulary: `record` (epoch records, scores, errors), `loss` (the loss forms), `optim`
//!    (the optimizers' specs, conventions, element maths and one update loop), `layers` (widths, activations,
//!    initialisations), `dropout` (its counter-based masks), `shape` (the network's sizes and
//!    seeded values), `schedule` (the rate of every step), `stop` (the stop rule), `prune`
//!    (successive halving over a round's records);
//! 2. contracts: `config` (a run's settings and the compute choice), `network` (the network a
//!    member hands out), `state` (a member's state, its initial state and checks);
//! 3. engines, siblings that never import each other: `tensor` and `host`;
//! 4. drivers: `engine` (the one seam both engines implement), `fit` (epochs, records, stops),
//!    `range` (the learning-rate range test).

mod config;
mod dropout;
mod engine;
mod fit;
mod host;
mod layers;
mod loss;
mod network;
mod optim;
mod prune;
mod range;
mod record;
mod schedule;
mod shape;
mod state;
mod stop;
mod tensor;

pub use config::{Compute, CpuLayout, CpuPath, TrainConfig, UpdateExec, SPARSE_MAX_DENSITY};
pub use engine::Engine;
pub use fit::{Fit, MemberView, StackFit};
pub use host::{HostData, HostStack, Isa};
pub use layers::{erf, Activation, Init, Widths, MAX_DEPTH};
pub use loss::{LossKind, HUBER_DELTA};
pub use network::Mlp;
pub use optim::{Convention, Defaults, Optimizer, OptimizerConfig, OPTIMIZER_FORMS};
pub use prune::{replay as replay_pruning, Contender, Halving, Replay};
pub use range::{range_test, RangeConfig};
pub use record::{EpochRecord, ErrorSums, Flow, Regression, Score, TrainError};
pub use schedule::{Clock, Schedule, PLATEAU_MIN_DELTA, SCHEDULE_FORMS};
pub use shape::{HostTensor, ModelConfig};
pub use state::{Member, TrainerState, PER_PARAMETER};
pub use stop::{
    patience_stop, Cause, Hopeless, Pruned, Stop, StopRule, CHANCE_SIGMAS, FALLING, LEARNED_SHARE,
    SETTLE_EPOCHS, WORSE_THAN_GUESSING,
};
pub use tensor::{Batch, DeviceData, TensorStack, Trainer};
