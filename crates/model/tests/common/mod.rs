//! The real MNIST copy for the model crate's tests and benchmark.

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, Split, SplitConfig};

/// The reference split of the local MNIST copy (`LRSWEEP_DATA_DIR`, else `../shared/data/mnist`
/// beside the project), optionally a stratified subset; never downloads.
pub fn split(limit: Option<usize>) -> Split {
    let dir = std::env::var_os("LRSWEEP_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
        });
    let mut locator = Locator::new(DatasetKind::Mnist, Some(dir));
    locator.mirrors.clear();
    let images = lrsweep_data::load(&locator).expect("the real MNIST copy (set LRSWEEP_DATA_DIR)");
    images
        .split(&SplitConfig {
            limit,
            ..SplitConfig::default()
        })
        .expect("the reference split")
}
