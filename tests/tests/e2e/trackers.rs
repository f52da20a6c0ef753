//! Issue 35: a sweep watched live and found where experiments are tracked. TensorBoard's own
//! reader sees every member's epochs (each once, a killed and resumed member's too) and the
//! sweep's HParams.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{json, killed_after, lrsweep, metrics, text};

/// What most sweeps here share: 3000 MNIST images, no refinement, no range test, the CPU backend.
const QUICK: [&str; 7] = [
    "--limit",
    "3000",
    "--refine",
    "0",
    "--no-find",
    "--backend",
    "cpu",
];

/// `lrsweep sweep QUICK… args… --out out` as a command: the real data, and no MLflow server
/// of the environment's.
fn sweep(args: &[&str], out: &Path) -> Command {
    let mut c = Command::new(crate::common::bin());
    c.arg("sweep")
        .args(QUICK)
        .args(args)
        .arg("--out")
        .arg(out)
        .env("LRSWEEP_DATA_DIR", crate::common::mnist_dir())
        .env_remove("MLFLOW_TRACKING_URI");
    c
}

/// The Python that has `tensorboard` and `mlflow` (`LRSWEEP_TRACKERS_PYTHON`, which `.ci/run`
/// sets to its virtual environment's); without it a test skips, unless
/// `LRSWEEP_REQUIRE_TRACKERS` says it must run.
pub fn trackers_python() -> Option<PathBuf> {
    let python = std::env::var_os("LRSWEEP_TRACKERS_PYTHON").map(PathBuf::from);
    let ok = python.as_ref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import tensorboard, mlflow"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        assert!(
            std::env::var_os("LRSWEEP_REQUIRE_TRACKERS").is_none(),
            "LRSWEEP_REQUIRE_TRACKERS is set: LRSWEEP_TRACKERS_PYTHON must name a Python with tensorboard and mlflow"
        );
        eprintln!("no LRSWEEP_TRACKERS_PYTHON with tensorboard and mlflow: skipped");
        return None;
    }
    python
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(name)
}

/// What TensorBoard reads in `run`, by run (member directory) name.
fn tensorboard_sees(python: &Path, run: &Path) -> serde_json::Map<String, Value> {
    let o = Command::new(python)
        .arg(script("tensorboard_read.py"))
        .arg(run)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    match serde_json::from_slice(&o.stdout).unwrap() {
        Value::Object(m) => m,
        other => panic!("{other}"),
    }
}

/// The steps of `tag` in a run TensorBoard sees.
fn steps(seen: &Value, tag: &str) -> Vec<u64> {
    seen["scalars"][tag]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|p| p[0].as_u64().unwrap())
        .collect()
}

/// A metrics.csv figure as the f32 TensorBoard stores (NaN as None, as JSON's null).
fn as_f32(x: &str) -> Option<f32> {
    let v: f64 = x.parse().unwrap();
    (!v.is_nan()).then_some(v as f32)
}

/// A value TensorBoard read, as its f32.
fn read_f32(v: &Value) -> Option<f32> {
    v.as_f64().map(|v| v as f32)
}

