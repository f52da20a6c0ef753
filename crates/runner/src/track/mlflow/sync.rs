//! What lrsweep puts in MLflow, and how a run directory is brought up to date there without
//! duplicating anything: the sweep is a parent run, each member a nested run (tag
//! `mlflow.parentRunId`), all found again by their tags (`lrsweep.run`: the run's start and
//! directory; `lrsweep.member`: the member's directory). A member's epochs already logged are
//! read back (its `val_loss` history) and only the others sent; parameters are logged once,
//! when a run is created; tags and artifacts are set again (MLflow overwrites them).
//!
//! | MLflow            | what it holds                                                         |
//! |-------------------|-----------------------------------------------------------------------|
//! | parent params     | every defining setting of `config.json` (`rates`, `epochs`, …), the data, backend, versions |
//! | member params     | its rate, effective rate, schedule, batch size, network, optimizer, seed, directory |
//! | member metrics    | `loss`, `val_loss`, `accuracy`, `val_accuracy`, `lr` per epoch (step = epoch); a regression's `r2`, `val_r2`, `val_rmse`, `val_mae` in the accuracy's place |
//! | member tags       | `verdict`, `verdict_reason`, `stopped`, `recommended`                 |
//! | artifacts         | a member's chart and `metrics.csv`; the sweep's `report.html`, summaries and overview |
//! | status            | FINISHED once done, RUNNING while trained, KILLED when stopped short   |

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{anyhow, Result};
use lrsweep_model::EpochRecord;
use serde_json::{json, Value};

use super::client::{encode, CallError, Client};
use crate::analysis::status::RateState;
use crate::config::{SweepConfig, Unit};
use crate::store::fs::{self, limit};
use crate::store::layout::{names, RunLayout};
use crate::store::metrics::read_metrics;
use crate::store::run::RunRecord;
use crate::store::tfevents::Figure;

/// The metrics of an epoch, as Keras' history names them.
const METRICS: [(&str, Figure); 5] = [
    ("loss", |r| r.train_loss),
    ("val_loss", |r| r.val_loss),
    ("accuracy", |r| r.train_acc),
    ("val_accuracy", |r| r.val_acc),
    ("lr", |r| r.lr),
];

/// A regression's metrics of an epoch: R² where accuracy is, RMSE and MAE in the targets' units.
const REGRESSION_METRICS: [(&str, Figure); 7] = [
    ("loss", |r| r.train_loss),
    ("val_loss", |r| r.val_loss),
    ("r2", |r| r.train_acc),
    ("val_r2", |r| r.val_acc),
    ("val_rmse", |r| r.val_rmse),
    ("val_mae", |r| r.val_mae),
    ("lr", |r| r.lr),
];

/// Epochs per `log-batch` call: MLflow takes at most 1000 metrics a call.
const EPOCHS_PER_CALL: usize = 1000 / REGRESSION_METRICS.len();
/// Parameters per call (MLflow's limit).
const PARAMS_PER_CALL: usize = 100;
/// The longest parameter value MLflow keeps.
const PARAM_VALUE_MAX: usize = 6000;

/// What a bringing up to date covers: the whole run (a sweep, `track`, a run's summary), or
/// only some members (a scheduler's task: its own rate's, so that tasks running at once never
/// make the same member's run twice, and leave the sweep's parent run to the summary).
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    Run,
    Members(Vec<Unit>),
}

/// A run in MLflow: its id, where its artifacts go (the proxy's path, when the server serves
/// them), and for a member the epochs it holds (read once, when first needed).
#[derive(Debug, Clone)]
struct Tracked {
    id: String,
    artifacts: Option<String>,
    logged: Option<BTreeSet<usize>>,
    /// Whether its parameters are all logged (its `lrsweep.params` tag).
    params: bool,
}

/// The tag set once a run's parameters are all logged.
const PARAMS_TAG: &str = "lrsweep.params";

