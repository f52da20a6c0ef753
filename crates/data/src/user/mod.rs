//! The user's own classification data (`--data`): CSV tables, NumPy arrays, IDX files of any
//! size, image folders. Each reader checks everything it reads and names the file, line, column
//! or array of a problem; every file is read with a memory bound.
//!
//! Classes are numbered in the order of their sorted names (integer labels numerically, others
//! as strings, as scikit-learn's `LabelEncoder` does), so a label file's order does not matter.

mod folder;
mod idx_files;
mod numpy;
mod read;
mod table;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Label};
use crate::error::{DataError, Result};
use crate::source::{sha256_hex, Origin, VerifiedFile};

/// Where the user's data is and how to read it (recorded with a run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserData {
    /// A CSV file (gzipped or not), a `.npz`, a `.npy` of features (with `labels`), an IDX
    /// images file or a directory of IDX files, or a folder with one subfolder per class.
    pub path: PathBuf,
    /// The labels of a `.npy` or IDX images file (`--labels`).
    #[serde(default)]
    pub labels: Option<PathBuf>,
    /// A CSV's label column, by name or by number from 1 (`--label`).
    #[serde(default)]
    pub label: Option<String>,
    /// Images resized to width × height (`--image-size WxH`).
    #[serde(default)]
    pub image_size: Option<(u32, u32)>,
}

/// The formats `--data` reads, for messages.
const FORMATS: &str = "a CSV file (.csv or .csv.gz) with a header row, a NumPy .npz (arrays x and y) or .npy (with --labels), an IDX images file or a directory of IDX files, or a folder with one subfolder of PNG/JPEG images per class";

impl UserData {
    /// Reads the data, refusing anything that would take more than `memory` bytes.
    pub fn load(&self, memory: u64) -> Result<Dataset> {
        let path = &self.path;
        let meta = std::fs::metadata(path).map_err(|e| DataError::io("reading", path, e))?;
        if self.label.is_some() && !(meta.is_file() && read::has_ext(path, ".csv")) {
            return Err(DataError::invalid(
                path.display(),
                "--label names a CSV column, but this is not a CSV file",
            ));
        }
        if self.image_size.is_some() && !meta.is_dir() {
            return Err(DataError::invalid(
                path.display(),
                "--image-size resizes the images of a folder; this is not one",
            ));
        }
        let needs_labels = meta.is_file() && (read::has_ext(path, ".npy") || is_idx_images(path));
        match (&self.labels, needs_labels) {
            (Some(_), false) => {
                return Err(DataError::invalid(
                    path.display(),
                    "--labels goes with a .npy or an IDX images file given to --data; this data holds its own labels",
                ))
            }
            (None, true) if read::has_ext(path, ".npy") => {
                return Err(DataError::invalid(
                    path.display(),
                    "a .npy holds one array: give the labels too, --data X.npy --labels Y.npy (or one .npz with arrays x and y)",
                ))
            }
            _ => {}
        }
        let mut data = if meta.is_dir() {
            if idx_files::holds_idx(path)? {
                idx_files::read_dir(path, memory)?
            } else {
                folder::read(path, self.image_size, memory)?
            }
        } else if read::has_ext(path, ".csv") {
            table::read(path, self.label.as_deref(), memory)?
        } else if read::has_ext(path, ".npz") {
            numpy::read_npz(path, memory)?
        } else if read::has_ext(path, ".npy") {
            let labels = self.labels.as_deref().unwrap_or(path);
            numpy::read_pair(path, labels, memory)?
        } else if is_idx_images(path) {
            idx_files::read_file(path, self.labels.as_deref(), memory)?
        } else {
            return Err(DataError::invalid(
                path.display(),
                format!(
                    "lrsweep cannot tell this file's format from its name; --data takes {FORMATS}"
                ),
            ));
        };
        data.name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(data)
    }
}

/// Whether the file's name says it is an IDX images file (`…idx3-ubyte`, `…idx4-ubyte`).
fn is_idx_images(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.contains("idx3-ubyte") || name.contains("idx4-ubyte")
}

/// A file read as the user's data: its name, path and the SHA-256 of its (decompressed) bytes.
fn user_file(path: &Path, bytes: &[u8]) -> VerifiedFile {
    VerifiedFile {
        name: path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        path: path.to_path_buf(),
        origin: Origin::User,
        sha256: sha256_hex(bytes),
        bytes: Vec::new(),
    }
}

/// One item's label as read, before classes are numbered.
#[derive(Debug, Clone, PartialEq)]
enum RawLabel {
    Int(i64),
    Text(String),
}

/// Numbers the classes in the order of their sorted names (integers numerically when every label
/// is one) and returns each item's class and the names.
fn classes_of(raw: Vec<RawLabel>) -> (Vec<Label>, Vec<String>) {
    let all_int = raw.iter().all(|l| matches!(l, RawLabel::Int(_)));
    let key = |l: &RawLabel| match l {
        RawLabel::Int(i) => i.to_string(),
        RawLabel::Text(s) => s.clone(),
    };
    if all_int {
        let mut values: Vec<i64> = raw
            .iter()
            .map(|l| match l {
                RawLabel::Int(i) => *i,
                RawLabel::Text(_) => 0,
            })
            .collect();
        let ints = values.clone();
        values.sort_unstable();
        values.dedup();
        let labels = ints
            .iter()
            .map(|i| values.binary_search(i).unwrap_or(0) as Label)
            .collect();
        (labels, values.iter().map(i64::to_string).collect())
    } else {
        let mut names: Vec<String> = raw.iter().map(key).collect();
        names.sort();
        names.dedup();
        let labels = raw
            .iter()
            .map(|l| names.binary_search(&key(l)).unwrap_or(0) as Label)
            .collect();
        (labels, names)
    }
}

/// Refuses more classes than a [`Label`] holds, naming the file.
fn check_class_count(path: &Path, names: &[String]) -> Result<()> {
    if names.len() > crate::dataset::MAX_CLASSES {
        return Err(DataError::invalid(
            path.display(),
            format!(
                "{} distinct labels; lrsweep handles at most {} classes (is the label column the right one?)",
                names.len(),
                crate::dataset::MAX_CLASSES
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_numbered_by_sorted_name() {
        let (l, n) = classes_of(vec![RawLabel::Int(10), RawLabel::Int(2), RawLabel::Int(10)]);
        assert_eq!((l, n), (vec![1, 0, 1], vec!["2".to_string(), "10".into()]));
        let (l, n) = classes_of(vec![
            RawLabel::Text("virginica".into()),
            RawLabel::Int(3),
            RawLabel::Text("setosa".into()),
        ]);
        assert_eq!(l, vec![2, 0, 1]);
        assert_eq!(n, vec!["3", "setosa", "virginica"]);
    }
}
