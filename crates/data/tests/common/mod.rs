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
    assert!(
        dir.join("train-images-idx3-ubyte.gz").is_file() || dir.join("train-images-idx3-ubyte").is_file(),
        "the real MNIST copy is not at {}: set LRSWEEP_DATA_DIR to a directory holding the four MNIST files",
        dir.display()
    );
    dir
}
