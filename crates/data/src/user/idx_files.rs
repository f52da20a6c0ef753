//! IDX files of any item shape (the MNIST format): one images/labels pair, or a directory of
//! pairs (`train-…` before `t10k-…`, concatenated as MNIST's are).

use std::path::{Path, PathBuf};

use super::common::{classes_of, read, user_file, Raw, RawLabel};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::idx;
use crate::values::Values;

/// Whether `dir` holds IDX images files.
pub(super) fn holds_idx(dir: &Path) -> Result<bool> {
    Ok(!images_in(dir)?.is_empty())
}

fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::io("reading", dir, e))? {
        let path = entry.map_err(|e| DataError::io("reading", dir, e))?.path();
        if is_idx_images(&path) && !path.is_dir() {
            // A FIFO or a device named as an IDX file is refused here, not taken for a stray
            // file of an image folder.
            crate::bounded::regular_size(&path)?;
            found.push(path);
        }
    }
    // A file and its gzip copy (`gzip -k`, `gunzip -k`) are one file: read once, the raw one,
    // as the catalogue reader does (read twice, the copies would sit on both sides of the
    // split).
    let raw: Vec<PathBuf> = found
        .iter()
        .filter(|p| p.extension().is_none_or(|e| e != "gz"))
        .cloned()
        .collect();
    found.retain(|p| {
        p.extension().is_none_or(|e| e != "gz") || !raw.contains(&p.with_extension(""))
    });
    // Training files first, as MNIST is read (train, then t10k).
    let key = |p: &PathBuf| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        (!name.starts_with("train"), name)
    };
    found.sort_by_key(key);
    Ok(found)
}

/// The labels file beside an images file: `images` → `labels`, `idx3`/`idx4` → `idx1`, with or
/// without `.gz` (the raw one when both are there).
fn labels_beside(images: &Path) -> Option<PathBuf> {
    let name = images.file_name()?.to_string_lossy().to_string();
    let base = name.strip_suffix(".gz").unwrap_or(&name);
    let swapped = base
        .replace("images", "labels")
        .replace("idx3", "idx1")
        .replace("idx4", "idx1");
    // Whatever stands there (its reader refuses what is not a regular file, saying so).
    [swapped.clone(), format!("{swapped}.gz")]
        .into_iter()
        .map(|n| images.with_file_name(n))
        .find(|p| std::fs::symlink_metadata(p).is_ok())
}

/// Reads every images/labels pair in `dir`.
pub(super) fn read_dir(dir: &Path, memory: u64) -> Result<Dataset> {
    let images = images_in(dir)?;
    let mut pairs = Vec::new();
    for img in images {
        let labels = labels_beside(&img).ok_or_else(|| {
            DataError::invalid(
                img.display(),
                "has no labels file beside it (the same name with 'labels' and 'idx1', e.g. train-labels-idx1-ubyte)",
            )
        })?;
        pairs.push((img, labels));
    }
    read_pairs(&pairs, memory, &dir.display().to_string())
}

/// Reads one images file with `labels` (or the labels file beside it).
pub(super) fn read_file(images: &Path, labels: Option<&Path>, memory: u64) -> Result<Dataset> {
    let labels = match labels {
        Some(l) => l.to_path_buf(),
        None => labels_beside(images).ok_or_else(|| {
            DataError::invalid(
                images.display(),
                "has no labels file beside it; name it with --labels FILE",
            )
        })?,
    };
    read_pairs(
        &[(images.to_path_buf(), labels)],
        memory,
        &images.display().to_string(),
    )
}

/// Reads one images file to score: with its labels where they are given or beside it, else
/// without.
pub(super) fn read_unseen(images: &Path, labels: Option<&Path>, memory: u64) -> Result<Raw> {
    let labels = labels
        .map(Path::to_path_buf)
        .or_else(|| labels_beside(images));
    if let Some(labels) = labels {
        // Labels as read (a test file may hold one class only), matched to the model's by name.
        return read_pairs_raw(
            &[(images.to_path_buf(), labels)],
            memory,
            &images.display().to_string(),
        );
    }
    let bytes = read(images, memory, "the images")?;
    let (dims, payload) = images_of(&bytes, images)?;
    Ok(Raw {
        values: Values::Pixels(payload.to_vec().into()),
        item_shape: dims[1..].to_vec(),
        labels: None,
        targets: None,
        files: vec![user_file(images, &bytes)],
        notes: vec!["no labels file beside it: its items are scored without labels".into()],
    })
}

