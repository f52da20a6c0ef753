//! `lrsweep eval`: score a saved model file on the validation split it was trained against.

use anyhow::{anyhow, Result};
use lrsweep_model::{DeviceData, TrainConfig, Trainer};

use crate::backend;
use crate::cli::EvalArgs;
use crate::config::{rate_label, DataConfig};
use crate::exit::{say, usage};
use crate::store::model_file;

/// Scores a saved model on its validation split and prints the result.
pub fn run(args: &EvalArgs) -> Result<()> {
    let file = model_file::verify(&args.model).map_err(usage)?;
    let meta = file.meta.clone();
    let absolute = |p: &std::path::PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let user = match (&meta.user, &args.data) {
        (Some(u), Some(path)) => Some(lrsweep_data::UserData {
            path: absolute(path),
            ..u.clone()
        }),
        (Some(u), None) => Some(u.clone()),
        (None, Some(_)) => {
            return Err(usage(anyhow!(
                "{} was trained on the {} data set, not on a file of yours; drop --data (use --data-dir to say where the {} files are)",
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
            "{} was trained by a sweep without --val: its validation part was split off its data, so --val cannot name it; leave --val out to score that part",
            args.model.display()
        )));
    }
    let (data, split) = super::load_split(&data_config, meta.split.seed)?;
    if !meta.data_sha256.is_empty() && data.checksums() != meta.data_sha256 {
        return Err(usage(anyhow!(
            "the data read now ({}) is not the data {} was trained on: the SHA-256 of its files differ from those its .json records; give the original files",
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
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let model = file.load(&selected.device)?;
    let config = TrainConfig {
        learning_rate: meta.rate,
        loss: meta.loss,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(&meta.model, model, config)?;
    let valid = DeviceData::upload(&split.valid, config.batch_size, None, &selected.device);
    let score = trainer.evaluate(&valid)?;
    say(&format!(
        "{}: learning rate {}, epoch {}, {} validation items of {} on {}\nvalidation accuracy {:.4} (recorded {:.4}), validation loss {:.6} (recorded {:.6})",
        args.model.display(),
        rate_label(meta.rate),
        meta.epoch,
        split.valid.len(),
        data_config.describe(),
        selected.backend,
        score.accuracy,
        meta.val_acc,
        score.loss,
        meta.val_loss
    ))
}
