//! The data of lrsweep: the catalogue's MNIST-format sets (found or downloaded, verified by
//! SHA-256, train and test concatenated) or the user's own data (CSV, NumPy, IDX of any size,
//! image folders) for a classification or a regression, split (stratified by class for a
//! classification) with a portable seed and scaled.
//!
//! # Glossary
//! An *item* is one example (an image, a table row); its *features* are its values
//! (the network's input width is their number); a *class* is one of the labels' distinct values,
//! numbered in sorted order; a *target* is one of a regression's numbers per item (standardised
//! by the training part's mean and standard deviation: [`TargetScaling`]); a *part* is the
//! training or validation share of a split.
//!
//! ```no_run
//! use lrsweep_data::{DatasetKind, Locator, SplitConfig};
//! let data = lrsweep_data::load(&Locator::new(DatasetKind::Mnist, None))?;
//! let split = data.split(&SplitConfig::default())?;
//! assert_eq!(split.train.len(), 59_500);
//! # Ok::<(), lrsweep_data::DataError>(())
//! ```
//!
//! # Layers
//! Imports point one way: `values` (the vocabulary), `error` and `catalogue` (the sets lrsweep
//! knows, a verified file's record) → `bounded` (the one bounded reader) and `split` (seeded,
//! stratified) → `scale` → `part` → `dataset` → the readers (`idx` and `source` for the
//! catalogue's sets, `user` for the user's data) → this file's `load`.

mod bounded;
mod catalogue;
mod dataset;
mod error;
mod idx;
mod part;
mod scale;
mod source;
mod split;
mod user;
mod values;

pub use bounded::read_maybe_gzip;
pub use catalogue::{sha256_hex, DatasetKind, Origin, VerifiedFile};
pub use dataset::Dataset;
pub use error::{DataError, Result};
pub use idx::{encode_images, encode_labels};
pub use part::{Item, Part, Split, SplitConfig};
pub use scale::{Scaling, TargetScaling};
pub use source::Locator;
pub use split::seeded_permutation;
pub use user::{Columns, Expected, Unseen, UserData};
pub use values::{Label, Scale, Shape, Task, Values, MAX_CLASSES};

use idx::{CLASSES, PIXELS, SIDE};

/// Finds (or downloads), verifies and parses a catalogue data set: all 70,000 images for MNIST.
pub fn load(locator: &Locator) -> Result<Dataset> {
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
    let names = (0..CLASSES).map(|c| c.to_string()).collect();
    let labels = labels.into_iter().map(Label::from).collect();
    let mut data = Dataset::new(
        Values::Pixels(pixels.into()),
        labels,
        vec![SIDE, SIDE],
        names,
        locator.dataset.name(),
    )?;
    data.files = files;
    Ok(data)
}
