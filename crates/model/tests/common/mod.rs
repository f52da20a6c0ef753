//! The real MNIST copy for the model crate's tests and benchmark.

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, Split, SplitConfig};

/// The reference split of the local MNIST copy (`LRSWEEP_DATA_DIR`, else `../shared/data/mnist`
/// beside the project, else the caches, else downloaded once into lrsweep's cache, verified),
/// optionally a stratified subset.
pub fn split(limit: Option<usize>) -> Split {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let dir = (std::env::var_os("LRSWEEP_DATA_DIR").is_none() && shared.is_dir()).then_some(shared);
    let locator = Locator::new(DatasetKind::Mnist, dir);
    let images = lrsweep_data::load(&locator).expect("the real MNIST copy: offline, set LRSWEEP_DATA_DIR to a directory holding the four MNIST files");
    images
        .split(&SplitConfig {
            limit,
            ..SplitConfig::default()
        })
        .expect("the reference split")
}
