//! The round's house (issue 31): a resume compares the settings that define a run by name and
//! takes the execution settings from its command line; `--quick` on a resume is applied or
//! refused, and said; charts are written as every other run file is, never through a link.

use std::path::Path;

use crate::common::{lrsweep, text};

/// A small pruned sweep's arguments (two rates, a rung at epoch 1).
fn pruned(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "sweep",
        "--limit",
        "1000",
        "--epochs",
        "3",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--backend",
        "cpu",
        "--prune",
        "halving:2:1",
        "--seed",
        "42",
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--out".to_string(), out.display().to_string()]);
    args
}

fn run(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lrsweep(&args)
}

fn resume(dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "--resume", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    lrsweep(&args)
}

/// Every file under `dir` with its bytes, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((
                    p.display().to_string(),
                    std::fs::read(&p).unwrap_or_default(),
                ));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_resume_compares_settings_by_name_and_applies_or_refuses_quick() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = run(&pruned(&out, &[]));
    assert!(o.status.success(), "{}", text(&o));
    let before = snapshot(&out);
    // Its own seed is its own seed (a pruned run's record once put the comparison out of step).
    let o = resume(&out, &["--seed", "42"]);
    assert!(o.status.success(), "{}", text(&o));
    // Settings that define the run are compared, not ignored; nothing is written.
    for (args, says) in [
        (vec!["--warmup", "2"], "--warmup 2 (the run has 0)"),
        (vec!["--reshuffle"], "--reshuffle true (the run has false)"),
        (
            vec!["--prune", "halving:3:1"],
            "--prune halving:3:1 (the run has halving:2:1)",
        ),
        (vec!["--seed", "1"], "--seed 1 (the run has 42)"),
        (
            vec!["--quick"],
            "--prune halving:3:3 (the run has halving:2:1) [from --quick]",
        ),
    ] {
        let o = resume(&out, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(says) && err.contains("other settings"),
            "{args:?}: {err}"
        );
    }
    let after: Vec<_> = snapshot(&out)
        .into_iter()
        .filter(|(p, _)| !p.ends_with("status.json"))
        .collect();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("status.json"))
        .collect();
    assert!(after == before, "a refused resume changed the run");
    // A run made with --quick takes --quick on its resume: applied (it is the run's own).
    let quick = tmp.path().join("quick");
    let mut args = pruned(&quick, &["--quick"]);
    let at = args.iter().position(|a| a == "--prune").unwrap();
    args.drain(at..at + 2);
    let at = args.iter().position(|a| a == "--epochs").unwrap();
    args[at + 1] = "4".to_string();
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let o = resume(&quick, &["--quick"]);
    assert!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--quick: the run was made with it (--prune halving:3:3, --patience 10)")
            && err.contains("finished before, kept as it is"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_resume_takes_its_execution_settings_from_its_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = run(&pruned(&out, &[]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("find.json").is_file());
    // Without its range test, a resume runs one (the run's own setting), unless it is given
    // --no-find, which is then the run's (config.json records how it was last run).
    let drop_find = || {
        for f in ["find.json", "find.csv", "find.png"] {
            std::fs::remove_file(out.join(f)).unwrap();
        }
    };
    drop_find();
    let o = resume(&out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("find.json").is_file(), "{}", text(&o));
    drop_find();
    let o = resume(&out, &["--no-find"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.join("find.json").exists(), "--no-find was ignored");
    let record = crate::common::json(&out.join("config.json"));
    assert_eq!(record["config"]["no_find"], true);
    // --serial and --cpu-path too: accepted, never compared.
    let o = resume(&out, &["--serial", "--cpu-path", "dense"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn charts_never_write_through_a_link_at_their_place_or_a_predictable_temporary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args = pruned(&out, &["--no-find"]);
    let at = args.iter().position(|a| a == "--prune").unwrap();
    args.drain(at..at + 2);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    // A link where the chart goes, and links at every name the old predictable temporary
    // would take for the next processes (`.partial-<pid>-<chart>`).
    for chart in ["lr-0.001.png", "lr-0.001.svg", "overview.png"] {
        let path = out.join(chart);
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let me = std::process::id();
        for pid in me..me + 400 {
            let _ =
                std::os::unix::fs::symlink(&victim, out.join(format!(".partial-{pid}-{chart}")));
        }
    }
    let o = lrsweep(&["report", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    for chart in ["lr-0.001.png", "lr-0.001.svg", "overview.png"] {
        let meta = std::fs::symlink_metadata(out.join(chart)).unwrap();
        assert!(
            meta.is_file() && meta.len() > 1000,
            "{chart} is a chart again, not a link"
        );
    }
    let png = std::fs::read(out.join("lr-0.001.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    // No temporary of lrsweep's is left behind.
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".lrsweep-tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
