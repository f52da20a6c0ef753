//! Where a command's data comes from: a catalogue set, or the user's own (`--data`).

use std::path::PathBuf;

use clap::Args;
use lrsweep_data::{DatasetKind, Scale, UserData};

use super::parse;
use crate::config::{DataConfig, DataLocation};

/// Which catalogue data set, and where its files are.
#[derive(Debug, Args, Clone)]
pub struct CatalogueArgs {
    /// Catalogue data set to use: mnist or fashion-mnist.
    #[arg(long, value_name = "mnist|fashion-mnist", default_value_t = DataConfig::default().dataset, value_parser = parse::dataset)]
    pub dataset: DatasetKind,

    /// Directory holding the four IDX files (gzipped or not); otherwise the cache, then a download.
    #[arg(long, env = "LRSWEEP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Base URL to download from instead of the public mirrors (may be repeated).
    #[arg(long, value_name = "URL")]
    pub mirror: Vec<String>,
}

impl CatalogueArgs {
    /// The data part of a configuration for the catalogue set: the default split.
    pub fn to_config(&self) -> DataConfig {
        DataConfig {
            dataset: self.dataset,
            location: DataLocation {
                data_dir: self.data_dir.clone(),
                mirrors: self.mirror.clone(),
            },
            ..DataConfig::default()
        }
    }
}

/// Where the data comes from: a catalogue set, or the user's own (`--data`).
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// The catalogue set.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,

    /// Your own data (classification, or regression: see --task) instead of a catalogue set: a
    /// CSV file with a header row
    /// (.csv or .csv.gz), a NumPy .npz (arrays x and y) or .npy (with --labels), an IDX images
    /// file or a directory of IDX files (any image size), or a folder with one subfolder of PNG or
    /// JPEG images per class. The network's input width and class count come from the data.
    #[arg(
        long = "data",
        id = "user",
        value_name = "PATH",
        conflicts_with = "dataset"
    )]
    pub data: Option<PathBuf>,

    /// The labels of a .npy (or IDX images) file given to --data.
    #[arg(long, value_name = "PATH", requires = "user")]
    pub labels: Option<PathBuf>,

    /// The CSV's label column, by name or by number from 1 [default: a column named label,
    /// target, class or y, else the last]; a regression's several targets comma-separated
    /// (`--label price,volume`).
    #[arg(long, value_name = "NAME|INDEX[,...]", requires = "user")]
    pub label: Option<String>,

    /// What the labels are for: classification (a class per item) or regression (numbers:
    /// a linear output per target, mean squared error on targets standardised by the training
    /// part; RMSE, MAE and R²) [default: regression when the label column holds numbers with
    /// fractions, or --label names several columns, said in one line; classification
    /// otherwise].
    #[arg(long, value_name = "classification|regression", requires = "user")]
    pub task: Option<lrsweep_data::Task>,

    /// Keep a CSV's index and ID columns as features (by default an unnamed first column
    /// holding 0, 1, 2, …, as pandas' to_csv writes it, and a column named id, ID or Id are
    /// left out, with a note).
    #[arg(long, requires = "user")]
    pub keep_columns: bool,

    /// Leave these CSV columns out of the features, by name.
    #[arg(
        long,
        value_name = "NAME,...",
        value_delimiter = ',',
        requires = "user"
    )]
    pub drop: Vec<String>,

    /// Resize an image folder's images to WxH (otherwise they must all be one size).
    #[arg(long, value_name = "WxH", value_parser = parse::image_size, requires = "user")]
    pub image_size: Option<(u32, u32)>,

    /// A validation file of the same kind as --data, instead of splitting off --val-fraction.
    #[arg(long, value_name = "PATH", requires = "user")]
    pub val: Option<PathBuf>,

    /// How features are scaled: standard (minus the training part's mean, over its standard
    /// deviation), unit (÷255) or none [default: unit for images and IDX, standard for CSV and
    /// NumPy]; recorded, and applied by eval.
    #[arg(long, value_name = "standard|unit|none")]
    pub scale: Option<Scale>,
}

impl DataArgs {
    /// The data part of a configuration: the default split, optionally a stratified subset;
    /// the user's paths made absolute (the run records them; Slurm tasks read them elsewhere).
    pub fn to_config(&self, limit: Option<usize>) -> anyhow::Result<DataConfig> {
        let absolute = |p: &PathBuf, flag: &str| -> anyhow::Result<PathBuf> {
            std::path::absolute(p)
                .map_err(|e| crate::exit::usage(anyhow::anyhow!("{flag} {}: {e}", p.display())))
        };
        let user = match &self.data {
            Some(path) => Some(UserData {
                path: absolute(path, "--data")?,
                labels: self
                    .labels
                    .as_ref()
                    .map(|l| absolute(l, "--labels"))
                    .transpose()?,
                label: self.label.clone(),
                image_size: self.image_size,
                columns: lrsweep_data::Columns {
                    keep: self.keep_columns,
                    drop: self.drop.clone(),
                },
                task: self.task,
            }),
            None => None,
        };
        Ok(DataConfig {
            limit,
            user,
            val: self
                .val
                .as_ref()
                .map(|v| absolute(v, "--val"))
                .transpose()?,
            scale: self.scale,
            ..self.catalogue.to_config()
        })
    }
}
