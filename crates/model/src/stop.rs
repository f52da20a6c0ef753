//! When a member stops training, as a value: the one rule the epoch loop consults after every
//! epoch, that a resume consults to know whether a rate has finished, and that a summary
//! reports. A member that stops for any reason leaves its stack; the others go on.

use serde::{Deserialize, Serialize};

use crate::record::EpochRecord;

/// Why a member stopped training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// It trained every epoch the run asked for.
    Completed {
        /// Epochs trained.
        epochs: usize,
    },
    /// A loss became NaN or infinite.
    Diverged {
        /// The epoch it happened in.
        epoch: usize,
    },
    /// Early stopping: validation loss did not improve for `patience` epochs.
    Patience {
        /// The user's patience.
        patience: usize,
        /// The epoch of the lowest validation loss.
        best_epoch: usize,
        /// The epoch it stopped after.
        epoch: usize,
    },
    /// A signal (Ctrl-C, SIGTERM) stopped it after `epoch` epochs; a resume continues it.
    /// Never decided by [`StopRule`]: the records alone cannot show it.
    Interrupted {
        /// Epochs finished.
        epoch: usize,
    },
}

impl Stop {
    /// Whether the member is done: it will not train again (all but an interruption).
    pub fn is_final(&self) -> bool {
        !matches!(self, Stop::Interrupted { .. })
    }

    /// Why it stopped, in a few words: `all 150 epochs`, `diverged at epoch 2`, `early
    /// stopping (patience 5) at epoch 12; best epoch 7`, `interrupted after epoch 4`.
    pub fn describe(&self) -> String {
        match *self {
            Stop::Completed { epochs } => format!("all {epochs} epochs"),
            Stop::Diverged { epoch } => format!("diverged at epoch {epoch}"),
            Stop::Patience {
                patience,
                best_epoch,
                epoch,
            } => format!(
                "early stopping (patience {patience}) at epoch {epoch}; best epoch {best_epoch}"
            ),
            Stop::Interrupted { epoch } => format!("interrupted after epoch {epoch}"),
        }
    }
}

/// The rule: the run's epoch count, and early stopping on validation loss with the user's
/// patience (Keras' `EarlyStopping(monitor="val_loss", patience=N)`), if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRule {
    /// Epochs to train at most.
    pub epochs: usize,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: Option<usize>,
}

impl StopRule {
    /// Why a member with these records (in epoch order, from the first) stops after the last of
    /// them; `None` while it goes on. Divergence comes first, then patience, then the epoch count.
    pub fn check(&self, records: &[EpochRecord]) -> Option<Stop> {
        let last = records.last()?;
        if last.diverged() {
            return Some(Stop::Diverged { epoch: last.epoch });
        }
        if let Some(patience) = self.patience {
            if let Some((best_epoch, epoch)) = patience_stop(records, patience) {
                return Some(Stop::Patience {
                    patience,
                    best_epoch,
                    epoch,
                });
            }
        }
        (records.len() >= self.epochs).then_some(Stop::Completed {
            epochs: records.len(),
        })
    }
}

/// Where early stopping with `patience` stops within `records`, if it does: the epoch of the
/// lowest validation loss so far and the epoch it stops at (the first such point).
pub fn patience_stop(records: &[EpochRecord], patience: usize) -> Option<(usize, usize)> {
    let mut best = f64::INFINITY;
    let mut best_epoch = 0;
    let mut wait = 0;
    for r in records {
        if r.val_loss < best {
            best = r.val_loss;
            best_epoch = r.epoch;
            wait = 0;
        } else {
            wait += 1;
            if wait >= patience {
                return Some((best_epoch, r.epoch));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: usize, val_loss: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss,
            train_acc: 0.5,
            val_loss,
            val_acc: 0.5,
            seconds: 1.0,
        }
    }

    #[test]
    fn the_rule_says_why_and_when() {
        let rule = StopRule {
            epochs: 12,
            patience: None,
        };
        let falling: Vec<EpochRecord> = (1..=12).map(|e| rec(e, 1.0 / e as f64)).collect();
        assert_eq!(rule.check(&falling[..11]), None);
        assert_eq!(rule.check(&falling), Some(Stop::Completed { epochs: 12 }));
        assert_eq!(rule.check(&[]), None);

        let mut nan = falling[..3].to_vec();
        nan.push(rec(4, f64::NAN));
        assert_eq!(rule.check(&nan), Some(Stop::Diverged { epoch: 4 }));

        // Minimum at epoch 3, then rising: patience 5 stops at epoch 8, patience 10 never.
        let rising: Vec<EpochRecord> = (1..=12)
            .map(|e| {
                let l = if e <= 3 {
                    1.0 / e as f64
                } else {
                    0.3 + e as f64 * 0.01
                };
                rec(e, l)
            })
            .collect();
        let with = |patience| StopRule {
            epochs: 12,
            patience: Some(patience),
        };
        let stop = Stop::Patience {
            patience: 5,
            best_epoch: 3,
            epoch: 8,
        };
        assert_eq!(with(5).check(&rising[..7]), None);
        assert_eq!(with(5).check(&rising[..8]), Some(stop));
        assert_eq!(
            with(5).check(&rising),
            Some(stop),
            "the first stop point counts"
        );
        assert_eq!(
            with(10).check(&rising),
            Some(Stop::Completed { epochs: 12 })
        );
        assert_eq!(patience_stop(&rising, 2), Some((3, 5)));
        assert!(stop.describe().contains("patience 5") && stop.describe().contains("epoch 8"));
        assert!(stop.is_final() && !Stop::Interrupted { epoch: 2 }.is_final());
    }
}
