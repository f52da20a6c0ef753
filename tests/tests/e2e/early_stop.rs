//! Early stopping, the saved models, and `lrsweep eval`.

use crate::common::{lrsweep, metrics, text};

#[test]
fn patience_stops_early_and_the_restored_model_scores_the_minimum() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // 2,550 training images at 1e-2 overfit within a few epochs: validation loss rises.
    let o = lrsweep(&[
        "sweep",
        "--limit",
        "3000",
        "--epochs",
        "30",
        "--rates",
        "1e-2",
        "--refine",
        "0",
        "--patience",
        "2",
        "--restore-best",
        "--backend",
        "flex",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has not improved for 2 epochs"));
    let rows = metrics(&out.join("lr-0.01/metrics.csv"));
    assert!(rows.len() < 30, "stopped early: {} epochs", rows.len());
    let losses: Vec<f64> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    let (best_i, min_loss) =
        losses.iter().enumerate().fold(
            (0, f64::INFINITY),
            |b, (i, &l)| if l < b.1 { (i, l) } else { b },
        );
    assert_eq!(
        best_i + 3,
        rows.len(),
        "patience 2 stops two epochs after the minimum"
    );

    for file in ["model.bpk", "best.bpk"] {
        let o = lrsweep(&[
            "eval",
            "--model",
            out.join("lr-0.01").join(file).to_str().unwrap(),
            "--backend",
            "flex",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        let after = |key: &str| -> f64 {
            let rest = &stdout[stdout
                .find(key)
                .unwrap_or_else(|| panic!("{key} in {stdout}"))
                + key.len()..];
            rest.split_whitespace().next().unwrap().parse().unwrap()
        };
        let (loss, acc) = (after("validation loss "), after("validation accuracy "));
        assert!(
            (loss - min_loss).abs() < 1e-5,
            "{file}: loss {loss} vs minimum {min_loss}"
        );
        let recorded_acc: f64 = rows[best_i][4].parse().unwrap();
        assert!(
            (acc - recorded_acc).abs() < 1e-4,
            "{file}: accuracy {acc} vs {recorded_acc}"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rate = &summary["rates"][0];
    assert!(
        rate.get("patience_5_stop").is_some() && rate.get("patience_10_stop").is_some(),
        "{rate:#}"
    );
    // The summary says why the rate stopped, with the user's patience.
    let stopped = &rate["stopped"];
    assert_eq!(stopped["reason"], "patience", "{rate:#}");
    assert_eq!(stopped["patience"], 2);
    assert_eq!(stopped["epoch"].as_u64(), Some(rows.len() as u64));
    assert_eq!(stopped["best_epoch"].as_u64(), Some(best_i as u64 + 1));
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let want = format!(
        "early stopping (patience 2) at epoch {}; best epoch {}",
        rows.len(),
        best_i + 1
    );
    assert!(md.contains(&want), "{want} in {md}");
}

#[test]
fn eval_without_its_description_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model.bpk");
    std::fs::write(&model, b"not a model").unwrap();
    let o = lrsweep(&["eval", "--model", model.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("model.json"),
        "{}",
        text(&o)
    );
}
