//! What the numbers say, computed as data: per-rate summaries and the recommendation, where
//! early stopping would stop, the refinement's rates, and the range test's suggestions and
//! verdict. Nothing here draws, prints or writes files.

pub mod bench;
pub mod range;
pub mod refine;
pub mod status;
pub mod summary;
pub mod typos;
pub mod verdict;
