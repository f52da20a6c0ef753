//! MLflow: a sweep logged live to a tracking server by a background worker, so that a server
//! that is down or slow never stops or slows training; the run directory stays the truth, and
//! `lrsweep track` brings the server up to date from it afterwards ([`Sync::everything`]).

mod client;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lrsweep_model::EpochRecord;

pub use client::{Client, Patience, TrackingUri};
pub use sync::{run_key, Scope, Sync};

use crate::config::Unit;
use crate::store::run::RunRecord;

/// The environment variable MLflow's own clients read the tracking server's address from.
pub const URI_VARIABLE: &str = "MLFLOW_TRACKING_URI";

/// Where to log: the server (`--mlflow`, else `$MLFLOW_TRACKING_URI`) and the experiment
/// (`--mlflow-experiment`, else the run directory's name). `Ok(None)`: no MLflow. `Err`: what is
/// wrong with an address given on the command line, and the fix. An address in the environment
/// that lrsweep cannot use is `Ok(None)` with a note, when `env_note` is given.
pub fn destination(
    flag: Option<&str>,
    experiment: Option<&str>,
    out: &Path,
    env_note: Option<&dyn Fn(&str)>,
) -> Result<Option<(TrackingUri, String)>, String> {
    let uri = match flag {
        Some(given) => TrackingUri::parse(given).map_err(|e| format!("--mlflow: {e}"))?,
        None => match std::env::var(URI_VARIABLE) {
            Ok(v) if !v.trim().is_empty() => match TrackingUri::parse(&v) {
                Ok(uri) => uri,
                Err(e) => match env_note {
                    Some(note) => {
                        note(&format!(
                            "{URI_VARIABLE}: {e}; this sweep is not logged to MLflow"
                        ));
                        return Ok(None);
                    }
                    None => return Err(format!("{URI_VARIABLE}: {e}")),
                },
            },
            _ => return Ok(None),
        },
    };
    let experiment = match experiment {
        Some(e) if e.trim().is_empty() || e.chars().any(char::is_control) => {
            return Err(format!(
                "--mlflow-experiment '{}' is not an experiment name: give a name of printable characters",
                e.escape_debug()
            ))
        }
        Some(e) => e.to_string(),
        None => std::fs::canonicalize(out)
            .unwrap_or_else(|_| out.to_path_buf())
            .file_name()
            .map_or("lrsweep".to_string(), |n| n.to_string_lossy().into_owned()),
    };
    Ok(Some((uri, experiment)))
}

/// How long the end of a sweep waits for the worker to finish its uploads.
const DRAIN: Duration = Duration::from_secs(120);

/// What the worker is asked to do.
enum Job {
    /// A member finished an epoch.
    Epoch {
        unit: Box<Unit>,
        dir: String,
        record: EpochRecord,
    },
    /// The run's results were published (or it stopped): bring everything up to date.
    Everything(Box<RunRecord>),
}

/// What the worker says, for the sweep to print: warnings as they come.
type Said = Arc<Mutex<Vec<String>>>;

/// A sweep's connection to MLflow: jobs handed to a background worker.
pub struct Tracker {
    uri: TrackingUri,
    experiment: String,
    out: PathBuf,
    jobs: Option<Sender<Job>>,
    worker: Option<JoinHandle<bool>>,
    said: Said,
}

/// The hint every warning ends with.
fn catch_up(out: &Path, uri: &TrackingUri, experiment: &str) -> String {
    format!(
        "once the server is up, `lrsweep track {} --mlflow {uri} --mlflow-experiment {experiment}` uploads what is missing",
        out.display()
    )
}

