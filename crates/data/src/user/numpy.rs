//! NumPy arrays: a `.npz` (a zip of `.npy` files, stored or deflated) with arrays `x`
//! (`[n, …]`, any float, integer or bool dtype, flattened per item) and `y` (`[n]`, integers,
//! integral floats, bools or strings), or the two as `.npy` files.
//!
//! The `.npy` format (NumPy's `format.py`): the magic `\x93NUMPY`, a version, the header's length
//! (2 bytes in version 1, 4 in versions 2 and 3), a Python dict literal with the keys `descr`,
//! `fortran_order` and `shape`, then the values in C order.

use std::io::Read;
use std::path::Path;

use super::common::{classes_of, read, user_file, Raw, RawLabel};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::values::{Task, Values};

/// Reads `x` and `y` from a `.npz` (`y` a regression's targets under `task`, or when it holds
/// numbers with fractions and no task is given).
pub(super) fn read_npz(path: &Path, task: Option<Task>, memory: u64) -> Result<Dataset> {
    let (x, y, file) = npz_arrays(path, memory, true, task)?;
    let y = y.ok_or_else(|| bad(&path.display().to_string(), "holds no array 'y'"))?;
    let mut data = assemble(x, y, path)?;
    data.files = vec![file];
    Ok(data)
}

/// Reads `x`, and `y` where the archive holds one, from a `.npz` to score.
pub(super) fn read_npz_unseen(path: &Path, task: Task, memory: u64) -> Result<Raw> {
    let (x, y, file) = npz_arrays(path, memory, false, Some(task))?;
    raw(x, y, vec![file])
}

/// Reads a `.npy` of features (and one of labels, if given) to score.
pub(super) fn read_npy_unseen(
    x_path: &Path,
    y_path: Option<&Path>,
    task: Task,
    memory: u64,
) -> Result<Raw> {
    let xb = read(x_path, memory / 2, "the features")?;
    let x = features(&xb, &x_path.display().to_string(), memory)?;
    let mut files = vec![user_file(x_path, &xb)];
    let y = match y_path {
        Some(y_path) => {
            let yb = read(y_path, memory / 2, "the labels")?;
            files.push(user_file(y_path, &yb));
            Some(labels(&yb, &y_path.display().to_string(), Some(task))?)
        }
        None => None,
    };
    raw(x, y, files)
}

/// Features and labels as read, checked to agree, for scoring.
fn raw(x: Features, y: Option<Labels>, files: Vec<crate::catalogue::VerifiedFile>) -> Result<Raw> {
    let n = x.shape[0];
    if let Some(y) = &y {
        agree(&x, y)?;
    }
    if n == 0 {
        return Err(bad(&x.at, "holds no items"));
    }
    let (labels, targets) = match y {
        Some(Labels {
            targets: Some((t, _)),
            ..
        }) => (None, Some(t)),
        Some(y) => (Some(y.raw), None),
        None => (None, None),
    };
    Ok(Raw {
        item_shape: item_shape(&x),
        values: Values::Floats(x.values.into()),
        labels,
        targets,
        files,
        notes: Vec::new(),
    })
}

