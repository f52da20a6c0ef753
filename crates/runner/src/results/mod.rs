//! The results service: a run's arms collected from its directory, summarised, and published
//! the one way `sweep`, `work --finish` and `report` do: charts, `summary.json`, `summary.md`,
//! the overviews and `report.html`.
//!
//! Layers, imports pointing one way: `collect` → `summarize` → `publish`.

mod collect;
mod publish;
mod summarize;

pub use collect::{collect, other_seeds};
pub use publish::{publish, rate_chart, where_to_look, Charts};
pub use summarize::summarize_runs;
