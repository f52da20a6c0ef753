//! `lrsweep bench`: one row per backend with every figure, written as JSON, CSV and a chart.

use crate::common::{lrsweep, text};

#[test]
fn bench_on_ndarray_writes_every_field_finite_and_positive() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = lrsweep(&[
        "bench",
        "--backends",
        "ndarray",
        "--epochs",
        "2",
        "--limit",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap()).unwrap();
    assert_eq!(report["epochs"], 2);
    assert_eq!(report["train_images"], 1700);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["backend"], "ndarray");
    assert_eq!(row["ok"], true);
    assert!(row["device"].as_str().unwrap().contains("CPU"));
    for field in [
        "warmup_s",
        "median_ms",
        "images_per_s",
        "gflops",
        "peak_mib",
        "val_acc",
    ] {
        let v = row[field].as_f64().unwrap_or(f64::NAN);
        assert!(v.is_finite() && v > 0.0, "{field} = {v}");
    }
    assert!(row["val_acc"].as_f64().unwrap() > 0.5);
    let csv = std::fs::read_to_string(out.join("bench.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(image::open(out.join("bench.png")).is_ok());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("| ndarray | CPU"), "{stdout}");
}

#[test]
fn an_unknown_backend_is_a_clear_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = lrsweep(&[
        "bench",
        "--backends",
        "ndarray,cuda",
        "--epochs",
        "2",
        "--limit",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown backend 'cuda'"));
    assert!(!out.exists());
}

/// Each row says what computed the steps: the cpu backend its path and the density it saw,
/// `auto` choosing sparse for MNIST; Burn's backends `tensor`. Both reach the same accuracy.
#[test]
fn bench_says_which_cpu_path_ran_and_the_density_it_saw() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec![
            "bench",
            "--epochs",
            "2",
            "--limit",
            "2000",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = lrsweep(&args);
        assert!(o.status.success(), "{}", text(&o));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("bench.json")).unwrap())
                .unwrap();
        (report, String::from_utf8_lossy(&o.stdout).to_string())
    };
    let (auto, table) = run("auto", &["--backends", "cpu,flex"]);
    let rows = auto["rows"].as_array().unwrap();
    assert_eq!(
        (rows[0]["backend"].as_str(), rows[0]["path"].as_str()),
        (Some("cpu"), Some("sparse"))
    );
    assert_eq!(
        (rows[1]["backend"].as_str(), rows[1]["path"].as_str()),
        (Some("flex"), Some("tensor"))
    );
    let density = rows[0]["density"].as_f64().unwrap();
    assert!(
        (0.15..0.25).contains(&density),
        "MNIST is ~19% non-zero: {density}"
    );
    assert!(
        table.contains("| cpu | CPU") && table.contains("sparse (19."),
        "{table}"
    );
    let acc = |r: &serde_json::Value| r["val_acc"].as_f64().unwrap();
    assert!((acc(&rows[0]) - acc(&rows[1])).abs() < 0.005, "{rows:?}");
    let (dense, table) = run("dense", &["--backends", "cpu", "--cpu-path", "dense"]);
    assert_eq!(dense["rows"][0]["path"], "dense");
    assert!(table.contains("dense (19."), "{table}");
    assert!((acc(&dense["rows"][0]) - acc(&rows[0])).abs() < 0.005);
}
