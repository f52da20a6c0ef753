//! Slurm: the batch scripts of a distributed run, its plan (`slurm/plan.json`), and submission
//! with `sbatch`. The scheduling is Slurm's (job arrays, `afterany` dependencies); lrsweep only
//! writes scripts that call `lrsweep work` and records the job ids.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The folder of a run directory that holds the plan, the scripts and the logs.
pub const DIR: &str = crate::store::names::SLURM;
/// The plan's file inside [`DIR`].
pub const PLAN: &str = "plan.json";

/// How a run is driven by Slurm: recorded in `slurm/plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The lrsweep binary the scripts run (on a path the nodes share).
    pub lrsweep: PathBuf,
    /// The run directory, absolute.
    pub run_dir: PathBuf,
    /// Options for every submission, written as `#SBATCH` lines.
    pub sbatch: Vec<String>,
    /// At most this many array tasks at once (`%N`).
    pub max_parallel: Option<u64>,
    /// Whether the jobs were submitted (false after `--dry-run`).
    pub submitted: bool,
    /// The jobs submitted so far.
    #[serde(default)]
    pub jobs: Jobs,
    /// The MLflow server and experiment the tasks log to (`--mlflow`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlflow: Option<PlanTracking>,
}

/// Where a Slurm run's tasks log: an MLflow server's address and the experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanTracking {
    pub uri: String,
    pub experiment: String,
}

/// Job ids of a submitted run (the latest submission's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Jobs {
    /// Round 1's job array.
    pub round1: Option<String>,
    /// The refine job (runs after round 1).
    pub refine: Option<String>,
    /// Round 2's job array (submitted by the refine job).
    pub round2: Option<String>,
    /// The summary job (after round 2).
    pub summary: Option<String>,
}

/// The three batch scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// One rate per array task.
    Train,
    /// Plans round 2 and submits it with the summary.
    Refine,
    /// Range test, charts and summary.
    Summary,
}

impl Script {
    /// Every script, in the order a run uses them.
    pub const ALL: [Script; 3] = [Script::Train, Script::Refine, Script::Summary];

    /// The script's file name inside [`DIR`].
    pub fn file(self) -> &'static str {
        match self {
            Self::Train => "train.sh",
            Self::Refine => "refine.sh",
            Self::Summary => "summary.sh",
        }
    }
}

/// Refuses a path that a batch script cannot carry: a newline or another control character
/// would end the `#SBATCH` or comment line it is written on, and what follows would run as a
/// command (or stop sbatch reading its options). Such paths are refused rather than escaped:
/// sbatch's own `#SBATCH --output=` line has no quoting to escape them with.
pub fn check_script_path(what: &str, path: &Path) -> Result<()> {
    let text = path.to_string_lossy();
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        bail!(
            "{what} {text:?} holds a control character ({c:?}); a Slurm batch script cannot carry it safely: choose a path without newlines or other control characters"
        );
    }
    Ok(())
}

/// Quotes `s` for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Refuses sbatch options that cannot be an `#SBATCH` line or that lrsweep sets itself.
pub fn check_sbatch_args(args: &[String]) -> Result<()> {
    for a in args {
        if a.contains('\n') || a.trim().is_empty() {
            bail!("--sbatch {a:?}: one option per --sbatch, on one line");
        }
        if !a.starts_with('-') {
            bail!(
                "--sbatch {a}: give an sbatch option with its value, e.g. --sbatch=--partition=gpu"
            );
        }
        let name = a.split(['=', ' ']).next().unwrap_or(a);
        if [
            "--array",
            "-a",
            "--dependency",
            "-d",
            "--parsable",
            "--wait",
            "-W",
        ]
        .contains(&name)
        {
            bail!("--sbatch {a}: lrsweep sets {name} itself (use --max-parallel N for the array's limit)");
        }
    }
    Ok(())
}

impl Plan {
    /// The text of `script`.
    pub fn script(&self, script: Script) -> String {
        let run = self.run_dir.display().to_string();
        let bin = quote(&self.lrsweep.display().to_string());
        // The training tasks log their epochs as they train, the summary the results.
        let tracking = match &self.mlflow {
            Some(t) => format!(
                " --mlflow {} --mlflow-experiment {}",
                quote(&t.uri),
                quote(&t.experiment)
            ),
            None => String::new(),
        };
        let (name, output, what, command) = match script {
            Script::Train => (
                "train",
                "train-%A_%a.out",
                "One rate per array task: task N trains rate number N of the run (config.json's\n\
                 # rates_trained: the listed rates from 0, the refined ones after them), continuing\n\
                 # from its checkpoint; a rate that is done or being trained elsewhere is left alone.",
                format!(
                    "exec {bin} work {} --index \"$SLURM_ARRAY_TASK_ID\"{tracking}",
                    quote(&run)
                ),
            ),
            Script::Refine => (
                "refine",
                "refine-%j.out",
                "After round 1, whatever its tasks' outcomes: plans the refined rates from the round-1\n\
                 # rates that finished, submits them as a second array of train.sh and summary.sh after it.",
                format!("exec {bin} work {} --refine", quote(&run)),
            ),
            Script::Summary => (
                "summary",
                "summary-%j.out",
                "At the end: range test, charts and summary (missing rates marked).",
                format!("exec {bin} work {} --finish{tracking}", quote(&run)),
            ),
        };
        let mut text = format!(
            "#!/bin/bash\n#SBATCH --job-name=lrsweep-{name}\n#SBATCH --output={}\n",
            Path::new(&run)
                .join(DIR)
                .join("logs")
                .join(output)
                .display()
        );
        for a in &self.sbatch {
            text += &format!("#SBATCH {a}\n");
        }
        text += &format!("# lrsweep run {run}\n# {what}\n{command}\n");
        text
    }

