//! `config.json`: everything a run was made with, one type written by `sweep` and read back by
//! `--resume` and `report`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use lrsweep_data::{
    Dataset, Origin, Scale, Scaling, Shape, Split, TargetScaling, Task, VerifiedFile,
};
use serde::{Deserialize, Serialize};

use crate::config::{Arm, SweepConfig, Unit};
use crate::exit::usage;

/// The Burn version lrsweep is built against (pinned in the workspace manifest).
pub const BURN_VERSION: &str = "0.22.1";

/// File name of a run's record inside its directory.
pub const FILE: &str = super::layout::names::CONFIG;

/// One data file as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// File name without `.gz`.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// How it was obtained.
    pub origin: Origin,
    /// SHA-256 of the decompressed content.
    pub sha256: String,
}

impl From<&VerifiedFile> for FileRecord {
    fn from(f: &VerifiedFile) -> Self {
        Self {
            name: f.name.to_string(),
            path: f.path.clone(),
            origin: f.origin,
            sha256: f.sha256.to_string(),
        }
    }
}

/// The data as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DataRecord {
    /// Files read, with origin and SHA-256.
    pub files: Vec<FileRecord>,
    /// Items loaded (before any `--limit`; with `--val`, the training file's).
    pub images: usize,
    /// Training items.
    pub train_size: usize,
    /// Validation items.
    pub valid_size: usize,
    /// Training items per class.
    pub train_class_counts: Vec<usize>,
    /// Validation items per class.
    pub valid_class_counts: Vec<usize>,
    /// The shape of one item (`[28, 28]`, `[13]`, `[32, 32, 3]`).
    pub item_shape: Vec<usize>,
    /// Features per item: the network's input width.
    pub inputs: usize,
    /// The classes' names, in class-index order.
    pub class_names: Vec<String>,
    /// The scale the features were given.
    pub scale: Scale,
    /// A table's label column and how it was chosen: `'species' (by its name)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_column: Option<String>,
    /// A table's feature columns, in the network's input order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// The scale made concrete with the training part's statistics: how a model file scales
    /// what it scores later (absent in runs of older versions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Classification or regression.
    pub task: Task,
    /// A regression's targets' standardisation (the training part's mean and standard
    /// deviation of each): how losses and predictions speak in the targets' units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetScaling>,
    /// A regression's guess: the validation loss of predicting the training part's mean, under
    /// each regression loss (what the verdicts read a curve against in place of `ln C`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guess: Option<Guess>,
}

/// The validation loss of predicting the training part's mean of every target (the
/// standardised targets' mean loss at 0), under each regression loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    /// Mean squared error.
    pub mse: f64,
    /// Huber (δ = 1).
    pub huber: f64,
}

impl Guess {
    /// The guess of `part`, a regression's (none for a classification's).
    fn of(part: &lrsweep_data::Part) -> Option<Self> {
        let t = part.targets()?;
        Some(Guess {
            mse: lrsweep_model::LossKind::Mse.guess(t),
            huber: lrsweep_model::LossKind::Huber.guess(t),
        })
    }

    /// The guess's loss under `loss`.
    pub fn loss(&self, loss: lrsweep_model::LossKind) -> f64 {
        match loss {
            lrsweep_model::LossKind::Huber => self.huber,
            _ => self.mse,
        }
    }
}

/// What a run of an older version (MNIST only) recorded without saying.
impl Default for DataRecord {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            images: 0,
            train_size: 0,
            valid_size: 0,
            train_class_counts: Vec::new(),
            valid_class_counts: Vec::new(),
            item_shape: vec![28, 28],
            inputs: 784,
            class_names: (0..10).map(|c| c.to_string()).collect(),
            scale: Scale::Unit,
            label_column: None,
            columns: None,
            scaling: None,
            task: Task::Classification,
            targets: None,
            guess: None,
        }
    }
}

impl DataRecord {
    /// What was loaded (`data`, and the validation file's records `val_files` with `--val`) and
    /// how it was split.
    pub fn new(data: &Dataset, val_files: &[VerifiedFile], split: &Split) -> Self {
        Self {
            files: data
                .files
                .iter()
                .chain(val_files)
                .map(FileRecord::from)
                .collect(),
            images: data.len(),
            train_size: split.train.len(),
            valid_size: split.valid.len(),
            train_class_counts: split.train.class_counts(),
            valid_class_counts: split.valid.class_counts(),
            item_shape: data.item_shape.clone(),
            inputs: data.width(),
            class_names: data.class_names.clone(),
            scale: split.scale,
            label_column: data.label_column.clone(),
            columns: data.columns.clone(),
            scaling: Some(split.scaling.clone()),
            task: data.task(),
            targets: split.targets.clone(),
            guess: Guess::of(&split.valid),
        }
    }

