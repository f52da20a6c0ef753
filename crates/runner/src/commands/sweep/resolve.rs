//! A sweep's command line resolved into the one value it runs with ([`Resolved`]): a fresh
//! run's settings and directory, or the run `--resume` continues with the overrides this
//! command line may make, all decided in [`Resolved::from_args`].

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use serde_json::Value;

use crate::cli::SweepArgs;
use crate::config::SweepConfig;
use crate::exit::usage;
use crate::store::run::RunRecord;
use crate::store::{self, OutDir};

/// Where a sweep writes.
pub enum Target {
    /// A new run directory, created once the data is loaded.
    Fresh(OutDir),
    /// The directory of the run `--resume` continues.
    Resume(PathBuf),
}

impl Target {
    /// The run directory, created now for a fresh run.
    pub fn open(self) -> Result<PathBuf> {
        match self {
            Target::Fresh(dir) => dir.create(),
            Target::Resume(dir) => Ok(dir),
        }
    }

    /// Whether [`Target::open`] will make the directory (a fresh run's that does not exist yet).
    pub fn makes_directory(&self) -> bool {
        match self {
            Target::Fresh(dir) => !dir.path().exists(),
            Target::Resume(_) => false,
        }
    }

    /// Whether the sweep continues a run.
    pub fn resuming(&self) -> bool {
        matches!(self, Target::Resume(_))
    }
}

/// Everything a sweep runs with, resolved from its command line (and, with `--resume`, the
/// saved run): the one value the sweep, its Slurm submission and `config.json` start from.
pub struct Resolved {
    /// The run's settings.
    pub config: SweepConfig,
    /// Where it writes.
    pub target: Target,
    /// When the run first started (local time, RFC 3339).
    pub started: String,
}

impl Resolved {
    /// Resolves the arguments; `explicit` names the options given on the command line (a resume
    /// refuses those that conflict with the saved run and takes the overrides it allows).
    pub fn from_args(args: &SweepArgs, explicit: &[String]) -> Result<Self> {
        let now = chrono::Local::now().to_rfc3339();
        let Some(dir) = &args.resume else {
            let config = args.to_config()?;
            if !args.yes {
                for warning in crate::analysis::typos::suspicious(&config.rates) {
                    crate::exit::note(&format!(
                        "warning: {warning} (pass --yes to train it without this warning)"
                    ));
                }
            }
            check_recordable(&config)?;
            return Ok(Self {
                config,
                target: Target::Fresh(store::fresh_out(args.out.clone(), None)?),
                started: now,
            });
        };
        let (saved, out) = resolve(args, dir, explicit)?;
        check_recordable(&saved.config)?;
        Ok(Self {
            config: saved.config,
            target: Target::Resume(out),
            started: if saved.started.is_empty() {
                now
            } else {
                saved.started
            },
        })
    }
}

