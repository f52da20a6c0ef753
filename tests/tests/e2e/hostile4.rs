//! Issue 37, the fourth hostile probe: one regression test per class fixed (the others are
//! unit tests beside the code: a string type too wide in a `.npy`, a FIFO or a padded image in
//! an image folder, `status` escaping what the run's files say, the rate panel's axis).

use std::path::Path;
use std::process::Command;

use crate::common::{bin, json, lrsweep, mnist_dir, small_sweep, text, usage_error};
use crate::own_data::{csv_text, gzip, idx, rows, sweep_args};

/// A refusal (exit 2) saying `says`, with nothing written at `out`.
fn refused_here(args: &[&str], out: &Path, says: &str) {
    usage_error(args, says);
    assert!(!out.exists(), "{args:?}: nothing written");
}

/// Class 1: an IDX directory holding each file and its `gzip -k` copy reads each once.
#[test]
fn an_idx_file_and_its_gzip_copy_are_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    std::fs::create_dir(&dir).unwrap();
    let (x, y) = rows(300, 12, 3);
    let pixels: Vec<u8> = x.iter().flatten().map(|v| *v as u8).collect();
    let images = idx(0x803, &[300, 4, 3], &pixels);
    let labels = idx(
        0x801,
        &[300],
        &y.iter().map(|&c| c as u8).collect::<Vec<_>>(),
    );
    for (name, bytes) in [
        ("train-images-idx3-ubyte", &images),
        ("train-labels-idx1-ubyte", &labels),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), gzip(bytes)).unwrap();
    }
    let out = tmp.path().join("run");
    let o = lrsweep(&sweep_args(
        dir.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    ));
    assert!(o.status.success(), "{}", text(&o));
    let data = &json(&out.join("config.json"))["data"];
    assert_eq!(data["images"], 300, "each item once: {data}");
}

/// Class 2: a resume reads the run's data or refuses; finished and retrained members never
/// mix two data sets.
#[test]
fn a_resume_refuses_data_that_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("t.csv");
    std::fs::write(&csv, csv_text(240, 6, 3, &|c| format!("c{c}"))).unwrap();
    let out = tmp.path().join("run");
    let args = sweep_args(
        csv.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--epochs", "1"],
    );
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    // Every label moved to the next class.
    std::fs::write(&csv, csv_text(240, 6, 3, &|c| format!("c{}", (c + 1) % 3))).unwrap();
    let before = std::fs::read(out.join("config.json")).unwrap();
    let o = lrsweep(&["sweep", "--resume", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("is not the data the run in") && text(&o).contains("t.csv"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(out.join("config.json")).unwrap(), before);
}

/// Class 3: a validation table is matched to the training table by its columns' names; the
/// training file itself is no validation; --val-fraction is not taken beside --val.
#[test]
fn a_validation_table_is_matched_by_name_and_apart_from_the_training_data() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, val) = (tmp.path().join("train.csv"), tmp.path().join("val.csv"));
    std::fs::write(&train, csv_text(240, 4, 3, &|c| format!("c{c}"))).unwrap();
    let text_of = csv_text(60, 4, 3, &|c| format!("c{c}"));
    // The same columns, the header permuted.
    std::fs::write(&val, text_of.replacen("f0,f1,f2,f3", "f3,f2,f1,f0", 1)).unwrap();
    let out = tmp.path().join("run");
    let (t, v, o) = (
        train.to_str().unwrap(),
        val.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    refused_here(
        &sweep_args(t, o, &["--val", v]),
        &out,
        "the same columns in another order",
    );
    std::fs::write(&val, text_of.replacen("f0,f1,f2,f3", "a,b,c,d", 1)).unwrap();
    refused_here(&sweep_args(t, o, &["--val", v]), &out, "other columns");
    refused_here(
        &sweep_args(t, o, &["--val", t]),
        &out,
        "is the training data itself",
    );
    std::fs::write(&val, &text_of).unwrap();
    refused_here(
        &sweep_args(t, o, &["--val", v, "--val-fraction", "0.3"]),
        &out,
        "--val-fraction",
    );
}

