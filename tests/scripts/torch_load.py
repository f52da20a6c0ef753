"""Loads an `lrsweep export` safetensors file into PyTorch as its README shows (an nn.Sequential
of the same layers, `load_state_dict` strict), scores a CSV table with it, scaled as the file's
metadata says, and compares its probabilities (a regression's predictions in the targets' units,
the difference then in standard deviations) with `lrsweep predict`'s.

usage: torch_load.py MODEL.safetensors DATA.csv PREDICTIONS.csv
Prints one JSON line: the largest difference, the layers, the items compared.
"""

import csv
import json
import sys

import torch
from torch import nn
from safetensors import safe_open
from safetensors.torch import load_file

model_path, data_path, predictions_path = sys.argv[1:4]
meta = safe_open(model_path, "pt").metadata()
# The layers, as the file names them: built here from PyTorch's own modules.
modules = eval("[" + meta["lrsweep.sequential"] + "]", {"nn": nn})
model = nn.Sequential(*modules)
model.load_state_dict(load_file(model_path))  # strict: every name and shape must match
model.eval()
columns = json.loads(meta["lrsweep.columns"])
with open(data_path, newline="") as f:
    rows = list(csv.DictReader(f))
x = torch.tensor([[float(r[c]) for c in columns] for r in rows], dtype=torch.float64)
scaling = json.loads(meta["lrsweep.scaling"])
assert scaling["kind"] == "affine", scaling
x = (x - torch.tensor(scaling["shift"], dtype=torch.float64)) * torch.tensor(
    scaling["factor"], dtype=torch.float64
)
classes = json.loads(meta["lrsweep.classes"])
with open(predictions_path, newline="") as f:
    predicted = list(csv.DictReader(f))
if "lrsweep.targets" in meta:
    # A regression: the outputs in the targets' units, against predict's columns.
    targets = json.loads(meta["lrsweep.targets"])
    with torch.no_grad():
        ours = model(x.float()).double() * torch.tensor(targets["sd"]) + torch.tensor(
            targets["mean"]
        )
    theirs = torch.tensor([[float(p[c]) for c in classes] for p in predicted], dtype=torch.float64)
    scale = torch.tensor(targets["sd"], dtype=torch.float64)
    print(
        json.dumps(
            {
                "max_difference": float(((ours - theirs).abs() / scale).max()),
                "items": len(predicted),
                "layers": [type(m).__name__ for m in model],
                "torch": torch.__version__,
            }
        )
    )
    sys.exit(0)
with torch.no_grad():
    ours = model(x.float()).double().softmax(dim=1)
theirs = torch.tensor([[float(p["p_" + c]) for c in classes] for p in predicted], dtype=torch.float64)
assert theirs.shape == ours.shape, (theirs.shape, ours.shape)
agree = sum(
    classes[int(ours[i].argmax())] == predicted[i]["class"] for i in range(len(predicted))
)
print(
    json.dumps(
        {
            "max_difference": float((ours - theirs).abs().max()),
            "items": len(predicted),
            "same_class": agree,
            "layers": [type(m).__name__ for m in model],
            "torch": torch.__version__,
        }
    )
)