impl Tracker {
    /// Connects the sweep of `record` in `out` to `uri`'s experiment `experiment`: a first
    /// short call says at once whether the server answers (a warning when it does not: the
    /// sweep goes on, and the worker tries again at the end).
    /// At the end, `scope` is brought up to date: the whole run (a sweep), or a task's members.
    pub fn start(
        uri: TrackingUri,
        experiment: String,
        out: &Path,
        record: &RunRecord,
        scope: Scope,
    ) -> Self {
        let said: Said = Arc::default();
        let probe = Client::new(uri.clone(), Patience::probe());
        let up = match probe.get(
            "experiments/get-by-name",
            &[("experiment_name", &experiment)],
        ) {
            Ok(_) => true,
            Err(e) if e.not_found() => true,
            Err(e) => {
                said.lock().unwrap_or_else(|p| p.into_inner()).push(format!(
                    "warning: {e}; the sweep goes on without it (its files are the record), and {}",
                    catch_up(out, &uri, &experiment)
                ));
                false
            }
        };
        let (tx, rx) = mpsc::channel();
        let sync = Sync::new(
            Client::new(uri.clone(), Patience::training()),
            &experiment,
            sync::run_key(record, out),
        );
        let worker = {
            let (out, said, record) = (out.to_path_buf(), said.clone(), record.clone());
            let hint = catch_up(&out, &uri, &experiment);
            std::thread::Builder::new()
                .name("mlflow".into())
                .spawn(move || work(sync, rx, &out, &record, &scope, up, &said, &hint))
                .ok()
        };
        Self {
            uri,
            experiment,
            out: out.to_path_buf(),
            jobs: Some(tx),
            worker,
            said,
        }
    }

    /// Hands an epoch of member `unit` (directory `dir`) to the worker; never waits.
    pub fn epoch(&self, unit: Unit, dir: &str, record: &EpochRecord) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Epoch {
                unit: Box::new(unit),
                dir: dir.to_string(),
                record: *record,
            });
        }
    }

    /// What the worker has said since last asked.
    pub fn said(&self) -> Vec<String> {
        std::mem::take(&mut *self.said.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// After the sweep (finished or stopped short): everything brought up to date from the run
    /// directory, waited for up to two minutes; what to tell the user.
    pub fn finish(mut self, record: &RunRecord) -> Vec<String> {
        if let Some(jobs) = self.jobs.take() {
            let _ = jobs.send(Job::Everything(Box::new(record.clone())));
        }
        let start = Instant::now();
        let mut done = None;
        if let Some(worker) = self.worker.take() {
            while !worker.is_finished() && start.elapsed() < DRAIN {
                std::thread::sleep(Duration::from_millis(50));
            }
            if worker.is_finished() {
                done = worker.join().ok();
            }
        }
        let mut lines = self.said();
        match done {
            Some(true) => lines.push(format!(
                "MLflow: the sweep and each member are in experiment '{}' at {}",
                self.experiment, self.uri
            )),
            Some(false) => {}
            None => lines.push(format!(
                "warning: MLflow at {} has not taken everything within {} s; {}",
                self.uri,
                DRAIN.as_secs(),
                catch_up(&self.out, &self.uri, &self.experiment)
            )),
        }
        lines
    }
}

/// The worker: epochs logged as they come while the server answers; once it does not, a
/// warning and the next epochs dropped (the run directory has them) until the end, where
/// everything is tried once more. Returns whether everything reached the server.
#[allow(clippy::too_many_arguments)]
fn work(
    mut sync: Sync,
    jobs: Receiver<Job>,
    out: &Path,
    record: &RunRecord,
    scope: &Scope,
    mut up: bool,
    said: &Said,
    hint: &str,
) -> bool {
    let say = |line: String| said.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    for job in jobs {
        match job {
            Job::Epoch {
                unit,
                dir,
                record: r,
            } if up => {
                if let Err(e) = sync.epochs(record, out, *unit, &dir, &[r]) {
                    up = false;
                    say(format!(
                        "warning: {e}; training goes on (its files are the record), and {hint}"
                    ));
                }
            }
            Job::Epoch { .. } => {}
            Job::Everything(latest) => {
                return match sync.everything(out, &latest, scope) {
                    Ok(_) => {
                        if let Some(w) = sync.artifact_warning.take() {
                            say(format!("warning: {w}"));
                        }
                        true
                    }
                    Err(e) => {
                        say(format!(
                            "warning: the sweep's results did not reach MLflow ({e:#}); {hint}"
                        ));
                        false
                    }
                };
            }
        }
    }
    false
}
