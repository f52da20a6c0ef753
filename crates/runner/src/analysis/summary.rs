//! What the curves say: per rate the best epoch, overfitting and divergence; then a recommendation.

use lrsweep_model::{EpochRecord, Stop, StopRule};
use serde::{Deserialize, Serialize};

use crate::analysis::range::Suggestions;
use crate::config::rate_label;

/// Best validation accuracy at or below this counts as "never above chance" (10 classes).
const CHANCE_CEILING: f64 = 0.2;

/// The analysis of one rate's curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateSummary {
    /// The learning rate.
    pub rate: f64,
    /// The rate as the reference wrote it.
    pub label: String,
    /// Epochs trained.
    pub epochs: usize,
    /// Highest validation accuracy.
    pub best_val_acc: f64,
    /// Epoch of the highest validation accuracy (first one on ties).
    pub best_val_acc_epoch: usize,
    /// Lowest validation loss.
    pub min_val_loss: f64,
    /// Epoch of the lowest validation loss: where early stopping would stop.
    pub min_val_loss_epoch: usize,
    /// Last epoch's training loss.
    pub final_train_loss: f64,
    /// Last epoch's training accuracy.
    pub final_train_acc: f64,
    /// Last epoch's validation loss.
    pub final_val_loss: f64,
    /// Last epoch's validation accuracy.
    pub final_val_acc: f64,
    /// How far validation loss rose after its minimum (last minus minimum): overfitting.
    pub val_loss_rise: f64,
    /// Whether the run diverged.
    pub diverged: bool,
    /// Why it counts as diverged.
    pub diverged_reason: Option<String>,
    /// The epoch early stopping with patience 5 (on validation loss) would have stopped at; none
    /// when it would have run to the end.
    pub patience_5_stop: Option<usize>,
    /// The same with patience 10.
    pub patience_10_stop: Option<usize>,
    /// Why the rate stopped training, by the run's stop rule (with the user's patience), or
    /// that a signal interrupted it; none while it goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// Set when the rate has not finished (its run was interrupted): how far it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<String>,
}

/// The epoch at which early stopping on validation loss with `patience` stops (Keras'
/// `EarlyStopping(monitor="val_loss", patience=N)`), if it does within `records`.
pub fn patience_stop(records: &[EpochRecord], patience: usize) -> Option<usize> {
    lrsweep_model::patience_stop(records, patience).map(|(_, epoch)| epoch)
}

/// Says why `summary`'s rate stopped, by the run's stop rule, or marks it unfinished.
pub fn mark_stop(
    summary: &mut RateSummary,
    records: &[EpochRecord],
    rule: &StopRule,
    epochs: usize,
) {
    summary.stopped = rule.check(records);
    if summary.stopped.is_none() {
        summary.unfinished = Some(format!("{} of {epochs} epochs", records.len()));
    }
}

/// The recommended rate and epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The rate.
    pub rate: f64,
    /// Its label.
    pub label: String,
    /// The epoch to stop at (minimum validation loss).
    pub epoch: usize,
    /// One line saying why.
    pub reason: String,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// One entry per rate, in training order.
    pub rates: Vec<RateSummary>,
    /// The recommendation, absent when every rate diverged.
    pub recommended: Option<Recommendation>,
    /// The range test's suggestions, when it ran, beside the sweep's answer.
    #[serde(default)]
    pub range_test: Option<Suggestions>,
    /// What the run has not finished yet (rates cut short or not started); empty for a complete
    /// run. The recommendation is then from the rates that finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfinished: Vec<String>,
}

fn first_best(
    records: &[EpochRecord],
    key: impl Fn(&EpochRecord) -> f64,
    lower: bool,
) -> Option<&EpochRecord> {
    records
        .iter()
        .filter(|r| key(r).is_finite())
        .fold(None, |best: Option<&EpochRecord>, r| match best {
            Some(b) if (lower && key(r) >= key(b)) || (!lower && key(r) <= key(b)) => Some(b),
            _ => Some(r),
        })
}

/// Analyses one rate's records (none: a rate that has not finished an epoch).
pub fn summarize_rate(rate: f64, records: &[EpochRecord]) -> RateSummary {
    let last = records.last().copied().unwrap_or(EpochRecord {
        epoch: 0,
        train_loss: f64::NAN,
        train_acc: f64::NAN,
        val_loss: f64::NAN,
        val_acc: f64::NAN,
        seconds: 0.0,
    });
    let best_acc = first_best(records, |r| r.val_acc, false);
    let min_loss = first_best(records, |r| r.val_loss, true);
    let best_val_acc = best_acc.map_or(f64::NAN, |r| r.val_acc);
    let min_val_loss = min_loss.map_or(f64::NAN, |r| r.val_loss);
    let diverged_reason = if let Some(bad) = records.iter().find(|r| r.diverged()) {
        Some(format!(
            "loss became NaN or infinite at epoch {}",
            bad.epoch
        ))
    } else if records.is_empty() {
        Some("no epoch finished".to_string())
    } else if best_val_acc.partial_cmp(&CHANCE_CEILING) != Some(std::cmp::Ordering::Greater) {
        Some(format!(
            "validation accuracy never rose above chance (best {best_val_acc:.3})"
        ))
    } else {
        None
    };
    RateSummary {
        rate,
        label: rate_label(rate),
        epochs: records.len(),
        best_val_acc,
        best_val_acc_epoch: best_acc.map_or(0, |r| r.epoch),
        min_val_loss,
        min_val_loss_epoch: min_loss.map_or(0, |r| r.epoch),
        final_train_loss: last.train_loss,
        final_train_acc: last.train_acc,
        final_val_loss: last.val_loss,
        final_val_acc: last.val_acc,
        val_loss_rise: last.val_loss - min_val_loss,
        diverged: diverged_reason.is_some(),
        diverged_reason,
        patience_5_stop: patience_stop(records, 5),
        patience_10_stop: patience_stop(records, 10),
        stopped: None,
        unfinished: None,
    }
}