/// An IDX images file's dimensions (items first) and pixels.
fn images_of<'b>(bytes: &'b [u8], img: &Path) -> Result<(Vec<usize>, &'b [u8])> {
    let (dims, payload) = idx::parse_ubyte(bytes, img)?;
    if dims.len() < 2 {
        return Err(DataError::invalid(
            img.display(),
            format!("has dimensions {dims:?}: an images file needs [items, …item shape] (this may be a labels file)"),
        ));
    }
    Ok((dims, payload))
}

fn read_pairs(pairs: &[(PathBuf, PathBuf)], memory: u64, name: &str) -> Result<Dataset> {
    let raw = read_pairs_raw(pairs, memory, name)?;
    let (labels, names) = classes_of(raw.labels.unwrap_or_default());
    let mut data = Dataset::new(raw.values, labels, raw.item_shape, names, name)?;
    data.files = raw.files;
    Ok(data)
}

/// The pairs' images and labels as read, before classes are numbered.
fn read_pairs_raw(pairs: &[(PathBuf, PathBuf)], memory: u64, name: &str) -> Result<Raw> {
    let mut pixels = Vec::new();
    let mut raw = Vec::new();
    let mut files = Vec::new();
    let mut shape: Option<(Vec<usize>, PathBuf)> = None;
    for (img, lab) in pairs {
        let left = memory.saturating_sub(pixels.len() as u64);
        let bytes = read(img, left, "the images")?;
        let (dims, payload) = images_of(&bytes, img)?;
        let item = dims[1..].to_vec();
        if let Some((first, first_path)) = &shape {
            if *first != item {
                return Err(DataError::invalid(
                    img.display(),
                    format!(
                        "holds items of shape {item:?} but {} holds {first:?}",
                        first_path.display()
                    ),
                ));
            }
        } else {
            shape = Some((item, img.clone()));
        }
        let label_bytes = read(lab, memory, "the labels")?;
        let (ldims, labels) = idx::parse_ubyte(&label_bytes, lab)?;
        if ldims.len() != 1 {
            return Err(DataError::invalid(
                lab.display(),
                format!("has dimensions {ldims:?}: a labels file holds one byte per item"),
            ));
        }
        if labels.len() != dims[0] {
            return Err(DataError::CountMismatch {
                images: img.clone(),
                labels: lab.clone(),
                n_images: dims[0],
                n_labels: labels.len(),
            });
        }
        pixels.extend_from_slice(payload);
        raw.extend(labels.iter().map(|&l| RawLabel::Int(i64::from(l))));
        files.push(user_file(img, &bytes));
        files.push(user_file(lab, &label_bytes));
    }
    let Some((item_shape, _)) = shape else {
        return Err(DataError::invalid(name, "holds no IDX images files"));
    };
    Ok(Raw {
        values: Values::Pixels(pixels.into()),
        item_shape,
        labels: Some(raw),
        targets: None,
        files,
        notes: Vec::new(),
    })
}
/// Whether the file's name says it is an IDX images file (`…idx3-ubyte`, `…idx4-ubyte`).
pub(super) fn is_idx_images(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.contains("idx3-ubyte") || name.contains("idx4-ubyte")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_its_gzip_copy_are_read_once() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "train-images-idx3-ubyte",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let names: Vec<String> = images_in(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["train-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"]
        );
        let labels = labels_beside(&dir.path().join("train-images-idx3-ubyte")).unwrap();
        assert!(labels.ends_with("train-labels-idx1-ubyte"));
    }

    #[test]
    fn an_idx_file_that_is_a_fifo_is_said_as_such() {
        // Issue 37, class 17: it was taken for a stray file of an image folder.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("train-images-idx3-ubyte");
        if std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
        {
            let err = holds_idx(dir.path()).unwrap_err().to_string();
            assert!(err.contains("FIFO"), "{err}");
        }
    }

    #[test]
    fn an_idx_set_of_no_items_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("train-images-idx3-ubyte");
        let mut bytes = 0x803u32.to_be_bytes().to_vec();
        for d in [0u32, 2, 2] {
            bytes.extend(d.to_be_bytes());
        }
        std::fs::write(&images, bytes).unwrap();
        let mut labels = 0x801u32.to_be_bytes().to_vec();
        labels.extend(0u32.to_be_bytes());
        std::fs::write(dir.path().join("train-labels-idx1-ubyte"), labels).unwrap();
        let err = read_dir(dir.path(), 1 << 30).unwrap_err().to_string();
        assert!(err.contains("holds no items"), "{err}");
    }
}
