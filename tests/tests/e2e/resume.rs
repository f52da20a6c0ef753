//! Interrupted sweeps: checkpoints, `--resume`, the lock file, damaged checkpoints.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, figures, lrsweep, metrics, mnist_dir, text};

const SETTINGS: [&str; 10] = [
    "--limit",
    "6000",
    "--epochs",
    "12",
    "--rates",
    "1e-3,1e-2",
    "--refine",
    "0",
    "--backend",
    "flex",
];

fn spawn_sweep(out: &Path) -> Child {
    spawn_sweep_with(out, &[])
}

fn spawn_sweep_with(out: &Path, extra: &[&str]) -> Child {
    Command::new(bin())
        .arg("sweep")
        .args(SETTINGS)
        .args(extra)
        .arg("--out")
        .arg(out)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `csv` holds at least `rows` epochs.
fn wait_rows(csv: &Path, rows: usize, child: &mut Child) {
    let start = Instant::now();
    loop {
        let n = std::fs::read_to_string(csv).map_or(0, |t| t.lines().count().saturating_sub(1));
        if n >= rows {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before epoch {rows}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no progress in {}",
            csv.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn uninterrupted(out: &Path) {
    let mut args = vec!["sweep"];
    args.extend(SETTINGS);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
}

/// Runs the same sweep uninterrupted into `whole` and checks every rate of `resumed` has its
/// twelve epochs with the same figures.
fn matches_uninterrupted(resumed: &Path, whole: &Path) {
    uninterrupted(whole);
    for rate in ["0.001", "0.01"] {
        let (a, b) = (
            figures(&resumed.join(format!("lr-{rate}/metrics.csv"))),
            figures(&whole.join(format!("lr-{rate}/metrics.csv"))),
        );
        assert_eq!(a.len(), 12);
        assert_eq!(a, b, "lr {rate}: resumed and uninterrupted runs differ");
    }
}

fn resume(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "--resume", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    lrsweep(&args)
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_sweep_killed_mid_rate_resumes_to_the_same_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let (killed, whole) = (tmp.path().join("killed"), tmp.path().join("whole"));
    let mut child = spawn_sweep(&killed);
    let csv = killed.join("lr-0.001/metrics.csv");
    wait_rows(&csv, 3, &mut child);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let rows_at_kill = metrics(&csv).len();
    assert!(
        rows_at_kill < 12,
        "killed partway through the first rate ({rows_at_kill} epochs)"
    );
    assert!(
        killed.join("lrsweep.lock").exists(),
        "a killed process leaves its lock behind"
    );

    let o = resume(&killed, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("taking over the lock"), "{stderr}");
    assert!(stderr.contains("continuing after epoch"), "{stderr}");
    assert!(!killed.join("lrsweep.lock").exists());

    matches_uninterrupted(&killed, &whole);
    let summary = |d: &Path| std::fs::read_to_string(d.join("summary.json")).unwrap();
    assert_eq!(summary(&killed), summary(&whole));
}

#[test]
fn sigint_saves_and_says_how_to_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_sweep(&out);
    wait_rows(&out.join("lr-0.001/metrics.csv"), 2, &mut child);
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let rows = metrics(&out.join("lr-0.001/metrics.csv")).len();
    assert!((2..12).contains(&rows), "{rows}");
    assert!(out.join("lr-0.001/checkpoint.bin").is_file());
    assert!(!out.join("lrsweep.lock").exists());
}

#[test]
fn a_conflicting_resume_is_refused_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_sweep(&out);
    wait_rows(&out.join("lr-0.001/metrics.csv"), 2, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    let before = snapshot(&out);
    for (flag, value) in [("--epochs", "5"), ("--seed", "7")] {
        let o = resume(&out, &[flag, value]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains("other settings"),
            "{stderr}"
        );
    }
    assert!(
        snapshot(&out) == before,
        "a refused resume changed the run directory"
    );
}

#[test]
fn a_second_sweep_on_a_running_directory_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_sweep(&out);
    wait_rows(&out.join("lr-0.001/metrics.csv"), 1, &mut child);
    let o = resume(&out, &[]);
    let _ = child.kill();
    child.wait().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is being written by another lrsweep"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_truncated_checkpoint_restarts_the_rate_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let (damaged, whole) = (tmp.path().join("damaged"), tmp.path().join("whole"));
    let mut child = spawn_sweep(&damaged);
    wait_rows(&damaged.join("lr-0.001/metrics.csv"), 3, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    // What a crash mid-write would leave if the rename were not atomic.
    let ckpt = damaged.join("lr-0.001/checkpoint.bin");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 2]).unwrap();

    let o = resume(&damaged, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("damaged or truncated") && stderr.contains("from the start"),
        "{stderr}"
    );
    uninterrupted(&whole);
    assert_eq!(
        figures(&damaged.join("lr-0.001/metrics.csv")),
        figures(&whole.join("lr-0.001/metrics.csv"))
    );
}

#[test]
fn a_failing_write_stops_the_run_with_a_clear_message_and_keeps_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = spawn_sweep(&out);
    let csv = out.join("lr-0.001/metrics.csv");
    wait_rows(&csv, 2, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    let checkpoint = std::fs::read(out.join("lr-0.001/checkpoint.bin")).unwrap();
    let config = std::fs::read(out.join("config.json")).unwrap();
    // A file-size limit of 1 MiB (RLIMIT_FSIZE, `ulimit -f` in 512-byte blocks): the first
    // model file or checkpoint written fails as on a full disk. (A link to /dev/full no longer
    // serves: lrsweep replaces a planted link instead of writing through it.)
    let o = Command::new("sh")
        .args(["-c", "ulimit -f 2048 && exec \"$0\" sweep --resume \"$1\""])
        .arg(bin())
        .arg(&out)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("File too large"), "{stderr}");
    // The cause said once, and how to go on.
    assert_eq!(stderr.matches("File too large").count(), 1, "{stderr}");
    assert!(stderr.contains("lrsweep sweep --resume"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read(out.join("lr-0.001/checkpoint.bin")).unwrap(),
        checkpoint,
        "the checkpoint stays valid"
    );
    assert_eq!(std::fs::read(out.join("config.json")).unwrap(), config);
    assert!(!out.join("lrsweep.lock").exists());
}

/// A run trained one rate after another, interrupted in its first rate, resumed with the rates
/// together: the resumed rate and the fresh one share a stack at different epochs, and every
/// figure equals an uninterrupted run's.
#[test]
fn a_serial_run_resumed_as_a_stack_matches_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (killed, whole) = (tmp.path().join("killed"), tmp.path().join("whole"));
    let mut child = spawn_sweep_with(&killed, &["--serial"]);
    wait_rows(&killed.join("lr-0.001/metrics.csv"), 3, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("lr-0.01/metrics.csv").exists(),
        "killed in the first rate"
    );
    let o = resume(&killed, &["--together"]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("learning rates 0.001, 0.01 together"),
        "{stderr}"
    );
    matches_uninterrupted(&killed, &whole);
}

