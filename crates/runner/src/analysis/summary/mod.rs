//! What the curves say, as data: one row per arm ([`RateSummary::of`], built in one place),
//! the run-wide figures, and the answer ([`summarize`]: the recommendation).
//!
//! Layers, imports pointing one way: `row` → `figures` → `answer`.

mod answer;
mod figures;
mod row;

#[cfg(test)]
pub use answer::TEST_DATA;
pub use answer::{best, summarize, Recommendation, Summary};
pub use figures::{batch_figures, ClassCount, DataSummary, Overview, PruningSummary};
#[cfg(test)]
pub use row::patience_stop;
pub use row::{Facts, RateSummary};
