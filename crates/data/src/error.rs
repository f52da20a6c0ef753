//! The typed errors of the data crate.

use std::path::PathBuf;

/// Everything that can go wrong while finding, fetching, parsing or splitting the data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read or written.
    #[error("{action} {path}: {error}")]
    Io {
        /// What was being done ("reading", "writing", ...).
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error: said in this error's own message, so not also its source (a
        /// chain of causes would print it twice).
        error: std::io::Error,
    },

    /// A file starts with the gzip magic bytes but does not decompress.
    #[error(
        "{path}: corrupt gzip data ({reason}); delete the file or replace it with a good copy"
    )]
    CorruptGzip {
        /// The file concerned.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },

    /// The IDX header names another kind of file than the one expected.
    #[error("{path}: wrong IDX magic number 0x{found:08x}, expected 0x{expected:08x} ({what})")]
    WrongMagic {
        /// The file concerned.
        path: PathBuf,
        /// The magic number read.
        found: u32,
        /// The magic number expected.
        expected: u32,
        /// "images" or "labels".
        what: &'static str,
    },

    /// The IDX header declares image dimensions other than 28×28.
    #[error("{path}: images are {rows}x{cols}, expected 28x28")]
    WrongDims {
        /// The file concerned.
        path: PathBuf,
        /// Declared rows.
        rows: u32,
        /// Declared columns.
        cols: u32,
    },

    /// The payload is shorter or longer than the header says.
    #[error("{path}: {found} bytes of data where the header announces {expected} (file truncated or padded)")]
    WrongLength {
        /// The file concerned.
        path: PathBuf,
        /// Bytes expected after the header.
        expected: usize,
        /// Bytes found after the header.
        found: usize,
    },

    /// The images file and the labels file disagree on the number of items.
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        /// The images file.
        images: PathBuf,
        /// The labels file.
        labels: PathBuf,
        /// Number of images.
        n_images: usize,
        /// Number of labels.
        n_labels: usize,
    },

    /// A label is not a digit class.
    #[error("{path}: label {label} at index {index} is outside 0..=9")]
    BadLabel {
        /// The file concerned.
        path: PathBuf,
        /// Index of the offending label.
        index: usize,
        /// The value found.
        label: u8,
    },

    /// A file's decompressed content does not match the pinned SHA-256.
    #[error("{path}: SHA-256 of the decompressed data is {found}, expected {expected}; the file is damaged or is not {dataset}. Delete it or point --data-dir at a good copy")]
    Checksum {
        /// The file (or URL) concerned.
        path: PathBuf,
        /// The data set it should belong to.
        dataset: &'static str,
        /// Digest found.
        found: String,
        /// Digest expected.
        expected: String,
    },

    /// A file of another catalogue set (or another file of this one) where a file was expected.
    #[error("{path} is {holds}, a good file, but not {wanted}; point --data-dir (or LRSWEEP_DATA_DIR) at a directory holding the right set, or give the set it belongs to with --dataset")]
    OtherDataset {
        /// The file.
        path: PathBuf,
        /// Which catalogue file it is.
        holds: String,
        /// Which file was wanted.
        wanted: String,
    },

    /// A directory the user named does not hold a needed file.
    #[error("{path} is {kind}, not a data file; put the IDX file itself there (gzipped or not)")]
    /// Something that is not a regular file stands where a data file should be.
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: String,
    },
    /// A directory named for the data lacks one of its files.
    #[error("{dir} has no {file} (nor {file}.gz); {hint}")]
    MissingFile {
        /// The directory searched.
        dir: PathBuf,
        /// The file missing.
        file: &'static str,
        /// How to fix it.
        hint: String,
    },

    /// Every source of the data was tried and none worked.
    #[error("could not obtain {dataset}:\n{tried}\nTo work offline, download the four files ({files}) by hand, put them (gzipped or not) in one directory and pass it with --data-dir DIR or LRSWEEP_DATA_DIR=DIR")]
    Unavailable {
        /// The data set.
        dataset: &'static str,
        /// One line per source tried, with why it failed.
        tried: String,
        /// The file names needed.
        files: String,
    },

    /// A split or subset was asked for with impossible parameters.
    #[error("{0}")]
    InvalidSplit(String),

    /// The user's data is not what lrsweep can read: `at` names the file (and line, column,
    /// array or item), `problem` says what is wrong and how to fix it.
    #[error("{at}: {problem}")]
    Invalid {
        /// The file, with the line, column, array or item where it applies.
        at: String,
        /// What is wrong, and the fix.
        problem: String,
    },

    /// Data that would not fit in memory, estimated before it is read (or a gzip stream that
    /// inflates beyond that).
    #[error("{path}: {what} needs about {need_mib} MiB in memory, more than the {available_mib} MiB available; use a smaller file (or a subset of it) or a machine with more memory")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What would take the memory.
        what: String,
        /// Estimated need, MiB.
        need_mib: u64,
        /// Memory available, MiB.
        available_mib: u64,
    },

    /// A data file that holds, or inflates to, more bytes than a file of its kind can have.
    #[error("{path}: holds or inflates to more than {limit} bytes, more than this file can be (a damaged or foreign file, or a gzip bomb); nothing beyond that was read. Delete it or replace it with a good copy")]
    Oversized {
        /// The file (or URL).
        path: PathBuf,
        /// The bound, bytes.
        limit: u64,
    },

    /// A data set name that lrsweep does not know.
    #[error("unknown data set '{0}': choose mnist or fashion-mnist")]
    UnknownDataset(String),
}

impl DataError {
    /// The user's data at `at` (a file, with a line or an array) is wrong: `problem`.
    pub fn invalid(at: impl std::fmt::Display, problem: impl Into<String>) -> Self {
        Self::Invalid {
            at: at.to_string(),
            problem: problem.into(),
        }
    }

    /// Data at `path` whose `what` needs `need` bytes, more than `available`.
    pub(crate) fn too_large(
        path: &std::path::Path,
        what: impl Into<String>,
        need: u64,
        available: u64,
    ) -> Self {
        Self::TooLarge {
            path: path.to_path_buf(),
            what: what.into(),
            need_mib: need.div_ceil(1 << 20),
            available_mib: available >> 20,
        }
    }

    /// An I/O error with the file it concerns.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            action,
            path: path.into(),
            error: source,
        }
    }
}

/// Result with a [`DataError`].
pub type Result<T> = std::result::Result<T, DataError>;
