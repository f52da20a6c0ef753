"""Reads an MLflow experiment back through the tracking server's REST API, with MLflow's own
client (MlflowClient), and prints as JSON what it holds: each run's name, status, parameters,
tags, every metric's full history ([step, value]) and its artifacts (name -> sha256).

Used by the end-to-end tests (tests/tests/e2e/trackers.rs):
    python mlflow_read.py TRACKING_URI EXPERIMENT
"""
import hashlib
import json
import math
import os
import sys
import tempfile

from mlflow.tracking import MlflowClient


def number(x):
    """As text (Python's shortest repr), so that the reader parses it exactly."""
    return None if math.isnan(x) else repr(x)


def main():
    uri, name = sys.argv[1], sys.argv[2]
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        json.dump({"runs": []}, sys.stdout)
        return
    runs = []
    for run in client.search_runs([experiment.experiment_id], max_results=1000):
        metrics = {}
        for key in run.data.metrics:
            history = client.get_metric_history(run.info.run_id, key)
            metrics[key] = sorted([m.step, number(m.value)] for m in history)
        artifacts = {}
        with tempfile.TemporaryDirectory() as tmp:
            for a in client.list_artifacts(run.info.run_id):
                path = client.download_artifacts(run.info.run_id, a.path, tmp)
                with open(path, "rb") as f:
                    artifacts[a.path] = hashlib.sha256(f.read()).hexdigest()
        runs.append({
            "id": run.info.run_id,
            "name": run.info.run_name,
            "status": run.info.status,
            "params": run.data.params,
            "tags": {k: v for k, v in run.data.tags.items()},
            "metrics": metrics,
            "artifacts": artifacts,
        })
    json.dump({"runs": runs}, sys.stdout)


main()
