//! What kind of data `--data` names, decided once from what stands at the path and its name:
//! the one place a file's format is read from its name.

use std::path::Path;

use super::idx_files::{self, is_idx_images};
use crate::error::{DataError, Result};

/// The formats `--data` reads, for messages.
pub(super) const FORMATS: &str = "a CSV file (.csv or .csv.gz) with a header row, a NumPy .npz (arrays x and y) or .npy (with --labels), an IDX images file or a directory of IDX files, or a folder with one subfolder of PNG/JPEG images per class";

/// A kind of data `--data` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// A CSV table (`.csv`, `.csv.gz`).
    Table,
    /// A NumPy archive of arrays `x` and `y` (`.npz`).
    Npz,
    /// A NumPy array of features, its labels in another (`.npy` with `--labels`).
    Npy,
    /// An IDX images file (`…idx3-ubyte`, `…idx4-ubyte`), its labels beside it or given.
    IdxImages,
    /// A directory of IDX files.
    IdxDir,
    /// A folder with one subfolder of images per class.
    ImageFolder,
}

impl Format {
    /// The format of what stands at `path`; a file whose name says none is refused, naming the
    /// formats lrsweep reads.
    pub(super) fn of(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io("reading", path, e))?;
        if !meta.is_dir() && !meta.is_file() {
            // Said first, whatever its name (its reader would refuse it too, less clearly).
            crate::bounded::regular_size(path)?;
        }
        if meta.is_dir() {
            return Ok(match idx_files::holds_idx(path)? {
                true => Format::IdxDir,
                false => Format::ImageFolder,
            });
        }
        if has_ext(path, ".csv") {
            Ok(Format::Table)
        } else if has_ext(path, ".npz") {
            Ok(Format::Npz)
        } else if has_ext(path, ".npy") {
            Ok(Format::Npy)
        } else if is_idx_images(path) {
            Ok(Format::IdxImages)
        } else {
            Err(DataError::invalid(
                path.display(),
                format!(
                    "lrsweep cannot tell this file's format from its name; --data takes {FORMATS}"
                ),
            ))
        }
    }

    /// Whether the data's labels are in another file (`--labels`).
    pub(super) fn labels_apart(self) -> bool {
        matches!(self, Format::Npy | Format::IdxImages)
    }
}

/// Whether `path`'s name (less a `.gz`) ends in `ext` (lower-case, with its dot).
fn has_ext(path: &Path, ext: &str) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(ext)
}
