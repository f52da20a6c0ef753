//! The answer: the summary of a run's rows and its recommendation (the rate, the epoch, and
//! with `--seeds` whether the lead is beyond the seeds' spread).

use lrsweep_model::Schedule;
use serde::{Deserialize, Serialize};

use super::figures::{BatchFigures, BestFigures, DataSummary, Overview, PruningSummary};
use super::rank::{best, ties};
use super::row::RateSummary;
use crate::analysis::range::{RangeAnswer, Suggestions};
use crate::analysis::verdict::Verdict;
use crate::config::Network;
use lrsweep_model::Optimizer;

fn one_or_none(tests: &[RangeAnswer]) -> bool {
    tests.len() <= 1
}

fn is_adam(o: &Optimizer) -> bool {
    *o == Optimizer::Adam
}
#[cfg(test)]
use lrsweep_model::Hopeless;

/// The recommended rate and epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The rate.
    pub rate: f64,
    /// Its label.
    pub label: String,
    /// Its schedule.
    #[serde(default)]
    pub schedule: Schedule,
    /// Its batch size.
    #[serde(default)]
    pub batch_size: usize,
    /// Its network (left out for the reference's).
    #[serde(default, skip_serializing_if = "Network::is_reference")]
    pub network: Network,
    /// Its optimizer (left out for Adam).
    #[serde(default, skip_serializing_if = "is_adam")]
    pub optimizer: Optimizer,
    /// Its directory in the run.
    #[serde(default)]
    pub dir: String,
    /// The epoch to stop at: the earliest within one standard error of the minimum.
    pub epoch: usize,
    /// The rates whose minima tie with the recommended one's within their noise (the
    /// recommendation is the cheapest of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ties: Vec<String>,
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
    /// The range test's suggestions, when it ran (the first optimizer's with several).
    #[serde(default)]
    pub range_test: Option<Suggestions>,
    /// Each optimizer's range test beside the sweep's answer for it (written with several
    /// optimizers; a run of one has `range_test`).
    #[serde(default, skip_serializing_if = "one_or_none")]
    pub range_tests: Vec<RangeAnswer>,
    /// What the run has not finished yet (rates cut short or not started); empty for a complete
    /// run. The recommendation is then from the rates that finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfinished: Vec<String>,
    /// The user's data the run trained on (absent for the catalogue's sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSummary>,
    /// With `--prune`: what the pruning did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<PruningSummary>,
    /// With several schedules or batch sizes: the overview chart of each group (one group:
    /// `overview.png` alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overviews: Vec<Overview>,
    /// With several batch sizes: each size's best rate, how soon it got there, and its speed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch_sizes: Vec<BatchFigures>,
    /// With several networks: each network's best rate and how far it moved from the first
    /// network's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<BestFigures>,
    /// With several optimizers: each optimizer's best rate, epoch and verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizers: Vec<BestFigures>,
}

impl Summary {
    /// Whether the run is a regression's: its accuracy is R².
    pub fn is_regression(&self) -> bool {
        self.data
            .as_ref()
            .is_some_and(|d| d.task == lrsweep_data::Task::Regression)
    }
}

