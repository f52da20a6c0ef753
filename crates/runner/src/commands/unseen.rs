//! Shared by `eval --data`, `predict` and `export`: a model file made ready to use, a file read
//! for it (matched and scaled as its training part was), and its probabilities.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use burn::tensor::{Device, Tensor, TensorData};
use lrsweep_data::{Expected, Part, Scaling, Unseen, UserData};
use lrsweep_model::Mlp;

use crate::config::{DataConfig, DataLocation};
use crate::exit::{note, usage};
use crate::store::model_file::ModelMeta;

/// Items scored at once when predicting.
const CHUNK: usize = 1024;

/// Refuses an `--out` that is a directory (suggesting `example` in it) or names one of the
/// files `read` (`why` says which), before anything is written.
pub fn check_out(out: &Path, example: &str, read: &[&Path], why: &str) -> Result<()> {
    if out.is_dir() {
        return Err(usage(anyhow!(
            "--out {} is a directory; name the file to write, e.g. {}",
            out.display(),
            out.join(example).display()
        )));
    }
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let target = canonical(out);
    if target.is_some() && read.iter().any(|p| canonical(p) == target) {
        return Err(usage(anyhow!("--out {} {why}", out.display())));
    }
    Ok(())
}

/// The scaling `meta`'s model was trained with: as its sidecar records it, or (in files of
/// older versions) made again from its training data, found with `data_dir`.
pub fn scaling(meta: &ModelMeta, data_dir: Option<PathBuf>) -> Result<Scaling> {
    if let Some(s) = &meta.scaling {
        return Ok(s.clone());
    }
    let config = DataConfig {
        dataset: meta.dataset,
        location: DataLocation {
            data_dir,
            ..Default::default()
        },
        val_fraction: meta.split.val_fraction,
        limit: meta.split.limit,
        scale: meta.split.scale,
        user: meta.user.clone(),
        val: meta.val.clone(),
    };
    note("the model file does not record how its training part was scaled (an older version wrote it): reading its training data again to know");
    let (_, split) = super::load_split(&config, meta.split.seed)?;
    Ok(split.scaling)
}

/// `path` (with `labels` for a .npy or IDX images file) read for `meta`'s model: read as its
/// training data was read (the same label column's name, image size), matched to what it takes
/// and scaled by `scaling`. Every problem is a usage error naming the file.
pub fn read(
    meta: &ModelMeta,
    path: &Path,
    labels: Option<&Path>,
    scaling: &Scaling,
) -> Result<Unseen> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let trained = meta.user.clone().unwrap_or_else(|| UserData {
        path: PathBuf::new(),
        labels: None,
        label: None,
        image_size: None,
        columns: Default::default(),
        task: None,
    });
    let user = UserData {
        path: absolute(path),
        labels: labels.map(absolute),
        ..trained
    };
    let expected = Expected {
        class_names: meta.class_names.clone(),
        inputs: meta.model.inputs,
        columns: meta.columns.clone(),
        targets: meta.targets.clone(),
    };
    let memory = crate::backend::available_memory().map_or(u64::MAX, |m| m.bytes);
    let unseen = user
        .load_unseen(&expected, scaling, memory)
        .map_err(|e| usage(anyhow!(e).context(format!("reading {}", path.display()))))?;
    for line in &unseen.notes {
        note(&format!("{}: {line}", path.display()));
    }
    if let Some(how) = trained_on(meta, &unseen) {
        note(&format!("{}: {how}", path.display()));
    }
    Ok(unseen)
}

/// What to say when `unseen` is data the sweep used (to train, or to choose its rate by): its
/// scores are not those of a test file.
fn trained_on(meta: &ModelMeta, unseen: &Unseen) -> Option<String> {
    let used = !unseen.files.is_empty()
        && unseen
            .files
            .iter()
            .all(|f| meta.data_sha256.contains(&f.sha256));
    used.then(|| {
        format!(
            "the sweep drew on this data ({}): its score here is no test score",
            match meta.val {
                Some(_) => "to train, or to choose its rate by",
                None => "its training items came from it",
            }
        )
    })
}

/// Each item's class probabilities (`part.len()` rows of `classes`, row-major): the network's
/// softmax, computed in f64 from its logits; for a regression (`targets`), its outputs in the
/// targets' units.
pub fn probabilities(
    model: &Mlp,
    part: &Part,
    targets: Option<&lrsweep_data::TargetScaling>,
    device: &Device,
) -> Result<Vec<f64>> {
    let width = part.width();
    let mut out = Vec::with_capacity(part.len() * part.classes());
    let mut rows = Vec::with_capacity(CHUNK * width);
    for start in (0..part.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(part.len());
        rows.clear();
        for i in start..end {
            part.extend_row(i, &mut rows);
        }
        let x = Tensor::<2>::from_data(TensorData::new(rows.clone(), [end - start, width]), device);
        let logits = model
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow!("reading the network's outputs back: {e:?}"))?;
        for row in logits.chunks_exact(part.classes()) {
            if let Some(t) = targets {
                out.extend(row.iter().enumerate().map(|(k, &y)| t.restore(k, y as f64)));
                continue;
            }
            let top = row.iter().fold(f64::NEG_INFINITY, |m, &z| m.max(z as f64));
            let exps: Vec<f64> = row.iter().map(|&z| (z as f64 - top).exp()).collect();
            let sum: f64 = exps.iter().sum();
            out.extend(exps.iter().map(|e| e / sum));
        }
    }
    Ok(out)
}
