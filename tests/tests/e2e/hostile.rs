//! Hostile but fair input, refused before anything is trained or written (exit 2), with a
//! message that names the problem: the classes of issue "fourteen ways lrsweep still breaks"
//! that need no training. Those that do are in `hostile_runs`.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::bad_input::refused;
use crate::common::{bin, lrsweep, mnist_dir, text};

/// Class 1: sizes that cannot be allocated or make no sense are refused up front.
#[test]
fn huge_sizes_are_refused_not_aborted() {
    refused(&["--hidden", "100000000"], "to train, more than");
    refused(
        &["--hidden", "100000000", "--serial"],
        "network with --hidden 100000000",
    );
    refused(
        &["--hidden", "18446744073709551615"],
        "more bytes than can be counted",
    );
    refused(&["--refine", "1099511627776"], "--refine");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    let o = lrsweep(&[
        "bench",
        "--epochs",
        "4294967296",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!out.exists());
}

/// Class 6: rates f32 cannot hold or train with.
#[test]
fn extreme_rates_are_refused_at_parse_time() {
    for rate in ["1e-320", "1e-250", "1e-46"] {
        refused(&["--rates", &format!("1e-3,{rate}")], "too small");
    }
    refused(&["--rates", "1e300"], "f32");
}

/// Class 11: an output place that cannot be written is refused before the data is loaded.
#[test]
fn unwritable_output_places_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    for (out, says) in [
        (file.join("sub"), "not a directory"),
        (Path::new("/proc/lrsweep-run").to_path_buf(), "cannot write"),
    ] {
        // A data directory that does not exist: had the data been loaded first, this would be
        // the error instead.
        let o = Command::new(bin())
            .args(["sweep", "--data-dir", "/nonexistent", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(says) && stderr.contains("--out"),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

/// Class 14: a split that leaves a part with fewer images than classes.
#[test]
fn a_split_without_every_class_in_each_part_is_refused() {
    refused(
        &["--val-fraction", "1e-9"],
        "at least one item of each of the 10 classes",
    );
    refused(
        &["--val-fraction", "0.999"],
        "at least one item of each of the 10 classes",
    );
}

fn data_dir_with(tmp: &Path, make_bad: impl Fn(&Path)) -> std::path::PathBuf {
    let dir = tmp.join("data");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let src = mnist_dir().join(format!("{name}.gz"));
        std::fs::copy(&src, dir.join(format!("{name}.gz"))).unwrap();
    }
    make_bad(&dir.join("train-images-idx3-ubyte.gz"));
    dir
}

/// Class 12: a data file that is a directory, a FIFO or a symbolic-link loop says what it is.
#[test]
fn a_data_path_that_is_not_a_file_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Make, &str); 3] = [
        (
            "dir",
            &|p| std::fs::create_dir(p).unwrap(),
            "is a directory",
        ),
        (
            "fifo",
            &|p| {
                let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
                assert!(ok, "mkfifo");
            },
            "is a FIFO",
        ),
        (
            "loop",
            &|p| std::os::unix::fs::symlink(p, p).unwrap(),
            "symbolic links",
        ),
    ];
    for (name, make, says) in cases {
        let dir = data_dir_with(&tmp.path().join(name), make);
        refused(&["--data-dir", dir.to_str().unwrap()], says);
    }
}

/// Class 12: `fetch --data-dir X` with nothing there does not advise running `lrsweep fetch`
/// with the same arguments.
#[test]
fn fetch_with_an_empty_data_dir_gives_advice_that_works() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(["fetch", "--data-dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("leave --data-dir out") && !stderr.contains("run `lrsweep fetch` to"),
        "{stderr}"
    );
}

/// Class 12: eval names the real problem of the file it is given.
#[test]
fn eval_names_what_is_wrong_with_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let eval = |model: &Path| {
        Command::new(bin())
            .args(["eval", "--backend", "flex", "--model"])
            .arg(model)
            .env("LRSWEEP_DATA_DIR", mnist_dir())
            .output()
            .unwrap()
    };
    let missing = tmp.path().join("best.bpk");
    let o = eval(&missing);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("best.bpk: No such file"));
    std::fs::write(&missing, b"").unwrap();
    let o = eval(&missing);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is empty"),
        "{}",
        text(&o)
    );
    let o = eval(&tmp.path().join("best.json"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("give the .bpk file"),
        "{}",
        text(&o)
    );
}

/// Class 12: stdout on a full disk says it was stdout, and the run is complete anyway.
#[test]
fn a_full_stdout_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::new(bin())
        .args([
            "sweep",
            "--limit",
            "500",
            "--epochs",
            "1",
            "--rates",
            "1e-3",
            "--refine",
            "0",
            "--no-find",
            "--backend",
            "flex",
            "--out",
        ])
        .arg(&out)
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("standard output"), "{stderr}");
    assert!(out.join("summary.json").is_file());
}
