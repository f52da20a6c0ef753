//! When a member stops training, as a value: the one rule the epoch loop consults after every
//! epoch, that a resume consults to know whether a rate has finished, and that a summary
//! reports. A member that stops for any reason leaves its stack; the others go on.
//!
//! A hopeless member ([`Hopeless`]) is one whose curves show it will not learn: worse than a
//! uniform guess and not getting better, or at chance accuracy with a loss that does not fall.
//! Once that has held for [`SETTLE_EPOCHS`] epochs it is settled and the member stops.

use serde::{Deserialize, Serialize};

use crate::record::EpochRecord;

/// Epochs a hopeless reading must hold before the member stops: one bad epoch can be a
/// start-up wobble, three in a row with no fall in the loss is not.
pub const SETTLE_EPOCHS: usize = 3;

/// A validation loss above this many times a uniform guess's (`ln C`) is worse than guessing.
pub const WORSE_THAN_GUESSING: f64 = 1.5;

/// A training loss "falls" over a window when it ends at least this share below where it began.
pub const FALLING: f64 = 0.01;

/// Chance accuracy is `1/C` give or take this many binomial standard deviations
/// (`√(p(1−p)/n)` on the `n` validation images).
pub const CHANCE_SIGMAS: f64 = 3.0;

/// An accuracy at least this share of the way from chance (`1/C`) to 1 is far above chance: a
/// member there has learned, whatever its loss says (an overconfident one is **unstable**, not
/// hopeless).
pub const LEARNED_SHARE: f64 = 0.5;

/// What a hopeless member's curves show.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    /// A loss became NaN or infinite.
    NotFinite,
    /// The training loss stayed above a uniform guess's after the first epoch and did not fall.
    AboveUniform {
        /// The last training loss.
        loss: f64,
        /// `ln C` (a regression's: the loss of predicting the training mean).
        uniform: f64,
        /// Whether the guess is a regression's (predicting the mean).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        regression: bool,
    },
    /// The validation accuracy stayed at chance while the training loss did not fall.
    AtChance {
        /// The last validation accuracy.
        accuracy: f64,
        /// `1/C`.
        chance: f64,
        /// The binomial standard deviation of chance accuracy on the validation images.
        sd: f64,
    },
    /// The validation loss stayed above [`WORSE_THAN_GUESSING`] times a uniform guess's.
    WorseThanGuessing {
        /// The last validation loss.
        loss: f64,
        /// `ln C` (a regression's: the loss of predicting the training mean).
        uniform: f64,
        /// Whether the guess is a regression's (predicting the mean).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        regression: bool,
    },
}

impl Cause {
    /// The evidence in a few words, e.g. `training loss 14.5 above a uniform guess's 2.303 and
    /// not falling`.
    pub fn describe(&self) -> String {
        match *self {
            Cause::NotFinite => "loss NaN or infinite".to_string(),
            Cause::AboveUniform {
                loss,
                uniform,
                regression,
            } => format!(
                "training loss {loss:.4} above {} {uniform:.3} and not falling",
                guess_word(regression)
            ),
            // A regression's chance is an R² of 0 (a classification's is 1/C, above 0).
            Cause::AtChance {
                accuracy,
                chance: 0.0,
                sd,
            } => format!(
                "validation R² {accuracy:.3} at that of predicting the mean (0 ± {:.3}) and the training loss not falling",
                CHANCE_SIGMAS * sd
            ),
            Cause::AtChance {
                accuracy,
                chance,
                sd,
            } => format!(
                "validation accuracy {accuracy:.3} at chance ({chance:.3} ± {:.3}) and the training loss not falling",
                CHANCE_SIGMAS * sd
            ),
            Cause::WorseThanGuessing {
                loss,
                uniform,
                regression,
            } => format!(
                "validation loss {loss:.4} above {WORSE_THAN_GUESSING} × {} {uniform:.3}",
                guess_word(regression)
            ),
        }
    }
}

/// What a guess is called: a uniform guess's loss, or a regression's prediction of the mean.
fn guess_word(regression: bool) -> &'static str {
    match regression {
        true => "predicting the mean's",
        false => "a uniform guess's",
    }
}

