//! Schedules and batch sizes swept together: every schedule of a round in one stack, each
//! member as it is alone, the `lr` column as its formula says, a killed run resumed as the
//! uninterrupted one, batch sizes as stacks of their own with scaled rates, and bad specs
//! refused before anything is written.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{bin, figures, json, lrsweep, metrics, mnist_dir, text, LR};

/// A small run: 3,000 images (2,550 to train: 10 batches of 256), CPU engine, no range test.
const SMALL: [&str; 7] = [
    "--limit",
    "3000",
    "--backend",
    "cpu",
    "--no-find",
    "--rates",
    "1e-3,1e-2",
];

fn sweep(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep"];
    args.extend(SMALL);
    args.extend(extra);
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// Each epoch's `lr` column of `dir`'s metrics.
fn lr_column(dir: &Path) -> Vec<f64> {
    metrics(&dir.join("metrics.csv"))
        .iter()
        .map(|r| r[LR].parse().unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs()
}

const SCHEDULES: &str = "constant,cosine,step:2:0.5,onecycle,plateau:0.5:1";

#[test]
fn schedules_train_in_one_stack_each_member_as_alone_with_the_rates_their_formulas_give() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = sweep(
        &out,
        &["--epochs", "4", "--refine", "1", "--schedule", SCHEDULES],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    let members = [
        "lr-0.001",
        "lr-0.001-cosine",
        "lr-0.001-step-2-0.5",
        "lr-0.001-onecycle",
        "lr-0.001-plateau-0.5-1",
        "lr-0.01-cosine",
    ];
    for m in members {
        assert!(out.join(m).join("done.json").is_file(), "{m}: {stderr}");
        assert!(out.join(format!("{m}.png")).is_file(), "{m}.png");
    }
    // The per-epoch and per-step rates at the epochs' last steps: 10 steps an epoch, 40 in all.
    let (steps, total) = (10.0, 40.0);
    assert_eq!(lr_column(&out.join("lr-0.001")), vec![1e-3; 4]);
    assert_eq!(
        lr_column(&out.join("lr-0.001-step-2-0.5")),
        vec![1e-3, 1e-3, 5e-4, 5e-4]
    );
    for (e, lr) in lr_column(&out.join("lr-0.001-cosine")).iter().enumerate() {
        let s = (e + 1) as f64 * steps - 1.0;
        let want = 1e-3 * 0.5 * (1.0 + (std::f64::consts::PI * s / total).cos());
        assert!(close(*lr, want), "cosine epoch {}: {lr} vs {want}", e + 1);
    }
    let one = lr_column(&out.join("lr-0.001-onecycle"));
    assert!(one[0] > 1e-3 / 25.0 && one[0] < 1e-3, "climbing: {one:?}");
    assert!(
        close(one[3], 1e-3 / 25.0 / 1e4),
        "ends at max/25/1e4: {one:?}"
    );
    // Every scheduled member trained exactly as it trains alone, and the constant one as a
    // plain sweep's rate.
    let plain = tmp.path().join("plain");
    sweep(&plain, &["--epochs", "4", "--refine", "0"]);
    assert_eq!(
        figures(&out.join("lr-0.001/metrics.csv")),
        figures(&plain.join("lr-0.001/metrics.csv")),
        "a constant member in a stack of schedules is the plain sweep's"
    );
    let serial = tmp.path().join("serial");
    sweep(
        &serial,
        &[
            "--epochs",
            "4",
            "--refine",
            "1",
            "--schedule",
            SCHEDULES,
            "--serial",
        ],
    );
    for m in members {
        assert_eq!(
            figures(&out.join(m).join("metrics.csv")),
            figures(&serial.join(m).join("metrics.csv")),
            "{m}: stacked and --serial differ"
        );
    }
    // The summary names each member; refinement ran per schedule.
    let summary = json(&out.join("summary.json"));
    let rows = summary["rates"].as_array().unwrap();
    let cosine = rows
        .iter()
        .find(|r| r["dir"] == "lr-0.001-cosine")
        .expect("a cosine row");
    assert_eq!(cosine["schedule"], "cosine");
    assert_eq!(cosine["batch_size"], 256);
    assert_eq!(cosine["effective_rate"], 1e-3);
    let config = json(&out.join("config.json"));
    let trained = config["rates_trained"].as_array().unwrap();
    assert_eq!(
        trained.len(),
        2 * 5 + 5,
        "two listed rates and one refined per schedule"
    );
    assert!(
        trained.contains(&serde_json::json!(0.001)),
        "the reference's as a bare rate"
    );
    let r = &summary["recommended"];
    let dir = r["dir"].as_str().unwrap();
    assert!(
        out.join(dir).is_dir(),
        "the recommendation names a member: {r}"
    );
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("| rate | constant | cosine | step:2:0.5 | onecycle | plateau:0.5:1 |"),
        "{md}"
    );
    assert!(md.contains("stop at epoch"), "{md}");
    for f in [
        "overview.png",
        "overview-cosine.png",
        "overview-step-2-0.5.png",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let svg = std::fs::read_to_string(out.join("lr-0.001-cosine.svg")).unwrap();
    assert!(
        svg.contains("Model - Learning Rate 0.001 (cosine)"),
        "title"
    );
    assert!(svg.contains(">\nRate\n<"), "the rate panel");
    let constant = std::fs::read_to_string(out.join("lr-0.001.svg")).unwrap();
    assert!(
        !constant.contains(">\nRate\n<"),
        "no panel for a constant rate"
    );
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("All rates, cosine"),
        "an overview per schedule"
    );
    assert!(
        page.contains("Lowest validation loss (epoch) of each rate in each group"),
        "the rate × schedule grid"
    );
    // status and report know the members.
    let st = lrsweep(&["status", out.to_str().unwrap(), "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let row = st["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dir"] == "lr-0.001-onecycle")
        .expect("status row");
    assert_eq!(row["schedule"], "onecycle");
    assert!(row["verdict"].is_string(), "{row}");
    let before = std::fs::read(out.join("summary.json")).unwrap();
    let rep = lrsweep(&["report", out.to_str().unwrap()]);
    assert!(rep.status.success(), "{}", text(&rep));
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn a_killed_scheduled_run_resumed_gives_the_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (killed, whole) = (tmp.path().join("killed"), tmp.path().join("whole"));
    let extra = [
        "--epochs",
        "6",
        "--refine",
        "0",
        "--schedule",
        "plateau:0.5:1,cosine,exp:0.7",
    ];
    let mut args: Vec<&str> = SMALL.to_vec();
    args.extend(extra);
    let mut child = Command::new(bin())
        .arg("sweep")
        .args(&args)
        .arg("--out")
        .arg(&killed)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let csv = killed.join("lr-0.01-plateau-0.5-1/metrics.csv");
    let start = Instant::now();
    while std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < 4 {
        assert!(child.try_wait().unwrap().is_none(), "ended before epoch 3");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let o = lrsweep(&["sweep", "--resume", killed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    sweep(&whole, &extra);
    for m in [
        "lr-0.001-plateau-0.5-1",
        "lr-0.01-plateau-0.5-1",
        "lr-0.001-cosine",
        "lr-0.01-exp-0.7",
    ] {
        let (a, b) = (
            figures(&killed.join(m).join("metrics.csv")),
            figures(&whole.join(m).join("metrics.csv")),
        );
        assert_eq!(a.len(), 6, "{m}");
        assert_eq!(a, b, "{m}: resumed and uninterrupted differ");
    }
}

#[test]
fn batch_sizes_train_as_stacks_of_their_own_with_scaled_rates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    sweep(
        &out,
        &[
            "--epochs",
            "3",
            "--refine",
            "0",
            "--batch-size",
            "128,256,512",
            "--scale-lr",
            "linear",
        ],
    );
    assert_eq!(lr_column(&out.join("lr-0.001-b128")), vec![5e-4; 3]);
    assert_eq!(lr_column(&out.join("lr-0.001")), vec![1e-3; 3]);
    assert_eq!(lr_column(&out.join("lr-0.01-b512")), vec![2e-2; 3]);
    let summary = json(&out.join("summary.json"));
    let row = summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["dir"] == "lr-0.001-b512")
        .unwrap()
        .clone();
    assert_eq!(
        (row["rate"].as_f64(), row["effective_rate"].as_f64()),
        (Some(1e-3), Some(2e-3))
    );
    assert_eq!(row["batch_size"], 512);
    let sizes = summary["batch_sizes"].as_array().unwrap();
    assert_eq!(sizes.len(), 3, "{sizes:?}");
    assert!(sizes
        .iter()
        .all(|b| b["images_per_s"].as_f64().unwrap() > 0.0));
    assert!(out.join("batch-sizes.png").is_file());
    assert!(out.join("overview-b512.png").is_file());
    // A scaled member is the plain run of its effective rate at its size.
    let plain = tmp.path().join("plain");
    sweep(
        &plain,
        &[
            "--epochs",
            "3",
            "--refine",
            "0",
            "--batch-size",
            "128",
            "--rates",
            "5e-4",
        ],
    );
    let strip_lr = |rows: Vec<Vec<String>>| -> Vec<Vec<String>> {
        rows.into_iter()
            .map(|mut r| {
                r.pop();
                r
            })
            .collect()
    };
    assert_eq!(
        strip_lr(figures(&out.join("lr-0.001-b128/metrics.csv"))),
        strip_lr(figures(&plain.join("lr-0.0005/metrics.csv")))
    );
}

#[test]
fn bad_schedules_and_batch_sizes_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--schedule", "cosine:abc"], "'abc' is not a number"),
        (vec!["--schedule", "step:0:0.5"], "at least 1 epoch"),
        (vec!["--schedule", "exp:0"], "0 < G ≤ 1"),
        (vec!["--schedule", "linear"], "unknown schedule 'linear'"),
        (
            vec!["--schedule", "onecycle", "--epochs", "1"],
            "at least 2 epochs",
        ),
        (vec!["--warmup", "3", "--epochs", "3"], "--warmup 3"),
        (vec!["--batch-size", "0"], "at least 1"),
        (
            vec!["--batch-size", "256,100000"],
            "--batch-size 100000 is larger than the 2550",
        ),
        (vec!["--scale-lr", "square"], "unknown --scale-lr 'square'"),
    ] {
        let out = tmp.path().join("never");
        let mut all: Vec<&str> = vec!["sweep"];
        all.extend(SMALL);
        all.extend(&args);
        all.extend(["--out", out.to_str().unwrap()]);
        let o = lrsweep(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn bench_times_schedules_alone_and_stacked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = lrsweep(&[
        "bench",
        "--backends",
        "cpu",
        "--epochs",
        "2",
        "--limit",
        "2000",
        "--rates",
        "1e-3",
        "--schedule",
        "constant,cosine",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let report = json(&out.join("bench.json"));
    let rows = report["rows"].as_array().unwrap();
    let stacked: Vec<_> = rows.iter().filter(|r| r["stack"] == 2).collect();
    assert_eq!(stacked.len(), 2, "{rows:?}");
    assert!(rows
        .iter()
        .any(|r| r["stack"] == 1 && r["schedule"] == "cosine"));
}

#[test]
fn work_tasks_train_every_schedule_and_batch_size_and_refine_each_group() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, local) = (tmp.path().join("dist"), tmp.path().join("local"));
    let settings = [
        "--epochs",
        "3",
        "--refine",
        "1",
        "--schedule",
        "constant,exp:0.5",
        "--batch-size",
        "256,512",
    ];
    let mut prepare: Vec<&str> = settings.to_vec();
    prepare.extend(["--slurm", "--dry-run"]);
    let o = sweep(&dir, &prepare);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Nothing submitted"));
    let run = |step: &[&str]| {
        let mut args = vec!["work", dir.to_str().unwrap()];
        args.extend(step);
        let o = lrsweep(&args);
        assert!(o.status.success(), "{step:?}: {}", text(&o));
        o
    };
    // Round 1: two rates in four groups, one task each.
    for i in 0..8 {
        run(&["--index", &i.to_string()]);
    }
    let refine = String::from_utf8_lossy(&run(&["--refine"]).stdout).to_string();
    let config = json(&dir.join("config.json"));
    let planned = config["rates_trained"].as_array().unwrap().len();
    assert_eq!(planned, 8 + 4, "one refined rate per group: {refine}");
    for i in 8..planned {
        run(&["--index", &i.to_string()]);
    }
    run(&["--finish"]);
    // The same run swept here: the same members with the same figures.
    sweep(&local, &settings);
    let summary = json(&dir.join("summary.json"));
    let rows = summary["rates"].as_array().unwrap();
    assert_eq!(rows.len(), 12);
    for row in rows {
        let member = row["dir"].as_str().unwrap();
        assert_eq!(
            figures(&dir.join(member).join("metrics.csv")),
            figures(&local.join(member).join("metrics.csv")),
            "{member}"
        );
    }
    assert!(dir.join("lr-0.01-exp-0.5-b512").join("done.json").is_file());
    assert!(dir.join("batch-sizes.png").is_file());
    assert_eq!(
        summary["recommended"],
        json(&local.join("summary.json"))["recommended"]
    );
}