    /// The SHA-256 of every file read, in order: what proves which data a run or model used.
    pub fn checksums(&self) -> Vec<String> {
        self.files.iter().map(|f| f.sha256.clone()).collect()
    }

    /// The input width and class count.
    pub fn shape(&self) -> Shape {
        Shape {
            inputs: self.inputs,
            classes: self.class_names.len(),
        }
    }
}

/// `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// lrsweep's version.
    #[serde(default)]
    pub lrsweep_version: String,
    /// Burn's version.
    #[serde(default)]
    pub burn_version: String,
    /// The sweep's settings.
    pub config: SweepConfig,
    /// Rates trained or being trained (each under its schedule), listed then refined.
    #[serde(default)]
    pub rates_trained: Vec<Arm>,
    /// The backend used.
    #[serde(default)]
    pub backend: String,
    /// The adapter or processor.
    #[serde(default)]
    pub adapter: String,
    /// Why `auto` fell back to the CPU.
    #[serde(default)]
    pub backend_fallback_reason: Option<String>,
    /// The data.
    #[serde(default)]
    pub data: DataRecord,
    /// When the run first started (local time, RFC 3339).
    #[serde(default)]
    pub started: String,
}

impl RunRecord {
    /// A new run's record: made with `config`, trained on `backend` (`adapter`; why `auto`
    /// fell back to the CPU, when it did), on `data`, started at `started`; no rate planned.
    pub fn new(
        config: SweepConfig,
        (backend, adapter, fallback): (String, String, Option<String>),
        data: DataRecord,
        started: String,
    ) -> Self {
        Self {
            lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
            burn_version: BURN_VERSION.to_string(),
            config,
            rates_trained: Vec::new(),
            backend,
            adapter,
            backend_fallback_reason: fallback,
            data,
            started,
        }
    }

    /// When a rate of this run stops: the rule its training loop follows.
    pub fn stop_rule(&self) -> lrsweep_model::StopRule {
        self.config.stop_rule(self.hopeless())
    }

    /// The network `arm` trains, on the run's data's shape.
    pub fn model_of(&self, arm: Arm) -> lrsweep_model::ModelConfig {
        self.config.model_of(&arm.group.network, self.data.shape())
    }

    /// What makes a rate of this run hopeless: its class count and validation size (what its
    /// curves are read against).
    pub fn hopeless(&self) -> lrsweep_model::Hopeless {
        lrsweep_model::Hopeless {
            classes: self.data.shape().classes,
            valid_len: self.data.valid_size,
            guess: self.data.guess.map(|g| g.loss(self.config.loss)),
        }
    }

    /// How far `arm`'s rate (as Adam takes it) can move a weight in one epoch of this run at its
    /// batch size, in units of the initial scale ([`crate::analysis::verdict::reach`]).
    pub fn reach(&self, arm: Arm) -> f64 {
        let steps = self
            .data
            .train_size
            .div_ceil(self.config.batch_of(arm.group).max(1));
        crate::analysis::verdict::reach(
            self.config.effective_rate(arm),
            steps,
            self.model_of(arm).first_layer_std(),
        )
    }

    /// Adds `arms` to the rates trained, each once, in order (listed first, refined after).
    pub fn plan(&mut self, arms: &[Arm]) {
        for &arm in arms {
            if !self.rates_trained.contains(&arm) {
                self.rates_trained.push(arm);
            }
        }
    }

    /// What the weights of member `unit` (an arm under a seed) belong to: the SHA-256 of the settings that
    /// shape its training (network, seed, batch, loss, optimizer and convention, order, data set
    /// and the checksums of its files, split), the rate, its schedule and the warm-up, and a further seed
    /// (`--seeds`; the run's own, the constant schedule and no warm-up add nothing, so older
    /// runs' checkpoints still match). A checkpoint of another run, rate, schedule or seed
    /// never matches.
    pub fn member_identity(&self, unit: Unit) -> String {
        let (arm, seed) = (unit.arm, unit.seed);
        let c = &self.config;
        let mut fields = serde_json::json!({
            "rate": arm.rate,
            "model": self.model_of(arm),
            "seed": c.seed,
            "batch_size": c.batch_of(arm.group),
            "loss": c.loss,
            "adam": c.convention,
            "reshuffle": c.reshuffle,
            "dataset": c.data.dataset,
            "files": self.data.checksums(),
            "val_fraction": c.data.val_fraction,
            "limit": c.data.limit,
        });
        if seed != c.seed {
            fields["member_seed"] = serde_json::json!(seed);
        }
        if arm.group.schedule != lrsweep_model::Schedule::Constant {
            fields["schedule"] = serde_json::json!(arm.group.schedule);
        }
        // The optimizer: its spec, the coupled decay and the defaults it trains with (`adam`
        // above is the convention); Adam with the defaults of earlier versions adds nothing.
        if arm.group.optimizer != lrsweep_model::Optimizer::Adam {
            fields["optimizer"] = serde_json::json!(arm.group.optimizer);
        }
        if c.weight_decay > 0.0 {
            fields["weight_decay"] = serde_json::json!(c.weight_decay);
        }
        if c.defaults() != lrsweep_model::Defaults::earlier(c.convention) {
            fields["optimizer_defaults"] = serde_json::json!(c.defaults());
        }
        if c.warmup > 0 {
            fields["warmup"] = serde_json::json!(c.warmup);
        }
        if c.scale_lr != crate::config::ScaleLr::None {
            fields["scale_lr"] = serde_json::json!(c.scale_lr);
        }
        // The user's data and a chosen scale shape the weights too; MNIST runs of older
        // versions record neither, so their checkpoints still match.
        if let Some(user) = &c.data.user {
            fields["user_data"] = serde_json::json!({ "label": user.label, "image_size": user.image_size, "val": c.data.val.is_some() });
        }
        if let Some(scale) = c.data.scale {
            fields["scale"] = serde_json::json!(scale);
        }
        lrsweep_data::sha256_hex(fields.to_string().as_bytes())
    }

