//! Files read for a trained network to score (`eval --data`, `predict`): read as the data it
//! trained on was read, matched to it (a table's columns by name, the items' width, classes by
//! name) and scaled by the scaling its training part was given; labels where the file has them.

use std::path::Path;

use super::common::{Raw, RawLabel};
use super::format::Format;
use super::{folder, idx_files, numpy, table, UserData};
use crate::catalogue::VerifiedFile;
use crate::error::{DataError, Result};
use crate::part::Part;
use crate::scale::{Scaling, TargetScaling};
use crate::values::{Label, Task, Values};

/// What a trained network takes, as its model file records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The classes' names, in the order of the network's outputs.
    pub class_names: Vec<String>,
    /// Features per item: the network's input width.
    pub inputs: usize,
    /// A table's feature columns, in the network's input order (none for images and arrays,
    /// and in model files of older versions).
    pub columns: Option<Vec<String>>,
    /// A regression's standardisation of its targets (`class_names` then name the targets);
    /// none for a classification.
    pub targets: Option<TargetScaling>,
}

/// A file read for a trained network: its items in file order, scaled as the network's
/// training part was, each labelled with the network's class where the file has labels.
#[derive(Debug, Clone)]
pub struct Unseen {
    /// The items (labels all 0 where `labelled` is false).
    pub part: Part,
    /// Whether the file gave every item its class (or a regression's targets).
    pub labelled: bool,
    /// The files read, with their checksums.
    pub files: Vec<VerifiedFile>,
    /// What reading decided that the user should hear (columns left out), one line each.
    pub notes: Vec<String>,
}

impl UserData {
    /// Reads `self.path` for a network that takes `expected`, scaled by `scaling`, refusing
    /// anything that would take more than `memory` bytes. A table is read by its columns' names
    /// (`self.label` names its label column, as `--label` did for the sweep); `.npz`, `.npy`
    /// and IDX files may come without labels; a folder of class folders is labelled (one class
    /// folder will do), a folder of images is not.
    pub fn load_unseen(
        &self,
        expected: &Expected,
        scaling: &Scaling,
        memory: u64,
    ) -> Result<Unseen> {
        let path = &self.path;
        let task = match expected.targets {
            Some(_) => Task::Regression,
            None => Task::Classification,
        };
        let target_names = expected.targets.as_ref().map(|_| &expected.class_names[..]);
        let raw = match (Format::of(path)?, &expected.columns) {
            (Format::Table, Some(columns)) => {
                table::read_named(path, columns, self.label.as_deref(), target_names, memory)?
            }
            (Format::Table, None) => Raw::from(table::read(
                path,
                self.label.as_deref(),
                &self.columns,
                Some(task),
                memory,
            )?),
            (Format::Npz, _) => numpy::read_npz_unseen(path, task, memory)?,
            (Format::Npy, _) => numpy::read_npy_unseen(path, self.labels.as_deref(), task, memory)?,
            (Format::IdxImages, _) => idx_files::read_unseen(path, self.labels.as_deref(), memory)?,
            (Format::IdxDir, _) => Raw::from(idx_files::read_dir(path, memory)?),
            (Format::ImageFolder, _) => {
                folder::read_unseen(path, self.image_size, expected.inputs, memory)?
            }
        };
        raw.fit(path, expected, scaling)
    }
}

