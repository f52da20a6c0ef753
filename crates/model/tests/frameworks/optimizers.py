"""Computes `optimizers.json`: a small network trained five steps by every optimizer lrsweep
offers, under each convention, by the framework that defines it — PyTorch's `torch.optim`
(`--convention torch`, with `nn.CrossEntropyLoss`: lrsweep's `--loss exact`) and Keras 3's
`keras.optimizers` (`--convention keras`, with a softmax layer and `categorical_crossentropy`,
which clips probabilities as lrsweep's `--loss keras` does) — so that `tests/optimizers.rs`
checks lrsweep's updates against theirs.

Every case starts from the same weights (PyTorch's `nn.Linear` initialisation, seed 0), trains
on the same five batches in the same order, and records the weights after the fifth step. The
coupled weight decay (`--weight-decay`, PyTorch's `weight_decay`) is, in Keras, an L2
regulariser of WD/2 on every weight and bias (its gradient WD·w).

Run once (its output is committed), in a venv with `torch` and `keras` (any backend):

    KERAS_BACKEND=jax python optimizers.py > optimizers.json
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import torch

INPUTS, HIDDEN, CLASSES = 12, [10, 8, 6], 4
ITEMS, BATCH = 40, 8  # five steps

# (spec as lrsweep writes it, rate, coupled weight decay)
CASES = [
    ("adam", 1e-2, 0.0),
    ("adam", 1e-2, 0.05),
    ("adamw", 1e-2, 0.0),
    ("adamw:0.5", 1e-2, 0.0),
    ("sgd", 0.1, 0.0),
    ("sgd:0.9", 0.05, 0.0),
    ("sgd:0.9:nesterov", 0.05, 0.0),
    ("sgd:0.9", 0.05, 0.05),
    ("rmsprop", 1e-2, 0.0),
    ("rmsprop:0.8:0.5", 1e-2, 0.0),
    ("rmsprop", 1e-2, 0.05),
]


def data():
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, size=(ITEMS, INPUTS), dtype=np.uint8)
    pixels[rng.random((ITEMS, INPUTS)) < 0.33] = 0
    labels = np.arange(ITEMS) % CLASSES
    return pixels, labels


def initial():
    """Each layer's weight [fan_in, fan_out] and bias, from PyTorch's initialisation."""
    torch.manual_seed(0)
    widths = [INPUTS] + HIDDEN + [CLASSES]
    out = []
    for k in range(len(widths) - 1):
        layer = torch.nn.Linear(widths[k], widths[k + 1])
        out.append(layer.weight.detach().t().contiguous().numpy())
        out.append(layer.bias.detach().numpy())
    return out


def parse(spec):
    parts = spec.split(":")
    return parts[0], parts[1:]


def torch_case(spec, rate, wd, start, x, y):
    layers = []
    for k in range(0, len(start), 2):
        w, b = start[k], start[k + 1]
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers.append(linear)
        if k + 2 < len(start):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    kind, args = parse(spec)
    if kind == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=rate, weight_decay=wd)
    elif kind == "adamw":
        decay = float(args[0]) if args else 0.01
        opt = torch.optim.AdamW(net.parameters(), lr=rate, weight_decay=decay)
    elif kind == "sgd":
        momentum = float(args[0]) if args else 0.0
        opt = torch.optim.SGD(
            net.parameters(), lr=rate, momentum=momentum,
            nesterov=len(args) > 1, weight_decay=wd,
        )
    else:
        rho = float(args[0]) if args else 0.99
        momentum = float(args[1]) if len(args) > 1 else 0.0
        opt = torch.optim.RMSprop(
            net.parameters(), lr=rate, alpha=rho, momentum=momentum, weight_decay=wd
        )
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y).long()
    for s in range(0, ITEMS, BATCH):
        opt.zero_grad()
        loss_fn(net(xt[s : s + BATCH]), yt[s : s + BATCH]).backward()
        opt.step()
    out = []
    for layer in net:
        if isinstance(layer, torch.nn.Linear):
            out.append(layer.weight.detach().t().contiguous().reshape(-1).tolist())
            out.append(layer.bias.detach().tolist())
    return out


def keras_case(spec, rate, wd, start, x, y):
    reg = (lambda: keras.regularizers.L2(wd / 2)) if wd > 0 else (lambda: None)
    layers = [keras.Input((INPUTS,))]
    for k in range(0, len(start), 2):
        last = k + 2 == len(start)
        layers.append(
            keras.layers.Dense(
                start[k].shape[1],
                activation="softmax" if last else "relu",
                kernel_regularizer=reg(),
                bias_regularizer=reg(),
            )
        )
    model = keras.Sequential(layers)
    model.set_weights(start)
    kind, args = parse(spec)
    if kind == "adam":
        opt = keras.optimizers.Adam(learning_rate=rate)
    elif kind == "adamw":
        decay = float(args[0]) if args else 0.004
        opt = keras.optimizers.AdamW(learning_rate=rate, weight_decay=decay)
    elif kind == "sgd":
        momentum = float(args[0]) if args else 0.0
        opt = keras.optimizers.SGD(
            learning_rate=rate, momentum=momentum, nesterov=len(args) > 1
        )
    else:
        rho = float(args[0]) if args else 0.9
        momentum = float(args[1]) if len(args) > 1 else 0.0
        opt = keras.optimizers.RMSprop(learning_rate=rate, rho=rho, momentum=momentum)
    model.compile(optimizer=opt, loss="categorical_crossentropy")
    onehot = np.eye(CLASSES, dtype=np.float32)[y]
    model.fit(x, onehot, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return [w.reshape(-1).tolist() for w in model.get_weights()]


def main():
    torch.set_num_threads(1)
    pixels, labels = data()
    x = pixels.astype(np.float32) / np.float32(255.0)
    start = initial()
    cases = []
    for spec, rate, wd in CASES:
        for convention, run in [("torch", torch_case), ("keras", keras_case)]:
            cases.append(
                {
                    "optimizer": spec,
                    "convention": convention,
                    "rate": rate,
                    "weight_decay": wd,
                    "final": run(spec, rate, wd, start, x, labels),
                }
            )
    print(
        json.dumps(
            {
                "generated_by": "crates/model/tests/frameworks/optimizers.py",
                "torch": torch.__version__,
                "keras": keras.__version__,
                "inputs": INPUTS,
                "hidden": HIDDEN,
                "classes": CLASSES,
                "batch_size": BATCH,
                "pixels": pixels.reshape(-1).tolist(),
                "labels": labels.tolist(),
                "initial": [w.reshape(-1).tolist() for w in start],
                "cases": cases,
            }
        )
    )


if __name__ == "__main__":
    main()
