//! Helpers shared by the data crate's integration tests.

use std::path::PathBuf;

/// The real MNIST copy: `LRSWEEP_DATA_DIR`, else `../shared/data/mnist` beside the project, else
/// the cache `lrsweep fetch` fills.
pub fn mnist_dir() -> PathBuf {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let dir = std::env::var_os("LRSWEEP_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| shared.is_dir().then_some(shared))
        .or_else(|| dirs::cache_dir().map(|c| c.join("lrsweep/mnist")))
        .unwrap_or_default();
    if dir.join("train-images-idx3-ubyte.gz").is_file()
        || dir.join("train-images-idx3-ubyte").is_file()
    {
        return dir;
    }
    // Nowhere yet: download once into lrsweep's cache, verified, as `lrsweep fetch` does.
    let locator = lrsweep_data::Locator::new(lrsweep_data::DatasetKind::Mnist, None);
    match locator.locate() {
        Ok(files) => files[0].path.parent().map(PathBuf::from).unwrap_or_default(),
        Err(e) => panic!("no MNIST copy found and none could be downloaded ({e}); offline, set LRSWEEP_DATA_DIR to a directory holding the four MNIST files"),
    }
}
