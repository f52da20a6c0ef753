//! One module per subcommand, each holding orchestration only: the work itself is done by the
//! layers below (`store`, `analysis`, `render`, `backend`, the model and data crates).

pub mod bench;
pub mod devices;
pub mod eval;
pub mod export;
pub mod fetch;
pub mod find;
pub mod predict;
pub mod report;
pub mod status;
pub mod sweep;
pub mod track;
mod unseen;
pub mod work;

use anyhow::{anyhow, Result};
use lrsweep_data::{Shape, Split};

use crate::config::{DataConfig, SweepConfig};
use crate::exit::usage;
use crate::store::run::DataRecord;

/// Loads and splits the data (the catalogue's set, or the user's with its `--val` file),
/// mapping every problem to a usage error that says how to fix it, and refuses a batch larger
/// than the training part. Returns what a run records of it, and the split.
fn load_data(config: &mut SweepConfig) -> Result<(DataRecord, Split)> {
    let (record, split) = load_split(&config.data, config.seed)?;
    fit_loss(config, record.task)?;
    check_batches(config, &split)?;
    Ok((record, split))
}

/// The loss for the data's `task`: a regression's default (the reference's Keras
/// cross-entropy, which a regression cannot take) becomes mean squared error; a loss of the other
/// task is refused, naming the ones that fit.
fn fit_loss(config: &mut SweepConfig, task: lrsweep_data::Task) -> Result<()> {
    use lrsweep_model::LossKind;
    match (task, config.loss) {
        (lrsweep_data::Task::Regression, LossKind::Keras) => config.loss = LossKind::Mse,
        (lrsweep_data::Task::Regression, LossKind::Exact) => {
            return Err(usage(anyhow!(
                "--loss exact is a classification's cross-entropy; this data is a regression's: choose --loss mse or huber (or --task classification if its labels are classes)"
            )))
        }
        (lrsweep_data::Task::Classification, kind) if kind.is_regression() => {
            return Err(usage(anyhow!(
                "--loss {} is a regression's; this data is a classification's: choose --loss keras or exact (or --task regression for a numeric target)",
                kind.name()
            )))
        }
        _ => {}
    }
    Ok(())
}

/// [`load_data`] for a new run whose batch size the user did not choose (`batch_given`
/// false): a training part smaller than the default batch trains as one batch of the whole
/// part, said once (as Keras does), rather than being refused for a batch nobody asked for.
fn load_data_fitting(config: &mut SweepConfig, batch_given: bool) -> Result<(DataRecord, Split)> {
    let (record, split) = load_split(&config.data, config.seed)?;
    fit_loss(config, record.task)?;
    let train = split.train.len();
    if !batch_given && config.batch_sizes.is_empty() && config.batch_size > train && train > 0 {
        crate::exit::note(&format!(
            "the training part holds {train} items, fewer than the default batch of {}: each epoch trains them as one batch (--batch-size {train})",
            config.batch_size
        ));
        config.batch_size = train;
        config.validate().map_err(|e| usage(anyhow!(e)))?;
    }
    check_batches(config, &split)?;
    Ok((record, split))
}

/// Refuses a batch larger than the training part, naming the largest that fits, and a schedule
/// that needs more steps than the batches make.
fn check_batches(config: &SweepConfig, split: &Split) -> Result<()> {
    let train = split.train.len();
    for size in config.sizes() {
        if size > train {
            return Err(usage(anyhow!(
                "--batch-size {size} is larger than the {train} training items; the largest that fits is {train} (or train on more data: a larger --limit or --val-fraction smaller)"
            )));
        }
        // A schedule needs enough steps (onecycle's phases): known only now.
        let steps = train.div_ceil(size.max(1));
        for s in &config.schedules {
            s.check(config.epochs, steps, config.warmup).map_err(|e| {
                usage(anyhow!(
                    "--schedule {s}: {e} (the {train} training items make {steps} batches of {size})"
                ))
            })?;
        }
    }
    Ok(())
}

