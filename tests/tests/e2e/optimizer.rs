//! Issue 34: the user's optimizer. Adam, AdamW, SGD and RMSprop swept together, each at its own
//! rates, compared at their best; a mixed stack killed and resumed, serial and stacked, gives
//! the same figures; pruning ranks each optimizer's rates among themselves; bad specs refused.

use serde_json::Value;

use crate::bad_input::refused;
use crate::common::{json, killed_after, lrsweep, same_stacked_serial_and_resumed, sweep_ok, text};

#[test]
fn optimizers_are_swept_each_at_its_own_rates_and_compared_at_their_best() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let said = sweep_ok(
        &[
            "--limit",
            "3000",
            "--epochs",
            "4",
            "--optimizer",
            "adam,adamw,sgd:0.9,rmsprop",
            "--refine",
            "1",
            "--backend",
            "cpu",
        ],
        &run,
    );
    // Without --rates: the adaptive optimizers the reference's five decades, SGD its own.
    let config = json(&run.join("config.json"));
    let c = &config["config"];
    assert_eq!(
        c["rates"],
        serde_json::json!([1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    );
    assert_eq!(
        c["optimizer_rates"],
        serde_json::json!([{"optimizer": "sgd:0.9", "rates": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]}])
    );
    assert_eq!(c["convention"], "keras");
    assert_eq!(c["optimizer_defaults"]["adamw_decay"], 0.004);
    for dir in [
        "lr-0.001",
        "lr-0.001-adamw",
        "lr-1-sgd-0.9",
        "lr-0.1-rmsprop",
    ] {
        assert!(run.join(dir).join("metrics.csv").exists(), "{dir}");
    }
    assert!(
        !run.join("lr-0.00001-sgd-0.9").exists(),
        "SGD does not train at 1e-5"
    );
    let summary = json(&run.join("summary.json"));
    let rates = summary["rates"].as_array().unwrap();
    // Four groups, five listed rates and one refined each.
    assert_eq!(rates.len(), 24, "{summary:#}");
    // AdamW says how much its weights shrink each step: the rate times 0.004 (Keras').
    for r in rates.iter().filter(|r| r["optimizer"] == "adamw") {
        let d = r["decay_per_step"].as_f64().unwrap();
        assert!(
            (d - r["rate"].as_f64().unwrap() * 0.004).abs() < 1e-15,
            "{r:#}"
        );
    }
    // Each optimizer at its best: real accuracy, SGD's best rate well above Adam's.
    let best = summary["optimizers"].as_array().unwrap();
    let names: Vec<&str> = best.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["adam", "adamw", "sgd:0.9", "rmsprop"]);
    for b in best {
        assert!(b["best_val_acc"].as_f64().unwrap() > 0.88, "{b:#}");
    }
    let rate_of = |name: &str| {
        best.iter().find(|b| b["name"] == name).unwrap()["rate"]
            .as_f64()
            .unwrap()
    };
    assert!(rate_of("sgd:0.9") > 3.0 * rate_of("adam"), "{best:#?}");
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(
        md.contains("Each optimizer at its best rate (see optimizers.png)")
            && md.contains("| rate | adam | adamw | sgd:0.9 | rmsprop |")
            && md.contains("Best optimizer: ")
            && md.contains("optimizer adam, adamw, sgd:0.9, rmsprop"),
        "{md}"
    );
    // The recommendation names its optimizer (unless it is Adam).
    let rec = &summary["recommended"];
    let lead = md.lines().find(|l| l.starts_with("**Recommended")).unwrap();
    match rec["optimizer"].as_str() {
        Some(o) => assert!(lead.contains(&format!("with {o}")), "{lead}"),
        None => assert!(!lead.contains(" with "), "{lead}"),
    }
    // A range test per optimizer, each compared with that optimizer's answer.
    for file in [
        "find.json",
        "find-adamw.json",
        "find-sgd-0.9.json",
        "find-rmsprop.json",
    ] {
        assert!(run.join(file).exists(), "{file}");
    }
    assert_eq!(json(&run.join("find-sgd-0.9.json"))["optimizer"], "sgd:0.9");
    assert!(md.contains("Range test with sgd:0.9: valley"), "{md}");
    assert_eq!(summary["range_tests"].as_array().unwrap().len(), 4);
    assert!(said.contains("Each optimizer at its best rate"));
    for chart in ["optimizers.png", "overview-sgd-0.9.png", "find-sgd-0.9.png"] {
        assert!(run.join(chart).exists(), "{chart}");
    }
    let svg = std::fs::read_to_string(run.join("lr-0.01-sgd-0.9.svg")).unwrap();
    assert!(svg.contains("Model - Learning Rate 0.01 (sgd:0.9)"));
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        page.contains("<h2>Optimizers</h2>") && page.contains("<h2>Range test with sgd:0.9</h2>")
    );
    // The range test alone, with an optimizer.
    let find = tmp.path().join("find");
    let o = lrsweep(&[
        "find",
        "--optimizer",
        "sgd:0.9:nesterov",
        "--convention",
        "torch",
        "--limit",
        "2000",
        "--backend",
        "cpu",
        "--out",
        find.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("range test with sgd:0.9:nesterov"));
    assert_eq!(
        json(&find.join("find.json"))["optimizer"],
        "sgd:0.9:nesterov"
    );
}

