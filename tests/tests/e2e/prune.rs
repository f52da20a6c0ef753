//! `sweep --prune`: pruning removes epochs and never changes them; the decisions are the same
//! stacked, one member after another, and across a kill and its resume; bad specs are refused
//! before anything is written.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, figures, json, lrsweep, mnist_dir, text};

/// A small sweep with a refinement round: 4 listed rates, 9 epochs.
const SETTINGS: [&str; 12] = [
    "--limit",
    "2000",
    "--epochs",
    "9",
    "--rates",
    "1e-4,1e-3,1e-2,1e-1",
    "--refine",
    "1",
    "--no-find",
    "--backend",
    "cpu",
    "--yes",
];

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep"];
    args.extend(SETTINGS);
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// Each rate's directory name and figures (all columns but seconds).
fn rates(out: &Path) -> Vec<(String, Vec<Vec<String>>)> {
    let summary = json(&out.join("summary.json"));
    summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let label = r["label"].as_str().unwrap().to_string();
            let f = figures(&out.join(format!("lr-{label}/metrics.csv")));
            (label, f)
        })
        .collect()
}

fn row<'a>(summary: &'a serde_json::Value, label: &str) -> &'a serde_json::Value {
    summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap()
}

#[test]
fn a_pruned_sweep_trains_a_prefix_of_every_full_curve_and_says_what_it_pruned() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, pruned) = (tmp.path().join("full"), tmp.path().join("pruned"));
    sweep(&full, &[]);
    let o = sweep(&pruned, &["--prune", "halving:3:1"]);
    let whole: Vec<(String, Vec<Vec<String>>)> = rates(&full);
    let cut = rates(&pruned);
    let summary = json(&pruned.join("summary.json"));
    let mut pruned_any = false;
    for (label, figures) in &cut {
        // Pruning removes epochs, never changes them.
        if let Some((_, all)) = whole.iter().find(|(l, _)| l == label) {
            assert_eq!(figures[..], all[..figures.len()], "{label}");
        }
        let r = row(&summary, label);
        if let Some(at) = r["pruned_at"].as_u64() {
            pruned_any = true;
            assert_eq!(figures.len() as u64, at, "{label} trained to its rung");
            assert!([1, 3].contains(&at), "{label}: rungs 1 and 3, not {at}");
            let rank = r["rung_rank"].as_str().unwrap();
            assert!(rank.starts_with("rank ") && rank.ends_with(&format!("at epoch {at}")));
            assert!(
                r["stopped"]["reason"] == "pruned",
                "{label}: {}",
                r["stopped"]
            );
            // It keeps all it trained.
            for file in ["best.bpk", "model.bpk", "checkpoint.bin", "done.json"] {
                assert!(
                    pruned.join(format!("lr-{label}/{file}")).is_file(),
                    "{label} {file}"
                );
            }
            assert!(pruned.join(format!("lr-{label}.png")).is_file());
        }
    }
    assert!(pruned_any, "{}", text(&o));
    // The recommendation is a rate that finished.
    let best = summary["recommended"]["label"].as_str().unwrap();
    assert!(row(&summary, best)["pruned_at"].is_null());
    let p = &summary["pruning"];
    assert_eq!(p["spec"], "halving:3:1");
    assert!(p["rate_epochs"].as_u64().unwrap() < p["rate_epochs_unpruned"].as_u64().unwrap());
    let md = std::fs::read_to_string(pruned.join("summary.md")).unwrap();
    assert!(
        md.contains("Pruning (halving:3:1)") && md.contains("pruned at epoch"),
        "{md}"
    );
    assert!(!md.contains("incomplete"), "a pruned run is complete: {md}");
    let o = lrsweep(&["status", pruned.to_str().unwrap()]);
    assert!(text(&o).contains("pruned"), "{}", text(&o));
    assert!(text(&o).contains(" 0 failed"), "{}", text(&o));
}

#[test]
fn serial_and_killed_then_resumed_pruned_runs_make_the_same_decisions() {
    let tmp = tempfile::tempdir().unwrap();
    let (stacked, serial, killed) = (
        tmp.path().join("stacked"),
        tmp.path().join("serial"),
        tmp.path().join("killed"),
    );
    let prune = ["--prune", "halving:3:1"];
    sweep(&stacked, &prune);
    sweep(&serial, &[&prune[..], &["--serial"]].concat());
    assert_eq!(
        rates(&serial),
        rates(&stacked),
        "--serial decides the same rungs"
    );
    // Killed once a rate is past the rung of epoch 3, then resumed.
    let mut child = Command::new(bin())
        .arg("sweep")
        .args(SETTINGS)
        .args(prune)
        .arg("--out")
        .arg(&killed)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let csv = killed.join("lr-0.001/metrics.csv");
    loop {
        let n = std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count().saturating_sub(1));
        if n >= 4 || child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    child.wait().unwrap();
    let o = lrsweep(&["sweep", "--resume", killed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        rates(&killed),
        rates(&stacked),
        "the resume decides as the uninterrupted run"
    );
}

#[test]
fn one_member_is_never_pruned_and_bad_specs_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "1000",
        "--epochs",
        "4",
        "--rates",
        "1e-3",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--prune",
        "halving:2:1",
        "--out",
        one.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(figures(&one.join("lr-0.001/metrics.csv")).len(), 4);
    // Every rate hopeless: they stop on their own; no recommendation, no failure.
    let bad = tmp.path().join("bad");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "1000",
        "--epochs",
        "6",
        "--rates",
        "3,10",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--prune",
        "halving:2:1",
        "--yes",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(json(&bad.join("summary.json"))["recommended"].is_null());
    for (spec, extra, says) in [
        ("halving:1", vec![], "ETA"),
        ("halving:0", vec![], "ETA"),
        ("halving:3:0", vec![], "MIN"),
        ("halving:3:9", vec![], "never prune"),
        ("hyperband", vec![], "halving[:ETA[:MIN]]"),
        ("halving", vec!["--seeds", "2"], "--seeds"),
        ("halving", vec!["--slurm"], "--slurm"),
    ] {
        let out = tmp.path().join("never");
        let mut args = vec!["sweep"];
        args.extend(SETTINGS);
        args.extend(["--prune", spec]);
        args.extend(extra.iter().copied());
        args.extend(["--out", out.to_str().unwrap()]);
        let o = lrsweep(&args);
        assert_eq!(o.status.code(), Some(2), "{spec} {extra:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{spec}: {}", text(&o));
        assert!(!out.exists(), "{spec}: nothing written");
    }
}
