//! `lrsweep find`: Leslie Smith's learning-rate range test, with the suggestions users know
//! from fastai (`valley`, `steep`, `minimum/10`). The sweep runs it first through [`range_test`].

use std::path::Path;

use anyhow::{anyhow, Result};
use lrsweep_data::Split;
use lrsweep_model::{Flow, ModelConfig, RangeConfig, TrainConfig};

use crate::analysis::range::{FindResult, Smoother};
use crate::backend::{self, Selected};
use crate::cli::FindArgs;
use crate::config::SweepConfig;
use crate::exit::{say, usage};
use crate::render::{chart, text};
use crate::store;

/// Runs the range test on `split` with a fresh model from `train.seed`.
pub fn range_test(
    schedule: &RangeConfig,
    model: &ModelConfig,
    train: TrainConfig,
    split: &Split,
    selected: &Selected,
) -> Result<FindResult> {
    let mut smoother = Smoother::default();
    lrsweep_model::range_test(
        model,
        train,
        &split.train,
        &selected.device,
        schedule,
        |rate, loss| {
            if smoother.push(rate, loss) {
                Flow::Continue
            } else {
                Flow::Stop
            }
        },
    )?;
    Ok(smoother.finish(*schedule, train.seed))
}

/// The range test a sweep runs first (the default schedule, the sweep's first network, seed and
/// batch),
/// written into its run directory `dir`.
pub fn for_sweep(
    dir: &Path,
    config: &SweepConfig,
    split: &Split,
    selected: &Selected,
) -> Result<FindResult> {
    let schedule = RangeConfig::default();
    let result = range_test(
        &schedule,
        &config.model(split.shape()),
        config.train_at(schedule.start, selected),
        split,
        selected,
    )?;
    write(dir, &result)?;
    Ok(result)
}

/// Writes the range test's files and chart into `dir`.
pub fn write(dir: &Path, result: &FindResult) -> Result<()> {
    store::range::write(dir, result)?;
    chart::find(dir, result)
}

/// Runs `lrsweep find`.
pub fn run(args: &FindArgs) -> Result<()> {
    if args.start >= args.end {
        return Err(usage(anyhow!(
            "--start {} must be below --end {}",
            args.start,
            args.end
        )));
    }
    let config = SweepConfig {
        batch_size: args.batch_size as usize,
        seed: args.seed,
        data: args.data.to_config(args.limit)?,
        ..SweepConfig::default()
    }
    .training(args.network.network());
    let out = store::fresh_out(args.out.clone(), Some("find"))?;
    let (_, split) = super::load_data(&config)?;
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let schedule = RangeConfig {
        steps: args.steps as usize,
        start: args.start,
        end: args.end,
    };
    let result = range_test(
        &schedule,
        &config.model(split.shape()),
        config.train_at(args.start, &selected),
        &split,
        &selected,
    )?;
    let out = out.create()?;
    write(&out, &result)?;
    say(&text::describe_range(&result))?;
    say(&format!("Written to {}", out.display()))
}
