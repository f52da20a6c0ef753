//! Where the data comes from: a directory the user names, the caches, the system, or a download,
//! always verified against pinned checksums.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::bounded;
use crate::catalogue::{sha256_hex, DatasetKind, FileSpec, Origin, VerifiedFile};
use crate::error::{DataError, Result};

/// Environment variable naming a directory that holds the data files.
pub const DATA_DIR_ENV: &str = "LRSWEEP_DATA_DIR";

/// Finds or downloads a data set's files; see [`Locator::locate`] for the search order.
#[derive(Debug, Clone)]
pub struct Locator {
    /// The data set to find.
    pub dataset: DatasetKind,
    /// A directory named by the user; when set, it must hold every file.
    pub data_dir: Option<PathBuf>,
    /// The directory from `LRSWEEP_DATA_DIR`; when set (and `data_dir` is not), it must hold every file.
    pub env_dir: Option<PathBuf>,
    /// Root of lrsweep's cache (`<cache>/lrsweep`); `None` disables the cache and the download.
    pub cache_root: Option<PathBuf>,
    /// Whether other tools' caches and system packages are searched.
    pub search_shared: bool,
    /// Base URLs tried in turn for a download; empty disables the download.
    pub mirrors: Vec<String>,
    /// Show a progress bar while downloading (only drawn on a terminal).
    pub progress: bool,
}

impl Locator {
    /// The search order a user expects: `data_dir`, then `LRSWEEP_DATA_DIR`, the caches, a download.
    pub fn new(dataset: DatasetKind, data_dir: Option<PathBuf>) -> Self {
        Self {
            dataset,
            data_dir,
            env_dir: std::env::var_os(DATA_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            cache_root: dirs::cache_dir().map(|c| c.join("lrsweep")),
            search_shared: true,
            mirrors: dataset.default_mirrors(),
            progress: true,
        }
    }

    /// The directory downloads go to: `<cache_root>/<dataset>`.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.cache_root
            .as_ref()
            .map(|r| r.join(self.dataset.name()))
    }

    /// Finds each file, verifies it, and downloads what is missing. Order: the explicit
    /// directory, `LRSWEEP_DATA_DIR` (either, when given, must hold all four files), lrsweep's
    /// cache, other tools' copies, and last the mirrors (into the cache, verified before use).
    pub fn locate(&self) -> Result<Vec<VerifiedFile>> {
        let specs = self.dataset.files();
        let named = [
            (self.data_dir.as_ref(), Origin::DataDir, "--data-dir"),
            (self.env_dir.as_ref(), Origin::EnvDir, DATA_DIR_ENV),
        ];
        if let Some((Some(dir), origin, what)) = named.into_iter().find(|(d, _, _)| d.is_some()) {
            return specs
                .iter()
                .map(|spec| {
                    let path = find_in(dir, spec.name)?.ok_or_else(|| DataError::MissingFile {
                        dir: dir.clone(),
                        file: spec.name,
                        hint: format!(
                            "{what} must name a directory holding the four {} files; leave {what} out to use lrsweep's cache, which `lrsweep fetch` (without {what}) downloads into",
                            self.dataset
                        ),
                    })?;
                    verify_file(&path, *spec, self.dataset, origin)
                })
                .collect();
        }

        let cache = self.cache_dir();
        let mut found = Vec::with_capacity(specs.len());
        for spec in specs {
            let local = cache
                .iter()
                .map(|d| (d.clone(), Origin::Cache))
                .chain(
                    if self.search_shared {
                        self.dataset.shared_dirs()
                    } else {
                        Vec::new()
                    }
                    .into_iter()
                    .map(|d| (d, Origin::Shared)),
                )
                .map(|(d, origin)| find_in(&d, spec.name).map(|p| p.map(|p| (p, origin))))
                .find_map(|found| found.transpose())
                .transpose()?;
            let file = match local {
                Some((path, origin)) => verify_file(&path, spec, self.dataset, origin)?,
                None => self.download(spec, cache.as_deref())?,
            };
            found.push(file);
        }
        Ok(found)
    }

