//! Verdicts on real MNIST runs, as a new user's quick runs meet them: slow rates are not
//! diverged, a stuck or exploding rate is, a hopeless rate stops once that has settled (and
//! trains on with `--full-curves`) without changing any other rate's figures, and the chart,
//! the summary and `status` say so.

use std::path::Path;

use crate::common::{figures, json, lrsweep, text};

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sweep",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn verdicts(out: &Path) -> Vec<(String, String, String)> {
    json(&out.join("summary.json"))["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap().to_string(),
                r["verdict"].as_str().unwrap().to_string(),
                r["verdict_reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_one_epoch_look_tells_slow_rates_from_a_diverging_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    sweep(
        &out,
        &[
            "--limit",
            "1000",
            "--epochs",
            "1",
            "--rates",
            "1e-5,1e-4,1e-3,1e-1",
        ],
    );
    let v = verdicts(&out);
    for (label, verdict, reason) in &v[..3] {
        assert_eq!(verdict, "still_improving", "{label}: {reason}");
        assert!(reason.contains("train longer"), "{label}: {reason}");
    }
    let (label, verdict, reason) = &v[3];
    assert_eq!(
        (label.as_str(), verdict.as_str()),
        ("0.1", "diverged"),
        "{reason}"
    );
    assert!(
        reason.contains("above 1.5 × a uniform guess's 2.303"),
        "{reason}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| still improving: 1 epoch is too few"), "{md}");
    // The chart says it under its title.
    let svg = std::fs::read_to_string(out.join("lr-0.1.svg")).unwrap();
    assert!(
        svg.contains("diverged: validation loss"),
        "the verdict is drawn"
    );
}

#[test]
fn a_hopeless_rate_stops_once_settled_and_changes_no_other_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let common = [
        "--loss", "exact", "--limit", "3000", "--epochs", "6", "--rates",
    ];
    let together = tmp.path().join("together");
    let mut args = common.to_vec();
    args.push("1e-3,10");
    let o = sweep(&together, &args);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("learning rate 10: hopeless since epoch 1"),
        "{}",
        text(&o)
    );
    let hopeless = figures(&together.join("lr-10/metrics.csv"));
    assert_eq!(hopeless.len(), 3, "settled after 3 epochs: {hopeless:?}");
    let v = verdicts(&together);
    assert_eq!(v[1].1, "diverged", "{v:?}");
    let s = json(&together.join("summary.json"));
    assert_eq!(s["rates"][1]["stopped"]["reason"], "diverged");
    assert_eq!(
        s["rates"][1]["stopped"]["cause"]["cause"],
        "worse_than_guessing"
    );
    assert_eq!(s["recommended"]["label"], "0.001");

    // Alone, 1e-3 gives exactly the same figures: the hopeless member left without a trace.
    let alone = tmp.path().join("alone");
    let mut args = common.to_vec();
    args.push("1e-3");
    sweep(&alone, &args);
    assert_eq!(
        figures(&together.join("lr-0.001/metrics.csv")),
        figures(&alone.join("lr-0.001/metrics.csv"))
    );

    // With --full-curves it trains to the last epoch, as the reference did.
    let full = tmp.path().join("full");
    let mut args = common.to_vec();
    args.extend(["1e-3,10", "--full-curves"]);
    sweep(&full, &args);
    assert_eq!(figures(&full.join("lr-10/metrics.csv")).len(), 6);
    assert_eq!(verdicts(&full)[1].1, "diverged");

    // status shows each rate's verdict once the summary is written.
    let o = lrsweep(&["status", together.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    // The verdict in its column, why it stopped and the evidence in the note.
    assert!(
        table.contains("| diverged |") && table.contains("hopeless at epoch 3"),
        "{table}"
    );
}

#[test]
fn seeds_train_in_one_stack_and_the_summary_says_how_sure() {
    let tmp = tempfile::tempdir().unwrap();
    let common = [
        "--limit",
        "3000",
        "--epochs",
        "3",
        "--rates",
        "1e-3,1e-2",
        "--seeds",
        "3",
    ];
    let stacked = tmp.path().join("stacked");
    let o = sweep(&stacked, &common);
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(said.contains("0.001 (seed 43)"), "{said}");
    // Each seed alone in its stack (--serial) gives the same figures, bit for bit.
    let serial = tmp.path().join("serial");
    let mut args = common.to_vec();
    args.push("--serial");
    sweep(&serial, &args);
    for dir in [
        "lr-0.001",
        "lr-0.001-seed43",
        "lr-0.001-seed44",
        "lr-0.01-seed44",
    ] {
        assert_eq!(
            figures(&stacked.join(dir).join("metrics.csv")),
            figures(&serial.join(dir).join("metrics.csv")),
            "{dir}"
        );
    }
    // The run's own seed is the run without --seeds.
    let plain = tmp.path().join("plain");
    sweep(&plain, &common[..6]);
    assert_eq!(
        figures(&stacked.join("lr-0.001/metrics.csv")),
        figures(&plain.join("lr-0.001/metrics.csv"))
    );
    // Other seeds train other networks.
    assert_ne!(
        figures(&stacked.join("lr-0.001/metrics.csv")),
        figures(&stacked.join("lr-0.001-seed43/metrics.csv"))
    );
    let s = json(&stacked.join("summary.json"));
    let row = &s["rates"][0];
    assert_eq!(row["seeds"].as_array().unwrap().len(), 3, "{row:#}");
    assert_eq!(row["seeds"][1]["seed"], 43);
    let sd = row["min_val_loss_sd"].as_f64().unwrap();
    assert!(sd > 0.0 && sd < 0.1, "{sd}");
    let mins: Vec<f64> = row["seeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["min_val_loss"].as_f64().unwrap())
        .collect();
    let mean = mins.iter().sum::<f64>() / 3.0;
    assert!((row["min_val_loss_mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    let why = s["recommended"]["reason"].as_str().unwrap();
    assert!(
        why.contains("over 3 seeds") || why.contains("tie within seed noise"),
        "{why}"
    );
    let md = std::fs::read_to_string(stacked.join("summary.md")).unwrap();
    assert!(md.contains("| seeds |") && md.contains("43: "), "{md}");
    // The chart shades the seeds' band.
    let svg = std::fs::read_to_string(stacked.join("lr-0.001.svg")).unwrap();
    assert!(svg.contains("<polygon"), "the seeds' band is drawn");
    // status lists every seed.
    let o = lrsweep(&["status", stacked.to_str().unwrap(), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(status["rates"].as_array().unwrap().len(), 6, "{status:#}");
    assert_eq!(status["counts"]["done"], 6);
}

/// Issue 23, class 12: rates too small to move the weights are "not moving", with advice to try
/// larger rates, not "every rate diverged; try smaller rates"; `status` says the same.
#[test]
fn rates_too_small_to_move_are_not_moving_and_the_advice_says_larger() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    sweep(
        &out,
        &["--limit", "1000", "--epochs", "5", "--rates", "1e-10,1e-9"],
    );
    for (label, verdict, reason) in verdicts(&out) {
        assert_eq!(verdict, "not_moving", "{label}: {reason}");
        assert!(reason.contains("try larger rates"), "{reason}");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("no rate moved the weights")
            && md.contains("try larger rates than 0.000000001"),
        "{md}"
    );
    assert!(
        !md.contains("try smaller") && !md.contains("diverged at"),
        "{md}"
    );
    let o = lrsweep(&["status", out.to_str().unwrap()]);
    assert!(text(&o).contains("not moving"), "{}", text(&o));
}
