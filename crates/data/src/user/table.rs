//! CSV tables with a header row (as pandas, R and spreadsheets export them), gzipped or not:
//! numeric feature columns and one label column.

use std::path::Path;

use super::common::{self, classes_of, user_file, RawLabel};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::values::Values;

/// Column names taken as the label when `--label` is not given (case-insensitive).
const LABEL_NAMES: [&str; 4] = ["label", "target", "class", "y"];

/// Reads a CSV table; `label` names the label column (by header name, or by number from 1).
pub(super) fn read(path: &Path, label: Option<&str>, memory: u64) -> Result<Dataset> {
    // The text, and about 4 bytes of f32 for every 2 bytes of text ("0,") at most.
    let text = common::read(path, memory / 3, "the table's text and its values")?;
    let file = user_file(path, &text);
    let at = |line: u64| format!("{} line {line}", path.display());
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let delimiter = sniff_delimiter(first_line);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .from_reader(&text[..]);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
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
    let label_col = label_column(path, &headers, label)?;
    let width = headers.len() - 1;
    // What the parsed table will take, from its rows and columns, before any is parsed: the
    // values (4 bytes each, held by the data set and by the split's two parts: three times),
    // each row's label as read (48 bytes), beside the text itself.
    let rows = text.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let need = rows
        .saturating_mul((width as u64).saturating_mul(4 * 3).saturating_add(48))
        .saturating_add(text.len() as u64);
    if need > memory {
        return Err(DataError::too_large(
            path,
            format!("a table of about {rows} rows and {} columns", width + 1),
            need,
            memory,
        ));
    }
    let mut values: Vec<f32> = Vec::with_capacity(rows as usize * width);
    let mut raw = Vec::with_capacity(rows as usize);
    let mut record = csv::StringRecord::new();
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
        for (j, cell) in record.iter().enumerate() {
            let cell = cell.trim();
            let column = || format!("column {} ('{}')", j + 1, headers[j]);
            if j == label_col {
                if cell.is_empty() {
                    return Err(DataError::invalid(
                        at(line),
                        format!(
                            "{}: the label is empty; every row needs its class",
                            column()
                        ),
                    ));
                }
                raw.push(label_of(cell));
                continue;
            }
            if cell.is_empty() {
                return Err(DataError::invalid(
                    at(line),
                    format!(
                        "{}: empty cell; fill in the missing value or drop the row",
                        column()
                    ),
                ));
            }
            let v: f64 = cell.parse().map_err(|_| {
                DataError::invalid(
                    at(line),
                    format!("{}: '{}' is not a number; feature columns must be numeric (encode categories as numbers, or drop the column)", column(), shorten(cell)),
                )
            })?;
            if !v.is_finite() || (v as f32).is_infinite() {
                return Err(DataError::invalid(
                    at(line),
                    format!(
                        "{}: '{}' is not a finite number; replace missing or infinite values",
                        column(),
                        shorten(cell)
                    ),
                ));
            }
            values.push(v as f32);
        }
    }
    if raw.is_empty() {
        return Err(DataError::invalid(
            path.display(),
            "the table has a header but no rows",
        ));
    }
    let (labels, names) = classes_of(raw);
    super::common::check_class_count(path, &names)?;
    let mut data = Dataset::new(
        Values::Floats(values.into()),
        labels,
        vec![width],
        names,
        path.display().to_string(),
    )?;
    data.files = vec![file];
    data.columns = Some(
        headers
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != label_col)
            .map(|(_, h)| h.clone())
            .collect(),
    );
    Ok(data)
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

/// The label column: `--label` by name, else by number from 1; else a column called `label`,
/// `target`, `class` or `y`; else the last column.
fn label_column(path: &Path, headers: &[String], label: Option<&str>) -> Result<usize> {
    let names = headers
        .iter()
        .map(|h| format!("'{h}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = format!("{} line 1", path.display());
    if let Some(label) = label {
        if let Some(i) = headers.iter().position(|h| h == label) {
            return Ok(i);
        }
        if let Ok(n) = label.parse::<usize>() {
            if (1..=headers.len()).contains(&n) {
                return Ok(n - 1);
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
        [] => Ok(headers.len() - 1),
        [i] => Ok(i),
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
        read(&path, None, 1 << 30).map_err(|e| {
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
        let err = read(&path, None, 1_500_000).unwrap_err().to_string();
        assert!(
            err.contains("a table of about 20002 rows and 3 columns"),
            "{err}"
        );
        assert!(read(&path, None, 1 << 30).is_ok());
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
        let d = read(&path, Some("kind"), 1 << 30).unwrap();
        assert_eq!(d.class_names, vec!["x", "y"]);
        let d = read(&path, Some("2"), 1 << 30).unwrap();
        assert_eq!(d.class_names, vec!["x", "y"]);
        let err = read(&path, Some("nope"), 1 << 30).unwrap_err().to_string();
        assert!(
            err.contains("no column named 'nope'") && err.contains("'kind'"),
            "{err}"
        );
        let err = read(&path, Some("9"), 1 << 30).unwrap_err().to_string();
        assert!(err.contains("columns 1 to 3"), "{err}");
    }
}
