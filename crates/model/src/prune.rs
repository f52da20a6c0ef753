//! Pruning as a round trains: synchronous successive halving. At each rung every member still
//! training has the same number of epochs behind it, so the ranking is fair: the best
//! ⌈n/ETA⌉ go on, the others stop there (pruned), keeping all they trained.
//!
//! Every decision is a function of the members' records alone (and the stop rule, which says
//! who left before a rung on its own): a resumed run makes the same decisions again from its
//! metrics, and a run trained one member after another makes them once all have reached the
//! rung.
//!
//! **The refinement's side.** The refinement adds rates between the best listed rate and its
//! better neighbour. Halving alone can send it the wrong way: at the first rung a fast rate's
//! early lead (1e-2's 0.109 at epoch 3 in the reference) hides a slow rate that ends better
//! (1e-4's 0.064 by epoch 57). So, in the round of the listed rates, the leader's two
//! neighbours (by rate, among the members still training) both go on until their duel is
//! decided: one of them has **settled** (its lowest validation loss is [`Halving::min`] epochs
//! old or more) and the other is already below it, or both have settled. Only then is the
//! loser ranked like any other member. A settled curve can still dip, so this is a rule of
//! evidence, not a proof; the summary says which way the refinement went and why.

use serde::{Deserialize, Serialize};

use crate::record::EpochRecord;
use crate::stop::{Pruned, StopRule};

/// `halving[:ETA[:MIN]]`: rungs at epochs MIN, MIN·ETA, MIN·ETA², … below the run's epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halving {
    /// Keep ⌈n/ETA⌉ of n members at each rung (at least 2).
    pub eta: usize,
    /// The first rung's epoch (at least 1).
    pub min: usize,
}

impl Default for Halving {
    fn default() -> Self {
        Self { eta: 3, min: 3 }
    }
}

impl std::str::FromStr for Halving {
    type Err = String;

    /// Reads `halving`, `halving:ETA` or `halving:ETA:MIN`, saying what is wrong otherwise.
    fn from_str(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split(':');
        if parts.next() != Some("halving") {
            return Err(format!(
                "unknown pruning '{spec}': the one pruner is halving[:ETA[:MIN]] (e.g. halving, halving:3:3)"
            ));
        }
        let mut value = |name: &str, default: usize, least: usize| -> Result<usize, String> {
            match parts.next() {
                None => Ok(default),
                Some(text) => match text.parse::<usize>() {
                    Ok(v) if v >= least => Ok(v),
                    _ => Err(format!(
                        "'{spec}': {name} must be a whole number of at least {least}, not '{text}'"
                    )),
                },
            }
        };
        let d = Self::default();
        let eta = value("ETA (keep 1 of every ETA members at a rung)", d.eta, 2)?;
        let min = value("MIN (the first rung's epoch)", d.min, 1)?;
        if parts.next().is_some() {
            return Err(format!(
                "'{spec}': too many fields; write halving[:ETA[:MIN]]"
            ));
        }
        Ok(Self { eta, min })
    }
}

impl std::fmt::Display for Halving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "halving:{}:{}", self.eta, self.min)
    }
}

impl Halving {
    /// The rungs of a run of `epochs`: MIN·ETAᵏ for k = 0, 1, … while below `epochs`.
    pub fn rungs(&self, epochs: usize) -> Vec<usize> {
        let mut rungs = Vec::new();
        let mut e = self.min.max(1);
        while e < epochs {
            rungs.push(e);
            match e.checked_mul(self.eta.max(2)) {
                Some(next) => e = next,
                None => break,
            }
        }
        rungs
    }

    /// Members that go on from a rung where `n` members are ranked: ⌈n/ETA⌉.
    pub fn survivors(&self, n: usize) -> usize {
        n.div_ceil(self.eta.max(2))
    }

    /// Refuses a pruner that would never prune in a run of `epochs` (its first rung at or past
    /// the last epoch), with the fix.
    pub fn check(&self, epochs: usize) -> Result<(), String> {
        if self.min >= epochs {
            return Err(format!(
                "{self}: its first rung (epoch {}) is not below --epochs {epochs}, so it would never prune; choose a MIN below {epochs} (halving:{}:MIN) or more epochs",
                self.min, self.eta
            ));
        }
        Ok(())
    }
}

