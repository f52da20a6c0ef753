//! The summary's tables as rows of display strings, one model rendered as Markdown and HTML:
//! the rates, the seeds, the grid of rates and groups, the batch sizes.

use super::format::num;
use crate::analysis::summary::{BestFigures, RateSummary, Summary};
use crate::config::rate_label;

/// One rate's row of the summary table, as display strings.
pub(super) struct Row {
    rate: String,
    epochs: String,
    best_acc: String,
    min_loss: String,
    final_train: String,
    final_val: String,
    rise: String,
    stopped: String,
    patience: String,
    /// The verdict and its evidence.
    verdict: String,
    /// How far an unfinished rate got.
    unfinished: Option<String>,
}

/// The verdict cell: unfinished (and how far), or the verdict and its evidence.
pub(super) fn status(r: &Row) -> String {
    match &r.unfinished {
        Some(u) => format!("unfinished: {u}"),
        None => r.verdict.clone(),
    }
}

pub(super) fn row(r: &RateSummary) -> Row {
    let stop = |e: Option<usize>| e.map_or("-".to_string(), |e| e.to_string());
    Row {
        rate: r.label.clone(),
        epochs: r.epochs.to_string(),
        best_acc: format!("{} ({})", num(r.best_val_acc, 4), r.best_val_acc_epoch),
        min_loss: format!("{} ({})", num(r.min_val_loss, 4), r.min_val_loss_epoch),
        final_train: format!(
            "{} / {}",
            num(r.final_train_loss, 4),
            num(r.final_train_acc, 4)
        ),
        final_val: format!("{} / {}", num(r.final_val_loss, 4), num(r.final_val_acc, 4)),
        rise: num(r.val_loss_rise, 4),
        stopped: r.stopped.map_or("-".to_string(), |s| s.describe()),
        patience: format!("{} / {}", stop(r.patience_5_stop), stop(r.patience_10_stop)),
        verdict: format!("{}: {}", r.verdict.display(), r.verdict_reason),
        unfinished: r.unfinished.clone(),
    }
}

/// The summary table's columns for `summary`: a regression's say R² where accuracy is.
pub(super) fn columns(summary: &Summary) -> [&'static str; 10] {
    match summary.is_regression() {
        true => REGRESSION_COLUMNS,
        false => COLUMNS,
    }
}

/// A regression's summary table's columns.
const REGRESSION_COLUMNS: [&str; 10] = [
    "rate",
    "epochs",
    "best val R² (epoch)",
    "min val loss (epoch)",
    "final train loss / R²",
    "final val loss / R²",
    "val loss rise",
    "stopped",
    "would stop early (patience 5 / 10)",
    "verdict",
];

/// The summary table's columns, in Markdown and HTML alike.
pub(super) const COLUMNS: [&str; 10] = [
    "rate",
    "epochs",
    "best val acc (epoch)",
    "min val loss (epoch)",
    "final train loss / acc",
    "final val loss / acc",
    "val loss rise",
    "stopped",
    "would stop early (patience 5 / 10)",
    "verdict",
];

/// A row's cells, in the order of [`COLUMNS`].
pub(super) fn cells(r: Row) -> [String; 10] {
    let status = status(&r);
    [
        r.rate,
        r.epochs,
        r.best_acc,
        r.min_loss,
        r.final_train,
        r.final_val,
        r.rise,
        r.stopped,
        r.patience,
        status,
    ]
}

/// The gist of a verdict's evidence: its first clause, for a table a person scans (the whole
/// sentence stays a click away).
pub(super) fn gist(reason: &str) -> String {
    let cut = reason.find([':', '(', ';']).unwrap_or(reason.len());
    let head = reason[..cut].trim().trim_end_matches(',');
    match head.chars().count() > 90 {
        true => format!("{}…", head.chars().take(89).collect::<String>()),
        false => head.to_string(),
    }
}

