//! TensorBoard event files, so that `tensorboard --logdir RUN` shows every member as a run,
//! live, and the sweep in its HParams dashboard.
//!
//! - Each member's directory holds one event file, `events.out.tfevents.<time>.<host>.<pid>.lrsweep`,
//!   appended and flushed after every epoch ([`EventLog`]): the tags [`TAGS`], step = epoch, as
//!   `torch.utils.tensorboard`'s `add_scalar` writes them. A resumed member continues its file:
//!   the epochs after its checkpoint are cut away and any the file lacks are added, so every
//!   epoch is there once.
//! - HParams ([`write_hparams`]), as `add_hparams` writes them, rewritten whenever the run's
//!   results are published: the experiment (every setting that varies and the metrics) in
//!   `RUN/events.out.tfevents.<time>.<host>.hparams`, and each member's session (its settings,
//!   its verdict, its lowest validation loss and best accuracy, finished or running) in its
//!   directory's `….hparams` file, named and timed by when the records last changed: the same
//!   results published again leave the files as they are, newer ones replace them under a name
//!   that sorts after.

mod proto;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lrsweep_model::EpochRecord;

use super::fs::{self, limit};
use crate::config::Setting;
use proto::Message;

/// What every event file's name starts with (TensorBoard reads the files whose names hold
/// `tfevents`).
const PREFIX: &str = "events.out.tfevents.";
/// How the per-epoch file's name ends.
const EPOCHS_SUFFIX: &str = ".lrsweep";
/// How the HParams files' names end.
const HPARAMS_SUFFIX: &str = ".hparams";

/// A figure of an epoch's record.
pub type Figure = fn(&EpochRecord) -> f64;

/// The scalars of an epoch: (tag, the figure of the record).
pub const TAGS: [(&str, Figure); 5] = [
    ("loss/train", |r| r.train_loss),
    ("loss/validation", |r| r.val_loss),
    ("accuracy/train", |r| r.train_acc),
    ("accuracy/validation", |r| r.val_acc),
    ("learning_rate", |r| r.lr),
];

/// A regression's scalars of an epoch: R² where accuracy is, RMSE and MAE in the targets' units.
pub const REGRESSION_TAGS: [(&str, Figure); 7] = [
    ("loss/train", |r| r.train_loss),
    ("loss/validation", |r| r.val_loss),
    ("r2/train", |r| r.train_acc),
    ("r2/validation", |r| r.val_acc),
    ("rmse/validation", |r| r.val_rmse),
    ("mae/validation", |r| r.val_mae),
    ("learning_rate", |r| r.lr),
];

/// The HParams metrics of a session, lowest validation loss and best validation accuracy.
pub const METRIC_TAGS: [&str; 2] = ["hparams/lowest_val_loss", "hparams/best_val_accuracy"];

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A new event file's name, as TensorFlow's writers name them.
fn file_name(suffix: &str) -> String {
    format!(
        "{PREFIX}{}.{}.{}{suffix}",
        now() as u64,
        fs::host(),
        std::process::id()
    )
}

/// The event files in `dir` whose names end with `suffix`, sorted by name (oldest first).
fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(PREFIX) && name.ends_with(suffix)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// An encoded `Event` at `step` holding a summary of `values`.
fn event(wall_time: f64, step: u64, values: &[Message]) -> Message {
    let summary = values.iter().fold(Message::new(), |s, v| s.message(1, v));
    Message::new()
        .double(1, wall_time)
        .int(2, step)
        .message(5, &summary)
}

/// The first event of every file, at `time`.
fn version_event(time: f64) -> Message {
    Message::new().double(1, time).string(3, "brain.Event:2")
}

fn scalar(tag: &str, v: f64) -> Message {
    Message::new().string(1, tag).float(2, v as f32)
}

/// The frame of an epoch's event.
fn epoch_frame(r: &EpochRecord) -> Vec<u8> {
    let tags: &[(&str, Figure)] = match r.val_rmse.is_nan() && r.val_mae.is_nan() {
        true => &TAGS,
        false => &REGRESSION_TAGS,
    };
    let values: Vec<Message> = tags.iter().map(|(tag, f)| scalar(tag, f(r))).collect();
    proto::frame(event(now(), r.epoch as u64, &values).encoded())
}

/// A member's event file, appended after each epoch.
pub struct EventLog {
    path: PathBuf,
    file: File,
}

