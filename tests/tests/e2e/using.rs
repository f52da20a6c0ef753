//! Issue 38, using what a sweep trained: `eval --data` scores a file the sweep never saw,
//! `predict` writes each item's class and probabilities, `export` writes safetensors that
//! PyTorch's `nn.Sequential` loads, predicting what `predict` predicts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{lrsweep, mnist_dir, text, usage_error};

/// `n` items of `width` features in `classes` classes: class-dependent centres a few units
/// apart with noise of one unit, so that a network learns them well but not perfectly.
fn rows(n: usize, width: usize, classes: usize) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut state = 7u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let labels: Vec<usize> = (0..n).map(|i| (i * 7 + i / 3) % classes).collect();
    let x = labels
        .iter()
        .map(|&c| {
            (0..width)
                .map(|j| {
                    let noise: f64 = (0..4).map(|_| uniform() - 0.5).sum::<f64>() * 1.7;
                    ((c * 5 + j * 3) % 7) as f64 * 0.6 + 50.0 + noise
                })
                .collect()
        })
        .collect();
    (x, labels)
}

/// A table of `rows`' items `range` with feature columns `f0…` and the label column `species`
/// (when `label`); `index` adds pandas' unnamed index first, `reversed` lists the features in
/// the opposite order.
fn table(range: std::ops::Range<usize>, label: bool, index: bool, reversed: bool) -> String {
    let (x, y) = rows(400, 6, 3);
    let mut order: Vec<usize> = (0..6).collect();
    if reversed {
        order.reverse();
    }
    let mut head: Vec<String> = order.iter().map(|j| format!("f{j}")).collect();
    if index {
        head.insert(0, String::new());
    }
    if label {
        head.push("species".into());
    }
    let mut s = head.join(",") + "\n";
    for (k, i) in range.enumerate() {
        let mut cells: Vec<String> = order.iter().map(|&j| format!("{:.3}", x[i][j])).collect();
        if index {
            cells.insert(0, k.to_string());
        }
        if label {
            cells.push(format!("kind-{}", y[i]));
        }
        s += &(cells.join(",") + "\n");
    }
    s
}

/// A sweep of `train.csv` (items 0..300) in `dir` with `extra` settings: its best model file.
fn trained(dir: &Path, extra: &[&str]) -> PathBuf {
    let train = dir.join("train.csv");
    std::fs::write(&train, table(0..300, true, false, false)).unwrap();
    let out = dir.join("run");
    let mut args = vec![
        "sweep",
        "--data",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-find",
        "--rates",
        "1e-2",
        "--refine",
        "0",
        "--epochs",
        "8",
        "--batch-size",
        "32",
        "--backend",
        "cpu",
    ];
    args.extend_from_slice(extra);
    let o = lrsweep(&args);
    assert!(o.status.success(), "{}", text(&o));
    out.join("lr-0.01").join("best.bpk")
}