/// The rates' table as a page shows it: the verdict a word set apart (its colour and its
/// text, so it survives printing and colour blindness), the gist beside it and the evidence a
/// click away; numbers right-aligned, prose left-aligned; the recommended row marked; each
/// rate linked to its chart.
pub(super) fn rates_html(summary: &Summary) -> String {
    use super::format::escape;
    let recommended = summary.recommended.as_ref().map(|r| r.dir.as_str());
    let numeric = [
        false, true, true, true, true, true, true, false, true, false,
    ];
    // The rate and its verdict first: what a person looks for, visible at any width; then the
    // figures (the table scrolls sideways on a narrow screen).
    let order = [0, 9, 1, 2, 3, 4, 5, 6, 7, 8];
    let mut h = String::from("<div class=\"scroll\"><table class=\"rates\"><tr>");
    for &k in &order {
        h += &format!(
            "<th class=\"{}\">{}</th>",
            if numeric[k] { "num" } else { "text" },
            escape(columns(summary)[k])
        );
    }
    h += "</tr>\n";
    for r in &summary.rates {
        let dir = match r.dir.is_empty() {
            true => format!("lr-{}", r.label),
            false => r.dir.clone(),
        };
        let marked = recommended == Some(dir.as_str());
        let cells = cells(row(r));
        h += &format!(
            "<tr id=\"row-{}\"{}>",
            escape(&dir),
            if marked { " class=\"recommended\"" } else { "" }
        );
        for &k in &order {
            let cell = &cells[k];
            let body = match k {
                0 => format!(
                    "<a href=\"#chart-{}\">{}</a>{}",
                    escape(&dir),
                    escape(cell),
                    if marked {
                        " <span class=\"mark\">★ recommended</span>"
                    } else {
                        ""
                    }
                ),
                9 => {
                    let (word, class) = match &r.unfinished {
                        Some(_) => ("unfinished".to_string(), "unfinished"),
                        None => (r.verdict.display().to_string(), r.verdict.name()),
                    };
                    let reason = match &r.unfinished {
                        Some(u) => u.clone(),
                        None => r.verdict_reason.clone(),
                    };
                    format!(
                        "<span class=\"verdict v-{class}\">{}</span> {}<details><summary>evidence</summary>{}</details>",
                        escape(&word),
                        escape(&gist(&reason)),
                        escape(&reason)
                    )
                }
                _ => escape(cell),
            };
            h += &format!(
                "<td class=\"{}\">{body}</td>",
                if numeric[k] { "num" } else { "text" }
            );
        }
        h += "</tr>\n";
    }
    h + "</table></div>\n"
}