/// The arrays `x` and `y` of a `.npz` (`y` absent where the archive has none and `need_y` is
/// false), and the file read.
fn npz_arrays(
    path: &Path,
    memory: u64,
    need_y: bool,
    task: Option<Task>,
) -> Result<(Features, Option<Labels>, crate::catalogue::VerifiedFile)> {
    let bytes = read(path, memory, "the archive")?;
    let file = user_file(path, &bytes);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).map_err(|e| {
        DataError::invalid(path.display(), format!("not a readable .npz archive ({e}); save it with np.savez(path, x=features, y=labels)"))
    })?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.strip_suffix(".npy"))
        .map(str::to_string)
        .collect();
    let left = memory.saturating_sub(bytes.len() as u64);
    let mut array = |name: &str| -> Result<Vec<u8>> {
        let at = format!("{} array {name}", path.display());
        if !names.iter().any(|n| n == name) {
            return Err(DataError::invalid(
                path.display(),
                format!(
                    "no array '{name}' (it holds {}); save it with np.savez(path, x=features, y=labels)",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ),
            ));
        }
        let mut entry = archive
            .by_name(&format!("{name}.npy"))
            .map_err(|e| DataError::invalid(&at, format!("could not be opened ({e})")))?;
        let damaged = |e: std::io::Error| {
            DataError::invalid(
                &at,
                format!("could not be read ({e}); the archive is damaged"),
            )
        };
        // The header first: what the array declares is refused before it is inflated.
        let mut out = Vec::new();
        (&mut entry)
            .take(NPY_HEADER_MAX.min(left.saturating_add(1)))
            .read_to_end(&mut out)
            .map_err(damaged)?;
        let declared = header(&out, &at)?
            .file_len()
            .ok_or_else(|| bad(&at, "its header declares a shape too large to count"))?;
        if declared > left {
            return Err(DataError::too_large(
                std::path::Path::new(&at),
                "the array its header declares",
                declared,
                left,
            ));
        }
        entry
            .take((declared + 1).saturating_sub(out.len() as u64))
            .read_to_end(&mut out)
            .map_err(damaged)?;
        if out.len() as u64 > left {
            return Err(DataError::invalid(
                &at,
                format!("inflates to more than the {} MiB of memory available: a zip bomb, or an array too large for this machine", left >> 20),
            ));
        }
        Ok(out)
    };
    let has_y = need_y || names.iter().any(|n| n == "y");
    let xb = array("x")?;
    let yb = if has_y { Some(array("y")?) } else { None };
    let x = features(&xb, &format!("{} array x", path.display()), memory)?;
    let y = match yb {
        Some(yb) => Some(labels(&yb, &format!("{} array y", path.display()), task)?),
        None => None,
    };
    Ok((x, y, file))
}

/// Reads features from one `.npy` and labels (or a regression's targets) from another.
pub(super) fn read_pair(
    x_path: &Path,
    y_path: &Path,
    task: Option<Task>,
    memory: u64,
) -> Result<Dataset> {
    let xb = read(x_path, memory / 2, "the features")?;
    let x = features(&xb, &x_path.display().to_string(), memory)?;
    let yb = read(y_path, memory / 2, "the labels")?;
    let y = labels(&yb, &y_path.display().to_string(), task)?;
    let mut data = assemble(x, y, x_path)?;
    data.files = vec![user_file(x_path, &xb), user_file(y_path, &yb)];
    Ok(data)
}

/// An array's element type, as its `descr` says.
#[derive(Debug, Clone, Copy)]
struct Dtype {
    /// `f` float, `i` signed, `u` unsigned, `b` bool, `U` unicode string.
    kind: char,
    /// Bytes per element (for `U`: characters, 4 bytes each).
    size: usize,
    big_endian: bool,
}

/// The most bytes read of an archive's array before its header is parsed (a version-1 header
/// is at most 65,545 bytes).
const NPY_HEADER_MAX: u64 = 1 << 20;

/// The widest string type a labels file may have, in characters.
const MAX_LABEL_CHARS: usize = 1 << 16;

/// A parsed `.npy`: its type, shape and values' bytes.
struct Npy<'a> {
    dtype: Dtype,
    shape: Vec<usize>,
    data: &'a [u8],
}

fn bad(at: &str, what: impl Into<String>) -> DataError {
    DataError::invalid(at, what)
}

/// The text after `'key':` in a header dict, up to the next top-level comma or brace.
fn value_of<'h>(header: &'h str, key: &str, at: &str) -> Result<&'h str> {
    let k = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))
        .ok_or_else(|| bad(at, format!("the .npy header has no '{key}'")))?;
    let rest = header[k + key.len() + 2..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| bad(at, "the .npy header is not a dict"))?
        .trim_start();
    let end = if rest.starts_with('(') || rest.starts_with('[') {
        // To the bracket that closes the first (a structured dtype's list holds tuples).
        let mut depth = 0usize;
        rest.char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' | '[' => depth += 1,
                    ')' | ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                (depth == 0).then_some(i + 1)
            })
            .unwrap_or(rest.len())
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Ok(rest[..end].trim())
}

/// What a `.npy` header declares: the type, the shape, where the values start and how many
/// bytes they take (none when the shape's product overflows).
struct Header {
    dtype: Dtype,
    shape: Vec<usize>,
    descr: String,
    start: usize,
    need: Option<usize>,
}

