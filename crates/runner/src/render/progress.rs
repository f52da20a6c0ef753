//! Progress on stderr: on a terminal, a bar for the rates overall and one bar per rate being
//! trained; otherwise (or with TERM=dumb) one plain line per rate and epoch. Both say about how
//! long the whole sweep has left. Writing progress never fails a run.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lrsweep_model::{EpochRecord, Halving};

use crate::exit::note;
use crate::render::text::about;

/// Reports a sweep's progress on stderr.
pub enum Progress {
    /// Bars: rates overall, then one per rate of the current round (with ETA and latest figures).
    Bars {
        /// Holds the bars together.
        multi: MultiProgress,
        /// One tick per rate.
        overall: ProgressBar,
        /// The bars of the rates being trained, by label.
        rates: Mutex<Vec<(String, ProgressBar)>>,
        /// The run's pruning, for the estimate.
        pruning: Option<Halving>,
    },
    /// Plain lines without escape codes, one per rate and epoch.
    Plain {
        /// The round being trained, for the estimate.
        round: Mutex<Round>,
    },
}

/// The round being trained: what the estimate of the time left is made from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Round {
    /// Rates in this round.
    size: usize,
    /// Rates finished before it.
    done: usize,
    /// Rates in the whole sweep.
    total: usize,
    /// Epochs per rate.
    epochs: usize,
    /// The run's pruning: members leave at its rungs.
    pruning: Option<Halving>,
}

impl Round {
    /// About how long the sweep has left after epoch `epoch` of this round took `seconds` (for
    /// the whole stack): the round's remaining epochs at that pace, and every rate not started
    /// yet at the same cost per rate (a smaller stack's epoch is shorter). Early stops make it
    /// shorter than this.
    fn left(&self, epoch: usize, seconds: f64) -> f64 {
        // With pruning, fewer members train after each rung (⌈n/ETA⌉ of n): counted so, the
        // estimate is what the run will train, not every rate to its last epoch.
        let rungs = self.pruning.map_or_else(Vec::new, |h| h.rungs(self.epochs));
        let alive = |n: usize, t: usize| {
            rungs
                .iter()
                .filter(|&&r| r < t)
                .fold(n, |n, _| match self.pruning {
                    Some(h) => h.survivors(n),
                    None => n,
                })
        };
        let now = alive(self.size.max(1), epoch.max(1)).max(1);
        let per_rate_epoch = seconds / now as f64;
        let pending = self.total.saturating_sub(self.done + self.size);
        let this_round: usize = (epoch + 1..=self.epochs).map(|t| alive(self.size, t)).sum();
        let later: usize = (1..=self.epochs).map(|t| alive(pending, t)).sum();
        (this_round + later) as f64 * per_rate_epoch
    }
}

/// The guarded value, even if a thread panicked while holding it (progress is best effort).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn figures(r: &EpochRecord) -> String {
    if !r.val_rmse.is_nan() {
        // A regression's: R² where accuracy is, and the RMSE in the targets' units.
        return format!(
            "loss {:.4} r2 {:.4} val_loss {:.4} val_r2 {:.4} val_rmse {:.4} ({:.2} s)",
            r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.val_rmse, r.seconds
        );
    }
    format!(
        "loss {:.4} acc {:.4} val_loss {:.4} val_acc {:.4} ({:.2} s)",
        r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.seconds
    )
}