/// With several groups (schedules, networks, batch sizes): the grid of the lowest validation
/// loss of every rate (rows) in every group (columns: what differs among the groups: the
/// schedule, the network, the batch size), `(epoch)` after each, the recommended one in bold;
/// none with one group.
pub(super) fn grid(summary: &Summary) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut groups: Vec<&RateSummary> = Vec::new();
    for r in &summary.rates {
        if !groups.iter().any(|g| g.same_group(r)) {
            groups.push(r);
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let schedules = groups.iter().any(|g| g.schedule != groups[0].schedule);
    let networks = groups.iter().any(|g| g.network != groups[0].network);
    let optimizers = groups.iter().any(|g| g.optimizer != groups[0].optimizer);
    let sizes = groups.iter().any(|g| g.batch_size != groups[0].batch_size);
    let name = |g: &RateSummary| {
        let mut parts = Vec::new();
        if schedules {
            parts.push(g.schedule.to_string());
        }
        if networks {
            parts.push(g.network.describe());
        }
        if optimizers {
            parts.push(g.optimizer.to_string());
        }
        if sizes {
            parts.push(format!("batch {}", g.batch_size));
        }
        parts.join(", ")
    };
    let mut rates: Vec<f64> = Vec::new();
    for r in &summary.rates {
        if !rates.contains(&r.rate) {
            rates.push(r.rate);
        }
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let best = summary.recommended.as_ref().map(|r| r.dir.as_str());
    let mut header = vec!["rate".to_string()];
    header.extend(groups.iter().map(|g| name(g)));
    let rows = rates
        .iter()
        .map(|&rate| {
            let mut row = vec![rate_label(rate)];
            row.extend(groups.iter().map(|g| {
                let found = summary
                    .rates
                    .iter()
                    .find(|r| r.rate == rate && r.same_group(g));
                match found {
                    Some(r) => {
                        let cell = format!("{:.4} ({})", r.min_val_loss, r.min_val_loss_epoch);
                        match best == Some(r.dir.as_str()) {
                            true => format!("**{cell}**"),
                            false => cell,
                        }
                    }
                    None => "–".to_string(),
                }
            }));
            row
        })
        .collect();
    Some((header, rows))
}

/// What the grid of rates and groups shows.
pub(super) const GRID_TITLE: &str = "Lowest validation loss (epoch) of each rate in each group";

/// What the batch sizes' table shows.
pub(super) const BATCH_TITLE: &str = "Each batch size's best rate";

/// The batch sizes' table: each size's best member, when it got there (epoch and seconds)
/// and its stack's speed.
pub(super) const BATCH_COLUMNS: [&str; 5] = [
    "batch size",
    "best rate",
    "min val loss (epoch)",
    "seconds to it",
    "images/s",
];

pub(super) fn batch_rows(summary: &Summary) -> Vec<[String; 5]> {
    summary
        .batch_sizes
        .iter()
        .map(|b| {
            [
                b.batch_size.to_string(),
                b.best(),
                format!("{:.4} ({})", b.min_val_loss, b.min_val_loss_epoch),
                format!("{:.1}", b.seconds_to_best),
                format!("{:.0}", b.images_per_s),
            ]
        })
        .collect()
}

/// What the networks' table shows.
pub(super) const NETWORK_TITLE: &str = "Each network's best rate";

/// What the optimizers' table shows.
pub(super) const OPTIMIZER_TITLE: &str = "Each optimizer at its best rate";

/// The columns of a table of each network's or optimizer's best member (`what`: `network`,
/// `optimizer`).
pub(super) fn best_columns(what: &str) -> [&str; 8] {
    [
        what,
        "best rate",
        "stop at epoch",
        "min val loss (epoch)",
        "best val acc",
        "verdict",
        "ties within noise",
        "best rate against the first's",
    ]
}

/// Each value's best member as a row of [`best_columns`].
pub(super) fn best_rows(figures: &[BestFigures]) -> Vec<Vec<String>> {
    figures
        .iter()
        .map(|n| {
            let rate = match n.decay_per_step {
                Some(d) => format!("{} (decay {d:.1e} a step)", rate_label(n.rate)),
                None => rate_label(n.rate),
            };
            let loss = match n.noise > 0.0 {
                true => format!(
                    "{:.4} ± {:.4} ({})",
                    n.min_val_loss, n.noise, n.min_val_loss_epoch
                ),
                false => format!("{:.4} ({})", n.min_val_loss, n.min_val_loss_epoch),
            };
            vec![
                n.name.clone(),
                rate,
                n.stop_epoch.to_string(),
                loss,
                format!("{:.4}", n.best_val_acc),
                n.verdict.clone(),
                match n.ties.is_empty() {
                    true => "-".to_string(),
                    false => n.ties.join(", "),
                },
                n.movement().unwrap_or_else(|| "(the first)".to_string()),
            ]
        })
        .collect()
}

/// The seeds' table's columns (`--seeds`).
pub(super) const SEED_COLUMNS: [&str; 4] = [
    "rate",
    "seeds",
    "min val loss, mean ± sd (epoch, mean ± sd)",
    "each seed: min val loss (epoch)",
];

/// The seeds' table's rows, when the run trained several seeds.
pub(super) fn seed_rows(summary: &Summary) -> Vec<[String; 4]> {
    summary
        .rates
        .iter()
        .filter(|r| !r.seeds.is_empty())
        .map(|r| {
            let each: Vec<String> = r
                .seeds
                .iter()
                .map(|s| {
                    format!(
                        "{}: {} ({})",
                        s.seed,
                        num(s.min_val_loss, 4),
                        s.min_val_loss_epoch
                    )
                })
                .collect();
            [
                r.label.clone(),
                r.seeds.len().to_string(),
                format!(
                    "{} ± {} ({} ± {})",
                    num(r.min_val_loss_mean.unwrap_or(f64::NAN), 4),
                    num(r.min_val_loss_sd.unwrap_or(f64::NAN), 4),
                    num(r.min_val_loss_epoch_mean.unwrap_or(f64::NAN), 1),
                    num(r.min_val_loss_epoch_sd.unwrap_or(f64::NAN), 1)
                ),
                each.join("; "),
            ]
        })
        .collect()
}
