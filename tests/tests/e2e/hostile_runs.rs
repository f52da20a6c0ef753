//! Hostile but fair use that needs training runs (small ones): what a run survives and what it
//! refuses to trust. The classes are those of issue "fourteen ways lrsweep still breaks".

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, figures, json, lrsweep, metrics, mnist_dir, text};

/// A small sweep's arguments: one rate unless `extra` says otherwise.
fn small(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "sweep",
        "--limit",
        "1000",
        "--epochs",
        "3",
        "--rates",
        "1e-3",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "flex",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".to_string(), out.display().to_string()]);
    args
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lrsweep(&args)
}

fn ok(args: &[String]) -> std::process::Output {
    let o = run(args);
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// Class 1: "train until early stopping" with an enormous epoch count.
#[test]
fn an_enormous_epoch_count_with_patience_trains_until_it_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = small(&out, &["--patience", "2"]);
    args[4] = "4294967296".into();
    args[6] = "1e-2".into();
    ok(&args);
    let rows = metrics(&out.join("lr-0.01/metrics.csv")).len();
    assert!((3..200).contains(&rows), "{rows} epochs");
    assert!(!out.join("lrsweep.lock").exists());
}

/// Class 2: a closed or full stderr costs the progress lines, not the run.
#[test]
fn a_closed_or_full_stderr_does_not_stop_training() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, stderr) in [
        (
            "full",
            Stdio::from(std::fs::File::create("/dev/full").unwrap()),
        ),
        ("closed", Stdio::piped()),
    ] {
        let out = tmp.path().join(name);
        let mut child = Command::new(bin())
            .args(&small(&out, &[])[..])
            .env("LRSWEEP_DATA_DIR", mnist_dir())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        drop(child.stderr.take()); // the reading end closes: every write to stderr fails
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "stderr {name}");
        assert_eq!(
            metrics(&out.join("lr-0.001/metrics.csv")).len(),
            3,
            "{name}"
        );
        assert!(out.join("summary.json").is_file(), "{name}");
    }
}

/// Class 3: a checkpoint from another run is discarded with a message; the rate is trained
/// from the start and ends as an uninterrupted run does.
#[test]
fn a_checkpoint_of_another_run_is_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let (other, victim, clean) = (
        tmp.path().join("other"),
        tmp.path().join("victim"),
        tmp.path().join("clean"),
    );
    ok(&small(&other, &["--hidden", "32"]));
    ok(&small(&victim, &[]));
    ok(&small(&clean, &[]));
    // Make the victim look interrupted after epoch 1, holding the other run's checkpoint.
    let csv = victim.join("lr-0.001/metrics.csv");
    let text_csv = std::fs::read_to_string(&csv).unwrap();
    let first_two: Vec<&str> = text_csv.lines().take(2).collect();
    std::fs::write(&csv, first_two.join("\n") + "\n").unwrap();
    std::fs::copy(
        other.join("lr-0.001/checkpoint.bin"),
        victim.join("lr-0.001/checkpoint.bin"),
    )
    .unwrap();
    let o = lrsweep(&["sweep", "--resume", victim.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("belongs to another run"), "{stderr}");
    let csv = |d: &Path| figures(&d.join("lr-0.001/metrics.csv"));
    assert_eq!(csv(&victim), csv(&clean));
    let meta = json(&victim.join("lr-0.001/model.json"));
    assert_eq!(meta["model"]["hidden"], 784);
}

/// Classes 4 and 5: a damaged model file fails eval clearly; a finished run whose model file
/// is gone is rebuilt by `--resume`, not kept as it is.
#[test]
fn damaged_or_missing_model_files_are_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &[]));
    let best = out.join("lr-0.001/best.bpk");
    let eval = |model: &Path| {
        Command::new(bin())
            .args(["eval", "--backend", "flex", "--model"])
            .arg(model)
            .env("LRSWEEP_DATA_DIR", mnist_dir())
            .output()
            .unwrap()
    };
    let o = eval(&best);
    assert!(o.status.success(), "{}", text(&o));
    let mut bytes = std::fs::read(&best).unwrap();
    let n = bytes.len();
    for b in &mut bytes[n - 200..n - 196] {
        *b ^= 0x5a;
    }
    std::fs::write(&best, &bytes).unwrap();
    let o = eval(&best);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("damaged"),
        "{}",
        text(&o)
    );

    std::fs::remove_file(out.join("lr-0.001/model.bpk")).unwrap();
    let o = lrsweep(&["sweep", "--resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("model.bpk") && stderr.contains("training it again"),
        "{stderr}"
    );
    for file in ["model.bpk", "best.bpk"] {
        let o = eval(&out.join("lr-0.001").join(file));
        assert!(o.status.success(), "{file}: {}", text(&o));
    }
}