    fn download(&self, spec: FileSpec, cache: Option<&Path>) -> Result<VerifiedFile> {
        let unavailable = |tried: Vec<String>| DataError::Unavailable {
            dataset: self.dataset.name(),
            tried: tried
                .iter()
                .map(|t| format!("  - {t}"))
                .collect::<Vec<_>>()
                .join("\n"),
            files: self.dataset.files().map(|f| f.name).join(", "),
        };
        let mut tried = vec![];
        if let Some(dir) = &self.data_dir {
            tried.push(format!("{}: not searched", dir.display()));
        }
        let Some(cache) = cache else {
            tried.push("no cache directory on this system, so nothing can be downloaded".into());
            return Err(unavailable(tried));
        };
        tried.push(format!("{}: no {} there", cache.display(), spec.name));
        if self.mirrors.is_empty() {
            tried.push("download disabled (no mirrors)".into());
            return Err(unavailable(tried));
        }
        std::fs::create_dir_all(cache).map_err(|e| DataError::io("creating", cache, e))?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(60))
            .build();
        for mirror in &self.mirrors {
            let url = format!("{}/{}.gz", mirror.trim_end_matches('/'), spec.name);
            match self.fetch_one(&agent, &url, spec, cache) {
                Ok(file) => return Ok(file),
                Err(why) => tried.push(format!("{url}: {why}")),
            }
        }
        Err(unavailable(tried))
    }

    /// Downloads one URL, verifies it and moves it into the cache; on any failure nothing stays.
    fn fetch_one(
        &self,
        agent: &ureq::Agent,
        url: &str,
        spec: FileSpec,
        cache: &Path,
    ) -> std::result::Result<VerifiedFile, String> {
        let response = agent.get(url).call().map_err(|e| match e {
            ureq::Error::Status(code, r) => format!("HTTP {code} {}", r.status_text()),
            ureq::Error::Transport(t) => t.to_string(),
        })?;
        let expected_len: Option<u64> = response
            .header("Content-Length")
            .and_then(|v| v.parse().ok());
        let bar = if self.progress {
            indicatif::ProgressBar::with_draw_target(
                expected_len,
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("downloading {}", spec.name));
        // Never trust a server's number for an allocation: a lying Content-Length would abort.
        let mut body = Vec::with_capacity(expected_len.unwrap_or(1 << 20).min(64 << 20) as usize);
        // Nor its body: a server that never stops sending is cut off at the bound.
        let read = bar
            .wrap_read(response.into_reader())
            .take(spec.read_limit() + 1)
            .read_to_end(&mut body);
        bar.finish_and_clear();
        read.map_err(|e| format!("transfer failed after {} bytes: {e}", body.len()))?;
        if body.len() as u64 > spec.read_limit() {
            return Err(format!(
                "the server sent more than {} bytes, more than this file can be; rejected",
                spec.read_limit()
            ));
        }
        if let Some(n) = expected_len {
            if body.len() as u64 != n {
                return Err(format!(
                    "transfer cut off: {} of {n} bytes received",
                    body.len()
                ));
            }
        }
        let content = bounded::inflate(
            body.clone(),
            Path::new(url),
            bounded::Bound::Length(spec.read_limit()),
        )
        .map_err(|e| e.to_string())?;
        let digest = sha256_hex(&content);
        if digest != spec.sha256 {
            return Err(format!(
                "checksum mismatch (SHA-256 of the decompressed file is {digest}, expected {}); rejected",
                spec.sha256
            ));
        }
        let dest = cache.join(format!("{}.gz", spec.name));
        write_atomically(&dest, &body).map_err(|e| e.to_string())?;
        Ok(VerifiedFile {
            name: spec.name.to_string(),
            path: dest,
            origin: Origin::Downloaded,
            sha256: spec.sha256.to_string(),
            bytes: content,
        })
    }
}

/// `dir/name` or `dir/name.gz`, whichever exists first; `None` when neither exists. Something
/// there that is not a readable regular file (a directory, a FIFO, a symbolic-link loop) is an
/// error that says so, not a missing file.
fn find_in(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    for path in [dir.join(name), dir.join(format!("{name}.gz"))] {
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => return Ok(Some(path)),
            Ok(meta) => {
                let kind = if meta.is_dir() {
                    "a directory"
                } else if std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()) {
                    "a FIFO"
                } else {
                    "not a regular file"
                };
                return Err(DataError::NotAFile {
                    path,
                    kind: kind.to_string(),
                });
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && std::fs::symlink_metadata(&path).is_err() =>
            {
                continue
            }
            Err(e) => return Err(DataError::io("reading", path, e)),
        }
    }
    Ok(None)
}

fn verify_file(
    path: &Path,
    spec: FileSpec,
    dataset: DatasetKind,
    origin: Origin,
) -> Result<VerifiedFile> {
    let bytes = bounded::read_maybe_gzip(path, spec.read_limit())?;
    let digest = sha256_hex(&bytes);
    if digest != spec.sha256 {
        // A good file of the other catalogue set is not damaged: say whose it is.
        let known = [DatasetKind::Mnist, DatasetKind::FashionMnist]
            .into_iter()
            .flat_map(|d| d.files().map(|f| (d, f)))
            .find(|(_, f)| f.sha256 == digest);
        if let Some((other, file)) = known {
            return Err(DataError::OtherDataset {
                path: path.to_path_buf(),
                holds: format!("{}'s {}", other.name(), file.name),
                wanted: format!("{}'s {}", dataset.name(), spec.name),
            });
        }
        return Err(DataError::Checksum {
            path: path.to_path_buf(),
            dataset: dataset.name(),
            found: digest,
            expected: spec.sha256.to_string(),
        });
    }
    Ok(VerifiedFile {
        name: spec.name.to_string(),
        path: path.to_path_buf(),
        origin,
        sha256: spec.sha256.to_string(),
        bytes,
    })
}

/// Writes `bytes` to a temporary file beside `dest`, syncs it, then renames it into place, so
/// that `dest` is either absent, its old content, or the whole new content.
pub fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.partial-{}",
        dest.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DataError::io("writing", dest, e)
    })
}