const MIXED: [&str; 18] = [
    "--limit",
    "4000",
    "--epochs",
    "6",
    "--rates",
    "1e-3,1e-2",
    "--refine",
    "0",
    "--optimizer",
    "adam,sgd:0.9:nesterov,rmsprop:0.9:0.5,adamw",
    "--weight-decay",
    "1e-4",
    "--convention",
    "torch",
    "--no-find",
    "--hidden",
    "128,64",
    "--full-curves",
];

#[test]
fn a_mixed_optimizer_stack_is_the_same_serial_killed_and_resumed() {
    let with = |backend| {
        let mut settings = MIXED.to_vec();
        settings.extend(["--backend", backend]);
        settings
    };
    for backend in ["cpu", "flex"] {
        same_stacked_serial_and_resumed(&with(backend), "lr-0.001-sgd-0.9-nesterov", 8, 6);
    }
    // A checkpoint belongs to its optimizer: resuming with another is refused.
    let tmp = tempfile::tempdir().unwrap();
    let killed = tmp.path().join("killed");
    killed_after(&with("cpu"), &killed, "lr-0.001-sgd-0.9-nesterov", 1);
    let o = lrsweep(&[
        "sweep",
        "--resume",
        killed.to_str().unwrap(),
        "--optimizer",
        "adam",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--optimizer adam (the run has adam,sgd:0.9:nesterov"),
        "{}",
        text(&o)
    );
}

#[test]
fn pruning_ranks_each_optimizer_s_rates_among_themselves() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    sweep_ok(
        &[
            "--limit",
            "2000",
            "--epochs",
            "9",
            "--optimizer",
            "adam,sgd:0.9",
            "--prune",
            "halving",
            "--refine",
            "0",
            "--no-find",
            "--full-curves",
            "--backend",
            "cpu",
        ],
        &run,
    );
    let summary = json(&run.join("summary.json"));
    let rates = summary["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 10);
    for optimizer in [Value::Null, Value::from("sgd:0.9")] {
        let mine: Vec<&Value> = rates
            .iter()
            .filter(|r| r["optimizer"] == optimizer)
            .collect();
        assert_eq!(mine.len(), 5);
        // Ranked among their own five: ⌈5/3⌉ = 2 go on from the first rung (3), and at least
        // one reaches the end.
        let at_3: Vec<&&Value> = mine.iter().filter(|r| r["pruned_at"] == 3).collect();
        assert!(!at_3.is_empty(), "{optimizer}: {mine:#?}");
        for r in &at_3 {
            assert!(
                r["rung_rank"]
                    .as_str()
                    .unwrap()
                    .ends_with("of 5 at epoch 3"),
                "{r:#}"
            );
        }
        assert!(
            mine.iter().any(|r| r["epochs"] == 9),
            "{optimizer}: {mine:#?}"
        );
    }
    assert!(summary["pruning"]["rate_epochs"].as_u64().unwrap() < 90);
}

#[test]
fn bad_optimizers_are_refused_before_anything_is_written() {
    refused(&["--optimizer", "adagrad"], "unknown optimizer 'adagrad'");
    refused(
        &["--optimizer", "adam,sgd:1"],
        "momentum 1 must be at least 0 and below 1",
    );
    refused(
        &["--optimizer", "rmsprop:1.5"],
        "rho 1.5 must be at least 0 and below 1",
    );
    refused(
        &["--optimizer", "adamw:-0.1"],
        "must be a finite number at least 0",
    );
    refused(
        &["--optimizer", "sgd:0:nesterov"],
        "needs a momentum above 0",
    );
    refused(&["--optimizer", "sgd:0.9:heavy"], "is not 'nesterov'");
    refused(
        &["--weight-decay", "-1"],
        "a weight decay must be a finite number at least 0",
    );
    refused(&["--convention", "jax"], "invalid value 'jax'");
}