fn spawn_long(out: &Path) -> std::process::Child {
    let mut args = small(out, &[]);
    args[2] = "3000".into();
    args[4] = "200".into();
    Command::new(bin())
        .args(&args[..])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for(path: &Path, rows: usize) {
    let start = Instant::now();
    while std::fs::read_to_string(path).map_or(0, |t| t.lines().count()) < rows + 1 {
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Class 7: a run being written is not reported; an interrupted one is reported as unfinished.
#[test]
fn report_respects_a_running_sweep_and_marks_an_unfinished_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_long(&out);
    wait_for(&out.join("lr-0.001/metrics.csv"), 1);
    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("in progress") && stderr.contains("lrsweep.lock"),
        "{stderr}"
    );
    // Only the sweep's own live page may stand there (issue 35), never a report's.
    let page = std::fs::read_to_string(out.join("report.html")).unwrap_or_default();
    assert!(
        page.is_empty() || page.contains("id=\"banner\">running:"),
        "{page}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("This run is incomplete") && md.contains("of 200 epochs"),
        "{md}"
    );
    assert!(md.contains("unfinished"), "{md}");
    let summary = json(&out.join("summary.json"));
    assert!(
        summary["recommended"].is_null(),
        "nothing finished, nothing recommended"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("This run is incomplete"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--resume"));
}

/// Class 9: a lock file naming a live process that holds no lock (a reused PID) is taken over.
#[test]
fn a_stale_lock_naming_a_live_process_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &[]));
    // PID 1 is alive; the old lock trusted it and refused forever.
    std::fs::write(out.join("lrsweep.lock"), "1").unwrap();
    let o = lrsweep(&["sweep", "--resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("taking over the lock") && stderr.contains("lrsweep.lock"),
        "{stderr}"
    );
    assert!(!out.join("lrsweep.lock").exists());
}

/// Class 13: report validates every file before writing any.
#[test]
fn report_writes_nothing_when_a_file_is_bad() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &["--rates", "1e-3,1e-2"]));
    std::fs::remove_file(out.join("lr-0.001.png")).unwrap();
    // The sweep wrote its report; a refused `report` must leave it as it was.
    let page = std::fs::read(out.join("report.html")).unwrap();
    let csv = out.join("lr-0.01/metrics.csv");
    let good = std::fs::read_to_string(&csv).unwrap();
    type Damage = Box<dyn Fn(&mut Vec<String>)>;
    let broken: [(&str, Damage); 3] = [
        ("epoch 2 where epoch 3", Box::new(|l| l[3] = l[2].clone())),
        (
            "not an accuracy",
            Box::new(|l| {
                let mut f: Vec<String> = l[1].split(',').map(String::from).collect();
                f[2] = "7.5".into();
                l[1] = f.join(",");
            }),
        ),
        ("missing", Box::new(|_| ())),
    ];
    for (says, damage) in broken {
        let mut lines: Vec<String> = good.lines().map(String::from).collect();
        damage(&mut lines);
        if says == "missing" {
            std::fs::remove_file(&csv).unwrap();
        } else {
            std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
        }
        let o = lrsweep(&["report", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{says}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{}",
            text(&o)
        );
        assert!(
            !out.join("lr-0.001.png").exists(),
            "{says}: a chart was rewritten"
        );
        assert_eq!(
            std::fs::read(out.join("report.html")).unwrap(),
            page,
            "{says}: report.html was rewritten"
        );
    }
}

/// Class 8: on a real terminal with TERM=dumb, progress falls back to plain lines.
#[test]
fn a_dumb_terminal_gets_plain_progress_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let args = small(&out, &[]);
    let command = format!(
        "TERM=dumb LRSWEEP_DATA_DIR='{}' '{}' {} 2>&1",
        mnist_dir().display(),
        bin().display(),
        args.join(" ")
    );
    // `script` (util-linux) runs the command on a pseudo-terminal.
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script(1) from util-linux");
    let seen = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{seen}");
    assert!(seen.contains("lr 0.001 epoch 3/3"), "{seen}");
}

