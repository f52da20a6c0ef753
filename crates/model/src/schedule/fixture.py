"""Computes `fixture.json`: the learning rate of every step of small runs under each schedule,
by the schedulers lrsweep's schedules follow — PyTorch's `StepLR`, `ExponentialLR`,
`OneCycleLR`, `LinearLR` + `SequentialLR` (the warm-up), and Keras' `CosineDecay` and
`ReduceLROnPlateau` — so that `schedule/tests.rs` checks lrsweep's rates against theirs.

Run once (its output is committed), in a venv with `torch` and `keras` (any backend):

    KERAS_BACKEND=jax python fixture.py > fixture.json

PyTorch's per-epoch schedulers are stepped once per epoch, its per-step ones once per batch,
each read before the step it applies to (`get_last_lr()`), as a training loop uses them.
"""

import json
import math
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import torch

RATE = 1e-3


def torch_rates(make, epochs, steps, per_step):
    """Every step's rate under the PyTorch scheduler `make(optimizer)`."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=RATE, betas=(0.9, 0.999))
    sched = make(opt)
    rates = []
    for _ in range(epochs):
        for _ in range(steps):
            rates.append(sched.get_last_lr()[0])
            opt.step()
            if per_step:
                sched.step()
        if not per_step:
            sched.step()
    return rates


def keras_cosine(alpha, epochs, steps):
    total = epochs * steps
    decay = keras.optimizers.schedules.CosineDecay(RATE, decay_steps=total, alpha=alpha)
    return [float(decay(s)) for s in range(total)]


def keras_plateau(factor, patience, val_losses, steps):
    """Every step's rate under `ReduceLROnPlateau` fed `val_losses` after each epoch."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=RATE), loss="mse")
    kwargs = {} if factor is None else {"factor": factor, "patience": patience}
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", min_delta=1e-4, **kwargs)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, loss in enumerate(val_losses):
        lr = float(np.asarray(model.optimizer.learning_rate))
        rates.extend([lr] * steps)
        cb.on_epoch_end(epoch, {"val_loss": loss})
    return rates


def case(spec, epochs, steps, rates, source, warmup=0, val_losses=None):
    return {
        "spec": spec,
        "rate": RATE,
        "epochs": epochs,
        "steps": steps,
        "warmup": warmup,
        "val_losses": [None if math.isnan(v) else v for v in (val_losses or [])],
        "source": source,
        "rates": rates,
    }


S = torch.optim.lr_scheduler
plateau_losses = [1.0, 0.9, 0.9, 0.95, 0.85, 0.85, 0.85005, float("nan"), 0.8, 0.79995,
                  0.8, 0.8, 0.7, 0.7]
cases = [
    case("step:2:0.5", 7, 3, torch_rates(lambda o: S.StepLR(o, 2, 0.5), 7, 3, False),
         "torch.optim.lr_scheduler.StepLR(step_size=2, gamma=0.5)"),
    case("step:3:0.1", 10, 2, torch_rates(lambda o: S.StepLR(o, 3, 0.1), 10, 2, False),
         "torch.optim.lr_scheduler.StepLR(step_size=3, gamma=0.1)"),
    case("exp:0.9", 6, 3, torch_rates(lambda o: S.ExponentialLR(o, 0.9), 6, 3, False),
         "torch.optim.lr_scheduler.ExponentialLR(gamma=0.9)"),
    case("cosine", 5, 4, keras_cosine(0.0, 5, 4), "keras.optimizers.schedules.CosineDecay(alpha=0)"),
    case("cosine:0.1", 4, 5, keras_cosine(0.1, 4, 5),
         "keras.optimizers.schedules.CosineDecay(alpha=0.1)"),
    case("onecycle", 6, 5,
         torch_rates(lambda o: S.OneCycleLR(o, max_lr=RATE, total_steps=30, cycle_momentum=False), 6, 5, True),
         "torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps, defaults)"),
    case("onecycle", 3, 7,
         torch_rates(lambda o: S.OneCycleLR(o, max_lr=RATE, total_steps=21, cycle_momentum=False), 3, 7, True),
         "torch.optim.lr_scheduler.OneCycleLR(max_lr, total_steps, defaults)"),
    case("plateau:0.5:2", len(plateau_losses), 2, keras_plateau(0.5, 2, plateau_losses, 2),
         "keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=1e-4)",
         val_losses=plateau_losses),
    case("plateau", 25, 1, keras_plateau(None, None, [1.0] + [1.0] * 24, 1),
         "keras.callbacks.ReduceLROnPlateau() (factor 0.1, patience 10, min_delta 1e-4)",
         val_losses=[1.0] * 25),
    case("constant", 5, 3,
         torch_rates(lambda o: S.SequentialLR(o, [S.LinearLR(o, 1 / 6, 1.0, 5), S.ConstantLR(o, 1.0, 0)], [6]), 5, 3, True),
         "torch.optim.lr_scheduler.SequentialLR(LinearLR(start_factor=1/6, total_iters=5), then constant, milestones=[6])",
         warmup=2),
    case("step:2:0.5", 6, 3,
         [r for r in torch_rates(lambda o: S.LinearLR(o, 1 / 6, 1.0, 5), 2, 3, True)]
         + torch_rates(lambda o: S.StepLR(o, 2, 0.5), 4, 3, False),
         "torch LinearLR(start_factor=1/6, total_iters=5) over 2 epochs, then StepLR(step_size=2, gamma=0.5)",
         warmup=2),
]
print(json.dumps({"generated_by": "crates/model/src/schedule/fixture.py",
                  "torch": torch.__version__, "keras": keras.__version__, "cases": cases}, indent=1))
