//! One module per subcommand, each holding orchestration only: the work itself is done by the
//! layers below (`store`, `analysis`, `render`, `backend`, the model and data crates).

pub mod bench;
pub mod devices;
pub mod eval;
pub mod fetch;
pub mod find;
pub mod report;
pub mod status;
pub mod sweep;
pub mod work;

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

/// Refuses (as a usage error, before anything is written) a sweep whose largest stack of rates
/// cannot fit in the memory this machine has: weights are made on the host whatever the backend.
fn check_fits(config: &SweepConfig) -> Result<()> {
    let model = config.model();
    let stack = config.stack_size() as u64;
    let need = model
        .training_bytes(config.batch_size)
        .and_then(|b| b.checked_mul(stack));
    let available = crate::backend::available_memory();
    let too_big = match (need, available) {
        (None, _) => true,
        (Some(n), Some(a)) => n > a,
        (Some(_), None) => false,
    };
    if too_big {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(usage(anyhow!(
            "{} network{} with --hidden {} and --batch-size {} need{} about {} to train, more than the {} available; choose a smaller --hidden or --batch-size{}",
            stack,
            if stack > 1 { "s trained together" } else { "" },
            config.hidden,
            config.batch_size,
            if stack > 1 { "" } else { "s" },
            need.map_or("more bytes than can be counted".to_string(), |n| format!("{:.1} GiB", gib(n))),
            available.map_or("memory".to_string(), |a| format!("{:.1} GiB", gib(a))),
            if stack > 1 { ", or train the rates one after another with --serial" } else { "" }
        )));
    }
    Ok(())
}
