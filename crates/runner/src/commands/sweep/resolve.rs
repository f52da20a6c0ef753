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
    /// The data a resumed run trained on, as its `config.json` records it: what the data read
    /// now must be.
    pub saved_data: Option<crate::store::run::DataRecord>,
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
                saved_data: None,
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
            saved_data: Some(saved.data),
        })
    }
}

/// Refuses (as a usage error, before any data is read) a path `config.json` cannot record: one
/// that is not valid UTF-8 (JSON strings are), naming the option and the path.
pub fn check_recordable(config: &SweepConfig) -> Result<()> {
    let data = &config.data;
    let user = data.user.as_ref();
    let paths = [
        ("--data-dir", data.location.data_dir.as_deref()),
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

/// The options (clap ids) that set parts of the defining settings, with the paths of the
/// `config.json` values they set ("data.limit", "prune"); an option not listed sets the field
/// of its own name. `--quick` sets the pruning and the patience.
const SETS: [(&str, &[&str]); 16] = [
    ("user", &["data.user"]),
    ("labels", &["data.user"]),
    ("label", &["data.user"]),
    ("task", &["data.user"]),
    ("keep_columns", &["data.user"]),
    ("drop", &["data.user"]),
    ("image_size", &["data.user"]),
    ("val", &["data.val"]),
    ("val_fraction", &["data.val_fraction"]),
    ("limit", &["data.limit"]),
    ("scale", &["data.scale"]),
    ("dataset", &["data.dataset"]),
    ("batch_size", &["batch_size", "batch_sizes"]),
    ("quick", &["prune", "patience"]),
    ("schedules", &["schedules"]),
    ("rates", &["rates", "optimizer_rates"]),
];

/// The execution settings' options: a resume takes them from its command line where given.
const EXECUTION: [&str; 7] = [
    "data_dir", "mirror", "no_find", "serial", "together", "cpu_path", "devices",
];

/// The `config.json` paths an explicit option (a clap id) sets; none for an execution
/// setting or an option that is not a setting (`--out`, `--yes`).
fn paths_of(id: &str) -> Vec<&'static str> {
    if EXECUTION.contains(&id) {
        return Vec::new();
    }
    if let Some((_, paths)) = SETS.iter().find(|(i, _)| *i == id) {
        return paths.to_vec();
    }
    DEFINING.iter().copied().filter(|f| *f == id).collect()
}

/// The defining settings' top-level fields: every field of [`SweepConfig`] but the execution
/// settings and the data, whose fields [`SETS`] names.
const DEFINING: [&str; 26] = [
    "rates",
    "refine",
    "epochs",
    "batch_size",
    "batch_sizes",
    "scale_lr",
    "schedules",
    "warmup",
    "seed",
    "hidden",
    "activations",
    "dropouts",
    "inits",
    "loss",
    "optimizers",
    "convention",
    "optimizer_defaults",
    "weight_decay",
    "optimizer_rates",
    "reshuffle",
    "patience",
    "prune",
    "restore_best",
    "full_curves",
    "seeds",
    "backend",
];

/// The flag of the option that sets `path`, as the user writes it.
fn flag(path: &str) -> String {
    match path {
        "data.user" => "--data".to_string(),
        "schedules" => "--schedule".to_string(),
        "batch_sizes" => "--batch-size".to_string(),
        "activations" => "--activation".to_string(),
        "dropouts" => "--dropout".to_string(),
        "inits" => "--init".to_string(),
        "optimizers" => "--optimizer".to_string(),
        "optimizer_rates" => "--rates".to_string(),
        other => format!("--{}", other.trim_start_matches("data.").replace('_', "-")),
    }
}

/// The setting at `path` as the user writes it ([`show`]): a network's settings left out of
/// `config.json` are the reference's, and several `--hidden` are written as given.
fn show_at(path: &str, value: Option<&Value>) -> String {
    match (path, value) {
        ("activations", None) => "relu".to_string(),
        ("dropouts", None) => "0".to_string(),
        ("inits", None) => "normal".to_string(),
        ("optimizers", None) => "adam".to_string(),
        ("weight_decay", None) => "0".to_string(),
        ("optimizer_rates", None) => "the same rates for every optimizer".to_string(),
        ("optimizer_rates", Some(Value::Array(items))) => {
            let each: Vec<String> = items
                .iter()
                .map(|o| format!("{} for {}", show(o.get("rates")), show(o.get("optimizer"))))
                .collect();
            format!("rates of their own: {}", each.join("; "))
        }
        ("hidden", Some(Value::Array(items))) if items.iter().all(Value::is_array) => items
            .iter()
            .map(|v| show(Some(v)))
            .collect::<Vec<_>>()
            .join(" --hidden "),
        _ => show(value),
    }
}

/// A setting's value as the user writes it: `none`, `halving:3:3`, `1e-3,1e-2`, `150`.
fn show(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "none".to_string(),
        Some(Value::Object(o)) if o.contains_key("eta") && o.contains_key("min") => {
            format!("halving:{}:{}", o["eta"], o["min"])
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| show(Some(v)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// The settings given explicitly (`explicit` holds clap ids) that differ from the saved
/// run's, compared by name (each option's own values, whatever else either run records).
fn conflicts(saved: &SweepConfig, asked: &SweepConfig, explicit: &[String]) -> Vec<String> {
    let (Ok(saved), Ok(asked)) = (serde_json::to_value(saved), serde_json::to_value(asked)) else {
        return vec!["the settings could not be compared".to_string()];
    };
    let at = |v: &Value, path: &str| -> Option<Value> {
        path.split('.').try_fold(v, |v, key| v.get(key)).cloned()
    };
    let quick = explicit.iter().any(|e| e == "quick");
    let mut paths: Vec<&str> = Vec::new();
    for id in explicit {
        for p in paths_of(id) {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    let mut clashes: Vec<String> = paths
        .into_iter()
        .filter_map(|path| {
            let (old, new) = (at(&saved, path), at(&asked, path));
            (old != new).then(|| {
                format!(
                    "{} {} (the run has {})",
                    flag(path),
                    show_at(path, new.as_ref()),
                    show_at(path, old.as_ref())
                )
            })
        })
        .collect();
    if quick && !clashes.is_empty() && !explicit.iter().any(|e| e == "prune" || e == "patience") {
        // Say which option set them.
        clashes = clashes
            .into_iter()
            .map(|c| format!("{c} [from --quick]"))
            .collect();
    }
    clashes
}

/// Refuses to extend the run `config` (in `dir`) to `epochs` when its members' rates so far
/// depend on its length: a schedule spread over the run's steps (cosine, onecycle) would have
/// given other rates in a longer run, so the extension could not equal that run.
fn check_extensible(config: &SweepConfig, epochs: usize, dir: &Path) -> Result<()> {
    if let Some(s) = config.schedules.iter().find(|s| s.depends_on_length()) {
        return Err(usage(anyhow!(
            "--resume {} --epochs {epochs}: the run's {s} schedule spreads its rates over the run's length ({} epochs), so the rates its members have taken are not those of a {epochs}-epoch run; a run with constant, step, exp or plateau schedules can be extended, this one cannot: start a new run with --out",
            dir.display(),
            config.epochs
        )));
    }
    Ok(())
}

/// The run a resume continues: its record, its defining settings compared with those the
/// command line gives, its execution settings taken from the command line where given.
fn resolve(args: &SweepArgs, dir: &Path, explicit: &[String]) -> Result<(RunRecord, PathBuf)> {
    if args.out.is_some() {
        return Err(usage(anyhow!(
            "--resume continues the run in its own directory; drop --out"
        )));
    }
    let asked = args.to_config()?;
    let mut saved = RunRecord::read(dir)?;
    // More epochs than the run has extend it ("train longer"): not a conflict.
    let extend = explicit.iter().any(|e| e == "epochs") && asked.epochs > saved.config.epochs;
    if extend {
        check_extensible(&saved.config, asked.epochs, dir)?;
    }
    let compared: Vec<String> = explicit
        .iter()
        .filter(|e| !(extend && *e == "epochs"))
        .cloned()
        .collect();
    let clashes = conflicts(&saved.config, &asked, &compared);
    if !clashes.is_empty() {
        return Err(usage(anyhow!(
            "--resume {}: the run was made with other settings: {}; resume without them, or start a new run with --out",
            dir.display(),
            clashes.join("; ")
        )));
    }
    let given = |id: &str| explicit.iter().any(|e| e == id);
    if extend {
        crate::exit::note(&format!(
            "extending the run from {} to {} epochs: every member that finished at epoch {} or was interrupted continues from its last checkpoint (those stopped by the stop rule or pruned stay stopped), and the summary is written again",
            saved.config.epochs, asked.epochs, saved.config.epochs
        ));
        saved.config.epochs = asked.epochs;
    }
    if given("quick") {
        crate::exit::note(&format!(
            "--quick: the run was made with it (--prune {}, --patience {}); its resume goes on so",
            saved
                .config
                .prune
                .map_or("none".to_string(), |h| h.to_string()),
            saved
                .config
                .patience
                .map_or("none".to_string(), |p| p.to_string())
        ));
    }
    // Where the data lives is not a setting of the run: its checksums are verified anyway.
    let (config, now) = (&mut saved.config, &asked);
    if now.data.location.data_dir.is_some() {
        config.data.location.data_dir = now.data.location.data_dir.clone();
    }
    if !now.data.location.mirrors.is_empty() {
        config.data.location.mirrors = now.data.location.mirrors.clone();
    }
    if given("no_find") {
        config.exec.no_find = now.exec.no_find;
    }
    if given("serial") || given("together") {
        config.exec.serial = now.exec.serial;
    }
    if given("cpu_path") {
        config.exec.cpu_path = now.exec.cpu_path;
    }
    if given("devices") {
        config.exec.devices = now.exec.devices.clone();
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
        // Every option is an execution setting, a defining setting, or named in SETS, or
        // not a setting at all.
        let not_settings = [
            "out",
            "resume",
            "yes",
            "slurm",
            "sbatch",
            "max_parallel",
            "dry_run",
            "mlflow",
            "mlflow_experiment",
            "help",
        ];
        for id in &ids {
            assert!(
                EXECUTION.contains(&id.as_str())
                    || !paths_of(id).is_empty()
                    || not_settings.contains(&id.as_str()),
                "--{id} is neither a defining nor an execution setting"
            );
        }
        // Every top-level field of the record is covered.
        let value = serde_json::to_value(SweepConfig::default()).unwrap();
        for field in value.as_object().unwrap().keys() {
            assert!(
                DEFINING.contains(&field.as_str())
                    || ["no_find", "serial", "cpu_path", "devices", "data"]
                        .contains(&field.as_str()),
                "{field} is not compared"
            );
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

    #[test]
    fn options_are_compared_by_name_whatever_else_the_runs_record() {
        // A pruned run records an object where an unpruned one has null: the seed is still
        // compared with the seed.
        let pruned = SweepConfig {
            prune: Some(Default::default()),
            patience: Some(10),
            ..SweepConfig::default()
        };
        let plain = SweepConfig::default();
        let seed = vec!["seed".to_string()];
        assert!(conflicts(&pruned, &plain, &seed).is_empty());
        // --prune and --warmup and --reshuffle are compared, not ignored.
        let other = SweepConfig {
            prune: Some(lrsweep_model::Halving { eta: 9, min: 8 }),
            ..pruned.clone()
        };
        assert_eq!(
            conflicts(&pruned, &other, &["prune".into()]),
            vec!["--prune halving:9:8 (the run has halving:3:3)"]
        );
        let warm = SweepConfig {
            warmup: 2,
            reshuffle: true,
            ..plain.clone()
        };
        assert_eq!(
            conflicts(&plain, &warm, &["warmup".into(), "reshuffle".into()]),
            vec![
                "--warmup 2 (the run has 0)",
                "--reshuffle true (the run has false)"
            ]
        );
        // --quick on a run made with it: nothing to refuse; on one made without: refused.
        assert!(conflicts(&pruned, &pruned, &["quick".into()]).is_empty());
        let refused = conflicts(&plain, &pruned, &["quick".into()]);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused[0].contains("--prune halving:3:3 (the run has none)"));
        assert!(refused[0].contains("[from --quick]"));
        // Execution settings are never compared.
        let serial = SweepConfig {
            exec: crate::config::Execution {
                serial: true,
                no_find: true,
                ..Default::default()
            },
            ..plain.clone()
        };
        assert!(conflicts(&plain, &serial, &["serial".into(), "no_find".into()]).is_empty());
    }
}
