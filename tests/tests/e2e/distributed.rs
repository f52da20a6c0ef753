//! Distributed runs: `lrsweep work` by index (what a Slurm array task or a Kubernetes Indexed
//! Job runs), per-rate claims, a killed task continued from its checkpoint, refinement around a
//! missing rate, `lrsweep status` in each state, and real Slurm job arrays on a one-node cluster.
//! One job (the distributed-run scenarios and the helpers they share), hence over 450 lines.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{bin, figures, json, lrsweep, mnist_dir, text};

/// `lrsweep status DIR --json`, parsed.
fn status(dir: &Path) -> Value {
    let o = lrsweep(&["status", dir.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The state of rate `index` in `status`.
fn state(status: &Value, index: usize) -> &Value {
    &status["rates"][index]
}

fn spawn_work(dir: &Path, index: usize) -> Child {
    Command::new(bin())
        .args(["work", dir.to_str().unwrap(), "--index", &index.to_string()])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn work(dir: &Path, step: &[&str]) -> Output {
    let mut args = vec!["work", dir.to_str().unwrap()];
    args.extend(step);
    lrsweep(&args)
}

/// Waits until `check` holds for the run's status (a minute at most).
pub(crate) fn wait_status(dir: &Path, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let s = status(dir);
        if check(&s) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "waited 10 minutes for {what}: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `lrsweep sweep settings… extra… --out out`, which must succeed.
fn sweep(settings: &[&str], extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["sweep"];
    args.extend(settings);
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// Prepares a run for `lrsweep work` (`sweep --slurm --dry-run`) with `settings`.
fn prepare(dir: &Path, settings: &[&str]) {
    let o = sweep(settings, &["--slurm", "--dry-run"], dir);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Nothing submitted"), "{out}");
}

/// The same settings swept here, one rate after another: the reference a distributed run must
/// reproduce.
fn local_serial(dir: &Path, settings: &[&str]) {
    sweep(settings, &["--serial"], dir);
}

fn same_figures(a: &Path, b: &Path, rates: &[&str]) {
    for rate in rates {
        let (x, y) = (
            figures(&a.join(format!("lr-{rate}/metrics.csv"))),
            figures(&b.join(format!("lr-{rate}/metrics.csv"))),
        );
        assert!(!x.is_empty());
        assert_eq!(
            x,
            y,
            "lr {rate}: {} and {} differ",
            a.display(),
            b.display()
        );
    }
}

const KILLED: [&str; 13] = [
    "--limit",
    "6000",
    "--epochs",
    "12",
    "--rates",
    "1e-3,1e-2",
    "--refine",
    "0",
    "--no-find",
    "--backend",
    "flex",
    "--seed",
    "42",
];

#[test]
fn a_rate_is_trained_once_and_a_killed_task_continues_from_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    prepare(&run, &KILLED);
    let train = std::fs::read_to_string(run.join("slurm/train.sh")).unwrap();
    assert!(
        train.contains("work") && train.contains("--index \"$SLURM_ARRAY_TASK_ID\""),
        "{train}"
    );
    assert_eq!(json(&run.join("slurm/plan.json"))["submitted"], false);
    let s = status(&run);
    assert_eq!(s["counts"]["waiting"], 2, "{s:#}");
    assert_eq!(state(&s, 0)["state"], "waiting");

    // Running: host, process, device and epoch n of N.
    let mut first = spawn_work(&run, 0);
    let s = wait_status(&run, "epoch 2 of rate 0", |s| {
        state(s, 0)["state"] == "running" && state(s, 0)["epoch"].as_u64() >= Some(2)
    });
    let running = state(&s, 0);
    assert_eq!(running["epochs"], 12);
    assert_eq!(running["worker"]["pid"], first.id());
    assert!(running["worker"]["host"].is_string() && running["worker"]["device"].is_string());
    // A second task for the same rate leaves it alone (and says who has it).
    let twin = work(&run, &["--index", "0"]);
    assert!(twin.status.success(), "{}", text(&twin));
    assert!(
        String::from_utf8_lossy(&twin.stderr).contains("being trained by another process"),
        "{}",
        text(&twin)
    );

    // Killed: the claim is gone with the process, the status says so.
    first.kill().unwrap();
    first.wait().unwrap();
    let s = status(&run);
    let failed = state(&s, 0);
    assert_eq!(failed["state"], "failed", "{s:#}");
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("ended without finishing"), "{reason}");
    let kept = failed["epoch"].as_u64().unwrap();
    assert!((2..12).contains(&kept), "{s:#}");
    let table = lrsweep(&["status", run.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("| 0 | 0.001 | failed |"), "{table}");

    // Run again: it continues from the checkpoint, and the result is an uninterrupted run's.
    let again = work(&run, &["--index", "0"]);
    assert!(again.status.success(), "{}", text(&again));
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("continuing after epoch"), "{log}");
    assert!(
        !log.contains("epoch 1/12"),
        "epoch 1 was trained again: {log}"
    );
    assert_eq!(state(&status(&run), 0)["state"], "done");
    // Done is never retrained.
    let csv = std::fs::read(run.join("lr-0.001/metrics.csv")).unwrap();
    let third = work(&run, &["--index", "0"]);
    assert!(
        third.status.success()
            && String::from_utf8_lossy(&third.stderr).contains("nothing to train")
    );
    assert_eq!(
        std::fs::read(run.join("lr-0.001/metrics.csv")).unwrap(),
        csv
    );

    let o = work(&run, &["--index", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = work(&run, &["--refine"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("--finish"),
        "{}",
        text(&o)
    );
    let o = work(&run, &["--finish"]);
    assert!(o.status.success(), "{}", text(&o));
    let s = status(&run);
    assert_eq!(s["counts"]["done"], 2, "{s:#}");
    assert!(s["recommended"]["label"].is_string(), "{s:#}");
    let local = tmp.path().join("local");
    local_serial(&local, &KILLED);
    same_figures(&run, &local, &["0.001", "0.01"]);
}

#[test]
fn refinement_goes_on_from_the_rates_that_finished_and_the_summary_marks_the_missing_one() {
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "2",
        "--rates",
        "1e-4,1e-3,1e-2",
        "--refine",
        "2",
        "--no-find",
        "--backend",
        "flex",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    prepare(&run, &settings);
    let early = work(&run, &["--index", "3"]);
    assert_eq!(early.status.code(), Some(2), "{}", text(&early));
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("--refine"),
        "{}",
        text(&early)
    );
    for i in ["0", "1"] {
        let o = work(&run, &["--index", i]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // Rate 2 fails: its metrics file cannot be created (a directory stands in its place).
    std::fs::create_dir_all(run.join("lr-0.01/metrics.csv")).unwrap();
    let o = work(&run, &["--index", "2"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--index 2"),
        "{}",
        text(&o)
    );
    let s = status(&run);
    assert_eq!(state(&s, 2)["state"], "failed", "{s:#}");
    assert!(
        state(&s, 2)["reason"]
            .as_str()
            .unwrap()
            .contains("metrics.csv"),
        "{s:#}"
    );

    let o = work(&run, &["--refine"]);
    assert!(o.status.success(), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("2 of 3 rates finished") && said.contains("missing: 0.01"),
        "{said}"
    );
    assert!(said.contains("from the 2 rates that finished"), "{said}");
    let record = json(&run.join("config.json"));
    let planned: Vec<f64> = record["rates_trained"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    // Between 1e-3 (the better of the two that finished) and 1e-4: the reference's 5e-4, 2.5e-4.
    assert_eq!(planned.len(), 5, "{planned:?}");
    assert!(
        (planned[3] - 5e-4).abs() < 1e-15 && (planned[4] - 2.5e-4).abs() < 1e-15,
        "{planned:?}"
    );
    for i in ["3", "4"] {
        let o = work(&run, &["--index", i]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = work(&run, &["--finish"]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = json(&run.join("summary.json"));
    let unfinished = summary["unfinished"].as_array().unwrap();
    assert_eq!(unfinished.len(), 1, "{summary:#}");
    assert!(
        unfinished[0].as_str().unwrap().starts_with("0.01: missing"),
        "{summary:#}"
    );
    assert_ne!(summary["recommended"]["label"], "0.01");
}

/// Whether this machine can submit Slurm jobs; with LRSWEEP_REQUIRE_SLURM set (CI, where
/// `.ci/run` starts a one-node cluster) it must.
pub(crate) fn slurm_here() -> bool {
    let ok = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !ok && std::env::var_os("LRSWEEP_REQUIRE_SLURM").is_some() {
        panic!("LRSWEEP_REQUIRE_SLURM is set but no Slurm cluster answers (start one: sudo scripts/slurm-local.sh start)");
    }
    if !ok {
        eprintln!("no Slurm cluster here: skipped (scripts/slurm-local.sh starts one)");
    }
    ok
}

/// Checks that a (successful) submission says how to follow the run.
fn submitted(o: Output) {
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("lrsweep status"), "{said}");
}

#[test]
fn a_slurm_sweep_equals_a_local_serial_one_bit_for_bit() {
    if !slurm_here() {
        return;
    }
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "3",
        "--rates",
        "1e-4,1e-3,1e-2",
        "--refine",
        "2",
        "--no-find",
        "--backend",
        "flex",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    submitted(sweep(&settings, &["--slurm", "--max-parallel", "2"], &run));
    let plan = json(&run.join("slurm/plan.json"));
    assert!(
        plan["jobs"]["round1"].is_string() && plan["jobs"]["refine"].is_string(),
        "{plan:#}"
    );
    let s = status(&run);
    assert!(s["slurm"]["round1"].is_string(), "{s:#}");
    assert_eq!(s["rates"].as_array().unwrap().len(), 5);
    let s = wait_status(&run, "the whole run", |s| {
        s["counts"]["done"] == 5 && s["recommended"].is_object()
    });
    assert!(
        s["slurm"]["round2"].is_string() && s["slurm"]["summary"].is_string(),
        "{s:#}"
    );
    assert!(
        state(&s, 0)["worker"]["job"]
            .as_str()
            .unwrap()
            .starts_with("slurm "),
        "{s:#}"
    );
    let local = tmp.path().join("local");
    local_serial(&local, &settings);
    same_figures(
        &run,
        &local,
        &["0.0001", "0.001", "0.01", "0.005", "0.0025"],
    );
    let (a, b) = (
        json(&run.join("summary.json")),
        json(&local.join("summary.json")),
    );
    assert_eq!(a["recommended"]["label"], b["recommended"]["label"]);
}

#[test]
fn a_killed_slurm_task_resubmitted_continues_from_its_checkpoint() {
    if !slurm_here() {
        return;
    }
    // Thirty epochs: time to catch the task running.
    let settings = [
        "--limit",
        "6000",
        "--epochs",
        "30",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "flex",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    submitted(sweep(&settings, &["--slurm"], &run));
    let s = wait_status(&run, "rate 0 at epoch 3 in a Slurm task", |s| {
        state(s, 0)["state"] == "running" && state(s, 0)["epoch"].as_u64() >= Some(3)
    });
    assert!(state(&s, 0)["worker"]["job"]
        .as_str()
        .unwrap()
        .starts_with("slurm "));
    let pid = state(&s, 0)["worker"]["pid"].as_u64().unwrap();
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The refine job runs after round 1 whatever its outcome; the summary marks the missing rate.
    let s = wait_status(&run, "the first submission's summary", |s| {
        s["unfinished"].as_array().is_some_and(|u| !u.is_empty()) && state(s, 1)["state"] == "done"
    });
    assert_eq!(state(&s, 0)["state"], "failed", "{s:#}");
    let kept = state(&s, 0)["epoch"].as_u64().unwrap();
    assert!(
        s["unfinished"][0]
            .as_str()
            .unwrap()
            .starts_with("0.001: missing"),
        "{s:#}"
    );

    // Resubmitted: rate 1 is done and left alone, rate 0 continues from its checkpoint.
    let o = lrsweep(&["sweep", "--resume", run.to_str().unwrap(), "--slurm"]);
    assert!(o.status.success(), "{}", text(&o));
    submitted(o);
    let s = wait_status(&run, "the resubmitted run", |s| {
        s["counts"]["done"] == 2 && s["unfinished"].as_array().is_some_and(|u| u.is_empty())
    });
    assert!(s["recommended"].is_object(), "{s:#}");
    let job = state(&s, 0)["worker"]["job"]
        .as_str()
        .unwrap()
        .replace("slurm ", "");
    let log = std::fs::read_to_string(run.join(format!("slurm/logs/train-{job}.out"))).unwrap();
    assert!(
        log.contains(&format!("continuing after epoch {kept}")),
        "{log}"
    );
    let local = tmp.path().join("local");
    local_serial(&local, &settings);
    same_figures(&run, &local, &["0.001", "0.01"]);
}

#[test]
fn two_submissions_of_one_run_train_each_rate_once() {
    if !slurm_here() {
        return;
    }
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "3",
        "--rates",
        "1e-4,1e-3,1e-2",
        "--refine",
        "1",
        "--no-find",
        "--backend",
        "flex",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    submitted(sweep(&settings, &["--slurm", "--max-parallel", "1"], &run));
    // `%1` reached Slurm: one task of the array at a time.
    let round1 = json(&run.join("slurm/plan.json"))["jobs"]["round1"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = Command::new("scontrol")
        .args(["show", "job", &round1])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("ArrayTaskThrottle=1"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );
    // The same run submitted again while the first submission runs.
    let o = lrsweep(&["sweep", "--resume", run.to_str().unwrap(), "--slurm"]);
    assert!(o.status.success(), "{}", text(&o));
    submitted(o);
    let s = wait_status(&run, "both submissions", |s| {
        s["counts"]["done"] == 4 && s["recommended"].is_object()
    });
    assert!(s["unfinished"].as_array().unwrap().is_empty(), "{s:#}");
    // Every rate's first epoch was trained by exactly one task, whichever submission it was in.
    let logs: Vec<String> = std::fs::read_dir(run.join("slurm/logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // Two submissions: eight tasks (three listed rates and one refined, twice), four trainings;
    // the other four found their rate done or being trained and left it alone.
    let skipped = logs
        .iter()
        .filter(|l| l.contains("nothing to train") || l.contains("leaves it alone"))
        .count();
    let trained = logs.iter().filter(|l| l.contains("epochs\n")).count();
    assert_eq!((trained, skipped), (4, 4), "{logs:#?}");
    let labels: Vec<String> = s["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(&labels[..3], ["0.0001", "0.001", "0.01"]);
    for rate in &labels {
        let first_epochs = logs
            .iter()
            .map(|l| l.matches(&format!("lr {rate} epoch 1/3:")).count())
            .sum::<usize>();
        assert_eq!(first_epochs, 1, "lr {rate} trained {first_epochs} times");
    }
    let local = tmp.path().join("local");
    local_serial(&local, &settings);
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    same_figures(&run, &local, &labels);
}

#[test]
fn distributed_commands_refuse_bad_input_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let nowhere = tmp.path().join("nowhere");
    for args in [
        vec!["status", nowhere.to_str().unwrap()],
        vec!["work", nowhere.to_str().unwrap(), "--index", "0"],
        vec!["work", nowhere.to_str().unwrap()],
        vec![
            "sweep",
            "--sbatch=--time=1:00",
            "--out",
            nowhere.to_str().unwrap(),
        ],
        vec![
            "sweep",
            "--slurm",
            "--max-parallel",
            "0",
            "--out",
            nowhere.to_str().unwrap(),
        ],
        vec![
            "sweep",
            "--slurm",
            "--sbatch=--array=0-3",
            "--out",
            nowhere.to_str().unwrap(),
        ],
        vec![
            "sweep",
            "--slurm",
            "--devices",
            "0",
            "--out",
            nowhere.to_str().unwrap(),
        ],
    ] {
        let o = lrsweep(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(!nowhere.exists(), "{args:?} wrote {}", nowhere.display());
    }
    let o = lrsweep(&["status", nowhere.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("config.json"),
        "{}",
        text(&o)
    );
    // Without sbatch on PATH, --slurm says what it needs and writes nothing.
    let o = Command::new(bin())
        .args([
            "sweep",
            "--slurm",
            "--limit",
            "3000",
            "--out",
            nowhere.to_str().unwrap(),
        ])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .env("PATH", tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        said.contains("sbatch") && said.contains("--dry-run"),
        "{said}"
    );
    assert!(!nowhere.exists());
    // An index beyond the run.
    let run = tmp.path().join("run");
    prepare(
        &run,
        &[
            "--limit", "3000", "--epochs", "1", "--rates", "1e-3", "--refine", "0",
        ],
    );
    let o = work(&run, &["--index", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("indices 0 to 0"),
        "{}",
        text(&o)
    );
}