impl Header {
    /// The whole file's length the header declares.
    fn file_len(&self) -> Option<u64> {
        self.need
            .and_then(|n| (n as u64).checked_add(self.start as u64))
    }
}

/// A `.npy`'s values: its header read (from `bytes`, a whole file), its values' length checked.
fn parse<'a>(bytes: &'a [u8], at: &str) -> Result<Npy<'a>> {
    let Header {
        dtype,
        shape,
        descr,
        start,
        need,
    } = header(bytes, at)?;
    let data = &bytes[start.min(bytes.len())..];
    match need {
        Some(need) if need == data.len() => {}
        Some(need) => {
            return Err(bad(at, format!("holds {} bytes of values where its shape {shape:?} of '{descr}' needs {need}: the file is truncated or damaged", data.len())))
        }
        None => return Err(bad(at, format!("shape {shape:?} is too large"))),
    }
    Ok(Npy { dtype, shape, data })
}

/// The header of the `.npy` that `bytes` start with (its values need not follow).
fn header(bytes: &[u8], at: &str) -> Result<Header> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad(
            at,
            "not a .npy file (no \\x93NUMPY magic); save arrays with np.save or np.savez",
        ));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => {
            return Err(bad(
                at,
                format!(".npy format version {v} is not one lrsweep reads (1 to 3)"),
            ))
        }
    };
    let header = bytes
        .get(start..start.saturating_add(len))
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad(at, "the .npy header is truncated or not text"))?;
    let descr = value_of(header, "descr", at)?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let dtype = match descr.as_bytes() {
        [order @ (b'<' | b'>' | b'|' | b'='), kind, size @ ..] => {
            let size: usize = std::str::from_utf8(size)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(at, format!("dtype '{descr}' is not supported")))?;
            Dtype {
                kind: *kind as char,
                size,
                big_endian: *order == b'>',
            }
        }
        _ => {
            return Err(bad(
                at,
                format!(
                "dtype {descr} is not supported; use a plain numeric array (not a structured one)"
            ),
            ))
        }
    };
    let fortran = value_of(header, "fortran_order", at)?;
    if fortran != "True" && fortran != "False" {
        return Err(bad(
            at,
            format!("the header's 'fortran_order' is {fortran}, not True or False (NumPy refuses such a file too): save it again with np.save"),
        ));
    }
    if fortran == "True" {
        return Err(bad(
            at,
            "is stored in Fortran (column-major) order; save np.ascontiguousarray(a) instead",
        ));
    }
    let shape_text = value_of(header, "shape", at)?;
    let shape: Vec<usize> = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            bad(
                at,
                format!("the shape {shape_text} is not a tuple of sizes"),
            )
        })?;
    // A string type's width in characters, 4 bytes each: at least one, and no wider than a
    // label could be (a crafted width would overflow the bytes per element).
    let elem = match dtype.kind {
        'U' if (1..=MAX_LABEL_CHARS).contains(&dtype.size) => dtype.size * 4,
        'U' => {
            return Err(bad(
                at,
                format!("its type '{descr}' is a string of {} characters; a label takes 1 to {MAX_LABEL_CHARS}", dtype.size),
            ))
        }
        _ => dtype.size,
    };
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let need = n.and_then(|n| n.checked_mul(elem));
    Ok(Header {
        dtype,
        shape,
        descr: descr.to_string(),
        start: start + len,
        need,
    })
}

/// Each element as `f64` (numbers and bools), or why the type is not supported.
fn numbers(npy: &Npy<'_>, at: &str) -> Result<Vec<f64>> {
    let Dtype {
        kind,
        size,
        big_endian,
    } = npy.dtype;
    let word = |c: &[u8]| -> [u8; 8] {
        let mut w = [0u8; 8];
        if big_endian {
            for (i, &b) in c.iter().rev().enumerate() {
                w[i] = b;
            }
        } else {
            w[..c.len()].copy_from_slice(c);
        }
        w
    };
    let chunks = npy.data.chunks_exact(size.max(1));
    let out = match (kind, size) {
        ('f', 4) => chunks.map(|c| f32::from_le_bytes(word(c)[..4].try_into().unwrap_or([0; 4])) as f64).collect(),
        ('f', 8) => chunks.map(|c| f64::from_le_bytes(word(c))).collect(),
        ('i', 1 | 2 | 4 | 8) => chunks
            .map(|c| {
                let bits = 64 - 8 * size as u32;
                ((i64::from_le_bytes(word(c)) << bits) >> bits) as f64
            })
            .collect(),
        ('u', 1 | 2 | 4 | 8) => chunks.map(|c| u64::from_le_bytes(word(c)) as f64).collect(),
        ('b', 1) => npy.data.iter().map(|&b| f64::from(u8::from(b != 0))).collect(),
        _ => {
            return Err(bad(at, format!(
                "dtype '{kind}{size}' is not supported; use float32/float64, an integer or a bool dtype (e.g. a.astype(np.float32))"
            )))
        }
    };
    Ok(out)
}