/// A run directory's counterpart in one experiment of one server.
pub struct Sync {
    client: Client,
    experiment: String,
    /// The `lrsweep.run` tag of this run's MLflow runs.
    key: String,
    experiment_id: Option<String>,
    parent: Option<Tracked>,
    members: HashMap<String, Tracked>,
    /// Whether the runs already there have been looked up.
    looked_up: bool,
    /// Said once: the server keeps artifacts where lrsweep cannot write.
    pub artifact_warning: Option<String>,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A metric's value as MLflow's JSON takes it (NaN and infinities as strings).
fn number(v: f64) -> Value {
    match v {
        v if v.is_nan() => json!("NaN"),
        v if v == f64::INFINITY => json!("Infinity"),
        v if v == f64::NEG_INFINITY => json!("-Infinity"),
        v => json!(v),
    }
}

fn tags(pairs: &[(&str, String)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

/// The proxy path of an `mlflow-artifacts:` URI (`mlflow-artifacts:/1/abc/artifacts` →
/// `1/abc/artifacts`); none for a store lrsweep cannot write through the server.
fn proxied(artifact_uri: &str) -> Option<String> {
    let rest = artifact_uri.strip_prefix("mlflow-artifacts:")?;
    let path = match rest.strip_prefix("//") {
        Some(authority_and_path) => authority_and_path.split_once('/')?.1,
        None => rest.trim_start_matches('/'),
    };
    Some(path.trim_end_matches('/').to_string())
}

fn tracked(info: &Value) -> Option<Tracked> {
    Some(Tracked {
        id: info["run_id"].as_str()?.to_string(),
        artifacts: info["artifact_uri"].as_str().and_then(proxied),
        logged: None,
        params: false,
    })
}

/// `value` flattened into parameters (`a.b` for nested fields, JSON for lists).
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let key = match prefix.is_empty() {
                    true => k.clone(),
                    false => format!("{prefix}.{k}"),
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// The parameters of the sweep: every defining setting (the execution settings left out: they
/// may change on a resume), the data, the backend and the versions.
pub fn sweep_params(record: &RunRecord) -> Vec<(String, String)> {
    let mut config = serde_json::to_value(&record.config).unwrap_or(Value::Null);
    if let (Value::Object(c), Ok(Value::Object(exec))) =
        (&mut config, serde_json::to_value(&record.config.exec))
    {
        for key in exec.keys() {
            c.remove(key);
        }
    }
    let mut out = Vec::new();
    flatten("", &config, &mut out);
    let data = json!({
        "images": record.data.images,
        "train_size": record.data.train_size,
        "valid_size": record.data.valid_size,
        "inputs": record.data.inputs,
    });
    flatten("data", &data, &mut out);
    out.push(("trained_on.backend".into(), record.backend.clone()));
    out.push(("trained_on.adapter".into(), record.adapter.clone()));
    out.push(("version.lrsweep".into(), record.lrsweep_version.clone()));
    out.push(("version.burn".into(), record.burn_version.clone()));
    for (_, v) in &mut out {
        if v.len() > PARAM_VALUE_MAX {
            let mut cut = PARAM_VALUE_MAX - 3;
            while !v.is_char_boundary(cut) {
                cut -= 1;
            }
            v.truncate(cut);
            v.push_str("...");
        }
    }
    out
}

/// The parameters of member `unit`.
pub fn member_params(config: &SweepConfig, unit: Unit, dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = config
        .member_settings(unit)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    out.push(("dir".into(), dir.to_string()));
    out
}

/// The `lrsweep.run` tag of the run `record` in `out`: when it started, and where.
pub fn run_key(record: &RunRecord, out: &Path) -> String {
    let place = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    format!("{} {}", record.started, place.display())
}

impl Sync {
    pub fn new(client: Client, experiment: &str, key: String) -> Self {
        Self {
            client,
            experiment: experiment.to_string(),
            key,
            experiment_id: None,
            parent: None,
            members: HashMap::new(),
            looked_up: false,
            artifact_warning: None,
        }
    }

    /// The experiment's id, created when the server has none of that name.
    fn experiment_id(&mut self) -> Result<String, CallError> {
        if let Some(id) = &self.experiment_id {
            return Ok(id.clone());
        }
        let found = self.client.get(
            "experiments/get-by-name",
            &[("experiment_name", &self.experiment)],
        );
        let id = match found {
            Ok(v) => v["experiment"]["experiment_id"].as_str().map(String::from),
            Err(e) if e.not_found() => {
                match self
                    .client
                    .post("experiments/create", &json!({"name": self.experiment}))
                {
                    Ok(v) => v["experiment_id"].as_str().map(String::from),
                    // Made meanwhile by another process: take it.
                    Err(CallError::Refused { code, .. }) if code == "RESOURCE_ALREADY_EXISTS" => {
                        self.client.get(
                            "experiments/get-by-name",
                            &[("experiment_name", &self.experiment)],
                        )?["experiment"]["experiment_id"]
                            .as_str()
                            .map(String::from)
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let id = id.ok_or_else(|| CallError::Refused {
            what: "experiments/get-by-name".into(),
            code: "no experiment_id".into(),
            message: "the answer names no experiment".into(),
        })?;
        self.experiment_id = Some(id.clone());
        Ok(id)
    }

    /// Finds this run's MLflow runs already on the server (once).
    fn look_up(&mut self) -> Result<(), CallError> {
        if self.looked_up {
            return Ok(());
        }
        let experiment = self.experiment_id()?;
        let filter = format!(
            "tags.`lrsweep.run` = '{}'",
            self.key.replace('\\', "\\\\").replace('\'', "\\'")
        );
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({
                "experiment_ids": [experiment],
                "filter": filter,
                "max_results": 1000,
            });
            if let Some(t) = &token {
                body["page_token"] = json!(t);
            }
            let page = self.client.post("runs/search", &body)?;
            for run in page["runs"].as_array().into_iter().flatten() {
                let tag = |k: &str| {
                    run["data"]["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|t| t["key"] == k)
                        .and_then(|t| t["value"].as_str())
                        .map(String::from)
                };
                let Some(mut t) = tracked(&run["info"]) else {
                    continue;
                };
                t.params = tag(PARAMS_TAG).is_some();
                match tag("lrsweep.member") {
                    Some(member) => {
                        self.members.entry(member).or_insert(t);
                    }
                    None if self.parent.is_none() => self.parent = Some(t),
                    None => {}
                }
            }
            token = page["next_page_token"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(String::from);
            if token.is_none() {
                break;
            }
        }
        self.looked_up = true;
        Ok(())
    }

    /// Creates a run named `name` with `tags` and logs `params`.
    fn create(
        &mut self,
        name: &str,
        tag_pairs: &[(&str, String)],
        params: &[(String, String)],
    ) -> Result<Tracked, CallError> {
        let experiment = self.experiment_id()?;
        let made = self.client.post(
            "runs/create",
            &json!({
                "experiment_id": experiment,
                "run_name": name,
                "start_time": now_ms(),
                "tags": tags(tag_pairs),
            }),
        )?;
        let mut run = tracked(&made["run"]["info"]).ok_or_else(|| CallError::Refused {
            what: "runs/create".into(),
            code: "no run_id".into(),
            message: "the answer names no run".into(),
        })?;
        self.log_params(&mut run, params)?;
        Ok(run)
    }

    /// Logs `params` on `run` unless they are all there, then says so in its tag (a run made
    /// by a call cut short before its parameters gets them the next time).
    fn log_params(&self, run: &mut Tracked, params: &[(String, String)]) -> Result<(), CallError> {
        if run.params {
            return Ok(());
        }
        for chunk in params.chunks(PARAMS_PER_CALL) {
            let params: Vec<Value> = chunk
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect();
            self.client.post(
                "runs/log-batch",
                &json!({"run_id": run.id, "params": params}),
            )?;
        }
        self.set_tags(&run.id, &[(PARAMS_TAG, "logged".to_string())])?;
        run.params = true;
        Ok(())
    }

    /// The sweep's parent run, found or created.
    pub fn parent(&mut self, record: &RunRecord, out: &Path) -> Result<String, CallError> {
        self.look_up()?;
        if let Some(mut p) = self.parent.clone() {
            if !p.params {
                self.log_params(&mut p, &sweep_params(record))?;
                self.parent = Some(p.clone());
            }
            return Ok(p.id);
        }
        let name = out
            .file_name()
            .map_or("lrsweep".to_string(), |n| n.to_string_lossy().into_owned());
        let run = self.create(
            &name,
            &[
                ("lrsweep.run", self.key.clone()),
                (
                    "lrsweep.dir",
                    std::fs::canonicalize(out)
                        .unwrap_or_else(|_| out.to_path_buf())
                        .display()
                        .to_string(),
                ),
                ("mlflow.source.name", "lrsweep".to_string()),
                ("mlflow.source.type", "LOCAL".to_string()),
            ],
            &sweep_params(record),
        )?;
        let id = run.id.clone();
        self.parent = Some(run);
        Ok(id)
    }

    /// Member `unit`'s run (directory `dir`), found or created under the parent.
    fn member(
        &mut self,
        record: &RunRecord,
        out: &Path,
        unit: Unit,
        dir: &str,
    ) -> Result<Tracked, CallError> {
        let parent = self.parent(record, out)?;
        if !self.members.contains_key(dir) {
            let run = self.create(
                dir,
                &[
                    ("lrsweep.run", self.key.clone()),
                    ("lrsweep.member", dir.to_string()),
                    ("mlflow.parentRunId", parent),
                    ("mlflow.source.name", "lrsweep".to_string()),
                ],
                &member_params(&record.config, unit, dir),
            )?;
            self.members.insert(
                dir.to_string(),
                Tracked {
                    logged: Some(BTreeSet::new()),
                    ..run
                },
            );
        }
        if let Some(mut run) = self.members.get(dir).cloned().filter(|r| !r.params) {
            self.log_params(&mut run, &member_params(&record.config, unit, dir))?;
            self.members.insert(dir.to_string(), run);
        }
        let client = &self.client;
        let Some(run) = self.members.get_mut(dir) else {
            unreachable!("inserted above")
        };
        if run.logged.is_none() {
            let history = client.get(
                "metrics/get-history",
                &[
                    ("run_id", &run.id),
                    ("metric_key", "val_loss"),
                    ("max_results", "100000"),
                ],
            )?;
            run.logged = Some(
                history["metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m["step"].as_u64().map(|s| s as usize))
                    .collect(),
            );
        }
        Ok(run.clone())
    }

    /// Logs member `unit`'s `records` that MLflow does not hold yet; how many were sent.
    pub fn epochs(
        &mut self,
        record: &RunRecord,
        out: &Path,
        unit: Unit,
        dir: &str,
        records: &[EpochRecord],
    ) -> Result<usize, CallError> {
        let run = self.member(record, out, unit, dir)?;
        let logged = run.logged.unwrap_or_default();
        let new: Vec<&EpochRecord> = records
            .iter()
            .filter(|r| !logged.contains(&r.epoch))
            .collect();
        let at = now_ms();
        for chunk in new.chunks(EPOCHS_PER_CALL) {
            let names: &[(&str, Figure)] = match record.data.task {
                lrsweep_data::Task::Regression => &REGRESSION_METRICS,
                lrsweep_data::Task::Classification => &METRICS,
            };
            let metrics: Vec<Value> = chunk
                .iter()
                .flat_map(|r| {
                    names.iter().map(move |(key, f)| {
                        json!({"key": key, "value": number(f(r)), "timestamp": at, "step": r.epoch})
                    })
                })
                .collect();
            self.client.post(
                "runs/log-batch",
                &json!({"run_id": run.id, "metrics": metrics}),
            )?;
            if let Some(l) = self.members.get_mut(dir).and_then(|m| m.logged.as_mut()) {
                l.extend(chunk.iter().map(|r| r.epoch));
            }
        }
        Ok(new.len())
    }

    /// Sets `pairs` as tags of run `id`.
    fn set_tags(&self, id: &str, pairs: &[(&str, String)]) -> Result<(), CallError> {
        self.client
            .post(
                "runs/log-batch",
                &json!({"run_id": id, "tags": tags(pairs)}),
            )
            .map(drop)
    }

    /// Sets run `id`'s status (`FINISHED`, `RUNNING`, `KILLED`, `FAILED`).
    fn set_status(&self, id: &str, status: &str) -> Result<(), CallError> {
        let mut body = json!({"run_id": id, "status": status});
        if status != "RUNNING" {
            body["end_time"] = json!(now_ms());
        }
        self.client.post("runs/update", &body).map(drop)
    }

    /// Uploads the files at `paths` that exist as artifacts of `run`.
    fn upload(&mut self, run: &Tracked, paths: &[std::path::PathBuf]) -> Result<(), CallError> {
        let Some(base) = &run.artifacts else {
            self.artifact_warning.get_or_insert_with(|| {
                "the MLflow server keeps artifacts in a store lrsweep cannot write through it (start `mlflow server` serving artifacts, its default); parameters, metrics and tags were logged".to_string()
            });
            return Ok(());
        };
        for path in paths {
            let Ok(bytes) = fs::read(path, limit::CHART) else {
                continue;
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.client.call(
                "PUT",
                &format!(
                    "/api/2.0/mlflow-artifacts/artifacts/{}/{}",
                    encode(base),
                    encode(&name)
                ),
                None,
                Some(&bytes),
            )?;
        }
        Ok(())
    }

    /// Brings MLflow up to date with the run directory `out`: every member's epochs, and once
    /// results are published (`summary.json`) the verdicts, the recommendation, the charts and
    /// files, and each run's status. Returns how many epochs were sent, and how many the
    /// members have.
    pub fn everything(
        &mut self,
        out: &Path,
        record: &RunRecord,
        scope: &Scope,
    ) -> Result<(usize, usize)> {
        let layout = RunLayout::new(out, &record.config);
        let summary: Option<Value> =
            fs::read_text_if_present(&layout.file(names::SUMMARY_JSON), limit::RECORD)
                .and_then(|t| serde_json::from_str(&t).ok());
        let rows: Vec<Value> = summary
            .as_ref()
            .and_then(|s| s["rates"].as_array().cloned())
            .unwrap_or_default();
        let recommended = summary
            .as_ref()
            .and_then(|s| s["recommended"]["dir"].as_str().map(String::from));
        let parent = self.parent(record, out)?;
        let (mut sent, mut total) = (0, 0);
        let mut all_done = true;
        let mut any_running = false;
        let mut any_waiting = false;
        for unit in record.config.units(&record.rates_trained) {
            if let Scope::Members(only) = scope {
                if !only.contains(&unit) {
                    continue;
                }
            }
            let files = layout.member(unit);
            let dir = files.name().to_string();
            let records = match files.metrics().is_file() {
                true => read_metrics(&files.metrics())?,
                false => Vec::new(),
            };
            let state = crate::analysis::status::state(
                &crate::store::claim::evidence(&files.path()),
                record.config.epochs,
            );
            let status = match state {
                RateState::Done { .. } => "FINISHED",
                RateState::Running { .. } => "RUNNING",
                RateState::Failed { .. } => "FAILED",
                RateState::Interrupted { .. } | RateState::Waiting => "KILLED",
            };
            all_done &= status == "FINISHED";
            any_running |= status == "RUNNING";
            any_waiting |= matches!(state, RateState::Waiting);
            if records.is_empty() {
                continue;
            }
            sent += self.epochs(record, out, unit, &dir, &records)?;
            total += records.len();
            let run = self
                .members
                .get(&dir)
                .cloned()
                .ok_or_else(|| anyhow!("{dir}"))?;
            // The run's seed's row says the verdict; another seed's member reads its own curves.
            if summary.is_some() {
                let row = rows.iter().find(|r| r["dir"] == dir.as_str());
                let (verdict, reason) = match row {
                    Some(row) => (
                        row["verdict"]
                            .as_str()
                            .unwrap_or_default()
                            .replace('_', " "),
                        row["verdict_reason"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ),
                    None => {
                        let reading = crate::analysis::verdict::read(
                            &records,
                            &record.hopeless(),
                            Some(record.reach(unit.arm)),
                        );
                        (reading.verdict.display().to_string(), reading.reason)
                    }
                };
                let stopped = record
                    .stop_rule()
                    .check(&records)
                    .map_or("no".to_string(), |s| s.describe());
                self.set_tags(
                    &run.id,
                    &[
                        ("verdict", verdict),
                        ("verdict_reason", reason),
                        ("stopped", stopped),
                        (
                            "recommended",
                            (recommended.as_deref() == Some(&dir)).to_string(),
                        ),
                    ],
                )?;
                let charts = match row {
                    Some(_) => vec![files.chart(), files.metrics()],
                    None => vec![files.metrics()],
                };
                self.upload(&run, &charts)?;
            }
            self.set_status(&run.id, status)?;
        }
        if *scope != Scope::Run {
            return Ok((sent, total));
        }
        if summary.is_some() {
            let parent_run = self.parent.clone().ok_or_else(|| anyhow!("no parent"))?;
            if let Some(dir) = &recommended {
                let rate = summary
                    .as_ref()
                    .and_then(|s| s["recommended"]["label"].as_str().map(String::from))
                    .unwrap_or_default();
                self.set_tags(
                    &parent,
                    &[("recommended", dir.clone()), ("recommended_rate", rate)],
                )?;
            }
            let files: Vec<_> = [
                names::REPORT,
                names::SUMMARY_JSON,
                names::SUMMARY_MD,
                names::CONFIG,
                "overview.png",
            ]
            .iter()
            .map(|n| layout.file(n))
            .collect();
            self.upload(&parent_run, &files)?;
        }
        // Members waiting for a submitted scheduler's tasks are still to come.
        let scheduled = any_waiting && crate::slurm::Plan::read(out).is_some_and(|p| p.submitted);
        let status = match (all_done, any_running || scheduled) {
            (true, _) => "FINISHED",
            (false, true) => "RUNNING",
            (false, false) => "KILLED",
        };
        self.set_status(&parent, status)?;
        Ok((sent, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_uris_served_by_the_server_give_their_proxy_path() {
        assert_eq!(
            proxied("mlflow-artifacts:/1/abc/artifacts").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(
            proxied("mlflow-artifacts://host:5000/1/abc/artifacts/").as_deref(),
            Some("1/abc/artifacts")
        );
        assert_eq!(proxied("s3://bucket/1/abc/artifacts"), None);
        assert_eq!(proxied("file:///tmp/mlruns/1/abc/artifacts"), None);
    }

    #[test]
    fn settings_flatten_into_parameters() {
        let mut out = Vec::new();
        flatten(
            "",
            &json!({"rates": [0.1, 0.01], "prune": null, "a": {"b": 1, "c": "x"}}),
            &mut out,
        );
        assert_eq!(
            out,
            [
                ("a.b".to_string(), "1".to_string()),
                ("a.c".to_string(), "x".to_string()),
                ("rates".to_string(), "[0.1,0.01]".to_string())
            ]
        );
        assert_eq!(number(f64::NAN), json!("NaN"));
        assert_eq!(number(0.5), json!(0.5));
    }
}
