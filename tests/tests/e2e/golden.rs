//! A fixed run directory (`tests/fixtures/small-run`: five rates, one overfitting, one diverging
//! at a loss of 14.5, and a range test) reported again gives exactly the files kept in
//! `tests/fixtures/small-run.golden`: `summary.json`, `summary.md` and `report.html`, whose
//! embedded charts are compared by SHA-256. It guards restructurings that must not change what
//! users get; after a deliberate change, `LRSWEEP_BLESS=1` rewrites the golden files.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::common::{lrsweep, text};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// `report.html` with each embedded image replaced by the SHA-256 of its base64 text.
fn normalise_html(html: &str) -> String {
    const MARK: &str = "data:image/png;base64,";
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find(MARK) {
        out += &rest[..i];
        let body = &rest[i + MARK.len()..];
        let end = body.find('"').unwrap_or(body.len());
        let digest: String = Sha256::digest(&body.as_bytes()[..end])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out += &format!("data:image/png;sha256,{digest}");
        rest = &body[end..];
    }
    out + rest
}

#[test]
fn report_of_the_fixed_run_gives_the_golden_summary_and_page() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    copy_dir(&fixtures().join("small-run"), &run);
    let o = lrsweep(&["report", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let golden = fixtures().join("small-run.golden");
    let outputs = [
        (
            "summary.json",
            std::fs::read_to_string(run.join("summary.json")).unwrap(),
        ),
        (
            "summary.md",
            std::fs::read_to_string(run.join("summary.md")).unwrap(),
        ),
        (
            "report.html",
            normalise_html(&std::fs::read_to_string(run.join("report.html")).unwrap()),
        ),
    ];
    if std::env::var_os("LRSWEEP_BLESS").is_some() {
        std::fs::create_dir_all(&golden).unwrap();
        for (name, content) in &outputs {
            std::fs::write(golden.join(name), content).unwrap();
        }
        return;
    }
    for (name, content) in &outputs {
        let expected = std::fs::read_to_string(golden.join(name))
            .unwrap_or_else(|e| panic!("{}: {e} (bless with LRSWEEP_BLESS=1)", golden.display()));
        assert!(
            *content == expected,
            "{name} differs from {}:\n--- got\n{content}\n--- expected\n{expected}",
            golden.join(name).display()
        );
    }
}
