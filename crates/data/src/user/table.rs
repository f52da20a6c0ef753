//! CSV tables with a header row (as pandas, R and spreadsheets export them), gzipped or not:
//! numeric feature columns and one label column.

use std::path::Path;

use super::common::{self, classes_of, user_file, Raw, RawLabel};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::values::{Task, Values};

/// Column names taken as the label when `--label` is not given (case-insensitive).
const LABEL_NAMES: [&str; 4] = ["label", "target", "class", "y"];

/// Reads a CSV table; `label` names the label column (by header name, or by number from 1), or
/// a regression's target columns (`a,b`); `task` says which the table is for (none: a
/// regression when its one label column holds numbers with fractions, said in a note).
pub(super) fn read(
    path: &Path,
    label: Option<&str>,
    columns: &super::Columns,
    task: Option<Task>,
    memory: u64,
) -> Result<Dataset> {
    let text = text_of(path, memory)?;
    let file = user_file(path, &text);
    let at = |line: u64| format!("{} line {line}", path.display());
    let (mut reader, headers) = header_row(path, &text)?;
    if headers.len() < 2 || headers.iter().all(String::is_empty) {
        return Err(DataError::invalid(
            at(1),
            format!(
                "the header has {} column{}; a table needs a header row naming at least one feature column and the label column",
                headers.len(),
                if headers.len() == 1 { "" } else { "s" }
            ),
        ));
    }
    if looks_like_data(&headers) {
        return Err(DataError::invalid(
            at(1),
            format!(
                "looks like data, not a header row (numbers where a header has names: {}…); lrsweep reads the first line as the columns' names, so add one, e.g. x1,x2,…,label",
                headers.iter().take(4).cloned().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let (label_cols, chosen) = label_columns(path, &headers, label)?;
    let is_label = |j: usize| label_cols.contains(&j);
    for name in &columns.drop {
        match headers.iter().position(|h| h == name) {
            None => {
                return Err(DataError::invalid(
                    at(1),
                    format!("--drop {name}: no such column; the columns are {}", quoted(&headers)),
                ))
            }
            Some(j) if is_label(j) => {
                return Err(DataError::invalid(
                    at(1),
                    format!("--drop {name}: it is the label column; drop another, or name the label with --label"),
                ))
            }
            Some(_) => {}
        }
    }
    let width = headers.len() - label_cols.len();
    // An unnamed first column may be pandas' index (0, 1, 2, …): checked row by row below.
    let index_candidate = !columns.keep
        && !is_label(0)
        && (headers[0].is_empty() || headers[0].starts_with("Unnamed: 0"));
    let mut is_index = index_candidate;
    // The values (4 bytes each, held by the data set and by the split's two parts: three
    // times), each row's label as read (48 bytes).
    let row_bytes = (width as u64).saturating_mul(4 * 3).saturating_add(48);
    let rows = rows_within(path, &text, headers.len(), row_bytes, memory)?;
    let mut values: Vec<f32> = Vec::with_capacity(rows * width);
    let mut raw = Vec::with_capacity(rows * label_cols.len());
    let mut lines = Vec::with_capacity(rows);
    each_row(path, &mut reader, |line, record| {
        let row = lines.len();
        lines.push(line);
        for (j, cell) in record.iter().enumerate() {
            let cell = cell.trim();
            let column = || format!("column {} ('{}')", j + 1, headers[j]);
            if j == 0 && is_index && cell.parse::<f64>().ok() != Some(row as f64) {
                is_index = false;
            }
            if is_label(j) {
                if cell.is_empty() {
                    return Err(DataError::invalid(
                        at(line),
                        format!(
                            "{}: the label is empty; every row needs its class (or its target)",
                            column()
                        ),
                    ));
                }
                raw.push(label_of(cell));
                continue;
            }
            values.push(number(cell, || at(line), column)?);
        }
        Ok(())
    })?;
    let task_was_guessed = task.is_none() && label_cols.len() == 1;
    let task = match task {
        Some(t) => t,
        None if label_cols.len() > 1 => Task::Regression,
        None => match continuous(&raw) {
            true => Task::Regression,
            false => Task::Classification,
        },
    };
    // The feature columns left out: the index and ID columns (unless kept), those --drop names.
    let features: Vec<usize> = (0..headers.len()).filter(|&j| !is_label(j)).collect();
    let mut notes = Vec::new();
    let left_out: Vec<bool> = features
        .iter()
        .map(|&j| {
            let name = &headers[j];
            if columns.drop.contains(name) {
                return true;
            }
            if columns.keep {
                return false;
            }
            if j == 0 && is_index {
                notes.push("the first column (unnamed, holding 0, 1, 2, …) is pandas' index, not a feature: left out (--keep-columns keeps it)".to_string());
                return true;
            }
            if ["id", "ID", "Id"].contains(&name.as_str()) {
                notes.push(format!("column '{name}' is an identifier, not a feature: left out (--keep-columns keeps it)"));
                return true;
            }
            false
        })
        .collect();
    let kept = left_out.iter().filter(|&&l| !l).count();
    if kept == 0 {
        return Err(DataError::invalid(
            at(1),
            "no feature column is left besides the label; keep one (--keep-columns, or fewer --drop)",
        ));
    }
    let values: Vec<f32> = match left_out.iter().any(|&l| l) {
        false => values,
        true => values
            .chunks_exact(width)
            .flat_map(|row| {
                row.iter()
                    .zip(&left_out)
                    .filter(|(_, &l)| !l)
                    .map(|(v, _)| *v)
            })
            .collect(),
    };
    let width = kept;
    let target_names: Vec<String> = label_cols.iter().map(|&j| headers[j].clone()).collect();
    let mut data = match task {
        Task::Classification => {
            if label_cols.len() > 1 {
                return Err(DataError::invalid(
                    at(1),
                    format!(
                        "--label names {} columns: several targets make a regression; add --task regression, or name one class column",
                        label_cols.len()
                    ),
                ));
            }
            refuse_continuous(path, &target_names[0], &raw)?;
            let (labels, names) = classes_of(raw);
            super::common::check_class_count(path, &names)?;
            Dataset::new(
                Values::Floats(values.into()),
                labels,
                vec![width],
                names,
                path.display().to_string(),
            )?
        }
        Task::Regression => {
            let targets = targets_of(&raw, &target_names, |r| at(lines[r]))?;
            leaks(path, &targets, &target_names, &values, width, |k| {
                features
                    .iter()
                    .zip(&left_out)
                    .filter(|(_, &l)| !l)
                    .nth(k)
                    .map_or(String::new(), |(&j, _)| headers[j].clone())
            })?;
            if task_was_guessed {
                notes.push(format!(
                    "{}: a regression (numbers with fractions, such as {}; --task classification to refuse it)",
                    quoted(&target_names),
                    raw.iter().find_map(|l| match l {
                        RawLabel::Text(t) if t.parse::<f64>().is_ok_and(|x| x.fract() != 0.0) => Some(t.clone()),
                        _ => None,
                    }).unwrap_or_default()
                ));
            }
            Dataset::regression(
                Values::Floats(values.into()),
                targets,
                vec![width],
                target_names.clone(),
                path.display().to_string(),
            )?
        }
    };
    data.files = vec![file];
    data.columns = Some(
        features
            .iter()
            .zip(&left_out)
            .filter(|(_, &l)| !l)
            .map(|(&j, _)| headers[j].clone())
            .collect(),
    );
    data.label_column = Some(format!("{} ({chosen})", quoted(&target_names)));
    data.notes = notes;
    Ok(data)
}

/// A table's text, read with a bound: about 4 bytes of f32 for every 2 bytes of text ("0,") at
/// most, held three times.
fn text_of(path: &Path, memory: u64) -> Result<Vec<u8>> {
    common::read(path, memory / 3, "the table's text and its values")
}

/// A reader of `text` past its header row (the delimiter sniffed from it), and the header's
/// names, trimmed.
fn header_row<'t>(path: &Path, text: &'t [u8]) -> Result<(csv::Reader<&'t [u8]>, Vec<String>)> {
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(sniff_delimiter(first_line))
        .from_reader(text);
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    Ok((reader, headers))
}

/// The rows a table's `text` holds (its lines, counted before any is parsed), refusing a table
/// whose rows would take more than `memory` at `row_bytes` each beside the text itself.
fn rows_within(
    path: &Path,
    text: &[u8],
    columns: usize,
    row_bytes: u64,
    memory: u64,
) -> Result<usize> {
    let rows = text.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let need = rows
        .saturating_mul(row_bytes)
        .saturating_add(text.len() as u64);
    if need > memory {
        return Err(DataError::too_large(
            path,
            format!("a table of about {rows} rows and {columns} columns"),
            need,
            memory,
        ));
    }
    Ok(rows as usize)
}

/// Calls `f(line, record)` for each row past the header, blank lines skipped; a table of no
/// rows is refused.
fn each_row(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    mut f: impl FnMut(u64, &csv::StringRecord) -> Result<()>,
) -> Result<()> {
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e)),
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
            continue; // A blank line.
        }
        rows += 1;
        f(line, &record)?;
    }
    if rows == 0 {
        return Err(DataError::invalid(
            path.display(),
            "the table has a header but no rows",
        ));
    }
    Ok(())
}

