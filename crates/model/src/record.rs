//! What training produces and what can stop it: per-epoch records, scores, errors.

use serde::{Deserialize, Serialize};

/// The figures of one epoch, as Keras reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches, weighted by batch size.
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_acc: f64,
    /// Validation loss after the epoch.
    pub val_loss: f64,
    /// Validation accuracy after the epoch.
    pub val_acc: f64,
    /// Wall-clock seconds of the epoch, training and validation.
    pub seconds: f64,
}

impl EpochRecord {
    /// Whether a loss became NaN or infinite: the run diverged.
    pub fn diverged(&self) -> bool {
        !(self.train_loss.is_finite() && self.val_loss.is_finite())
    }
}

/// Loss and accuracy of a pass over a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Mean loss per image.
    pub loss: f64,
    /// Share of images classified correctly.
    pub accuracy: f64,
}

/// Whether to go on after an epoch (the caller's progress, early stopping or interruption).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Train the next epoch.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// What can stop a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The configuration cannot be trained (a rate that is not a positive number, batch 0).
    #[error("{0}")]
    InvalidConfig(String),
    /// A part of the data holds no image.
    #[error("no data: {0}")]
    NoData(String),
    /// A saved state does not fit the network (wrong tensor count or shape).
    #[error("the saved state does not fit: {0}")]
    BadState(String),
    /// The interrupt flag was set before the epoch finished.
    #[error("interrupted before the epoch finished")]
    Interrupted,
    /// The device failed to execute or read back the work.
    #[error("the device failed: {0}")]
    Device(String),
}