/// Issue 23: at least 20 SIGKILLs at random moments (start-up, training, checkpoints, the
/// refinement's planning, the summary), each followed by the same command again (`--resume`
/// once config.json exists, the fresh start otherwise), until the run finishes: every rate's
/// metrics, all columns but the seconds, equal an uninterrupted run's, every rate is marked
/// done, and no temporary is left anywhere in the run. The kill moments come from a seed
/// printed on failure (set `LRSWEEP_KILL_SEED` to replay one).
#[test]
fn twenty_random_kills_each_resumed_give_the_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "10",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "1",
        "--no-find",
        "--backend",
        "cpu",
    ];
    let whole = tmp.path().join("whole");
    let start = Instant::now();
    let mut args = vec!["sweep"];
    args.extend(settings);
    args.extend(["--out", whole.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    let span = start.elapsed().as_millis() as u64;
    let rates: Vec<String> = std::fs::read_dir(&whole)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lr-") && !n.ends_with(".png") && !n.ends_with(".svg"))
        .collect();
    assert_eq!(rates.len(), 3, "{rates:?}");
    let seed: u64 = std::env::var("LRSWEEP_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64*: a moment in the first 60% of an uninterrupted run's time, so that most
        // starts are killed and the run still advances between kills.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D) % (span * 3 / 5).max(1)
    };
    let (mut kills, mut runs) = (0, 0);
    while kills < 20 {
        runs += 1;
        let out = tmp.path().join(format!("killed-{runs}"));
        loop {
            let mut cmd = Command::new(bin());
            if out.join("config.json").is_file() {
                cmd.args(["sweep", "--resume"]).arg(&out);
            } else {
                cmd.arg("sweep").args(settings).arg("--out").arg(&out);
            }
            let mut child = cmd
                .env("LRSWEEP_DATA_DIR", mnist_dir())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let at = Duration::from_millis(next());
            let began = Instant::now();
            while began.elapsed() < at && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(2));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
                continue;
            }
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "seed {seed}: {}", text(&o));
            break;
        }
        for rate in &rates {
            let (a, b) = (
                figures(&out.join(format!("{rate}/metrics.csv"))),
                figures(&whole.join(format!("{rate}/metrics.csv"))),
            );
            assert_eq!(
                a, b,
                "seed {seed}, run {runs}: {rate} differs from the uninterrupted run"
            );
            assert!(
                out.join(format!("{rate}/done.json")).is_file(),
                "seed {seed}: {rate}"
            );
        }
        let mut stack = vec![out.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                assert!(
                    !name.starts_with(".lrsweep-tmp-") && !name.contains(".partial-"),
                    "seed {seed}: a temporary is left: {}",
                    e.path().display()
                );
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                }
            }
        }
    }
    eprintln!("{kills} kills over {runs} runs (seed {seed})");
}