/// The numbers of `line` (the first that starts with `start`), in order.
fn numbers(out: &str, start: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{out}"));
    line.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The rows of a predictions file: header, then each item's cells.
fn predictions(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
    let head = lines.next().unwrap();
    (head, lines.collect())
}

#[test]
fn eval_scores_a_file_the_sweep_never_saw_with_standard_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let model = trained(tmp.path(), &[]);
    let m = model.to_str().unwrap();
    // A test file of items the sweep never saw, its columns in another order, with pandas'
    // index: read by the columns' names, the index left out.
    let test = tmp.path().join("test.csv");
    std::fs::write(&test, table(300..400, true, true, true)).unwrap();
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        test.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.contains("100 items of"), "{out}");
    let acc = numbers(&out, "accuracy");
    let se = numbers(&out, "standard errors");
    assert!(acc[0] >= 0.9, "a real accuracy on unseen items: {out}");
    let expected_se = (acc[0] * (1.0 - acc[0]) / 100.0).sqrt();
    assert!(
        (se[0] - expected_se).abs() < 1e-4,
        "the accuracy's standard error: {out}"
    );
    assert!(
        se[1] > 0.0 && se[2] == 100.0,
        "the loss's standard error: {out}"
    );
    assert!(
        text(&o).contains("left out"),
        "the index is said: {}",
        text(&o)
    );
    // The same items in the training file's column order score the same.
    let plain = tmp.path().join("plain.csv");
    std::fs::write(&plain, table(300..400, true, false, false)).unwrap();
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        plain.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    let again = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(numbers(&again, "accuracy"), acc, "{again}");
    // The training file itself: scored, with a word that it is no test score.
    let train = tmp.path().join("train.csv");
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        train.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no test score"), "{}", text(&o));
    // Without --data, the validation part as before, now with its standard errors.
    let o = lrsweep(&["eval", "--model", m, "--backend", "cpu"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let v = numbers(&out, "validation accuracy");
    assert!((v[0] - v[1]).abs() < 1e-3, "{out}");
    assert!(out.contains("standard errors: accuracy ±"), "{out}");

    // What cannot be scored: each a usage error naming the problem, nothing written.
    let bad = tmp.path().join("bad.csv");
    std::fs::write(
        &bad,
        table(300..340, true, false, false).replace("f3,", "g3,"),
    )
    .unwrap();
    usage_error(
        &["eval", "--model", m, "--data", bad.to_str().unwrap()],
        "has no column 'f3', which the model takes as a feature",
    );
    std::fs::write(
        &bad,
        table(300..340, true, false, false).replace("kind-2", "kind-9"),
    )
    .unwrap();
    usage_error(
        &["eval", "--model", m, "--data", bad.to_str().unwrap()],
        "labelled 'kind-9', a class the model does not know",
    );
    let unlabelled = tmp.path().join("unlabelled.csv");
    std::fs::write(&unlabelled, table(300..340, false, false, false)).unwrap();
    usage_error(
        &["eval", "--model", m, "--data", unlabelled.to_str().unwrap()],
        "has no labels, so there is nothing to score against",
    );
    usage_error(
        &[
            "eval",
            "--model",
            m,
            "--data",
            test.to_str().unwrap(),
            "--train-data",
            train.to_str().unwrap(),
        ],
        "cannot be used with",
    );
}

#[test]
fn predict_writes_each_items_class_and_probabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let model = trained(tmp.path(), &[]);
    let m = model.to_str().unwrap();
    // Without labels (and with pandas' index): classes and probabilities only.
    let unlabelled = tmp.path().join("unlabelled.csv");
    std::fs::write(&unlabelled, table(300..400, false, true, false)).unwrap();
    let out = tmp.path().join("predictions.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        unlabelled.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, items) = predictions(&out);
    assert_eq!(head, ["item", "class", "p_kind-0", "p_kind-1", "p_kind-2"]);
    assert_eq!(items.len(), 100);
    let (_, truth) = rows(400, 6, 3);
    let mut right = 0;
    for (k, row) in items.iter().enumerate() {
        assert_eq!(row[0], (k + 1).to_string(), "items numbered in file order");
        let p: Vec<f64> = row[2..].iter().map(|c| c.parse().unwrap()).collect();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5, "{row:?}");
        let best = (0..3).fold(0, |b, c| if p[c] > p[b] { c } else { b });
        assert_eq!(row[1], format!("kind-{best}"), "the class is the likeliest");
        right += usize::from(best == truth[300 + k]);
    }
    assert!(right >= 90, "{right} of 100 right");
    // With labels: a label column beside the class, and the same accuracy eval says.
    let labelled = tmp.path().join("labelled.csv");
    std::fs::write(&labelled, table(300..400, true, false, false)).unwrap();
    let with = tmp.path().join("with-labels.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        labelled.to_str().unwrap(),
        "--out",
        with.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, items) = predictions(&with);
    assert_eq!(&head[..3], ["item", "class", "label"]);
    let agree = items.iter().filter(|r| r[1] == r[2]).count();
    assert!(
        text(&o).contains(&format!("{agree} of 100 as labelled")),
        "{}",
        text(&o)
    );
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        labelled.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    let acc = numbers(&String::from_utf8_lossy(&o.stdout), "accuracy")[0];
    assert!(
        (acc - agree as f64 / 100.0).abs() < 1e-9,
        "eval and predict agree: {acc} {agree}"
    );
    // --out naming a file read is refused, and the file is left as it was.
    let before = std::fs::read(&labelled).unwrap();
    usage_error(
        &[
            "predict",
            "--model",
            m,
            "--data",
            labelled.to_str().unwrap(),
            "--out",
            labelled.to_str().unwrap(),
        ],
        "is one of the files read",
    );
    assert_eq!(std::fs::read(&labelled).unwrap(), before);
}

/// An MNIST model scores the IDX test file (labels found beside it) and predicts a copy of the
/// images without labels.
#[test]
fn an_mnist_model_scores_and_predicts_idx_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    crate::common::small_sweep(&out, &["--rates", "1e-3", "--epochs", "2"]);
    let model = out.join("lr-0.001").join("best.bpk");
    let m = model.to_str().unwrap();
    let images = mnist_dir().join("t10k-images-idx3-ubyte.gz");
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        images.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(stdout.contains("10000 items"), "{stdout}");
    assert!(numbers(&stdout, "accuracy")[0] > 0.75, "{stdout}");
    // The images alone (no labels beside them): predictions only.
    let alone = tmp.path().join("t10k-images-idx3-ubyte.gz");
    std::fs::copy(&images, &alone).unwrap();
    let csv = tmp.path().join("p.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        alone.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, items) = predictions(&csv);
    assert_eq!(
        head.len(),
        12,
        "item, class and ten probabilities: {head:?}"
    );
    assert_eq!(items.len(), 10_000);
}

