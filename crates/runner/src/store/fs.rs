//! The one way lrsweep touches the files of a run directory, which others may share or craft:
//! a write never follows a symbolic link (a link where a file goes is replaced, its target left
//! alone); a temporary is created exclusively (`O_EXCL`) under an unpredictable name that carries
//! this host and process, so that a later start removes a dead run's and leaves a live one's; a
//! read takes a regular file only, opened without blocking (a FIFO cannot hang it) and up to a
//! size bound per kind of file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{bail, Context, Result};

/// How the names of lrsweep's temporaries start: `.lrsweep-tmp-<host>-<pid>-<random>`.
const TEMP_PREFIX: &str = ".lrsweep-tmp-";

/// Size bounds of the run's files: far above what a real run writes, far below what would
/// exhaust memory.
pub mod limit {
    /// `config.json`, `summary.json`, a range test's files, `plan.json`.
    pub const RECORD: u64 = 64 << 20;
    /// `status.json`, `done.json`, a model file's sidecar.
    pub const SMALL: u64 = 1 << 20;
    /// A rate's `metrics.csv`.
    pub const METRICS: u64 = 256 << 20;
    /// A checkpoint or a model file: weights and Adam's moments of the largest network a
    /// machine's memory check lets train.
    pub const WEIGHTS: u64 = 64 << 30;
    /// A chart the report embeds (the largest is a few MB).
    pub const CHART: u64 = 256 << 20;
}

/// This host's name as the run's file names carry it (temporaries, TensorBoard's event files):
/// letters, digits and dots kept, anything else (a `-` included, which separates a temporary's
/// fields) written `_`.
pub(crate) fn host() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "host".to_string()
    } else {
        name
    }
}

/// Opens `path` for reading: not through a symbolic link, without blocking, a regular file of at
/// most `limit` bytes; its whole content.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => anyhow::anyhow!(
                "{} is a symbolic link; a run's files are never read through one",
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("reading {}", path.display())),
        })?;
    let meta = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file (a FIFO, socket, device or directory); a run's files are plain files",
            path.display()
        );
    }
    if meta.len() > limit {
        bail!(
            "{} holds {} bytes, more than the {} such a file may hold",
            path.display(),
            meta.len(),
            limit
        );
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{} grew beyond {limit} bytes while read", path.display());
    }
    Ok(bytes)
}

/// [`read_text`] of a file that may well be absent: `None` when nothing stands at `path` (no
/// error is made for it: a status of many rates not started asks this of each), or when it
/// cannot be read.
pub fn read_text_if_present(path: &Path, limit: u64) -> Option<String> {
    std::fs::symlink_metadata(path).ok()?;
    read_text(path, limit).ok()
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    let bytes = read(path, limit)?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// Opens `path` for reading as [`read`] does (no link followed, never blocking on a FIFO),
/// without reading it: for a lock probe.
pub fn open_read(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// A new, empty file at `path` for writing, whatever stood there: an old file or a symbolic link
/// is removed first (the link, not its target), and the new one is created exclusively.
pub fn create(path: &Path) -> Result<File> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => bail!(
            "{} is a directory where lrsweep writes a file",
            path.display()
        ),
        Ok(_) => {
            std::fs::remove_file(path).with_context(|| format!("replacing {}", path.display()))?
        }
        Err(_) => {}
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// Writes `bytes` to `path` through an exclusive temporary beside it, synced, then renamed into
/// place: `path` is its old content or the whole new one, and a link at `path` is replaced, never
/// written through.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Created as every tool creates a file, 0666 less the user's umask (a temporary's own
    // default, 0600, would hide the run's reports from a team on a shared filesystem).
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-{}-", host(), std::process::id()))
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::Error::new(e.error).context(format!("writing {}", path.display())))?;
    Ok(())
}

/// Whether a file can be created in `dir`: an exclusive temporary (never a link followed, never
/// an existing file truncated) made and removed at once.
pub fn probe_writable(dir: &Path) -> std::io::Result<()> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-{}-", host(), std::process::id()))
        .tempfile_in(dir)
        .map(drop)
}

/// Writes `value` as pretty JSON to `path`, as [`write_atomic`] does.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("serialising JSON")?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Removes the file (or link) at `path`; nothing there is no error.
pub fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::Error::new(e).context(format!("removing {}", path.display()))),
    }
}

/// Refuses a directory of the run that is a symbolic link (its writes would leave the run).
pub fn check_real_dir(dir: &Path) -> Result<()> {
    let meta =
        std::fs::symlink_metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if meta.file_type().is_symlink() || !meta.is_dir() {
        bail!(
            "{} is not a directory of the run (a symbolic link or a file stands there); lrsweep writes a rate's files only into a real directory inside the run",
            dir.display()
        );
    }
    Ok(())
}

/// Options that open a file for writing in place without following a symbolic link.
pub fn no_follow() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.custom_flags(libc::O_NOFOLLOW);
    o
}

/// Whether `name` is one of lrsweep's temporaries (written, not yet renamed into place).
pub fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// Whether process `pid` runs on this host.
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes from `dir` (not below it) the temporaries a dead lrsweep process of this host left:
/// this version's (`.lrsweep-tmp-<host>-<pid>-…`) and older versions' (`.<name>.partial-<pid>`,
/// `.partial-<pid>-…`). Another host's, or a live process's, are left alone.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let here = host();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = if let Some(rest) = name.strip_prefix(TEMP_PREFIX) {
            let mut parts = rest.splitn(3, '-');
            match (parts.next(), parts.next()) {
                (Some(h), Some(pid)) if h == here => pid.parse::<u32>().ok(),
                _ => None,
            }
        } else if name.starts_with('.') && name.contains(".partial-") {
            name.rsplit(".partial-")
                .next()
                .and_then(|p| p.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
        } else if let Some(rest) = name.strip_prefix(".partial-") {
            rest.split('-').next().and_then(|p| p.parse::<u32>().ok())
        } else {
            None
        };
        let is_file = entry
            .file_type()
            .is_ok_and(|t| t.is_file() || t.is_symlink());
        if let Some(pid) = pid {
            if is_file && pid != std::process::id() && !alive(pid) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_fifos_and_large_files_are_not_read_and_writes_replace_links() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = read(&link, limit::RECORD).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        write_atomic(&link, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        let link2 = dir.path().join("metrics.csv");
        std::os::unix::fs::symlink(&victim, &link2).unwrap();
        create(&link2).unwrap().write_all(b"epoch").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        let fifo = dir.path().join("status.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = read(&fifo, limit::SMALL).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
        std::fs::write(dir.path().join("big"), vec![b'x'; 2048]).unwrap();
        let err = read(&dir.path().join("big"), 1024).unwrap_err().to_string();
        assert!(err.contains("more than the 1024"), "{err}");
        // No temporary stays behind.
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(TEMP_PREFIX))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn only_dead_processes_temporaries_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        // A pid far above pid_max is never alive.
        let dead = 4_000_000_000u32;
        let names = [
            format!("{TEMP_PREFIX}{}-{dead}-abc", host()),
            format!("{TEMP_PREFIX}{}-{me}-abc", host()),
            format!("{TEMP_PREFIX}otherhost-{dead}-abc"),
            format!(".checkpoint.bin.partial-{dead}"),
            format!(".partial-{dead}-lr-0.001.png"),
            "metrics.csv".to_string(),
        ];
        for n in &names {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        remove_stale_temporaries(dir.path());
        let left: Vec<bool> = names.iter().map(|n| dir.path().join(n).exists()).collect();
        assert_eq!(left, vec![false, true, true, false, false, true]);
    }
}
