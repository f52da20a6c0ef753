//! Helpers for the end-to-end tests: find the built `lrsweep` binary and the real MNIST copy.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `lrsweep` binary of this build (`target/<profile>/lrsweep`, beside the test's own `deps/`).
pub fn bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = dir.join(format!("lrsweep{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run the tests with `cargo test --release --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// The real MNIST copy: `LRSWEEP_DATA_DIR`, `../shared/data/mnist` beside the project, or the
/// cache `lrsweep fetch` fills; with none of them, `lrsweep fetch` is run once to fill the cache
/// (downloads verified by their checksums), so the tests pass on a fresh machine with a network.
pub fn mnist_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let cache = dirs_cache().map(|c| c.join("lrsweep/mnist"));
        let candidates = [
            std::env::var_os("LRSWEEP_DATA_DIR").map(PathBuf::from),
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist")),
            cache.clone(),
        ];
        let holds = |dir: &Path| {
            dir.join("train-images-idx3-ubyte.gz").is_file()
                || dir.join("train-images-idx3-ubyte").is_file()
        };
        if let Some(dir) = candidates.into_iter().flatten().find(|d| holds(d)) {
            return dir;
        }
        let fetched = Command::new(bin())
            .arg("fetch")
            .env_remove("LRSWEEP_DATA_DIR")
            .output()
            .expect("lrsweep fetch runs");
        match cache {
            Some(dir) if fetched.status.success() && holds(&dir) => dir,
            _ => panic!(
                "no MNIST copy found (LRSWEEP_DATA_DIR, ../shared/data/mnist, the cache) and `lrsweep fetch` could not fill the cache:\n{}\nOffline, set LRSWEEP_DATA_DIR to a directory holding the four MNIST files.",
                String::from_utf8_lossy(&fetched.stderr)
            ),
        }
    })
    .clone()
}

fn dirs_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
}

/// Runs `lrsweep args…` with the real data, stderr not a terminal (and no MLflow server of
/// the environment's).
pub fn lrsweep(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .env_remove("MLFLOW_TRACKING_URI")
        .output()
        .expect("lrsweep runs")
}

/// Runs `lrsweep args…`, which must be refused as a usage error (exit 2) saying `says`.
pub fn usage_error(args: &[&str], says: &str) {
    let o = lrsweep(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    assert!(
        text(&o).contains(says),
        "{args:?}: expected '{says}' in {}",
        text(&o)
    );
}

/// Stdout and stderr as text, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The rows of a metrics.csv, header checked (a classification's or a regression's).
pub fn metrics(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next();
    assert!(
        header == Some("epoch,train_loss,train_acc,val_loss,val_acc,seconds,lr,val_loss_se")
            || header
                == Some("epoch,train_loss,train_r2,val_loss,val_r2,seconds,lr,val_loss_se,val_rmse,val_mae"),
        "{}: header {header:?}",
        path.display()
    );
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A metrics.csv's rows without the seconds column: the figures a run must reproduce (the
/// rate of each epoch's last step among them).
pub fn figures(csv: &Path) -> Vec<Vec<String>> {
    metrics(csv)
        .into_iter()
        .map(|mut r| {
            r.remove(SECONDS);
            r
        })
        .collect()
}

/// The column of a metrics.csv holding the epoch's seconds.
pub const SECONDS: usize = 5;

/// The column of a metrics.csv holding the rate of the epoch's last step.
pub const LR: usize = 6;

/// Whether `lrsweep devices` lists a wgpu adapter (lavapipe in CI); without one, a wgpu test
/// skips, unless `LRSWEEP_REQUIRE_WGPU` says it must run.
pub fn wgpu_listed() -> bool {
    let listed = lrsweep(&["devices", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let has = listed
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["backend"] == "wgpu");
    if !has {
        assert!(
            std::env::var_os("LRSWEEP_REQUIRE_WGPU").is_none(),
            "LRSWEEP_REQUIRE_WGPU is set: lavapipe must be listed"
        );
        eprintln!("no wgpu adapter: skipped");
    }
    has
}

/// `lrsweep sweep settings… --out out`, which must succeed; what it printed on stdout.
pub fn sweep_ok(settings: &[&str], out: &Path) -> String {
    let mut args = vec!["sweep"];
    args.extend(settings);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// A small sweep into `out` that must succeed: 1000 MNIST images, no refinement, no range
/// test, the CPU backend, and `extra`.
pub fn small_sweep(out: &Path, extra: &[&str]) {
    let mut args = vec!["sweep", "--limit", "1000", "--refine", "0", "--no-find"];
    args.extend(["--backend", "cpu", "--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
}

/// Every member directory of a run, by name, with its figures (the seconds left out).
pub fn all_figures(run: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let mut members: Vec<(String, Vec<Vec<String>>)> = std::fs::read_dir(run)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.join("metrics.csv").exists())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, figures(&p.join("metrics.csv")))
        })
        .collect();
    members.sort();
    members
}

/// Starts `lrsweep sweep settings… --out out` and kills it (SIGKILL: no chance to clean up) once
/// member `member`'s metrics hold `epochs` epochs; how many they held then.
pub fn killed_after(settings: &[&str], out: &Path, member: &str, epochs: usize) -> usize {
    let mut child = std::process::Command::new(bin())
        .arg("sweep")
        .args(settings)
        .arg("--out")
        .arg(out)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .env_remove("MLFLOW_TRACKING_URI")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let csv = out.join(member).join("metrics.csv");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < epochs + 1 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "no progress in {}",
            csv.display()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before {member}'s epoch {epochs}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    figures(&csv).len()
}

/// The sweep of `settings` gives every one of its `members` members the same figures (each
/// `epochs` epochs) three ways: as one stack, with `--serial`, and killed after `member`'s
/// second epoch, then resumed.
pub fn same_stacked_serial_and_resumed(
    settings: &[&str],
    member: &str,
    members: usize,
    epochs: usize,
) {
    let tmp = tempfile::tempdir().unwrap();
    let (stacked, serial, killed) = (
        tmp.path().join("stacked"),
        tmp.path().join("serial"),
        tmp.path().join("killed"),
    );
    sweep_ok(settings, &stacked);
    let mut with_serial = settings.to_vec();
    with_serial.push("--serial");
    sweep_ok(&with_serial, &serial);
    let kept = killed_after(settings, &killed, member, 2);
    assert!(
        kept < epochs,
        "{settings:?}: killed partway ({kept} epochs)"
    );
    let o = lrsweep(&["sweep", "--resume", killed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let want = all_figures(&stacked);
    assert_eq!(want.len(), members, "{want:?}");
    assert!(want.iter().all(|(_, f)| f.len() == epochs), "{want:?}");
    assert_eq!(
        all_figures(&serial),
        want,
        "{settings:?}: serial against stacked"
    );
    assert_eq!(
        all_figures(&killed),
        want,
        "{settings:?}: killed and resumed"
    );
}
