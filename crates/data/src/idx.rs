//! IDX files (the MNIST container format), raw or gzip-compressed (read through the crate's one
//! bounded reader).

use std::path::Path;

#[cfg(test)]
use crate::bounded::read_maybe_gzip;
use crate::error::{DataError, Result};

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Side of an MNIST image in pixels.
pub const SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = SIDE * SIDE;
/// Number of classes.
pub const CLASSES: usize = 10;

fn header(bytes: &[u8], words: usize, path: &Path) -> Result<Vec<u32>> {
    if bytes.len() < 4 * words {
        return Err(DataError::WrongLength {
            path: path.to_path_buf(),
            expected: 4 * words,
            found: bytes.len(),
        });
    }
    Ok(bytes[..4 * words]
        .chunks_exact(4)
        .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
        .collect())
}

fn check_magic(found: u32, expected: u32, what: &'static str, path: &Path) -> Result<()> {
    if found == expected {
        Ok(())
    } else {
        Err(DataError::WrongMagic {
            path: path.to_path_buf(),
            found,
            expected,
            what,
        })
    }
}

fn check_length(payload: usize, expected: usize, path: &Path) -> Result<()> {
    if payload == expected {
        Ok(())
    } else {
        Err(DataError::WrongLength {
            path: path.to_path_buf(),
            expected,
            found: payload,
        })
    }
}

/// Parses an IDX images file (already decompressed): returns the pixels, `N × 784` bytes.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    check_magic(header(bytes, 1, path)?[0], IMAGES_MAGIC, "images", path)?;
    let h = header(bytes, 4, path)?;
    if h[2] as usize != SIDE || h[3] as usize != SIDE {
        return Err(DataError::WrongDims {
            path: path.to_path_buf(),
            rows: h[2],
            cols: h[3],
        });
    }
    let payload = &bytes[16..];
    check_length(payload.len(), h[1] as usize * PIXELS, path)?;
    Ok(payload.to_vec())
}

/// Parses an IDX labels file (already decompressed): returns one class index per item.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>> {
    check_magic(header(bytes, 1, path)?[0], LABELS_MAGIC, "labels", path)?;
    let h = header(bytes, 2, path)?;
    let payload = &bytes[8..];
    check_length(payload.len(), h[1] as usize, path)?;
    if let Some(index) = payload.iter().position(|&l| l as usize >= CLASSES) {
        return Err(DataError::BadLabel {
            path: path.to_path_buf(),
            index,
            label: payload[index],
        });
    }
    Ok(payload.to_vec())
}

/// Parses an IDX file of unsigned bytes of any shape (already decompressed): returns its
/// dimensions (the first is the number of items) and its payload.
pub fn parse_ubyte<'a>(bytes: &'a [u8], path: &Path) -> Result<(Vec<usize>, &'a [u8])> {
    let magic = header(bytes, 1, path)?[0];
    let (zero, kind, ndim) = (magic >> 16, (magic >> 8) & 0xff, (magic & 0xff) as usize);
    if zero != 0 || ndim == 0 {
        return Err(DataError::invalid(
            path.display(),
            format!("magic number 0x{magic:08x} is not an IDX header (0x000008DD for unsigned bytes in DD dimensions)"),
        ));
    }
    if kind != 0x08 {
        return Err(DataError::invalid(
            path.display(),
            format!("IDX element type 0x{kind:02x} is not supported; lrsweep reads unsigned-byte IDX files (type 0x08), as MNIST's"),
        ));
    }
    let h = header(bytes, 1 + ndim, path)?;
    let dims: Vec<usize> = h[1..].iter().map(|&d| d as usize).collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| {
            DataError::invalid(path.display(), format!("dimensions {dims:?} are too large"))
        })?;
    let payload = &bytes[4 * (1 + ndim)..];
    check_length(payload.len(), expected, path)?;
    Ok((dims, payload))
}

/// Reads an images file and its labels file, checking that they describe the same items.
#[cfg(test)]
pub fn read_pair(images: &Path, labels: &Path, limit: u64) -> Result<(Vec<u8>, Vec<u8>)> {
    let pixels = parse_images(&read_maybe_gzip(images, limit)?, images)?;
    let classes = parse_labels(&read_maybe_gzip(labels, limit)?, labels)?;
    let n_images = pixels.len() / PIXELS;
    if n_images != classes.len() {
        return Err(DataError::CountMismatch {
            images: images.to_path_buf(),
            labels: labels.to_path_buf(),
            n_images,
            n_labels: classes.len(),
        });
    }
    Ok((pixels, classes))
}

