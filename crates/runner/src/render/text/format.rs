//! How values and tables are written: numbers, rates, lists, Markdown and HTML tables.

/// A suggested rate with three significant digits (they are not round numbers).
pub fn short(rate: f64) -> String {
    format!("{rate:.2e}")
}

pub(super) fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "n/a".to_string()
    }
}

/// A Markdown table of `header` and `rows`.
pub(super) fn md_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        t += &format!("| {} |\n", r.join(" | "));
    }
    t
}

/// An HTML table of `header` and `rows`, each cell escaped; a cell written `**…**` (the
/// Markdown tables' mark of the winner) in bold.
pub(super) fn html_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut h = String::from("<table><tr>");
    for c in header {
        h += &format!("<th>{}</th>", escape(c));
    }
    h += "</tr>\n";
    for r in rows {
        h += "<tr>";
        for c in r {
            h += &match c.strip_prefix("**").and_then(|c| c.strip_suffix("**")) {
                Some(best) => format!("<td><b>{}</b></td>", escape(best)),
                None => format!("<td>{}</td>", escape(&c)),
            };
        }
        h += "</tr>\n";
    }
    h + "</table>\n"
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `about 40 s`, `about 12 min`, `about 2.5 h`.
pub fn about(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("about {:.0} s", seconds.max(1.0))
    } else if seconds < 5400.0 {
        format!("about {:.0} min", seconds / 60.0)
    } else {
        format!("about {:.1} h", seconds / 3600.0)
    }
}
