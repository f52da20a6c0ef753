//! The reference network of the learning-rate experiment on any Burn backend: a seeded
//! Keras-style MLP, the Keras 2 cross-entropy (or the exact one), Adam in the Keras or PyTorch
//! form, and an epoch runner that keeps the data on the device and reads back once per epoch.
//!
//! Nothing here chooses a backend: every function takes the [`burn::tensor::Device`] to run on.

pub mod adam;
pub mod config;
pub mod data;
pub mod fit;
pub mod host;
pub mod loss;
pub mod mlp;
pub mod range;
pub mod record;
pub mod stack;
pub mod state;
pub mod trainer;

pub use adam::{AdamConfig, AdamVariant, UpdateExec};
pub use config::{Kernels, TrainConfig};
pub use data::DeviceData;
pub use fit::{Fit, Member, MemberView, StackFit};
pub use host::{CpuPath, HostData, HostStack};
pub use loss::LossKind;
pub use mlp::{Mlp, ModelConfig};
pub use range::{range_test, RangeConfig};
pub use record::{EpochRecord, Flow, Score, TrainError};
pub use stack::{Joining, StackTrainer};
pub use state::TrainerState;
pub use trainer::Trainer;
