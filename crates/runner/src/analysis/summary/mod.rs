//! What the curves say, as data: one row per arm ([`RateSummary::of`], built in one place),
//! the run-wide figures, and the answer ([`summarize`]: the recommendation).
//!
//! Layers, imports pointing one way: `row` → `rank` → `figures` → `answer`.

mod answer;
mod figures;
mod rank;
mod row;

#[cfg(test)]
pub use answer::TEST_DATA;
pub use answer::{summarize, Recommendation, Summary};
pub use figures::{
    batch_figures, network_figures, optimizer_figures, BestFigures, ClassCount, DataSummary,
    Overview, PruningSummary,
};
pub use rank::best;
#[cfg(test)]
pub use row::patience_stop;
pub use row::{Facts, RateSummary};