/// Class 6: a schedule that decays into subnormal rates (and to 0) trains, and its run is
/// summarised, reported and resumed: the rate panel's axis no longer stalls.
#[test]
fn a_schedule_decaying_into_subnormal_rates_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = out.to_str().unwrap();
    let mut child = Command::new(bin())
        .args([
            "sweep", "--limit", "1000", "--epochs", "4", "--rates", "1e-3",
        ])
        .args(["--refine", "0", "--no-find", "--backend", "cpu"])
        .args(["--schedule", "exp:1e-160", "--out", o])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed().as_secs() > 120 {
            let _ = child.kill();
            panic!("the sweep hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(out.join("report.html").is_file());
    let member = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("metrics.csv").is_file())
        .unwrap();
    let lines = crate::common::metrics(&member.join("metrics.csv"));
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[3][crate::common::LR],
        "0",
        "decayed to 0, written and read back"
    );
    for args in [vec!["report", o], vec!["sweep", "--resume", o]] {
        let got = lrsweep(&args);
        assert!(got.status.success(), "{args:?}: {}", text(&got));
    }
}

/// Class 10: a work task builds its network from the data it reads; a `config.json` whose
/// data record was edited is refused, never trained on or crashed by.
#[test]
fn a_work_task_refuses_a_data_record_that_does_not_describe_the_data() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    small_sweep(
        &out,
        &[
            "--slurm",
            "--dry-run",
            "--epochs",
            "1",
            "--rates",
            "1e-3",
            "--cpu-path",
            "dense",
        ],
    );
    let path = out.join("config.json");
    let saved = std::fs::read_to_string(&path).unwrap();
    let config: serde_json::Value = serde_json::from_str(&saved).unwrap();
    for (field, value) in [
        ("inputs", serde_json::json!(100000)),
        (
            "class_names",
            serde_json::json!((0..70000).map(|c| c.to_string()).collect::<Vec<_>>()),
        ),
    ] {
        let mut edited = config.clone();
        edited["data"][field] = value;
        std::fs::write(&path, serde_json::to_string(&edited).unwrap()).unwrap();
        let o = lrsweep(&["work", out.to_str().unwrap(), "--index", "0"]);
        assert_eq!(o.status.code(), Some(2), "{field}: {}", text(&o));
        assert!(
            text(&o).contains("data record does not describe its data"),
            "{field}: {}",
            text(&o)
        );
    }
    std::fs::write(&path, saved).unwrap();
}

/// Class 13: a member directory's name too long for the filesystem is refused before anything
/// is written.
#[test]
fn a_member_name_too_long_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    refused_here(
        &[
            "sweep",
            "--limit",
            "1000",
            "--epochs",
            "2",
            "--rates",
            "1e-3",
            "--refine",
            "0",
            "--no-find",
            "--schedule",
            "exp:1e-300",
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        "a file name takes at most 255",
    );
}

