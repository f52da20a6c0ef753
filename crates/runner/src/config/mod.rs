//! A run's settings: what defines it ([`SweepConfig`], saved as `config.json`), how this
//! machine runs it ([`Execution`], [`DataLocation`]), the one check of both ([`Invalid`]), and
//! the names of what it trains ([`Group`], [`Arm`], [`Unit`]).
//!
//! Layers, imports pointing one way: `group` (names) → `data` → `settings` → `validate`.

mod data;
mod group;
mod settings;
mod validate;

pub use data::{DataConfig, DataLocation};
pub use group::{rate_label, Arm, Group, Network, ScaleLr, Unit, REFERENCE_BATCH};
pub use settings::{BenchConfig, Execution, HiddenLayers, OptimizerRates, Setting, SweepConfig};
pub use validate::{rate_ok, MAX_RATE, MAX_REFINE, MAX_SEEDS, MIN_RATE};
