//! The round layer: training a round of a run's arms, shared by `sweep` (every round of a run)
//! and `work --index` (one arm of it). A round's members train together, as one stack (one
//! after another with `--serial`; spread over the devices with `--devices`); each member is
//! claimed first, kept if a resume finds it finished, continued from its checkpoint if one
//! fits, and after every epoch persisted; its chart is drawn once it stops.
//!
//! Layers, imports pointing one way: `claims`, `survey` and `persist` (a member's files) →
//! `stacks` (a segment on the devices) → `round` (the algorithm). Below them: `store`,
//! `analysis`, `render`, `backend`, the `interrupt` service and the model crate.

mod claims;
mod persist;
mod round;
mod stacks;
mod survey;

pub use claims::HeldElsewhere;
pub use round::{Trained, Training};