/// Class 17: crafted runs get one clear refusal, not a report that contradicts itself or one of
/// thousands of empty charts; the messages say what happened and the fix.
#[test]
fn crafted_runs_and_misleading_messages() {
    let tmp = tempfile::tempdir().unwrap();
    // A pruned run whose records disagree with its pruning.
    let pruned = tmp.path().join("pruned");
    small_sweep(
        &pruned,
        &[
            "--epochs",
            "4",
            "--rates",
            "1e-4,1e-3,1e-2",
            "--prune",
            "halving:2:1",
        ],
    );
    let summary = json(&pruned.join("summary.json"));
    let rows = summary["rates"].as_array().unwrap();
    let cut = rows
        .iter()
        .find(|r| r["pruned_at"].is_number())
        .expect("a pruned rate");
    let whole = rows
        .iter()
        .find(|r| r["epochs"] == 4)
        .expect("a rate of 4 epochs");
    let dir = |r: &serde_json::Value| pruned.join(r["dir"].as_str().unwrap());
    std::fs::copy(dir(whole).join("metrics.csv"), dir(cut).join("metrics.csv")).unwrap();
    let o = lrsweep(&["report", pruned.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("disagree with its pruning"),
        "{}",
        text(&o)
    );

    // Thousands of batch sizes no member trained: refused at once.
    let run = tmp.path().join("run");
    small_sweep(&run, &["--epochs", "1", "--rates", "1e-3"]);
    let path = run.join("config.json");
    let saved = std::fs::read_to_string(&path).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&saved).unwrap();
    config["config"]["batch_sizes"] = serde_json::json!((1..=1000).collect::<Vec<u32>>());
    config["config"]["batch_size"] = serde_json::json!(1);
    std::fs::write(&path, config.to_string()).unwrap();
    let start = std::time::Instant::now();
    let o = lrsweep(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("at most 128"), "{}", text(&o));
    assert!(start.elapsed().as_secs() < 10);
    std::fs::write(&path, &saved).unwrap();

    // A damaged summary of a finished run: said, with the fix, not "no recommendation yet".
    let summary_path = run.join("summary.json");
    let good = std::fs::read(&summary_path).unwrap();
    std::fs::write(&summary_path, b"{\"rates\": [").unwrap();
    let o = lrsweep(&["status", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("could not be read") && text(&o).contains("lrsweep report"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("No recommendation yet"), "{}", text(&o));
    std::fs::write(&summary_path, good).unwrap();

    // A FIFO where the lock goes: said as such.
    let lock = run.join("lrsweep.lock");
    let _ = std::fs::remove_file(&lock);
    if Command::new("mkfifo")
        .arg(&lock)
        .status()
        .is_ok_and(|s| s.success())
    {
        let o = lrsweep(&["report", run.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("is not a regular file"), "{}", text(&o));
        std::fs::remove_file(&lock).unwrap();
    }

    // --quick's pruning refused as --quick, never as a --prune the user did not type.
    usage_error(
        &["sweep", "--quick", "--epochs", "3"],
        "--quick prunes with halving:3:3, whose first rung is epoch 3",
    );
}

/// Runs `lrsweep args…`, killed after `seconds`: its output, or a panic saying it hung.
fn within(seconds: u64, args: &[&str]) -> std::process::Output {
    let child = Command::new(bin())
        .args(args)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(seconds));
        let _ = Command::new("kill")
            .args(["-KILL", &id.to_string()])
            .status();
    });
    let o = child.wait_with_output().unwrap();
    drop(watchdog);
    assert!(
        o.status.code().is_some(),
        "{args:?} hung (killed after {seconds} s)"
    );
    o
}

/// Classes 7 and 9 (fixed with the round's house): the `--out` probe never follows a planted
/// link; `slurm/plan.json` and `lrsweep.lock` are read with bounds, never waited on.
#[test]
fn planted_links_fifos_and_huge_run_files_are_not_followed_or_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let shared = tmp.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    // The probe's old name, planted by the very process that runs lrsweep ($$ is its pid).
    let script = format!(
        "ln -s {v} {s}/.lrsweep-probe-$$; exec {bin} sweep --limit 1000 --epochs 1 --rates 1e-3 --refine 0 --no-find --backend cpu --out {s}/newrun",
        v = victim.display(),
        s = shared.display(),
        bin = bin().display()
    );
    let o = Command::new("bash")
        .args(["-c", &script])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");

    let run = shared.join("newrun");
    let r = run.to_str().unwrap();
    std::fs::create_dir(run.join("slurm")).unwrap();
    let plan = run.join("slurm").join("plan.json");
    if Command::new("mkfifo")
        .arg(&plan)
        .status()
        .is_ok_and(|s| s.success())
    {
        let o = within(30, &["status", r]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::remove_file(&plan).unwrap();
    }
    std::os::unix::fs::symlink("/dev/zero", &plan).unwrap();
    let o = within(30, &["status", r]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_file(&plan).unwrap();
    // A lock file of 2 GB (sparse): its holder is read no further than a pid.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(run.join("lrsweep.lock"))
        .unwrap();
    lock.set_len(2 << 30).unwrap();
    drop(lock);
    let o = within(60, &["report", r]);
    assert!(o.status.success(), "{}", text(&o));
}