#[test]
fn tensorboard_reads_every_epoch_once_and_the_sweep_in_hparams() {
    let Some(python) = trackers_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "5",
        "--rates",
        "1e-3,1e-2",
        "--seeds",
        "2",
        "--schedule",
        "constant,cosine",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
    ];
    // Live: what a killed sweep left is readable, epoch by epoch.
    let kept = killed_after(&settings, &run, "lr-0.01", 2);
    assert!(kept < 5);
    let seen = tensorboard_sees(&python, &run);
    let live = &seen["lr-0.01"];
    let n = steps(live, "loss/validation").len();
    assert!(n >= 1, "{live}");
    assert_eq!(
        steps(live, "loss/validation"),
        (1..=n as u64).collect::<Vec<_>>()
    );
    let o = lrsweep(&["sweep", "--resume", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));

    let seen = tensorboard_sees(&python, &run);
    let summary = json(&run.join("summary.json"));
    let rows = summary["rates"].as_array().unwrap();
    let mut members = 0;
    for entry in std::fs::read_dir(&run).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("metrics.csv").is_file() {
            continue;
        }
        members += 1;
        let name = dir.file_name().unwrap().to_str().unwrap();
        let tb = &seen[name];
        let lines = metrics(&dir.join("metrics.csv"));
        let epochs: Vec<u64> = (1..=lines.len() as u64).collect();
        for (tag, column) in [
            ("loss/train", 1),
            ("accuracy/train", 2),
            ("loss/validation", 3),
            ("accuracy/validation", 4),
            ("learning_rate", 6),
        ] {
            assert_eq!(steps(tb, tag), epochs, "{name} {tag}: each epoch once");
            let values: Vec<Option<f32>> = tb["scalars"][tag]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| read_f32(&p[1]))
                .collect();
            let want: Vec<Option<f32>> = lines.iter().map(|l| as_f32(&l[column])).collect();
            assert_eq!(values, want, "{name} {tag}");
        }
        // Its HParams session: the settings, and the metrics the dashboard sets them against.
        let h = &tb["hparams"];
        let lowest = lines
            .iter()
            .map(|l| l[3].parse::<f64>().unwrap())
            .fold(f64::INFINITY, f64::min);
        let best_acc = lines
            .iter()
            .map(|l| l[4].parse::<f64>().unwrap())
            .fold(0.0, f64::max);
        assert_eq!(
            read_f32(&tb["scalars"]["hparams/lowest_val_loss"][0][1]),
            Some(lowest as f32),
            "{name}"
        );
        assert_eq!(
            read_f32(&tb["scalars"]["hparams/best_val_accuracy"][0][1]),
            Some(best_acc as f32),
            "{name}"
        );
        assert_eq!(tb["status"], 1, "{name}: finished (STATUS_SUCCESS)");
        let seed = if name.contains("seed43") { 43.0 } else { 42.0 };
        assert_eq!(h["seed"], seed, "{name}");
        assert_eq!(h["optimizer"], "adam");
        assert_eq!(h["network"], "784 relu");
        assert_eq!(h["batch_size"], 256.0);
        if seed == 42.0 {
            let row = rows.iter().find(|r| r["dir"] == name).unwrap();
            assert_eq!(h["lr"], row["rate"], "{name}");
            assert_eq!(h["schedule"], row["schedule"], "{name}");
            // The verdict in words ("still improving"), summary.json's name spaced.
            let words = h["verdict"].as_str().unwrap().replace(' ', "_");
            assert_eq!(row["verdict"], words.as_str(), "{name}");
        }
    }
    assert_eq!(members, 8);
    let experiment = &seen["."]["experiment"];
    assert_eq!(
        experiment["hparams"],
        serde_json::json!([
            "batch_size",
            "effective_lr",
            "lr",
            "network",
            "optimizer",
            "schedule",
            "seed",
            "verdict"
        ])
    );
    assert_eq!(
        experiment["metrics"],
        serde_json::json!(["hparams/lowest_val_loss", "hparams/best_val_accuracy"])
    );
}

/// Headless Chromium (`chromium`, Debian's); without it a test skips, unless
/// `LRSWEEP_REQUIRE_CHROMIUM` says it must run.
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("LRSWEEP_REQUIRE_CHROMIUM").is_none(),
            "LRSWEEP_REQUIRE_CHROMIUM is set: chromium must be installed"
        );
        eprintln!("no chromium: skipped");
    }
    found
}

