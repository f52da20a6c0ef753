//! Model files: each rate's best and final weights (Burn's burnpack format) with a JSON sidecar
//! saying what they are.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use burn::module::Module;
use lrsweep_data::{DatasetKind, SplitConfig};
use lrsweep_model::{EpochRecord, LossKind, Mlp, ModelConfig, Trainer};
use serde::{Deserialize, Serialize};

use crate::config::SweepConfig;
use crate::store::{write_atomic, write_json};

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
    write_json(&dir.join(format!("{stem}.json")), meta)
}

/// Copies `<from>.bpk`/`.json` to `<to>.bpk`/`.json` in `dir` (atomically).
pub fn copy(dir: &Path, from: &str, to: &str) -> Result<()> {
    for ext in ["bpk", "json"] {
        let src = dir.join(format!("{from}.{ext}"));
        let bytes = std::fs::read(&src).with_context(|| format!("reading {}", src.display()))?;
        write_atomic(&dir.join(format!("{to}.{ext}")), &bytes)?;
    }
    Ok(())
}

/// Reads the sidecar of the model file `bpk` (`<file>.json`); a missing or foreign one is a
/// usage error naming it.
pub fn read_meta(bpk: &Path) -> Result<ModelMeta> {
    let meta_path = bpk.with_extension("json");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        crate::exit::usage(anyhow!(
            "{}: {e}; a model file needs the .json written beside it by `lrsweep sweep`",
            meta_path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        crate::exit::usage(anyhow!(
            "{}: not an lrsweep model description ({e})",
            meta_path.display()
        ))
    })
}

/// Loads the weights of `bpk` onto `device` into the network its sidecar `meta` describes.
pub fn load(bpk: &Path, meta: &ModelMeta, device: &burn::tensor::Device) -> Result<Mlp> {
    meta.model
        .init(meta.split.seed, device)
        .try_load_file(bpk)
        .map_err(|e| crate::exit::usage(anyhow!("{}: {e}", bpk.display())))
}
