//! Progress on stderr: on a terminal, a bar for the rates overall and one bar per rate being
//! trained; otherwise (or with TERM=dumb) one plain line per epoch with every rate's figures.
//! Writing progress never fails a run.

use std::io::IsTerminal;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lrsweep_model::EpochRecord;

use crate::exit::note;

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
    },
    /// Plain lines without escape codes; the figures of an epoch's rates gathered into one.
    Plain {
        /// Figures of the epoch in progress, one entry per rate reported so far.
        line: Mutex<Vec<String>>,
    },
}

/// The guarded value, even if a thread panicked while holding it (progress is best effort).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn figures(r: &EpochRecord) -> String {
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
                line: Mutex::new(Vec::new()),
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
        }
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
            Self::Plain { .. } => {
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
            }
            Self::Plain { line } => {
                let mut parts = lock(line);
                parts.push(format!(
                    "lr {label} epoch {}/{epochs}: {}",
                    r.epoch,
                    figures(r)
                ));
                if last {
                    note(&parts.join(" | "));
                    parts.clear();
                }
            }
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
