//! A split's parts: each in its seeded, fixed training order, scaled as the model sees it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::scale::Scaling;
use crate::split;
use crate::values::{Label, Scale, Shape, Values};

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
    /// The features' scale; none: the data's default (`Dataset::default_scale`).
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
    /// A regression's targets, standardised, `classes` per item (the labels are then all 0).
    targets: Option<Arc<[f32]>>,
    /// A regression's targets' standard deviations (their units per standardised unit).
    target_sd: Arc<[f64]>,
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
    /// The items `order` of a data set's `values` (items `width` wide) with their `labels`
    /// (classes below `classes`), made by `scaler`.
    pub(crate) fn gather(
        values: &Values,
        labels: &[Label],
        width: usize,
        classes: usize,
        order: &[usize],
        scaler: &Scaling,
    ) -> Self {
        let w = width;
        let data_values = values;
        let values = match (scaler, data_values) {
            (Scaling::Bytes, Values::Pixels(v)) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend_from_slice(&v[i * w..(i + 1) * w]);
                }
                Values::Pixels(out.into())
            }
            (Scaling::Affine { shift, factor }, _) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend(
                        data_values
                            .row(w, i)
                            .zip(shift.iter().zip(factor))
                            .map(|(v, (s, f))| ((v - s) * f) as f32),
                    );
                }
                Values::Floats(out.into())
            }
            // Not made (bytes are kept for pixels only); were it, floats are divided as pixels.
            (Scaling::Bytes, Values::Floats(v)) => {
                let mut out = Vec::with_capacity(order.len() * w);
                for &i in order {
                    out.extend(v[i * w..(i + 1) * w].iter().map(|&x| x / 255.0));
                }
                Values::Floats(out.into())
            }
        };
        Self {
            values,
            labels: order.iter().map(|&i| labels[i]).collect(),
            width: w,
            classes,
            targets: None,
            target_sd: Arc::new([]),
        }
    }

    /// The part with the regression targets of its items: item `r` is `order[r]` of `targets`
    /// (`classes` per item, in their units), standardised by `scaling`.
    pub(crate) fn with_targets(
        mut self,
        targets: &[f64],
        order: &[usize],
        scaling: &crate::scale::TargetScaling,
    ) -> Self {
        let m = self.classes;
        let mut out = Vec::with_capacity(order.len() * m);
        for &i in order {
            for k in 0..m {
                out.push(scaling.standardise(k, targets[i * m + k]) as f32);
            }
        }
        self.targets = Some(out.into());
        self.target_sd = scaling.sd.clone().into();
        self
    }

    /// A regression's targets' standard deviations (empty for a classification).
    pub fn target_sd(&self) -> &[f64] {
        &self.target_sd
    }

    /// A regression's targets, standardised, `classes()` per item; none for a classification.
    pub fn targets(&self) -> Option<&[f32]> {
        self.targets.as_deref()
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
            targets: None,
            target_sd: Arc::new([]),
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

    /// What the network's outputs are trained towards for items `range`, `len × classes`: the
    /// labels one-hot encoded, or a regression's standardised targets.
    pub fn one_hot(&self, range: std::ops::Range<usize>) -> Vec<f32> {
        let c = self.classes;
        if let Some(t) = &self.targets {
            return t[range.start * c..range.end * c].to_vec();
        }
        let mut out = vec![0.0; range.len() * c];
        for (row, &l) in self.labels[range].iter().enumerate() {
            out[row * c + l as usize] = 1.0;
        }
        out
    }

    /// The sum of squares of the standardised targets about their mean over this part, each
    /// target's summed (R²'s denominator); none for a classification.
    pub fn target_sum_of_squares(&self) -> Option<f64> {
        let t = self.targets.as_ref()?;
        let (c, n) = (self.classes, self.len().max(1) as f64);
        let mut total = 0.0;
        for k in 0..c {
            let column = t.iter().skip(k).step_by(c).map(|&v| v as f64);
            let mean = column.clone().sum::<f64>() / n;
            total += column.map(|v| (v - mean).powi(2)).sum::<f64>();
        }
        Some(total)
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
    /// A regression's standardisation of its targets (fitted on the training part).
    pub targets: Option<crate::scale::TargetScaling>,
    /// That scale made concrete (with the training part's statistics): what a model file
    /// records to scale what it scores later.
    pub scaling: Scaling,
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
