//! Progress: indicatif bars on a terminal, one plain line per epoch otherwise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lrsweep_model::EpochRecord;

/// Reports a sweep's progress on stderr.
pub enum Progress {
    /// Bars: rates overall, epochs of the current rate (with ETA), latest metrics.
    Bars {
        /// Holds the bars together.
        multi: MultiProgress,
        /// One tick per rate.
        overall: ProgressBar,
        /// One tick per epoch of the current rate.
        epochs: ProgressBar,
    },
    /// Plain lines without escape codes.
    Plain,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new(rates: usize) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self::Plain;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = multi.add(ProgressBar::new(rates as u64));
        overall.set_style(style("rates  {bar:30.cyan/blue} {pos}/{len} {msg}"));
        let epochs = multi.add(ProgressBar::new(0));
        epochs.set_style(style(
            "epochs {bar:30.green/white} {pos}/{len} eta {eta} {msg}",
        ));
        overall.enable_steady_tick(Duration::from_millis(500));
        Self::Bars {
            multi,
            overall,
            epochs,
        }
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        match self {
            Self::Bars { multi, .. } => {
                let _ = multi.println(line);
            }
            Self::Plain => eprintln!("{line}"),
        }
    }

    /// A rate starts.
    pub fn start_rate(&self, label: &str, index: usize, total: usize, epochs: usize) {
        match self {
            Self::Bars {
                overall, epochs: e, ..
            } => {
                overall.set_length(total as u64);
                overall.set_position(index as u64);
                overall.set_message(format!("lr {label}"));
                e.reset();
                e.set_length(epochs as u64);
                e.set_message("starting (the first epoch may compile kernels)");
            }
            Self::Plain => eprintln!(
                "[{}/{total}] learning rate {label}: {epochs} epochs",
                index + 1
            ),
        }
    }

    /// An epoch finished.
    pub fn epoch(&self, label: &str, epochs: usize, r: &EpochRecord) {
        let figures = format!(
            "loss {:.4} acc {:.4} val_loss {:.4} val_acc {:.4} ({:.2} s)",
            r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.seconds
        );
        match self {
            Self::Bars { epochs: e, .. } => {
                e.set_position(r.epoch as u64);
                e.set_message(figures);
            }
            Self::Plain => eprintln!("lr {label} epoch {}/{epochs}: {figures}", r.epoch),
        }
    }

    /// All rates are done.
    pub fn finish(&self) {
        if let Self::Bars {
            overall, epochs, ..
        } = self
        {
            epochs.finish_and_clear();
            overall.finish_and_clear();
        }
    }
}