/// The Python with PyTorch and safetensors (`LRSWEEP_TORCH_PYTHON`, which `.ci/run` sets);
/// without it the PyTorch half of a test skips, unless `LRSWEEP_REQUIRE_TORCH` says it must run.
pub(crate) fn torch_python() -> Option<PathBuf> {
    let python = std::env::var_os("LRSWEEP_TORCH_PYTHON").map(PathBuf::from);
    let ok = python.as_ref().is_some_and(|p| {
        Command::new(p)
            .args(["-c", "import torch, safetensors.torch"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !ok {
        assert!(
            std::env::var_os("LRSWEEP_REQUIRE_TORCH").is_none(),
            "LRSWEEP_REQUIRE_TORCH is set: LRSWEEP_TORCH_PYTHON must name a Python with torch and safetensors"
        );
        eprintln!("no LRSWEEP_TORCH_PYTHON with torch and safetensors: the PyTorch half skipped");
        return None;
    }
    python
}

#[test]
fn export_writes_what_pytorch_loads_and_it_predicts_as_predict_does() {
    let tmp = tempfile::tempdir().unwrap();
    // Two hidden layers, GELU and dropout: the Sequential's indices skip the activations and
    // the dropouts.
    let model = trained(
        tmp.path(),
        &[
            "--hidden",
            "16,8",
            "--activation",
            "gelu",
            "--dropout",
            "0.1",
        ],
    );
    let m = model.to_str().unwrap();
    let o = lrsweep(&["export", "--model", m, "--format", "safetensors"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = model.with_extension("safetensors");
    assert!(
        text(&o).contains("model.load_state_dict(load_file("),
        "{}",
        text(&o)
    );
    // The file as the format's specification lays it out: names and PyTorch's shapes.
    let bytes = std::fs::read(&file).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let shape = |name: &str| header[name]["shape"].clone();
    assert_eq!(shape("0.weight"), serde_json::json!([16, 6]));
    assert_eq!(shape("3.weight"), serde_json::json!([8, 16]));
    assert_eq!(shape("6.weight"), serde_json::json!([3, 8]));
    assert_eq!(shape("6.bias"), serde_json::json!([3]));
    assert_eq!(
        header["__metadata__"]["lrsweep.sequential"],
        "nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 8), nn.GELU(), nn.Dropout(0.1), nn.Linear(8, 3)"
    );
    assert_eq!(
        bytes.len(),
        8 + n + 4 * (16 * 6 + 16 + 8 * 16 + 8 + 3 * 8 + 3)
    );
    // PyTorch loads it as the README shows and predicts what `predict` predicts.
    let test = tmp.path().join("test.csv");
    std::fs::write(&test, table(300..400, true, false, false)).unwrap();
    let csv = tmp.path().join("p.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        test.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let Some(python) = torch_python() else {
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/torch_load.py");
    let o = Command::new(python)
        .arg(script)
        .args([&file, &test, &csv])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(seen["max_difference"].as_f64().unwrap() < 1e-5, "{seen}");
    assert_eq!(seen["same_class"], 100, "{seen}");
    assert_eq!(
        seen["layers"],
        serde_json::json!(["Linear", "GELU", "Dropout", "Linear", "GELU", "Dropout", "Linear"])
    );
    // Refusals: the model file itself as --out.
    usage_error(
        &["export", "--model", m, "--out", m],
        "is the model file itself",
    );
}

/// `count` 6x4 colour pictures of `class` (0 reddish, 1 bluish, each with its own noise) into
/// `dir`.
fn pictures(dir: &Path, class: usize, count: usize, seed: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let mut state = seed;
    for i in 0..count {
        let img = image::RgbImage::from_fn(6, 4, |_, _| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 26) as u8;
            match class {
                0 => image::Rgb([180 + noise, 40, 40]),
                _ => image::Rgb([40, 40, 180 + noise]),
            }
        });
        img.save(dir.join(format!("{class}-{i}.png"))).unwrap();
    }
}

/// A model of an image folder predicts a folder of images without class folders, and scores a
/// folder holding one class only.
#[test]
fn images_are_predicted_alone_and_scored_by_one_class_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train");
    pictures(&train.join("red"), 0, 40, 1);
    pictures(&train.join("blue"), 1, 40, 2);
    let out = tmp.path().join("run");
    let o = lrsweep(&[
        "sweep",
        "--data",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-find",
        "--rates",
        "1e-2",
        "--refine",
        "0",
        "--epochs",
        "5",
        "--batch-size",
        "16",
        "--hidden",
        "16",
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let model = out.join("lr-0.01").join("best.bpk");
    let m = model.to_str().unwrap();
    // New pictures, all in one folder: predicted without labels, the reds as red.
    let loose = tmp.path().join("loose");
    pictures(&loose, 0, 5, 7);
    pictures(&loose, 1, 5, 8);
    let csv = tmp.path().join("p.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        loose.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, items) = predictions(&csv);
    assert_eq!(head, ["item", "class", "p_blue", "p_red"]);
    let classes: Vec<&str> = items.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        classes,
        [["red"; 5], ["blue"; 5]].concat(),
        "file order: 0-… then 1-…"
    );
    // One class folder only: scored against its class by name.
    let reds = tmp.path().join("reds");
    pictures(&reds.join("red"), 0, 6, 9);
    let o = lrsweep(&[
        "eval",
        "--model",
        m,
        "--data",
        reds.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(numbers(&said, "accuracy")[0], 1.0, "{said}");
}
