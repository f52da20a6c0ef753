//! Reading a user's file with bounds: only regular files, never more than the memory allows,
//! gzip inflated only up to that bound (a gzip bomb is refused, not unpacked).

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::error::{DataError, Result};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The file's size, refusing what is not a regular file (a directory, a FIFO, a device).
pub(super) fn regular_size(path: &Path) -> Result<u64> {
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

/// The file's content, decompressed when it is gzip, refused when it (or what it inflates to)
/// would take more than `limit` bytes; `what` names the content in that refusal.
pub(super) fn bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    let size = regular_size(path)?;
    if size > limit {
        return Err(DataError::too_large(path, what, size, limit));
    }
    let bytes = std::fs::read(path).map_err(|e| DataError::io("reading", path, e))?;
    if bytes.len() < 2 || bytes[..2] != GZIP_MAGIC {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    GzDecoder::new(&bytes[..])
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| DataError::CorruptGzip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if out.len() as u64 > limit {
        return Err(DataError::invalid(
            path.display(),
            format!(
                "the gzip data inflates to more than {} MiB ({what}), more than the memory available allows: a gzip bomb, or a file too large for this machine",
                limit >> 20
            ),
        ));
    }
    Ok(out)
}

/// Whether `path`'s name (less a `.gz`) ends in `ext` (lower-case, with its dot).
pub(super) fn has_ext(path: &Path, ext: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_gzip_bomb_and_a_non_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'0'; 8 << 20]).unwrap();
        std::fs::write(&path, enc.finish().unwrap()).unwrap();
        let err = bounded(&path, 1 << 20, "the table")
            .unwrap_err()
            .to_string();
        assert!(err.contains("gzip bomb"), "{err}");
        assert_eq!(bounded(&path, 16 << 20, "x").unwrap().len(), 8 << 20);
        let err = bounded(dir.path(), 1 << 20, "x").unwrap_err().to_string();
        assert!(err.contains("a directory"), "{err}");
        let err = bounded(&path, 10, "the table").unwrap_err().to_string();
        assert!(err.contains("more than the 0 MiB available"), "{err}");
    }
}