impl EventLog {
    /// Opens the event file in the member directory `dir` that has trained `records`: its own
    /// file continued (epochs after the last of `records` cut away, those missing added), or a
    /// new one.
    pub fn open(dir: &Path, records: &[EpochRecord]) -> Result<Self> {
        let existing = files_in(dir, EPOCHS_SUFFIX);
        let path = match existing.first() {
            Some(p) => p.clone(),
            None => dir.join(file_name(EPOCHS_SUFFIX)),
        };
        // One file per member: any other (a crafted copy) would show its epochs twice.
        for other in existing.iter().skip(1) {
            fs::remove(other)?;
        }
        let old = match existing.first() {
            Some(p) => fs::read(p, limit::METRICS).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut bytes = Vec::new();
        let mut seen = vec![false; records.len() + 1];
        let mut versioned = false;
        for (range, data) in proto::records(&old) {
            let Some(step) = proto::event_step(data) else {
                continue;
            };
            let step = usize::try_from(step).unwrap_or(usize::MAX);
            let keep = match step {
                0 if !versioned => {
                    versioned = true;
                    true
                }
                s if s >= 1 && s <= records.len() && !seen[s] => {
                    seen[s] = true;
                    true
                }
                _ => false,
            };
            if keep {
                bytes.extend_from_slice(&old[range]);
            }
        }
        if !versioned {
            bytes.splice(0..0, proto::frame(version_event(now()).encoded()));
        }
        for r in records {
            if r.epoch >= 1 && r.epoch < seen.len() && !seen[r.epoch] {
                bytes.extend(epoch_frame(r));
            }
        }
        if existing.is_empty() || bytes != old {
            fs::write_atomic(&path, &bytes)?;
        }
        let file = fs::no_follow()
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        Ok(Self { path, file })
    }

    /// Appends `record`'s epoch, flushed to the file.
    pub fn append(&mut self, record: &EpochRecord) -> Result<()> {
        self.file
            .write_all(&epoch_frame(record))
            .and_then(|()| self.file.flush())
            .with_context(|| format!("writing {}", self.path.display()))
    }
}

/// A setting's value as google.protobuf.Value.
fn encoded(value: &Setting) -> Message {
    match value {
        Setting::Number(v) => Message::new().double(2, *v),
        Setting::Text(s) => Message::new().string(3, s),
    }
}

/// A member as the HParams dashboard shows it: its directory in the run, its settings and
/// metrics, the epoch its metrics were reached at, and whether it has finished.
#[derive(Debug, Clone)]
pub struct Session {
    pub dir: String,
    pub hparams: Vec<(String, Setting)>,
    /// The values of [`METRIC_TAGS`].
    pub metrics: [f64; 2],
    pub epoch: usize,
    pub finished: bool,
    /// When its records last changed (seconds since the epoch): the time its HParams carry, so
    /// that publishing the same results again writes the same bytes.
    pub time: f64,
}

/// A Summary.Value holding an HParams plugin datum (no value of its own).
fn hparams_value(tag: &str, data: &Message) -> Message {
    let content = Message::new().int(1, 0);
    let mut content_bytes = content.encoded().to_vec();
    content_bytes.extend_from_slice(data.encoded());
    let plugin = Message::new().string(1, "hparams").bytes(2, &content_bytes);
    let metadata = Message::new().message(1, &plugin);
    Message::new().string(1, tag).message(9, &metadata)
}

/// `HParamsPluginData { experiment }` for `sessions`: every setting (strings with their values
/// as the discrete domain) and the metrics.
fn experiment(sessions: &[Session], time: f64) -> Message {
    let mut names: Vec<&str> = Vec::new();
    for s in sessions {
        for (name, _) in &s.hparams {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let mut exp = Message::new().double(3, time);
    for name in names {
        let values: Vec<&Setting> = sessions
            .iter()
            .flat_map(|s| s.hparams.iter().filter(|(n, _)| n == name).map(|(_, v)| v))
            .collect();
        let text = values.iter().any(|v| matches!(v, Setting::Text(_)));
        let mut domain = Message::new();
        let mut listed: Vec<&Setting> = Vec::new();
        for v in values {
            if !listed.contains(&v) {
                listed.push(v);
                domain = domain.message(1, &encoded(v));
            }
        }
        let info = Message::new()
            .string(1, name)
            .int(4, if text { 1 } else { 3 })
            .message(5, &domain);
        exp = exp.message(4, &info);
    }
    for tag in METRIC_TAGS {
        let metric = Message::new().message(1, &Message::new().string(2, tag));
        exp = exp.message(5, &metric);
    }
    Message::new().message(2, &exp)
}

/// Writes `bytes` as the `.hparams` event file of `time` in `dir` (unless it holds them
/// already), and removes the others: a later publication's name sorts after an earlier one's,
/// as TensorBoard expects of a run's files.
fn replace_hparams_file(dir: &Path, time: f64, bytes: &[u8]) -> Result<()> {
    let path = dir.join(format!(
        "{PREFIX}{:013.0}.{}{HPARAMS_SUFFIX}",
        (time * 1000.0).max(0.0),
        fs::host()
    ));
    if fs::read(&path, limit::METRICS).ok().as_deref() != Some(bytes) {
        fs::write_atomic(&path, bytes)?;
    }
    for p in files_in(dir, HPARAMS_SUFFIX) {
        if p != path {
            fs::remove(&p)?;
        }
    }
    Ok(())
}

/// Writes the HParams of the run in `root`: the experiment at the root, each session in its
/// member's directory (one that is not there yet is skipped).
pub fn write_hparams(root: &Path, sessions: &[Session]) -> Result<()> {
    let latest = sessions.iter().map(|s| s.time).fold(0.0, f64::max);
    let mut bytes = proto::frame(version_event(latest).encoded());
    let exp = event(
        latest,
        0,
        &[hparams_value(
            "_hparams_/experiment",
            &experiment(sessions, latest),
        )],
    );
    bytes.extend(proto::frame(exp.encoded()));
    replace_hparams_file(root, latest, &bytes)?;
    for s in sessions {
        let dir = root.join(&s.dir);
        if !dir.is_dir() {
            continue;
        }
        let mut start = Message::new().double(5, s.time);
        for (name, value) in &s.hparams {
            let entry = Message::new().string(1, name).message(2, &encoded(value));
            start = start.message(1, &entry);
        }
        let end = Message::new()
            .int(1, if s.finished { 1 } else { 3 })
            .double(2, s.time);
        let mut bytes = proto::frame(version_event(s.time).encoded());
        for frame in [
            event(
                s.time,
                0,
                &[hparams_value(
                    "_hparams_/session_start_info",
                    &Message::new().message(3, &start),
                )],
            ),
            event(
                s.time,
                s.epoch as u64,
                &METRIC_TAGS
                    .iter()
                    .zip(s.metrics)
                    .map(|(tag, v)| scalar(tag, v))
                    .collect::<Vec<_>>(),
            ),
            event(
                s.time,
                0,
                &[hparams_value(
                    "_hparams_/session_end_info",
                    &Message::new().message(4, &end),
                )],
            ),
        ] {
            bytes.extend(proto::frame(frame.encoded()));
        }
        replace_hparams_file(&dir, s.time, &bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 1.0 / epoch as f64,
            train_acc: 0.5,
            val_loss: 2.0 / epoch as f64,
            val_acc: 0.25,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: 0.01,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        }
    }

    fn steps(dir: &Path) -> Vec<u64> {
        let files = files_in(dir, EPOCHS_SUFFIX);
        assert_eq!(files.len(), 1, "one event file per member");
        let bytes = std::fs::read(&files[0]).unwrap();
        proto::records(&bytes)
            .iter()
            .map(|(_, d)| proto::event_step(d).unwrap())
            .collect()
    }

    #[test]
    fn a_resumed_member_continues_its_file_without_a_duplicate_or_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<EpochRecord> = (1..=5).map(record).collect();
        let mut log = EventLog::open(dir.path(), &[]).unwrap();
        for r in &all {
            log.append(r).unwrap();
        }
        drop(log);
        assert_eq!(steps(dir.path()), [0, 1, 2, 3, 4, 5]);
        // The checkpoint holds 3 epochs: 4 and 5 are trained again.
        let mut log = EventLog::open(dir.path(), &all[..3]).unwrap();
        assert_eq!(steps(dir.path()), [0, 1, 2, 3]);
        log.append(&all[3]).unwrap();
        assert_eq!(steps(dir.path()), [0, 1, 2, 3, 4]);
        // A file behind its checkpoint (killed between the two) gets the epochs it lacks, and
        // a torn last record is dropped.
        let path = files_in(dir.path(), EPOCHS_SUFFIX)[0].clone();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        drop(log);
        EventLog::open(dir.path(), &all).unwrap();
        assert_eq!(steps(dir.path()), [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn the_same_results_keep_their_hparams_files_and_newer_ones_replace_them() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("lr-0.001");
        std::fs::create_dir(&member).unwrap();
        let session = Session {
            dir: "lr-0.001".into(),
            hparams: vec![("lr".into(), Setting::Number(1e-3))],
            metrics: [0.1, 0.9],
            epoch: 3,
            finished: false,
            time: 1000.0,
        };
        write_hparams(dir.path(), std::slice::from_ref(&session)).unwrap();
        let first = files_in(&member, HPARAMS_SUFFIX);
        let bytes = std::fs::read(&first[0]).unwrap();
        // The same results again: the same file, byte for byte.
        write_hparams(dir.path(), std::slice::from_ref(&session)).unwrap();
        assert_eq!(files_in(&member, HPARAMS_SUFFIX), first);
        assert_eq!(std::fs::read(&first[0]).unwrap(), bytes);
        // Newer results: a file whose name sorts after, the older one gone.
        let newer = Session {
            epoch: 4,
            time: 2000.0,
            ..session
        };
        write_hparams(dir.path(), &[newer]).unwrap();
        assert_eq!(files_in(dir.path(), HPARAMS_SUFFIX).len(), 1);
        let now = files_in(&member, HPARAMS_SUFFIX);
        assert_eq!(now.len(), 1);
        assert!(now[0] > first[0]);
    }
}
