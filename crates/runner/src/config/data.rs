//! Where a run's data comes from and how it is split: what defines the data ([`DataConfig`]),
//! and where this machine finds its files ([`DataLocation`], an execution setting).

use std::path::PathBuf;

use lrsweep_data::{DatasetKind, Locator, Scale, SplitConfig, UserData};
use serde::{Deserialize, Serialize};

/// Where this machine finds a catalogue set's files: not a setting of the run (the files'
/// checksums prove which data it is), so a resume or a task elsewhere may give another.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DataLocation {
    /// A directory holding the files, if the user named one.
    pub data_dir: Option<PathBuf>,
    /// Download base URLs replacing the public mirrors (empty: the public mirrors).
    pub mirrors: Vec<String>,
}

/// Where the data comes from and how it is split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// The data set.
    pub dataset: DatasetKind,
    /// Where this machine finds its files (recorded beside the rest, under the same keys).
    #[serde(flatten)]
    pub location: DataLocation,
    /// Validation share.
    pub val_fraction: f64,
    /// Stratified subset size, if any.
    pub limit: Option<usize>,
    /// The user's own data (`--data`), read instead of `dataset`.
    #[serde(default)]
    pub user: Option<UserData>,
    /// A validation file of the same kind as `user` (`--val`), instead of a split.
    #[serde(default)]
    pub val: Option<PathBuf>,
    /// The features' scale (`--scale`); none: the data's default (`unit` for pixels,
    /// `standard` for tables and arrays).
    #[serde(default)]
    pub scale: Option<Scale>,
}

impl Default for DataConfig {
    fn default() -> Self {
        let split = SplitConfig::default();
        Self {
            dataset: DatasetKind::Mnist,
            location: DataLocation::default(),
            val_fraction: split.val_fraction,
            limit: split.limit,
            user: None,
            val: None,
            scale: split.scale,
        }
    }
}

impl DataConfig {
    /// The locator for this data (explicit directory, `LRSWEEP_DATA_DIR`, caches, mirrors).
    pub fn locator(&self) -> Locator {
        let mut locator = Locator::new(self.dataset, self.location.data_dir.clone());
        if !self.location.mirrors.is_empty() {
            locator.mirrors = self.location.mirrors.clone();
        }
        locator
    }

    /// The split for `seed`.
    pub fn split(&self, seed: u64) -> SplitConfig {
        SplitConfig {
            val_fraction: self.val_fraction,
            seed,
            limit: self.limit,
            scale: self.scale,
        }
    }

    /// The validation data named by `--val`: read as the training data is.
    pub fn val_data(&self) -> Option<UserData> {
        let (user, val) = (self.user.as_ref()?, self.val.as_ref()?);
        Some(UserData {
            path: val.clone(),
            labels: None,
            ..user.clone()
        })
    }

    /// What the data is called in messages: the catalogue set's name or the user's path.
    pub fn describe(&self) -> String {
        match &self.user {
            Some(u) => u.path.display().to_string(),
            None => self.dataset.to_string(),
        }
    }
}
