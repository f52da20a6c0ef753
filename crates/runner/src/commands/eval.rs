//! `lrsweep eval`: score a saved model file on the validation split it was trained against.

use anyhow::{anyhow, Result};
use lrsweep_model::{DeviceData, TrainConfig, Trainer};

use crate::backend;
use crate::cli::EvalArgs;
use crate::config::rate_label;
use crate::exit::{say, usage};
use crate::store::model_file;

/// Scores a saved model on its validation split and prints the result.
pub fn run(args: &EvalArgs) -> Result<()> {
    let file = model_file::verify(&args.model).map_err(usage)?;
    let meta = file.meta.clone();
    let locator = lrsweep_data::Locator::new(meta.dataset, args.data_dir.clone());
    let images =
        lrsweep_data::load(&locator).map_err(|e| usage(anyhow!(e).context("loading the data")))?;
    let split = images.split(&meta.split).map_err(|e| usage(anyhow!(e)))?;
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let model = file.load(&selected.device)?;
    let config = TrainConfig {
        learning_rate: meta.rate,
        loss: meta.loss,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(model, config)?;
    let valid = DeviceData::upload(&split.valid, config.batch_size, None, &selected.device);
    let score = trainer.evaluate(&valid)?;
    say(&format!(
        "{}: learning rate {}, epoch {}, {} validation images on {}\nvalidation accuracy {:.4} (recorded {:.4}), validation loss {:.6} (recorded {:.6})",
        args.model.display(),
        rate_label(meta.rate),
        meta.epoch,
        split.valid.len(),
        selected.backend,
        score.accuracy,
        meta.val_acc,
        score.loss,
        meta.val_loss
    ))
}
