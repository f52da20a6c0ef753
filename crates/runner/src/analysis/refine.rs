//! Refinement: which rates to add after the listed ones, between the best rate and its better
//! neighbour.

use crate::analysis::summary::{best, RateSummary};
use crate::config::{rate_label, Arm, Group, SweepConfig};

/// The refinement a round of rates calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Refinement {
    /// Train `rates` between `best` and `neighbour` (labels of listed rates).
    Between {
        /// The listed rate with the lowest validation loss.
        best: String,
        /// Its better neighbour.
        neighbour: String,
        /// The rates to add, in training order.
        rates: Vec<f64>,
    },
    /// Nothing to refine, and why (a sentence for the user).
    None(&'static str),
}

/// The `n` rates to add after `listed` (the summaries of the listed rates).
pub fn plan(listed: &[RateSummary], n: usize) -> Refinement {
    if n == 0 {
        return Refinement::None("refinement is off");
    }
    let Some(best) = best(listed) else {
        return Refinement::None(
            "no refinement: no listed rate learned (each diverged or did not move)",
        );
    };
    let neighbours = neighbours(listed, best);
    // The better neighbour: the lower minimum validation loss; one that did not learn loses.
    let score = |r: &RateSummary| {
        if !r.verdict.learned() || !r.score().is_finite() {
            f64::INFINITY
        } else {
            r.score()
        }
    };
    let Some(neighbour) = neighbours
        .into_iter()
        .flatten()
        .min_by(|a, b| score(a).total_cmp(&score(b)))
    else {
        return Refinement::None("no refinement: it needs at least two listed rates");
    };
    Refinement::Between {
        best: best.label.clone(),
        neighbour: neighbour.label.clone(),
        rates: refined_rates(best.rate, neighbour.rate, n),
    }
}

/// The refinement of each group of the run `config` (the two rates around the group's own
/// best) from the listed rates' summaries among `rates`, in the groups' order: the group, its
/// listed rates' summaries, the refinement.
pub fn plan_each(
    rates: &[RateSummary],
    config: &SweepConfig,
) -> Vec<(Group, Vec<RateSummary>, Refinement)> {
    config
        .groups()
        .into_iter()
        .map(|group| {
            let size = config.batch_of(group);
            let mine: Vec<RateSummary> = rates
                .iter()
                .filter(|s| s.is_of(group, size))
                .filter(|s| config.rates_of(group).contains(&s.rate))
                .cloned()
                .collect();
            let plan = plan(&mine, config.refine);
            (group, mine, plan)
        })
        .collect()
}

/// What the refinement of a run adds: each group's refined rates as arms, and a line per group
/// saying what was refined (`from` is put after the neighbour's name, e.g. `, from the 4 rates
/// that finished`) or why nothing was; no line when refinement is off.
pub fn refined_arms(
    rates: &[RateSummary],
    config: &SweepConfig,
    from: &str,
) -> (Vec<Arm>, Vec<String>) {
    let (mut arms, mut lines) = (Vec::new(), Vec::new());
    if config.refine == 0 {
        return (arms, lines);
    }
    let several = config.groups().len() > 1;
    for (group, _, plan) in plan_each(rates, config) {
        match plan {
            Refinement::None(why) if several => lines.push(format!("{why} ({})", group.slug())),
            Refinement::None(why) => lines.push(why.to_string()),
            Refinement::Between {
                best,
                neighbour,
                rates,
            } => {
                let labels: Vec<String> = rates.iter().map(|r| rate_label(*r)).collect();
                lines.push(format!(
                    "refining between {best} (best) and {neighbour}{from}: {}",
                    labels.join(", ")
                ));
                arms.extend(rates.into_iter().map(|rate| Arm::new(rate, group)));
            }
        }
    }
    (arms, lines)
}

/// The rates next to `best` among `listed` by rate: the one below and the one above, if any.
fn neighbours<'a>(listed: &'a [RateSummary], best: &RateSummary) -> [Option<&'a RateSummary>; 2] {
    let mut sorted: Vec<&RateSummary> = listed.iter().collect();
    sorted.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let pos = sorted.iter().position(|r| r.rate == best.rate).unwrap_or(0);
    [
        pos.checked_sub(1).map(|i| sorted[i]),
        sorted.get(pos + 1).copied(),
    ]
}

