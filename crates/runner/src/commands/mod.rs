//! One module per subcommand, each holding orchestration only: the work itself is done by the
//! layers below (`store`, `analysis`, `render`, `backend`, the model and data crates).

pub mod bench;
pub mod eval;
pub mod fetch;
pub mod find;
pub mod report;
mod results;
pub mod sweep;

use anyhow::{anyhow, Result};
use lrsweep_data::{Images, Split};

use crate::config::SweepConfig;
use crate::exit::usage;

/// Loads and splits the data, mapping every problem to a usage error that says how to fix it,
/// and refuses a batch larger than the training part.
fn load_data(config: &SweepConfig) -> Result<(Images, Split)> {
    let images = lrsweep_data::load(&config.data.locator())
        .map_err(|e| usage(anyhow!(e).context(format!("loading {}", config.data.dataset))))?;
    let split = images
        .split(&config.data.split(config.seed))
        .map_err(|e| usage(anyhow!(e)))?;
    if config.batch_size > split.train.len() {
        return Err(usage(anyhow!(
            "--batch-size {} is larger than the {} training images; choose a smaller batch or a larger --limit",
            config.batch_size,
            split.train.len()
        )));
    }
    Ok((images, split))
}
