//! Verdicts that know their noise (issue 32), end to end: every epoch's standard error is
//! recorded, the summary stops each rate by the one-standard-error rule, and a run can be
//! extended in place ("train longer") to the figures of a run made longer from the start.

use std::path::Path;

use crate::common::{figures, json, lrsweep, metrics, text};

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "sweep",
        "--limit",
        "2000",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
    ];
    args.extend_from_slice(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    lrsweep(&args)
}

#[test]
fn every_epoch_records_its_standard_error_and_rates_stop_by_the_one_se_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = sweep(&out, &["--epochs", "4"]);
    assert!(o.status.success(), "{}", text(&o));
    for rate in ["0.001", "0.01"] {
        for row in metrics(&out.join(format!("lr-{rate}/metrics.csv"))) {
            let se: f64 = row[7].parse().unwrap();
            let loss: f64 = row[3].parse().unwrap();
            // 300 validation items: a standard error of a few percent of the loss.
            assert!(se > 0.0 && se < loss, "{rate}: {row:?}");
        }
    }
    let summary = json(&out.join("summary.json"));
    for r in summary["rates"].as_array().unwrap() {
        let stop = r["stop_epoch"].as_u64().unwrap();
        assert!(
            stop >= 1 && stop <= r["min_val_loss_epoch"].as_u64().unwrap(),
            "{r}"
        );
        assert!(r["min_val_loss_noise"].as_f64().unwrap() > 0.0, "{r}");
        assert!(
            r["verdict_reason"]
                .as_str()
                .unwrap()
                .contains("300 validation items")
                || r["verdict"] == "diverged",
            "{r}"
        );
    }
    let rec = &summary["recommended"];
    let stop = rec["epoch"].as_u64().unwrap();
    let best = summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dir"] == rec["dir"])
        .unwrap();
    assert_eq!(stop, best["stop_epoch"].as_u64().unwrap());
}

#[test]
fn an_extended_run_equals_one_made_with_the_larger_epoch_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (extended, whole) = (tmp.path().join("extended"), tmp.path().join("whole"));
    let o = sweep(&extended, &["--epochs", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    // Shorter is a conflict; longer extends.
    let o = lrsweep(&[
        "sweep",
        "--resume",
        extended.to_str().unwrap(),
        "--epochs",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--epochs 2 (the run has 3)"),
        "{}",
        text(&o)
    );
    let o = lrsweep(&[
        "sweep",
        "--resume",
        extended.to_str().unwrap(),
        "--epochs",
        "5",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("extending the run from 3 to 5 epochs"),
        "{}",
        text(&o)
    );
    let o = sweep(&whole, &["--epochs", "5"]);
    assert!(o.status.success(), "{}", text(&o));
    for rate in ["0.001", "0.01"] {
        let csv = |d: &Path| figures(&d.join(format!("lr-{rate}/metrics.csv")));
        assert_eq!(csv(&extended).len(), 5, "{rate}");
        assert_eq!(
            csv(&extended),
            csv(&whole),
            "lr {rate}: extended and whole differ"
        );
        assert!(extended.join(format!("lr-{rate}/done.json")).is_file());
    }
    // The summary was written again, from the longer curves.
    let s = json(&extended.join("summary.json"));
    assert!(s["rates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["epochs"] == 5));
    assert_eq!(json(&extended.join("config.json"))["config"]["epochs"], 5);
    // A schedule spread over the run's length cannot be extended.
    let cosine = tmp.path().join("cosine");
    let o = sweep(&cosine, &["--epochs", "3", "--schedule", "cosine"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lrsweep(&[
        "sweep",
        "--resume",
        cosine.to_str().unwrap(),
        "--epochs",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("cosine schedule spreads its rates over the run's length"),
        "{}",
        text(&o)
    );
}