impl Raw {
    /// The items matched to `expected` and scaled by `scaling`.
    fn fit(self, path: &Path, expected: &Expected, scaling: &Scaling) -> Result<Unseen> {
        let width: usize = self.item_shape.iter().product();
        if width != expected.inputs {
            return Err(DataError::invalid(
                path.display(),
                format!(
                    "its items have {width} features (shape {:?}); the model takes {}: give items of the kind it was trained on{}",
                    self.item_shape,
                    expected.inputs,
                    if matches!(self.values, Values::Pixels(_)) { " (images of the same size)" } else { "" }
                ),
            ));
        }
        if let Scaling::Affine { shift, factor } = scaling {
            if shift.len() != width || factor.len() != width {
                return Err(DataError::invalid(
                    path.display(),
                    format!(
                        "the model's recorded scaling is for {} features, its items have {width}: the model's description was edited or damaged",
                        shift.len()
                    ),
                ));
            }
        }
        let n = self.values.len() / width.max(1);
        let labels = match (&self.labels, &expected.targets) {
            (Some(raw), None) => relabel(raw, &expected.class_names, path)?,
            _ => vec![0; n],
        };
        let order: Vec<usize> = (0..n).collect();
        let part = Part::gather(
            &self.values,
            &labels,
            width,
            expected.class_names.len(),
            &order,
            scaling,
        );
        let (part, labelled) = match (&expected.targets, self.targets) {
            (Some(ts), Some(t)) => {
                if t.len() != n * ts.sd.len() {
                    return Err(DataError::invalid(
                        path.display(),
                        format!(
                            "holds {} targets per item; the model predicts {} ({})",
                            t.len() / n.max(1),
                            ts.sd.len(),
                            crate::dataset::list(&expected.class_names)
                        ),
                    ));
                }
                (part.with_targets(&t, &order, ts), true)
            }
            (Some(_), None) => (part, false),
            (None, _) => (part, self.labels.is_some()),
        };
        Ok(Unseen {
            part,
            labelled,
            files: self.files,
            notes: self.notes,
        })
    }
}

/// Each label as the index of its class among `classes` (by name); a class the network does
/// not know is refused, naming it.
fn relabel(raw: &[RawLabel], classes: &[String], path: &Path) -> Result<Vec<Label>> {
    let mut sorted: Vec<(&str, Label)> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i as Label))
        .collect();
    sorted.sort_unstable();
    raw.iter()
        .enumerate()
        .map(|(i, l)| {
            let name = l.name();
            match sorted.binary_search_by(|(c, _)| (*c).cmp(name.as_str())) {
                Ok(k) => Ok(sorted[k].1),
                Err(_) => Err(DataError::invalid(
                    path.display(),
                    format!(
                        "item {} is labelled '{name}', a class the model does not know (its classes: {}); give items of its classes, or leave the labels out to predict only",
                        i + 1,
                        crate::dataset::list(classes)
                    ),
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected {
            class_names: vec!["a".into(), "b".into(), "c".into()],
            inputs: 2,
            columns: Some(vec!["x".into(), "y".into()]),
            targets: None,
        }
    }

    fn read(text: &str) -> Result<Unseen> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let user = UserData {
            path,
            labels: None,
            label: None,
            image_size: None,
            columns: Default::default(),
            task: None,
        };
        let scaling = Scaling::Affine {
            shift: vec![1.0, 10.0],
            factor: vec![2.0, 0.5],
        };
        user.load_unseen(&expected(), &scaling, 1 << 30)
    }

    fn row(part: &Part, i: usize) -> Vec<f32> {
        let mut out = Vec::new();
        part.extend_row(i, &mut out);
        out
    }

    #[test]
    fn a_table_is_read_by_its_columns_names_and_scaled_as_the_training_part() {
        // Columns in another order, pandas' index first, one class only: read by name, the
        // labels the model's own class numbers.
        let u = read(",y,kind,x\n0,12,c,3\n1,14,c,1\n").unwrap();
        assert!(u.labelled);
        assert_eq!(u.part.labels(), &[2, 2]);
        assert_eq!(row(&u.part, 0), vec![4.0, 1.0]);
        assert_eq!(row(&u.part, 1), vec![0.0, 2.0]);
        assert_eq!(u.notes.len(), 2, "{:?}", u.notes);
        // Without a label column: items only.
        let u = read("x,y\n3,12\n").unwrap();
        assert!(!u.labelled);
        assert_eq!(row(&u.part, 0), vec![4.0, 1.0]);
    }

    #[test]
    fn what_a_model_cannot_score_is_refused_naming_it() {
        let e = read("x,z,label\n1,2,a\n").unwrap_err().to_string();
        assert!(e.contains("no column 'y'"), "{e}");
        let e = read("x,y,label\n1,2,d\n").unwrap_err().to_string();
        assert!(e.contains("'d', a class the model does not know"), "{e}");
        let e = read("x,y,p,q\n1,2,a,b\n").unwrap_err().to_string();
        assert!(e.contains("'p', 'q'"), "{e}");
        let e = read("x,y,label\n1,,a\n").unwrap_err().to_string();
        assert!(e.contains("empty cell"), "{e}");
    }
}
