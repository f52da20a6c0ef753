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
