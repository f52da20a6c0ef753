//! The catalogue: the data sets lrsweep knows, their files with pinned checksums and lengths,
//! and the record of a file read and verified.

use std::path::PathBuf;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{DataError, Result};

/// One of the four IDX files of a data set, with the SHA-256 of its decompressed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec {
    /// File name without `.gz`, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// Lower-case hex SHA-256 of the decompressed file.
    pub sha256: &'static str,
    /// Length of the decompressed file, bytes.
    pub len: u64,
}

impl FileSpec {
    /// The most bytes lrsweep reads of a candidate for this file, compressed or inflated: its
    /// length plus a margin, so a slightly wrong file still gets the checksum's message while a
    /// gzip bomb or a huge foreign file is refused at the bound.
    pub fn read_limit(self) -> u64 {
        self.len + (1 << 20)
    }
}

/// The data sets lrsweep knows: same format, other content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// Handwritten digits (LeCun, Cortes, Burges).
    #[default]
    Mnist,
    /// Zalando's clothing images in MNIST format.
    FashionMnist,
}

impl std::str::FromStr for DatasetKind {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mnist" => Ok(Self::Mnist),
            "fashion-mnist" | "fashion_mnist" => Ok(Self::FashionMnist),
            other => Err(DataError::UnknownDataset(other.to_string())),
        }
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl DatasetKind {
    /// The name used on the command line and in the cache path.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
        }
    }

    /// The four files, in the order train images, train labels, test images, test labels.
    pub fn files(self) -> [FileSpec; 4] {
        // Both sets: 60,000 training and 10,000 test images of 28×28 bytes, with 16-byte (images)
        // and 8-byte (labels) headers.
        let f = |name: &'static str, sha256| FileSpec {
            name,
            sha256,
            len: match name {
                "train-images-idx3-ubyte" => 16 + 60_000 * 784,
                "train-labels-idx1-ubyte" => 8 + 60_000,
                "t10k-images-idx3-ubyte" => 16 + 10_000 * 784,
                _ => 8 + 10_000,
            },
        };
        match self {
            Self::Mnist => [
                f(
                    "train-images-idx3-ubyte",
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                ),
                f(
                    "train-labels-idx1-ubyte",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                ),
                f(
                    "t10k-images-idx3-ubyte",
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                ),
                f(
                    "t10k-labels-idx1-ubyte",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                ),
            ],
            Self::FashionMnist => [
                f(
                    "train-images-idx3-ubyte",
                    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                ),
                f(
                    "train-labels-idx1-ubyte",
                    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                ),
                f(
                    "t10k-images-idx3-ubyte",
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                ),
                f(
                    "t10k-labels-idx1-ubyte",
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                ),
            ],
        }
    }

    /// Public mirrors, tried in turn (those torchvision and burn-dataset use).
    pub fn default_mirrors(self) -> Vec<String> {
        let m: &[&str] = match self {
            Self::Mnist => &[
                "https://ossci-datasets.s3.amazonaws.com/mnist",
                "https://storage.googleapis.com/cvdf-datasets/mnist",
                "http://yann.lecun.com/exdb/mnist",
            ],
            Self::FashionMnist => &[
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
                "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion",
            ],
        };
        m.iter().map(|s| s.to_string()).collect()
    }

    /// Directories other tools install or cache this data set in, searched before a download.
    pub(crate) fn shared_dirs(self) -> Vec<PathBuf> {
        match self {
            Self::Mnist => dirs::cache_dir()
                .map(|c| {
                    let b = c.join("burn-dataset").join("mnist");
                    vec![b.join("train"), b.join("test")]
                })
                .unwrap_or_default(),
            Self::FashionMnist => vec![PathBuf::from("/usr/share/datasets/fashion-mnist")],
        }
    }
}

/// How a file was obtained, recorded with the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The directory passed explicitly (`--data-dir`).
    DataDir,
    /// The directory in `LRSWEEP_DATA_DIR`.
    EnvDir,
    /// lrsweep's own cache.
    Cache,
    /// Another tool's cache or a system package (burn-dataset, Debian).
    Shared,
    /// Downloaded now from a mirror.
    Downloaded,
    /// The user's own data, named by `--data`, `--labels` or `--val`.
    User,
}

/// One verified file: where it is, how it came, and its checksum.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedFile {
    /// File name without `.gz`.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// How it was obtained.
    pub origin: Origin,
    /// SHA-256 of the decompressed content (for a catalogue file, equal to the pinned one).
    pub sha256: String,
    /// The decompressed IDX bytes (not serialised).
    #[serde(skip)]
    pub(crate) bytes: Vec<u8>,
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
