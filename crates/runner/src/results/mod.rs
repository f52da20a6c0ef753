//! The results service: a run's arms collected from its directory, summarised, and published
//! the one way `sweep`, `work --finish` and `report` do: charts, `summary.json`, `summary.md`,
//! the overviews, `report.html` and TensorBoard's HParams.
//!
//! Layers, imports pointing one way: `collect` → `summarize` → `hparams` → `publish`.

mod collect;
mod hparams;
mod live;
mod publish;
mod summarize;

pub use collect::{collect, other_seeds};
pub use live::{write as write_live_page, LiveReport, Standing};
pub use publish::{publish, rate_chart, where_to_look, Charts};
pub use summarize::summarize_runs;
