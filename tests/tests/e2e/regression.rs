//! Issue 36, regression: a network that predicts numbers, answered with the same care as a
//! classifier: the noise's ceiling reached, a non-linear target fitted better than a linear
//! least-squares fit, scikit-learn's diabetes table, several targets, kill and resume, eval and
//! predict in the targets' units, and the refusals.

use std::path::{Path, PathBuf};

use crate::common::{json, lrsweep, same_stacked_serial_and_resumed, text, usage_error};

/// A seeded uniform generator in [0, 1).
fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A standard normal draw (Box–Muller) from `u`.
fn normal(u: &mut impl FnMut() -> f64) -> f64 {
    let (a, b) = (u().max(1e-300), u());
    (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
}

/// A table of `n` rows of `features` features (standard normal) and targets `f(x, noise)`
/// named `names`, written to `path`.
fn write_table(
    path: &Path,
    n: usize,
    features: usize,
    names: &[&str],
    f: impl Fn(&[f64], &mut dyn FnMut() -> f64) -> Vec<f64>,
) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let mut u = uniform(11);
    let mut text: Vec<String> = (0..features).map(|j| format!("x{j}")).collect();
    text.extend(names.iter().map(|n| n.to_string()));
    let mut out = text.join(",") + "\n";
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let x: Vec<f64> = (0..features).map(|_| normal(&mut u)).collect();
        let mut noise = || normal(&mut u);
        let y = f(&x, &mut noise);
        let cells: Vec<String> = x.iter().chain(&y).map(|v| format!("{v:.6}")).collect();
        out += &(cells.join(",") + "\n");
        xs.push(x);
        ys.push(y);
    }
    std::fs::write(path, out).unwrap();
    (xs, ys)
}

/// A regression sweep of `data` into `out` with `extra` settings (they replace the defaults).
fn sweep(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    // The tables' quick sweep, trained longer on a wider network unless `extra` says otherwise.
    let mut settings = Vec::new();
    for (flag, value) in [("--epochs", "40"), ("--hidden", "32")] {
        if !extra.contains(&flag) {
            settings.extend([flag, value]);
        }
    }
    settings.extend_from_slice(extra);
    lrsweep(&crate::own_data::sweep_args(d, o, &settings))
}

/// The best validation R² of a run's rates (summary.json's `best_val_acc`).
fn best_r2(out: &Path) -> f64 {
    crate::own_data::best_accuracy(out)
}

#[test]
fn a_linear_target_reaches_its_noise_ceiling_and_the_run_speaks_of_r2() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("linear.csv");
    // Signal variance 4 (weights 1, −1, 1, 1 on standard normal features), noise variance 1:
    // no model can explain more than 4/5 of the variance.
    write_table(&csv, 1500, 4, &["price"], |x, noise| {
        vec![x[0] - x[1] + x[2] + x[3] + noise() + 50.0]
    });
    let out = tmp.path().join("run");
    let o = sweep(&csv, &out, &["--epochs", "30"]);
    assert!(o.status.success(), "{}", text(&o));
    // The label column holds numbers with fractions: a regression, said in one line.
    assert!(text(&o).contains("a regression"), "{}", text(&o));
    let r2 = best_r2(&out);
    assert!(
        (r2 - 0.8).abs() < 0.06,
        "best validation R² {r2}, the ceiling 0.8"
    );
    let config = json(&out.join("config.json"));
    assert_eq!(config["config"]["loss"], "mse");
    assert_eq!(config["data"]["task"], "regression");
    let sd = config["data"]["targets"]["sd"][0].as_f64().unwrap();
    assert!((sd - 5f64.sqrt()).abs() < 0.2, "the target's sd {sd}");
    // metrics.csv: R² where accuracy was, RMSE and MAE in the target's units: the RMSE of the
    // best epoch near the noise's 1.
    let metrics = std::fs::read_to_string(out.join("lr-0.01/metrics.csv")).unwrap();
    assert!(metrics.starts_with(
        "epoch,train_loss,train_r2,val_loss,val_r2,seconds,lr,val_loss_se,val_rmse,val_mae\n"
    ));
    let rmse = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(8).unwrap().parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!((rmse - 1.0).abs() < 0.15, "lowest validation RMSE {rmse}");
    // The summary and the report say R², not accuracy.
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("best val R²"), "{summary}");
    assert!(summary.contains("1 target"), "{summary}");
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("R²"));
    // status speaks of R² too.
    let o = lrsweep(&["status", out.to_str().unwrap()]);
    assert!(text(&o).contains("R²"), "{}", text(&o));
    // TensorBoard's scalars: R², RMSE and MAE in the accuracy's place (the member's event
    // files: its scalars' and its HParams session's).
    let bytes: Vec<u8> = std::fs::read_dir(out.join("lr-0.01"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("events.out.tfevents")
        })
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    let holds = |tag: &[u8]| bytes.windows(tag.len()).any(|w| w == tag);
    assert!(holds(b"r2/validation") && holds(b"rmse/validation") && holds(b"mae/validation"));
    assert!(!holds(b"accuracy/validation"));
}

