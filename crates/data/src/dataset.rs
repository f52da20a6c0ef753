//! A classification data set in memory, and how it is split into parts.

use std::sync::Arc;

use crate::catalogue::VerifiedFile;
use crate::error::{DataError, Result};
use crate::part::{Part, Split, SplitConfig};
use crate::scale::{Scaling, TargetScaling};
use crate::split;
use crate::values::{Label, Scale, Shape, Task, Values, MAX_CLASSES};

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
    /// The features' column names, for a table with a header (none for images and arrays):
    /// a validation table must have the same, in the same order.
    pub columns: Option<Vec<String>>,
    /// A table's label column and how it was chosen: `'species' (the last column)`.
    pub label_column: Option<String>,
    /// What reading it decided that the user should hear (columns left out), one line each.
    pub notes: Vec<String>,
    /// A regression's targets as read, `class_names.len()` per item (the outputs' names are
    /// then the target columns'; the labels all 0).
    targets: Option<Arc<[f64]>>,
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
        if labels.is_empty() {
            return Err(DataError::invalid(
                &name,
                "holds no items: give it at least one item of each of two classes or more",
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
            columns: None,
            label_column: None,
            notes: Vec::new(),
            targets: None,
        })
    }

    /// A regression data set of `targets.len() / names.len()` items with `item_shape` features
    /// each, `names.len()` targets per item (named `names`). Refuses lengths that disagree, no
    /// item, a target that is not finite or is the same for every item.
    pub fn regression(
        values: Values,
        targets: Vec<f64>,
        item_shape: Vec<usize>,
        names: Vec<String>,
        name: impl Into<String>,
    ) -> Result<Self> {
        let name = name.into();
        let m = names.len().max(1);
        let n = targets.len() / m;
        let mut data = Dataset::new(
            values,
            vec![0; n],
            item_shape,
            vec![String::new(), String::new()],
            &name,
        )?;
        if targets.len() != n * m || names.is_empty() {
            return Err(DataError::invalid(
                &name,
                format!("{} targets for {n} items of {m} targets", targets.len()),
            ));
        }
        if let Some(i) = targets.iter().position(|t| !t.is_finite()) {
            return Err(DataError::invalid(
                &name,
                format!(
                    "item {}'s target '{}' is {}; replace missing or infinite targets, or drop those items",
                    i / m + 1,
                    names[i % m],
                    targets[i]
                ),
            ));
        }
        for k in 0..m {
            let first = targets[k];
            if targets.iter().skip(k).step_by(m).all(|&t| t == first) {
                return Err(DataError::invalid(
                    &name,
                    format!(
                        "target '{}' is {first} for every item: there is nothing to learn; choose another target column",
                        names[k]
                    ),
                ));
            }
        }
        data.class_names = names;
        data.targets = Some(targets.into());
        Ok(data)
    }

    /// Whether the data is for a classification or a regression.
    pub fn task(&self) -> Task {
        match self.targets {
            Some(_) => Task::Regression,
            None => Task::Classification,
        }
    }

    /// A regression's targets as read, `class_names.len()` per item.
    pub fn targets(&self) -> Option<&[f64]> {
        self.targets.as_deref()
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
            split::stratified_split(&labels, self.strata(), config.val_fraction, config.seed)?;
        let map = |v: Vec<usize>| v.into_iter().map(|i| subset[i]).collect::<Vec<_>>();
        let (train, valid) = (map(train), map(valid));
        let scale = config.scale.unwrap_or(self.default_scale());
        let scaler = Scaling::fit(scale, &self.values, self.width(), &train);
        let targets = self.target_scaling(&train)?;
        Ok(Split {
            train: self.gather_with(self, &train, &scaler, targets.as_ref()),
            valid: self.gather_with(self, &valid, &scaler, targets.as_ref()),
            scale,
            scaling: scaler,
            targets,
        })
    }

    /// The classes a split is stratified by: a regression's items are one stratum (its split
    /// is random).
    fn strata(&self) -> &[String] {
        match self.targets {
            Some(_) => &self.class_names[..1],
            None => &self.class_names,
        }
    }

    /// A regression's target standardisation, fitted on the items `train`.
    fn target_scaling(&self, train: &[usize]) -> Result<Option<TargetScaling>> {
        let Some(targets) = &self.targets else {
            return Ok(None);
        };
        TargetScaling::fit(targets, self.class_names.len(), train)
            .map(Some)
            .map_err(|k| {
                DataError::invalid(
                    &self.name,
                    format!(
                        "target '{}' is the same for every item of the training part: there is nothing to learn; give more varied items, or a larger --val-fraction or --limit",
                        self.class_names[k]
                    ),
                )
            })
    }

    /// A split whose validation part is `valid` (a separate file, `--val`): this set (or its
    /// stratified `limit` subset) trains, in a seeded order; `valid`'s classes must be among
    /// this set's (matched by name) and its items as wide.
    pub fn split_with(&self, valid: &Dataset, config: &SplitConfig) -> Result<Split> {
        // The training data itself is no validation: its scores would be on what it learned.
        let checksums = |d: &Dataset| d.files.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>();
        if !self.files.is_empty() && checksums(valid) == checksums(self) {
            return Err(DataError::invalid(
                &valid.name,
                format!(
                    "is the training data itself ({}, the same bytes): give a validation file apart from it, or leave --val out to split one off with --val-fraction",
                    self.name
                ),
            ));
        }
        // Tables are matched by their columns' names, never by position alone.
        if let (Some(train), Some(val)) = (&self.columns, &valid.columns) {
            if train != val {
                let mut sorted = (train.clone(), val.clone());
                sorted.0.sort();
                sorted.1.sort();
                let how = match sorted.0 == sorted.1 {
                    true => "the same columns in another order",
                    false => "other columns",
                };
                return Err(DataError::invalid(
                    &valid.name,
                    format!(
                        "has {how} ({}) than the training table ({}); give it the training table's feature columns, in the same order (in pandas: val[train.columns].to_csv(...))",
                        list(val),
                        list(train)
                    ),
                ));
            }
        }
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
        if self.task() != valid.task() {
            return Err(DataError::invalid(
                &valid.name,
                format!(
                    "is read for a {}, the training data for a {}; give both the same target (--label) and --task",
                    valid.task(),
                    self.task()
                ),
            ));
        }
        if self.targets.is_some() && valid.class_names != self.class_names {
            return Err(DataError::invalid(
                &valid.name,
                format!(
                    "has the targets {} where the training data has {}; give it the same target columns",
                    list(&valid.class_names),
                    list(&self.class_names)
                ),
            ));
        }
        let mut relabel = Vec::with_capacity(valid.class_names.len());
        for name in valid.class_names.iter().filter(|_| self.targets.is_none()) {
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
        let relabelled: Vec<Label> = match self.targets {
            Some(_) => valid.labels.to_vec(),
            None => valid.labels.iter().map(|&l| relabel[l as usize]).collect(),
        };
        let valid = Dataset {
            labels: relabelled.into(),
            class_names: self.class_names.clone(),
            ..valid.clone()
        };
        let mut order: Vec<usize> = (0..valid.len()).collect();
        split::shuffle(&mut order, &mut rng);
        let scale = config.scale.unwrap_or(self.default_scale());
        let scaler = Scaling::fit(scale, &self.values, self.width(), &train);
        let targets = self.target_scaling(&train)?;
        Ok(Split {
            train: self.gather_with(self, &train, &scaler, targets.as_ref()),
            valid: self.gather_with(&valid, &order, &scaler, targets.as_ref()),
            scale,
            scaling: scaler,
            targets,
        })
    }
}

impl Dataset {
    /// The items `order` of `data` (this set, or a validation file read like it) as a part,
    /// made by `scaler`, with a regression's targets standardised by `targets`.
    fn gather_with(
        &self,
        data: &Dataset,
        order: &[usize],
        scaler: &Scaling,
        targets: Option<&TargetScaling>,
    ) -> Part {
        let part = Part::gather(
            &data.values,
            &data.labels,
            data.width(),
            self.class_names.len(),
            order,
            scaler,
        );
        match (&data.targets, targets) {
            (Some(t), Some(s)) => part.with_targets(t, order, s),
            _ => part,
        }
    }

    /// The items a split takes: `config.limit`'s stratified subset, or all of them.
    fn subset(&self, config: &SplitConfig) -> Result<Vec<usize>> {
        match config.limit {
            Some(limit) => {
                split::stratified_subset(&self.labels, self.strata().len(), limit, config.seed)
            }
            None => Ok((0..self.len()).collect()),
        }
    }
}

/// Up to eight names, comma-separated, then how many more.
pub(crate) fn list(names: &[String]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::part::SplitConfig;

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
