"""Computes `steps.json`: a small network of three hidden layers trained a few steps by
PyTorch, under each activation lrsweep offers, so that `tests/torch_steps.rs` checks lrsweep's
engines against PyTorch's own numbers: the same initial weights (nn.Linear's default
initialisation, lrsweep's `--init torch`), the same batches in the same order, the same loss
(nn.CrossEntropyLoss: lrsweep's `--loss exact`) and optimizer (torch.optim.Adam: lrsweep's
`--adam torch`), dropout 0.

Run once (its output is committed), in a venv with `torch` (CPU is enough):

    python steps.py > steps.json

The inputs are bytes scaled by 1/255 in float32, as lrsweep scales image pixels; each case
records the bytes, the labels, the initial weights (each layer's weight as [fan_in, fan_out]
row-major, then its bias), every step's training loss and the weights after the last step.
"""

import json

import numpy as np
import torch

INPUTS, HIDDEN, CLASSES = 12, [10, 8, 6], 4
ITEMS, BATCH, EPOCHS = 16, 8, 3
RATE, EPS = 1e-2, 1e-7

ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "gelu": torch.nn.GELU,  # approximate="none": the exact form, with erf
}


def data():
    """Sixteen items of twelve byte features (about a third zero) and their labels."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, size=(ITEMS, INPUTS), dtype=np.uint8)
    pixels[rng.random((ITEMS, INPUTS)) < 0.33] = 0
    labels = np.arange(ITEMS) % CLASSES
    return pixels, labels


def case(name, seed):
    torch.manual_seed(seed)
    widths = [INPUTS] + HIDDEN + [CLASSES]
    layers = []
    for k in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[k], widths[k + 1]))
        if k < len(widths) - 2:
            layers.append(ACTIVATIONS[name]())
    net = torch.nn.Sequential(*layers)
    linears = [l for l in net if isinstance(l, torch.nn.Linear)]

    def weights():
        out = []
        for l in linears:
            out.append(l.weight.detach().t().contiguous().reshape(-1).tolist())
            out.append(l.bias.detach().tolist())
        return out

    pixels, labels = data()
    x = torch.from_numpy(pixels.astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(labels).long()
    initial = weights()
    opt = torch.optim.Adam(net.parameters(), lr=RATE, betas=(0.9, 0.999), eps=EPS)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses = []
    for _ in range(EPOCHS):
        for start in range(0, ITEMS, BATCH):
            opt.zero_grad()
            loss = loss_fn(net(x[start : start + BATCH]), y[start : start + BATCH])
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return {
        "activation": name,
        "seed": seed,
        "initial": initial,
        "step_losses": losses,
        "final": weights(),
    }


def main():
    torch.set_num_threads(1)
    pixels, labels = data()
    fixture = {
        "generated_by": "crates/model/tests/frameworks/steps.py",
        "torch": torch.__version__,
        "inputs": INPUTS,
        "hidden": HIDDEN,
        "classes": CLASSES,
        "batch_size": BATCH,
        "epochs": EPOCHS,
        "rate": RATE,
        "eps": EPS,
        "pixels": pixels.reshape(-1).tolist(),
        "labels": labels.tolist(),
        "cases": [case(name, seed) for seed, name in enumerate(ACTIVATIONS)],
    }
    print(json.dumps(fixture, indent=1))


if __name__ == "__main__":
    main()
