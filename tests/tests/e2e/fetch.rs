//! `lrsweep fetch`: verifies the files and says where they are; offline, says how to fix it.

use std::process::Command;

use crate::common::{bin, mnist_dir, text};

#[test]
fn fetch_verifies_a_local_copy_and_reports_it() {
    let o = Command::new(bin())
        .args(["fetch", "--data-dir"])
        .arg(mnist_dir())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("mnist: 70000 images"), "{stdout}");
    assert_eq!(
        stdout
            .matches("SHA-256 of the decompressed file verified")
            .count(),
        4,
        "{stdout}"
    );
    assert!(stdout.contains("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"));
}

#[test]
fn fetch_offline_explains_how_to_supply_the_files() {
    let cache = tempfile::tempdir().unwrap();
    // Nothing listens on port 9 of loopback: every mirror is refused at once.
    let o = Command::new(bin())
        .args(["fetch", "--mirror", "http://127.0.0.1:9/mnist"])
        .env_remove("LRSWEEP_DATA_DIR")
        .env("XDG_CACHE_HOME", cache.path())
        .env("HOME", cache.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--data-dir DIR or LRSWEEP_DATA_DIR=DIR"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_file_of_the_other_catalogue_set_is_named_as_such_not_called_damaged() {
    let o = Command::new(bin())
        .args(["fetch", "--dataset", "fashion-mnist"])
        .env("LRSWEEP_DATA_DIR", mnist_dir())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("is mnist's train-images-idx3-ubyte, a good file, but not fashion-mnist's"),
        "{t}"
    );
    assert!(!t.contains("damaged"), "{t}");
}
