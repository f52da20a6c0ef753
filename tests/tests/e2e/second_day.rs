//! Issue 38, the second day: what a new user meets once the first sweep has run.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::{bin, mnist_dir, text};

/// `lrsweep sweep --data data` of one rate (1e-2) on the CPU engine into `out`, with `extra`.
fn table_sweep(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["sweep", "--data", data.to_str().unwrap(), "--rates", "1e-2"];
    args.extend(["--refine", "0", "--no-find", "--backend", "cpu"]);
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    crate::common::lrsweep(&args)
}

/// Every file and directory under `dir`, with its permission bits.
fn modes(dir: &Path) -> Vec<(String, u32, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        out.push((
            d.display().to_string(),
            d.metadata().unwrap().permissions().mode() & 0o777,
            true,
        ));
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let mode = p.metadata().unwrap().permissions().mode() & 0o777;
                out.push((p.display().to_string(), mode, false));
            }
        }
    }
    out
}

/// Run files are created with the user's umask, every one alike: with 022 a colleague reads the
/// report as well as the charts; with 077 nobody else reads anything.
#[test]
fn run_files_follow_the_users_umask() {
    let tmp = tempfile::tempdir().unwrap();
    for (umask, file, dir) in [("022", 0o644, 0o755), ("077", 0o600, 0o700)] {
        let out = tmp.path().join(format!("run-{umask}"));
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask {umask}; exec \"$0\" sweep --limit 1000 --epochs 2 --rates 1e-3,1e-2 --refine 0 --no-find --backend cpu --out \"$1\""
            ))
            .arg(bin())
            .arg(&out)
            .env("LRSWEEP_DATA_DIR", mnist_dir())
            .env_remove("MLFLOW_TRACKING_URI")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let all = modes(&out);
        assert!(all.len() > 20, "{all:?}");
        for (path, mode, is_dir) in all {
            let want = if is_dir { dir } else { file };
            assert_eq!(mode, want, "umask {umask}: {path} is {mode:o}");
        }
    }
}

/// A table smaller than the default batch trains as one batch of the whole training part, said
/// once; a batch the user asked for is refused, naming the largest that fits.
#[test]
fn a_small_table_trains_at_the_default_batch_and_a_chosen_one_is_refused_with_the_largest() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("small.csv");
    std::fs::write(
        &csv,
        crate::own_data::csv_text(120, 4, 3, &|c| format!("c{c}")),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let (d, o) = (csv.to_str().unwrap(), out.to_str().unwrap());
    let run = |extra: &[&str]| {
        let mut all = vec!["--epochs", "2"];
        all.extend_from_slice(extra);
        table_sweep(&csv, &out, &all)
    };
    let got = run(&[]);
    assert!(got.status.success(), "{}", text(&got));
    let train = crate::common::json(&out.join("config.json"))["data"]["train_size"]
        .as_u64()
        .unwrap();
    assert!(
        text(&got).contains(&format!(
            "fewer than the default batch of 256: each epoch trains them as one batch (--batch-size {train})"
        )),
        "{}",
        text(&got)
    );
    assert_eq!(
        crate::common::json(&out.join("config.json"))["config"]["batch_size"],
        train
    );
    std::fs::remove_dir_all(&out).unwrap();
    crate::common::usage_error(
        &[
            "sweep", "--data", d, "--batch-size", "256", "--epochs", "2", "--no-find", "--out", o,
        ],
        &format!("--batch-size 256 is larger than the {train} training items; the largest that fits is {train}"),
    );
    assert!(!out.exists());
}