/// A round's pruning so far, read from its members' records.
#[derive(Debug, Clone, PartialEq)]
pub struct Decisions {
    /// Per member (in the order given): the rung where it was pruned, if it was.
    pub pruned: Vec<Option<Pruned>>,
    /// The epoch every member still training must reach before the next decision: the first
    /// rung not decided yet, or the run's last epoch.
    pub next: usize,
    /// One line per rung where the refinement's side kept a member that ranked out.
    pub kept_for_side: Vec<String>,
}

/// The lowest finite validation loss of `records`, or +∞ when a loss became NaN or infinite
/// (a diverged member ranks last) or there is none.
fn best_so_far(records: &[EpochRecord]) -> f64 {
    if records.iter().any(|r| r.diverged()) {
        return f64::INFINITY;
    }
    records
        .iter()
        .map(|r| r.val_loss)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min)
}

/// Whether `records` (up to a rung) have settled: their lowest validation loss is at least
/// `window` epochs old.
fn settled(records: &[EpochRecord], window: usize) -> bool {
    let Some(last) = records.last() else {
        return false;
    };
    let best = records
        .iter()
        .filter(|r| r.val_loss.is_finite())
        .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss));
    best.is_none_or(|b| last.epoch >= b.epoch + window)
}

/// The decisions of `halving` over a round's members: `members[i]` is the i-th member's rate
/// and records (in the round's listed order, which breaks ties); `rule` says who stopped on
/// their own; `epochs` is the run's; with `guard_side` (the listed rates' round) the leader's
/// neighbours go on until the refinement's side is clear (see the module docs).
///
/// `references` are rates of an earlier round that finished (the refinement round's bar: the
/// listed rates that were not pruned): at each rung they are ranked with the members on their
/// records up to it and take their places among the survivors, but are never pruned nor waited
/// for. A refined rate goes on only while it stays among the best ⌈n/ETA⌉ of all rates at the
/// same epoch.
pub fn decide(
    halving: &Halving,
    rule: &StopRule,
    epochs: usize,
    members: &[(f64, &[EpochRecord])],
    guard_side: bool,
    references: &[(f64, &[EpochRecord])],
) -> Decisions {
    let mut pruned: Vec<Option<Pruned>> = vec![None; members.len()];
    let mut kept_for_side = Vec::new();
    for rung in halving.rungs(epochs) {
        // Who trains past this rung's decision: not pruned before, not stopped on its own
        // before or at it.
        let alive: Vec<usize> = (0..members.len())
            .filter(|&i| pruned[i].is_none())
            .filter(|&i| !rule.stopped_by(members[i].1, rung))
            .collect();
        let references_here = references
            .iter()
            .filter(|(_, r)| r.len() >= rung && !rule.stopped_by(r, rung))
            .count();
        if alive.is_empty() || alive.len() + references_here < 2 {
            // Nothing left to rank, at this rung or any later one.
            break;
        }
        if alive.iter().any(|&i| members[i].1.len() < rung) {
            // Some are still on their way to the rung: the decision waits for them.
            return Decisions {
                pruned,
                next: rung,
                kept_for_side,
            };
        }
        // References index after the members; one that stopped on its own at or before the
        // rung (a hopeless rate, one stopped by patience) is not ranked.
        let all: Vec<(f64, &[EpochRecord])> = members.iter().chain(references).copied().collect();
        let mut candidates = alive;
        candidates.extend(
            (0..references.len())
                .map(|k| members.len() + k)
                .filter(|&i| all[i].1.len() >= rung)
                .filter(|&i| !rule.stopped_by(all[i].1, rung)),
        );
        let members = &all[..];
        let score = |i: usize| best_so_far(&members[i].1[..rung]);
        let mut ranked = candidates.clone();
        ranked.sort_by(|&a, &b| score(a).total_cmp(&score(b)).then(a.cmp(&b)));
        let keep = halving.survivors(ranked.len());
        let mut protected: Vec<usize> = Vec::new();
        if guard_side {
            let leader = ranked[0];
            let mut by_rate = candidates.clone();
            by_rate.sort_by(|&a, &b| members[a].0.total_cmp(&members[b].0));
            let at = by_rate.iter().position(|&i| i == leader).unwrap_or(0);
            let (lower, upper) = (
                at.checked_sub(1).map(|k| by_rate[k]),
                by_rate.get(at + 1).copied(),
            );
            // A neighbour that reads hopeless at the rung (worse than guessing, or not
            // falling above it) is no contender: its side is decided against it.
            let contender = |i: usize| {
                let records = &members[i].1[..rung];
                rule.hopeless.is_none_or(|h| h.judge(records, 1).is_none())
            };
            if let (Some(a), Some(b)) = (
                lower.filter(|&a| contender(a)),
                upper.filter(|&b| contender(b)),
            ) {
                let (ra, rb) = (&members[a].1[..rung], &members[b].1[..rung]);
                let (sa, sb) = (settled(ra, halving.min), settled(rb, halving.min));
                let decided =
                    (sa && score(b) < score(a)) || (sb && score(a) < score(b)) || (sa && sb);
                if !decided {
                    protected = vec![a, b];
                }
            }
        }
        for (pos, &i) in ranked.iter().enumerate() {
            if pos < keep || i >= pruned.len() {
                continue;
            }
            if protected.contains(&i) {
                kept_for_side.push(format!(
                    "epoch {rung}: rate {} ranked {} of {} but went on: a neighbour of the leader, {}, whose side was not clear yet",
                    members[i].0,
                    pos + 1,
                    ranked.len(),
                    members[ranked[0]].0
                ));
                continue;
            }
            pruned[i] = Some(Pruned {
                epoch: rung,
                rank: pos + 1,
                of: ranked.len(),
            });
        }
    }
    Decisions {
        pruned,
        next: epochs,
        kept_for_side,
    }
}