/// A curve that stayed where an untrained network starts reads as not moving (too small a
/// rate) alone; in a sweep where a smaller rate learned, it is the larger rate's collapse
/// (all units dead, the output the class prior), so it is called diverged, with that evidence.
fn collapsed_not_stalled(rates: &mut [RateSummary]) {
    // Within each group (schedule, network and batch size): another group's rate says nothing
    // of this one's.
    let smallest_learned = |of: &RateSummary| {
        rates
            .iter()
            .filter(|r| r.same_group(of))
            .filter(|r| r.verdict.learned() && r.epochs > 0)
            .map(|r| (r.rate, r.label.clone()))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let collapsed: Vec<(usize, String)> = rates
        .iter()
        .enumerate()
        .filter(|(_, r)| r.verdict == Verdict::NotMoving)
        .filter_map(|(i, r)| {
            smallest_learned(r)
                .filter(|(smallest, _)| r.rate > *smallest)
                .map(|(_, label)| (i, label))
        })
        .collect();
    for (i, label) in collapsed {
        let r = &mut rates[i];
        let reason = format!(
            "training loss {:.4} stayed where an untrained network starts (validation accuracy {:.3}) while the smaller rate {label} learned: a collapse, not a rate too small",
            r.final_train_loss, r.final_val_acc
        );
        r.verdict = Verdict::Diverged;
        r.diverged = true;
        r.diverged_reason = Some(reason.clone());
        r.verdict_reason = reason;
    }
}

/// With `--seeds`: whether the best rate's lead over the next-best is beyond the seeds'
/// spread (the two standard deviations combined), in a sentence.
fn seed_lead(best: &RateSummary, rates: &[RateSummary]) -> Option<String> {
    let sd = best.min_val_loss_sd?;
    let next = rates
        .iter()
        .filter(|r| r.dir != best.dir || r.rate != best.rate)
        .filter(|r| r.verdict.learned() && r.unfinished.is_none())
        .filter(|r| r.score().is_finite())
        .min_by(|a, b| a.score().total_cmp(&b.score()))?;
    // The seeds' spread and each minimum's own standard error, combined.
    let spread = (best.noise().powi(2) + next.noise().powi(2)).sqrt();
    let lead = next.score() - best.score();
    let n = best.seeds.len();
    Some(if lead > spread {
        format!(
            "over {n} seeds its mean {:.4} ± {sd:.4} leads {}'s {:.4} by {lead:.4}, beyond the seeds' spread and the minima's noise ({spread:.4})",
            best.score(),
            next.label,
            next.score()
        )
    } else {
        format!(
            "{} and {} tie within seed noise (means {:.4} and {:.4} over {n} seeds, {lead:.4} apart, spread {spread:.4}); either",
            best.label,
            next.label,
            best.score(),
            next.score()
        )
    })
}

/// The recommendation: the cheapest (fewest epochs to its stop epoch) of the rates that tie
/// with the lowest minimum within noise, and why.
fn recommend(rates: &[RateSummary]) -> Option<Recommendation> {
    let lowest = best(rates)?;
    let tied = ties(lowest, rates);
    let b = *tied
        .iter()
        .min_by(|a, b| {
            a.stop_epoch()
                .cmp(&b.stop_epoch())
                .then(a.score().total_cmp(&b.score()))
        })
        .unwrap_or(&lowest);
    let stop = b.stop_epoch();
    let within = if stop < b.min_val_loss_epoch {
        format!(
            "; stop at epoch {stop}: the minimum at epoch {} is within noise of it",
            b.min_val_loss_epoch
        )
    } else {
        String::new()
    };
    let noisy = |r: &RateSummary| match r.noise() {
        n if n > 0.0 => format!("{:.4} ± {n:.4}", r.score()),
        _ => format!("{:.4}", r.score()),
    };
    let lead = if tied.len() > 1 {
        let others: Vec<&&RateSummary> = tied.iter().filter(|r| r.dir != b.dir).collect();
        let names: Vec<&str> = std::iter::once(b.label.as_str())
            .chain(others.iter().map(|r| r.label.as_str()))
            .collect();
        let figures: Vec<String> = std::iter::once(noisy(b))
            .chain(others.iter().map(|r| noisy(r)))
            .collect();
        let epochs: Vec<String> = others
            .iter()
            .map(|r| format!("{} in {}", r.label, r.stop_epoch()))
            .collect();
        format!(
            "{} tie within noise ({}); {} gets there in {stop} epochs, {}: the cheapest of them",
            and_list(&names),
            figures.join(", "),
            b.label,
            epochs.join(", ")
        )
    } else {
        format!(
            "lowest validation loss of all rates ({} at epoch {}, validation accuracy {:.4} at best{within})",
            noisy(b),
            b.min_val_loss_epoch,
            b.best_val_acc
        )
    };
    let overfit = match b.verdict {
        Verdict::Overfitting => format!(
            "; validation loss then rose by {:.4} by epoch {} (overfitting), so stop at epoch {stop}",
            b.val_loss_rise, b.epochs
        ),
        Verdict::StillImproving => format!(
            "; it was still improving at its last epoch: train longer{}",
            b.more_epochs
                .map_or(String::new(), |k| format!(" (about {k} more epochs)"))
        ),
        _ => String::new(),
    };
    let seeds = seed_lead(b, rates).map_or(String::new(), |s| format!("; {s}"));
    Some(Recommendation {
        rate: b.rate,
        label: b.label.clone(),
        schedule: b.schedule,
        batch_size: b.batch_size,
        network: b.network,
        optimizer: b.optimizer,
        dir: b.dir.clone(),
        epoch: stop,
        ties: tied
            .iter()
            .filter(|r| r.dir != b.dir)
            .map(|r| r.label.clone())
            .collect(),
        reason: format!("{lead}{overfit}{seeds}"),
    })
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Builds the summary and its recommendation.
pub fn summarize(mut rates: Vec<RateSummary>, range_test: Option<Suggestions>) -> Summary {
    collapsed_not_stalled(&mut rates);
    let recommended = recommend(&rates);
    let unfinished = rates
        .iter()
        .filter_map(|r| r.unfinished.as_ref().map(|u| format!("{}: {u}", r.label)))
        .collect();
    Summary {
        rates,
        recommended,
        range_test,
        range_tests: Vec::new(),
        unfinished,
        data: None,
        pruning: None,
        overviews: Vec::new(),
        batch_sizes: Vec::new(),
        networks: Vec::new(),
        optimizers: Vec::new(),
    }
}

/// MNIST's ten classes and 10,500 validation images, for tests.
#[cfg(test)]
pub const TEST_DATA: Hopeless = Hopeless {
    classes: 10,
    valid_len: 10_500,
    guess: None,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::patience_stop;
    use crate::analysis::summary::Facts;
    use crate::analysis::verdict;
    use lrsweep_model::{EpochRecord, Stop, StopRule};

    fn summarize_rate(
        rate: f64,
        records: &[EpochRecord],
        hopeless: &Hopeless,
        reach: Option<f64>,
    ) -> RateSummary {
        RateSummary::of(Facts {
            reach,
            ..Facts::plain(rate, records, *hopeless)
        })
    }

    fn rec(epoch: usize, val_loss: f64, val_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss * 0.9,
            train_acc: val_acc,
            val_loss,
            val_acc,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }
    }

    #[test]
    fn finds_minimum_rise_and_divergence() {
        // Validation loss rises after epoch 2 while the training loss falls: overfitting.
        let falling = |mut r: EpochRecord| {
            r.train_loss = 0.3 / r.epoch as f64;
            r
        };
        let good = summarize_rate(
            1e-3,
            &[
                rec(1, 0.3, 0.9),
                rec(2, 0.1, 0.97),
                rec(3, 0.2, 0.98),
                rec(4, 0.25, 0.98),
            ]
            .map(falling),
            &TEST_DATA,
            None,
        );
        assert_eq!((good.min_val_loss_epoch, good.best_val_acc_epoch), (2, 3));
        assert!((good.val_loss_rise - 0.15).abs() < 1e-12);
        assert!(!good.diverged);
        assert_eq!(
            (good.verdict, good.stop_at),
            (Verdict::Overfitting, Some(2))
        );

        let nan = summarize_rate(
            1e-1,
            &[rec(1, 2.3, 0.1), rec(2, f64::NAN, f64::NAN)],
            &TEST_DATA,
            None,
        );
        assert!(nan.diverged && nan.diverged_reason.as_deref().unwrap().contains("epoch 2"));
        // At chance and flat at a rate that moves each weight hundreds of times its scale in an
        // epoch: a collapse, so diverged (not "not moving").
        let chance = summarize_rate(
            1e-1,
            &[rec(1, 2.3, 0.11), rec(2, 2.3, 0.10)],
            &TEST_DATA,
            Some(verdict::reach(1e-1, 233, 0.05)),
        );
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
            &TEST_DATA,
            None,
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
            hopeless: None,
        };
        let with = |records: &[EpochRecord], rule: StopRule| {
            RateSummary::of(Facts {
                rule,
                ..Facts::plain(1e-3, records, TEST_DATA)
            })
        };
        let s = with(&rising, rule(Some(5)));
        assert_eq!(
            s.stopped,
            Some(Stop::Patience {
                patience: 5,
                best_epoch: 3,
                epoch: 8
            })
        );
        let s = with(&rising, rule(None));
        assert_eq!(
            (s.stopped, s.unfinished.as_deref()),
            (Some(Stop::Completed { epochs: 12 }), None)
        );
        let cut = with(&rising[..4], rule(None));
        assert_eq!(
            (cut.stopped, cut.unfinished.as_deref()),
            (None, Some("4 of 12 epochs"))
        );
    }

    /// Issue 32: on 600 validation items 1e-4's 0.4334 at epoch 121 and 1e-3's 0.4459 at epoch
    /// 12 tie within noise; the cheaper one (fewer epochs) is recommended, and the tie said.
    #[test]
    fn rates_that_tie_within_noise_are_said_so_and_the_cheaper_is_recommended() {
        let fashion = Hopeless {
            classes: 10,
            valid_len: 600,
            guess: None,
        };
        // A curve falling to `min` at epoch `at`, then rising slowly, with a standard error of
        // 0.03 at every epoch (600 items).
        let curve = |min: f64, at: usize, n: usize| -> Vec<EpochRecord> {
            (1..=n)
                .map(|e| {
                    let v = if e <= at {
                        min + 0.5 * (at - e) as f64 / at as f64
                    } else {
                        min + 0.002 * (e - at) as f64
                    };
                    EpochRecord {
                        epoch: e,
                        train_loss: 0.5 / e as f64,
                        train_acc: 0.9,
                        val_loss: v,
                        val_acc: 0.85,
                        seconds: 1.0,
                        lr: 1e-3,
                        val_loss_se: 0.03,
                        val_rmse: f64::NAN,
                        val_mae: f64::NAN,
                    }
                })
                .collect()
        };
        let (slow, fast) = (curve(0.4334, 121, 150), curve(0.4459, 12, 150));
        let row = |rate: f64, records: &[EpochRecord]| {
            RateSummary::of(Facts {
                rule: StopRule::new(150, None, None),
                ..Facts::plain(rate, records, fashion)
            })
        };
        let s = summarize(vec![row(1e-4, &slow), row(1e-3, &fast)], None);
        let r = s.recommended.unwrap();
        assert_eq!(r.label, "0.001", "{}", r.reason);
        assert_eq!(r.ties, vec!["0.0001".to_string()]);
        assert!(
            r.reason.contains("0.001 and 0.0001 tie within noise")
                && r.reason.contains("0.001 gets there in")
                && r.reason.contains("0.0001 in"),
            "{}",
            r.reason
        );
        // Stop epochs by the one-standard-error rule: within 0.03 of each minimum.
        assert!(r.epoch <= 12, "{}", r.epoch);
        assert!(s.rates[0].stop_epoch.unwrap() < 121);
        // On 10,500 items (a standard error of 0.003) they do not tie: the lower one wins.
        let tight = |records: &[EpochRecord]| -> Vec<EpochRecord> {
            records
                .iter()
                .map(|r| EpochRecord {
                    val_loss_se: 0.003,
                    ..*r
                })
                .collect()
        };
        let s = summarize(
            vec![row(1e-4, &tight(&slow)), row(1e-3, &tight(&fast))],
            None,
        );
        let r = s.recommended.unwrap();
        assert_eq!(r.label, "0.0001", "{}", r.reason);
        assert!(r.ties.is_empty());
        assert!(
            r.reason
                .contains("lowest validation loss of all rates (0.4334 ± 0.0030"),
            "{}",
            r.reason
        );
    }
}