/// Features `[n, …]`: `(shape, values)`.
struct Features {
    shape: Vec<usize>,
    values: Vec<f32>,
    at: String,
}

/// Labels `[n]` (or `[n, 1]`), or a regression's targets `[n]` or `[n, m]` (`raw` then empty).
struct Labels {
    raw: Vec<RawLabel>,
    at: String,
    /// A regression's targets, `m` per item, with `m`.
    targets: Option<(Vec<f64>, usize)>,
}

impl Labels {
    /// Items labelled.
    fn len(&self) -> usize {
        match &self.targets {
            Some((t, m)) => t.len() / (*m).max(1),
            None => self.raw.len(),
        }
    }
}

fn features(bytes: &[u8], at: &str, memory: u64) -> Result<Features> {
    let npy = parse(bytes, at)?;
    if npy.shape.is_empty() {
        return Err(bad(at, "is a scalar; features need shape [n, features…]"));
    }
    let n: usize = npy.shape.iter().product();
    // As f64 while converting, then as f32.
    if (n as u64).saturating_mul(12) > memory {
        return Err(DataError::too_large(
            Path::new(at),
            "the features",
            (n as u64).saturating_mul(12),
            memory,
        ));
    }
    let values: Vec<f32> = numbers(&npy, at)?.into_iter().map(|v| v as f32).collect();
    let width: usize = npy.shape[1..].iter().product::<usize>().max(1);
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(
            at,
            format!(
                "item {}, feature {} is {}; replace missing or infinite values",
                i / width,
                i % width,
                values[i]
            ),
        ));
    }
    Ok(Features {
        shape: npy.shape,
        values,
        at: at.to_string(),
    })
}

/// A regression's targets, `[n]` or `[n, m]`, every one a finite number.
fn targets(npy: &Npy<'_>, at: &str) -> Result<Labels> {
    if npy.dtype.kind == 'U' {
        return Err(bad(
            at,
            "holds strings; a regression's targets must be numbers",
        ));
    }
    let m = match npy.shape[..] {
        [_] => 1,
        [_, m] if m >= 1 => m,
        _ => {
            return Err(bad(
                at,
                format!(
                    "has shape {:?}; a regression's targets need shape [n] or [n, targets]",
                    npy.shape
                ),
            ))
        }
    };
    let v = numbers(npy, at)?;
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(bad(
            at,
            format!(
                "item {}'s target is {}; replace missing or infinite targets, or drop those items",
                i / m,
                v[i]
            ),
        ));
    }
    Ok(Labels {
        raw: Vec::new(),
        at: at.to_string(),
        targets: Some((v, m)),
    })
}