    /// Writes the record into `dir` (atomically).
    pub fn write(&self, dir: &Path) -> Result<()> {
        super::fs::write_json(&dir.join(FILE), self)
    }

    /// Reads a run's record; a missing or foreign file is a usage error naming it.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        if !path.exists() && std::fs::symlink_metadata(&path).is_err() {
            return Err(usage(anyhow!(
                "{}: No such file or directory; give the directory of a previous `lrsweep sweep`",
                path.display()
            )));
        }
        let text = super::fs::read_text(&path, super::fs::limit::RECORD)
            .map_err(|e| usage(e.context("give the directory of a previous `lrsweep sweep`")))?;
        let mut record: Self = serde_json::from_str(&text).map_err(|e| {
            usage(anyhow!(
                "{}: not a lrsweep run configuration ({e}); the file was edited or damaged: start a new run with --out",
                path.display()
            ))
        })?;
        record.arms_of_older_runs();
        record.check().map_err(|problem| {
            usage(anyhow!(
                "{}: {problem}, which no lrsweep run records; the file was edited or damaged: start a new run with --out",
                path.display()
            ))
        })?;
        Ok(record)
    }

    /// An arm recorded without its network is of the reference's network, or, in a run that
    /// does not train it (one of an earlier version with another `--hidden`), of the run's one
    /// network.
    fn arms_of_older_runs(&mut self) {
        let networks = self.config.networks();
        if networks.contains(&crate::config::Network::default()) {
            return;
        }
        let first = self.config.first_network();
        for arm in &mut self.rates_trained {
            if arm.group.network.is_reference() {
                arm.group.network = first;
            }
        }
    }

    /// The one check of the settings ([`SweepConfig::validate`]) and what the record adds to
    /// them: planned arms of the run's groups and rates, data a network can be built for, a
    /// network whose size can be counted. Run on every read, before anything is allocated.
    fn check(&self) -> std::result::Result<(), String> {
        let c = &self.config;
        c.validate().map_err(|e| e.0)?;
        let groups = c.groups();
        // A planned arm the run's settings do not make is named, with what the run lists.
        if let Some(a) = self
            .rates_trained
            .iter()
            .find(|a| !crate::config::rate_ok(a.rate))
        {
            return Err(format!(
                "a planned rate {} (in rates_trained) outside 1e-10..=3.4e38",
                a.rate
            ));
        }
        if let Some(a) = self
            .rates_trained
            .iter()
            .find(|a| !groups.contains(&a.group))
        {
            return Err(format!(
                "a planned arm {} (rate {}, batch size {}, in rates_trained) in a group the run does not list (its schedules {}, batch sizes {:?})",
                a.label(),
                a.rate,
                c.batch_of(a.group),
                c.schedules
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                c.sizes()
            ));
        }
        let checks = [
            (
                self.data.inputs >= 1
                    && self.data.class_names.len()
                        >= match self.data.task {
                            Task::Regression => 1,
                            Task::Classification => 2,
                        }
                    && (self.data.task == Task::Regression) == self.config.loss.is_regression(),
                format!(
                    "data of {} inputs and {} classes (a {}) with the loss {}",
                    self.data.inputs,
                    self.data.class_names.len(),
                    self.data.task,
                    self.config.loss.name()
                ),
            ),
            (
                c.networks().iter().all(|n| {
                    c.model_of(n, self.data.shape())
                        .training_bytes(c.largest_batch())
                        .is_some()
                }),
                "a network too large to count".to_string(),
            ),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(what),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            lrsweep_version: String::new(),
            burn_version: String::new(),
            config: SweepConfig::default(),
            rates_trained: vec![],
            backend: "flex".into(),
            adapter: "CPU".into(),
            backend_fallback_reason: None,
            data: DataRecord::default(),
            started: String::new(),
        }
    }

    #[test]
    fn the_identity_changes_with_every_setting_that_shapes_training() {
        let base = record();
        let id_of = |r: &RunRecord, arm: Arm, seed: u64| r.member_identity(Unit { arm, seed });
        let a = Arm::reference(1e-3);
        let id = id_of(&base, a, 42);
        assert_eq!(id, id_of(&record(), a, 42));
        assert_ne!(id, id_of(&base, Arm::reference(1e-2), 42));
        assert_ne!(id, id_of(&base, a, 43), "a further seed is another member");
        let cosine = Arm::new(
            1e-3,
            crate::config::Group {
                schedule: "cosine".parse().unwrap(),
                batch: None,
                network: Default::default(),
                optimizer: Default::default(),
            },
        );
        assert_ne!(id, id_of(&base, cosine, 42), "another schedule");
        let mut other = record();
        other.config.warmup = 2;
        assert_ne!(id, id_of(&other, a, 42), "a warm-up");
        let mut other = record();
        other.config.batch_sizes = vec![256, 1024];
        let big = Arm::new(
            1e-3,
            crate::config::Group {
                schedule: Default::default(),
                batch: Some(1024),
                network: Default::default(),
                optimizer: Default::default(),
            },
        );
        assert_eq!(id, id_of(&other, a, 42), "the run's own size: unchanged");
        assert_ne!(id, id_of(&other, big, 42), "another batch size");
        other.config.scale_lr = crate::config::ScaleLr::Linear;
        assert_ne!(
            id_of(&other, big, 42),
            id_of(&record(), big, 42),
            "scaled rates"
        );
        // Each of a network's settings is another member.
        let of = |network: crate::config::Network| {
            let mut other = record();
            other.config = other.config.training(network);
            let arm = Arm::new(
                1e-3,
                crate::config::Group {
                    network,
                    ..Default::default()
                },
            );
            id_of(&other, arm, 42)
        };
        let reference = crate::config::Network::default();
        assert_eq!(id, of(reference), "the reference's network: unchanged");
        let mut seen = vec![id.clone()];
        for network in [
            crate::config::Network {
                hidden: lrsweep_model::Widths::one(32),
                ..reference
            },
            crate::config::Network {
                hidden: "784,784".parse().unwrap(),
                ..reference
            },
            crate::config::Network {
                activation: lrsweep_model::Activation::Tanh,
                ..reference
            },
            crate::config::Network {
                dropout: 0.2,
                ..reference
            },
            crate::config::Network {
                init: lrsweep_model::Init::HeNormal,
                ..reference
            },
        ] {
            let other = of(network);
            assert!(!seen.contains(&other), "{network:?}");
            seen.push(other);
        }
        // The optimizer: its spec, the coupled decay, the convention and its defaults.
        let sgd = Arm::new(
            1e-3,
            crate::config::Group {
                optimizer: "sgd:0.9".parse().unwrap(),
                ..Default::default()
            },
        );
        let mut other = record();
        other.config.optimizers = vec![Default::default(), sgd.group.optimizer];
        assert_eq!(id, id_of(&other, a, 42), "Adam beside SGD: unchanged");
        let sgd_id = id_of(&other, sgd, 42);
        assert!(!seen.contains(&sgd_id));
        let mut other = record();
        other.config.weight_decay = 1e-4;
        assert_ne!(id, id_of(&other, a, 42), "a weight decay");
        let mut other = record();
        other.config.convention = lrsweep_model::Convention::Torch;
        other.config.optimizer_defaults =
            Some(lrsweep_model::Defaults::of(other.config.convention));
        let torch = id_of(&other, a, 42);
        assert_ne!(id, torch, "PyTorch's convention");
        other.config.optimizer_defaults = None;
        assert_ne!(
            torch,
            id_of(&other, a, 42),
            "an earlier version's --adam torch (ε 1e-7)"
        );
        let mut other = record();
        other.config.optimizer_defaults = None;
        assert_eq!(
            id,
            id_of(&other, a, 42),
            "an earlier version's reference run"
        );
        let mut other = record();
        other.config.seed = 7;
        assert_ne!(id, id_of(&other, a, 42));
        let mut other = record();
        other.config.data.limit = Some(3000);
        assert_ne!(id, id_of(&other, a, 42));
        let mut other = record();
        other.config.epochs = 3;
        other.backend = "wgpu".into();
        assert_eq!(
            id,
            id_of(&other, a, 42),
            "epochs and backend do not shape the weights"
        );
    }
}
