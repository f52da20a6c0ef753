//! The tensor engine: several members trained together on Burn's tensors, on any backend. The
//! same data, the same batches in the same order; the members' parameters stacked along a
//! leading dimension so that every operation of a step (the matrix products as batched
//! products) serves all of them at once. On a GPU that is one set of kernel launches for K
//! rates instead of K sets.
//!
//! Members are independent: every operation works slice by slice along the leading dimension,
//! so a member's numbers never depend on another's (a diverging member's NaN stays in its slice),
//! and a member trained in a stack of one follows the same code as in a stack of many.
//!
//! Layers, imports pointing one way: `data`, `loss`, `update` → `stack` (the members' tensors)
//! → `step` (one step) → `epoch` (epochs and scoring) → `trainer` (a stack of one).

mod data;
mod epoch;
mod loss;
mod stack;
mod step;
mod trainer;
mod update;

pub use data::{Batch, DeviceData};
pub use stack::TensorStack;
pub use trainer::Trainer;
