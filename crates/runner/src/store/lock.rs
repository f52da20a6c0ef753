//! The lock that keeps two processes from writing one run: an OS lock (`flock`) on
//! `lrsweep.lock`, which the kernel releases when its process ends, however it ends. The file
//! holds the owner's process id, for messages only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::exit::note;

/// File name of the lock inside a run directory.
pub const FILE: &str = "lrsweep.lock";

/// A held lock; released (and its file removed) when dropped or when the process dies.
pub struct Lock {
    path: PathBuf,
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
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    text.trim().to_string()
}

impl Lock {
    /// Takes the lock of `dir`, or refuses while another process
    /// holds it, naming the lock file and the holder.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        for _ in 0..8 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .with_context(|| format!("opening the lock file {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let pid = holder(&mut file);
                    bail!(
                        "{} is being written by another lrsweep (process {}, which holds {}); wait for it to finish or stop it, or choose another directory",
                        dir.display(),
                        if pid.is_empty() { "unknown" } else { &pid },
                        path.display()
                    );
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()))
                }
            }
            // The previous holder may have removed the file between our open and our lock.
            if !same_file(&file, &path) {
                continue;
            }
            let previous = holder(&mut file);
            if !previous.is_empty() {
                note(&format!(
                    "taking over the lock {} left by a process that no longer runs ({previous})",
                    path.display()
                ));
            }
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| write!(file, "{}", std::process::id()))
                .with_context(|| format!("writing {}", path.display()))?;
            return Ok(Self { path, _file: file });
        }
        bail!(
            "could not take the lock {}: it keeps being replaced",
            path.display()
        )
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held, so nobody can lock the old file after us.
        let _ = std::fs::remove_file(&self.path);
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
}
