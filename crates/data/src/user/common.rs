//! What the readers of the user's data share: the bounded read of a file, the record of a
//! file read, and the numbering of classes by their sorted names.

use std::path::Path;

use crate::catalogue::{sha256_hex, Origin, VerifiedFile};
use crate::error::{DataError, Result};
use crate::values::Label;

/// The content of the user's file at `path`, inflated when gzip, refused beyond `memory`
/// bytes (`what` names the content in the refusal): the crate's one bounded reader.
pub(super) fn read(path: &Path, memory: u64, what: &str) -> Result<Vec<u8>> {
    crate::bounded::read(
        path,
        crate::bounded::Bound::Memory {
            bytes: memory,
            what,
        },
    )
}

/// A file read as the user's data: its name, path and the SHA-256 of its (decompressed) bytes.
pub(super) fn user_file(path: &Path, bytes: &[u8]) -> VerifiedFile {
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

/// A file read for a trained network to score, before its labels are matched to the
/// network's classes: its values as read, one item's shape, its labels where it has them.
#[derive(Debug)]
pub(super) struct Raw {
    pub(super) values: crate::values::Values,
    pub(super) item_shape: Vec<usize>,
    pub(super) labels: Option<Vec<RawLabel>>,
    /// A regression's targets, row-major (instead of labels).
    pub(super) targets: Option<Vec<f64>>,
    pub(super) files: Vec<VerifiedFile>,
    pub(super) notes: Vec<String>,
}

impl From<crate::dataset::Dataset> for Raw {
    /// A data set as read for scoring: its classes named again, to be matched by name.
    fn from(data: crate::dataset::Dataset) -> Self {
        let labels = data
            .labels()
            .iter()
            .map(|&l| RawLabel::Text(data.class_names[l as usize].clone()))
            .collect();
        let targets = data.targets().map(<[f64]>::to_vec);
        Raw {
            values: data.values().clone(),
            item_shape: data.item_shape.clone(),
            labels: targets.is_none().then_some(labels),
            targets,
            files: data.files,
            notes: data.notes,
        }
    }
}

impl RawLabel {
    /// The class name this label stands for (as [`classes_of`] names classes).
    pub(super) fn name(&self) -> String {
        match self {
            RawLabel::Int(i) => i.to_string(),
            RawLabel::Text(s) => s.clone(),
        }
    }
}

/// One item's label as read, before classes are numbered.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawLabel {
    Int(i64),
    Text(String),
}

/// Numbers the classes in the order of their sorted names (integers numerically when every label
/// is one) and returns each item's class and the names.
pub(super) fn classes_of(raw: Vec<RawLabel>) -> (Vec<Label>, Vec<String>) {
    let all_int = raw.iter().all(|l| matches!(l, RawLabel::Int(_)));
    let key = RawLabel::name;
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
pub(super) fn check_class_count(path: &Path, names: &[String]) -> Result<()> {
    if names.len() > crate::values::MAX_CLASSES {
        return Err(DataError::invalid(
            path.display(),
            format!(
                "{} distinct labels; lrsweep handles at most {} classes (is the label column the right one?)",
                names.len(),
                crate::values::MAX_CLASSES
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
