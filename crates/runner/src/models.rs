//! Model files: each rate's best and final weights (Burn's burnpack format) with a JSON sidecar
//! saying what they are, and `lrsweep eval`, which scores such a file on its validation split.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use burn::module::Module;
use clap::Args;
use lrsweep_data::{DatasetKind, SplitConfig};
use lrsweep_model::{DeviceData, EpochRecord, LossKind, ModelConfig, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};

use crate::backend::{self, BackendChoice};
use crate::config::{rate_label, SweepConfig};
use crate::{rundir, usage};

/// What a model file holds and how to score it again: `<file>.json` beside `<file>.bpk`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The learning rate it was trained with.
    pub rate: f64,
    /// The epoch whose weights these are.
    pub epoch: usize,
    /// Validation loss recorded after that epoch.
    pub val_loss: f64,
    /// Validation accuracy recorded after that epoch.
    pub val_acc: f64,
    /// The network's shape.
    pub model: ModelConfig,
    /// The loss it was scored with.
    pub loss: LossKind,
    /// The data set.
    pub dataset: DatasetKind,
    /// The split it was validated on.
    pub split: SplitConfig,
}

impl ModelMeta {
    /// The metadata of `config`'s run for the weights after `record`.
    pub fn new(config: &SweepConfig, rate: f64, record: &EpochRecord) -> Self {
        Self {
            rate,
            epoch: record.epoch,
            val_loss: record.val_loss,
            val_acc: record.val_acc,
            model: config.model(),
            loss: config.loss,
            dataset: config.data.dataset,
            split: config.data.split(config.seed),
        }
    }
}

/// Saves `trainer`'s weights as `<stem>.bpk` with `<stem>.json` in `dir` (both atomically).
pub fn save(dir: &Path, stem: &str, trainer: &Trainer, meta: &ModelMeta) -> Result<()> {
    let path = dir.join(format!("{stem}.bpk"));
    trainer
        .model()
        .save_file(&path)
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    rundir::write_json(&dir.join(format!("{stem}.json")), meta)
}

/// Copies `<from>.bpk`/`.json` to `<to>.bpk`/`.json` in `dir` (atomically).
pub fn copy(dir: &Path, from: &str, to: &str) -> Result<()> {
    for ext in ["bpk", "json"] {
        let src = dir.join(format!("{from}.{ext}"));
        let bytes = std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
        rundir::write_atomic(&dir.join(format!("{to}.{ext}")), &bytes)?;
    }
    Ok(())
}

/// Options of `lrsweep eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A model file written by a sweep (`lr-<rate>/best.bpk` or `model.bpk`); its `.json` sidecar
    /// says which data and split it was validated on.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,

    /// Directory holding the data files (otherwise `LRSWEEP_DATA_DIR`, the cache, a download).
    #[arg(long, env = "LRSWEEP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Where to compute.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendChoice,
}

/// Scores a saved model on its validation split and prints the result.
pub fn eval(args: &EvalArgs) -> Result<()> {
    let meta_path = args.model.with_extension("json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        usage(anyhow!(
            "{}: {e}; a model file needs the .json written beside it by `lrsweep sweep`",
            meta_path.display()
        ))
    })?;
    let meta: ModelMeta = serde_json::from_str(&text).map_err(|e| {
        usage(anyhow!(
            "{}: not an lrsweep model description ({e})",
            meta_path.display()
        ))
    })?;
    let locator = lrsweep_data::Locator::new(meta.dataset, args.data_dir.clone());
    let images =
        lrsweep_data::load(&locator).map_err(|e| usage(anyhow!(e).context("loading the data")))?;
    let split = images.split(&meta.split).map_err(|e| usage(anyhow!(e)))?;
    let selected = backend::select(args.backend).map_err(usage)?;
    let model = meta
        .model
        .init(meta.split.seed, &selected.device)
        .try_load_file(&args.model)
        .map_err(|e| usage(anyhow!("{}: {e}", args.model.display())))?;
    let config = TrainConfig {
        learning_rate: meta.rate,
        loss: meta.loss,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(model, config)?;
    let valid = DeviceData::upload(&split.valid, config.batch_size, None, &selected.device);
    let score = trainer.evaluate(&valid)?;
    crate::say(&format!(
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
