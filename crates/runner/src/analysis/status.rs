//! Where each rate of a run stands: what its trainer reports (`status.json`, `done.json`, as
//! data) and the state that evidence shows.

use serde::{Deserialize, Serialize};

/// Who trains (or trained) a rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    /// The machine.
    pub host: String,
    /// The process.
    pub pid: u32,
    /// The device or processor it trains on.
    pub device: String,
    /// The scheduler's job, when it runs under one (Slurm: `<array job>_<task>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

impl Worker {
    /// `host (process P, slurm J) on device`.
    pub fn describe(&self) -> String {
        let job = self
            .job
            .as_ref()
            .map_or(String::new(), |j| format!(", {j}"));
        format!(
            "{} (process {}{job}) on {}",
            self.host, self.pid, self.device
        )
    }
}

/// What a trainer last said it was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    /// Training; a claim no longer held means the process died.
    Running,
    /// Stopped by an error (the reason says which).
    Failed,
    /// Stopped by SIGINT or SIGTERM (Ctrl-C, `scancel`, a job's time limit) after an epoch.
    Interrupted,
}

/// `status.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// What it was doing.
    pub activity: Activity,
    /// Who.
    pub worker: Worker,
    /// Epochs finished (the checkpoint's).
    pub epoch: usize,
    /// Epochs the rate trains.
    pub epochs: usize,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When this was written (local time, RFC 3339).
    pub updated: String,
}

impl Status {
    /// A report written now.
    pub fn now(activity: Activity, worker: &Worker, epoch: usize, epochs: usize) -> Self {
        Self {
            activity,
            worker: worker.clone(),
            epoch,
            epochs,
            reason: None,
            updated: chrono::Local::now().to_rfc3339(),
        }
    }
}

/// `done.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Done {
    /// Epochs trained.
    pub epochs: usize,
    /// Who finished it.
    pub worker: Worker,
    /// When (local time, RFC 3339).
    pub finished: String,
}

/// A rate's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum RateState {
    /// Not started, or nothing trained yet.
    Waiting,
    /// A live process trains it.
    Running {
        /// Who (absent when its report is not written yet).
        worker: Option<Worker>,
        /// Epochs finished.
        epoch: usize,
        /// Epochs in all.
        epochs: usize,
    },
    /// Finished.
    Done {
        /// Who finished it.
        worker: Worker,
        /// Epochs trained.
        epochs: usize,
    },
    /// Stopped by a signal (Ctrl-C, scancel, a time limit) after `epoch` epochs; resuming
    /// continues from its checkpoint (or afresh, when no epoch had finished).
    Interrupted {
        /// Who ran it.
        worker: Worker,
        /// Epochs finished (kept in the checkpoint).
        epoch: usize,
    },
    /// Stopped before finishing; resubmitting (or resuming) continues from its checkpoint.
    Failed {
        /// Who ran it last.
        worker: Option<Worker>,
        /// Epochs finished (kept in the checkpoint).
        epoch: usize,
        /// Why, in a sentence.
        reason: String,
    },
}

/// What a rate's directory holds, as read by the store.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// `done.json`.
    pub done: Option<Done>,
    /// Whether a live process holds the claim.
    pub claimed: bool,
    /// `status.json`.
    pub status: Option<Status>,
    /// Epochs in `metrics.csv` (what a checkpoint-less or older run shows of its progress).
    pub epochs_recorded: usize,
}

/// The state that `evidence` shows, for a rate trained for `epochs`.
pub fn state(evidence: &Evidence, epochs: usize) -> RateState {
    if let Some(done) = &evidence.done {
        return RateState::Done {
            worker: done.worker.clone(),
            epochs: done.epochs,
        };
    }
    let status = evidence.status.as_ref();
    if evidence.claimed {
        return RateState::Running {
            worker: status.map(|s| s.worker.clone()),
            epoch: status.map_or(evidence.epochs_recorded, |s| s.epoch),
            epochs,
        };
    }
    match status {
        None if evidence.epochs_recorded == 0 => RateState::Waiting,
        None => RateState::Failed {
            worker: None,
            epoch: evidence.epochs_recorded,
            reason: format!(
                "stopped after epoch {} of {epochs}",
                evidence.epochs_recorded
            ),
        },
        Some(s) if s.activity == Activity::Interrupted => RateState::Interrupted {
            worker: s.worker.clone(),
            epoch: s.epoch,
        },
        Some(s) => {
            let reason = match s.activity {
                Activity::Failed => s
                    .reason
                    .clone()
                    .unwrap_or_else(|| "failed (no reason recorded)".to_string()),
                Activity::Interrupted => format!(
                    "stopped by a signal (Ctrl-C, scancel or a time limit) after epoch {}",
                    s.epoch
                ),
                Activity::Running => format!(
                    "its process ({} on {}) ended without finishing, after epoch {} (killed, or its node failed)",
                    s.worker.pid, s.worker.host, s.epoch
                ),
            };
            RateState::Failed {
                worker: Some(s.worker.clone()),
                epoch: s.epoch,
                reason,
            }
        }
    }
}