    /// `--array=` for the rates `indices` (with `%N`).
    pub fn array(&self, indices: &Range<usize>) -> String {
        let span = if indices.len() == 1 {
            indices.start.to_string()
        } else {
            format!("{}-{}", indices.start, indices.end - 1)
        };
        match self.max_parallel {
            Some(n) => format!("--array={span}%{n}"),
            None => format!("--array={span}"),
        }
    }

    /// The path of `script`.
    pub fn path(&self, script: Script) -> PathBuf {
        self.run_dir.join(DIR).join(script.file())
    }

    /// Writes the plan and the three scripts (executable) into `DIR/slurm/`, and its `logs/`.
    pub fn write(&self) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.run_dir.join(DIR);
        let logs = dir.join("logs");
        std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        for script in Script::ALL {
            let path = self.path(script);
            crate::store::write_atomic(&path, self.script(script).as_bytes())?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("making {} executable", path.display()))?;
        }
        self.save()
    }

    /// Rewrites `slurm/plan.json` (atomically).
    pub fn save(&self) -> Result<()> {
        crate::store::write_json(&self.run_dir.join(DIR).join(PLAN), self)
    }

    /// The plan of the run in `dir`, if it was made for Slurm.
    pub fn read(dir: &Path) -> Option<Self> {
        let text = crate::store::fs::read_text_if_present(
            &dir.join(DIR).join(PLAN),
            crate::store::fs::limit::RECORD,
        )?;
        serde_json::from_str(&text).ok()
    }
}

/// Checks that `sbatch` can be run here.
pub fn check_sbatch() -> Result<()> {
    match Command::new("sbatch").arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => bail!(
            "`sbatch --version` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => bail!(
            "cannot run sbatch ({e}): --slurm submits with Slurm's sbatch, which must be on PATH (run on a login node, or try scripts/slurm-local.sh for a one-node cluster); --dry-run writes the scripts without submitting"
        ),
    }
}

/// Submits `script` with `args` before it; returns the job id.
pub fn submit(script: &Path, args: &[String]) -> Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .arg(script)
        .output()
        .with_context(|| format!("running sbatch {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "sbatch {} {} failed: {}",
            args.join(" "),
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch {} printed no job id ({text:?})", script.display());
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            lrsweep: PathBuf::from("/opt/it's/lrsweep"),
            run_dir: PathBuf::from("/shared/run"),
            sbatch: vec!["--partition=gpu".into(), "--gres=gpu:1".into()],
            max_parallel: Some(2),
            submitted: false,
            jobs: Jobs::default(),
            mlflow: None,
        }
    }

    #[test]
    fn scripts_call_work_with_the_task_index_and_carry_the_options() {
        let p = plan();
        let train = p.script(Script::Train);
        assert!(train.starts_with("#!/bin/bash\n#SBATCH --job-name=lrsweep-train\n"));
        assert!(train.contains("#SBATCH --output=/shared/run/slurm/logs/train-%A_%a.out\n"));
        assert!(train.contains("#SBATCH --partition=gpu\n#SBATCH --gres=gpu:1\n"));
        assert!(train.ends_with(
            "exec '/opt/it'\\''s/lrsweep' work '/shared/run' --index \"$SLURM_ARRAY_TASK_ID\"\n"
        ));
        assert!(p
            .script(Script::Refine)
            .contains("work '/shared/run' --refine\n"));
        assert!(p
            .script(Script::Summary)
            .contains("work '/shared/run' --finish\n"));
        assert_eq!(p.array(&(0..5)), "--array=0-4%2");
        let unlimited = Plan {
            max_parallel: None,
            ..p
        };
        assert_eq!(unlimited.array(&(5..7)), "--array=5-6");
        assert_eq!(unlimited.array(&(5..6)), "--array=5");
        // With MLflow: the training tasks and the summary log to it, the refine step does not.
        let tracked = Plan {
            mlflow: Some(PlanTracking {
                uri: "http://mlflow:5000".into(),
                experiment: "it's".into(),
            }),
            ..plan()
        };
        let with = " --mlflow 'http://mlflow:5000' --mlflow-experiment 'it'\\''s'\n";
        assert!(tracked
            .script(Script::Train)
            .ends_with(&format!("--index \"$SLURM_ARRAY_TASK_ID\"{with}")));
        assert!(tracked
            .script(Script::Summary)
            .ends_with(&format!("--finish{with}")));
        assert!(tracked.script(Script::Refine).ends_with("--refine\n"));
    }

    #[test]
    fn options_lrsweep_sets_or_that_break_a_script_are_refused() {
        assert!(check_sbatch_args(&["--time=1:00:00".into(), "-p gpu".into()]).is_ok());
        for bad in ["--array=0-3", "--dependency=afterok:1", "gpu", "--x\n#y"] {
            assert!(check_sbatch_args(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
