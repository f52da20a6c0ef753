//! Output directories: refused up front when they hold a previous run or cannot be written,
//! created (uniquely, for the default names) only when the work starts.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use crate::exit::usage;

/// An output directory that passed the checks and is not created yet.
#[derive(Debug)]
pub struct OutDir {
    path: PathBuf,
    /// Chosen by lrsweep (`runs/<timestamp>`): another name is taken if it exists meanwhile.
    default: bool,
}

/// The output directory: `out`, or the default one (`runs/[<kind>-]<YYYYMMDD-HHMMSS>`); refused
/// (as a usage error) when it already holds anything or cannot be written.
pub fn fresh_out(out: Option<PathBuf>, kind: Option<&str>) -> Result<OutDir> {
    let (path, default) = match out {
        Some(p) => (p, false),
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
            let name = kind.map_or(stamp.clone(), |k| format!("{k}-{stamp}"));
            (PathBuf::from("runs").join(name), true)
        }
    };
    check_fresh(&path).map_err(usage)?;
    check_writable(&path).map_err(usage)?;
    Ok(OutDir { path, default })
}

impl OutDir {
    /// The directory (for a default name, the first one tried).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the directory and returns its path. A default name already taken (two runs
    /// started in the same second) gets a suffix `-2`, `-3`, …: two runs never share one.
    pub fn create(self) -> Result<PathBuf> {
        if !self.default {
            std::fs::create_dir_all(&self.path)
                .with_context(|| format!("creating {}", self.path.display()))?;
            check_fresh(&self.path).map_err(usage)?;
            return Ok(self.path);
        }
        let parent = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
        let base = self.path.clone();
        for n in 1..1000 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                PathBuf::from(format!("{}-{n}", base.display()))
            };
            match std::fs::create_dir(&candidate) {
                Ok(()) => return Ok(candidate),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", candidate.display()))
                }
            }
        }
        bail!(
            "{} and 998 numbered variants exist; choose a directory with --out DIR",
            base.display()
        )
    }
}

/// Refuses a directory that already holds anything (a previous run is never overwritten).
pub fn check_fresh(dir: &Path) -> Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(
                "--out {} exists and is not a directory; choose another path with --out DIR",
                dir.display()
            );
        }
        // A start killed before it recorded itself leaves at most its lock file and a
        // temporary: nothing of a run, so not occupied (a live holder of that lock still
        // keeps this start out when it takes the lock).
        let occupied = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .flatten()
            .any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name != super::lock::FILE && !super::fs::is_temporary(&name)
            });
        if occupied && dir.join(super::run::FILE).is_file() {
            // Finished: a summary that lists nothing unfinished (an interrupted run's lists what).
            let finished = super::fs::read_text(
                &dir.join(super::layout::names::SUMMARY_JSON),
                super::fs::limit::RECORD,
            )
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|s| s["unfinished"].as_array().is_none_or(|u| u.is_empty()));
            bail!(
                "--out {dir} holds a {what} lrsweep run; lrsweep never overwrites a run: {how}, or choose another directory with --out DIR",
                dir = dir.display(),
                what = if finished { "finished" } else { "started (unfinished or interrupted)" },
                how = if finished {
                    format!("see it with lrsweep report {}", dir.display())
                } else {
                    format!("continue it with lrsweep sweep --resume {}", dir.display())
                },
            );
        }
        if occupied {
            bail!(
                "--out {} already holds files (a previous run?); lrsweep never overwrites a run: choose another directory with --out DIR, or remove this one",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Checks that `dir` can be created and written: its nearest existing ancestor must be a
/// directory in which a file can be created (not a file, a read-only mount or `/proc`).
fn check_writable(dir: &Path) -> Result<()> {
    let mut existing = dir;
    while !existing.as_os_str().is_empty() && std::fs::symlink_metadata(existing).is_err() {
        existing = existing.parent().unwrap_or(Path::new(""));
    }
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    let fix = "choose a directory you can write to with --out DIR";
    let meta = std::fs::metadata(existing).map_err(|e| {
        anyhow!(
            "--out {}: {}: {e}; {fix}",
            dir.display(),
            existing.display()
        )
    })?;
    if !meta.is_dir() {
        bail!(
            "--out {}: {} is not a directory; {fix}",
            dir.display(),
            existing.display()
        );
    }
    match super::fs::probe_writable(existing) {
        Ok(()) => Ok(()),
        Err(e) => bail!(
            "--out {}: cannot write in {} ({e}); {fix}",
            dir.display(),
            existing.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwritable_places_are_refused_before_anything_is_made() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("afile");
        std::fs::write(&file, "x").unwrap();
        let err = format!("{:#}", fresh_out(Some(file.join("sub")), None).unwrap_err());
        assert!(err.contains("not a directory"), "{err}");
        let err = format!(
            "{:#}",
            fresh_out(Some(PathBuf::from("/proc/lrsweep-run")), None).unwrap_err()
        );
        assert!(err.contains("cannot write"), "{err}");
        let ok = fresh_out(Some(tmp.path().join("a/b")), None).unwrap();
        assert!(
            !tmp.path().join("a").exists(),
            "nothing created by the check"
        );
        assert_eq!(ok.create().unwrap(), tmp.path().join("a/b"));
    }

    #[test]
    fn two_default_directories_of_the_same_second_differ() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("runs/20261128-120000");
        let a = OutDir {
            path: base.clone(),
            default: true,
        };
        let b = OutDir {
            path: base.clone(),
            default: true,
        };
        let (a, b) = (a.create().unwrap(), b.create().unwrap());
        assert_ne!(a, b);
        assert_eq!(b, PathBuf::from(format!("{}-2", base.display())));
    }
}
