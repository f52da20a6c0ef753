//! A whole training run: epochs over device-resident data, a record per epoch, resumable.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use burn::tensor::Device;
use lrsweep_data::Part;

use crate::data::DeviceData;
use crate::mlp::ModelConfig;
use crate::record::{EpochRecord, Flow, TrainError};
use crate::state::TrainerState;
use crate::trainer::{TrainConfig, Trainer};

/// One training run to carry out: what to train, on which data and device, and optionally from
/// where to continue and what may interrupt it. Build it with [`Fit::new`], then [`Fit::run`].
pub struct Fit<'a> {
    model: &'a ModelConfig,
    config: &'a TrainConfig,
    train: &'a Part,
    valid: &'a Part,
    device: &'a Device,
    resume: Option<(&'a TrainerState, Vec<EpochRecord>)>,
    interrupt: Option<&'a AtomicBool>,
}

impl<'a> Fit<'a> {
    /// A fresh run of `config` on `model` from `config.seed`, trained on `train`, scored on
    /// `valid` after every epoch.
    pub fn new(
        model: &'a ModelConfig,
        config: &'a TrainConfig,
        train: &'a Part,
        valid: &'a Part,
        device: &'a Device,
    ) -> Self {
        Self {
            model,
            config,
            train,
            valid,
            device,
            resume: None,
            interrupt: None,
        }
    }

    /// Continues from a saved state and the records of the epochs it covers.
    pub fn resume(mut self, state: &'a TrainerState, records: Vec<EpochRecord>) -> Self {
        self.resume = Some((state, records));
        self
    }

    /// Gives up the epoch in progress (after its current batch) once `flag` is set; the records
    /// returned are then those of the finished epochs.
    pub fn interrupt(mut self, flag: &'a AtomicBool) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// Trains; `on_epoch` sees each record (and the trainer) as soon as it exists. A diverged
    /// epoch (NaN or infinite loss) ends the run: it is the last record.
    pub fn run(
        self,
        mut on_epoch: impl FnMut(&EpochRecord, &Trainer) -> Flow,
    ) -> Result<Vec<EpochRecord>, TrainError> {
        let Self {
            model,
            config,
            train,
            valid,
            device,
            resume,
            interrupt,
        } = self;
        if train.is_empty() || valid.is_empty() {
            return Err(TrainError::NoData(format!(
                "training needs images in both parts (train {}, validation {})",
                train.len(),
                valid.len()
            )));
        }
        let (mut trainer, mut records) = match resume {
            Some((state, records)) => (Trainer::restore(state, *config, device)?, records),
            None => (
                Trainer::new(model.init(config.seed, device), *config)?,
                Vec::new(),
            ),
        };
        let first = records.len() + 1;
        let order = |epoch: usize| {
            (config.reshuffle && epoch > 1).then(|| {
                lrsweep_data::split::seeded_permutation(
                    train.len(),
                    config.seed.wrapping_add(epoch as u64),
                )
            })
        };
        let mut train_data =
            DeviceData::upload(train, config.batch_size, order(first).as_deref(), device);
        let valid_data = DeviceData::upload(valid, config.batch_size, None, device);
        for epoch in first..=config.epochs {
            let start = Instant::now();
            if epoch > first {
                if let Some(order) = order(epoch) {
                    train_data = DeviceData::upload(train, config.batch_size, Some(&order), device);
                }
            }
            let Some(t) = trainer.train_epoch_unless(&train_data, interrupt)? else {
                break;
            };
            let v = trainer.evaluate(&valid_data)?;
            let record = EpochRecord {
                epoch,
                train_loss: t.loss,
                train_acc: t.accuracy,
                val_loss: v.loss,
                val_acc: v.accuracy,
                seconds: start.elapsed().as_secs_f64(),
            };
            records.push(record);
            if on_epoch(&record, &trainer) == Flow::Stop || record.diverged() {
                break;
            }
        }
        Ok(records)
    }
}