/// Class 10: two runs started in the same second without `--out` get their own directories.
#[test]
fn default_directories_never_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let spawn = || {
        Command::new(bin())
            .args([
                "find",
                "--limit",
                "1000",
                "--steps",
                "5",
                "--backend",
                "flex",
            ])
            .current_dir(tmp.path())
            .env("LRSWEEP_DATA_DIR", mnist_dir())
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        text(&a),
        text(&b)
    );
    let dirs: Vec<PathBuf> = std::fs::read_dir(tmp.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for d in dirs {
        assert!(d.join("find.json").is_file(), "{}", d.display());
    }
}

/// Issue 23, class 15: a newline in a Slurm run's path would end a script line and run what
/// follows; it is refused before anything is written.
#[test]
fn a_newline_in_a_slurm_run_directory_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run\ntouch PWNED\n");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "600",
        "--epochs",
        "1",
        "--no-find",
        "--refine",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--slurm",
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("control character"), "{}", text(&o));
    assert!(
        std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

/// Issue 23, classes 1–6 and 14: a run's files are written and read the one safe way — never
/// through a planted symbolic link, never from a FIFO or device, and a dead run's temporaries are
/// cleared.
#[test]
fn planted_links_fifos_and_dead_temporaries_do_not_reach_outside_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &["--rates", "1e-3,1e-2"]));
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    // Class 1: a symlinked metrics.csv is replaced on --resume, not written through.
    let metrics = out.join("lr-0.001/metrics.csv");
    let kept = std::fs::read_to_string(&metrics).unwrap();
    std::fs::remove_file(out.join("lr-0.001/done.json")).unwrap();
    std::fs::remove_file(&metrics).unwrap();
    std::os::unix::fs::symlink(&victim, &metrics).unwrap();
    // Class 2: a symlinked lrsweep.lock is refused, not truncated.
    let lock = out.join("lrsweep.lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    std::fs::remove_file(&lock).unwrap();
    // Class 14: a dead process's temporary is removed by the next holder of the run's lock.
    let stale = out.join(".checkpoint.bin.partial-4000000000");
    std::fs::write(&stale, "half").unwrap();
    let o = lrsweep(&["sweep", "--resume", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious",
        "written through the link"
    );
    assert!(!std::fs::symlink_metadata(&metrics).unwrap().is_symlink());
    assert_eq!(
        std::fs::read_to_string(&metrics).unwrap(),
        kept,
        "the same figures again"
    );
    assert!(!stale.exists(), "the dead run's temporary is gone");
    // Class 17: the resume that finds the rate finished (its done.json lost to a kill after the
    // last checkpoint) writes it again, and status calls the rate done.
    assert!(out.join("lr-0.001/done.json").is_file());
    let o = lrsweep(&["status", out.to_str().unwrap()]);
    assert!(
        text(&o).contains("2 done, 0 running, 0 failed"),
        "{}",
        text(&o)
    );
    // Class 4: a rate directory replaced by a link is refused; nothing lands outside.
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let rate_dir = out.join("lr-0.01");
    std::fs::remove_dir_all(&rate_dir).unwrap();
    std::os::unix::fs::symlink(&outside, &rate_dir).unwrap();
    let o = lrsweep(&["sweep", "--resume", out.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("not a directory of the run"),
        "{}",
        text(&o)
    );
    assert!(
        std::fs::read_dir(&outside).unwrap().next().is_none(),
        "nothing written outside"
    );
    // Classes 5 and 6: a FIFO or a device where config.json goes is refused at once.
    let fifo_run = tmp.path().join("fifo-run");
    std::fs::create_dir(&fifo_run).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(fifo_run.join("config.json"))
        .status()
        .unwrap();
    assert!(made.success());
    let o = lrsweep(&["status", fifo_run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not a regular file"), "{}", text(&o));
    let zero_run = tmp.path().join("zero-run");
    std::fs::create_dir(&zero_run).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero_run.join("config.json")).unwrap();
    let o = lrsweep(&["status", zero_run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("symbolic link"), "{}", text(&o));
}

/// Issue 23, classes 8 and 9: a crafted `config.json` or model sidecar is checked before
/// anything is allocated from it: a clear refusal, never a panic or an abort.
#[test]
fn crafted_records_are_refused_before_anything_is_allocated() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &[]));
    let path = out.join("config.json");
    let good = std::fs::read_to_string(&path).unwrap();
    let with_hidden = |h: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
        v["config"]["hidden"] = serde_json::from_str(h).unwrap();
        std::fs::write(&path, v.to_string()).unwrap();
    };
    for (hidden, says) in [
        ("0", "width 0"),
        ("[512,0]", "hidden layer 2 has width 0"),
        (
            "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
            "17 hidden layers: at most 16",
        ),
        ("4611686018427387904", "too large to count"),
        ("[784,4611686018427387904]", "too large to count"),
    ] {
        with_hidden(hidden);
        for args in [vec!["sweep", "--resume"], vec!["status"]] {
            let mut args = args.clone();
            args.push(out.to_str().unwrap());
            let o = lrsweep(&args);
            assert_eq!(o.status.code(), Some(2), "{hidden} {args:?}: {}", text(&o));
            assert!(
                text(&o).contains(says) && text(&o).contains("edited or damaged"),
                "{}",
                text(&o)
            );
        }
    }
    // Large but countable: `work` runs the memory check a sweep runs.
    with_hidden("1000000000");
    std::fs::remove_file(out.join("lr-0.001/done.json")).unwrap();
    let o = lrsweep(&["work", out.to_str().unwrap(), "--index", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("more than the") && text(&o).contains("available"),
        "{}",
        text(&o)
    );
    std::fs::write(&path, &good).unwrap();
    // A sidecar that claims another network than its weights hold.
    let sidecar = out.join("lr-0.001/best.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sidecar).unwrap()).unwrap();
    for hidden in ["1000000000", "[784,1000000000]", "[784,10]", "4294967296"] {
        meta["model"]["hidden"] = serde_json::from_str(hidden).unwrap();
        if hidden == "4294967296" {
            meta["model"]["inputs"] = serde_json::from_str(hidden).unwrap();
        }
        std::fs::write(&sidecar, meta.to_string()).unwrap();
        let model = out.join("lr-0.001/best.bpk");
        let o = lrsweep(&[
            "eval",
            "--model",
            model.to_str().unwrap(),
            "--backend",
            "cpu",
        ]);
        assert_eq!(o.status.code(), Some(2), "{hidden}: {}", text(&o));
        // Sized unlike the weights: refused before a network is built; sized alike (one layer
        // more of a few units), refused by the layers' shapes.
        assert!(
            text(&o).contains("does not match the")
                || (hidden == "[784,10]" && text(&o).contains("does not fit its description")),
            "{}",
            text(&o)
        );
        assert!(!text(&o).contains("panicked"), "{}", text(&o));
    }
    // A dropout no network trains with.
    meta["model"]["hidden"] = serde_json::from_str("784").unwrap();
    meta["model"]["inputs"] = serde_json::from_str("784").unwrap();
    meta["model"]["dropout"] = serde_json::from_str("1.5").unwrap();
    std::fs::write(&sidecar, meta.to_string()).unwrap();
    let model = out.join("lr-0.001/best.bpk");
    let o = lrsweep(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("edited or damaged"), "{}", text(&o));
}

/// Issue 23, class 10: the memory check counts what the address-space limit (`ulimit -v`,
/// RLIMIT_AS) leaves, so a network too large for it is refused with exit 2 and nothing written,
/// not aborted by a failed allocation (exit 134); one that fits trains to the end under it.
#[test]
fn the_memory_check_honours_the_address_space_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let under_limit = |kib: u32, hidden: &str, out: &Path| {
        let out = out.to_str().unwrap();
        under_ulimit(
            &format!("-v {kib}"),
            &[
                "sweep",
                "--limit",
                "1000",
                "--epochs",
                "1",
                "--no-find",
                "--backend",
                "cpu",
                "--rates",
                "1e-3,1e-2",
                "--refine",
                "0",
                "--hidden",
                hidden,
                "--out",
                out,
            ],
        )
    };
    let out = tmp.path().join("too-big");
    let o = under_limit(600_000, "20000", &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("left under the address-space limit (ulimit -v"),
        "{}",
        text(&o)
    );
    assert!(!out.exists(), "nothing written");
    let out = tmp.path().join("fits");
    let o = under_limit(3_000_000, "4000", &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("lr-0.01/done.json").exists());
}

/// Runs lrsweep with `args`, killing it if it has not ended within `limit`: the test fails with
/// what it printed instead of hanging.
fn output_within(args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(bin())
        .args(args)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            child.kill().unwrap();
            let o = child.wait_with_output().unwrap();
            panic!("{args:?} still running after {limit:?}: {}", text(&o));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Issue 23, class 11: extreme values a metrics file may hold (the largest double as a loss,
/// the smallest subnormal) are drawn at the chart's edge; `report` ends, it does not loop in
/// the axis code.
#[test]
fn extreme_metrics_values_do_not_stall_the_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &["--rates", "1e-3,1e-2"]));
    for (rate, value) in [("0.001", "1.7976931348623157e308"), ("0.01", "5e-324")] {
        let path = out.join(format!("lr-{rate}/metrics.csv"));
        let csv = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = csv.lines().map(String::from).collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let (t, v) = (
            header.iter().position(|c| *c == "train_loss").unwrap(),
            header.iter().position(|c| *c == "val_loss").unwrap(),
        );
        for line in lines.iter_mut().skip(1) {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            cells[t] = value.to_string();
            cells[v] = value.to_string();
            *line = cells.join(",");
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    let before = std::fs::metadata(out.join("overview.png"))
        .unwrap()
        .modified()
        .unwrap();
    let o = output_within(&["report", out.to_str().unwrap()], Duration::from_secs(60));
    assert!(o.status.success(), "{}", text(&o));
    let after = std::fs::metadata(out.join("overview.png"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(after > before, "the overview was drawn again");
    assert!(std::fs::metadata(out.join("lr-0.001.png")).unwrap().len() > 1000);
}

/// Runs lrsweep `args` under `ulimit LIMIT` (e.g. `-f 8`: RLIMIT_FSIZE in 512-byte blocks,
/// every write past it failing as on a full disk; `-v 600000`: RLIMIT_AS in KiB).
fn under_ulimit(limit: &str, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .args(["-c", &format!("ulimit {limit} && exec \"$0\" \"$@\"")])
        .arg(bin())
        .args(args)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .output()
        .unwrap()
}

/// [`under_ulimit`] with a file-size limit of `blocks`.
fn under_file_limit(blocks: u32, args: &[&str]) -> std::process::Output {
    under_ulimit(&format!("-f {blocks}"), args)
}

/// Issue 23, classes 16 and 18: a write failure during `report` says what failed (not "the run
/// is in progress"); a start that fails on a full disk leaves nothing that blocks the retry;
/// a path config.json cannot record is refused before anything is read or written.
#[test]
fn failed_writes_say_what_failed_and_failed_starts_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    ok(&small(&out, &[]));
    let summary = std::fs::read(out.join("summary.json")).unwrap();
    // Charts cannot be written (8 blocks: the lock's process id fits, a chart does not).
    let o = under_file_limit(8, &["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("writing the report of") && text(&o).contains("File too large"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("in progress"), "{}", text(&o));
    // Not even the lock: said so, and no lock left behind.
    let o = under_file_limit(0, &["report", out.to_str().unwrap()]);
    assert!(
        text(&o).contains("could not take the lock") && !text(&o).contains("in progress"),
        "{}",
        text(&o)
    );
    assert!(!out.join("lrsweep.lock").exists());
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), summary);
    // A fresh run on a "full disk": it fails, leaving no directory; the retry then runs.
    let fresh = tmp.path().join("fresh");
    let args = small(&fresh, &[]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = under_file_limit(0, &argv);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("could not start"), "{}", text(&o));
    assert!(!fresh.exists(), "a failed start leaves nothing");
    ok(&args);
    // A run that failed after it started keeps config.json, so --resume continues it: a
    // range test that cannot write its chart (64 blocks: config.json fits).
    let late = tmp.path().join("late");
    let mut args = small(&late, &[]);
    args.retain(|a| a != "--no-find");
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = under_file_limit(64, &argv);
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(late.join("config.json").is_file(), "{}", text(&o));
    ok(&[
        "sweep".to_string(),
        "--resume".to_string(),
        late.display().to_string(),
    ]);
    assert!(late.join("lr-0.001/done.json").is_file());
    // A --data-dir that is not UTF-8: refused before the data is read, the path named.
    use std::os::unix::ffi::OsStrExt;
    let odd = tmp.path().join(std::ffi::OsStr::from_bytes(b"data-\xff"));
    std::os::unix::fs::symlink(mnist_dir(), &odd).unwrap();
    let never = tmp.path().join("never");
    let o = Command::new(bin())
        .args([
            "sweep",
            "--limit",
            "1000",
            "--epochs",
            "1",
            "--no-find",
            "--data-dir",
        ])
        .arg(&odd)
        .arg("--out")
        .arg(&never)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--data-dir") && text(&o).contains("not valid UTF-8"),
        "{}",
        text(&o)
    );
    assert!(!never.exists());
}
