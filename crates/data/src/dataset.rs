//! A classification data set in memory, its parts after a split, and how their features are
//! scaled.
//!
//! Two kinds of values: [`Values::Pixels`] (bytes, the model sees `byte / 255`, the `unit`
//! scale: MNIST, IDX files, image folders) and [`Values::Floats`] (anything else, or pixels under
//! another scale). A part keeps pixels as bytes, so the MNIST experiment holds 55 MB, not 220.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::source::VerifiedFile;
use crate::split;

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
    fn len(&self) -> usize {
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

/// A whole data set in memory: features, one class per item, where they came from.
#[derive(Debug, Clone)]
pub struct Dataset {
    values: Values,
    labels: Arc<[Label]>,
    /// The shape of one item (`[28, 28]` for MNIST, `[13]` for a table of 13 features,
    /// `[32, 32, 3]` for colour images); its product is the network's input width.
    pub item_shape: Vec<usize>,
    /// The classes' names, in class-index order (`"0"`..`"9"` for MNIST).
    pub class_names: Vec<String>,
    /// The files read, with their checksums and origin.
    pub files: Vec<VerifiedFile>,
    /// What the data is called in messages (`mnist`, a file name).
    pub name: String,
}

/// The number of features of an item and the number of classes: the network's outer shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Features per item (the input width).
    pub inputs: usize,
    /// Classes (the output width).
    pub classes: usize,
}