/// What makes a member hopeless for a data set: its class count (a uniform guess has loss
/// `ln C`, chance accuracy `1/C`) and its validation size (the noise of chance accuracy).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hopeless {
    /// Classes (a regression's targets).
    pub classes: usize,
    /// Validation images.
    pub valid_len: usize,
    /// A regression's guess: the validation loss of predicting the training part's mean (a
    /// standardised MSE near 1), in place of a uniform guess's `ln C`; its chance accuracy is
    /// then an R² of 0. None for a classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guess: Option<f64>,
}

impl Hopeless {
    /// What a member of `classes` outputs scored on `valid` under `loss` is read against: a
    /// regression's guess is the loss of predicting the training part's mean (0 on the
    /// standardised scale) of `valid`'s targets.
    pub fn of(classes: usize, valid: &lrsweep_data::Part, loss: crate::loss::LossKind) -> Self {
        let guess = valid.targets().map(|t| loss.guess(t));
        Hopeless {
            classes,
            valid_len: valid.len(),
            guess,
        }
    }

    /// A guess's loss: a uniform guess's `ln C`, or a regression's [`Hopeless::guess`].
    pub fn uniform(&self) -> f64 {
        self.guess
            .unwrap_or_else(|| (self.classes.max(2) as f64).ln())
    }

    /// Chance accuracy: `1/C`, or a regression's R² of 0 (predicting the mean).
    pub fn chance(&self) -> f64 {
        match self.guess {
            Some(_) => 0.0,
            None => 1.0 / self.classes.max(2) as f64,
        }
    }

    /// The noise of chance accuracy on the validation items: the binomial standard deviation
    /// `√(p(1−p)/n)`; for a regression, `√2/n`: a constant prediction `c` has the R²
    /// `−n(ȳ − c)²/Σ(y − ȳ)²`, about `−χ²₁/n` when `c` is the training part's mean (a
    /// chi-square of one degree, standard deviation √2, over the validation items).
    pub fn chance_sd(&self) -> f64 {
        let n = self.valid_len.max(1) as f64;
        match self.guess {
            Some(_) => 2f64.sqrt() / n,
            None => {
                let p = self.chance();
                (p * (1.0 - p) / n).sqrt()
            }
        }
    }

    /// Whether `accuracy` on the validation set is far above chance: at least
    /// [`LEARNED_SHARE`] of the way from chance to 1, and beyond chance's noise.
    pub fn far_above_chance(&self, accuracy: f64) -> bool {
        let chance = self.chance();
        accuracy >= chance + LEARNED_SHARE * (1.0 - chance)
            && accuracy > chance + CHANCE_SIGMAS * self.chance_sd()
    }

    /// Why the last `window` epochs of `records` show a hopeless member, if they do. The loss
    /// conditions count only epochs after the first (the first epoch's mean includes the
    /// untrained start) and judge the fall against the epoch before the window; a member whose
    /// training loss is below a uniform guess's and falling is never hopeless, nor one whose
    /// validation accuracy stayed far above chance ([`Hopeless::far_above_chance`]): a loss
    /// worse than guessing with such accuracy is overconfidence, not a failure to learn.
    pub fn judge(&self, records: &[EpochRecord], window: usize) -> Option<Cause> {
        let window = window.max(1);
        if records.len() < window {
            return None;
        }
        let recent = &records[records.len() - window..];
        let last = recent.last()?;
        if recent.iter().all(|r| self.far_above_chance(r.val_acc)) {
            return None;
        }
        let uniform = self.uniform();
        if recent
            .iter()
            .all(|r| r.val_loss > WORSE_THAN_GUESSING * uniform)
        {
            return Some(Cause::WorseThanGuessing {
                loss: last.val_loss,
                uniform,
                regression: self.guess.is_some(),
            });
        }
        // The loss conditions need an epoch before the window, and no first epoch in it.
        let before = records.len().checked_sub(window + 1).map(|i| records[i])?;
        let falling = last.train_loss < (1.0 - FALLING) * before.train_loss;
        if falling {
            return None;
        }
        if recent.iter().all(|r| r.train_loss > uniform) {
            return Some(Cause::AboveUniform {
                loss: last.train_loss,
                uniform,
                regression: self.guess.is_some(),
            });
        }
        let (chance, sd) = (self.chance(), self.chance_sd());
        if recent
            .iter()
            .all(|r| (r.val_acc - chance).abs() <= CHANCE_SIGMAS * sd)
        {
            return Some(Cause::AtChance {
                accuracy: last.val_acc,
                chance,
                sd,
            });
        }
        None
    }
}