#[test]
fn the_range_test_pruning_and_a_validation_file_work_for_a_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let f = |x: &[f64], noise: &mut dyn FnMut() -> f64| vec![x[0] * 2.0 - x[1] + 0.3 * noise()];
    let train = tmp.path().join("train.csv");
    write_table(&train, 600, 2, &["y"], f);
    let val = tmp.path().join("val.csv");
    write_table(&val, 150, 2, &["y"], |x, n| f(x, n));
    let t = train.to_str().unwrap();
    // The range test: suggestions from the regression's loss.
    let o = lrsweep(&[
        "find",
        "--data",
        t,
        "--hidden",
        "16",
        "--batch-size",
        "32",
        "--steps",
        "60",
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("valley"), "{}", text(&o));
    // Pruning, and a separate validation file: the run trains and reads its R² on that file.
    let out = tmp.path().join("run");
    let o = sweep(
        &train,
        &out,
        &[
            "--val",
            val.to_str().unwrap(),
            "--rates",
            "1e-4,1e-3,1e-2",
            "--epochs",
            "12",
            "--prune",
            "halving:3:3",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let config = json(&out.join("config.json"));
    assert_eq!(config["data"]["valid_size"], 150);
    assert!(best_r2(&out) > 0.9, "R² {}", best_r2(&out));
    // A task of images is refused.
    let mnist = crate::common::mnist_dir();
    usage_error(
        &[
            "sweep",
            "--data",
            mnist.to_str().unwrap(),
            "--task",
            "regression",
            "--out",
            tmp.path().join("no").to_str().unwrap(),
        ],
        "--task regression takes numeric targets",
    );
}

#[test]
fn a_sine_is_fitted_better_than_a_linear_least_squares_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("sine.csv");
    let (xs, ys) = write_table(&csv, 1200, 2, &["y"], |x, noise| {
        vec![(2.0 * x[0]).sin() + 0.1 * noise() + 0.25 * x[1]]
    });
    // The linear fit's R² on all the data (in sample: the best a line can do here).
    let n = xs.len() as f64;
    let mean = |v: &dyn Fn(usize) -> f64| (0..xs.len()).map(v).sum::<f64>() / n;
    let (m0, m1, my) = (
        mean(&|i| xs[i][0]),
        mean(&|i| xs[i][1]),
        mean(&|i| ys[i][0]),
    );
    let c = |a: &dyn Fn(usize) -> f64, b: &dyn Fn(usize) -> f64| {
        (0..xs.len()).map(|i| a(i) * b(i)).sum::<f64>() / n
    };
    let (x0, x1, y) = (
        |i: usize| xs[i][0] - m0,
        |i: usize| xs[i][1] - m1,
        |i: usize| ys[i][0] - my,
    );
    let (s00, s01, s11, s0y, s1y, syy) = (
        c(&x0, &x0),
        c(&x0, &x1),
        c(&x1, &x1),
        c(&x0, &y),
        c(&x1, &y),
        c(&y, &y),
    );
    let det = s00 * s11 - s01 * s01;
    let (b0, b1) = ((s11 * s0y - s01 * s1y) / det, (s00 * s1y - s01 * s0y) / det);
    let linear = (b0 * s0y + b1 * s1y) / syy;
    let out = tmp.path().join("run");
    let o = sweep(
        &csv,
        &out,
        &["--rates", "3e-3,1e-2", "--epochs", "60", "--hidden", "64"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r2 = best_r2(&out);
    assert!(
        r2 > linear + 0.3,
        "the network's R² {r2} against a line's {linear}"
    );
    assert!(r2 > 0.9, "R² {r2}");
}

#[test]
fn scikit_learns_diabetes_reaches_an_r2_of_0_4() {
    let Some(dir) = crate::own_data::sklearn_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // As scikit-learn ships it: ten space-separated columns without a header, and the target
    // apart (whole numbers written as floats).
    let gunzip = |name: &str| {
        let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut text = String::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let x = gunzip("diabetes_data_raw.csv.gz");
    let y = gunzip("diabetes_target.csv.gz");
    let mut csv = "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6,progression\n".to_string();
    for (row, t) in x.lines().zip(y.lines()) {
        csv += &format!(
            "{},{}\n",
            row.split_whitespace().collect::<Vec<_>>().join(","),
            t.trim()
        );
    }
    let path = tmp.path().join("diabetes.csv");
    std::fs::write(&path, csv).unwrap();
    let out = tmp.path().join("run");
    // Its target is whole numbers: a regression only when asked.
    let o = sweep(
        &path,
        &out,
        &[
            "--task",
            "regression",
            "--rates",
            "1e-4,1e-3,1e-2",
            "--epochs",
            "60",
            "--hidden",
            "64",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let r2 = best_r2(&out);
    assert!(r2 >= 0.4, "diabetes: best validation R² {r2}");
}

#[test]
fn several_targets_huber_kill_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("two.csv");
    write_table(&csv, 600, 3, &["a", "b"], |x, noise| {
        vec![
            2.0 * x[0] + 0.2 * noise(),
            x[1] * x[2] + 0.2 * noise() - 3.0,
        ]
    });
    let out = tmp.path().join("run");
    let o = sweep(
        &csv,
        &out,
        &["--label", "a,b", "--loss", "huber", "--epochs", "20"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let config = json(&out.join("config.json"));
    assert_eq!(config["data"]["class_names"], serde_json::json!(["a", "b"]));
    assert_eq!(config["config"]["loss"], "huber");
    assert!(best_r2(&out) > 0.7, "R² {}", best_r2(&out));
    // Stacked, serial and killed-and-resumed runs give the same figures.
    let c = csv.to_str().unwrap();
    same_stacked_serial_and_resumed(
        &[
            "--data",
            c,
            "--label",
            "a,b",
            "--rates",
            "1e-3,1e-2",
            "--refine",
            "0",
            "--no-find",
            "--backend",
            "cpu",
            "--epochs",
            "6",
            "--batch-size",
            "16",
            "--hidden",
            "16",
        ],
        "lr-0.001",
        2,
        6,
    );
}

#[test]
fn eval_and_predict_speak_in_the_targets_units() {
    let tmp = tempfile::tempdir().unwrap();
    let train = tmp.path().join("train.csv");
    write_table(&train, 800, 3, &["y"], |x, noise| {
        vec![100.0 * x[0] - 50.0 * x[1] + 10.0 * noise() + 1000.0]
    });
    let out = tmp.path().join("run");
    let o = sweep(&train, &out, &["--epochs", "30"]);
    assert!(o.status.success(), "{}", text(&o));
    let model = out.join("lr-0.01/best.bpk");
    let m = model.to_str().unwrap();
    // A test file of new rows (another seed's), with and without its target column.
    let test = tmp.path().join("test.csv");
    let (xs, ys) = write_table(&test, 200, 3, &["y"], |x, noise| {
        vec![100.0 * x[0] - 50.0 * x[1] + 10.0 * noise() + 1000.0]
    });
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
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    let line = said
        .lines()
        .find(|l| l.starts_with("R² "))
        .unwrap_or_else(|| panic!("{said}"));
    let nums: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|t| t.parse().ok())
        .collect();
    assert!(nums[0] > 0.9, "R² {line}");
    assert!(
        nums[1] > 5.0 && nums[1] < 30.0,
        "RMSE in the target's units (noise 10): {line}"
    );
    // predict: the target in its units; with the file's targets beside.
    let csv = tmp.path().join("p.csv");
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        test.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let text_out = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text_out.lines();
    assert_eq!(lines.next(), Some("item,y,true_y"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 200);
    let rmse = (rows.iter().map(|r| (r[1] - r[2]).powi(2)).sum::<f64>() / 200.0).sqrt();
    assert!(
        (rmse - nums[1]).abs() < 1e-3 * nums[1],
        "predict's RMSE {rmse}, eval's {}",
        nums[1]
    );
    for (r, y) in rows.iter().zip(&ys) {
        assert!((r[2] - y[0]).abs() < 1e-3, "the true target as written");
    }
    // Without the target column: predictions only.
    let bare = tmp.path().join("bare.csv");
    let mut t = "x0,x1,x2\n".to_string();
    for x in &xs {
        t += &format!("{},{},{}\n", x[0], x[1], x[2]);
    }
    std::fs::write(&bare, t).unwrap();
    // PyTorch loads the export and predicts what predict predicts, in the targets' units.
    let o = lrsweep(&["export", "--model", m]);
    assert!(o.status.success(), "{}", text(&o));
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        test.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    if let Some(python) = crate::using::torch_python() {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/torch_load.py");
        let o = std::process::Command::new(python)
            .arg(script)
            .args([
                model.with_extension("safetensors"),
                test.clone(),
                csv.clone(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(seen["max_difference"].as_f64().unwrap() < 1e-5, "{seen}");
        assert_eq!(seen["items"], 200);
    }
    let o = lrsweep(&[
        "predict",
        "--model",
        m,
        "--data",
        bare.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(std::fs::read_to_string(&csv)
        .unwrap()
        .starts_with("item,y\n"));
}

#[test]
fn bad_regression_input_is_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &[&str], &str); 6] = [
        (
            "text.csv",
            "a,b,y\n1,2,3.5\n2,3,x\n3,1,2\n",
            &["--task", "regression"],
            "'x' is not a finite number",
        ),
        (
            "nan.csv",
            "a,b,y\n1,2,3.5\n2,3,nan\n3,1,2\n",
            &["--task", "regression"],
            "'nan' is not a finite number",
        ),
        (
            "constant.csv",
            "a,b,y\n1,2,3.5\n2,3,3.5\n3,1,3.5\n",
            &["--task", "regression"],
            "target 'y' is 3.5 for every item",
        ),
        (
            "leak.csv",
            "a,b,y\n1,2.5,2.5\n2,3.5,3.5\n3,1.5,1.5\n",
            &[],
            "target 'y' is also a feature: column 'b'",
        ),
        (
            "loss.csv",
            "a,b,y\n1,2,3.5\n2,3,1.5\n3,1,2.5\n4,4,0.5\n5,0,1.25\n6,2,4.5\n",
            &["--loss", "exact"],
            "--loss exact is a classification's",
        ),
        (
            "classes.csv",
            "a,b,y\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n5,0,0\n6,2,1\n",
            &["--loss", "mse"],
            "--loss mse is a regression's",
        ),
    ];
    for (name, content, extra, says) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out: PathBuf = tmp.path().join(format!("out-{name}"));
        let mut args = vec![
            "sweep",
            "--data",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--no-find",
            "--backend",
            "cpu",
            "--val-fraction",
            "0.34",
        ];
        args.extend_from_slice(extra);
        usage_error(&args, says);
        assert!(!out.exists(), "{name}: nothing written");
    }
}
