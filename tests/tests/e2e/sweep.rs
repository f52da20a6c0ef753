//! `lrsweep sweep` end to end on the real MNIST copy, on the CPU.

use crate::common::{figures, json, lrsweep, metrics, text};

#[test]
fn a_small_sweep_writes_every_file_and_recommends_0_001() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "3000",
        "--epochs",
        "2",
        "--rates",
        "1e-3,1e-1",
        "--refine",
        "0",
        "--backend",
        "ndarray",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains('\x1b'),
        "no escape codes when stderr is not a terminal"
    );
    assert!(
        stderr.contains("lr 0.001 epoch 2/2"),
        "plain progress lines: {stderr}"
    );

    for f in [
        "config.json",
        "summary.json",
        "summary.md",
        "overview.png",
        "lr-0.001.png",
        "lr-0.1.png",
        "lr-0.001.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    for label in ["0.001", "0.1"] {
        let rows = metrics(&out.join(format!("lr-{label}/metrics.csv")));
        assert_eq!(rows.len(), 2, "lr {label}");
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row[0], (i + 1).to_string());
            for v in &row[1..] {
                let x: f64 = v.parse().unwrap();
                assert!(x.is_finite(), "lr {label} row {row:?}");
            }
        }
        let png = image::open(out.join(format!("lr-{label}.png"))).unwrap();
        assert!(png.width() >= 1600, "{} px wide", png.width());
    }
    let good = metrics(&out.join("lr-0.001/metrics.csv"));
    let val_acc: f64 = good[1][4].parse().unwrap();
    assert!(val_acc > 0.85, "lr 0.001 learns: val acc {val_acc}");

    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["recommended"]["label"], "0.001", "{summary:#}");
    assert_eq!(summary["rates"].as_array().unwrap().len(), 2);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("Recommended: learning rate 0.001"), "{md}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("Recommended: learning rate 0.001"));

    let config = json(&out.join("config.json"));
    assert_eq!(config["backend"], "ndarray");
    assert_eq!(config["config"]["epochs"], 2);
    assert_eq!(config["data"]["train_size"], 2550);
    assert_eq!(config["data"]["valid_size"], 450);
    assert_eq!(config["data"]["files"].as_array().unwrap().len(), 4);
    assert_eq!(
        config["data"]["files"][0]["sha256"],
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
    );
    assert!(config["lrsweep_version"].is_string() && config["burn_version"] == "0.22.1");
}

#[test]
fn refine_adds_two_rates_between_the_best_and_its_better_neighbour() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "2000",
        "--epochs",
        "2",
        "--rates",
        "1e-4,1e-3,1e-2",
        "--refine",
        "2",
        "--backend",
        "ndarray",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = json(&out.join("summary.json"));
    let rates: Vec<f64> = summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rate"].as_f64().unwrap())
        .collect();
    assert_eq!(rates.len(), 5, "{rates:?}");
    assert_eq!(&rates[..3], &[1e-4, 1e-3, 1e-2]);
    // The best listed rate and its better neighbour, from the listed rates' own figures.
    let listed = &summary["rates"].as_array().unwrap()[..3];
    let loss = |i: usize| listed[i]["min_val_loss"].as_f64().unwrap();
    let best = (0..3).min_by(|&a, &b| loss(a).total_cmp(&loss(b))).unwrap();
    let neighbour = [best.checked_sub(1), Some(best + 1).filter(|&i| i < 3)]
        .into_iter()
        .flatten()
        .min_by(|&a, &b| loss(a).total_cmp(&loss(b)))
        .unwrap();
    // Halving (or doubling) from the best toward the neighbour, as the reference did: a decade
    // apart, two steps stay inside (1e-3 toward 1e-4 gives 5e-4 and 2.5e-4).
    let (b, nb) = (rates[best], rates[neighbour]);
    let factor: f64 = if nb < b { 0.5 } else { 2.0 };
    for (k, added) in rates[3..].iter().enumerate() {
        let expected = b * factor.powi(k as i32 + 1);
        assert!(
            (added - expected).abs() <= 1e-12 * expected,
            "refined rate {} is {added}, expected {expected} (best {b}, neighbour {nb})",
            k + 1
        );
        let label = summary["rates"][3 + k]["label"].as_str().unwrap();
        assert_eq!(
            metrics(&out.join(format!("lr-{label}/metrics.csv"))).len(),
            2
        );
        assert!(out.join(format!("lr-{label}.png")).is_file());
    }
    let config = json(&out.join("config.json"));
    assert_eq!(config["rates_trained"].as_array().unwrap().len(), 5);
}

#[test]
fn auto_backend_without_a_gpu_trains_on_the_cpu_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "1000",
        "--epochs",
        "1",
        "--rates",
        "1e-3",
        "--refine",
        "0",
        "--backend",
        "auto",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("no GPU adapter") && stderr.contains("training on cpu"),
        "{stderr}"
    );
    let config = json(&out.join("config.json"));
    assert_eq!(config["backend"], "cpu", "{config:#}");
    assert!(config["backend_fallback_reason"]
        .as_str()
        .unwrap()
        .contains("no GPU adapter"));
}

#[test]
fn the_same_seed_writes_the_same_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = tmp.path().join(name);
        let o = lrsweep(&[
            "sweep",
            "--limit",
            "1500",
            "--epochs",
            "2",
            "--rates",
            "1e-3",
            "--refine",
            "0",
            "--backend",
            "ndarray",
            "--seed",
            "7",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        metrics(&out.join("lr-0.001/metrics.csv"))
            .into_iter()
            .map(|mut row| {
                row.remove(crate::common::SECONDS);
                row
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run("a"), run("b"));
}

#[test]
fn rates_trained_together_equal_rates_trained_one_after_another() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "sweep",
            "--limit",
            "2000",
            "--epochs",
            "3",
            "--rates",
            "1e-3,1e-2,10",
            "--refine",
            "1",
            "--no-find",
            "--backend",
            "flex",
            "--out",
        ];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        let o = lrsweep(&args);
        assert!(o.status.success(), "{}", text(&o));
        (out, String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (stacked, progress) = run("stacked", &[]);
    let (serial, _) = run("serial", &["--serial"]);
    assert!(
        progress.contains("learning rates 0.001, 0.01, 10 together"),
        "{progress}"
    );
    // One line per rate and epoch; the epoch's last line says how long the sweep has left.
    let round_1 = [
        "lr 0.001 epoch 2/3: ",
        "lr 0.01 epoch 2/3: ",
        "lr 10 epoch 2/3: ",
    ];
    let epoch_2: Vec<&str> = progress
        .lines()
        .filter(|l| round_1.iter().any(|r| l.starts_with(r)))
        .collect();
    assert_eq!(epoch_2.len(), 3, "{progress}");
    assert!(
        epoch_2[0].starts_with("lr 0.001 epoch 2/3: loss "),
        "{progress}"
    );
    assert!(epoch_2[2].contains("— sweep: about "), "{progress}");
    let summary = json(&stacked.join("summary.json"));
    let labels: Vec<String> = summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(labels.len(), 4, "three listed, one refined: {labels:?}");
    for label in &labels {
        let csv = |d: &std::path::Path| figures(&d.join(format!("lr-{label}/metrics.csv")));
        assert_eq!(csv(&stacked), csv(&serial), "lr {label}");
    }
    let config = json(&stacked.join("config.json"));
    assert_eq!(config["config"]["serial"], false);
}
