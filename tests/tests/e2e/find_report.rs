//! `lrsweep find` (the range test), its place in the sweep's summary, and `lrsweep report`.

use crate::common::{json, lrsweep, text};

#[test]
fn the_range_test_stops_at_divergence_and_suggests_a_sensible_valley() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("find");
    let o = lrsweep(&[
        "find",
        "--limit",
        "3000",
        "--backend",
        "flex",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let result = json(&out.join("find.json"));
    assert_eq!(result["seed"], 5);
    assert_eq!(result["diverged"], true, "{result:#}");
    let steps = result["steps"].as_array().unwrap();
    assert!(
        steps.len() < 100,
        "stopped before --end: {} steps",
        steps.len()
    );
    let last_rate = steps.last().unwrap()["rate"].as_f64().unwrap();
    assert!(last_rate < 10.0);
    let valley = result["suggestions"]["valley"].as_f64().unwrap();
    assert!((1e-4..=1e-2).contains(&valley), "valley {valley}");
    let csv = std::fs::read_to_string(out.join("find.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("step,rate,loss,smoothed"));
    assert_eq!(csv.lines().count(), steps.len() + 1);
    assert!(image::open(out.join("find.png")).is_ok());
    assert!(String::from_utf8_lossy(&o.stdout).contains("valley"));
}

#[test]
fn report_reproduces_the_summary_and_names_a_damaged_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "2000",
        "--epochs",
        "3",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--backend",
        "flex",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = json(&out.join("summary.json"));
    assert!(
        summary["range_test"]["valley"].as_f64().is_some(),
        "the sweep ran the range test first"
    );
    assert!(out.join("find.csv").is_file());
    let before = std::fs::read(out.join("summary.json")).unwrap();
    std::fs::remove_file(out.join("lr-0.01.png")).unwrap();

    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read(out.join("summary.json")).unwrap(),
        before,
        "summary.json reproduced exactly"
    );
    assert!(out.join("lr-0.01.png").is_file(), "charts regenerated");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Recommended: learning rate") && page.contains("Range test"));
    assert_eq!(
        page.matches("data:image/png;base64,").count(),
        4,
        "range test, overview and two rates inlined"
    );

    let csv = out.join("lr-0.01/metrics.csv");
    let text_csv = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, text_csv.replacen("\n2,", "\n2,oops,", 1)).unwrap();
    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("lr-0.01/metrics.csv line 3"), "{stderr}");
}

#[test]
fn no_find_skips_the_range_test() {
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
        "--no-find",
        "--backend",
        "flex",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.join("find.json").exists());
    assert!(json(&out.join("summary.json"))["range_test"].is_null());
}