impl Progress {
    /// Bars when stderr is a terminal that can draw them, plain lines otherwise.
    pub fn new(rates: usize) -> Self {
        // On a dumb terminal (TERM=dumb) indicatif draws nothing: plain lines instead.
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if !std::io::stderr().is_terminal() || dumb {
            return Self::Plain {
                round: Mutex::new(Round::default()),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(rates as u64));
        overall.set_style(style("rates  {bar:30.cyan/blue} {pos}/{len} {msg}"));
        overall.enable_steady_tick(Duration::from_millis(500));
        Self::Bars {
            multi,
            overall,
            rates: Mutex::new(Vec::new()),
            pruning: None,
        }
    }

    /// The run's pruning, so that the time left counts the members its rungs stop.
    pub fn pruned_by(mut self, halving: Option<Halving>) -> Self {
        match &mut self {
            Self::Bars { pruning, .. } => *pruning = halving,
            Self::Plain { round } => {
                round
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pruning = halving
            }
        }
        self
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        match self {
            Self::Bars { multi, .. } => {
                let _ = multi.println(line);
            }
            Self::Plain { .. } => note(line),
        }
    }

    /// A round of rates starts training (`done` rates finished before, of `total`), trained
    /// `how` (e.g. `together`, `over 2 devices`).
    pub fn start_round(
        &self,
        labels: &[String],
        how: &str,
        done: usize,
        total: usize,
        epochs: usize,
    ) {
        match self {
            Self::Bars {
                multi,
                overall,
                rates,
                ..
            } => {
                overall.set_length(total as u64);
                overall.set_position(done as u64);
                overall.set_message(format!("training {} {how}", labels.join(", ")));
                let mut bars = lock(rates);
                for (_, bar) in bars.drain(..) {
                    bar.finish_and_clear();
                }
                for label in labels {
                    let bar = multi.add(ProgressBar::new(epochs as u64));
                    bar.set_style(style(&format!(
                        "lr {label:<8} {{bar:30.green/white}} {{pos}}/{{len}} eta {{eta}} {{msg}}"
                    )));
                    bar.set_message("starting (the first epoch may compile kernels)");
                    bars.push((label.clone(), bar));
                }
            }
            Self::Plain { round } => {
                let mut round = lock(round);
                *round = Round {
                    size: labels.len(),
                    done,
                    total,
                    epochs,
                    pruning: round.pruning,
                };
                let which = if labels.len() == 1 {
                    format!("learning rate {}", labels[0])
                } else {
                    format!("learning rates {} {how}", labels.join(", "))
                };
                note(&format!("[{}/{total}] {which}: {epochs} epochs", done + 1))
            }
        }
    }

    /// A rate finished an epoch; `last` says it is the last of the rates reporting this epoch.
    pub fn epoch(&self, label: &str, epochs: usize, r: &EpochRecord, last: bool) {
        match self {
            Self::Bars { rates, overall, .. } => {
                if let Some((_, bar)) = lock(rates).iter().find(|(l, _)| l == label) {
                    bar.set_position(r.epoch as u64);
                    bar.set_message(figures(r));
                    if r.epoch >= epochs {
                        overall.inc(1);
                    }
                }
                if last {
                    let left = self.left(r.epoch, r.seconds, epochs);
                    overall.set_message(format!("{} left in the sweep", about(left)));
                }
            }
            Self::Plain { .. } => {
                let mut line = format!("lr {label} epoch {}/{epochs}: {}", r.epoch, figures(r));
                if last {
                    let left = self.left(r.epoch, r.seconds, epochs);
                    line += &format!(" — sweep: {} left", about(left));
                }
                note(&line);
            }
        }
    }

    /// About how long the sweep has left after epoch `epoch` of the round took `seconds` (for
    /// the whole stack).
    pub fn left(&self, epoch: usize, seconds: f64, epochs: usize) -> f64 {
        match self {
            Self::Bars {
                rates,
                overall,
                pruning,
                ..
            } => Round {
                size: lock(rates).len(),
                done: overall.position() as usize,
                total: overall.length().unwrap_or(0) as usize,
                epochs,
                pruning: *pruning,
            }
            .left(epoch, seconds),
            Self::Plain { round } => lock(round).left(epoch, seconds),
        }
    }

    /// All rates are done.
    pub fn finish(&self) {
        if let Self::Bars { overall, rates, .. } = self {
            for (_, bar) in lock(rates).drain(..) {
                bar.finish_and_clear();
            }
            overall.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_counts_this_rounds_epochs_and_the_rates_to_come() {
        // Five rates together, epoch 10 of 150 took 5 s; two refined rates to come.
        let round = Round {
            size: 5,
            done: 0,
            total: 7,
            epochs: 150,
            pruning: None,
        };
        let left = round.left(10, 5.0);
        assert!(
            (left - (140.0 * 5.0 + 2.0 * 150.0 * 1.0)).abs() < 1e-9,
            "{left}"
        );
        assert_eq!(about(left), "about 17 min");
        assert_eq!(about(30.0), "about 30 s");
        assert_eq!(about(9000.0), "about 2.5 h");
    }

    #[test]
    fn with_pruning_the_estimate_counts_the_members_its_rungs_stop() {
        // Issue 38: --quick said "about 30 min left" 15 s before its end. Nine rates under
        // halving:3:3 over 150 epochs: 9 train to epoch 3, 3 to epoch 9, 1 to epoch 27, 1 to
        // 150. After epoch 1 (1 s for the stack of 9): the member-epochs left, at 1/9 s each.
        let round = Round {
            size: 9,
            done: 0,
            total: 9,
            epochs: 150,
            pruning: Some(Halving::default()),
        };
        let member_epochs = 2 * 9 + 6 * 3 + 18 + 123;
        let left = round.left(1, 1.0);
        assert!((left - member_epochs as f64 / 9.0).abs() < 1e-9, "{left}");
        // Without pruning, every rate to epoch 150.
        let all = Round {
            pruning: None,
            ..round
        };
        assert!((all.left(1, 1.0) - 149.0).abs() < 1e-9);
    }
}
