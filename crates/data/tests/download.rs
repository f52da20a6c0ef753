//! The download path against a loopback HTTP server: mirrors in turn, checksums, atomic cache.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use lrsweep_data::{DatasetKind, Locator, Origin};

/// What the server answers for a path.
#[derive(Clone)]
enum Reply {
    Body(Vec<u8>),
    /// Announces the full length, sends only the first half, then closes.
    CutOff(Vec<u8>),
}

/// Serves `routes` on 127.0.0.1 (404 for anything else); returns the base URL.
fn serve(routes: HashMap<String, Reply>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let _ = match routes.get(&path) {
                    Some(Reply::Body(b)) => stream
                        .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()).as_bytes())
                        .and_then(|_| stream.write_all(b)),
                    Some(Reply::CutOff(b)) => stream
                        .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()).as_bytes())
                        .and_then(|_| stream.write_all(&b[..b.len() / 2])),
                    None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
                };
            });
        }
    });
    format!("http://{addr}/mnist")
}

fn real_files() -> HashMap<String, Vec<u8>> {
    let dir = common::mnist_dir();
    DatasetKind::Mnist
        .files()
        .iter()
        .map(|f| {
            let gz = format!("{}.gz", f.name);
            (
                format!("/mnist/{gz}"),
                std::fs::read(dir.join(&gz)).unwrap(),
            )
        })
        .collect()
}

/// A base URL where nothing listens: connections are refused.
fn refused() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}/mnist")
}

fn locator(cache: &Path, mirrors: Vec<String>) -> Locator {
    Locator {
        dataset: DatasetKind::Mnist,
        data_dir: None,
        env_dir: None,
        cache_root: Some(cache.to_path_buf()),
        search_shared: false,
        mirrors,
        progress: false,
    }
}

fn cache_entries(cache: &Path) -> Vec<String> {
    match std::fs::read_dir(cache.join("mnist")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

#[test]
fn refused_and_404_mirrors_are_skipped_and_the_cache_is_filled() {
    let cache = tempfile::tempdir().unwrap();
    let empty = serve(HashMap::new());
    let good = serve(
        real_files()
            .into_iter()
            .map(|(k, v)| (k, Reply::Body(v)))
            .collect(),
    );
    let data = lrsweep_data::load(&locator(cache.path(), vec![refused(), empty, good])).unwrap();
    assert_eq!(data.len(), 70_000);
    assert!(data.files.iter().all(|f| f.origin == Origin::Downloaded));
    let mut entries = cache_entries(cache.path());
    entries.sort();
    assert_eq!(
        entries,
        [
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz"
        ]
    );
    // Second time: from the cache, no mirror needed.
    let again = lrsweep_data::load(&locator(cache.path(), vec![])).unwrap();
    assert!(again.files.iter().all(|f| f.origin == Origin::Cache));
    assert_eq!(again.labels(), data.labels());
}

#[test]
fn a_payload_with_a_wrong_checksum_is_rejected_and_nothing_stays() {
    let cache = tempfile::tempdir().unwrap();
    let mut files = real_files();
    // Serve the test labels where the training labels belong: valid gzip and IDX, wrong content.
    let wrong = files["/mnist/t10k-labels-idx1-ubyte.gz"].clone();
    files.insert("/mnist/train-labels-idx1-ubyte.gz".into(), wrong);
    let base = serve(
        files
            .into_iter()
            .map(|(k, v)| (k, Reply::Body(v)))
            .collect(),
    );
    let e = lrsweep_data::load(&locator(cache.path(), vec![base])).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("checksum mismatch") && msg.contains("train-labels-idx1-ubyte"),
        "{msg}"
    );
    assert!(
        msg.contains("--data-dir"),
        "the error says how to supply files by hand: {msg}"
    );
    assert!(
        !cache_entries(cache.path())
            .iter()
            .any(|e| e.starts_with("train-labels") || e.contains("partial")),
        "{:?}",
        cache_entries(cache.path())
    );
}

#[test]
fn a_body_cut_off_mid_transfer_is_an_error_and_nothing_stays() {
    let cache = tempfile::tempdir().unwrap();
    let base = serve(
        real_files()
            .into_iter()
            .map(|(k, v)| (k, Reply::CutOff(v)))
            .collect(),
    );
    let e = lrsweep_data::load(&locator(cache.path(), vec![base.clone()])).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&base) && msg.contains("train-images-idx3-ubyte"),
        "{msg}"
    );
    assert!(
        cache_entries(cache.path()).is_empty(),
        "{:?}",
        cache_entries(cache.path())
    );
}

#[test]
fn offline_with_no_source_lists_what_was_tried_and_how_to_fix_it() {
    let cache = tempfile::tempdir().unwrap();
    let e = lrsweep_data::load(&locator(cache.path(), vec![refused()])).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("could not obtain mnist"), "{msg}");
    assert!(
        msg.contains("LRSWEEP_DATA_DIR") && msg.contains("--data-dir"),
        "{msg}"
    );
    assert!(
        msg.contains("train-images-idx3-ubyte, train-labels-idx1-ubyte"),
        "{msg}"
    );
}