fn labels(bytes: &[u8], at: &str, task: Option<Task>) -> Result<Labels> {
    let npy = parse(bytes, at)?;
    let shape = &npy.shape;
    // A regression's: asked for, or numbers with fractions (or several per item) with no task.
    let guessed = task.is_none()
        && npy.dtype.kind == 'f'
        && (shape.len() == 2 && shape[1] > 1
            || numbers(&npy, at)
                .is_ok_and(|v| v.iter().any(|x| x.is_finite() && x.fract() != 0.0)));
    if task == Some(Task::Regression) || guessed {
        return targets(&npy, at);
    }
    if !(shape.len() == 1 || (shape.len() == 2 && shape[1] == 1)) {
        return Err(bad(at, format!(
            "has shape {shape:?}; labels need shape [n] (one class per item, not one-hot: use y.argmax(1))"
        )));
    }
    let raw = if npy.dtype.kind == 'U' {
        let mut raw = Vec::with_capacity(npy.data.len() / (npy.dtype.size.max(1) * 4));
        for (i, c) in npy.data.chunks_exact(npy.dtype.size.max(1) * 4).enumerate() {
            let mut text = String::new();
            for b in c.chunks_exact(4) {
                let b: [u8; 4] = b.try_into().unwrap_or([0; 4]);
                let u = match npy.dtype.big_endian {
                    true => u32::from_be_bytes(b),
                    false => u32::from_le_bytes(b),
                };
                if u == 0 {
                    break;
                }
                // A surrogate or a value past U+10FFFF is no character: never dropped
                // (two such labels would become one class).
                let c = char::from_u32(u).ok_or_else(|| {
                    bad(
                        at,
                        format!("item {i}'s label holds U+{u:04X}, which is not a character"),
                    )
                })?;
                text.push(c);
            }
            if text.is_empty() {
                return Err(bad(
                    at,
                    format!("item {i}'s label is empty; every item needs its class's name"),
                ));
            }
            raw.push(RawLabel::Text(text));
        }
        raw
    } else {
        let v = numbers(&npy, at)?;
        if let Some(i) = v
            .iter()
            .position(|x| !x.is_finite() || x.fract() != 0.0 || x.abs() > 9e15)
        {
            return Err(bad(
                at,
                format!(
                    "item {i}'s label is {}; labels must be whole numbers or strings",
                    v[i]
                ),
            ));
        }
        v.into_iter().map(|x| RawLabel::Int(x as i64)).collect()
    };
    Ok(Labels {
        raw,
        at: at.to_string(),
        targets: None,
    })
}

/// Refuses labels that are not one per item.
fn agree(x: &Features, y: &Labels) -> Result<()> {
    let n = x.shape[0];
    if y.len() != n {
        return Err(bad(
            &y.at,
            format!(
                "holds {} labels but {} holds {n} items; each item needs one label",
                y.len(),
                x.at
            ),
        ));
    }
    Ok(())
}

/// One item's shape: the features' shape past the items (a vector of numbers: one each).
fn item_shape(x: &Features) -> Vec<usize> {
    if x.shape.len() == 1 {
        vec![1]
    } else {
        x.shape[1..].to_vec()
    }
}

