//! What training produces and what can go wrong: per-epoch records, scores, errors.

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
    /// The learning rate of the epoch's last step (its schedule's); NaN where a record of an
    /// older version did not say.
    #[serde(default = "not_recorded")]
    pub lr: f64,
    /// The standard error of the validation loss: of the mean item loss over the validation
    /// items, `√(s²/n)` with `s²` the items' sample variance. The noise the verdicts read a
    /// curve against; NaN where a record of an older version did not say.
    #[serde(default = "not_recorded")]
    pub val_loss_se: f64,
    /// A regression's validation root mean squared error, in the targets' units (NaN for a
    /// classification). `train_acc` and `val_acc` then hold R².
    #[serde(default = "not_recorded")]
    pub val_rmse: f64,
    /// A regression's validation mean absolute error, in the targets' units.
    #[serde(default = "not_recorded")]
    pub val_mae: f64,
}

fn not_recorded() -> f64 {
    f64::NAN
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
    /// The standard error of the mean loss (a scoring pass's; NaN for a training epoch's).
    pub loss_se: f64,
    /// A regression's root mean squared error in the targets' units, over every target (NaN for
    /// a classification; `accuracy` is then R²).
    pub rmse: f64,
    /// A regression's mean absolute error in the targets' units, over every target.
    pub mae: f64,
}

/// What a regression's score is read against: the sum of squares of the part's standardised
/// targets about their mean (R²'s denominator) and the number of targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Regression {
    /// Σ (t − t̄)² over the part's items and targets, standardised.
    pub sst: f64,
    /// Targets per item.
    pub outputs: usize,
}

/// A regression's error sums over a pass: squared (standardised, for R²), squared and absolute
/// in the targets' units (each error times its target's standard deviation).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorSums {
    /// Σ e² on the standardised scale.
    pub squared: f64,
    /// Σ (e·σ)².
    pub squared_units: f64,
    /// Σ |e·σ|.
    pub absolute_units: f64,
}

impl Score {
    /// The score of `n` images whose losses sum to `sum` and whose squares sum to `squares`
    /// (NaN: not summed), `correct` of them classified right.
    pub fn of(n: usize, sum: f64, squares: f64, correct: f64) -> Self {
        let n_f = n.max(1) as f64;
        let mean = sum / n_f;
        let loss_se = match n {
            0 | 1 => f64::NAN,
            // The sample variance from the sums (f64; clamped at 0 against rounding).
            _ => ((squares - sum * mean).max(0.0) / (n_f - 1.0) / n_f).sqrt(),
        };
        Self {
            loss: mean,
            accuracy: correct / n_f,
            loss_se,
            rmse: f64::NAN,
            mae: f64::NAN,
        }
    }

    /// A regression's score of `n` items from its loss sums and its `errors`: `accuracy` is R²
    /// (pooled over the targets: 1 − Σe²/Σ(t − t̄)² on the standardised scale), RMSE and MAE
    /// are over every target value, in the targets' units.
    pub fn of_regression(
        n: usize,
        sum: f64,
        squares: f64,
        errors: ErrorSums,
        regression: Regression,
    ) -> Self {
        let values = (n * regression.outputs).max(1) as f64;
        Self {
            accuracy: 1.0 - errors.squared / regression.sst,
            rmse: (errors.squared_units / values).sqrt(),
            mae: errors.absolute_units / values,
            ..Self::of(n, sum, squares, 0.0)
        }
    }
}

/// Whether to go on after an epoch (the caller's say: a failed write, a range test's end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Train the next epoch.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// What can stop a training run before it starts or while it runs.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A learning rate that Adam cannot take.
    #[error("learning rate {0} is not a finite number above 0")]
    InvalidRate(f64),
    /// A batch of no images.
    #[error("batch size 0: use at least 1")]
    ZeroBatch,
    /// A stack made of no member.
    #[error("a stack needs at least one rate")]
    NoMembers,
    /// A network wider than the CPU engine's sparse feature index can address.
    #[error("the CPU engine's sparse path takes at most 65536 inputs, not {0}; use --cpu-path dense (or auto)")]
    TooManyInputs(usize),
    /// Data prepared for one CPU layout handed to a stack of the other.
    #[error("data laid out for the {data} path given to a {stack} stack")]
    WrongLayout {
        /// The data's layout.
        data: &'static str,
        /// The stack's.
        stack: &'static str,
    },
    /// A part of the data holds no image.
    #[error("no data: {0}")]
    NoData(String),
    /// A schedule that cannot run over the run's epochs and steps.
    #[error("{0}")]
    Schedule(String),
    /// A saved state does not fit the network (wrong tensor count or shape).
    #[error("the saved state does not fit: {0}")]
    BadState(String),
    /// The device failed to execute the work or to read it back.
    #[error("the device failed to run or read back the work")]
    Device(#[from] burn::tensor::TensorReadError),
}
