//! Model files: each rate's best and final weights (Burn's burnpack format) with a JSON sidecar
//! saying what they are and the SHA-256 of the weights, so a damaged file is caught before use.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use lrsweep_data::sha256_hex;
use lrsweep_data::{DatasetKind, Scaling, SplitConfig, TargetScaling, UserData};
use lrsweep_model::{EpochRecord, LossKind, Mlp, ModelConfig};
use serde::{Deserialize, Serialize};

use super::fs::{write_atomic, write_json};
use super::run::RunRecord;
use crate::exit::usage;

/// What a model file holds and how to score it again: `<file>.json` beside `<file>.bpk`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelMeta {
    /// The learning rate it was trained with (as listed; see `effective_rate`).
    pub rate: f64,
    /// Its schedule.
    #[serde(default)]
    pub schedule: lrsweep_model::Schedule,
    /// Images per batch it trained with.
    #[serde(default)]
    pub batch_size: usize,
    /// The rate Adam took (scaled for the batch size with `--scale-lr`).
    #[serde(default)]
    pub effective_rate: f64,
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
    /// The user's data it was trained on (`--data`), read instead of `dataset`.
    #[serde(default)]
    pub user: Option<UserData>,
    /// The validation file (`--val`) it was scored on, instead of a split.
    #[serde(default)]
    pub val: Option<PathBuf>,
    /// SHA-256 of each data file it was trained and validated on (absent in older files).
    #[serde(default)]
    pub data_sha256: Vec<String>,
    /// The classes' names, in the order of the network's outputs.
    #[serde(default)]
    pub class_names: Vec<String>,
    /// A table's feature columns, in the network's input order: a file it scores is read by
    /// these names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// How its training part was scaled (with that part's statistics): a file it scores is
    /// scaled the same (absent in files of older versions: the training data is read again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// A regression's standardisation of its targets (`class_names` then name the targets):
    /// what its outputs are in the targets' units. None for a classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetScaling>,
    /// SHA-256 of the `.bpk` file (absent in files of older versions).
    #[serde(default)]
    pub sha256: Option<String>,
}

impl ModelMeta {
    /// The metadata of `run`'s weights of `arm` after `record`.
    pub fn new(run: &RunRecord, arm: crate::config::Arm, record: &EpochRecord) -> Self {
        let config = &run.config;
        Self {
            rate: arm.rate,
            schedule: arm.group.schedule,
            batch_size: config.batch_of(arm.group),
            effective_rate: config.effective_rate(arm),
            epoch: record.epoch,
            val_loss: record.val_loss,
            val_acc: record.val_acc,
            model: run.model_of(arm),
            loss: config.loss,
            dataset: config.data.dataset,
            split: config.data.split(config.seed),
            user: config.data.user.clone(),
            val: config.data.val.clone(),
            data_sha256: run.data.checksums(),
            class_names: run.data.class_names.clone(),
            columns: run.data.columns.clone(),
            scaling: run.data.scaling.clone(),
            targets: run.data.targets.clone(),
            sha256: None,
        }
    }
}

/// Saves `model`'s weights as `<stem>.bpk` with `<stem>.json` in `dir` (both atomically, the
/// sidecar carrying the weights' SHA-256).
pub fn save(dir: &Path, stem: &str, model: Mlp, meta: &ModelMeta) -> Result<()> {
    let path = dir.join(format!("{stem}.bpk"));
    let bytes = model
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow!("serialising {}: {e}", path.display()))?;
    let meta = ModelMeta {
        sha256: Some(sha256_hex(&bytes)),
        ..meta.clone()
    };
    write_atomic(&path, &bytes)?;
    write_json(&dir.join(format!("{stem}.json")), &meta)
}

/// Copies `<from>.bpk`/`.json` to `<to>.bpk`/`.json` in `dir` (atomically).
pub fn copy(dir: &Path, from: &str, to: &str) -> Result<()> {
    for ext in ["bpk", "json"] {
        let src = dir.join(format!("{from}.{ext}"));
        let bytes = super::fs::read(&src, super::fs::limit::WEIGHTS)?;
        write_atomic(&dir.join(format!("{to}.{ext}")), &bytes)?;
    }
    Ok(())
}

/// A model file checked against its sidecar: the description and the weights' bytes.
pub struct Verified {
    /// The sidecar.
    pub meta: ModelMeta,
    bytes: Vec<u8>,
}

/// Reads the model file `bpk` and its sidecar `<file>.json` and checks that they belong
/// together; every problem is a usage error that names the file and what to do.
pub fn verify(bpk: &Path) -> Result<Verified> {
    if bpk.extension().is_some_and(|e| e == "json") {
        bail!(
            "{} is the description of a model, not the model: give the .bpk file beside it ({})",
            bpk.display(),
            bpk.with_extension("bpk").display()
        );
    }
    let bytes = match super::fs::read(bpk, super::fs::limit::WEIGHTS) {
        Ok(b) => b,
        Err(e) => bail!(
            "{e:#}; give a model file written by `lrsweep sweep` (lr-<rate>/best.bpk or model.bpk)"
        ),
    };
    if bytes.is_empty() {
        bail!(
            "{} is empty (cut off while being written?); it cannot be used",
            bpk.display()
        );
    }
    let meta_path = bpk.with_extension("json");
    let text = super::fs::read_text(&meta_path, super::fs::limit::RECORD).map_err(|e| {
        anyhow!("{e:#}; a model file needs the .json written beside it by `lrsweep sweep`")
    })?;
    let meta: ModelMeta = serde_json::from_str(&text).map_err(|e| {
        anyhow!(
            "{}: not an lrsweep model description ({e})",
            meta_path.display()
        )
    })?;
    // The description is checked against the weights before a network is built from it: a
    // crafted or damaged sidecar (hidden 1e9, a product beyond u64) would allocate without end.
    let m = &meta.model;
    let outputs = if meta.targets.is_some() { 1 } else { 2 };
    let params = m
        .parameters()
        .filter(|_| m.inputs > 0 && m.classes >= outputs && (0.0..1.0).contains(&m.dropout));
    let fits = params.is_some_and(|p| {
        let weights = (p as u64).saturating_mul(4);
        weights <= bytes.len() as u64 && bytes.len() as u64 <= weights.saturating_add(16 << 20)
    });
    if !fits {
        bail!(
            "{} describes a network of {} inputs, hidden layers {} and {} classes, which does not match the {} bytes of {}; the description was edited or damaged, and no network is built from it",
            meta_path.display(),
            m.inputs,
            m.hidden,
            m.classes,
            bytes.len(),
            bpk.display()
        );
    }
    if let Some(expected) = &meta.sha256 {
        let found = sha256_hex(&bytes);
        if &found != expected {
            bail!(
                "{} is damaged or is not the model {} describes (SHA-256 {found}, expected {expected}); it cannot be used",
                bpk.display(),
                meta_path.display()
            );
        }
    }
    Ok(Verified { meta, bytes })
}

impl Verified {
    /// The network with these weights on `device`.
    pub fn load(self, device: &Device) -> Result<Mlp> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.bytes))
            .map_err(|e| usage(anyhow!("the model file cannot be read: {e}")))?;
        self.meta
            .model
            .init(self.meta.split.seed, device)
            .try_load_record(record)
            .map_err(|e| usage(anyhow!("the model file does not fit its description: {e}")))
    }
}
