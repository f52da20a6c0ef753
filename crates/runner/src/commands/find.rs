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

/// The range test a sweep runs first with `optimizer` (one of its own; the default schedule, the
/// sweep's first network, seed and batch), written into its run directory `dir` under `stem`.
pub fn for_sweep(
    dir: &Path,
    config: &SweepConfig,
    (optimizer, stem): (lrsweep_model::Optimizer, &str),
    split: &Split,
    selected: &Selected,
) -> Result<FindResult> {
    let schedule = RangeConfig::default();
    let result = range_test(
        &schedule,
        &config.model(split.shape()),
        config.train_with(optimizer, schedule.start, selected),
        split,
        selected,
    )?
    .with_optimizer(optimizer);
    write(dir, stem, &result)?;
    Ok(result)
}

/// Every range test a sweep runs first: one per optimizer ([`for_sweep`]), each kept from an
/// earlier attempt when `dir` holds it already and `keep` says so.
pub fn for_sweep_each(
    dir: &Path,
    config: &SweepConfig,
    split: &Split,
    selected: &Selected,
    keep: bool,
    mut said: impl FnMut(&FindResult),
) -> Result<Vec<FindResult>> {
    let mut all = Vec::new();
    for (optimizer, stem) in store::range::stems(config) {
        if keep && store::range::exists(dir, &stem) {
            if let Ok(saved) = store::range::read(dir, &stem) {
                // Its chart again: a run stopped between the files and the chart has none.
                chart::find(dir, &stem, &saved)?;
                all.push(saved.with_optimizer(optimizer));
                continue;
            }
        }
        let result = for_sweep(dir, config, (optimizer, &stem), split, selected)?;
        said(&result);
        all.push(result);
    }
    Ok(all)
}

/// Writes the range test's files and chart into `dir` under `stem`.
pub fn write(dir: &Path, stem: &str, result: &FindResult) -> Result<()> {
    store::range::write(dir, stem, result)?;
    chart::find(dir, stem, result)
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
    let convention = args.convention.into();
    let mut data = args.data.to_config(args.limit)?;
    data.val_fraction = args.val_fraction;
    let mut config = SweepConfig {
        batch_size: args.batch_size as usize,
        seed: args.seed,
        loss: args.loss.into(),
        data,
        optimizers: vec![args.optimizer],
        convention,
        optimizer_defaults: Some(lrsweep_model::Defaults::of(convention)),
        weight_decay: args.weight_decay,
        ..SweepConfig::default()
    }
    .training(args.network.network());
    let out = store::fresh_out(args.out.clone(), Some("find"))?;
    let (_, split) = super::load_data(&mut config)?;
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let schedule = RangeConfig {
        steps: args.steps as usize,
        start: args.start,
        end: args.end,
    };
    let result = range_test(
        &schedule,
        &config.model(split.shape()),
        config.train_with(args.optimizer, args.start, &selected),
        &split,
        &selected,
    )?
    .with_optimizer(args.optimizer);
    let out = out.create()?;
    write(&out, store::names::FIND, &result)?;
    say(&text::describe_range(&result))?;
    say(&format!("Written to {}", out.display()))
}
