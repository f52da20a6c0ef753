//! The data crate's vocabulary: a class index, feature values as bytes or floats, the scale
//! features are given, and a data set's outer shape.
//!
//! Two kinds of values: [`Values::Pixels`] (bytes, the model sees `byte / 255`, the `unit`
//! scale: MNIST, IDX files, image folders) and [`Values::Floats`] (anything else, or pixels under
//! another scale). A part keeps pixels as bytes, so the MNIST experiment holds 55 MB, not 220.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A class index: classes are numbered from 0 in the order of their sorted names.
pub type Label = u16;

/// The most classes a data set may have (the width of [`Label`]).
pub const MAX_CLASSES: usize = Label::MAX as usize + 1;

/// Feature values of items, row-major, `width` per item.
#[derive(Debug, Clone)]
pub enum Values {
    /// Bytes 0..=255; the model sees `byte / 255` (the `unit` scale).
    Pixels(Arc<[u8]>),
    /// Floats, as the model sees them.
    Floats(Arc<[f32]>),
}

impl Values {
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::Pixels(v) => v.len(),
            Values::Floats(v) => v.len(),
        }
    }
}

/// How features are scaled before training (`--scale`): recorded with the run, applied by `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    /// Each feature minus the training part's mean, divided by its standard deviation (a
    /// constant feature becomes 0): the default for CSV and NumPy data.
    Standard,
    /// Each value divided by 255: the default for images and IDX files (the reference).
    Unit,
    /// Values as they are.
    None,
}

impl Scale {
    /// `standard`, `unit` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Standard => "standard",
            Scale::Unit => "unit",
            Scale::None => "none",
        }
    }
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "standard" => Ok(Scale::Standard),
            "unit" => Ok(Scale::Unit),
            "none" => Ok(Scale::None),
            _ => Err(format!(
                "unknown scale '{s}': choose standard, unit or none"
            )),
        }
    }
}

/// What a network learns from the data: a class per item, or one number or more per item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// A class per item: softmax outputs, cross-entropy, accuracy.
    #[default]
    Classification,
    /// Numbers per item (the targets): a linear output per target, mean squared error (or
    /// Huber) on targets standardised by the training part, RMSE, MAE and R².
    Regression,
}

impl Task {
    /// `classification` or `regression`.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Regression => "regression",
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "classification" => Ok(Task::Classification),
            "regression" => Ok(Task::Regression),
            _ => Err(format!(
                "unknown task '{s}': choose classification or regression"
            )),
        }
    }
}

/// The number of features of an item and the number of classes: the network's outer shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Features per item (the input width).
    pub inputs: usize,
    /// Classes (the output width): for a regression, the targets.
    pub classes: usize,
}

impl Values {
    /// Item `i`'s values as `f64`, items being `width` wide.
    pub(crate) fn row(&self, width: usize, i: usize) -> Box<dyn Iterator<Item = f64> + '_> {
        let w = width;
        match self {
            Values::Pixels(v) => Box::new(v[i * w..(i + 1) * w].iter().map(|&p| p as f64)),
            Values::Floats(v) => Box::new(v[i * w..(i + 1) * w].iter().map(|&x| x as f64)),
        }
    }
}