/// The rate whose lowest validation loss is the lowest, among those that did not diverge.
pub fn best(rates: &[RateSummary]) -> Option<&RateSummary> {
    rates
        .iter()
        .filter(|r| !r.diverged && r.unfinished.is_none() && r.min_val_loss.is_finite())
        .min_by(|a, b| a.min_val_loss.total_cmp(&b.min_val_loss))
}

/// Builds the summary and its recommendation.
pub fn summarize(rates: Vec<RateSummary>, range_test: Option<Suggestions>) -> Summary {
    let recommended = best(&rates).map(|b| {
        let overfit = if b.val_loss_rise > 0.0 && b.min_val_loss_epoch < b.epochs {
            format!(
                "; validation loss then rose by {:.4} by epoch {} (overfitting), so stop at epoch {}",
                b.val_loss_rise, b.epochs, b.min_val_loss_epoch
            )
        } else {
            String::new()
        };
        Recommendation {
            rate: b.rate,
            label: b.label.clone(),
            epoch: b.min_val_loss_epoch,
            reason: format!(
                "lowest validation loss of all rates ({:.4} at epoch {}, validation accuracy {:.4} at best){overfit}",
                b.min_val_loss, b.min_val_loss_epoch, b.best_val_acc
            ),
        }
    });
    let unfinished = rates
        .iter()
        .filter_map(|r| r.unfinished.as_ref().map(|u| format!("{}: {u}", r.label)))
        .collect();
    Summary {
        rates,
        recommended,
        range_test,
        unfinished,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: usize, val_loss: f64, val_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss * 0.9,
            train_acc: val_acc,
            val_loss,
            val_acc,
            seconds: 1.0,
        }
    }

    #[test]
    fn finds_minimum_rise_and_divergence() {
        let good = summarize_rate(
            1e-3,
            &[rec(1, 0.3, 0.9), rec(2, 0.1, 0.97), rec(3, 0.2, 0.98)],
        );
        assert_eq!((good.min_val_loss_epoch, good.best_val_acc_epoch), (2, 3));
        assert!((good.val_loss_rise - 0.1).abs() < 1e-12);
        assert!(!good.diverged);

        let nan = summarize_rate(1e-1, &[rec(1, 2.3, 0.1), rec(2, f64::NAN, f64::NAN)]);
        assert!(nan.diverged && nan.diverged_reason.as_deref().unwrap().contains("epoch 2"));
        let chance = summarize_rate(1e-1, &[rec(1, 2.3, 0.11), rec(2, 2.3, 0.10)]);
        assert!(
            chance.diverged
                && chance
                    .diverged_reason
                    .as_deref()
                    .unwrap()
                    .contains("chance")
        );

        let worse = summarize_rate(
            1e-4,
            &[rec(1, 0.5, 0.85), rec(2, 0.4, 0.9), rec(3, 0.35, 0.91)],
        );
        let s = summarize(vec![worse, good, chance], None);
        let r = s.recommended.as_ref().unwrap();
        assert_eq!((r.label.as_str(), r.epoch), ("0.001", 2));
        assert!(r.reason.contains("overfitting"));
        assert_eq!(
            (s.rates[1].patience_5_stop, s.rates[1].patience_10_stop),
            (None, None)
        );
        let rising: Vec<EpochRecord> = (1..=12)
            .map(|e| {
                rec(
                    e,
                    if e <= 3 {
                        1.0 / e as f64
                    } else {
                        0.3 + e as f64 * 0.01
                    },
                    0.9,
                )
            })
            .collect();
        assert_eq!(patience_stop(&rising, 5), Some(8));
        assert_eq!(patience_stop(&rising, 10), None);
        assert_eq!(patience_stop(&rising, 2), Some(5));

        // The stop the run's rule gives, with the user's patience; unfinished otherwise.
        let rule = |patience| StopRule {
            epochs: 12,
            patience,
        };
        let mut s = summarize_rate(1e-3, &rising);
        mark_stop(&mut s, &rising, &rule(Some(5)), 12);
        assert_eq!(
            s.stopped,
            Some(Stop::Patience {
                patience: 5,
                best_epoch: 3,
                epoch: 8
            })
        );
        mark_stop(&mut s, &rising, &rule(None), 12);
        assert_eq!(
            (s.stopped, s.unfinished.as_deref()),
            (Some(Stop::Completed { epochs: 12 }), None)
        );
        let mut cut = summarize_rate(1e-3, &rising[..4]);
        mark_stop(&mut cut, &rising[..4], &rule(None), 12);
        assert_eq!(
            (cut.stopped, cut.unfinished.as_deref()),
            (None, Some("4 of 12 epochs"))
        );
    }
}
