//! Learning-rate schedules: what rate each step of a member's training takes, as a pure
//! function of its listed rate, where the step lies in the run, and (for `plateau`) the
//! validation losses of the epochs before. Nothing is kept between calls, so a resumed member
//! takes exactly the rates an uninterrupted one would.
//!
//! Epochs are numbered as PyTorch's schedulers number them: epoch 1 trains at the rate itself.
//! With `r` the listed rate, `e` the epoch (1-based), `s` the step (0-based, over the run) and
//! `S` the run's steps:
//!
//! | spec | rate | as |
//! |---|---|---|
//! | `constant` | `r` | the reference |
//! | `step:N:G` | `r·G^⌊(e−1)/N⌋`, per epoch | PyTorch `StepLR(step_size=N, gamma=G)` |
//! | `exp:G` | `r·G^(e−1)`, per epoch | PyTorch `ExponentialLR(gamma=G)` |
//! | `cosine[:A]` | `r·(A + (1−A)·½(1+cos(π·s/S)))`, per step | Keras `CosineDecay(r, S, alpha=A)` (A = 0) |
//! | `onecycle` | up from `r/25` to `r` over 30% of the steps, then down to `r/25e4`, both halves of a cosine, per step | PyTorch `OneCycleLR(max_lr=r, total_steps=S)` |
//! | `plateau[:F:P]` | times F after P epochs whose validation loss did not improve on the best by 1e-4 | Keras `ReduceLROnPlateau(factor=F, patience=P)` (F = 0.1, P = 10) |
//!
//! `onecycle` cycles the rate only: Adam's β1 stays 0.9 (PyTorch and fastai also cycle β1
//! between 0.95 and 0.85). The choice keeps every member of a stack on the same Adam, and a
//! sweep of schedules then compares schedules of the rate alone.
//!
//! A **warm-up** of `W` epochs ([`Schedule::rates`]) goes in front of any schedule (Goyal et
//! al.): over its `W·steps` steps the rate climbs linearly, step `t` (1-based) at `t/(W·steps)`
//! of the schedule's first rate; the schedule then runs over the remaining epochs as if the run
//! began there (its epoch 1 is epoch `W + 1`, its `S` the remaining steps).

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::record::EpochRecord;

/// How much a validation loss must fall below the best so far to count as an improvement
/// (Keras' `ReduceLROnPlateau(min_delta=1e-4)`).
pub const PLATEAU_MIN_DELTA: f64 = 1e-4;

/// A learning-rate schedule: how a member's rate changes over its run; the spec is its name.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Schedule {
    /// The listed rate at every step: the reference.
    #[default]
    Constant,
    /// The rate times `gamma` every `every` epochs.
    Step {
        /// Epochs between two decays (N ≥ 1).
        every: usize,
        /// The factor (0 < G ≤ 1).
        gamma: f64,
    },
    /// The rate times `gamma` every epoch.
    Exp {
        /// The factor (0 < G ≤ 1).
        gamma: f64,
    },
    /// Half a cosine per step from the rate down to `alpha` times it at the run's end.
    Cosine {
        /// The final share of the rate (0 ≤ A ≤ 1); `None` when the spec left it (0).
        alpha: Option<f64>,
    },
    /// PyTorch's one-cycle policy with the rate as its peak.
    OneCycle,
    /// The rate times `factor` when validation loss stops improving for `patience` epochs.
    Plateau {
        /// `(factor, patience)`; `None` when the spec left them (0.1, 10).
        given: Option<(f64, usize)>,
    },
}

/// Where one epoch lies in a member's run: what a schedule needs besides the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The epoch about to be trained, 1-based.
    pub epoch: usize,
    /// Steps (batches) per epoch.
    pub steps: usize,
    /// Epochs in the run.
    pub epochs: usize,
    /// Warm-up epochs in front of the schedule.
    pub warmup: usize,
}

/// `onecycle`'s `pct_start`, `div_factor` and `final_div_factor` (PyTorch's defaults).
const ONECYCLE: (f64, f64, f64) = (0.3, 25.0, 1e4);

impl Schedule {
    /// `plateau`'s factor and patience (Keras' defaults when the spec left them).
    fn plateau(given: Option<(f64, usize)>) -> (f64, usize) {
        given.unwrap_or((0.1, 10))
    }