/// Encodes images as an IDX file (for tests and tools that write MNIST-format data).
pub fn encode_images(pixels: &[u8], n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + pixels.len());
    for w in [IMAGES_MAGIC, n as u32, SIDE as u32, SIDE as u32] {
        out.extend_from_slice(&w.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as an IDX file (for tests and tools that write MNIST-format data).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    for w in [LABELS_MAGIC, labels.len() as u32] {
        out.extend_from_slice(&w.to_be_bytes());
    }
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn sample(n: usize) -> (Vec<u8>, Vec<u8>) {
        let pixels: Vec<u8> = (0..n * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        let labels: Vec<u8> = (0..n).map(|i| (i % CLASSES) as u8).collect();
        (pixels, labels)
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn round_trip_raw_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let (pixels, labels) = sample(13);
        let img = encode_images(&pixels, 13);
        let lab = encode_labels(&labels);
        // Raw.
        let (p, l) = read_pair(
            &write(dir.path(), "a", &img),
            &write(dir.path(), "b", &lab),
            1 << 20,
        )
        .unwrap();
        assert_eq!((p.as_slice(), l.as_slice()), (&pixels[..], &labels[..]));
        // Gzip, detected by content even under a name without .gz.
        let (p, l) = read_pair(
            &write(dir.path(), "c", &gzip(&img)),
            &write(dir.path(), "d.raw", &gzip(&lab)),
            1 << 20,
        )
        .unwrap();
        assert_eq!((p, l), (pixels, labels));
    }

    #[test]
    fn malformed_inputs_give_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (pixels, labels) = sample(4);
        let img = encode_images(&pixels, 4);
        let lab = encode_labels(&labels);
        let path = Path::new("x-file");

        // Wrong magic: a labels file given as images, and vice versa.
        let e = parse_images(&lab, path).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::WrongMagic {
                    found: LABELS_MAGIC,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("x-file"));
        let e = parse_labels(&img, path).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::WrongMagic {
                    found: IMAGES_MAGIC,
                    ..
                }
            ),
            "{e}"
        );

        // Wrong dims.
        let mut bad = img.clone();
        bad[8..12].copy_from_slice(&27u32.to_be_bytes());
        let e = parse_images(&bad, path).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::WrongDims {
                    rows: 27,
                    cols: 28,
                    ..
                }
            ),
            "{e}"
        );

        // Truncated and padded payloads; a header cut short.
        let e = parse_images(&img[..img.len() - 1], path).unwrap_err();
        assert!(matches!(e, DataError::WrongLength { .. }), "{e}");
        let mut padded = lab.clone();
        padded.push(0);
        let e = parse_labels(&padded, path).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::WrongLength {
                    expected: 4,
                    found: 5,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse_images(&img[..10], path).unwrap_err();
        assert!(matches!(e, DataError::WrongLength { .. }), "{e}");

        // A label outside 0..=9.
        let mut bad = lab.clone();
        bad[8 + 2] = 10;
        let e = parse_labels(&bad, path).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::BadLabel {
                    index: 2,
                    label: 10,
                    ..
                }
            ),
            "{e}"
        );

        // Count mismatch between the two files.
        let e = read_pair(
            &write(dir.path(), "i", &img),
            &write(dir.path(), "l", &encode_labels(&labels[..3])),
            1 << 20,
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                DataError::CountMismatch {
                    n_images: 4,
                    n_labels: 3,
                    ..
                }
            ),
            "{e}"
        );

        // Corrupt gzip: good magic, garbage after; and a gzip stream cut short.
        let mut garbage = gzip(&img);
        let mid = garbage.len() / 2;
        garbage[12..mid].iter_mut().for_each(|b| *b ^= 0x5a);
        let p = write(dir.path(), "g.gz", &garbage);
        let e = read_maybe_gzip(&p, 1 << 20).unwrap_err();
        assert!(matches!(e, DataError::CorruptGzip { .. }), "{e}");
        assert!(e.to_string().contains("g.gz"));
        let short = gzip(&img);
        let p = write(dir.path(), "s.gz", &short[..short.len() / 2]);
        let e = read_maybe_gzip(&p, 1 << 20).unwrap_err();
        assert!(matches!(e, DataError::CorruptGzip { .. }), "{e}");
    }

    #[test]
    fn a_file_beyond_its_bound_is_refused_before_it_is_all_read() {
        let dir = tempfile::tempdir().unwrap();
        // 64 MiB of zeros compress to about 64 KiB; with a 1 MiB bound the decoder stops there.
        let zeros = vec![0u8; 64 << 20];
        let p = write(dir.path(), "bomb.gz", &gzip(&zeros));
        let e = read_maybe_gzip(&p, 1 << 20).unwrap_err();
        assert!(
            matches!(e, DataError::Oversized { limit, .. } if limit == 1 << 20),
            "{e}"
        );
        assert!(
            e.to_string().contains("bomb.gz") && e.to_string().contains("gzip bomb"),
            "{e}"
        );
        // A raw file over the bound, and one exactly at it.
        let p = write(dir.path(), "raw", &zeros[..(1 << 20) + 1]);
        assert!(matches!(
            read_maybe_gzip(&p, 1 << 20),
            Err(DataError::Oversized { .. })
        ));
        let p = write(dir.path(), "fits", &zeros[..1 << 20]);
        assert_eq!(read_maybe_gzip(&p, 1 << 20).unwrap().len(), 1 << 20);
        let p = write(dir.path(), "fits.gz", &gzip(&zeros[..1 << 20]));
        assert_eq!(read_maybe_gzip(&p, 1 << 20).unwrap().len(), 1 << 20);
    }
}
