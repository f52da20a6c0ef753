//! Your own data through `--data`: every format, odd widths and class counts, string labels;
//! bad data refused with its file, line or array and nothing written; real tables (scikit-learn's
//! iris and digits) reaching real accuracy; Fashion-MNIST through `--data` equal to the
//! catalogue's; a stacked sweep on user data equal to its `--serial` run.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::common::{figures, json, lrsweep, text};

/// A quick sweep of `data` on the CPU engine into `out`: these settings, each replaced by the
/// same option in `extra`, then the rest of `extra`.
pub(crate) fn sweep_args<'a>(data: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let defaults = [
        ("--rates", "1e-3,1e-2"),
        ("--refine", "0"),
        ("--backend", "cpu"),
        ("--epochs", "2"),
        ("--batch-size", "32"),
        ("--hidden", "24"),
    ];
    let mut args = vec!["sweep", "--data", data, "--no-find", "--out", out];
    for (flag, value) in defaults {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    args
}

fn sweep(data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let (d, o) = (data.to_str().unwrap(), out.to_str().unwrap());
    let got = lrsweep(&sweep_args(d, o, extra));
    assert!(got.status.success(), "{}: {}", data.display(), text(&got));
    got
}

/// A deterministic generator for the synthetic sets.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` rows of `width` features in `classes` classes around class-dependent centres.
pub(crate) fn rows(n: usize, width: usize, classes: usize) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut g = Lcg(7);
    let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    let x = labels
        .iter()
        .map(|&c| {
            (0..width)
                .map(|j| ((c * 5 + j * 3) % 7) as f64 * 10.0 + 100.0 + 4.0 * g.next())
                .collect()
        })
        .collect();
    (x, labels)
}

pub(crate) fn csv_text(
    n: usize,
    width: usize,
    classes: usize,
    names: &dyn Fn(usize) -> String,
) -> String {
    let (x, y) = rows(n, width, classes);
    let mut s = (0..width)
        .map(|j| format!("f{j}"))
        .collect::<Vec<_>>()
        .join(",");
    s += ",species\n";
    for (row, c) in x.iter().zip(y) {
        s += &row
            .iter()
            .map(|v| format!("{v:.3}"))
            .collect::<Vec<_>>()
            .join(",");
        s += &format!(",{}\n", names(c));
    }
    s
}

/// A version-1 `.npy` of `descr` values.
fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims = shape.iter().map(|d| format!("{d},")).collect::<String>();
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}");
    while (11 + header.len()) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f32s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect()
}

