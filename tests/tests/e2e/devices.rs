//! `lrsweep devices`: every device numbered, and exactly one marked as `auto`'s choice.

use crate::common::{lrsweep, text};

#[test]
fn devices_lists_the_adapters_and_the_cpu_backends_with_one_auto_choice() {
    let o = lrsweep(&["devices", "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    let backends: Vec<&str> = listed
        .iter()
        .map(|d| d["backend"].as_str().unwrap())
        .collect();
    assert!(
        backends.contains(&"flex") && backends.contains(&"ndarray"),
        "{backends:?}"
    );
    assert_eq!(
        listed.iter().filter(|d| d["auto"] == true).count(),
        1,
        "{listed:?}"
    );
    let wgpu: Vec<&serde_json::Value> = listed.iter().filter(|d| d["backend"] == "wgpu").collect();
    for (i, d) in wgpu.iter().enumerate() {
        assert_eq!(d["index"], i, "wgpu adapters are numbered in order");
        assert!(d["api"].is_string() && d["name"].is_string());
    }
    if std::env::var_os("LRSWEEP_REQUIRE_WGPU").is_some() {
        assert!(
            !wgpu.is_empty(),
            "LRSWEEP_REQUIRE_WGPU is set: lavapipe must be listed"
        );
    }
    // Without a real GPU, auto trains on lrsweep's CPU engine (as the sweep says when it falls
    // back); flex and ndarray are listed for comparison, never chosen.
    if wgpu.iter().all(|d| d["kind"] == "Cpu") {
        let cpu = listed.iter().find(|d| d["backend"] == "cpu").unwrap();
        assert_eq!(cpu["auto"], true);
    }
    for other in ["flex", "ndarray"] {
        let d = listed.iter().find(|d| d["backend"] == other).unwrap();
        assert_eq!(d["auto"], false, "{other}");
    }
    let table = lrsweep(&["devices"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("| - | cpu |") && table.contains("| - | flex |"),
        "{table}"
    );
}

/// `--devices`: a round's rates spread over workers, one thread per listed adapter, each
/// training its share as a stack; the figures are a one-device run's. Without a second adapter
/// here, the two workers share lavapipe (an index listed twice).
#[test]
fn rates_spread_over_two_device_workers_equal_a_one_device_run() {
    use crate::common::figures;
    if !crate::common::wgpu_listed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let settings = [
        "--limit",
        "1000",
        "--epochs",
        "1",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--no-find",
        "--hidden",
        "32",
    ];
    let run = |dir: &str, extra: &[&str]| {
        let out = tmp.path().join(dir);
        let mut args = vec!["sweep"];
        args.extend(settings);
        args.extend(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        let o = lrsweep(&args);
        assert!(o.status.success(), "{}", text(&o));
        (out, o)
    };
    let (spread, o) = run("spread", &["--devices", "0,0"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("training on 2 devices, one worker each"),
        "{}",
        text(&o)
    );
    let (one, _) = run("one", &["--backend", "wgpu", "--serial"]);
    for rate in ["0.001", "0.01"] {
        let (a, b) = (
            figures(&spread.join(format!("lr-{rate}/metrics.csv"))),
            figures(&one.join(format!("lr-{rate}/metrics.csv"))),
        );
        assert_eq!(a.len(), 1);
        for (x, y) in a[0].iter().zip(&b[0]).skip(1) {
            let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(
                (x - y).abs() <= 1e-6 * y.abs().max(1.0),
                "lr {rate}: {a:?} vs {b:?}"
            );
        }
    }
    let adapter = crate::common::json(&spread.join("config.json"))["adapter"].clone();
    assert!(adapter.as_str().unwrap().starts_with("0: "), "{adapter}");

    let bad = lrsweep(&[
        "sweep",
        "--devices",
        "7",
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("there is no adapter 7"),
        "{}",
        text(&bad)
    );
    let cpu = lrsweep(&[
        "sweep",
        "--devices",
        "0",
        "--backend",
        "flex",
        "--out",
        tmp.path().join("y").to_str().unwrap(),
    ]);
    assert_eq!(cpu.status.code(), Some(2), "{}", text(&cpu));
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("y").exists());
}