/// Where and how a member was pruned: the one value of it (the stop it makes, the summary's
/// `pruned_at` and rank are read from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pruned {
    /// The rung's epoch: the member's last.
    pub epoch: usize,
    /// Its rank there (1 = best).
    pub rank: usize,
    /// How many members were ranked.
    pub of: usize,
}

impl Pruned {
    /// `pruned at epoch 3 (rank 4 of 5)`.
    pub fn describe(&self) -> String {
        format!(
            "pruned at epoch {} (rank {} of {})",
            self.epoch, self.rank, self.of
        )
    }
}

/// Why a member stopped training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Stop {
    /// It trained every epoch the run asked for.
    Completed {
        /// Epochs trained.
        epochs: usize,
    },
    /// A loss became NaN or infinite, or the member was hopeless for [`SETTLE_EPOCHS`]
    /// epochs ([`Hopeless`]).
    Diverged {
        /// The epoch it stopped after.
        epoch: usize,
        /// The first epoch of the evidence.
        since: usize,
        /// What the curves showed.
        cause: Cause,
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
    /// Ranked out at a rung of `--prune` (decided by `crate::prune`): it keeps what it
    /// trained.
    Pruned(Pruned),
    /// A signal (Ctrl-C, SIGTERM) stopped it after `epoch` epochs; a resume continues it.
    /// Never decided by [`StopRule`]: the records alone cannot show it.
    Interrupted {
        /// Epochs finished.
        epoch: usize,
    },
}

impl Stop {
    /// The epoch after which the member stopped (its last).
    pub fn epoch(&self) -> usize {
        match *self {
            Stop::Completed { epochs } => epochs,
            Stop::Diverged { epoch, .. }
            | Stop::Patience { epoch, .. }
            | Stop::Interrupted { epoch } => epoch,
            Stop::Pruned(p) => p.epoch,
        }
    }

    /// Whether the member is done: it will not train again (all but an interruption).
    pub fn is_final(&self) -> bool {
        !matches!(self, Stop::Interrupted { .. })
    }

    /// Why it stopped, in a few words: `all 150 epochs`, `diverged at epoch 2` (a loss NaN or
    /// infinite), `hopeless at epoch 4 (…)` (hopeless curves: diverged, or not moving, which
    /// the summary's verdict tells apart), `early stopping (patience 5) at epoch 12; best epoch
    /// 7`, `interrupted after epoch 4`.
    pub fn describe(&self) -> String {
        let stopped = |cause: Cause| match cause {
            Cause::NotFinite => "diverged",
            _ => "hopeless",
        };
        match *self {
            Stop::Completed { epochs: 1 } => "its one epoch".to_string(),
            Stop::Completed { epochs } => format!("all {epochs} epochs"),
            Stop::Diverged {
                epoch,
                since,
                cause,
            } if since < epoch => {
                format!(
                    "{} at epoch {epoch} ({} since epoch {since})",
                    stopped(cause),
                    cause.describe()
                )
            }
            Stop::Diverged { epoch, cause, .. } => {
                format!("{} at epoch {epoch} ({})", stopped(cause), cause.describe())
            }
            Stop::Patience {
                patience,
                best_epoch,
                epoch,
            } => format!(
                "early stopping (patience {patience}) at epoch {epoch}; best epoch {best_epoch}"
            ),
            Stop::Pruned(pruned) => pruned.describe(),
            Stop::Interrupted { epoch } => format!("interrupted after epoch {epoch}"),
        }
    }
}