impl Dataset {
    /// A data set of `labels.len()` items with `item_shape` features each; `labels` index
    /// `class_names`. Refuses lengths that disagree, labels out of range and fewer than two
    /// classes.
    pub fn new(
        values: Values,
        labels: Vec<Label>,
        item_shape: Vec<usize>,
        class_names: Vec<String>,
        name: impl Into<String>,
    ) -> Result<Self> {
        let name = name.into();
        let width: usize = item_shape.iter().product();
        if width == 0 {
            return Err(DataError::invalid(&name, "the items have no features"));
        }
        if values.len() != labels.len() * width {
            return Err(DataError::invalid(
                &name,
                format!(
                    "{} values for {} items of {width} features",
                    values.len(),
                    labels.len()
                ),
            ));
        }
        if class_names.len() < 2 {
            return Err(DataError::invalid(
                &name,
                format!(
                    "only one class ({}): a classifier needs at least two",
                    class_names.first().map_or("none", |c| c.as_str())
                ),
            ));
        }
        if class_names.len() > MAX_CLASSES {
            return Err(DataError::invalid(
                &name,
                format!(
                    "{} classes; lrsweep handles at most {MAX_CLASSES}",
                    class_names.len()
                ),
            ));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= class_names.len()) {
            return Err(DataError::invalid(
                &name,
                format!(
                    "label {} of item {i} is not one of the {} classes",
                    labels[i],
                    class_names.len()
                ),
            ));
        }
        Ok(Self {
            values,
            labels: labels.into(),
            item_shape,
            class_names,
            files: Vec::new(),
            name,
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per item.
    pub fn width(&self) -> usize {
        self.item_shape.iter().product()
    }

    /// The input width and the class count.
    pub fn shape(&self) -> Shape {
        Shape {
            inputs: self.width(),
            classes: self.class_names.len(),
        }
    }

    /// Class indices, one per item.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The raw values (bytes for pixels, floats as read).
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Items per class.
    pub fn class_counts(&self) -> Vec<usize> {
        split::class_counts(&self.labels, self.class_names.len())
    }

    /// The scale lrsweep applies when none is asked for: `unit` for pixels, `standard` else.
    pub fn default_scale(&self) -> Scale {
        match self.values {
            Values::Pixels(_) => Scale::Unit,
            Values::Floats(_) => Scale::Standard,
        }
    }

    /// The experiment's split: optional stratified subset, then a stratified train/validation
    /// split, both parts in a seeded random order, scaled by `config.scale` (or the default
    /// scale), a standard scale by the training part's statistics.
    pub fn split(&self, config: &SplitConfig) -> Result<Split> {
        let subset = self.subset(config)?;
        let labels: Vec<Label> = subset.iter().map(|&i| self.labels[i]).collect();
        let (train, valid) =
            split::stratified_split(&labels, &self.class_names, config.val_fraction, config.seed)?;
        let map = |v: Vec<usize>| v.into_iter().map(|i| subset[i]).collect::<Vec<_>>();
        let (train, valid) = (map(train), map(valid));
        let scale = config.scale.unwrap_or(self.default_scale());
        let scaler = Scaler::fit(scale, self, &train);
        Ok(Split {
            train: Part::gather(self, &train, &scaler),
            valid: Part::gather(self, &valid, &scaler),
            scale,
        })
    }

    /// A split whose validation part is `valid` (a separate file, `--val`): this set (or its
    /// stratified `limit` subset) trains, in a seeded order; `valid`'s classes must be among
    /// this set's (matched by name) and its items as wide.
    pub fn split_with(&self, valid: &Dataset, config: &SplitConfig) -> Result<Split> {
        if valid.item_shape != self.item_shape {
            return Err(DataError::invalid(
                &valid.name,
                format!(
                    "its items have shape {:?}, the training data's {:?}; the validation data must have the same features",
                    valid.item_shape, self.item_shape
                ),
            ));
        }
        if std::mem::discriminant(&valid.values) != std::mem::discriminant(&self.values) {
            return Err(DataError::invalid(
                &valid.name,
                "its values are of another kind than the training data's (pixels and numbers mixed); give a validation file of the same kind",
            ));
        }
        let mut relabel = Vec::with_capacity(valid.class_names.len());
        for name in &valid.class_names {
            match self.class_names.iter().position(|c| c == name) {
                Some(i) => relabel.push(i as Label),
                None => {
                    return Err(DataError::invalid(
                        &valid.name,
                        format!(
                        "class '{name}' does not occur in the training data {} (its classes: {})",
                        self.name,
                        list(&self.class_names)
                    ),
                    ))
                }
            }
        }
        let mut train = self.subset(config)?;
        let mut rng = split::rng(config.seed);
        split::shuffle(&mut train, &mut rng);
        let relabelled: Vec<Label> = valid.labels.iter().map(|&l| relabel[l as usize]).collect();
        let valid = Dataset {
            labels: relabelled.into(),
            class_names: self.class_names.clone(),
            ..valid.clone()
        };
        let mut order: Vec<usize> = (0..valid.len()).collect();
        split::shuffle(&mut order, &mut rng);
        let scale = config.scale.unwrap_or(self.default_scale());
        let scaler = Scaler::fit(scale, self, &train);
        Ok(Split {
            train: Part::gather(self, &train, &scaler),
            valid: Part::gather(&valid, &order, &scaler),
            scale,
        })
    }
}

impl Dataset {
    /// The items a split takes: `config.limit`'s stratified subset, or all of them.
    fn subset(&self, config: &SplitConfig) -> Result<Vec<usize>> {
        match config.limit {
            Some(limit) => {
                split::stratified_subset(&self.labels, self.class_names.len(), limit, config.seed)
            }
            None => Ok((0..self.len()).collect()),
        }
    }
}

/// Up to eight names, comma-separated, then how many more.
fn list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(8)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 8 {
        s.push_str(&format!(" and {} more", names.len() - 8));
    }
    s
}

/// How a part's values are made from a data set's: the [`Scale`], with the training part's
/// per-feature mean and standard deviation for `standard`.
enum Scaler {
    /// Pixels stay bytes (`unit` on pixels).
    Bytes,
    /// `(v - shift[j]) * factor[j]` per feature `j`.
    Affine { shift: Vec<f64>, factor: Vec<f64> },
}

impl Scaler {
    fn fit(scale: Scale, data: &Dataset, train: &[usize]) -> Self {
        let width = data.width();
        let pixels = matches!(data.values, Values::Pixels(_));
        match scale {
            Scale::Unit if pixels => Scaler::Bytes,
            Scale::Unit => Scaler::Affine {
                shift: vec![0.0; width],
                factor: vec![1.0 / 255.0; width],
            },
            Scale::None => Scaler::Affine {
                shift: vec![0.0; width],
                factor: vec![1.0; width],
            },
            Scale::Standard => {
                let (mut sum, mut sq) = (vec![0f64; width], vec![0f64; width]);
                for &i in train {
                    for (j, v) in raw_row(data, i).enumerate() {
                        sum[j] += v;
                        sq[j] += v * v;
                    }
                }
                let n = train.len().max(1) as f64;
                let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
                let factor = sq
                    .iter()
                    .zip(&mean)
                    .map(|(q, m)| {
                        let var = (q / n - m * m).max(0.0);
                        // A constant feature carries nothing: it becomes 0, not a division by 0.
                        if var > 1e-12 * (1.0 + m * m) {
                            1.0 / var.sqrt()
                        } else {
                            0.0
                        }
                    })
                    .collect();
                Scaler::Affine {
                    shift: mean,
                    factor,
                }
            }
        }
    }
}

/// Item `i`'s raw values as `f64`.
fn raw_row(data: &Dataset, i: usize) -> Box<dyn Iterator<Item = f64> + '_> {
    let w = data.width();
    match &data.values {
        Values::Pixels(v) => Box::new(v[i * w..(i + 1) * w].iter().map(|&p| p as f64)),
        Values::Floats(v) => Box::new(v[i * w..(i + 1) * w].iter().map(|&x| x as f64)),
    }
}

/// How to split: validation fraction, seed, an optional stratified subset for quick runs, and
/// the features' scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitConfig {
    /// Share of the images held out for validation (the reference: 0.15).
    pub val_fraction: f64,
    /// Seed of the split and of the training order (the reference: 42).
    pub seed: u64,
    /// Use a stratified subset of this many images instead of all.
    pub limit: Option<usize>,
    /// The features' scale; none: the data's default ([`Dataset::default_scale`]).
    #[serde(default)]
    pub scale: Option<Scale>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        Self {
            val_fraction: 0.15,
            seed: 42,
            limit: None,
            scale: None,
        }
    }
}

