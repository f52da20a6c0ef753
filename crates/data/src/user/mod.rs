//! The user's own classification data (`--data`): CSV tables, NumPy arrays, IDX files of any
//! size, image folders. Each reader checks everything it reads and names the file, line, column
//! or array of a problem; every file is read with a memory bound.
//!
//! Classes are numbered in the order of their sorted names (integer labels numerically, others
//! as strings, as scikit-learn's `LabelEncoder` does), so a label file's order does not matter.

mod common;
mod folder;
mod format;
mod idx_files;
mod numpy;
mod table;
mod unseen;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use unseen::{Expected, Unseen};

use format::Format;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// Where the user's data is and how to read it (recorded with a run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserData {
    /// A CSV file (gzipped or not), a `.npz`, a `.npy` of features (with `labels`), an IDX
    /// images file or a directory of IDX files, or a folder with one subfolder per class.
    pub path: PathBuf,
    /// The labels of a `.npy` or IDX images file (`--labels`).
    #[serde(default)]
    pub labels: Option<PathBuf>,
    /// A CSV's label column, by name or by number from 1 (`--label`).
    #[serde(default)]
    pub label: Option<String>,
    /// Images resized to width × height (`--image-size WxH`).
    #[serde(default)]
    pub image_size: Option<(u32, u32)>,
    /// Which of a table's columns are features (`--keep-columns`, `--drop`).
    #[serde(default, skip_serializing_if = "Columns::is_default")]
    pub columns: Columns,
    /// What the labels are for (`--task`); none: a classification, unless a table's label
    /// column or an array `y` holds numbers with fractions (or a table names several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<crate::values::Task>,
}

/// Which of a table's columns are features besides the label: by default every column but an
/// unnamed first one holding 0, 1, 2, … (the index pandas' `to_csv` writes) and one named
/// `id`, `ID` or `Id`, each left out with a note; `keep` keeps them; `drop` leaves out more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Columns {
    /// Keep the index and ID columns as features (`--keep-columns`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep: bool,
    /// Columns left out by name (`--drop NAME,...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<String>,
}

impl Columns {
    fn is_default(&self) -> bool {
        *self == Columns::default()
    }
}

impl UserData {
    /// Reads the data, refusing anything that would take more than `memory` bytes.
    pub fn load(&self, memory: u64) -> Result<Dataset> {
        let path = &self.path;
        let format = Format::of(path)?;
        if self.label.is_some() && format != Format::Table {
            return Err(DataError::invalid(
                path.display(),
                "--label names a CSV column, but this is not a CSV file",
            ));
        }
        if !self.columns.is_default() && format != Format::Table {
            return Err(DataError::invalid(
                path.display(),
                "--keep-columns and --drop choose a CSV table's columns; this is not a CSV file",
            ));
        }
        if self.task == Some(crate::values::Task::Regression)
            && !matches!(format, Format::Table | Format::Npz | Format::Npy)
        {
            return Err(DataError::invalid(
                path.display(),
                "--task regression takes numeric targets from a CSV table or a NumPy file (array y); images and IDX files hold classes",
            ));
        }
        if self.image_size.is_some() && format != Format::ImageFolder {
            return Err(DataError::invalid(
                path.display(),
                "--image-size resizes the images of a folder; this is not one",
            ));
        }
        match (&self.labels, format.labels_apart()) {
            (Some(_), false) => {
                return Err(DataError::invalid(
                    path.display(),
                    "--labels goes with a .npy or an IDX images file given to --data; this data holds its own labels",
                ))
            }
            (None, true) if format == Format::Npy => {
                return Err(DataError::invalid(
                    path.display(),
                    "a .npy holds one array: give the labels too, --data X.npy --labels Y.npy (or one .npz with arrays x and y)",
                ))
            }
            _ => {}
        }
        let mut data = match format {
            Format::IdxDir => idx_files::read_dir(path, memory)?,
            Format::ImageFolder => folder::read(path, self.image_size, memory)?,
            Format::Table => table::read(
                path,
                self.label.as_deref(),
                &self.columns,
                self.task,
                memory,
            )?,
            Format::Npz => numpy::read_npz(path, self.task, memory)?,
            Format::Npy => {
                let labels = self.labels.as_deref().unwrap_or(path);
                numpy::read_pair(path, labels, self.task, memory)?
            }
            Format::IdxImages => idx_files::read_file(path, self.labels.as_deref(), memory)?,
        };
        data.name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(data)
    }
}
