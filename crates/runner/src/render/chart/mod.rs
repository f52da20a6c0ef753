//! Charts, drawn with the font embedded from `assets/`: one per rate (accuracy on the left axis,
//! loss on a twin right axis, legends under the plot), an overview of every rate, the range test
//! and the benchmark's bars. Every chart is drawn in memory and written through `store/fs.rs`.
//!
//! Layers, imports pointing one way: `draw` (primitives) → `epochs` (what charts against epoch
//! share) → the charts `rate`, `overview`, `range`, `bars`.

mod bars;
mod draw;
mod epochs;
mod overview;
mod range;
mod rate;

pub use bars::bench;
pub use epochs::Line;
pub(crate) use epochs::{loss_axis, tidy};
pub use overview::{best_members, overview};
pub use range::find;
pub use rate::rate_chart;