/// With pruning: which way the refinement went and on what evidence, since a pruned
/// neighbour's figure is its best so far, not its best.
pub fn side_evidence(listed: &[RateSummary], plan: &Refinement) -> Option<String> {
    let Refinement::Between {
        best, neighbour, ..
    } = plan
    else {
        return None;
    };
    let find = |label: &str| listed.iter().find(|r| r.label == label);
    let (b, n) = (find(best)?, find(neighbour)?);
    let other = neighbours(listed, b)
        .into_iter()
        .flatten()
        .find(|r| r.label != n.label);
    let figure = |r: &RateSummary| match r.pruned_at {
        Some(e) => format!(
            "{:.4} by epoch {e}, where it was pruned (its lowest then from epoch {})",
            r.min_val_loss, r.min_val_loss_epoch
        ),
        None => format!("{:.4} (epoch {})", r.min_val_loss, r.min_val_loss_epoch),
    };
    let against = match other {
        Some(o) if o.verdict.learned() => format!(" against {}'s {}", o.label, figure(o)),
        Some(o) => format!(" ({} {})", o.label, o.verdict.display()),
        None => String::new(),
    };
    Some(format!(
        "the refinement went between {} (best) and {}: its lowest validation loss {}{against}",
        b.label,
        n.label,
        figure(n)
    ))
}

/// The rates to add after a sweep: `n` rates strictly between `best` and `neighbour`, halving
/// (or doubling) from `best` as the reference did (1e-3 toward 1e-4 gives 5e-4, 2.5e-4), or
/// evenly spaced on a log scale where halvings would reach the neighbour.
pub fn refined_rates(best: f64, neighbour: f64, n: usize) -> Vec<f64> {
    let ratio = (neighbour / best).abs();
    let (lo, hi) = if ratio > 1.0 {
        (1.0, ratio)
    } else {
        (ratio, 1.0)
    };
    let span = hi / lo;
    if n == 0 || span <= 1.0 {
        return vec![];
    }
    let toward_up = neighbour > best;
    if 2f64.powi(n as i32) < span {
        (1..=n)
            .map(|k| {
                let f = 2f64.powi(k as i32);
                if toward_up {
                    best * f
                } else {
                    best / f
                }
            })
            .collect()
    } else {
        (1..=n)
            .map(|k| best * (neighbour / best).powf(k as f64 / (n + 1) as f64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{Facts, RateSummary};
    use lrsweep_model::EpochRecord;

    #[test]
    fn refinement_reproduces_the_reference_and_stays_between() {
        let r = refined_rates(1e-3, 1e-4, 2);
        assert_eq!(r.len(), 2);
        assert!(
            (r[0] - 5e-4).abs() < 1e-15 && (r[1] - 2.5e-4).abs() < 1e-15,
            "{r:?}"
        );
        assert_eq!(refined_rates(1e-3, 1e-2, 2), vec![2e-3, 4e-3]);
        for (b, nb, n) in [(1e-3, 1e-4, 5), (1e-2, 2e-2, 3), (1e-3, 1e-2, 1)] {
            let r = refined_rates(b, nb, n);
            assert_eq!(r.len(), n);
            let (lo, hi) = if b < nb { (b, nb) } else { (nb, b) };
            assert!(r.iter().all(|&x| x > lo && x < hi), "{b} {nb} {r:?}");
        }
        assert!(refined_rates(1e-3, 1e-4, 0).is_empty());
    }

    fn rate(rate: f64, val_loss: f64) -> RateSummary {
        let records = [EpochRecord {
            epoch: 1,
            train_loss: val_loss,
            train_acc: 0.9,
            val_loss,
            val_acc: 0.9,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }];
        RateSummary::of(Facts::plain(
            rate,
            &records,
            crate::analysis::summary::TEST_DATA,
        ))
    }

    #[test]
    fn the_plan_refines_toward_the_better_neighbour_and_both_added_rates_are_right() {
        let listed = [
            rate(1e-5, 0.5),
            rate(1e-4, 0.12),
            rate(1e-3, 0.07),
            rate(1e-2, 0.2),
            rate(1e-1, f64::NAN),
        ];
        let Refinement::Between {
            best,
            neighbour,
            rates,
        } = plan(&listed, 2)
        else {
            panic!("a plan")
        };
        assert_eq!((best.as_str(), neighbour.as_str()), ("0.001", "0.0001"));
        assert_eq!(rates.len(), 2);
        assert!((rates[0] - 5e-4).abs() < 1e-15, "{rates:?}");
        assert!((rates[1] - 2.5e-4).abs() < 1e-15, "{rates:?}");
        assert_eq!(plan(&listed, 0), Refinement::None("refinement is off"));
        assert!(matches!(plan(&listed[..1], 2), Refinement::None(_)));
        assert!(matches!(plan(&listed[4..], 2), Refinement::None(_)));
    }
}
