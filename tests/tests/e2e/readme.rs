//! The README's quick look, run as written: it finishes, prints a recommendation and writes the
//! report it names.

use crate::common::{lrsweep, text};

#[test]
fn the_readmes_quick_look_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let section = readme
        .split("## Quick look")
        .nth(1)
        .expect("a Quick look section");
    let command = section
        .lines()
        .find_map(|l| l.strip_prefix("    lrsweep "))
        .expect("a command in the Quick look section");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.extend(["--out", out.to_str().unwrap()]);
    let o = lrsweep(&args);
    assert!(o.status.success(), "lrsweep {command}: {}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("**Recommended: learning rate"), "{stdout}");
    assert!(out.join("report.html").is_file());
}
