//! `lrsweep track RUN_DIR --mlflow URI`: brings an MLflow tracking server up to date with a run
//! directory (finished, interrupted, or one whose live logging the server missed): the parent
//! and member runs found again by their tags, only the epochs the server lacks sent, tags,
//! artifacts and statuses set.

use anyhow::{anyhow, Context, Result};

use crate::cli::TrackArgs;
use crate::exit::{say, usage};
use crate::store::run::RunRecord;
use crate::track::mlflow::{self, Client, Patience, Scope, Sync};

pub fn run(args: &TrackArgs) -> Result<()> {
    let dir = &args.run_dir;
    let record = RunRecord::read(dir).map_err(usage)?;
    let tracking = &args.tracking;
    let (uri, experiment) = mlflow::destination(
        tracking.mlflow.as_deref(),
        tracking.mlflow_experiment.as_deref(),
        dir,
        None,
    )
    .map_err(|e| usage(anyhow!(e)))?
    .ok_or_else(|| {
        usage(anyhow!(
            "track needs a tracking server: --mlflow http://HOST:PORT (or {} set)",
            mlflow::URI_VARIABLE
        ))
    })?;
    let key = mlflow::run_key(&record, dir);
    let mut sync = Sync::new(
        Client::new(uri.clone(), Patience::training()),
        &experiment,
        key,
    );
    let (sent, total) = sync.everything(dir, &record, &Scope::Run).with_context(|| {
        format!(
            "uploading {} to MLflow at {uri}; what reached the server stays there, and running track again sends only the rest",
            dir.display()
        )
    })?;
    if let Some(w) = sync.artifact_warning.take() {
        crate::exit::note(&format!("warning: {w}"));
    }
    say(&format!(
        "MLflow at {uri}, experiment '{experiment}': the sweep and its members are up to date ({sent} of their {total} epochs sent now, {} there before)",
        total - sent
    ))
}
