//! `lrsweep export`: a model file's weights in a format other tools load (safetensors: the
//! `state_dict` of a PyTorch `nn.Sequential` of the same layers).

use std::collections::BTreeMap;

use anyhow::{anyhow, Context, Result};
use lrsweep_data::Scaling;
use lrsweep_model::{Activation, ModelConfig};

use crate::cli::{ExportArgs, ExportFormat};
use crate::exit::{say, usage};
use crate::store::fs::write_atomic;
use crate::store::model_file;
use crate::store::safetensors::{encode, Named};

/// Writes the model's weights as `args.format` and prints the lines that load them.
pub fn run(args: &ExportArgs) -> Result<()> {
    let file = model_file::verify(&args.model).map_err(usage)?;
    let meta = file.meta.clone();
    let out = match (&args.out, args.format) {
        (Some(out), _) => out.clone(),
        (None, ExportFormat::Safetensors) => args.model.with_extension("safetensors"),
    };
    super::unseen::check_out(
        &out,
        "model.safetensors",
        &[&args.model, &args.model.with_extension("json")],
        "is the model file itself; name another file",
    )?;
    let model = file.load(&burn::tensor::Device::flex())?;
    let parameters = model
        .read_parameters()
        .map_err(|e| anyhow!("reading the model's weights: {e}"))?;
    let (layers, modules) = sequential(&meta.model);
    let mut tensors = Vec::with_capacity(parameters.len());
    for (pair, index) in parameters.chunks(2).zip(&layers) {
        let ((w_shape, w), (b_shape, b)) = (&pair[0], &pair[1]);
        // Burn keeps a layer's weight as [in, out]; PyTorch's nn.Linear as [out, in].
        let (d_in, d_out) = (w_shape[0], w_shape[1]);
        let mut transposed = vec![0f32; w.len()];
        for i in 0..d_in {
            for o in 0..d_out {
                transposed[o * d_in + i] = w[i * d_out + o];
            }
        }
        tensors.push(Named {
            name: format!("{index}.weight"),
            shape: vec![d_out, d_in],
            values: transposed,
        });
        tensors.push(Named {
            name: format!("{index}.bias"),
            shape: b_shape.clone(),
            values: b.clone(),
        });
    }
    let scaling = meta.scaling.clone();
    let mut metadata = BTreeMap::from([
        ("format".to_string(), "pt".to_string()),
        ("lrsweep.sequential".to_string(), modules.join(", ")),
        (
            "lrsweep.classes".to_string(),
            serde_json::to_string(&meta.class_names)?,
        ),
        ("lrsweep.learning_rate".to_string(), meta.rate.to_string()),
        ("lrsweep.epoch".to_string(), meta.epoch.to_string()),
    ]);
    if let Some(s) = &scaling {
        metadata.insert("lrsweep.scaling".into(), serde_json::to_string(s)?);
    }
    if let Some(columns) = &meta.columns {
        metadata.insert("lrsweep.columns".into(), serde_json::to_string(columns)?);
    }
    if let Some(targets) = &meta.targets {
        metadata.insert("lrsweep.targets".into(), serde_json::to_string(targets)?);
    }
    write_atomic(&out, &encode(&tensors, &metadata))
        .with_context(|| format!("writing {}", out.display()))?;
    say(&format!(
        "{}: {} tensors of nn.Sequential({}) for PyTorch; load it with\n\n{}",
        out.display(),
        tensors.len(),
        modules.join(", "),
        snippet(&out, &modules, scaling.as_ref(), meta.targets.is_some())
    ))
}

/// The `nn.Sequential` of `model`'s layers: each dense layer's index in it, and every module
/// (a dropout included, so that the indices are those of the network trained).
fn sequential(model: &ModelConfig) -> (Vec<usize>, Vec<String>) {
    let activation = match model.activation {
        Activation::Relu => "nn.ReLU()",
        Activation::Tanh => "nn.Tanh()",
        Activation::Gelu => "nn.GELU()",
    };
    let (mut indices, mut modules) = (Vec::new(), Vec::new());
    for (d_in, d_out) in model.layers() {
        indices.push(modules.len());
        modules.push(format!("nn.Linear({d_in}, {d_out})"));
        if indices.len() <= model.hidden.depth() {
            modules.push(activation.to_string());
            if model.dropout > 0.0 {
                modules.push(format!("nn.Dropout({})", model.dropout));
            }
        }
    }
    (indices, modules)
}

/// The Python that loads the file into PyTorch and scales inputs as the training part was; a
/// `regression`'s outputs turned back into the targets' units.
fn snippet(
    out: &std::path::Path,
    modules: &[String],
    scaling: Option<&Scaling>,
    regression: bool,
) -> String {
    let path = out
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let scale = match scaling {
        Some(Scaling::Bytes) => "x = x / 255.0  # pixels 0..255, as the sweep scaled them",
        Some(Scaling::Affine { .. }) => {
            "s = json.loads(safe_open(\"PATH\", \"pt\").metadata()[\"lrsweep.scaling\"])\nx = (x - torch.tensor(s[\"shift\"])) * torch.tensor(s[\"factor\"])  # as the sweep scaled it"
        }
        None => "# scale x as the sweep did (this model file does not record how)",
    }
    .replace("PATH", &path);
    let predict = match regression {
        true => format!("t = json.loads(safe_open(\"{path}\", \"pt\").metadata()[\"lrsweep.targets\"])\npredictions = model(x.float()) * torch.tensor(t[\"sd\"]) + torch.tensor(t[\"mean\"])  # the targets' units"),
        false => "probabilities = model(x.float()).softmax(dim=1)".to_string(),
    };
    format!(
        "import json, torch\nfrom torch import nn\nfrom safetensors import safe_open\nfrom safetensors.torch import load_file\nmodel = nn.Sequential({})\nmodel.load_state_dict(load_file(\"{path}\"))\nmodel.eval()\n{scale}\n{predict}",
        modules.join(", ")
    )
}