/// One part of a split, in its (seeded, fixed) training order, scaled as the model sees it.
#[derive(Debug, Clone)]
pub struct Part {
    values: Values,
    labels: Arc<[Label]>,
    width: usize,
    classes: usize,
}

/// One item as Burn's data tooling sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item's features, scaled.
    pub image: Vec<f32>,
    /// Class index.
    pub label: usize,
}

impl Part {
    fn gather(data: &Dataset, order: &[usize], scaler: &Scaler) -> Self {
        let w = data.width();
        let values = match (scaler, &data.values) {
            (Scaler::Bytes, Values::Pixels(v)) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend_from_slice(&v[i * w..(i + 1) * w]);
                }
                Values::Pixels(out.into())
            }
            (Scaler::Affine { shift, factor }, _) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend(
                        raw_row(data, i)
                            .zip(shift.iter().zip(factor))
                            .map(|(v, (s, f))| ((v - s) * f) as f32),
                    );
                }
                Values::Floats(out.into())
            }
            // Not made (bytes are kept for pixels only); were it, floats are divided as pixels.
            (Scaler::Bytes, Values::Floats(v)) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend(v[i * w..(i + 1) * w].iter().map(|&x| x / 255.0));
                }
                Values::Floats(out.into())
            }
        };
        Self {
            values,
            labels: order.iter().map(|&i| data.labels[i]).collect(),
            width: w,
            classes: data.class_names.len(),
        }
    }

    /// A part of pixels (e.g. generated test data): `pixels.len()` must be `width × labels.len()`
    /// and every label below `classes`.
    pub fn from_pixels(
        pixels: Vec<u8>,
        labels: Vec<Label>,
        width: usize,
        classes: usize,
    ) -> Result<Self> {
        if width == 0
            || pixels.len() != labels.len() * width
            || labels.iter().any(|&l| l as usize >= classes)
        {
            return Err(DataError::InvalidSplit(format!(
                "{} pixels for {} labels (need {width} each, labels below {classes})",
                pixels.len(),
                labels.len()
            )));
        }
        Ok(Self {
            values: Values::Pixels(pixels.into()),
            labels: labels.into(),
            width,
            classes,
        })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the part is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Features per item.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of classes of the data set (some may have no item in this part).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The values (pixels as bytes, or floats as the model sees them).
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Class indices.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// Appends item `i`'s features as the model sees them to `out`.
    pub fn extend_row(&self, i: usize, out: &mut Vec<f32>) {
        let w = self.width;
        match &self.values {
            Values::Pixels(v) => {
                out.extend(v[i * w..(i + 1) * w].iter().map(|&p| p as f32 / 255.0))
            }
            Values::Floats(v) => out.extend_from_slice(&v[i * w..(i + 1) * w]),
        }
    }

    /// Calls `f(feature, value)` for each non-zero feature of item `i`, in feature order.
    pub fn for_each_nonzero(&self, i: usize, mut f: impl FnMut(usize, f32)) {
        let w = self.width;
        match &self.values {
            Values::Pixels(v) => {
                for (c, &p) in v[i * w..(i + 1) * w].iter().enumerate() {
                    if p != 0 {
                        f(c, p as f32 / 255.0);
                    }
                }
            }
            Values::Floats(v) => {
                for (c, &x) in v[i * w..(i + 1) * w].iter().enumerate() {
                    if x != 0.0 {
                        f(c, x);
                    }
                }
            }
        }
    }

    /// The fraction of the part's values that are not zero.
    pub fn density(&self) -> f64 {
        let (nonzero, all) = match &self.values {
            Values::Pixels(v) => (v.iter().filter(|&&p| p != 0).count(), v.len()),
            Values::Floats(v) => (v.iter().filter(|&&x| x != 0.0).count(), v.len()),
        };
        if all == 0 {
            0.0
        } else {
            nonzero as f64 / all as f64
        }
    }

    /// Items `range` as the model's input, `len × width` floats.
    pub fn features_f32(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let mut out = Vec::with_capacity(range.len() * self.width);
        for i in range {
            self.extend_row(i, &mut out);
        }
        out
    }

    /// Labels `range` one-hot encoded, `len × classes`.
    pub fn one_hot(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let mut out = vec![0.0; range.len() * self.classes];
        for (row, &l) in self.labels[range].iter().enumerate() {
            out[row * self.classes + l as usize] = 1.0;
        }
        out
    }

    /// Items per class.
    pub fn class_counts(&self) -> Vec<usize> {
        split::class_counts(&self.labels, self.classes)
    }
}