/// A feature cell's number; an empty, non-numeric or infinite cell is refused, naming its line
/// (`at`) and `column`.
fn number(cell: &str, at: impl Fn() -> String, column: impl Fn() -> String) -> Result<f32> {
    if cell.is_empty() {
        return Err(DataError::invalid(
            at(),
            format!(
                "{}: empty cell; fill in the missing value or drop the row",
                column()
            ),
        ));
    }
    let v: f64 = cell.parse().map_err(|_| {
        DataError::invalid(
            at(),
            format!("{}: '{}' is not a number; feature columns must be numeric (encode categories as numbers, or drop the column)", column(), shorten(cell)),
        )
    })?;
    if !v.is_finite() || (v as f32).is_infinite() {
        return Err(DataError::invalid(
            at(),
            format!(
                "{}: '{}' is not a finite number; replace missing or infinite values",
                column(),
                shorten(cell)
            ),
        ));
    }
    Ok(v as f32)
}

/// Reads a table for a network trained on the columns `features`: each found by its name
/// (in any place; a missing one refused, naming it), and a label column where the table has one
/// besides them (`label`, the training's `--label`, when it names one; else the one other
/// column, or the one named label, target, class or y). Other columns, an index or an ID, are
/// left out with a note.
pub(super) fn read_named(
    path: &Path,
    features: &[String],
    label: Option<&str>,
    targets: Option<&[String]>,
    memory: u64,
) -> Result<Raw> {
    let text = text_of(path, memory)?;
    let file = user_file(path, &text);
    let at = |line: u64| format!("{} line {line}", path.display());
    let (reader, headers) = header_row(path, &text)?;
    let mut positions = Vec::with_capacity(features.len());
    for name in features {
        match headers.iter().position(|h| h == name) {
            Some(j) => positions.push(j),
            None => {
                return Err(DataError::invalid(
                    at(1),
                    format!(
                        "has no column '{name}', which the model takes as a feature (it takes {}); give a table with the columns it was trained on",
                        quoted(features)
                    ),
                ))
            }
        }
    }
    let others: Vec<usize> = (0..headers.len())
        .filter(|j| !positions.contains(j))
        .collect();
    let is_aside = |j: usize| {
        let h = headers[j].as_str();
        (j == 0 && (h.is_empty() || h.starts_with("Unnamed: 0"))) || ["id", "ID", "Id"].contains(&h)
    };
    let named = |j: &usize| label.is_some_and(|l| headers[*j] == l);
    let labelled = |j: &usize| LABEL_NAMES.contains(&headers[*j].to_lowercase().as_str());
    let candidates: Vec<usize> = others.iter().copied().filter(|&j| !is_aside(j)).collect();
    // A regression's targets: by their names, all of them or none.
    if let Some(names) = targets {
        let found: Vec<usize> = names
            .iter()
            .filter_map(|n| headers.iter().position(|h| h == n))
            .collect();
        if !found.is_empty() && found.len() != names.len() {
            return Err(DataError::invalid(
                at(1),
                format!(
                    "has some of the model's targets ({}) but not all; give every target column, or none to predict them",
                    quoted(names)
                ),
            ));
        }
        return read_rows(
            path, reader, &text, file, &headers, &positions, &found, true, memory,
        );
    }
    let by_name: Vec<usize> = candidates.iter().copied().filter(labelled).collect();
    let label_col = match (candidates.iter().find(|j| named(j)), &candidates[..], &by_name[..]) {
        (Some(&j), _, _) | (None, &[j], _) | (None, _, &[j]) => Some(j),
        (None, [], _) => None,
        (None, _, _) => {
            return Err(DataError::invalid(
                at(1),
                format!(
                    "columns {} are not features of the model, and none of them is plainly the label; drop all but the label column, or all of them",
                    quoted(&candidates.iter().map(|&j| headers[j].clone()).collect::<Vec<_>>())
                ),
            ))
        }
    };
    let label_cols: Vec<usize> = label_col.into_iter().collect();
    let mut raw = read_rows(
        path,
        reader,
        &text,
        file,
        &headers,
        &positions,
        &label_cols,
        false,
        memory,
    )?;
    let mut notes: Vec<String> = others
        .iter()
        .filter(|&&j| Some(j) != label_col)
        .map(|&j| match headers[j].as_str() {
            "" => format!(
                "column {} (unnamed) is not a feature of the model: left out",
                j + 1
            ),
            h => format!("column '{h}' is not a feature of the model: left out"),
        })
        .collect();
    if let Some(j) = label_col {
        notes.push(format!("labels read from column '{}'", headers[j]));
    }
    raw.notes = notes;
    Ok(raw)
}

