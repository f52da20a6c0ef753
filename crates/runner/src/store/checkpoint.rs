//! Per-rate checkpoints: weights, Adam state and the records so far, written atomically and
//! checked by SHA-256 when read, so a crash never leaves one that is half-written yet trusted.

use std::path::Path;

use anyhow::{bail, Context, Result};
use lrsweep_model::{EpochRecord, TrainerState};
use serde::{Deserialize, Serialize};

use super::fs::write_atomic;
use super::metrics;

const MAGIC: &[u8; 8] = b"LRSWCKP1";
const DIGEST_LEN: usize = 64;

/// File name of a rate's checkpoint inside its directory.
pub const FILE: &str = super::layout::names::CHECKPOINT;

#[derive(Serialize, Deserialize)]
struct Header {
    lrsweep_version: String,
    /// What the weights belong to: the run's defining settings, its data and the rate
    /// ([`crate::store::run::RunRecord::member_identity`]); empty in checkpoints of older versions.
    #[serde(default)]
    identity: String,
    rate: f64,
    /// The records as metrics.csv lines (NaN and inf survive, unlike in JSON).
    records: Vec<String>,
    step: u64,
    shapes: Vec<Vec<usize>>,
}

/// What a checkpoint holds.
pub struct Checkpoint {
    /// Records of the epochs trained.
    pub records: Vec<EpochRecord>,
    /// The trainer after the last of them.
    pub state: TrainerState,
}

/// Writes the checkpoint of `rate` after `records` to `path` (temporary file, then rename);
/// `identity` says which run and rate it belongs to.
pub fn save(
    path: &Path,
    identity: &str,
    rate: f64,
    records: &[EpochRecord],
    state: &TrainerState,
) -> Result<()> {
    let header = Header {
        lrsweep_version: env!("CARGO_PKG_VERSION").to_string(),
        identity: identity.to_string(),
        rate,
        records: records.iter().map(metrics::format_record).collect(),
        step: state.step,
        shapes: state.tensors.iter().map(|(s, _)| s.clone()).collect(),
    };
    let json = serde_json::to_vec(&header).context("serialising a checkpoint")?;
    let values: usize = state.tensors.iter().map(|(_, v)| v.len()).sum();
    let mut bytes = Vec::with_capacity(16 + json.len() + 4 * values + DIGEST_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&json);
    for (_, v) in &state.tensors {
        for x in v {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    let digest = lrsweep_data::sha256_hex(&bytes);
    bytes.extend_from_slice(digest.as_bytes());
    write_atomic(path, &bytes)
}

// Every check of a file read back, in the order its bytes come: kept together so that none is
// skipped.
/// Reads and verifies a checkpoint; any damage (truncation, corruption) or a checkpoint of
/// another run or rate (its identity differs from `identity`) is an error saying what.
pub fn load(path: &Path, identity: &str, rate: f64) -> Result<Checkpoint> {
    let bytes = super::fs::read(path, super::fs::limit::WEIGHTS)?;
    if bytes.len() < MAGIC.len() + 8 + DIGEST_LEN || &bytes[..8] != MAGIC {
        bail!("{} is not a complete lrsweep checkpoint", path.display());
    }
    let (body, digest) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if lrsweep_data::sha256_hex(body).as_bytes() != digest {
        bail!(
            "{} is damaged or truncated (checksum mismatch)",
            path.display()
        );
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&body[8..16]);
    let json_end = 16usize.saturating_add(u64::from_le_bytes(len) as usize);
    if json_end > body.len() {
        bail!("{} has a header longer than the file", path.display());
    }
    let header: Header = serde_json::from_slice(&body[16..json_end])
        .with_context(|| format!("reading the header of {}", path.display()))?;
    if header.rate != rate {
        bail!(
            "{} belongs to learning rate {}, not {rate}",
            path.display(),
            header.rate
        );
    }
    if header.identity != identity {
        bail!(
            "{} belongs to another run (its network, seed, data, split or training settings differ from this run's)",
            path.display()
        );
    }
    let mut rest = &body[json_end..];
    let mut tensors = Vec::with_capacity(header.shapes.len());
    for shape in header.shapes {
        let n = shape
            .iter()
            .try_fold(4usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX);
        if rest.len() < n {
            bail!(
                "{} holds fewer values than its header announces",
                path.display()
            );
        }
        let (head, tail) = rest.split_at(n);
        let values = head
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        tensors.push((shape, values));
        rest = tail;
    }
    let records = header
        .records
        .iter()
        .enumerate()
        .map(|(i, line)| {
            metrics::parse_record(line)
                .with_context(|| format!("{} record {}", path.display(), i + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Checkpoint {
        records,
        state: TrainerState {
            step: header.step,
            tensors,
        },
    })
}
