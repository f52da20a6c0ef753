//! The one bounded reader of the crate's input: a regular file only (a FIFO or a device is
//! refused, never waited on), read and gzip-inflated up to a bound and no further, so that a
//! gzip bomb, a huge foreign file or an endless stream is refused at the bound, not unpacked.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{DataError, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What a file may hold, or inflate to, and what meeting the bound means.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bound<'a> {
    /// The file cannot be larger (a catalogue file of known length): beyond it, it is damaged,
    /// foreign or a gzip bomb ([`DataError::Oversized`]).
    Length(u64),
    /// What the memory allows for `what` (the user's data): beyond it, too large for this
    /// machine, or a gzip bomb.
    Memory {
        /// Bytes.
        bytes: u64,
        /// What the content is, for the refusal (`the table`, `the images`).
        what: &'a str,
    },
}

impl Bound<'_> {
    fn bytes(&self) -> u64 {
        match *self {
            Bound::Length(b) | Bound::Memory { bytes: b, .. } => b,
        }
    }

    /// The refusal of `path`, `size` bytes (as stored, when known) or inflating past the bound.
    fn refuse(&self, path: &Path, size: Option<u64>) -> DataError {
        match (*self, size) {
            (Bound::Length(limit), _) => DataError::Oversized {
                path: path.to_path_buf(),
                limit,
            },
            (Bound::Memory { bytes, what }, Some(size)) => {
                DataError::too_large(path, what, size, bytes)
            }
            (Bound::Memory { bytes, what }, None) => DataError::invalid(
                path.display(),
                format!(
                    "the gzip data inflates to more than {} MiB ({what}), more than the memory available allows: a gzip bomb, or a file too large for this machine",
                    bytes >> 20
                ),
            ),
        }
    }
}

/// The size of the regular file at `path`, refusing what is not one (a directory, a FIFO, a
/// device), without opening it.
pub(crate) fn regular_size(path: &Path) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io("reading", path, e))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(DataError::invalid(
            path.display(),
            format!("is {kind}; name a data file"),
        ));
    }
    Ok(meta.len())
}

/// The content of the regular file at `path`, inflated when it starts with the gzip magic
/// (whatever its name), refused once it holds or inflates to more than `bound`.
pub(crate) fn read(path: &Path, bound: Bound) -> Result<Vec<u8>> {
    let size = regular_size(path)?;
    if size > bound.bytes() {
        return Err(bound.refuse(path, Some(size)));
    }
    let file = std::fs::File::open(path).map_err(|e| DataError::io("reading", path, e))?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(bound.bytes().saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| DataError::io("reading", path, e))?;
    if bytes.len() as u64 > bound.bytes() {
        // Grew while read.
        return Err(bound.refuse(path, Some(bytes.len() as u64)));
    }
    inflate(bytes, path, bound)
}

/// `bytes` inflated when they start with the gzip magic (as they are otherwise), refused once
/// they inflate to more than `bound`; `path` (or a URL) names them in errors.
pub(crate) fn inflate(bytes: Vec<u8>, path: &Path, bound: Bound) -> Result<Vec<u8>> {
    if bytes.len() < 2 || bytes[..2] != GZIP_MAGIC {
        return Ok(bytes);
    }
    let limit = bound.bytes();
    let mut out = Vec::with_capacity((bytes.len() as u64 * 4).min(limit) as usize);
    GzDecoder::new(&bytes[..])
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DataError::CorruptGzip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(bound.refuse(path, None));
    }
    Ok(out)
}

/// Reads a catalogue file of at most `limit` bytes (inflated): [`read`] with that length.
pub fn read_maybe_gzip(path: &Path, limit: u64) -> Result<Vec<u8>> {
    read(path, Bound::Length(limit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn a_gzip_bomb_and_a_non_file_are_refused_under_either_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.csv.gz");
        std::fs::write(&path, gzip(&vec![b'0'; 8 << 20])).unwrap();
        let memory = |bytes| Bound::Memory {
            bytes,
            what: "the table",
        };
        let err = read(&path, memory(1 << 20)).unwrap_err().to_string();
        assert!(err.contains("gzip bomb"), "{err}");
        assert_eq!(read(&path, memory(16 << 20)).unwrap().len(), 8 << 20);
        let err = read(dir.path(), memory(1 << 20)).unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
        let err = read(&path, memory(10)).unwrap_err().to_string();
        assert!(err.contains("more than the 0 MiB available"), "{err}");
        let e = read(&path, Bound::Length(1 << 20)).unwrap_err();
        assert!(
            matches!(e, DataError::Oversized { limit, .. } if limit == 1 << 20),
            "{e}"
        );
        assert!(e.to_string().contains("gzip bomb"), "{e}");
        let fifo = dir.path().join("fifo.gz");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = read(&fifo, Bound::Length(1 << 20)).unwrap_err().to_string();
            assert!(err.contains("not a regular file"), "{err}");
        }
    }
}