/// The DOM headless Chromium builds from the page at `path` (a copy of it, so that a sweep
/// rewriting it meanwhile changes nothing).
fn dom(browser: &str, path: &Path) -> String {
    let copy = path.with_extension("seen.html");
    std::fs::copy(path, &copy).unwrap();
    let o = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", copy.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits until `report` holds a live page; its DOM as Chromium sees it.
fn live_dom(browser: &str, report: &Path, child: &mut std::process::Child) -> String {
    let start = std::time::Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before a live report was seen"
        );
        assert!(start.elapsed().as_secs() < 120, "no live report");
        if std::fs::read_to_string(report).is_ok_and(|t| t.contains("id=\"banner\">running:")) {
            return dom(browser, report);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Checks a live page: the banner, a refresh, and each member's curves with as many points as
/// the epochs it says it has (at least one member under way).
fn check_live(dom: &str) {
    assert!(dom.contains("http-equiv=\"refresh\""), "{dom}");
    let banner = dom
        .split("<p id=\"banner\">")
        .nth(1)
        .and_then(|b| b.split("</p>").next())
        .unwrap_or_else(|| panic!("no banner: {dom}"));
    assert!(banner.starts_with("running: round 1, epoch "), "{banner}");
    assert!(
        banner.contains(" of 60, about ") && banner.contains(" left"),
        "{banner}"
    );
    let members: Vec<&str> = dom.split("<div class=\"member\"").skip(1).collect();
    assert_eq!(members.len(), 2, "{dom}");
    let mut trained = 0;
    for m in members {
        let epochs: usize = m
            .split("data-epochs=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(m.matches("<svg").count(), 2, "{m}");
        let curves: Vec<&str> = m.split("points=\"").skip(1).collect();
        if epochs > 0 {
            trained += 1;
            assert_eq!(curves.len(), 4, "{m}");
            for c in curves {
                let points = c.split('"').next().unwrap().split(' ').count();
                assert_eq!(points, epochs, "{m}");
            }
        }
    }
    assert!(trained >= 1, "{dom}");
}

#[test]
fn the_live_report_shows_the_curves_so_far_and_the_final_one_replaces_it() {
    let Some(browser) = chromium() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let report = run.join("report.html");
    // Interrupted (Ctrl-C) while the live page shows: the report of what it trained replaces
    // it, without the refresh.
    let mut child = sweep(&["--epochs", "60", "--rates", "1e-3,3e-3"], &run)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    check_live(&live_dom(browser, &report, &mut child));
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(!child.wait().unwrap().success());
    let stopped = dom(browser, &report);
    assert!(!stopped.contains("refresh"), "{stopped}");
    assert!(stopped.contains("<table"), "{stopped}");
    assert!(!stopped.contains("id=\"banner\""), "{stopped}");
    // Resumed to its end: live again, then the final report.
    let mut child = Command::new(crate::common::bin())
        .args(["sweep", "--resume"])
        .arg(&run)
        .env("LRSWEEP_DATA_DIR", crate::common::mnist_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    check_live(&live_dom(browser, &report, &mut child));
    assert!(child.wait().unwrap().success());
    let last = dom(browser, &report);
    assert!(!last.contains("refresh"), "{last}");
    assert!(
        last.contains("<table") && last.contains("Learning rate 0.001"),
        "{last}"
    );
}

/// A tracking server for a test: `mlflow server` on loopback, its store in `dir`, killed (the
/// whole process group) when dropped.
struct Server {
    child: Option<std::process::Child>,
    uri: String,
}

impl Server {
    /// Starts `mlflow server` of `python`'s environment on `port` (a free one when none), its
    /// runs in `dir`/db.sqlite and its artifacts in `dir`/artifacts; waits until it answers.
    fn start(python: &Path, dir: &Path, port: Option<u16>) -> Self {
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
        let mlflow = python.parent().unwrap().join("mlflow");
        let child = Command::new("setsid")
            .arg(mlflow)
            .args([
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--workers",
                "1",
            ])
            .arg("--backend-store-uri")
            .arg(format!("sqlite:///{}", dir.join("db.sqlite").display()))
            .arg("--artifacts-destination")
            .arg(dir.join("artifacts"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child: Some(child),
            uri: format!("http://127.0.0.1:{port}"),
        };
        let start = std::time::Instant::now();
        while !answers(port) {
            assert!(
                start.elapsed().as_secs() < 120,
                "mlflow server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        server
    }

    fn port(&self) -> u16 {
        self.uri.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Kills the server and everything it started.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether an MLflow server answers its health check on `port`.
fn answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}

/// What MLflow's own client reads back of `experiment` at `uri`.
fn mlflow_holds(python: &Path, uri: &str, experiment: &str) -> Vec<Value> {
    let o = Command::new(python)
        .arg(script("mlflow_read.py"))
        .args([uri, experiment])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["runs"].as_array().unwrap().clone()
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).unwrap();
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks that the MLflow `runs` hold the run directory `run` exactly: one parent with the
/// sweep's settings and files, one nested run per member with its parameters, every epoch of
/// every metric once and equal to metrics.csv, its verdict and files, all finished.
fn check_mlflow_holds_the_run(runs: &[Value], run: &Path, members: usize) {
    let summary = json(&run.join("summary.json"));
    let config = json(&run.join("config.json"));
    let parents: Vec<&Value> = runs
        .iter()
        .filter(|r| r["tags"].get("lrsweep.member").is_none())
        .collect();
    assert_eq!(parents.len(), 1, "one parent run: {runs:?}");
    let parent = parents[0];
    assert_eq!(parent["status"], "FINISHED");
    assert_eq!(
        parent["params"]["epochs"].as_str().unwrap(),
        config["config"]["epochs"].to_string()
    );
    assert_eq!(
        parent["params"]["rates"].as_str().unwrap(),
        config["config"]["rates"].to_string()
    );
    assert_eq!(parent["tags"]["recommended"], summary["recommended"]["dir"]);
    for file in ["report.html", "summary.json", "config.json"] {
        assert_eq!(
            parent["artifacts"][file].as_str(),
            Some(sha256(&run.join(file)).as_str()),
            "{file}"
        );
    }
    let children: Vec<&Value> = runs
        .iter()
        .filter(|r| r["tags"].get("lrsweep.member").is_some())
        .collect();
    assert_eq!(children.len(), members, "{runs:?}");
    for child in children {
        let dir = child["tags"]["lrsweep.member"].as_str().unwrap();
        assert_eq!(
            child["tags"]["mlflow.parentRunId"], parent["id"],
            "{dir}: nested"
        );
        assert_eq!(child["status"], "FINISHED", "{dir}");
        assert_eq!(child["name"], dir);
        assert_eq!(child["params"]["dir"], dir);
        let lines = metrics(&run.join(dir).join("metrics.csv"));
        for (key, column) in [
            ("loss", 1),
            ("accuracy", 2),
            ("val_loss", 3),
            ("val_accuracy", 4),
            ("lr", 6),
        ] {
            let history: Vec<(u64, f64)> = child["metrics"][key]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap(),
                        p[1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(u64, f64)> = lines
                .iter()
                .enumerate()
                .map(|(i, l)| (i as u64 + 1, l[column].parse().unwrap()))
                .collect();
            assert_eq!(
                history, want,
                "{dir} {key}: every epoch once, as metrics.csv says"
            );
        }
        let row = summary["rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["dir"] == dir)
            .unwrap();
        assert_eq!(
            child["params"]["lr"].as_str().unwrap(),
            row["rate"].to_string()
        );
        assert_eq!(
            child["tags"]["verdict"].as_str().unwrap().replace(' ', "_"),
            row["verdict"].as_str().unwrap()
        );
        assert_eq!(
            child["tags"]["recommended"],
            (summary["recommended"]["dir"] == dir).to_string()
        );
        assert_eq!(
            child["artifacts"]["metrics.csv"].as_str(),
            Some(sha256(&run.join(dir).join("metrics.csv")).as_str())
        );
        assert_eq!(
            child["artifacts"][format!("{dir}.png")].as_str(),
            Some(sha256(&run.join(format!("{dir}.png"))).as_str())
        );
    }
}

#[test]
fn mlflow_holds_the_sweep_as_a_parent_run_and_a_nested_run_per_member() {
    let Some(python) = trackers_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // The server `.ci/run` starts, or one of this test's own.
    let own;
    let uri = match std::env::var("LRSWEEP_MLFLOW_URI") {
        Ok(uri) => uri,
        Err(_) => {
            own = Server::start(&python, &tmp.path().join("mlflow"), None);
            own.uri.clone()
        }
    };
    let run = tmp.path().join("run");
    let experiment = format!("lrsweep-e2e-{}", std::process::id());
    // The server as MLflow's own clients are told of it: $MLFLOW_TRACKING_URI.
    let o = sweep(
        &[
            "--epochs",
            "4",
            "--rates",
            "1e-3,1e-2",
            "--mlflow-experiment",
            &experiment,
        ],
        &run,
    )
    .env("MLFLOW_TRACKING_URI", &uri)
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!text(&o).contains("warning"), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("logging to MLflow at {uri}")),
        "{}",
        text(&o)
    );
    check_mlflow_holds_the_run(&mlflow_holds(&python, &uri, &experiment), &run, 2);
    // Uploading it again sends nothing twice.
    let o = lrsweep(&[
        "track",
        run.to_str().unwrap(),
        "--mlflow",
        &uri,
        "--mlflow-experiment",
        &experiment,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("0 of their 8 epochs sent now"),
        "{}",
        text(&o)
    );
    check_mlflow_holds_the_run(&mlflow_holds(&python, &uri, &experiment), &run, 2);
}

#[test]
fn a_server_killed_mid_sweep_costs_a_warning_and_track_completes_the_upload() {
    let Some(python) = trackers_python() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("mlflow");
    let mut server = Server::start(&python, &store, None);
    let port = server.port();
    let run = tmp.path().join("run");
    let child = sweep(
        &[
            "--epochs",
            "25",
            "--rates",
            "1e-3,3e-3",
            "--mlflow",
            &server.uri,
        ],
        &run,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // Killed once the sweep has logged a few epochs.
    let csv = run.join("lr-0.001").join("metrics.csv");
    let start = std::time::Instant::now();
    while std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < 4 {
        assert!(start.elapsed().as_secs() < 120, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    server.kill();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("warning:") && said.contains("lrsweep track"),
        "{said}"
    );
    assert_eq!(metrics(&csv).len(), 25, "training went on to the end");
    // The server back (same store): track uploads the rest, nothing twice.
    let server = Server::start(&python, &store, Some(port));
    let o = lrsweep(&["track", run.to_str().unwrap(), "--mlflow", &server.uri]);
    assert!(o.status.success(), "{}", text(&o));
    let holds = mlflow_holds(&python, &server.uri, "run");
    check_mlflow_holds_the_run(&holds, &run, 2);
}

#[test]
fn a_bad_mlflow_address_is_refused_and_a_server_that_is_down_is_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    for (bad, says) in [
        (
            "localhost:5000",
            "give the server's http:// or https:// address",
        ),
        ("http://host:99999", "is not a valid address"),
    ] {
        crate::common::usage_error(
            &[
                "sweep",
                "--limit",
                "300",
                "--epochs",
                "1",
                "--mlflow",
                bad,
                "--out",
                run.to_str().unwrap(),
            ],
            says,
        );
        assert!(!run.exists(), "nothing written");
    }
    crate::common::usage_error(
        &["track", run.to_str().unwrap(), "--mlflow", "ftp://x"],
        "config.json",
    );
    // Down: said once, up front and at the end; the sweep trains and succeeds.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://127.0.0.1:{closed}");
    let o = sweep(
        &["--epochs", "3", "--rates", "1e-3", "--mlflow", &uri],
        &run,
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains(&format!("MLflow at {uri} did not answer")),
        "{said}"
    );
    assert_eq!(
        said.matches("did not answer").count(),
        2,
        "up front, and at the end: {said}"
    );
    assert_eq!(metrics(&run.join("lr-0.001").join("metrics.csv")).len(), 3);
    // An address in the environment that is not a server's (MLflow's file store): said, not
    // refused; the sweep is not logged.
    let other = tmp.path().join("other");
    let o = sweep(&["--epochs", "1", "--rates", "1e-3"], &other)
        .env("MLFLOW_TRACKING_URI", "file:./mlruns")
        .output()
        .unwrap();
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains(
            "MLFLOW_TRACKING_URI: 'file:./mlruns' is not an MLflow tracking server's address"
        ) && said.contains("this sweep is not logged to MLflow"),
        "{said}"
    );
}

#[test]
fn a_slurm_run_logs_each_task_and_its_summary_to_one_parent_run() {
    let Some(python) = trackers_python() else {
        return;
    };
    if !crate::distributed::slurm_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&python, &tmp.path().join("mlflow"), None);
    let run = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--slurm",
        "--limit",
        "2000",
        "--epochs",
        "3",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "1",
        "--no-find",
        "--backend",
        "cpu",
        "--mlflow",
        &server.uri,
        "--mlflow-experiment",
        "slurm",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the tasks log to MLflow"), "{}", text(&o));
    crate::distributed::wait_status(&run, "the whole run", |s| {
        s["counts"]["done"] == 3 && s["recommended"].is_object()
    });
    // The summary job logs the results after writing them.
    let start = std::time::Instant::now();
    let holds = loop {
        let holds = mlflow_holds(&python, &server.uri, "slurm");
        let parent_done = holds
            .iter()
            .any(|r| r["tags"].get("lrsweep.member").is_none() && r["status"] == "FINISHED");
        if parent_done {
            break holds;
        }
        assert!(start.elapsed().as_secs() < 120, "{holds:?}");
        std::thread::sleep(std::time::Duration::from_secs(1));
    };
    check_mlflow_holds_the_run(&holds, &run, 3);
}
