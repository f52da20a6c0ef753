//! Helpers shared by the data crate's integration tests.

use std::path::PathBuf;

/// The real MNIST copy: `LRSWEEP_DATA_DIR`, else `../shared/data/mnist` beside the project.
pub fn mnist_dir() -> PathBuf {
    let dir = std::env::var_os("LRSWEEP_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist")
        });
    assert!(
        dir.join("train-images-idx3-ubyte.gz").is_file() || dir.join("train-images-idx3-ubyte").is_file(),
        "the real MNIST copy is not at {}: set LRSWEEP_DATA_DIR to a directory holding the four MNIST files",
        dir.display()
    );
    dir
}