impl burn_dataset::Dataset<Item> for Part {
    fn get(&self, index: usize) -> std::result::Result<Item, burn_dataset::DatasetError> {
        if index >= self.len() {
            return Err(burn_dataset::DatasetError::new(DataError::InvalidSplit(
                format!(
                    "index {index} out of range for a part of {} items",
                    self.len()
                ),
            )));
        }
        Ok(Item {
            image: self.features_f32(index..index + 1),
            label: self.labels[index] as usize,
        })
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Training and validation parts of a split.
#[derive(Debug, Clone)]
pub struct Split {
    /// Training part, in the fixed training order.
    pub train: Part,
    /// Validation part.
    pub valid: Part,
    /// The scale applied to both.
    pub scale: Scale,
}

impl Split {
    /// The input width and class count.
    pub fn shape(&self) -> Shape {
        Shape {
            inputs: self.train.width,
            classes: self.train.classes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize, width: usize, classes: usize) -> Dataset {
        let values: Vec<f32> = (0..n * width)
            .map(|i| (i % 7) as f32 * 3.0 + 10.0)
            .collect();
        let labels = (0..n).map(|i| (i % classes) as Label).collect();
        let names = (0..classes).map(|c| format!("c{c}")).collect();
        Dataset::new(
            Values::Floats(values.into()),
            labels,
            vec![width],
            names,
            "t",
        )
        .unwrap()
    }

    #[test]
    fn standard_scale_uses_the_training_part_and_maps_constants_to_zero() {
        let mut data = table(200, 5, 4);
        // Feature 4 constant.
        if let Values::Floats(v) = &data.values {
            let mut v = v.to_vec();
            for r in 0..200 {
                v[r * 5 + 4] = 3.5;
            }
            data.values = Values::Floats(v.into());
        }
        let split = data.split(&SplitConfig::default()).unwrap();
        assert_eq!(split.scale, Scale::Standard);
        let x = split.train.features_f32(0..split.train.len());
        for j in 0..5 {
            let col: Vec<f64> = x.chunks(5).map(|r| r[j] as f64).collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(mean.abs() < 1e-5, "feature {j} mean {mean}");
            if j == 4 {
                assert!(col.iter().all(|&v| v == 0.0));
            } else {
                assert!((var - 1.0).abs() < 1e-4, "feature {j} var {var}");
            }
        }
    }

    #[test]
    fn unit_and_none_scales_and_pixels_stay_bytes() {
        let data = table(100, 3, 2);
        let cfg = |scale| SplitConfig {
            scale: Some(scale),
            ..SplitConfig::default()
        };
        let unit = data.split(&cfg(Scale::Unit)).unwrap();
        let none = data.split(&cfg(Scale::None)).unwrap();
        let (u, n) = (unit.train.features_f32(0..1), none.train.features_f32(0..1));
        for (a, b) in u.iter().zip(&n) {
            assert!((a * 255.0 - b).abs() < 1e-4);
        }
        let pixels: Vec<u8> = (0..100 * 4).map(|i| (i % 256) as u8).collect();
        let labels = (0..100).map(|i| (i % 2) as Label).collect();
        let img = Dataset::new(
            Values::Pixels(pixels.into()),
            labels,
            vec![2, 2],
            vec!["a".into(), "b".into()],
            "img",
        )
        .unwrap();
        let split = img.split(&SplitConfig::default()).unwrap();
        assert!(matches!(split.train.values(), Values::Pixels(_)));
        assert_eq!(
            split.shape(),
            Shape {
                inputs: 4,
                classes: 2
            }
        );
    }

    #[test]
    fn bad_sets_are_refused() {
        let one = Dataset::new(
            Values::Floats(vec![1.0; 4].into()),
            vec![0; 4],
            vec![1],
            vec!["only".into()],
            "x.csv",
        );
        assert!(one.unwrap_err().to_string().contains("only one class"));
        let short = Dataset::new(
            Values::Floats(vec![1.0; 3].into()),
            vec![0, 1],
            vec![2],
            vec!["a".into(), "b".into()],
            "x.csv",
        );
        assert!(short.is_err());
    }

    #[test]
    fn a_separate_validation_set_is_matched_by_class_name() {
        let train = table(60, 3, 3);
        let mut val = table(9, 3, 3);
        val.class_names = vec!["c2".into(), "c0".into(), "c1".into()];
        let split = train.split_with(&val, &SplitConfig::default()).unwrap();
        assert_eq!(split.train.len(), 60);
        assert_eq!(split.valid.len(), 9);
        assert_eq!(split.valid.class_counts(), vec![3, 3, 3]);
        val.class_names[0] = "other".into();
        let err = train.split_with(&val, &SplitConfig::default()).unwrap_err();
        assert!(err.to_string().contains("class 'other'"), "{err}");
    }
}
