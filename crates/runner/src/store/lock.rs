//! The lock that keeps two processes from writing one run: an OS lock (`flock`) on
//! `lrsweep.lock`, which the kernel releases when its process ends, however it ends.
//!
//! A sweep, `report`, and a distributed run's refine and summary steps hold it exclusively; the
//! `lrsweep work` processes that train one rate each hold it shared (many at once, each rate
//! guarded by its own claim, [`super::claim`]). An exclusive holder writes its process id into
//! the file, for messages only, and removes the file when it lets go.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::exit::note;

/// File name of the lock inside a run directory.
pub const FILE: &str = super::layout::names::LOCK;

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One holder: a sweep, a report, a refine or summary step.
    Exclusive,
    /// Any number of holders, no exclusive one: `lrsweep work` processes.
    Shared,
}

/// The refusal of a lock another live process holds: a run in use, not a failure to write.
#[derive(Debug)]
pub struct Held(String);

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Held {}

/// A held lock; released (an exclusive one's file removed) when dropped or when the process dies.
pub struct Lock {
    path: PathBuf,
    mode: Mode,
    /// Holds the `flock`; closing it releases the lock.
    _file: File,
}

/// Whether `file` is still the file at `path` (not one removed and created anew meanwhile).
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn holder(file: &mut File) -> String {
    let mut text = String::new();
    // A holder's pid is a few bytes: a crafted or damaged lock file is read no further.
    let _ = file
        .rewind()
        .and_then(|()| file.take(64).read_to_string(&mut text));
    text.trim().to_string()
}

impl Lock {
    /// Takes the lock of `dir` exclusively, or refuses while another process holds it, naming
    /// the lock file and the holder.
    pub fn acquire(dir: &Path) -> Result<Self> {
        Self::take(dir, Mode::Exclusive, None)
    }

    /// Takes the lock of `dir` in `mode`, waiting (after printing `waiting`) while a holder
    /// that excludes it runs.
    pub fn wait(dir: &Path, mode: Mode, waiting: &str) -> Result<Self> {
        Self::take(dir, mode, Some(waiting))
    }

    fn take(dir: &Path, mode: Mode, waiting: Option<&str>) -> Result<Self> {
        let path = dir.join(FILE);
        for _ in 0..8 {
            let mut file = super::fs::no_follow()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| {
                    format!(
                        "opening the lock file {} (lrsweep never opens it through a symbolic link)",
                        path.display()
                    )
                })?;
            if !file.metadata().is_ok_and(|m| m.is_file()) {
                anyhow::bail!(
                    "{} is not a regular file (a FIFO, socket or device stands where lrsweep keeps the run's lock); remove it and try again",
                    path.display()
                );
            }
            let tried = match mode {
                Mode::Exclusive => file.try_lock(),
                Mode::Shared => file.try_lock_shared(),
            };
            match tried {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let pid = holder(&mut file);
                    let who = if pid.is_empty() {
                        "by `lrsweep work` processes training its rates (see `lrsweep status`)"
                            .to_string()
                    } else {
                        format!("by another lrsweep (process {pid})")
                    };
                    let Some(waiting) = waiting else {
                        return Err(anyhow::Error::new(Held(format!(
                            "{} is being written {who}, which holds {}; wait for it to finish or stop it, or choose another directory",
                            dir.display(),
                            path.display()
                        ))));
                    };
                    note(&format!(
                        "{} is being written {who}; {waiting}",
                        dir.display()
                    ));
                    match mode {
                        Mode::Exclusive => file.lock(),
                        Mode::Shared => file.lock_shared(),
                    }
                    .with_context(|| format!("locking {}", path.display()))?;
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()))
                }
            }
            // The previous holder may have removed the file between our open and our lock.
            if !same_file(&file, &path) {
                continue;
            }
            // Whoever holds the run's lock clears what dead processes left half-written.
            super::fs::remove_stale_temporaries(dir);
            if mode == Mode::Shared && !holder(&mut file).is_empty() {
                // A process id here is a dead exclusive holder's (a live one would exclude us):
                // cleared, so that a sweep refused while workers hold the lock is told of them,
                // not of the dead process. Shared holders never write it otherwise.
                let _ = file.set_len(0);
            }
            let previous = (mode == Mode::Exclusive).then(|| holder(&mut file));
            // Held from here: a failure to write the process id (a full disk) drops the lock,
            // which removes its file, so a failed start leaves no empty lock behind.
            let mut lock = Self {
                path,
                mode,
                _file: file,
            };
            if let Some(previous) = previous {
                if !previous.is_empty() {
                    note(&format!(
                        "taking over the lock {} left by a process that no longer runs ({previous})",
                        lock.path.display()
                    ));
                }
                let file = &mut lock._file;
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| write!(file, "{}", std::process::id()))
                    .with_context(|| format!("writing {}", lock.path.display()))?;
            }
            return Ok(lock);
        }
        bail!(
            "could not take the lock {}: it keeps being replaced",
            path.display()
        )
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so nobody can lock the old file after us. Shared holders
        // leave it: others may hold it with them.
        if self.mode == Mode::Exclusive {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_a_second_and_a_dead_holders_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::acquire(dir.path()).unwrap();
        let err = format!("{:#}", Lock::acquire(dir.path()).err().unwrap());
        assert!(
            err.contains(FILE) && err.contains(&std::process::id().to_string()),
            "{err}"
        );
        drop(first);
        assert!(!dir.path().join(FILE).exists());
        // A file left by a process that died (and whose id may now be anybody's): no flock on it.
        std::fs::write(dir.path().join(FILE), "1").unwrap();
        let again = Lock::acquire(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(FILE)).unwrap(),
            std::process::id().to_string()
        );
        drop(again);
    }

    #[test]
    fn a_sweep_refused_while_workers_hold_the_lock_is_told_of_them_not_of_a_dead_holder() {
        let dir = tempfile::tempdir().unwrap();
        // A killed sweep's id stays in the file; a worker takes the lock over it.
        std::fs::write(dir.path().join(FILE), "4000000000").unwrap();
        let worker = Lock::wait(dir.path(), Mode::Shared, "waiting").unwrap();
        let err = Lock::acquire(dir.path()).err().unwrap();
        assert!(err.is::<Held>());
        let err = format!("{err:#}");
        assert!(
            err.contains("lrsweep work") && !err.contains("4000000000"),
            "{err}"
        );
        drop(worker);
    }

    #[test]
    fn workers_share_the_lock_and_keep_a_sweep_out_until_the_last_one_ends() {
        let dir = tempfile::tempdir().unwrap();
        let a = Lock::wait(dir.path(), Mode::Shared, "waiting").unwrap();
        let b = Lock::wait(dir.path(), Mode::Shared, "waiting").unwrap();
        let err = format!("{:#}", Lock::acquire(dir.path()).err().unwrap());
        assert!(err.contains("lrsweep work"), "{err}");
        drop(a);
        assert!(
            Lock::acquire(dir.path()).is_err(),
            "one worker still holds it"
        );
        drop(b);
        let sweep = Lock::acquire(dir.path()).unwrap();
        // A worker waits for the exclusive holder; here it is released from another thread.
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || Lock::wait(&path, Mode::Shared, "waiting").is_ok());
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(sweep);
        assert!(waiter.join().unwrap());
    }
}