    /// Whether `self` and `other` give every step the same rate: the same schedule written two
    /// ways (`cosine` and `cosine:0`, `plateau` and `plateau:0.1:10`).
    pub fn same_as(&self, other: &Schedule) -> bool {
        let spelled = |s: &Schedule| match *s {
            Schedule::Cosine { alpha } => Schedule::Cosine {
                alpha: Some(alpha.unwrap_or(0.0)),
            },
            Schedule::Plateau { given } => Schedule::Plateau {
                given: Some(Self::plateau(given)),
            },
            s => s,
        };
        spelled(self) == spelled(other)
    }

    /// Whether the rate changes within an epoch (`cosine`, `onecycle`) rather than between
    /// epochs.
    pub fn per_step(&self) -> bool {
        matches!(self, Schedule::Cosine { .. } | Schedule::OneCycle)
    }

    /// Whether its rates depend on the run's length (`cosine` and `onecycle` spread over the
    /// run's steps): a run of such a schedule cannot be extended without changing the rates
    /// its members took.
    pub fn depends_on_length(&self) -> bool {
        self.per_step()
    }

    /// Refuses a schedule that cannot run over `epochs` epochs of `steps` steps each after a
    /// warm-up of `warmup` epochs, saying why.
    pub fn check(&self, epochs: usize, steps: usize, warmup: usize) -> Result<(), String> {
        if warmup >= epochs {
            return Err(format!(
                "--warmup {warmup} leaves no epoch of the {epochs} for the schedule: give fewer warm-up epochs than --epochs"
            ));
        }
        let (span, total) = (epochs - warmup, (epochs - warmup) * steps);
        if *self == Schedule::OneCycle && (span < 2 || total < 4) {
            return Err(format!(
                "onecycle climbs over 30% of the run and anneals over the rest: it needs at least 2 epochs after the warm-up (and 4 steps), not {span} epoch{} of {steps} step{}",
                if span == 1 { "" } else { "s" },
                if steps == 1 { "" } else { "s" }
            ));
        }
        Ok(())
    }

    /// The rate of each step of the epoch `clock` names, for a member listed at `rate` whose
    /// earlier epochs are `history` (what `plateau` and nothing else reads).
    pub fn rates(&self, rate: f64, clock: Clock, history: &[EpochRecord]) -> Vec<f64> {
        let Clock {
            epoch,
            steps,
            epochs,
            warmup,
        } = clock;
        let span = Clock {
            epoch: epoch.saturating_sub(warmup).max(1),
            steps,
            epochs: epochs.saturating_sub(warmup).max(1),
            warmup: 0,
        };
        if epoch <= warmup {
            let first = self.rate_at(rate, span, 0, &[]);
            let ramp = (warmup * steps) as f64;
            return (0..steps)
                .map(|b| first * ((epoch - 1) * steps + b + 1) as f64 / ramp)
                .collect();
        }
        let history = history.get(warmup..).unwrap_or(&[]);
        if !self.per_step() {
            // One rate for the whole epoch (plateau reads the history once, not per step).
            return vec![self.rate_at(rate, span, 0, history); steps];
        }
        (0..steps)
            .map(|b| self.rate_at(rate, span, b, history))
            .collect()
    }

    /// The rate at step `b` of epoch `clock.epoch` of a run without warm-up.
    fn rate_at(&self, rate: f64, clock: Clock, b: usize, history: &[EpochRecord]) -> f64 {
        let e = clock.epoch - 1; // epochs before this one
        let s = (e * clock.steps + b) as f64; // steps before this one
        let total = (clock.epochs * clock.steps) as f64;
        match *self {
            Schedule::Constant => rate,
            Schedule::Step { every, gamma } => rate * gamma.powi((e / every) as i32),
            Schedule::Exp { gamma } => rate * gamma.powi(e as i32),
            Schedule::Cosine { alpha } => {
                let a = alpha.unwrap_or(0.0);
                let done = s.min(total) / total;
                rate * ((1.0 - a) * 0.5 * (1.0 + (PI * done).cos()) + a)
            }
            Schedule::OneCycle => {
                let (pct_start, div, final_div) = ONECYCLE;
                let initial = rate / div;
                let min = initial / final_div;
                let peak_step = pct_start * total - 1.0;
                let last = total - 1.0;
                let cos = |from: f64, to: f64, pct: f64| {
                    to + (from - to) / 2.0 * ((PI * pct).cos() + 1.0)
                };
                if s <= peak_step {
                    cos(initial, rate, s / peak_step)
                } else {
                    cos(rate, min, (s - peak_step) / (last - peak_step))
                }
            }
            Schedule::Plateau { given } => {
                let (factor, patience) = Self::plateau(given);
                let (mut best, mut wait, mut lr) = (f64::INFINITY, 0usize, rate);
                for r in history.iter().take(e) {
                    // Keras: `np.less(current, best - min_delta)`; a NaN never improves.
                    if r.val_loss < best - PLATEAU_MIN_DELTA {
                        best = r.val_loss;
                        wait = 0;
                    } else {
                        wait += 1;
                        if wait >= patience {
                            lr *= factor;
                            wait = 0;
                        }
                    }
                }
                lr
            }
        }
    }