/// The rule: the run's epoch count, early stopping on validation loss with the user's
/// patience (Keras' `EarlyStopping(monitor="val_loss", patience=N)`), if any, and whether a
/// settled hopeless member stops (not with `--full-curves`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StopRule {
    /// Epochs to train at most.
    pub epochs: usize,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: Option<usize>,
    /// Stop a member hopeless for [`SETTLE_EPOCHS`] epochs.
    pub hopeless: Option<Hopeless>,
}

impl StopRule {
    /// The rule of a run of `epochs`, with `patience` and, unless it is `None` (`--full-curves`,
    /// or a validation size that is not known), stopping settled `hopeless` members.
    pub fn new(epochs: usize, patience: Option<usize>, hopeless: Option<Hopeless>) -> Self {
        Self {
            epochs,
            patience,
            hopeless: hopeless.filter(|h| h.valid_len > 0 && h.classes > 1),
        }
    }

    /// Why a member with these records (in epoch order, from the first) stops after the last of
    /// them; `None` while it goes on. Divergence comes first (a NaN or infinite loss, or a
    /// settled hopeless reading), then patience, then the epoch count.
    pub fn check(&self, records: &[EpochRecord]) -> Option<Stop> {
        let last = records.last()?;
        if last.diverged() {
            return Some(Stop::Diverged {
                epoch: last.epoch,
                since: last.epoch,
                cause: Cause::NotFinite,
            });
        }
        if let Some(cause) = self.hopeless.and_then(|h| h.judge(records, SETTLE_EPOCHS)) {
            return Some(Stop::Diverged {
                epoch: last.epoch,
                since: last.epoch + 1 - SETTLE_EPOCHS,
                cause,
            });
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

    /// The first time the rule stopped a member with these records: the stop it made after
    /// the earliest epoch where it says stop (a member trained past it, as with
    /// `--full-curves` or an older version, or a crafted file, is read as it stopped there).
    /// The one scan for it: what the pruning, the summary and a resume ask.
    pub fn first_stop(&self, records: &[EpochRecord]) -> Option<Stop> {
        (1..=records.len()).find_map(|k| self.check(&records[..k]))
    }

    /// Whether the rule had stopped a member by epoch `epoch` (its records up to there).
    pub fn stopped_by(&self, records: &[EpochRecord], epoch: usize) -> bool {
        self.first_stop(&records[..records.len().min(epoch)])
            .is_some()
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
            lr: 1e-3,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }
    }

    #[test]
    fn the_rule_says_why_and_when() {
        let rule = StopRule {
            epochs: 12,
            patience: None,
            hopeless: None,
        };
        let falling: Vec<EpochRecord> = (1..=12).map(|e| rec(e, 1.0 / e as f64)).collect();
        assert_eq!(rule.check(&falling[..11]), None);
        assert_eq!(rule.check(&falling), Some(Stop::Completed { epochs: 12 }));
        assert_eq!(rule.check(&[]), None);

        let mut nan = falling[..3].to_vec();
        nan.push(rec(4, f64::NAN));
        assert_eq!(
            rule.check(&nan),
            Some(Stop::Diverged {
                epoch: 4,
                since: 4,
                cause: Cause::NotFinite
            })
        );

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
            hopeless: None,
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

    /// A curve from (train loss, val loss, val acc) per epoch.
    fn curve(points: &[(f64, f64, f64)]) -> Vec<EpochRecord> {
        points
            .iter()
            .enumerate()
            .map(|(i, &(train_loss, val_loss, val_acc))| EpochRecord {
                epoch: i + 1,
                train_loss,
                train_acc: val_acc,
                val_loss,
                val_acc,
                seconds: 1.0,
                lr: 1e-3,
                val_loss_se: f64::NAN,
                val_rmse: f64::NAN,
                val_mae: f64::NAN,
            })
            .collect()
    }

    #[test]
    fn hopeless_curves_are_told_from_slow_ones() {
        let mnist = Hopeless {
            classes: 10,
            valid_len: 10_500,
            guess: None,
        };
        // Slow: above ln 10 in epoch 1 (the untrained start), then below it and falling.
        let slow = curve(&[(2.33, 2.29, 0.15), (2.26, 2.22, 0.25), (2.20, 2.15, 0.35)]);
        for n in 1..=3 {
            assert_eq!(mnist.judge(&slow[..n], n), None, "slow, {n} epochs");
        }
        // Slow but still above ln 10 and falling by more than 1% an epoch: not hopeless.
        let slower = curve(&[(2.40, 2.38, 0.12), (2.36, 2.34, 0.14), (2.33, 2.31, 0.16)]);
        assert_eq!(mnist.judge(&slower, 2), None);
        // Stuck: 1e-1 in the reference, loss 14.5 flat at chance.
        let stuck = curve(&[(14.4, 14.5, 0.098); 5]);
        assert!(matches!(
            mnist.judge(&stuck, 3),
            Some(Cause::WorseThanGuessing { .. })
        ));
        // Exploding in its first epoch: worse than guessing at once.
        let exploding = curve(&[(547_239.0, 12.79, 0.11)]);
        assert!(matches!(
            mnist.judge(&exploding, 1),
            Some(Cause::WorseThanGuessing { .. })
        ));
        // Noisy and flat at the uniform guess: above it, not falling.
        let flat = curve(&[
            (2.31, 2.3027, 0.1),
            (2.3040, 2.3028, 0.099),
            (2.3035, 2.3027, 0.101),
            (2.3041, 2.3027, 0.1),
        ]);
        assert!(matches!(
            mnist.judge(&flat, 3),
            Some(Cause::AboveUniform { .. })
        ));
        // A regression's guess is predicting the mean (a standardised MSE of 1 here, R² 0):
        // flat above it, then flat at R² 0 below it, each said in a regression's words.
        let regression = Hopeless {
            classes: 1,
            valid_len: 200,
            guess: Some(1.0),
        };
        let above = curve(&[
            (1.2, 1.2, -0.2),
            (1.21, 1.2, -0.2),
            (1.2, 1.2, -0.2),
            (1.205, 1.2, -0.2),
        ]);
        let said = regression.judge(&above, 3).expect("hopeless").describe();
        assert!(said.contains("above predicting the mean's 1.000"), "{said}");
        let at_zero = curve(&[
            (0.985, 1.0, 0.0),
            (0.98, 1.0, 0.001),
            (0.985, 1.0, -0.001),
            (0.98, 1.0, 0.0),
        ]);
        let said = regression.judge(&at_zero, 3).expect("hopeless").describe();
        assert!(
            said.contains("validation R² 0.000 at that of predicting the mean"),
            "{said}"
        );
        assert!(regression.far_above_chance(0.6) && !regression.far_above_chance(0.4));
        // At chance while the loss wobbles just below ln 10 without falling.
        let chance = curve(&[
            (2.31, 2.30, 0.1),
            (2.300, 2.300, 0.101),
            (2.299, 2.300, 0.099),
            (2.300, 2.300, 0.1),
        ]);
        assert!(matches!(
            mnist.judge(&chance, 3),
            Some(Cause::AtChance { .. })
        ));
        // Chance on a small validation set is wider: 0.14 is within 3σ of 0.1 on 150 images.
        let small = Hopeless {
            classes: 10,
            valid_len: 150,
            guess: None,
        };
        let wide = curve(&[
            (2.31, 2.30, 0.1),
            (2.300, 2.300, 0.14),
            (2.299, 2.300, 0.06),
            (2.300, 2.300, 0.12),
        ]);
        assert!(small.judge(&wide, 3).is_some() && mnist.judge(&wide, 3).is_none());

        // The rule stops a member once the reading has held for SETTLE_EPOCHS epochs.
        let rule = StopRule {
            epochs: 150,
            patience: None,
            hopeless: Some(mnist),
        };
        assert_eq!(rule.check(&stuck[..2]), None);
        let stop = rule.check(&stuck[..3]).unwrap();
        assert!(
            matches!(
                stop,
                Stop::Diverged {
                    epoch: 3,
                    since: 1,
                    ..
                }
            ),
            "{stop:?}"
        );
        assert!(
            stop.describe().contains("since epoch 1"),
            "{}",
            stop.describe()
        );
        assert_eq!(rule.check(&slow), None);
        let full = StopRule {
            hopeless: None,
            ..rule
        };
        assert_eq!(full.check(&stuck), None, "--full-curves trains on");
    }
}
