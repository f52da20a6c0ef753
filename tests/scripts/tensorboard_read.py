"""Reads a run directory's TensorBoard event files with TensorBoard's own reader
(EventAccumulator) and prints, as JSON, what TensorBoard sees: each run's scalars (tag ->
[[step, value], ...]), its HParams session (settings, status) and the experiment.

Used by the end-to-end tests (tests/tests/e2e/trackers.rs): python tensorboard_read.py RUN_DIR
"""
import json
import math
import os
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2


def value(v):
    kind = v.WhichOneof("kind")
    return v.number_value if kind == "number_value" else v.string_value


def number(x):
    return None if math.isnan(x) else x


def read(path):
    acc = EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    out = {"scalars": {}, "hparams": None, "status": None, "experiment": None}
    for tag in acc.Tags()["scalars"]:
        out["scalars"][tag] = [[e.step, number(e.value)] for e in acc.Scalars(tag)]
    try:
        contents = acc.PluginTagToContent("hparams")
    except KeyError:  # no HParams in this run (yet)
        contents = {}
    for tag, content in contents.items():
        data = plugin_data_pb2.HParamsPluginData.FromString(content)
        if data.HasField("session_start_info"):
            out["hparams"] = {k: value(v) for k, v in data.session_start_info.hparams.items()}
        elif data.HasField("session_end_info"):
            out["status"] = data.session_end_info.status
        elif data.HasField("experiment"):
            exp = data.experiment
            out["experiment"] = {
                "hparams": sorted(h.name for h in exp.hparam_infos),
                "metrics": [m.name.tag for m in exp.metric_infos],
            }
    return out


def main():
    root = sys.argv[1]
    runs = {}
    for dirpath, _, files in os.walk(root):
        if any("tfevents" in f for f in files):
            runs[os.path.relpath(dirpath, root)] = read(dirpath)
    json.dump(runs, sys.stdout)


main()
