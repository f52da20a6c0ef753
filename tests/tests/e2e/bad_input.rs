//! Bad input: exit code 2, a message that names the problem, and nothing written.

use crate::common::{lrsweep, text};

pub(crate) fn refused(extra: &[&str], expect: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = vec![
        "sweep",
        "--backend",
        "ndarray",
        "--out",
        out.to_str().unwrap(),
    ];
    for (flag, default) in [("--epochs", "1"), ("--limit", "500")] {
        if !extra.contains(&flag) {
            args.extend([flag, default]);
        }
    }
    args.extend_from_slice(extra);
    let o = lrsweep(&args);
    assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.to_lowercase().contains(&expect.to_lowercase()),
        "{extra:?}: expected '{expect}' in {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    assert!(!out.exists(), "{extra:?} wrote {}", out.display());
}

#[test]
fn bad_rates() {
    refused(&["--rates", "0"], "above 0");
    refused(&["--rates", "-1"], "above 0");
    refused(&["--rates", "abc"], "not a number");
    refused(&["--rates", "nan"], "finite");
    refused(&["--rates", "inf"], "finite");
    refused(&["--rates", ""], "empty");
    refused(&["--rates", "1e-3,,1e-2"], "empty");
}

#[test]
fn bad_sizes() {
    refused(&["--epochs", "0"], "epochs");
    refused(&["--batch-size", "0"], "batch-size");
    refused(&["--batch-size", "100000"], "larger than the");
    refused(&["--limit", "5"], "--limit 5");
    refused(&["--val-fraction", "1.5"], "between 0 and 1");
}

#[test]
fn missing_or_corrupt_data_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nowhere");
    refused(
        &["--data-dir", missing.to_str().unwrap()],
        "has no train-images-idx3-ubyte",
    );
    let corrupt = tmp.path().join("corrupt");
    std::fs::create_dir(&corrupt).unwrap();
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::write(corrupt.join(format!("{f}.gz")), b"\x1f\x8bnot really gzip").unwrap();
    }
    refused(&["--data-dir", corrupt.to_str().unwrap()], "corrupt gzip");
}

#[test]
fn an_existing_run_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("config.json"), "{\"previous\": true}").unwrap();
    let o = lrsweep(&[
        "sweep",
        "--backend",
        "ndarray",
        "--epochs",
        "1",
        "--limit",
        "500",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out DIR"));
    assert_eq!(
        std::fs::read_to_string(out.join("config.json")).unwrap(),
        "{\"previous\": true}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}