/// The rows of a table read by column: the features at `positions`, and at `labels` each row's
/// labels (a regression's targets as numbers, when `regression`; none when `labels` is empty).
#[allow(clippy::too_many_arguments)] // the table as read, and what to take of it
fn read_rows(
    path: &Path,
    mut reader: csv::Reader<&[u8]>,
    text: &[u8],
    file: crate::catalogue::VerifiedFile,
    headers: &[String],
    positions: &[usize],
    labels: &[usize],
    regression: bool,
    memory: u64,
) -> Result<Raw> {
    let at = |line: u64| format!("{} line {line}", path.display());
    // The values (4 bytes each, held by the file's part and as read), each row's label (48).
    let row_bytes = (positions.len() as u64)
        .saturating_mul(4 * 2)
        .saturating_add(48);
    let rows = rows_within(path, text, headers.len(), row_bytes, memory)?;
    let mut values: Vec<f32> = Vec::with_capacity(rows * positions.len());
    let mut raw = Vec::new();
    let mut targets = Vec::new();
    each_row(path, &mut reader, |line, record| {
        for &j in positions {
            let cell = record.get(j).unwrap_or("").trim();
            values.push(number(
                cell,
                || at(line),
                || format!("column {} ('{}')", j + 1, headers[j]),
            )?);
        }
        for &j in labels {
            let cell = record.get(j).unwrap_or("").trim();
            let column = || format!("column {} ('{}')", j + 1, headers[j]);
            if regression {
                let v = cell.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    DataError::invalid(
                        at(line),
                        format!("{}: '{}' is not a finite number; a target must be a number in every row (or leave the target columns out to predict them)", column(), shorten(cell)),
                    )
                })?;
                targets.push(v);
                continue;
            }
            if cell.is_empty() {
                return Err(DataError::invalid(
                    at(line),
                    format!("{}: the label is empty; give every row its class, or drop the column to predict without labels", column()),
                ));
            }
            raw.push(label_of(cell));
        }
        Ok(())
    })?;
    let labelled = !labels.is_empty();
    Ok(Raw {
        values: Values::Floats(values.into()),
        item_shape: vec![positions.len()],
        labels: (labelled && !regression).then_some(raw),
        targets: (labelled && regression).then_some(targets),
        files: vec![file],
        notes: Vec::new(),
    })
}

