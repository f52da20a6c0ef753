//! The run directory and its files: created fresh, written atomically or line by line so that
//! an interrupted run keeps what it finished, read back with errors that name file and line.
//! Every file goes through [`fs`]; every path comes from [`layout`].
//!
//! Layers, imports pointing one way: `fs` and `layout` → the files (`metrics`, `checkpoint`,
//! `model_file`, `range`, `claim`, `lock`, `run`, `tfevents`) → `out` (a fresh run directory).

pub mod checkpoint;
pub mod claim;
pub mod fs;
pub mod layout;
pub mod lock;
pub mod metrics;
pub mod model_file;
pub mod out;
pub mod range;
pub mod run;
pub mod safetensors;
pub mod tfevents;

pub use fs::{write_atomic, write_json};
pub use layout::names;
pub use out::{fresh_out, OutDir};
