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
    for (i, alias) in ["--lr", "--lrs", "--learning-rates"].iter().enumerate() {
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
    for (flag, value) in [
        ("--epochs", "0"),
        ("--hidden", "0"),
        ("--patience", "0"),
        ("--batch-size", "0"),
    ] {
        let o = lrsweep(&["sweep", flag, value]);
        assert_eq!(o.status.code(), Some(2), "{flag}");
        let t = text(&o);
        assert!(
            t.contains("must be at least 1") && !t.contains("18446744073709551615"),
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
