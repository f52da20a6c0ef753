"""Computes `init.json`: what the initialisers lrsweep imitates draw, by the frameworks
themselves — Keras' `RandomNormal(stddev=0.05)` (Keras 2's 'normal', the reference's),
`GlorotUniform` and `HeNormal`, and PyTorch's `nn.Linear` default (lrsweep's `--init torch`) —
so that `tests/initialisers.rs` checks lrsweep's draws against theirs: each layer shape's
weight and bias deviation and largest magnitude over all its draws.

Run once (its output is committed), in a venv with `torch` and `keras` (any backend):

    KERAS_BACKEND=jax python init.py > init.json
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import torch

SHAPES = [(784, 784), (784, 512), (512, 256), (256, 10), (64, 32)]


def figures(name, fan_in, fan_out, weights, biases):
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(biases, dtype=np.float64)
    return {
        "init": name,
        "fan_in": fan_in,
        "fan_out": fan_out,
        "weight_std": float(w.std()),
        "weight_max": float(np.abs(w).max()),
        "bias_std": float(b.std()),
        "bias_max": float(np.abs(b).max()),
    }


def main():
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)
    cases = []
    for fan_in, fan_out in SHAPES:
        zeros = np.zeros(fan_out)
        for name, init in [
            ("normal", keras.initializers.RandomNormal(stddev=0.05, seed=1)),
            ("glorot-uniform", keras.initializers.GlorotUniform(seed=1)),
            ("he-normal", keras.initializers.HeNormal(seed=1)),
        ]:
            w = keras.ops.convert_to_numpy(init(shape=(fan_in, fan_out)))
            cases.append(figures(name, fan_in, fan_out, w, zeros))
        linear = torch.nn.Linear(fan_in, fan_out)
        cases.append(
            figures(
                "torch",
                fan_in,
                fan_out,
                linear.weight.detach().numpy(),
                linear.bias.detach().numpy(),
            )
        )
    print(
        json.dumps(
            {
                "generated_by": "crates/model/tests/frameworks/init.py",
                "torch": torch.__version__,
                "keras": keras.__version__,
                "cases": cases,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
