//! `lrsweep eval`: score a saved model file on the validation split it was trained against, or
//! on any labelled file of the kind it was trained on (`--data`).

use anyhow::{anyhow, Result};
use lrsweep_model::{DeviceData, Score, TrainConfig, Trainer};

use super::unseen;
use crate::backend;
use crate::cli::EvalArgs;
use crate::config::{rate_label, DataConfig};
use crate::exit::{say, usage};
use crate::store::model_file::{self, ModelMeta};

/// Scores a saved model and prints the result.
pub fn run(args: &EvalArgs) -> Result<()> {
    let file = model_file::verify(&args.model).map_err(usage)?;
    let meta = file.meta.clone();
    let (part, what) = match &args.data {
        Some(path) => {
            let scaling = unseen::scaling(&meta, args.data_dir.clone())?;
            let read = unseen::read(&meta, path, args.labels.as_deref(), &scaling)?;
            if !read.labelled {
                return Err(usage(anyhow!(
                    "{} has no labels, so there is nothing to score against: give its labels ({}), or use `lrsweep predict --model {} --data {}` for predictions",
                    path.display(),
                    "a label column, an array y, or --labels FILE",
                    args.model.display(),
                    path.display()
                )));
            }
            let what = format!("{} items of {}", read.part.len(), path.display());
            (read.part, what)
        }
        None => {
            let split = validation_split(args, &meta)?;
            let what = format!(
                "{} validation items of {}",
                split.1.valid.len(),
                split.0.describe()
            );
            (split.1.valid, what)
        }
    };
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let model = file.load(&selected.device)?;
    let config = TrainConfig {
        learning_rate: meta.rate,
        loss: meta.loss,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(&meta.model, model, config)?;
    let data = DeviceData::upload(&part, config.batch_size, None, &selected.device);
    let score = trainer.evaluate(&data)?;
    let head = format!(
        "{}: learning rate {}, epoch {}; {what} on {}",
        args.model.display(),
        rate_label(meta.rate),
        meta.epoch,
        selected.backend,
    );
    let errors = standard_errors(&score, part.len());
    if meta.targets.is_some() {
        let recorded = match args.data {
            Some(_) => String::new(),
            None => format!(
                " (recorded R² {:.4}, loss {:.6})",
                meta.val_acc, meta.val_loss
            ),
        };
        return say(&format!(
            "{head}\nR² {:.4}, RMSE {:.6}, MAE {:.6} (the targets' units), loss {:.6} ± {:.6}{recorded}",
            score.accuracy,
            score.rmse,
            score.mae,
            score.loss,
            score.loss_se
        ));
    }
    match args.data {
        Some(_) => say(&format!(
            "{head}\naccuracy {:.4}, loss {:.6}\n{errors}",
            score.accuracy, score.loss
        )),
        None => say(&format!(
            "{head}\nvalidation accuracy {:.4} (recorded {:.4}), validation loss {:.6} (recorded {:.6})\n{errors}",
            score.accuracy, meta.val_acc, score.loss, meta.val_loss
        )),
    }
}

/// The standard errors of a score of `n` items, said as one line: the accuracy's of a
/// proportion, the loss's from the items' losses.
fn standard_errors(score: &Score, n: usize) -> String {
    let p = score.accuracy;
    let acc_se = (p * (1.0 - p) / n.max(1) as f64).sqrt();
    format!(
        "standard errors: accuracy ±{acc_se:.4}, loss ±{:.6} ({n} items)",
        score.loss_se
    )
}

/// The model's data read again and split as the sweep split it (from where it is now:
/// `--train-data`, `--val`), checked to be the data it was trained on.
fn validation_split(
    args: &EvalArgs,
    meta: &ModelMeta,
) -> Result<(DataConfig, lrsweep_data::Split)> {
    let absolute = |p: &std::path::PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let user = match (&meta.user, &args.train_data) {
        (Some(u), Some(path)) => Some(lrsweep_data::UserData {
            path: absolute(path),
            ..u.clone()
        }),
        (Some(u), None) => Some(u.clone()),
        (None, Some(_)) => {
            return Err(usage(anyhow!(
                "{} was trained on the {} data set, not on a file of yours; drop --train-data (use --data-dir to say where the {} files are)",
                args.model.display(),
                meta.dataset,
                meta.dataset
            )))
        }
        (None, None) => None,
    };
    let data_config = DataConfig {
        dataset: meta.dataset,
        location: crate::config::DataLocation {
            data_dir: args.data_dir.clone(),
            ..Default::default()
        },
        val_fraction: meta.split.val_fraction,
        limit: meta.split.limit,
        scale: meta.split.scale,
        user,
        val: args.val.as_ref().map(absolute).or(meta.val.clone()),
    };
    // A --val for a model whose sweep split its validation part off its data: no file can be
    // that part (its items are the data's, chosen by the split).
    if meta.val.is_none() && args.val.is_some() {
        return Err(usage(anyhow!(
            "{} was trained by a sweep without --val: its validation part was split off its data, so --val cannot name it; leave --val out to score that part, or score a file of yours with --data FILE",
            args.model.display()
        )));
    }
    let (data, split) = super::load_split(&data_config, meta.split.seed)?;
    if !meta.data_sha256.is_empty() && data.checksums() != meta.data_sha256 {
        return Err(usage(anyhow!(
            "the data read now ({}) is not the data {} was trained on: the SHA-256 of its files differ from those its .json records; give the original files (--train-data PATH if they moved), or score another file with --data FILE",
            data_config.describe(),
            args.model.display()
        )));
    }
    let shape = split.shape();
    if (meta.model.inputs, meta.model.classes) != (shape.inputs, shape.classes) {
        return Err(usage(anyhow!(
            "{} takes {} features into {} classes, but the data has {} features and {} classes; give the data it was trained on",
            args.model.display(),
            meta.model.inputs,
            meta.model.classes,
            shape.inputs,
            shape.classes
        )));
    }
    Ok((data_config, split))
}
