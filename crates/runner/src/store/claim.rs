//! Who trains a rate, and how far it got: the files of one rate's directory that let several
//! processes (a sweep, `lrsweep work` tasks on a cluster's nodes) share a run safely.
//!
//! - `claim.lock`: a `flock` held by the one process training the rate; the kernel releases it
//!   however that process ends, so a held claim means a live trainer.
//! - `status.json`: what the trainer says about itself (host, process, device, scheduler job,
//!   epoch n of N), rewritten atomically after every epoch; failed or interrupted with the reason.
//! - `done.json`: written atomically once the rate has finished (all epochs, diverged or stopped
//!   early) and its files are complete; a rate with it is never trained again.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use super::layout::names;
use crate::analysis::status::{Done, Evidence, Status, Worker};

/// A held claim on a rate: released when dropped or when the process ends.
#[derive(Debug)]
pub struct Claim {
    _file: File,
}

/// How long a claim is retried before the rate counts as another process's: a `status` probe
/// holds the lock for microseconds, a trainer for the whole rate.
const RETRY: Duration = Duration::from_millis(1500);

/// Claims the rate whose directory is `dir` (created if needed); `None` when another process
/// trains it.
pub fn take(dir: &Path) -> Result<Option<Claim>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    super::fs::check_real_dir(dir)?;
    super::fs::remove_stale_temporaries(dir);
    let path = dir.join(names::CLAIM);
    let file = super::fs::no_follow()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(Claim { _file: file })),
            Err(TryLockError::WouldBlock) if started.elapsed() < RETRY => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }
}

/// Whether a live process holds the claim of the rate in `dir` (probed with a shared lock,
/// released at once; never creates anything).
pub fn held(dir: &Path) -> bool {
    let Ok(file) = super::fs::open_read(&dir.join(names::CLAIM)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

/// This process, training on `device`: its host, process id and scheduler job.
pub fn worker_here(device: &str) -> Worker {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".to_string());
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let job = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(array), Some(task)) => Some(format!("slurm {array}_{task}")),
        _ => var("SLURM_JOB_ID").map(|id| format!("slurm {id}")),
    };
    Worker {
        host,
        pid: std::process::id(),
        device: device.to_string(),
        job,
    }
}

/// What the rate directory `dir` shows of its state: done, claimed, reported, epochs recorded.
pub fn evidence(dir: &Path) -> Evidence {
    let epochs_recorded =
        super::fs::read_text_if_present(&dir.join(names::METRICS), super::fs::limit::METRICS)
            .map(|t| t.lines().skip(1).filter(|l| !l.trim().is_empty()).count())
            .unwrap_or(0);
    Evidence {
        done: done(dir),
        claimed: held(dir),
        status: status(dir),
        epochs_recorded,
    }
}

/// Writes the rate's `status.json` (atomically).
pub fn report(dir: &Path, status: &Status) -> Result<()> {
    super::fs::write_json(&dir.join(names::STATUS), status)
}

/// The rate's `status.json`, if there is a readable one.
pub fn status(dir: &Path) -> Option<Status> {
    let text = super::fs::read_text_if_present(&dir.join(names::STATUS), super::fs::limit::SMALL)?;
    serde_json::from_str(&text).ok()
}

/// Marks the rate in `dir` finished (atomically): it is never trained again.
pub fn mark_done(dir: &Path, epochs: usize, worker: &Worker) -> Result<()> {
    let done = Done {
        epochs,
        worker: worker.clone(),
        finished: chrono::Local::now().to_rfc3339(),
    };
    super::fs::write_json(&dir.join(names::DONE), &done)
}

/// Removes the member's `done.json` in `dir` (a run extended by `--epochs`: the member trains
/// again); a link there is removed, never followed.
pub fn undo_done(dir: &Path) -> Result<()> {
    super::fs::remove(&dir.join(names::DONE))
}

/// The rate's `done.json`, if it has finished.
pub fn done(dir: &Path) -> Option<Done> {
    let text = super::fs::read_text_if_present(&dir.join(names::DONE), super::fs::limit::SMALL)?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::status::Activity;

    #[test]
    fn one_claim_at_a_time_and_a_probe_sees_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("lr-0.001");
        assert!(!held(&dir), "nothing there yet");
        let claim = take(&dir).unwrap().expect("free");
        assert!(held(&dir));
        assert!(take(&dir).unwrap().is_none(), "a second claim is refused");
        drop(claim);
        assert!(!held(&dir));
        assert!(take(&dir).unwrap().is_some());
    }

    #[test]
    fn status_and_done_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let worker = worker_here("CPU (2 threads)");
        assert!(status(tmp.path()).is_none() && done(tmp.path()).is_none());
        let s = Status::now(Activity::Running, &worker, 2, 3);
        report(tmp.path(), &s).unwrap();
        assert_eq!(status(tmp.path()), Some(s));
        mark_done(tmp.path(), 3, &worker).unwrap();
        assert_eq!(done(tmp.path()).map(|d| d.epochs), Some(3));
    }
}