fn npz(path: &Path, arrays: &[(&str, Vec<u8>)]) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in arrays {
        w.start_file(format!("{name}.npy"), options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub(crate) fn idx(magic: u32, dims: &[u32], payload: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// Writes one set in each format into `dir`; returns (path to pass, extra options, inputs,
/// class names).
fn every_format(dir: &Path) -> Vec<(PathBuf, Vec<String>, usize, Vec<String>)> {
    let mut sets = Vec::new();
    // CSV, 13 features, 37 classes named by strings (sorted by name).
    let name = |c: usize| format!("kind-{c:02}");
    let csv = dir.join("wide.csv");
    std::fs::write(&csv, csv_text(37 * 14, 13, 37, &name)).unwrap();
    let mut names: Vec<String> = (0..37).map(name).collect();
    names.sort();
    sets.push((csv, vec![], 13, names));
    // Gzipped CSV, label column chosen by name, 2 classes.
    let gz = dir.join("two.csv.gz");
    std::fs::write(
        &gz,
        gzip(csv_text(120, 5, 2, &|c| ["no", "yes"][c].to_string()).as_bytes()),
    )
    .unwrap();
    sets.push((
        gz,
        vec!["--label".into(), "species".into()],
        5,
        vec!["no".into(), "yes".into()],
    ));
    // NumPy .npz, 1000 features, 2 classes, integer labels 3 and 8.
    let (x, y) = rows(160, 1000, 2);
    let flat: Vec<f64> = x.into_iter().flatten().collect();
    let labels: Vec<u8> = y
        .iter()
        .flat_map(|&c| i64::from([3, 8][c]).to_le_bytes())
        .collect();
    let z = dir.join("arrays.npz");
    npz(
        &z,
        &[
            ("x", npy("<f4", &[160, 1000], &f32s(&flat))),
            ("y", npy("<i8", &[160], &labels)),
        ],
    );
    sets.push((z, vec![], 1000, vec!["3".into(), "8".into()]));
    // Two .npy files, items [4, 3] flattened to 12, uint8 features, 3 classes.
    let (x, y) = rows(150, 12, 3);
    let bytes: Vec<u8> = x.iter().flatten().map(|v| *v as u8).collect();
    let (xp, yp) = (dir.join("x.npy"), dir.join("y.npy"));
    std::fs::write(&xp, npy("|u1", &[150, 4, 3], &bytes)).unwrap();
    std::fs::write(
        &yp,
        npy(
            "|u1",
            &[150],
            &y.iter().map(|&c| c as u8).collect::<Vec<_>>(),
        ),
    )
    .unwrap();
    sets.push((
        xp,
        vec!["--labels".into(), yp.display().to_string()],
        12,
        vec!["0".into(), "1".into(), "2".into()],
    ));
    // IDX images of 5x3, 4 classes (labels 0..3), as one images/labels pair in a directory.
    let idx_dir = dir.join("idx");
    std::fs::create_dir(&idx_dir).unwrap();
    let (x, y) = rows(200, 15, 4);
    let pixels: Vec<u8> = x
        .iter()
        .flatten()
        .map(|v| (*v as u8).wrapping_mul(2))
        .collect();
    std::fs::write(
        idx_dir.join("train-images-idx3-ubyte"),
        idx(0x803, &[200, 5, 3], &pixels),
    )
    .unwrap();
    let labels: Vec<u8> = y.iter().map(|&c| c as u8).collect();
    std::fs::write(
        idx_dir.join("train-labels-idx1-ubyte.gz"),
        gzip(&idx(0x801, &[200], &labels)),
    )
    .unwrap();
    sets.push((idx_dir, vec![], 15, (0..4).map(|c| c.to_string()).collect()));
    // An image folder: 3 classes of 6x4 colour PNGs.
    let folder = dir.join("pictures");
    let mut g = Lcg(3);
    for (c, class) in ["ant", "bee", "cat"].iter().enumerate() {
        std::fs::create_dir_all(folder.join(class)).unwrap();
        for i in 0..30 {
            let img = image::RgbImage::from_fn(6, 4, |px, py| {
                let base = ((px as usize + py as usize * 2 + c * 3) % 5) as f64 * 50.0;
                image::Rgb([
                    (base + 20.0 * g.next()) as u8,
                    (c * 80) as u8,
                    255 - base as u8,
                ])
            });
            img.save(folder.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    sets.push((
        folder,
        vec![],
        6 * 4 * 3,
        vec!["ant".into(), "bee".into(), "cat".into()],
    ));
    sets
}

#[test]
fn every_format_trains_and_its_run_records_what_it_read() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (data, extra, inputs, names)) in every_format(tmp.path()).into_iter().enumerate() {
        let out = tmp.path().join(format!("run-{i}"));
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        sweep(&data, &out, &extra);
        let what = data.display().to_string();
        let config = json(&out.join("config.json"));
        let recorded = &config["data"];
        assert_eq!(recorded["inputs"], inputs, "{what}");
        assert_eq!(recorded["class_names"], serde_json::json!(names), "{what}");
        assert!(
            recorded["files"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["sha256"].as_str().unwrap().len() == 64),
            "{what}"
        );
        assert_eq!(
            config["config"]["data"]["user"]["path"],
            data.to_str().unwrap(),
            "{what}"
        );
        let counts: usize = recorded["valid_class_counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as usize)
            .sum();
        assert_eq!(
            counts,
            recorded["valid_size"].as_u64().unwrap() as usize,
            "{what}"
        );
        let summary = json(&out.join("summary.json"));
        let classes = summary["data"]["classes"].as_array().unwrap();
        assert_eq!(classes.len(), names.len(), "{what}");
        assert_eq!(classes[0]["name"], names[0].as_str(), "{what}");
        let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
        // The first 20 classes by name with their counts, then how many more.
        let shown = &names[names.len().min(20) - 1];
        assert!(
            md.contains("Data: ") && md.contains(&format!("{shown} (")),
            "{what}: {md}"
        );
        if names.len() > 20 {
            assert!(
                md.contains(&format!("and {} more", names.len() - 20)),
                "{what}: {md}"
            );
        }
        // Both rates trained both epochs and learned something.
        for rate in ["0.001", "0.01"] {
            let rows = figures(&out.join(format!("lr-{rate}/metrics.csv")));
            assert_eq!(rows.len(), 2, "{what} {rate}");
        }
        let best: f64 = summary["rates"][1]["best_val_acc"].as_f64().unwrap();
        assert!(
            best > 1.5 / names.len() as f64,
            "{what}: best validation accuracy {best}"
        );
        // Scale: unit for pixels, standard for tables and arrays.
        let scale = recorded["scale"].as_str().unwrap();
        let pixels = what.ends_with("idx") || what.ends_with("pictures");
        assert_eq!(scale, if pixels { "unit" } else { "standard" }, "{what}");
    }
}

#[test]
fn a_user_data_run_is_reported_resumed_scored_and_stacked_like_mnist() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("t.csv");
    std::fs::write(&csv, csv_text(300, 9, 3, &|c| format!("c{c}"))).unwrap();
    let (stacked, serial) = (tmp.path().join("stacked"), tmp.path().join("serial"));
    sweep(&csv, &stacked, &[]);
    sweep(&csv, &serial, &["--serial"]);
    for rate in ["0.001", "0.01"] {
        let m = |d: &Path| figures(&d.join(format!("lr-{rate}/metrics.csv")));
        assert_eq!(m(&stacked), m(&serial), "{rate}: stacked equals serial");
    }
    // eval scores the saved model again on the same (standardised) validation part.
    let model = stacked.join("lr-0.01/best.bpk");
    let o = lrsweep(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let line = out
        .lines()
        .find(|l| l.starts_with("validation accuracy"))
        .unwrap();
    let nums: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|t| t.parse().ok())
        .collect();
    assert!(
        (nums[0] - nums[1]).abs() < 1e-3,
        "eval equals the record: {line}"
    );
    // The data moved: eval refuses other content, takes the same content at a new path.
    let moved = tmp.path().join("moved.csv");
    std::fs::copy(&csv, &moved).unwrap();
    let o = lrsweep(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "cpu",
        "--train-data",
        moved.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(&moved, csv_text(300, 9, 3, &|c| format!("d{c}"))).unwrap();
    let o = lrsweep(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "cpu",
        "--train-data",
        moved.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not the data"), "{}", text(&o));
    // report and status read the run as they read an MNIST run.
    let o = lrsweep(&["report", stacked.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let html = std::fs::read_to_string(stacked.join("report.html")).unwrap();
    assert!(
        html.contains("c0 (") && html.contains("c2 ("),
        "class names in the report"
    );
    let o = lrsweep(&["status", stacked.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // A resume with other data settings is refused; one without them goes on.
    let o = lrsweep(&[
        "sweep",
        "--resume",
        stacked.to_str().unwrap(),
        "--scale",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--scale"), "{}", text(&o));
    let o = lrsweep(&["sweep", "--resume", stacked.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_separate_validation_file_and_the_scale_option() {
    let tmp = tempfile::tempdir().unwrap();
    let (train, val) = (tmp.path().join("train.csv"), tmp.path().join("val.csv"));
    std::fs::write(&train, csv_text(240, 6, 3, &|c| format!("c{c}"))).unwrap();
    std::fs::write(&val, csv_text(60, 6, 3, &|c| format!("c{c}"))).unwrap();
    let out = tmp.path().join("run");
    sweep(
        &train,
        &out,
        &["--val", val.to_str().unwrap(), "--scale", "none"],
    );
    let data = &json(&out.join("config.json"))["data"];
    assert_eq!(
        (data["train_size"].as_u64(), data["valid_size"].as_u64()),
        (Some(240), Some(60))
    );
    assert_eq!(data["scale"], "none");
    assert_eq!(
        data["files"].as_array().unwrap().len(),
        2,
        "both files recorded"
    );
    // A validation class the training data lacks is refused, naming it.
    std::fs::write(&val, csv_text(60, 6, 4, &|c| format!("c{c}"))).unwrap();
    let out = tmp.path().join("bad");
    let o = lrsweep(&sweep_args(
        train.to_str().unwrap(),
        out.to_str().unwrap(),
        &["--val", val.to_str().unwrap()],
    ));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("class 'c3' does not occur"),
        "{}",
        text(&o)
    );
    assert!(!out.exists());
}

#[test]
fn bad_data_is_refused_naming_the_file_and_where_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let write = |name: &str, bytes: &[u8]| -> PathBuf {
        let p = d.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let good = csv_text(60, 3, 2, &|c| format!("c{c}"));
    let with_line = |line: usize, row: &str| -> String {
        let mut lines: Vec<&str> = good.lines().collect();
        lines[line - 1] = row;
        lines.join("\n") + "\n"
    };
    let mut cases: Vec<(PathBuf, Vec<String>, Vec<&str>)> = vec![
        (
            write("text.csv", with_line(4, "1,abc,3,c0").as_bytes()),
            vec![],
            vec![
                "text.csv line 4",
                "column 2 ('f1')",
                "'abc' is not a number",
            ],
        ),
        (
            write("empty.csv", with_line(3, "1,,3,c0").as_bytes()),
            vec![],
            vec!["line 3", "empty cell"],
        ),
        (
            write("nan.csv", with_line(5, "1,2,nan,c1").as_bytes()),
            vec![],
            vec!["line 5", "column 3", "not a finite number"],
        ),
        (
            write("ragged.csv", with_line(6, "1,2,c1").as_bytes()),
            vec![],
            vec!["line 6", "3 fields where the header has 4"],
        ),
        (
            write("two.csv", b"label,target,a\n0,1,2\n1,0,3\n"),
            vec![],
            vec!["'label' and 'target' could each be the label", "--label"],
        ),
        (
            write("nolabel.csv", good.as_bytes()),
            vec!["--label".into(), "kind".into()],
            vec!["no column named 'kind'", "'species'"],
        ),
        (
            write("one.csv", csv_text(30, 3, 1, &|_| "same".into()).as_bytes()),
            vec![],
            vec!["only one class (same)"],
        ),
        (
            write("rare.csv", (good.clone() + "1,2,3,lonely\n").as_bytes()),
            vec![],
            vec!["class 'lonely' has 1 item", "--val"],
        ),
        (
            write("x.npy", &npy("<f4", &[4, 2], &f32s(&[1.0; 8]))),
            vec![
                "--labels".into(),
                write("y3.npy", &npy("|u1", &[3], &[0, 1, 0]))
                    .display()
                    .to_string(),
            ],
            vec!["y3.npy", "holds 3 labels", "holds 4 items"],
        ),
        (
            write("c.npy", &npy("<c8", &[2, 1], &[0; 16])),
            vec!["--labels".into(), d.join("y3.npy").display().to_string()],
            vec!["c.npy", "dtype 'c8' is not supported"],
        ),
        (
            write("only.npy", &npy("<f4", &[2, 1], &f32s(&[1.0, 2.0]))),
            vec![],
            vec!["--labels Y.npy"],
        ),
        (
            write("one-line.csv.gz", &gzip(&vec![b'1'; 1 << 20])),
            vec![],
            vec!["one-line.csv.gz line 1", "the header has 1 column"],
        ),
        (
            write("data.parquet", b"PAR1"),
            vec![],
            vec!["cannot tell this file's format", "CSV"],
        ),
    ];
    // Images of two sizes; an empty folder.
    let mixed = d.join("mixed");
    for (class, (w, h)) in [("a", (4, 4)), ("b", (5, 4))] {
        std::fs::create_dir_all(mixed.join(class)).unwrap();
        for i in 0..3 {
            image::GrayImage::new(w, h)
                .save(mixed.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    cases.push((mixed, vec![], vec!["is 5x4 but", "--image-size WxH"]));
    let empty = d.join("nothing");
    std::fs::create_dir(&empty).unwrap();
    cases.push((empty, vec![], vec!["empty folder"]));
    for (i, (data, extra, wants)) in cases.iter().enumerate() {
        let out = d.join(format!("out-{i}"));
        let mut args = sweep_args(data.to_str().unwrap(), out.to_str().unwrap(), &[]);
        args.extend(extra.iter().map(String::as_str));
        let o = lrsweep(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {t}", data.display());
        for want in wants {
            assert!(
                t.contains(want),
                "{}: wanted {want:?} in {t}",
                data.display()
            );
        }
        assert!(!t.contains("panicked"), "{t}");
        assert!(!out.exists(), "{}: nothing written", data.display());
    }
    // --dataset and --data together, and --labels without --data.
    let o = lrsweep(&["sweep", "--dataset", "fashion-mnist", "--data", "x.csv"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = lrsweep(&["sweep", "--labels", "y.npy"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// scikit-learn's tables, from the directory in `LRSWEEP_SKLEARN_DATA` (`.ci/run` extracts them
/// from the scikit-learn wheel); skipped without it unless `LRSWEEP_REQUIRE_USER_DATA` is set.
pub(crate) fn sklearn_data() -> Option<PathBuf> {
    let dir = std::env::var_os("LRSWEEP_SKLEARN_DATA").map(PathBuf::from);
    match dir {
        Some(d) if d.join("iris.csv").is_file() => Some(d),
        _ => {
            assert!(
                std::env::var_os("LRSWEEP_REQUIRE_USER_DATA").is_none(),
                "LRSWEEP_SKLEARN_DATA must name a directory with scikit-learn's iris.csv and digits.csv.gz"
            );
            eprintln!(
                "skipped: set LRSWEEP_SKLEARN_DATA to scikit-learn's datasets/data directory"
            );
            None
        }
    }
}

pub(crate) fn best_accuracy(out: &Path) -> f64 {
    json(&out.join("summary.json"))["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["best_val_acc"].as_f64().unwrap())
        .fold(0.0, f64::max)
}

#[test]
fn scikit_learns_iris_and_digits_reach_real_accuracy() {
    let Some(dir) = sklearn_data() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // iris.csv as scikit-learn ships it: a first line "150,4,setosa,versicolor,virginica"
    // (read as the header), the class index in the last column.
    let out = tmp.path().join("iris");
    let iris = dir.join("iris.csv");
    let settings = [
        "--rates",
        "1e-2,3e-2",
        "--epochs",
        "60",
        "--batch-size",
        "16",
        "--hidden",
        "32",
    ];
    sweep(&iris, &out, &settings);
    let data = &json(&out.join("config.json"))["data"];
    assert_eq!(
        (
            data["inputs"].as_u64(),
            data["class_names"].as_array().unwrap().len()
        ),
        (Some(4), 3)
    );
    let acc = best_accuracy(&out);
    assert!(acc >= 0.9, "iris: best validation accuracy {acc}");
    // digits.csv.gz has no header row: it is refused as such, and reads with one added.
    let out = tmp.path().join("digits-raw");
    let digits = dir.join("digits.csv.gz");
    let o = lrsweep(&sweep_args(
        digits.to_str().unwrap(),
        out.to_str().unwrap(),
        &[],
    ));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("looks like data, not a header row"),
        "{}",
        text(&o)
    );
    let raw = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&digits).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let header = (0..64)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join(",")
        + ",digit\n";
    let with_header = tmp.path().join("digits.csv.gz");
    std::fs::write(&with_header, gzip((header + &raw).as_bytes())).unwrap();
    let out = tmp.path().join("digits");
    let settings = [
        "--label",
        "digit",
        "--rates",
        "1e-3,3e-3",
        "--epochs",
        "25",
        "--batch-size",
        "32",
        "--hidden",
        "128",
    ];
    sweep(&with_header, &out, &settings);
    let data = &json(&out.join("config.json"))["data"];
    assert_eq!(
        (data["inputs"].as_u64(), data["images"].as_u64()),
        (Some(64), Some(1797))
    );
    let acc = best_accuracy(&out);
    assert!(acc >= 0.95, "digits: best validation accuracy {acc}");
}

/// Debian's `dataset-fashion-mnist` files; skipped without them unless
/// `LRSWEEP_REQUIRE_USER_DATA` is set.
fn fashion_dir() -> Option<PathBuf> {
    let dir = PathBuf::from("/usr/share/datasets/fashion-mnist");
    if dir.join("train-images-idx3-ubyte.gz").is_file() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("LRSWEEP_REQUIRE_USER_DATA").is_none(),
        "install Debian's dataset-fashion-mnist"
    );
    eprintln!("skipped: no Fashion-MNIST in /usr/share/datasets/fashion-mnist");
    None
}

#[test]
fn fashion_mnist_through_data_equals_the_catalogue_set() {
    let Some(dir) = fashion_dir() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let common = [
        "--rates",
        "1e-3",
        "--refine",
        "0",
        "--no-find",
        "--backend",
        "cpu",
        "--epochs",
        "2",
        "--limit",
        "3000",
    ];
    let (cat, user) = (tmp.path().join("catalogue"), tmp.path().join("user"));
    let mut a = vec![
        "sweep",
        "--dataset",
        "fashion-mnist",
        "--data-dir",
        dir.to_str().unwrap(),
        "--out",
        cat.to_str().unwrap(),
    ];
    a.extend_from_slice(&common);
    let o = lrsweep(&a);
    assert!(o.status.success(), "{}", text(&o));
    let mut b = vec![
        "sweep",
        "--data",
        dir.to_str().unwrap(),
        "--out",
        user.to_str().unwrap(),
    ];
    b.extend_from_slice(&common);
    let o = lrsweep(&b);
    assert!(o.status.success(), "{}", text(&o));
    let m = |d: &Path| figures(&d.join("lr-0.001/metrics.csv"));
    assert_eq!(m(&cat), m(&user), "the same figures, epoch by epoch");
    let shas = |d: &Path| {
        json(&d.join("config.json"))["data"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["sha256"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(shas(&cat), shas(&user));
}

#[test]
fn wgpu_trains_odd_widths_and_class_counts_as_the_cpu_backends_do() {
    if !crate::common::wgpu_listed() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // 13 features into 37 classes: no dimension a multiple of a GPU's work-group size.
    let csv = tmp.path().join("odd.csv");
    std::fs::write(&csv, csv_text(37 * 10, 13, 37, &|c| format!("k{c:02}"))).unwrap();
    let run = |backend: &str| {
        let out = tmp.path().join(backend);
        sweep(&csv, &out, &["--backend", backend]);
        figures(&out.join("lr-0.01/metrics.csv"))
    };
    let (wgpu, flex, cpu) = (run("wgpu"), run("flex"), run("cpu"));
    for (other, name) in [(&flex, "flex"), (&cpu, "cpu")] {
        for (a, b) in wgpu.iter().zip(other.iter()) {
            // Losses and accuracies (the seconds column left out) within float rounding.
            for (x, y) in a.iter().zip(b).skip(1).take(4) {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                assert!(
                    (x - y).abs() <= 1e-3 * y.abs().max(1.0),
                    "wgpu vs {name}: {a:?} vs {b:?}"
                );
            }
        }
    }
}
