//! The lock that keeps two processes from writing one run.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// A lock file that keeps two processes from writing one run; removed when dropped.
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock of `dir`, or refuses while a live process holds it; a lock left by a dead
    /// process is taken over with a message.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("lrsweep.lock");
        let me = std::process::id().to_string();
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    return Ok(Self { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim().parse::<u32>().ok();
                    let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
                    if alive {
                        bail!(
                            "{} is being written by another lrsweep (process {}); wait for it to finish or stop it, or choose another directory",
                            dir.display(),
                            holder.trim()
                        );
                    }
                    eprintln!(
                        "taking over the lock of {} left by a process that no longer runs ({})",
                        dir.display(),
                        if holder.trim().is_empty() {
                            "unknown"
                        } else {
                            holder.trim()
                        }
                    );
                    std::fs::remove_file(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        bail!("could not take the lock {}", path.display())
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