/// `status` says each member's latest and best figures, its verdict so far and why a finished
/// member stopped; `--json` the same.
#[test]
fn status_has_the_numbers_the_verdict_so_far_and_why_a_member_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pruned");
    crate::common::small_sweep(
        &out,
        &[
            "--epochs",
            "4",
            "--rates",
            "1e-4,1e-3,1e-2",
            "--prune",
            "halving:2:1",
        ],
    );
    let o = crate::common::lrsweep(&["status", out.to_str().unwrap(), "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut pruned = 0;
    for row in s["rates"].as_array().unwrap() {
        let dir = out.join(row["dir"].as_str().unwrap());
        let lines = crate::common::metrics(&dir.join("metrics.csv"));
        let losses: Vec<f64> = lines.iter().map(|l| l[3].parse().unwrap()).collect();
        let f = &row["figures"];
        assert_eq!(f["epochs"], lines.len(), "{row}");
        assert_eq!(f["val_loss"].as_f64(), losses.last().copied(), "{row}");
        let best = losses.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(f["best_val_loss"].as_f64(), Some(best), "{row}");
        assert!(row["verdict"].is_string(), "{row}");
        let stopped = row["stopped"].as_str().unwrap();
        if lines.len() < 4 {
            pruned += 1;
            assert!(stopped.starts_with("pruned at epoch 2 (rank"), "{row}");
        } else {
            assert_eq!(stopped, "all 4 epochs", "{row}");
        }
    }
    assert!(pruned >= 1);
    let o = crate::common::lrsweep(&["status", out.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| val loss (latest / best) |"), "{table}");
    assert!(table.contains("pruned at epoch 2 (rank"), "{table}");

    // A member cut short: its figures and verdict so far.
    let killed = tmp.path().join("killed");
    let settings = [
        "--limit",
        "3000",
        "--epochs",
        "40",
        "--rates",
        "1e-3",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
    ];
    let kept = crate::common::killed_after(&settings, &killed, "lr-0.001", 3);
    let o = crate::common::lrsweep(&["status", killed.to_str().unwrap(), "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = &s["rates"][0];
    assert_eq!(row["figures"]["epochs"], kept, "{row}");
    assert!(
        row["verdict"].is_string() && row.get("stopped").is_none(),
        "{row}"
    );
}

/// A table as pandas and Kaggle write it: the index and the id column are left out with a note
/// (`--keep-columns` keeps them), and the label column is named, with why, on the Data line.
#[test]
fn a_pandas_table_leaves_its_index_and_id_out_and_names_its_label_column() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("kaggle.csv");
    let plain = crate::own_data::csv_text(150, 4, 3, &|c| format!("c{c}"));
    let mut table = String::new();
    for (i, line) in plain.lines().enumerate() {
        match i {
            0 => table += &format!(",id,{}\n", line.replace("species", "target")),
            _ => table += &format!("{},{},{line}\n", i - 1, 1000 + 7 * i),
        }
    }
    std::fs::write(&csv, table).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut all = vec!["--epochs", "1"];
        all.extend_from_slice(extra);
        let o = table_sweep(&csv, &out, &all);
        assert!(o.status.success(), "{}", text(&o));
        (out, text(&o))
    };
    let (out, said) = run("plain", &[]);
    assert!(
        said.contains("label column 'target' (by its name)"),
        "{said}"
    );
    assert!(
        said.contains("pandas' index") && said.contains("'id' is an identifier"),
        "{said}"
    );
    let config = crate::common::json(&out.join("config.json"));
    assert_eq!(config["data"]["inputs"], 4, "the 4 features only");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("150 items of 4 features, label column 'target' (by its name)"),
        "{md}"
    );
    let (kept, said) = run("kept", &["--keep-columns"]);
    assert!(!said.contains("left out"), "{said}");
    assert_eq!(
        crate::common::json(&kept.join("config.json"))["data"]["inputs"],
        6
    );
    let (dropped, _) = run("dropped", &["--drop", "f0,f1"]);
    assert_eq!(
        crate::common::json(&dropped.join("config.json"))["data"]["inputs"],
        2
    );
}

/// Messages of the second day: a missing file's error said once; `eval --val` for a model whose
/// sweep had no `--val` says so rather than "not the data it was trained on".
#[test]
fn messages_say_the_real_problem_once() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.csv");
    let o = crate::common::lrsweep(&[
        "sweep",
        "--data",
        missing.to_str().unwrap(),
        "--out",
        tmp.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        said.matches("No such file or directory").count(),
        1,
        "{said}"
    );

    let csv = tmp.path().join("t.csv");
    std::fs::write(
        &csv,
        crate::own_data::csv_text(150, 4, 3, &|c| format!("c{c}")),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let o = table_sweep(&csv, &out, &["--epochs", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    crate::common::usage_error(
        &[
            "eval",
            "--model",
            out.join("lr-0.01").join("best.bpk").to_str().unwrap(),
            "--val",
            csv.to_str().unwrap(),
            "--backend",
            "cpu",
        ],
        "was trained by a sweep without --val",
    );
}

/// `--quick`'s summary says the epochs its rates trained, not only the run's length.
#[test]
fn a_quick_summary_says_the_epochs_its_rates_trained() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("quick");
    let o = crate::common::lrsweep(&[
        "sweep",
        "--quick",
        "--limit",
        "1000",
        "--epochs",
        "12",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let summary = crate::common::json(&out.join("summary.json"));
    let epochs: Vec<u64> = summary["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["epochs"].as_u64().unwrap())
        .collect();
    let (lo, hi) = (epochs.iter().min().unwrap(), epochs.iter().max().unwrap());
    assert!(lo < hi, "{epochs:?}");
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!(
            "up to 12 epochs per rate ({lo} to {hi} trained: pruning and patience 10)"
        )),
        "{md}"
    );
}

/// `find` takes the options that shape the network, the loss and the split, as `sweep` does.
#[test]
fn find_range_tests_the_network_and_loss_being_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("find");
    let o = crate::common::lrsweep(&[
        "find",
        "--limit",
        "2000",
        "--steps",
        "20",
        "--hidden",
        "32,16",
        "--activation",
        "tanh",
        "--val-fraction",
        "0.3",
        "--loss",
        "exact",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out.join("find.json").is_file());
    crate::common::usage_error(&["find", "--loss", "mse"], "--loss");
}

/// `report.html` a person scans: the verdict a word set apart in the second column (its text
/// says it, whatever the colour), the gist beside it and the evidence a click away, the
/// recommended row marked, each rate linked to its chart; seen in headless Chromium at 1400
/// and 800 pixels (screenshots written beside the test's temporary files, their paths said).
#[test]
fn the_report_reads_as_a_dashboard_at_1400_and_800_pixels() {
    let Some(browser) = crate::trackers::chromium() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    crate::common::small_sweep(&out, &["--epochs", "4", "--rates", "1e-4,1e-3,1e-2"]);
    let page = format!("file://{}", out.join("report.html").display());
    let shots = std::env::temp_dir().join(format!("lrsweep-report-{}", std::process::id()));
    std::fs::create_dir_all(&shots).unwrap();
    for width in [1400, 800] {
        let shot = shots.join(format!("report-{width}.png"));
        let o = Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--window-size={width},1000"))
            .arg(format!("--screenshot={}", shot.display()))
            .arg(&page)
            .output()
            .unwrap();
        assert!(o.status.success() && shot.is_file(), "{}", text(&o));
        eprintln!("screenshot at {width} px: {}", shot.display());
    }
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &page,
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout).into_owned();
    let summary = crate::common::json(&out.join("summary.json"));
    let recommended = summary["recommended"]["dir"].as_str().unwrap();
    let table = dom
        .split("<table class=\"rates\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the rates' table");
    let header: Vec<&str> = table
        .split("<th")
        .skip(1)
        .map(|h| h.split('>').nth(1).unwrap().split('<').next().unwrap())
        .collect();
    assert_eq!(&header[..2], ["rate", "verdict"], "{header:?}");
    let rows: Vec<&str> = table.split("<tr id=\"row-").skip(1).collect();
    assert_eq!(rows.len(), 3);
    for (row, rate) in rows.iter().zip(summary["rates"].as_array().unwrap()) {
        let dir = rate["dir"].as_str().unwrap();
        assert!(row.starts_with(dir), "{row}");
        // The verdict's word is text in its badge, its evidence a click away.
        let word = rate["verdict"].as_str().unwrap().replace('_', " ");
        assert!(
            row.contains(&format!("\">{word}</span>")) && row.contains("<details>"),
            "{row}"
        );
        // Numbers right-aligned, prose left.
        assert!(row.contains("<td class=\"num\">") && row.contains("<td class=\"text\">"));
        // Linked to its chart, which exists.
        assert!(row.contains(&format!("href=\"#chart-{dir}\"")), "{row}");
        assert!(dom.contains(&format!("id=\"chart-{dir}\"")), "{dir}");
        let marked = row.contains("★ recommended") && row.contains("class=\"recommended\"");
        assert_eq!(marked, dir == recommended, "{row}");
    }
}