    /// The schedule in a directory name: its spec with `-` for `:` (`step-2-0.5`); none for
    /// `constant`, the reference.
    pub fn slug(&self) -> Option<String> {
        (*self != Schedule::Constant).then(|| self.to_string().replace(':', "-"))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => write!(f, "constant"),
            Schedule::Step { every, gamma } => write!(f, "step:{every}:{gamma}"),
            Schedule::Exp { gamma } => write!(f, "exp:{gamma}"),
            Schedule::Cosine { alpha: None } => write!(f, "cosine"),
            Schedule::Cosine { alpha: Some(a) } => write!(f, "cosine:{a}"),
            Schedule::OneCycle => write!(f, "onecycle"),
            Schedule::Plateau { given: None } => write!(f, "plateau"),
            Schedule::Plateau {
                given: Some((factor, patience)),
            } => write!(f, "plateau:{factor}:{patience}"),
        }
    }
}

/// The forms every schedule takes, for messages.
pub const SCHEDULE_FORMS: &str =
    "constant, step:N:G, exp:G, cosine, cosine:A, onecycle, plateau or plateau:F:P";

impl FromStr for Schedule {
    type Err = String;
    fn from_str(spec: &str) -> Result<Self, String> {
        let parts: Vec<&str> = spec.trim().split(':').collect();
        let number = |what: &str, text: &str| -> Result<f64, String> {
            text.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("schedule '{spec}': {what} '{text}' is not a number"))
        };
        let whole = |what: &str, text: &str| -> Result<usize, String> {
            text.parse::<usize>()
                .map_err(|_| format!("schedule '{spec}': {what} '{text}' is not a whole number"))
        };
        let factor = |what: &str, text: &str, one: bool| -> Result<f64, String> {
            let g = number(what, text)?;
            let ok = g > 0.0 && (g < 1.0 || (one && g == 1.0));
            let range = if one { "0 < G ≤ 1" } else { "0 < F < 1" };
            match ok {
                true => Ok(g),
                false => Err(format!(
                    "schedule '{spec}': {what} {g} is out of range: it must lie in {range} (the rate decays by it)"
                )),
            }
        };
        let schedule = match parts.as_slice() {
            ["constant"] => Schedule::Constant,
            ["step", n, g] => {
                let every = whole("N (epochs between decays)", n)?;
                if every == 0 {
                    return Err(format!(
                        "schedule '{spec}': N must be at least 1 epoch between decays"
                    ));
                }
                Schedule::Step {
                    every,
                    gamma: factor("G", g, true)?,
                }
            }
            ["exp", g] => Schedule::Exp {
                gamma: factor("G", g, true)?,
            },
            ["cosine"] => Schedule::Cosine { alpha: None },
            ["cosine", a] => {
                let alpha = number("A (the final share of the rate)", a)?;
                if !(0.0..=1.0).contains(&alpha) {
                    return Err(format!(
                        "schedule '{spec}': A {alpha} is out of range: the final share of the rate lies in 0 ≤ A ≤ 1"
                    ));
                }
                Schedule::Cosine { alpha: Some(alpha) }
            }
            ["onecycle"] => Schedule::OneCycle,
            ["plateau"] => Schedule::Plateau { given: None },
            ["plateau", f, p] => Schedule::Plateau {
                given: Some((factor("F", f, false)?, whole("P (patience in epochs)", p)?)),
            },
            [name, ..] => {
                let known = ["constant", "step", "exp", "cosine", "onecycle", "plateau"];
                return Err(if known.contains(name) {
                    format!("schedule '{spec}' is malformed: the forms are {SCHEDULE_FORMS}")
                } else {
                    format!("unknown schedule '{name}': choose one of {SCHEDULE_FORMS}")
                });
            }
            [] => return Err(format!("an empty schedule: choose one of {SCHEDULE_FORMS}")),
        };
        Ok(schedule)
    }
}

impl TryFrom<String> for Schedule {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Schedule> for String {
    fn from(s: Schedule) -> String {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