/// Refuses (as a usage error, before any data is read) a path `config.json` cannot record: one
/// that is not valid UTF-8 (JSON strings are), naming the option and the path.
pub fn check_recordable(config: &SweepConfig) -> Result<()> {
    let data = &config.data;
    let user = data.user.as_ref();
    let paths = [
        ("--data-dir", data.data_dir.as_deref()),
        ("--data", user.map(|u| u.path.as_path())),
        ("--labels", user.and_then(|u| u.labels.as_deref())),
        ("--val", data.val.as_deref()),
    ];
    for (flag, path) in paths {
        if let Some(path) = path.filter(|p| p.to_str().is_none()) {
            return Err(usage(anyhow!(
                "{flag} {}: the path is not valid UTF-8, and a run records its paths in config.json, which only holds UTF-8; rename it, or give a link with a UTF-8 name that points to it",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Fields of [`SweepConfig`] that do not define a run: where the data is read from, whether the
/// range test runs, whether rates train together or one after another, how the CPU engine
/// computes its products and which devices train may change between a run and its resume (a
/// rate's checkpoints are the same either way).
const NOT_DEFINING: [&str; 6] = [
    "data_dir", "mirrors", "no_find", "serial", "cpu_path", "devices",
];

/// The flag of the option that sets a configuration field (clap ids are the field names; the
/// user's data, one field, is set by `--data` and its companions).
fn flag(field: &str) -> String {
    if field == USER_DATA {
        return "--data".to_string();
    }
    match field {
        "schedules" => return "--schedule".to_string(),
        "batch_sizes" => return "--batch-size".to_string(),
        _ => {}
    }
    format!("--{}", field.replace('_', "-"))
}

/// The field holding the user's data: one setting, compared whole.
const USER_DATA: &str = "user";

/// The options (clap ids) that set the user's data.
const USER_DATA_IDS: [&str; 4] = [USER_DATA, "labels", "label", "image_size"];

/// Whether `field` was given explicitly (`explicit` holds clap ids).
fn given(field: &str, explicit: &[String]) -> bool {
    if field == USER_DATA {
        return explicit.iter().any(|e| USER_DATA_IDS.contains(&e.as_str()));
    }
    explicit.iter().any(|e| e == field)
}

/// The leaves of a JSON value as (field name, value) pairs, nested objects flattened (but for
/// the user's data, a leaf of its own).
fn leaves<'a>(value: &'a Value, out: &mut Vec<(&'a str, &'a Value)>) {
    if let Value::Object(map) = value {
        for (key, v) in map {
            match v {
                Value::Object(_) if key != USER_DATA => leaves(v, out),
                _ => out.push((key.as_str(), v)),
            }
        }
    }
}

/// The settings given explicitly (`explicit` holds clap ids) that differ from the saved run's.
/// Every field of the configuration is compared: a new option needs no table kept in step.
fn conflicts(saved: &SweepConfig, asked: &SweepConfig, explicit: &[String]) -> Vec<String> {
    let (Ok(saved), Ok(asked)) = (serde_json::to_value(saved), serde_json::to_value(asked)) else {
        return vec!["the settings could not be compared".to_string()];
    };
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves(&saved, &mut old);
    leaves(&asked, &mut new);
    old.into_iter()
        .zip(new)
        .filter(|((field, _), _)| !NOT_DEFINING.contains(field))
        .filter(|((field, _), _)| given(field, explicit))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((field, old), (_, new))| format!("{} {new} (the run has {old})", flag(field)))
        .collect()
}

/// The run a resume continues: its record, with the data location the user gives now.
fn resolve(args: &SweepArgs, dir: &Path, explicit: &[String]) -> Result<(RunRecord, PathBuf)> {
    if args.out.is_some() {
        return Err(usage(anyhow!(
            "--resume continues the run in its own directory; drop --out"
        )));
    }
    let asked = args.to_config()?;
    let mut saved = RunRecord::read(dir)?;
    let clashes = conflicts(&saved.config, &asked, explicit);
    if !clashes.is_empty() {
        return Err(usage(anyhow!(
            "--resume {}: the run was made with other settings: {}; resume without them, or start a new run with --out",
            dir.display(),
            clashes.join("; ")
        )));
    }
    // Where the data lives is not a setting of the run: its checksums are verified anyway.
    let config = &mut saved.config;
    config.data.data_dir = asked.data.data_dir.clone().or(config.data.data_dir.take());
    if !asked.data.mirrors.is_empty() {
        config.data.mirrors = asked.data.mirrors.clone();
    }
    if explicit.iter().any(|e| e == "serial" || e == "together") {
        config.serial = asked.serial;
    }
    if explicit.iter().any(|e| e == "cpu_path") {
        config.cpu_path = asked.cpu_path;
    }
    if explicit.iter().any(|e| e == "devices") {
        config.devices = asked.devices.clone();
    }
    Ok((saved, dir.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        sweep: SweepArgs,
    }

    #[test]
    fn every_defining_field_is_an_option_and_conflicts_name_it() {
        let ids: Vec<String> = Wrap::command()
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect();
        let value = serde_json::to_value(SweepConfig::default()).unwrap();
        let mut fields = Vec::new();
        leaves(&value, &mut fields);
        for (field, _) in &fields {
            let id = match *field {
                "mirrors" => "mirror",
                "batch_sizes" => "batch_size",
                other => other,
            };
            assert!(ids.iter().any(|i| i == id), "{field} has no option");
        }
        let saved = SweepConfig::default();
        let asked = SweepConfig {
            epochs: 3,
            seed: 7,
            ..SweepConfig::default()
        };
        let explicit = vec!["epochs".to_string(), "seed".to_string()];
        assert_eq!(
            conflicts(&saved, &asked, &explicit),
            vec!["--epochs 3 (the run has 150)", "--seed 7 (the run has 42)"]
        );
        assert!(conflicts(&saved, &asked, &["epochs".into()]).len() == 1);
        assert!(conflicts(&saved, &saved, &explicit).is_empty());
    }
}