impl RateState {
    /// `waiting`, `running`, `done`, `interrupted` or `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Running { .. } => "running",
            Self::Done { .. } => "done",
            Self::Interrupted { .. } => "interrupted",
            Self::Failed { .. } => "failed",
        }
    }

    /// Why a rate stopped before finishing, in a sentence (none for the other states).
    pub fn why(&self) -> Option<String> {
        match self {
            Self::Interrupted { epoch: 0, .. } => Some(
                "stopped by a signal (Ctrl-C, scancel or a time limit) before its first epoch finished"
                    .to_string(),
            ),
            Self::Interrupted { epoch, .. } => Some(format!(
                "stopped by a signal (Ctrl-C, scancel or a time limit) after epoch {epoch}"
            )),
            Self::Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        }
    }

    /// What continuing does for a stopped rate: from its checkpoint, or afresh (no epoch had
    /// finished).
    pub fn continues(&self) -> &'static str {
        match self {
            Self::Interrupted { epoch: 0, .. } | Self::Failed { epoch: 0, .. } => {
                "it starts afresh: no epoch had finished"
            }
            _ => "it continues from its checkpoint",
        }
    }
}

/// A member's validation figures: the latest epoch's and the best.
#[derive(Debug, Serialize)]
pub struct Figures {
    /// Epochs trained.
    pub epochs: usize,
    /// The latest epoch's validation loss.
    pub val_loss: f64,
    /// The latest epoch's validation accuracy.
    pub val_acc: f64,
    /// The lowest validation loss (NaN when none is finite).
    pub best_val_loss: f64,
    /// The epoch of the lowest validation loss (0 when none is finite).
    pub best_val_loss_epoch: usize,
    /// The highest validation accuracy.
    pub best_val_acc: f64,
}

impl Figures {
    /// The figures of `records`; none before the first epoch.
    pub fn of(records: &[lrsweep_model::EpochRecord]) -> Option<Self> {
        let last = records.last()?;
        let best = records
            .iter()
            .filter(|r| r.val_loss.is_finite())
            .min_by(|a, b| a.val_loss.total_cmp(&b.val_loss));
        Some(Self {
            epochs: records.len(),
            val_loss: last.val_loss,
            val_acc: last.val_acc,
            best_val_loss: best.map_or(f64::NAN, |b| b.val_loss),
            best_val_loss_epoch: best.map_or(0, |b| b.epoch),
            best_val_acc: records.iter().map(|r| r.val_acc).fold(f64::NAN, f64::max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> Worker {
        Worker {
            host: "node7".into(),
            pid: 4242,
            device: "CPU".into(),
            job: Some("slurm 12_3".into()),
        }
    }

    fn status(activity: Activity, epoch: usize) -> Status {
        Status {
            reason: (activity == Activity::Failed).then(|| "disk full".to_string()),
            ..Status::now(activity, &worker(), epoch, 3)
        }
    }

    #[test]
    fn each_state_from_its_evidence() {
        assert_eq!(state(&Evidence::default(), 3), RateState::Waiting);
        let running = Evidence {
            claimed: true,
            status: Some(status(Activity::Running, 2)),
            ..Evidence::default()
        };
        assert_eq!(
            state(&running, 3),
            RateState::Running {
                worker: Some(worker()),
                epoch: 2,
                epochs: 3
            }
        );
        // The same report with nobody holding the claim: the process died.
        let dead = Evidence {
            claimed: false,
            ..running.clone()
        };
        let RateState::Failed { reason, epoch, .. } = state(&dead, 3) else {
            panic!("failed")
        };
        assert_eq!(epoch, 2);
        assert!(
            reason.contains("4242") && reason.contains("node7") && reason.contains("epoch 2"),
            "{reason}"
        );
        let failed = Evidence {
            status: Some(status(Activity::Failed, 1)),
            ..Evidence::default()
        };
        assert!(
            matches!(state(&failed, 3), RateState::Failed { reason, .. } if reason == "disk full")
        );
        let stopped = Evidence {
            status: Some(status(Activity::Interrupted, 1)),
            ..Evidence::default()
        };
        assert!(matches!(
            state(&stopped, 3),
            RateState::Interrupted { epoch: 1, .. }
        ));
        let done = Evidence {
            done: Some(Done {
                epochs: 3,
                worker: worker(),
                finished: String::new(),
            }),
            claimed: true,
            ..failed
        };
        assert_eq!(state(&done, 3).name(), "done");
        let older_run = Evidence {
            epochs_recorded: 2,
            ..Evidence::default()
        };
        assert_eq!(state(&older_run, 3).name(), "failed");
    }
}