/// Whether a label column holds numbers only, some with fractions (a price, a dose, a
/// duration): a regression's target, not classes.
fn continuous(raw: &[RawLabel]) -> bool {
    let number = |l: &RawLabel| match l {
        RawLabel::Int(i) => Some(*i as f64),
        RawLabel::Text(t) => t.parse::<f64>().ok().filter(|x| x.is_finite()),
    };
    raw.iter().all(|l| number(l).is_some())
        && raw
            .iter()
            .any(|l| number(l).is_some_and(|x| x.fract() != 0.0))
}

/// Refuses a class column of numbers with fractions (`--task classification` given): such a
/// column would make a class of every value.
fn refuse_continuous(path: &Path, name: &str, raw: &[RawLabel]) -> Result<()> {
    if !continuous(raw) {
        return Ok(());
    }
    let numbers: Vec<f64> = raw
        .iter()
        .filter_map(|l| match l {
            RawLabel::Int(i) => Some(*i as f64),
            RawLabel::Text(t) => t.parse::<f64>().ok(),
        })
        .collect();
    let fraction = numbers
        .iter()
        .find(|x| x.fract() != 0.0)
        .copied()
        .unwrap_or(0.0);
    let mut distinct: Vec<u64> = numbers.iter().map(|x| x.to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    Err(DataError::invalid(
        path.display(),
        format!(
            "column '{name}' looks continuous ({} distinct values in {} rows, with fractions such as {fraction}): a classification needs classes; leave out --task classification (or give --task regression) to predict the number, name the class column with --label, or bin the target into classes",
            distinct.len(),
            numbers.len()
        ),
    ))
}

/// A regression's targets as numbers (row-major, one per target column); a cell that is not a
/// finite number is refused, naming its line (`at(row)`) and column.
fn targets_of(
    raw: &[RawLabel],
    names: &[String],
    at: impl Fn(usize) -> String,
) -> Result<Vec<f64>> {
    raw.iter()
        .enumerate()
        .map(|(i, l)| {
            let (row, k) = (i / names.len(), i % names.len());
            let value = match l {
                RawLabel::Int(v) => Some(*v as f64),
                RawLabel::Text(t) => t.parse::<f64>().ok(),
            };
            match value {
                Some(v) if v.is_finite() => Ok(v),
                _ => Err(DataError::invalid(
                    at(row),
                    format!(
                        "target '{}': '{}' is not a finite number; a regression's target must be a number in every row (replace missing values, or drop those rows)",
                        names[k],
                        shorten(&l.name())
                    ),
                )),
            }
        })
        .collect()
}

/// Refuses a target that is also among the features (the same value in every row as a feature
/// column: a copy of the answer), naming both.
fn leaks(
    path: &Path,
    targets: &[f64],
    names: &[String],
    values: &[f32],
    width: usize,
    feature: impl Fn(usize) -> String,
) -> Result<()> {
    let m = names.len();
    let rows = targets.len() / m.max(1);
    for k in 0..m {
        for f in 0..width {
            let same = (0..rows).all(|r| values[r * width + f] == targets[r * m + k] as f32);
            if same {
                return Err(DataError::invalid(
                    path.display(),
                    format!(
                        "target '{}' is also a feature: column '{}' holds the same value in every row, so the network would copy the answer; leave it out with --drop {}",
                        names[k],
                        feature(f),
                        feature(f)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A label cell: a whole number (`1`, and also `1.0` as pandas writes an integer column that
/// held a NaN: one class, as a NumPy array of whole floats gives), or a class's name.
fn label_of(cell: &str) -> RawLabel {
    if let Ok(i) = cell.parse::<i64>() {
        return RawLabel::Int(i);
    }
    match cell.parse::<f64>() {
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() <= 9e15 => RawLabel::Int(x as i64),
        _ => RawLabel::Text(cell.to_string()),
    }
}

/// Whether a first row is data rather than names: every cell a number but at most one (a
/// label column of text, as UCI's `iris.data` has), and the numbers not the column numbers
/// 0…n-1 or 1…n that pandas writes for unnamed columns.
fn looks_like_data(headers: &[String]) -> bool {
    let numbers: Vec<f64> = headers
        .iter()
        .filter_map(|h| h.trim().parse::<f64>().ok())
        .collect();
    if numbers.is_empty() || headers.len() - numbers.len() > 1 {
        return false;
    }
    let counts_from = |first: f64| {
        numbers
            .iter()
            .enumerate()
            .all(|(i, &v)| v == first + i as f64)
    };
    !(counts_from(0.0) || counts_from(1.0))
}

/// Tab, semicolon or comma: whichever the header row holds most of.
fn sniff_delimiter(first_line: &[u8]) -> u8 {
    let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|&d| (count(d), d == b','))
        .unwrap_or(b',')
}

/// The label columns: `--label` as one column (see [`label_column`]), or as several, comma
/// separated (a regression's targets), each named once.
fn label_columns(
    path: &Path,
    headers: &[String],
    label: Option<&str>,
) -> Result<(Vec<usize>, &'static str)> {
    let several = label.filter(|l| l.contains(',') && !headers.iter().any(|h| h == l));
    let Some(list) = several else {
        return label_column(path, headers, label).map(|(j, how)| (vec![j], how));
    };
    let mut cols = Vec::new();
    for name in list.split(',').map(str::trim) {
        let (j, _) = label_column(path, headers, Some(name))?;
        if cols.contains(&j) {
            return Err(DataError::invalid(
                format!("{} line 1", path.display()),
                format!(
                    "--label names column '{}' twice; name each target once",
                    headers[j]
                ),
            ));
        }
        cols.push(j);
    }
    if cols.len() == headers.len() {
        return Err(DataError::invalid(
            format!("{} line 1", path.display()),
            "--label names every column: no feature is left; leave at least one column as a feature",
        ));
    }
    Ok((cols, "--label"))
}

/// The label column: `--label` by name, else by number from 1; else a column called `label`,
/// `target`, `class` or `y`; else the last column.
fn label_column(
    path: &Path,
    headers: &[String],
    label: Option<&str>,
) -> Result<(usize, &'static str)> {
    let names = quoted(headers);
    let at = format!("{} line 1", path.display());
    if let Some(label) = label {
        if let Some(i) = headers.iter().position(|h| h == label) {
            return Ok((i, "--label"));
        }
        if let Ok(n) = label.parse::<usize>() {
            if (1..=headers.len()).contains(&n) {
                return Ok((n - 1, "--label"));
            }
            return Err(DataError::invalid(
                at,
                format!("--label {n}: the table has columns 1 to {}", headers.len()),
            ));
        }
        return Err(DataError::invalid(
            at,
            format!("no column named '{label}' for --label; the columns are {names}"),
        ));
    }
    let found: Vec<usize> = (0..headers.len())
        .filter(|&i| LABEL_NAMES.contains(&headers[i].to_lowercase().as_str()))
        .collect();
    match found[..] {
        [] => Ok((
            headers.len() - 1,
            "the last column: none is named label, target, class or y; choose with --label",
        )),
        [i] => Ok((i, "by its name")),
        _ => Err(DataError::invalid(
            at,
            format!(
                "columns {} could each be the label; choose one with --label NAME",
                found
                    .iter()
                    .map(|&i| format!("'{}'", headers[i]))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        )),
    }
}

/// The column names, quoted and listed.
fn quoted(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A CSV reader error, with its line.
fn csv_error(path: &Path, e: csv::Error) -> DataError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => DataError::invalid(
            format!(
                "{} line {}",
                path.display(),
                pos.as_ref().map_or(0, |p| p.line())
            ),
            format!("{len} fields where the header has {expected_len}; every row needs one value per column"),
        ),
        csv::ErrorKind::Utf8 { pos, .. } => DataError::invalid(
            format!(
                "{} line {}",
                path.display(),
                pos.as_ref().map_or(0, |p| p.line())
            ),
            "not UTF-8 text; save the table as UTF-8 CSV",
        ),
        _ => DataError::invalid(path.display(), format!("not a readable CSV table ({e})")),
    }
}

/// At most 40 characters of a cell, for messages.
fn shorten(cell: &str) -> String {
    if cell.chars().count() > 40 {
        format!("{}…", cell.chars().take(40).collect::<String>())
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Result<Dataset> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        read(&path, None, &Default::default(), None, 1 << 30).map_err(|e| {
            // Messages name the file by its full path; keep the tests' checks short.
            DataError::invalid("t.csv", e.to_string())
        })
    }

    #[test]
    fn labels_strings_and_columns() {
        let d = table("a,b,species\n1,2,setosa\n3,4,virginica\n5,6,setosa\n").unwrap();
        assert_eq!(d.item_shape, vec![2]);
        assert_eq!(d.class_names, vec!["setosa", "virginica"]);
        assert_eq!(d.labels(), &[0, 1, 0]);
        let d = table("y,a,b\n1,2,3\n0,4,5\n").unwrap();
        assert_eq!(d.labels(), &[1, 0], "a column named y is the label");
        let d = table("a\tb\tlabel\n1\t2\tx\n3\t4\ty\n").unwrap();
        assert_eq!(d.width(), 2, "tab-separated");
        let d = table("0,1,2\n1,2,0\n3,4,1\n").unwrap();
        assert_eq!(d.len(), 2, "pandas' numbered columns are a header");
        let d = table("0,1,species\n1,2,a\n3,4,b\n").unwrap();
        assert_eq!(
            d.len(),
            2,
            "numbered columns and a named label are a header"
        );
        // Issue 36: a label column of numbers with fractions is a regression's target; with
        // --task classification it is refused as continuous (issue 38).
        let d = table("a,y\n1,0.5\n2,1.25\n3,0.5\n").unwrap();
        assert_eq!(d.task(), Task::Regression);
        assert_eq!(d.targets(), Some(&[0.5, 1.25, 0.5][..]));
        assert!(
            d.notes.iter().any(|n| n.contains("a regression")),
            "{:?}",
            d.notes
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,y\n1,0.5\n2,1.25\n3,0.5\n").unwrap();
        let e = read(
            &path,
            None,
            &Default::default(),
            Some(Task::Classification),
            1 << 30,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("column 'y' looks continuous (2 distinct values in 3 rows"),
            "{e}"
        );
        // Issue 37, class 16: 1 and 1.0 are one class.
        let d = table("a,label\n1,1\n2,1.0\n3,2\n").unwrap();
        assert_eq!(d.class_names, vec!["1", "2"]);
        assert_eq!(d.labels(), &[0, 0, 1]);
        // Issue 37, class 4: UCI's iris.data has no header and text labels: its first line is
        // data, refused rather than taken as names (and its row lost).
        let e = table("5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("looks like data, not a header row"), "{e}");
    }

    #[test]
    fn regression_targets_one_or_several_and_their_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let read_as = |text: &str, label: Option<&str>, task: Option<Task>| {
            std::fs::write(&path, text).unwrap();
            read(&path, label, &Default::default(), task, 1 << 30).map_err(|e| e.to_string())
        };
        // Whole numbers are a regression's only when asked.
        let d = read_as(
            "a,b,y\n1,2,10\n2,3,20\n4,1,15\n",
            None,
            Some(Task::Regression),
        )
        .unwrap();
        assert_eq!((d.task(), d.width()), (Task::Regression, 2));
        assert_eq!(d.class_names, ["y"]);
        // Several targets: a regression by itself.
        let d = read_as(
            "a,b,y,z\n1,2,10,0.5\n2,3,20,1\n4,1,15,2\n",
            Some("y,z"),
            None,
        )
        .unwrap();
        assert_eq!(d.class_names, ["y", "z"]);
        assert_eq!(d.targets(), Some(&[10.0, 0.5, 20.0, 1.0, 15.0, 2.0][..]));
        assert_eq!(d.width(), 2);
        // The refusals, each naming the file, the column and the fix.
        let e = read_as("a,y\n1,2.5\n2,x\n", None, Some(Task::Regression)).unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("'x' is not a finite number"),
            "{e}"
        );
        let e = read_as("a,y\n1,2.5\n2,nan\n", None, Some(Task::Regression)).unwrap_err();
        assert!(e.contains("'nan' is not a finite number"), "{e}");
        let e = read_as("a,y\n1,2.5\n2,2.5\n", None, Some(Task::Regression)).unwrap_err();
        assert!(e.contains("target 'y' is 2.5 for every item"), "{e}");
        let e = read_as("a,b,y\n1,2.5,2.5\n2,3.5,3.5\n", None, None).unwrap_err();
        assert!(
            e.contains("target 'y' is also a feature: column 'b'"),
            "{e}"
        );
        let e = read_as("a,y,z\n1,2.5,1\n2,3.5,2\n", Some("y,y"), None).unwrap_err();
        assert!(e.contains("names column 'y' twice"), "{e}");
        let e = read_as(
            "a,y,z\n1,2,1\n2,3,2\n",
            Some("y,z"),
            Some(Task::Classification),
        )
        .unwrap_err();
        assert!(e.contains("several targets make a regression"), "{e}");
    }

    #[test]
    fn pandas_index_and_id_columns_are_left_out_and_the_label_column_is_named() {
        // Issue 38: df.to_csv("x.csv") writes an unnamed index; Kaggle tables an id column.
        let d = table(",a,b,target\n0,1,2,x\n1,3,4,y\n2,5,6,x\n").unwrap();
        assert_eq!(
            d.columns.as_deref(),
            Some(&["a".to_string(), "b".into()][..])
        );
        assert_eq!(d.label_column.as_deref(), Some("'target' (by its name)"));
        assert!(d.notes[0].contains("pandas' index"), "{:?}", d.notes);
        let d = table("id,a,b\n7,1,x\n9,3,y\n").unwrap();
        assert_eq!(d.columns.as_deref(), Some(&["a".to_string()][..]));
        assert!(d
            .label_column
            .as_deref()
            .unwrap()
            .starts_with("'b' (the last column"));
        assert!(
            d.notes[0].contains("'id' is an identifier"),
            "{:?}",
            d.notes
        );
        // An unnamed first column that does not count 0, 1, 2, … is a feature.
        let d = table(",a,label\n5,1,x\n1,3,y\n").unwrap();
        assert_eq!(d.width(), 2);
        assert!(d.notes.is_empty());
        // The user's say: keep them all, or drop more.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, ",id,a,b,label\n0,7,1,2,x\n1,9,3,4,y\n").unwrap();
        let keep = super::super::Columns {
            keep: true,
            drop: Vec::new(),
        };
        assert_eq!(read(&path, None, &keep, None, 1 << 30).unwrap().width(), 4);
        let drop = super::super::Columns {
            keep: false,
            drop: vec!["b".into()],
        };
        let d = read(&path, None, &drop, None, 1 << 30).unwrap();
        assert_eq!(d.columns.as_deref(), Some(&["a".to_string()][..]));
        match d.values() {
            crate::values::Values::Floats(v) => assert_eq!(&v[..], &[1.0, 3.0]),
            other => panic!("{other:?}"),
        }
        for (bad, says) in [
            ("nope", "no such column"),
            ("label", "it is the label column"),
        ] {
            let c = super::super::Columns {
                keep: false,
                drop: vec![bad.into()],
            };
            let e = read(&path, None, &c, None, 1 << 30)
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn a_table_too_large_once_parsed_is_refused_before_it_is() {
        // Issue 37, class 11: the bound on the text admitted tables needing 4-12 times the
        // memory available once parsed.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let mut text = String::from("a,b,label\n");
        for i in 0..20_000 {
            text += &format!("{},{},{}\n", i % 7, i % 5, i % 2);
        }
        std::fs::write(&path, &text).unwrap();
        // The text fits a third of 1.5 MB; its rows do not fit in it.
        let err = read(&path, None, &Default::default(), None, 1_500_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a table of about 20002 rows and 3 columns"),
            "{err}"
        );
        assert!(read(&path, None, &Default::default(), None, 1 << 30).is_ok());
    }

    #[test]
    fn bad_cells_name_their_line_and_column() {
        let cases = [
            (
                "a,b,label\n1,2,x\n3,,y\n",
                "line 3",
                "column 2 ('b'): empty cell",
            ),
            (
                "a,b,label\n1,2,x\n3,abc,y\n",
                "line 3",
                "'abc' is not a number",
            ),
            (
                "a,b,label\n1,NaN,x\n3,4,y\n",
                "line 2",
                "not a finite number",
            ),
            (
                "a,b,label\n1,inf,x\n3,4,y\n",
                "line 2",
                "not a finite number",
            ),
            (
                "a,b,label\n1,2,x\n3,4\n",
                "line 3",
                "2 fields where the header has 3",
            ),
            ("a,b,label\n1,2,x\n3,4,\n", "line 3", "the label is empty"),
            ("a,b,label\n", "t.csv", "no rows"),
            (
                "label,target\n1,2\n",
                "line 1",
                "'label' and 'target' could each be the label",
            ),
            ("a,b,label\n1,2,x\n3,4,x\n", "t.csv", "only one class"),
            (
                "5,3,1\n1,2,0\n",
                "line 1",
                "looks like data, not a header row",
            ),
        ];
        for (text, at, what) in cases {
            let err = table(text).unwrap_err().to_string();
            assert!(err.contains(at) && err.contains(what), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_label_option_by_name_and_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, "a,kind,b\n1,x,2\n3,y,4\n").unwrap();
        let d = read(&path, Some("kind"), &Default::default(), None, 1 << 30).unwrap();
        assert_eq!(d.class_names, vec!["x", "y"]);
        let d = read(&path, Some("2"), &Default::default(), None, 1 << 30).unwrap();
        assert_eq!(d.class_names, vec!["x", "y"]);
        let err = read(&path, Some("nope"), &Default::default(), None, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no column named 'nope'") && err.contains("'kind'"),
            "{err}"
        );
        let err = read(&path, Some("9"), &Default::default(), None, 1 << 30)
            .unwrap_err()
            .to_string();
        assert!(err.contains("columns 1 to 3"), "{err}");
    }
}
