//! `lrsweep predict`: a model file's predictions for a file of the kind it was trained on, as a
//! CSV: each item's class and every class's probability.

use std::path::Path;

use anyhow::{Context, Result};

use super::unseen;
use crate::backend;
use crate::cli::PredictArgs;
use crate::exit::{say, usage};
use crate::store::fs::write_atomic;
use crate::store::model_file;

/// Writes the predictions of `args.model` for `args.data` to `args.out`.
pub fn run(args: &PredictArgs) -> Result<()> {
    let file = model_file::verify(&args.model).map_err(usage)?;
    let meta = file.meta.clone();
    let read: Vec<&Path> = [Some(&args.data), args.labels.as_ref(), Some(&args.model)]
        .into_iter()
        .flatten()
        .map(|p| p.as_path())
        .collect();
    unseen::check_out(
        &args.out,
        "predictions.csv",
        &read,
        "is one of the files read; name another file for the predictions",
    )?;
    let scaling = unseen::scaling(&meta, None)?;
    let read = unseen::read(&meta, &args.data, args.labels.as_deref(), &scaling)?;
    let selected = backend::select(args.backend, lrsweep_model::CpuPath::Auto).map_err(usage)?;
    let model = file.load(&selected.device)?;
    let probabilities =
        unseen::probabilities(&model, &read.part, meta.targets.as_ref(), &selected.device)?;
    let classes = &meta.class_names;
    if let Some(targets) = &meta.targets {
        return write_values(
            args,
            &meta,
            &read,
            targets,
            &probabilities,
            selected.backend,
        );
    }
    let mut text = String::from("item,class");
    if read.labelled {
        text.push_str(",label");
    }
    for c in classes {
        text.push(',');
        text.push_str(&field(&format!("p_{c}")));
    }
    text.push('\n');
    let mut correct = 0usize;
    for (i, p) in probabilities.chunks_exact(classes.len()).enumerate() {
        let best = (0..p.len()).fold(0, |b, k| if p[k] > p[b] { k } else { b });
        text.push_str(&format!("{},{}", i + 1, field(&classes[best])));
        if read.labelled {
            let label = read.part.labels()[i] as usize;
            correct += usize::from(label == best);
            text.push(',');
            text.push_str(&field(&classes[label]));
        }
        for &q in p {
            text.push_str(&format!(",{}", q as f32));
        }
        text.push('\n');
    }
    write_atomic(&args.out, text.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    let n = read.part.len();
    let accuracy = match read.labelled {
        true => format!(
            "; {correct} of {n} as labelled (accuracy {:.4})",
            correct as f64 / n.max(1) as f64
        ),
        false => String::new(),
    };
    say(&format!(
        "{}: the classes of {n} items of {} by {} (learning rate {}, epoch {}) on {}{accuracy}",
        args.out.display(),
        args.data.display(),
        args.model.display(),
        crate::config::rate_label(meta.rate),
        meta.epoch,
        selected.backend
    ))
}

/// Writes a regression's predictions: each item's predicted targets in their units (and the
/// file's own targets where it has them), and says their RMSE where it can.
fn write_values(
    args: &PredictArgs,
    meta: &crate::store::model_file::ModelMeta,
    read: &lrsweep_data::Unseen,
    targets: &lrsweep_data::TargetScaling,
    predicted: &[f64],
    backend: &str,
) -> Result<()> {
    let names = &meta.class_names;
    let m = names.len().max(1);
    let mut text = String::from("item");
    for name in names {
        text.push(',');
        text.push_str(&field(name));
    }
    if read.labelled {
        for name in names {
            text.push(',');
            text.push_str(&field(&format!("true_{name}")));
        }
    }
    text.push('\n');
    let truth = read.part.targets().unwrap_or(&[]);
    let mut squares = 0.0;
    for (i, row) in predicted.chunks_exact(m).enumerate() {
        text.push_str(&(i + 1).to_string());
        for v in row {
            text.push_str(&format!(",{v}"));
        }
        if read.labelled {
            for (k, &t) in truth[i * m..(i + 1) * m].iter().enumerate() {
                let t = targets.restore(k, t as f64);
                squares += (row[k] - t).powi(2);
                text.push_str(&format!(",{}", t as f32));
            }
        }
        text.push('\n');
    }
    write_atomic(&args.out, text.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    let n = read.part.len();
    let rmse = match read.labelled {
        true => format!(
            "; RMSE {:.6} against its targets",
            (squares / (n * m).max(1) as f64).sqrt()
        ),
        false => String::new(),
    };
    say(&format!(
        "{}: {} predicted for {n} items of {} by {} (learning rate {}, epoch {}) on {backend}{rmse}",
        args.out.display(),
        names.join(", "),
        args.data.display(),
        args.model.display(),
        crate::config::rate_label(meta.rate),
        meta.epoch,
    ))
}

/// A CSV field: quoted where it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