fn assemble(x: Features, y: Labels, path: &Path) -> Result<Dataset> {
    agree(&x, &y)?;
    if x.shape[0] == 0 {
        return Err(bad(&x.at, "holds no items"));
    }
    let item_shape = item_shape(&x);
    if let Some((targets, m)) = y.targets {
        let names = match m {
            1 => vec!["y".to_string()],
            _ => (0..m).map(|k| format!("y{k}")).collect(),
        };
        return Dataset::regression(
            Values::Floats(x.values.into()),
            targets,
            item_shape,
            names,
            path.display().to_string(),
        );
    }
    let (labels, names) = classes_of(y.raw);
    super::common::check_class_count(path, &names)?;
    Dataset::new(
        Values::Floats(x.values.into()),
        labels,
        item_shape,
        names,
        path.display().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a version-1 `.npy` as NumPy does: `descr` (e.g. `<f4`), shape, the values' bytes.
    fn npy_bytes(descr: &str, shape: &[u64], data: &[u8]) -> Vec<u8> {
        npy_with(&format!("'{descr}'"), shape, data)
    }

    /// A `.npy` whose header's descr is written as `descr` (a structured type's list is not
    /// quoted).
    fn npy_with(descr: &str, shape: &[u64], data: &[u8]) -> Vec<u8> {
        let dims = shape.iter().map(|d| format!("{d},")).collect::<String>();
        let mut header =
            format!("{{'descr': {descr}, 'fortran_order': False, 'shape': ({dims}), }}");
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    trait Elem: Copy {
        const DESCR: &'static str;
        fn bytes(self) -> Vec<u8>;
    }
    macro_rules! elem {
        ($($t:ty => $d:literal),*) => {$(
            impl Elem for $t {
                const DESCR: &'static str = $d;
                fn bytes(self) -> Vec<u8> { self.to_le_bytes().to_vec() }
            }
        )*};
    }
    elem!(u8 => "|u1", u16 => "<u2", i32 => "<i4", i64 => "<i8", f32 => "<f4", f64 => "<f8");

    fn write_npy<T: Elem>(path: &Path, shape: &[u64], data: &[T]) {
        let bytes: Vec<u8> = data.iter().flat_map(|v| v.bytes()).collect();
        std::fs::write(path, npy_bytes(T::DESCR, shape, &bytes)).unwrap();
    }

    #[test]
    fn numpys_own_refusals_and_labels_that_are_no_text() {
        // Issue 37, class 15.
        let mut bytes = npy_bytes("<f4", &[1], &1f32.to_le_bytes());
        let (from, to) = (
            &b"'fortran_order': False"[..],
            &b"'fortran_order': 1    "[..],
        );
        let at = bytes.windows(from.len()).position(|w| w == from).unwrap();
        bytes[at..at + to.len()].copy_from_slice(to);
        let e = features(&bytes, "x.npy", 1 << 30)
            .err()
            .expect("fortran_order 1")
            .to_string();
        assert!(e.contains("'fortran_order' is 1"), "{e}");
        for (chars, says) in [
            (vec![0xD800u32], "U+D800, which is not a character"),
            (vec![0], "label is empty"),
        ] {
            let data: Vec<u8> = chars.iter().flat_map(|u| u.to_le_bytes()).collect();
            let bytes = npy_bytes("<U1", &[1], &data);
            let e = labels(&bytes, "y.npy", None).err().expect(says).to_string();
            assert!(e.contains(says), "{e}");
        }
        let structured = npy_with("[('a', '<f4'), ('b', '<f4')]", &[0], &[]);
        let e = features(&structured, "x.npy", 1 << 30)
            .err()
            .expect("structured")
            .to_string();
        assert!(
            e.contains("[('a', '<f4'), ('b', '<f4')]"),
            "the whole dtype: {e}"
        );
    }

    #[test]
    fn a_string_type_too_wide_or_empty_is_refused_not_a_panic() {
        // Issue 37, class 12: '<U4611686018427387904' once made the element 0 bytes wide.
        for descr in ["<U4611686018427387904", "<U0", "<U99999999"] {
            let bytes = npy_bytes(descr, &[0], &[]);
            let e = labels(&bytes, "y.npy", None)
                .err()
                .expect(descr)
                .to_string();
            assert!(e.contains("a label takes 1 to"), "{descr}: {e}");
        }
    }

    #[test]
    fn strings_big_endian_and_damaged_headers() {
        let dir = tempfile::tempdir().unwrap();
        let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
        let be: Vec<u8> = [1.5f64, -2.0, 3.0, 4.0]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        std::fs::write(&x, npy_bytes(">f8", &[2, 2], &be)).unwrap();
        let text: Vec<u8> = ["cat", "dog"]
            .iter()
            .flat_map(|s| {
                let mut u: Vec<u8> = s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
                u.resize(5 * 4, 0);
                u
            })
            .collect();
        std::fs::write(&y, npy_bytes("<U5", &[2], &text)).unwrap();
        let d = read_pair(&x, &y, None, 1 << 30).unwrap();
        assert_eq!(d.class_names, vec!["cat", "dog"]);
        match d.values() {
            Values::Floats(v) => assert_eq!(&v[..], &[1.5, -2.0, 3.0, 4.0]),
            Values::Pixels(_) => panic!("floats expected"),
        }
        std::fs::write(&x, &npy_bytes("<f8", &[2, 2], &be)[..40]).unwrap();
        let err = read_pair(&x, &y, None, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        std::fs::write(&x, npy_bytes("<c16", &[1, 1], &[0; 16])).unwrap();
        let err = read_pair(&x, &y, None, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("dtype 'c16' is not supported"), "{err}");
    }

    #[test]
    fn npy_pairs_of_any_dtype_and_their_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
        write_npy(
            &x,
            &[4, 2, 3],
            &(0..24).map(|i| i as u8).collect::<Vec<_>>(),
        );
        write_npy(&y, &[4], &[3i64, 7, 3, 7]);
        let d = read_pair(&x, &y, None, 1 << 30).unwrap();
        assert_eq!(d.item_shape, vec![2, 3]);
        assert_eq!(d.class_names, vec!["3", "7"]);
        assert_eq!(d.labels(), &[0, 1, 0, 1]);
        write_npy(&y, &[3], &[1i32, 2, 1]);
        let err = read_pair(&x, &y, None, 1 << 30).unwrap_err().to_string();
        assert!(
            err.contains("holds 3 labels but") && err.contains("holds 4 items"),
            "{err}"
        );
        // Numbers with fractions: a regression's targets (issue 36), or refused as classes.
        write_npy(&y, &[4], &[0.5f64, 1.0, 0.0, 1.0]);
        let d = read_pair(&x, &y, None, 1 << 30).unwrap();
        assert_eq!(d.task(), Task::Regression);
        assert_eq!(d.targets(), Some(&[0.5, 1.0, 0.0, 1.0][..]));
        let err = read_pair(&x, &y, Some(Task::Classification), 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("item 0's label is 0.5"), "{err}");
        // Several targets per item, and a target that is not a number.
        write_npy(&y, &[4, 2], &[0.5f64, 1.0, 0.0, 1.0, 2.0, 3.0, 1.0, 0.0]);
        let d = read_pair(&x, &y, None, 1 << 30).unwrap();
        assert_eq!(d.class_names, ["y0", "y1"]);
        write_npy(&y, &[4], &[0.5f64, f64::NAN, 0.0, 1.0]);
        let err = read_pair(&x, &y, Some(Task::Regression), 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("item 1's target is NaN"), "{err}");
        write_npy(&x, &[2, 2], &[1.0f32, f32::NAN, 0.0, 1.0]);
        write_npy(&y, &[2], &[0u8, 1]);
        let err = read_pair(&x, &y, None, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("item 0, feature 1 is NaN"), "{err}");
        write_npy(&x, &[2, 2], &[1.0f32, 2.0, 0.0, 1.0]);
        let err = read_pair(&x, &y, None, 20).unwrap_err().to_string();
        assert!(err.contains("MiB available"), "{err}");
    }

    #[test]
    fn npz_archives_compressed_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let (x, y) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
        write_npy(
            &x,
            &[3, 13],
            &(0..39).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
        );
        write_npy(&y, &[3], &[2u16, 0, 2]);
        for method in [
            zip::CompressionMethod::Stored,
            zip::CompressionMethod::Deflated,
        ] {
            let npz = dir.path().join("d.npz");
            let mut w = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
            let options = zip::write::FileOptions::default().compression_method(method);
            for (name, file) in [("x.npy", &x), ("y.npy", &y)] {
                w.start_file(name, options).unwrap();
                std::io::Write::write_all(&mut w, &std::fs::read(file).unwrap()).unwrap();
            }
            w.finish().unwrap();
            let d = read_npz(&npz, None, 1 << 30).unwrap();
            assert_eq!(
                (d.item_shape.clone(), d.labels().to_vec()),
                (vec![13], vec![1, 0, 1])
            );
            assert_eq!(d.class_names, vec!["0", "2"]);
        }
        let npz = dir.path().join("only-x.npz");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
        w.start_file("features.npy", zip::write::FileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, &std::fs::read(&x).unwrap()).unwrap();
        w.finish().unwrap();
        let err = read_npz(&npz, None, 1 << 30).unwrap_err().to_string();
        assert!(err.contains("no array 'x' (it holds features)"), "{err}");
    }

    #[test]
    fn an_npz_array_declaring_more_than_memory_is_refused_from_its_header() {
        // Issue 37, class 11: the header said 4e9 bytes; the array was inflated first.
        let dir = tempfile::tempdir().unwrap();
        let npz = dir.path().join("big.npz");
        let mut w = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
        let options =
            zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        // The header declares 1e9 float32 items; 64 MiB of zeros follow (deflated to little).
        let mut x = npy_bytes("<f4", &[1_000_000_000, 1], &[]);
        x.resize(x.len() + (64 << 20), 0);
        w.start_file("x.npy", options).unwrap();
        std::io::Write::write_all(&mut w, &x).unwrap();
        w.start_file("y.npy", options).unwrap();
        std::io::Write::write_all(&mut w, &npy_bytes("<i4", &[1], &[0; 4])).unwrap();
        w.finish().unwrap();
        let err = read_npz(&npz, None, 1 << 30).unwrap_err().to_string();
        assert!(
            err.contains("the array its header declares needs about 3815 MiB"),
            "{err}"
        );
    }
}