/// Refuses data read `here` that is not the data the run in `dir` trained on (`saved`, as its
/// `config.json` records it): other files (their SHA-256), or another split. A resume and a
/// work task train on the run's data only, never on a mixture.
fn same_data(saved: &DataRecord, here: &DataRecord, dir: &std::path::Path) -> Result<()> {
    // A record without checksums (older versions' catalogue runs) has nothing to compare.
    if saved.files.is_empty() {
        return Ok(());
    }
    if here.checksums() != saved.checksums()
        || (here.train_size, here.valid_size) != (saved.train_size, saved.valid_size)
    {
        let files = |d: &DataRecord| {
            d.files
                .iter()
                .map(|f| {
                    format!(
                        "{} ({}…)",
                        f.path.display(),
                        &f.sha256[..f.sha256.len().min(12)]
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(usage(anyhow!(
            "the data read now is not the data the run in {} trained on: {} against the run's {} ({} and {} training and validation items against {} and {}); give it the same files (--data-dir or LRSWEEP_DATA_DIR as when the run was made), or start a new run with --out",
            dir.display(),
            files(here),
            files(saved),
            here.train_size,
            here.valid_size,
            saved.train_size,
            saved.valid_size
        )));
    }
    // The same files, described otherwise: a record edited by hand. The network is built from
    // the data, so the record must say what the data is.
    if here.inputs != saved.inputs || here.class_names != saved.class_names {
        return Err(usage(anyhow!(
            "{}'s data record does not describe its data: it says {} inputs and {} classes, the files hold {} inputs and {} classes; the record was changed by hand: restore it, or start a new run with --out",
            dir.join(crate::store::names::CONFIG).display(),
            saved.inputs,
            saved.class_names.len(),
            here.inputs,
            here.class_names.len()
        )));
    }
    Ok(())
}

/// Loads `data_config`'s data and splits it with `seed` (see [`load_data`]).
fn load_split(data_config: &DataConfig, seed: u64) -> Result<(DataRecord, Split)> {
    let loading = || format!("loading {}", data_config.describe());
    // Files are read with a bound: what memory this machine has left.
    let memory = crate::backend::available_memory().map_or(u64::MAX, |m| m.bytes);
    let data = match &data_config.user {
        Some(user) => user.load(memory),
        None => lrsweep_data::load(&data_config.locator()),
    }
    .map_err(|e| usage(anyhow!(e).context(loading())))?;
    // What reading decided, said once: the label column and any column left out.
    if let Some(label) = &data.label_column {
        crate::exit::note(&format!("{}: label column {label}", data.name));
    }
    for line in &data.notes {
        crate::exit::note(&format!("{}: {line}", data.name));
    }
    let split_config = data_config.split(seed);
    let (split, val_files) = match data_config.val_data() {
        Some(val) => {
            let valid = val.load(memory).map_err(|e| {
                usage(anyhow!(e).context(format!("loading --val {}", val.path.display())))
            })?;
            let split = data
                .split_with(&valid, &split_config)
                .map_err(|e| usage(anyhow!(e)))?;
            (split, valid.files)
        }
        None => (
            data.split(&split_config).map_err(|e| usage(anyhow!(e)))?,
            Vec::new(),
        ),
    };
    Ok((DataRecord::new(&data, &val_files, &split), split))
}

/// Refuses (as a usage error, before anything is written) a sweep whose largest stack of rates
/// cannot fit in the memory this machine has: weights are made on the host whatever the backend.
fn check_fits(config: &SweepConfig, shape: Shape, stack: usize) -> Result<()> {
    // Each network is a stack of its own: the largest decides.
    let model = config.largest_model(shape);
    let stack = stack as u64;
    // Writing a member's checkpoint copies its trainer state (weights and Adam's two moments)
    // and serialises it: twice three times the weights, one member at a time.
    let saving = model
        .parameters()
        .and_then(|p| (p as u64).checked_mul(4 * 3 * 2));
    let need = model
        .training_bytes(config.largest_batch())
        .and_then(|b| b.checked_mul(stack))
        .and_then(|b| b.checked_add(saving?));
    let available = crate::backend::available_memory();
    let too_big = match (need, available) {
        (None, _) => true,
        (Some(n), Some(a)) => n > a.bytes,
        (Some(_), None) => false,
    };
    if too_big {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(usage(anyhow!(
            "{} network{} with --hidden {} and --batch-size {} need{} about {} to train, more than the {}; choose a smaller --hidden or --batch-size{}",
            stack,
            if stack > 1 { "s trained together" } else { "" },
            model.hidden,
            config.largest_batch(),
            if stack > 1 { "" } else { "s" },
            need.map_or("more bytes than can be counted".to_string(), |n| format!("{:.1} GiB", gib(n))),
            available.map_or("memory available".to_string(), |a| a.describe()),
            if stack > 1 { ", or train the rates one after another with --serial" } else { "" }
        )));
    }
    Ok(())
}
