//! What a new user meets first: the options people type, refusals in words, a warning for a
//! rate that looks like a typo, where the results are, and an `--out` that already holds a run.

use crate::common::{lrsweep, text};

fn quick(out: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sweep",
        "--limit",
        "600",
        "--epochs",
        "1",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--hidden",
        "16",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lrsweep(&args)
}

#[test]
fn the_rates_go_by_the_names_people_type_and_refusals_are_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, alias) in ["--lr", "--lrs", "--learning-rate", "--learning-rates"]
        .iter()
        .enumerate()
    {
        let out = tmp.path().join(format!("alias-{i}"));
        let o = quick(&out, &[alias, "1e-3"]);
        assert!(o.status.success(), "{alias}: {}", text(&o));
        assert!(out.join("lr-0.001/metrics.csv").is_file(), "{alias}");
    }
    let out = tmp.path().join("split");
    let o = quick(&out, &["--rates", "1e-3", "--validation-split", "0.2"]);
    assert!(o.status.success(), "{}", text(&o));
    let config = crate::common::json(&out.join("config.json"));
    assert_eq!(config["config"]["data"]["val_fraction"], 0.2);
    for (flag, value, says) in [
        ("--epochs", "0", "must be at least 1"),
        ("--hidden", "0", "every layer needs at least 1 unit"),
        ("--patience", "0", "must be at least 1"),
        ("--batch-size", "0", "must be at least 1"),
    ] {
        let o = lrsweep(&["sweep", flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let t = text(&o);
        assert!(
            t.contains(says) && !t.contains("18446744073709551615"),
            "{flag}: {t}"
        );
    }
    let o = lrsweep(&["sweep", "--backend", "cuda"]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("wgpu is lrsweep's GPU backend") && !t.contains("similar value"),
        "{t}"
    );
    let help = String::from_utf8_lossy(&lrsweep(&["sweep", "--help"]).stdout).to_string();
    for heading in [
        "Rates:",
        "Training:",
        "Data:",
        "Compute:",
        "Output:",
        "Scale-out:",
        "Examples:",
    ] {
        assert!(help.contains(heading), "sweep --help lacks {heading}");
    }
    assert!(help.contains("mnist|fashion-mnist") && help.contains("auto|cpu|wgpu|flex|ndarray"));
}

#[test]
fn a_rate_that_looks_like_a_typo_is_named_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("typo");
    let o = quick(&out, &["--rates", "0.001,1e2"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stderr).to_string();
    let warning = t
        .lines()
        .position(|l| l.contains("1e2 is above 1") && l.contains("did you mean 1e-2?"));
    let training = t.lines().position(|l| l.contains("training on"));
    assert!(
        warning.is_some() && warning < training,
        "the warning comes before training: {t}"
    );
    assert!(t.contains("--yes"), "{t}");
    let out = tmp.path().join("yes");
    let o = quick(&out, &["--rates", "0.001,1e2", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("warning:"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_sweep_ends_with_its_report_and_an_out_that_holds_a_run_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = quick(&out, &["--rates", "1e-3,1e-2"]);
    assert!(o.status.success(), "{}", text(&o));
    let report = out.join("report.html");
    assert!(report.is_file(), "sweep writes report.html");
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains(&report.display().to_string()),
        "the last line names it: {last}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("Recommended") && html.contains("data:image/png;base64"),
        "a whole report"
    );
    // The same --out again: a finished run is pointed to `report`.
    let o = quick(&out, &["--rates", "1e-3,1e-2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("holds a finished lrsweep run") && text(&o).contains("lrsweep report"),
        "{}",
        text(&o)
    );
    // A run without its summary (as one that was interrupted) is pointed to --resume.
    std::fs::remove_file(out.join("summary.json")).unwrap();
    let o = quick(&out, &["--rates", "1e-3,1e-2"]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("unfinished or interrupted")
            && t.contains(&format!("lrsweep sweep --resume {}", out.display())),
        "{t}"
    );
}

#[test]
fn an_interrupted_run_is_called_interrupted_once_in_status_and_report() {
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut child = Command::new(crate::common::bin())
        .args([
            "sweep",
            "--limit",
            "3000",
            "--epochs",
            "200",
            "--rates",
            "1e-3,1e-2",
            "--refine",
            "0",
            "--backend",
            "cpu",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("LRSWEEP_DATA_DIR", crate::common::mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let metrics = out.join("lr-0.001/metrics.csv");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |m| m.lines().count()) < 2 {
        assert!(
            started.elapsed().as_secs() < 120,
            "no epoch within two minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    assert_eq!(
        child.wait().unwrap().code(),
        Some(130),
        "Ctrl-C ends with 130"
    );

    let o = lrsweep(&["status", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(s.contains("2 interrupted, 0 failed"), "{s}");
    assert_eq!(s.matches("| interrupted |").count(), 2, "{s}");
    assert!(
        s.contains(&format!(
            "continue with lrsweep sweep --resume {}",
            out.display()
        )),
        "{s}"
    );

    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let incomplete = md
        .lines()
        .find(|l| l.contains("This run is incomplete"))
        .unwrap();
    assert_eq!(
        incomplete.matches("stopped by a signal").count(),
        1,
        "the reason once: {incomplete}"
    );
    assert!(
        incomplete.contains("0.001 and 0.01: stopped by a signal"),
        "{incomplete}"
    );
    assert!(
        md.contains("No recommendation yet**: no rate has finished yet."),
        "{md}"
    );
    assert!(
        !md.contains("without diverging") && !md.contains("it the sweep"),
        "{md}"
    );
    assert!(
        md.contains("the sweep has no recommendation yet to compare them with."),
        "{md}"
    );
}

#[test]
fn devices_says_in_words_what_auto_trains_on_and_bench_leaves_a_cpu_vulkan_driver_out() {
    let o = lrsweep(&["devices"]);
    assert!(o.status.success(), "{}", text(&o));
    let s = String::from_utf8_lossy(&o.stdout).to_string();
    let last = s.trim_end().lines().last().unwrap_or_default().to_string();
    assert!(last.contains("--backend auto trains on"), "{last}");
    let listed: serde_json::Value =
        serde_json::from_slice(&lrsweep(&["devices", "--json"]).stdout).unwrap();
    let gpu = listed
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["backend"] == "wgpu" && d["auto"] == true);
    if gpu {
        return; // A real GPU: `all` times it.
    }
    assert!(last.starts_with("No GPU found"), "{last}");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = lrsweep(&[
        "bench",
        "--epochs",
        "2",
        "--limit",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("leaving wgpu out"),
        "{}",
        text(&o)
    );
    let rows = crate::common::json(&out.join("bench.json"))["rows"].clone();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["backend"] != "wgpu"),
        "{rows}"
    );
}
