//! MNIST-format data for lrsweep: find or download the files (verified by SHA-256), parse IDX,
//! concatenate train and test, and split stratified with a portable seed.
//!
//! ```no_run
//! use lrsweep_data::{DatasetKind, Locator, SplitConfig};
//! let data = lrsweep_data::load(&Locator::new(DatasetKind::Mnist, None))?;
//! let split = data.split(&SplitConfig::default())?;
//! assert_eq!(split.train.len(), 59_500);
//! # Ok::<(), lrsweep_data::DataError>(())
//! ```

mod error;
pub mod idx;
pub mod source;
pub mod split;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use error::{DataError, Result};
pub use idx::{CLASSES, PIXELS};
pub use source::{DatasetKind, Locator, Origin, VerifiedFile};

/// A whole data set in memory: train and test files concatenated, pixels as bytes.
#[derive(Debug, Clone)]
pub struct Images {
    /// `len() × 784` pixels, 0..=255, row-major.
    pub pixels: Vec<u8>,
    /// One class index (0..=9) per image.
    pub labels: Vec<u8>,
    /// The files read, with their checksums and origin.
    pub files: Vec<VerifiedFile>,
    /// The data set.
    pub dataset: DatasetKind,
}

/// Finds (or downloads), verifies and parses a data set: all 70,000 images for MNIST.
pub fn load(locator: &Locator) -> Result<Images> {
    let files = locator.locate()?;
    let mut pixels = Vec::with_capacity(70_000 * PIXELS);
    let mut labels = Vec::with_capacity(70_000);
    for pair in files.chunks(2) {
        let (img, lab) = (&pair[0], &pair[1]);
        let p = idx::parse_images(&img.bytes, &img.path)?;
        let l = idx::parse_labels(&lab.bytes, &lab.path)?;
        if p.len() / PIXELS != l.len() {
            return Err(DataError::CountMismatch {
                images: img.path.clone(),
                labels: lab.path.clone(),
                n_images: p.len() / PIXELS,
                n_labels: l.len(),
            });
        }
        pixels.extend_from_slice(&p);
        labels.extend_from_slice(&l);
    }
    let files = files
        .into_iter()
        .map(|f| VerifiedFile {
            bytes: Vec::new(),
            ..f
        })
        .collect();
    Ok(Images {
        pixels,
        labels,
        files,
        dataset: locator.dataset,
    })
}

/// How to split: validation fraction, seed, and an optional stratified subset for quick runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Share of the images held out for validation (the reference: 0.15).
    pub val_fraction: f64,
    /// Seed of the split and of the training order (the reference: 42).
    pub seed: u64,
    /// Use a stratified subset of this many images instead of all.
    pub limit: Option<usize>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            val_fraction: 0.15,
            seed: 42,
            limit: None,
        }
    }
}

/// One part of a split, in its (seeded, fixed) training order.
#[derive(Debug, Clone)]
pub struct Part {
    pixels: Arc<[u8]>,
    labels: Arc<[u8]>,
}

/// One image as Burn's data tooling sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// 784 pixels scaled to 0..=1.
    pub image: Vec<f32>,
    /// Class index.
    pub label: usize,
}

impl Part {
    fn gather(images: &Images, order: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(order.len() * PIXELS);
        for &i in order {
            pixels.extend_from_slice(&images.pixels[i * PIXELS..(i + 1) * PIXELS]);
        }
        Self {
            pixels: pixels.into(),
            labels: order.iter().map(|&i| images.labels[i]).collect(),
        }
    }

    /// Builds a part from raw bytes (e.g. generated test data); `pixels.len()` must be `784 × labels.len()`.
    pub fn from_raw(pixels: Vec<u8>, labels: Vec<u8>) -> Result<Self> {
        if pixels.len() != labels.len() * PIXELS || labels.iter().any(|&l| l as usize >= CLASSES) {
            return Err(DataError::InvalidSplit(format!(
                "{} pixels for {} labels (need 784 each, labels 0..=9)",
                pixels.len(),
                labels.len()
            )));
        }
        Ok(Self {
            pixels: pixels.into(),
            labels: labels.into(),
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the part is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels as bytes, `len() × 784`.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// Class indices.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Images `range` as floats in 0..=1 (pixel / 255), the model's input.
    pub fn pixels_f32(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        self.pixels[range.start * PIXELS..range.end * PIXELS]
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect()
    }

    /// Labels `range` one-hot encoded, `len × 10`.
    pub fn one_hot(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let mut out = vec![0.0; range.len() * CLASSES];
        for (row, &l) in self.labels[range].iter().enumerate() {
            out[row * CLASSES + l as usize] = 1.0;
        }
        out
    }

    /// Images per class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        split::class_counts(&self.labels)
    }
}

impl burn_dataset::Dataset<Item> for Part {
    fn get(&self, index: usize) -> std::result::Result<Item, burn_dataset::DatasetError> {
        if index >= self.len() {
            return Err(burn_dataset::DatasetError::new(DataError::InvalidSplit(
                format!(
                    "index {index} out of range for a part of {} images",
                    self.len()
                ),
            )));
        }
        Ok(Item {
            image: self.pixels_f32(index..index + 1),
            label: self.labels[index] as usize,
        })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Training and validation parts of a stratified split.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training part, in the fixed training order.
    pub train: Part,
    /// Validation part.
    pub valid: Part,
}

impl Images {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Images per class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        split::class_counts(&self.labels)
    }

    /// The experiment's split: optional stratified subset, then a stratified train/validation
    /// split, both parts in a seeded random order.
    pub fn split(&self, config: &SplitConfig) -> Result<Split> {
        let subset: Vec<usize> = match config.limit {
            Some(limit) => split::stratified_subset(&self.labels, limit, config.seed)?,
            None => (0..self.len()).collect(),
        };
        let labels: Vec<u8> = subset.iter().map(|&i| self.labels[i]).collect();
        let (train, valid) = split::stratified_split(&labels, config.val_fraction, config.seed)?;
        let map = |v: Vec<usize>| v.into_iter().map(|i| subset[i]).collect::<Vec<_>>();
        Ok(Split {
            train: Part::gather(self, &map(train)),
            valid: Part::gather(self, &map(valid)),
        })
    }
}