/// One member of a run as its pruning is replayed ([`replay`]).
#[derive(Debug, Clone, Copy)]
pub struct Contender<'a> {
    /// Its rate (as listed or refined).
    pub rate: f64,
    /// Whether it is one of the listed rates (the first round), not a refined one.
    pub listed: bool,
    /// Its group (members of different groups are never ranked together).
    pub group: usize,
    /// The epochs it has trained.
    pub records: &'a [EpochRecord],
}

/// A run's pruning as its rounds decide it ([`replay`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Per member (in the order given): the rung where it was pruned, if it was.
    pub pruned: Vec<Option<Pruned>>,
    /// Per member: the epoch every member of its round still training must reach before the
    /// round's next decision (the run's epochs when none is left).
    pub next: Vec<usize>,
    /// One line per rung where the refinement's side kept a member that ranked out.
    pub kept_for_side: Vec<String>,
}

/// The one replay of a run's pruning, that the round training it, the summary and the
/// refinement all ask: in each group, the listed rates' round (guarding the refinement's side),
/// then the refined rates' round with the listed rates that were not pruned as its bar. Every
/// decision comes from the members' records alone, so the replay of a finished run is the
/// decisions its rounds made.
pub fn replay(halving: &Halving, rule: &StopRule, epochs: usize, members: &[Contender]) -> Replay {
    let mut replay = Replay {
        pruned: vec![None; members.len()],
        next: vec![epochs; members.len()],
        kept_for_side: Vec::new(),
    };
    let mut groups: Vec<usize> = Vec::new();
    for m in members {
        if !groups.contains(&m.group) {
            groups.push(m.group);
        }
    }
    for group in groups {
        let mut bar: Vec<(f64, &[EpochRecord])> = Vec::new();
        for listed in [true, false] {
            let round: Vec<usize> = (0..members.len())
                .filter(|&i| members[i].group == group && members[i].listed == listed)
                .collect();
            if round.is_empty() {
                continue;
            }
            let of_round: Vec<(f64, &[EpochRecord])> = round
                .iter()
                .map(|&i| (members[i].rate, members[i].records))
                .collect();
            let d = decide(halving, rule, epochs, &of_round, listed, &bar);
            for (k, &i) in round.iter().enumerate() {
                replay.pruned[i] = d.pruned[k];
                replay.next[i] = d.next;
            }
            replay.kept_for_side.extend(d.kept_for_side);
            if listed {
                bar = of_round
                    .into_iter()
                    .zip(&d.pruned)
                    .filter(|(_, p)| p.is_none())
                    .map(|(m, _)| m)
                    .collect();
            }
        }
    }
    replay
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(n: usize, f: impl Fn(usize) -> f64) -> Vec<EpochRecord> {
        (1..=n)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: f(e),
                train_acc: 0.9,
                val_loss: f(e),
                val_acc: 0.9,
                seconds: 1.0,
                lr: 1e-3,
                val_loss_se: f64::NAN,
                val_rmse: f64::NAN,
                val_mae: f64::NAN,
            })
            .collect()
    }

    #[test]
    fn rungs_and_survivors() {
        let h = Halving::default();
        assert_eq!(h.rungs(150), vec![3, 9, 27, 81]);
        assert_eq!(h.rungs(81), vec![3, 9, 27]);
        assert_eq!(h.rungs(4), vec![3]);
        assert_eq!(Halving { eta: 2, min: 1 }.rungs(20), vec![1, 2, 4, 8, 16]);
        assert_eq!(Halving { eta: 4, min: 5 }.rungs(100), vec![5, 20, 80]);
        assert_eq!(
            (
                h.survivors(7),
                h.survivors(5),
                h.survivors(3),
                h.survivors(1)
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(Halving { eta: 2, min: 1 }.survivors(5), 3);
        assert!(h.check(3).is_err() && h.check(4).is_ok());
    }

    #[test]
    fn specs_are_read_or_refused_with_the_reason() {
        assert_eq!("halving".parse::<Halving>(), Ok(Halving::default()));
        assert_eq!(
            "halving:4".parse::<Halving>(),
            Ok(Halving { eta: 4, min: 3 })
        );
        assert_eq!(
            "halving:2:5".parse::<Halving>(),
            Ok(Halving { eta: 2, min: 5 })
        );
        for bad in [
            "halving:1",
            "halving:0",
            "halving:3:0",
            "halving:x",
            "hyperband",
            "halving:3:3:3",
        ] {
            assert!(bad.parse::<Halving>().is_err(), "{bad}");
        }
        assert!("halving:1".parse::<Halving>().unwrap_err().contains("ETA"));
    }

    #[test]
    fn halving_keeps_the_best_third_and_waits_for_every_member() {
        let rule = StopRule::new(20, None, None);
        let h = Halving::default();
        // Five members, listed order; losses fixed per member: 0.5, 0.1, 0.3, NaN, 0.2.
        let levels = [0.5, 0.1, 0.3, f64::NAN, 0.2];
        let curves: Vec<Vec<EpochRecord>> = levels.iter().map(|&l| curve(3, move |_| l)).collect();
        let members: Vec<(f64, &[EpochRecord])> = curves
            .iter()
            .enumerate()
            .map(|(i, c)| (10f64.powi(-(i as i32)), c.as_slice()))
            .collect();
        let d = decide(&h, &rule, 20, &members, false, &[]);
        let ranks: Vec<Option<usize>> = d.pruned.iter().map(|p| p.map(|p| p.rank)).collect();
        // The NaN member stopped on its own (the rule: diverged), so it is not ranked; the
        // others rank 0.1, 0.2, 0.3, 0.5 and the best two go on (⌈4/3⌉).
        assert_eq!(ranks, vec![Some(4), None, Some(3), None, None]);
        assert!(d.pruned.iter().flatten().all(|p| p.epoch == 3 && p.of == 4));
        assert_eq!(d.next, 9, "the survivors train to the next rung");
        // One member not at the rung yet: nothing decided.
        let short = curve(2, |_| 0.05);
        let mut waiting = members.clone();
        waiting[0] = (1.0, short.as_slice());
        let d = decide(&h, &rule, 20, &waiting, false, &[]);
        assert!(d.pruned.iter().all(Option::is_none));
        assert_eq!(d.next, 3);
        // Ties by listed order; a lone member is never pruned.
        let same: Vec<Vec<EpochRecord>> = (0..3).map(|_| curve(3, |_| 0.2)).collect();
        let members: Vec<(f64, &[EpochRecord])> = same
            .iter()
            .enumerate()
            .map(|(i, c)| (i as f64 + 1.0, c.as_slice()))
            .collect();
        let d = decide(&h, &rule, 20, &members, false, &[]);
        assert_eq!(
            d.pruned.iter().map(Option::is_none).collect::<Vec<_>>(),
            vec![true, false, false]
        );
        let one = curve(20, |e| 1.0 / e as f64);
        let d = decide(&h, &rule, 20, &[(1e-3, one.as_slice())], false, &[]);
        assert_eq!((d.pruned, d.next), (vec![None], 20));
    }

    #[test]
    fn the_leaders_neighbours_go_on_until_the_side_is_clear() {
        // The reference's shape: 1e-4 slow but ending lowest, 1e-3 the leader, 1e-2 fast then
        // overfitting (its minimum 0.109 at epoch 3).
        let slow = curve(27, |e| 0.5 / (1.0 + 0.5 * e as f64)); // 0.2 at 3, 0.091 at 9
        let lead = curve(27, |e| 0.1 / (1.0 + 0.2 * e as f64) + 0.02); // 0.083 at 3
        let fast = curve(27, |e| 0.109 + 0.01 * (e as f64 - 3.0).abs());
        let tiny = curve(27, |e| 2.0 - 0.01 * e as f64);
        let big = curve(27, |_| 14.5);
        let members: Vec<(f64, &[EpochRecord])> = vec![
            (1e-5, &tiny),
            (1e-4, &slow),
            (1e-3, &lead),
            (1e-2, &fast),
            (1e-1, &big),
        ];
        let rule = StopRule::new(150, None, None);
        let h = Halving::default();
        let plain = decide(&h, &rule, 150, &members, false, &[]);
        assert!(
            plain.pruned[1].is_some_and(|p| p.epoch == 3),
            "halving alone loses 1e-4"
        );
        let guarded = decide(&h, &rule, 150, &members, true, &[]);
        // Epoch 3: 1e-4 ranked 4th but kept (1e-2 has not settled); epoch 9: 1e-2 has settled
        // and 1e-4 is below it: the side is clear, and ranking decides.
        assert_eq!(guarded.pruned[1].map(|p| p.epoch), Some(9));
        assert_eq!(guarded.pruned[3].map(|p| p.epoch), Some(9));
        assert_eq!(guarded.pruned[0].map(|p| p.epoch), Some(3));
        assert!(guarded.pruned[2].is_none());
        assert_eq!(
            guarded.kept_for_side.len(),
            1,
            "{:?}",
            guarded.kept_for_side
        );
    }

    #[test]
    fn the_refinement_round_is_ranked_with_the_finished_listed_rates_as_its_bar() {
        let h = Halving::default();
        let rule = StopRule::new(150, None, None);
        let lead = curve(27, |e| 0.1 / (1.0 + 0.2 * e as f64) + 0.02); // 0.083 at 3
        let half = curve(27, |e| 0.12 / (1.0 + 0.2 * e as f64) + 0.03); // 0.105 at 3
        let quarter = curve(27, |e| 0.2 / (1.0 + 0.2 * e as f64) + 0.03); // 0.155 at 3
        let refined: Vec<(f64, &[EpochRecord])> = vec![(5e-4, &half), (2.5e-4, &quarter)];
        // At epoch 3 the leader holds the one place of three: both refined rates stop there.
        let d = decide(&h, &rule, 150, &refined, false, &[(1e-3, &lead)]);
        let fates: Vec<Option<(usize, usize, usize)>> = d
            .pruned
            .iter()
            .map(|p| p.map(|p| (p.epoch, p.rank, p.of)))
            .collect();
        assert_eq!(fates, vec![Some((3, 2, 3)), Some((3, 3, 3))]);
        // A hopeless listed rate that stopped on its own at the rung is no bar.
        let hopeless = StopRule::new(
            150,
            None,
            Some(crate::stop::Hopeless {
                classes: 10,
                valid_len: 10_500,
                guess: None,
            }),
        );
        let stuck: Vec<EpochRecord> = curve(3, |_| 14.5)
            .into_iter()
            .map(|r| EpochRecord {
                val_acc: 0.1,
                train_acc: 0.1,
                ..r
            })
            .collect();
        let d = decide(
            &h,
            &hopeless,
            150,
            &refined,
            false,
            &[(1e-3, &lead), (1e-1, &stuck)],
        );
        assert_eq!(d.pruned[0].map(|p| p.of), Some(3), "{:?}", d.pruned);
        // Without the bar, the better of the two goes on.
        let d = decide(&h, &rule, 150, &refined, false, &[]);
        assert_eq!((d.pruned[0], d.pruned[1].map(|p| p.epoch)), (None, Some(3)));
    }
}
