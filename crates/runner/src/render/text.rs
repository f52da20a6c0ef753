//! Text for people: the summary's table (one row model, rendered as Markdown and as HTML), the
//! recommendation, the range test's line and the run's header.

use crate::analysis::range::{verdict, FindResult, RangeVerdict};
use crate::analysis::summary::{RateSummary, Summary};
use crate::analysis::verdict::Verdict;
use crate::config::{rate_label, SweepConfig};

/// A suggested rate with three significant digits (they are not round numbers).
pub fn short(rate: f64) -> String {
    format!("{rate:.2e}")
}

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "n/a".to_string()
    }
}

/// The line under the summary's title: what ran where.
pub fn run_header(config: &SweepConfig, backend: &str, adapter: &str) -> String {
    let mut schedules = String::new();
    if config.schedules != [lrsweep_model::Schedule::Constant] {
        let specs: Vec<String> = config.schedules.iter().map(|s| s.to_string()).collect();
        schedules = format!(", schedule {}", specs.join(", "));
    }
    if config.warmup > 0 {
        schedules += &format!(" after {} warm-up epochs", config.warmup);
    }
    let sizes: Vec<String> = config.sizes().iter().map(|s| s.to_string()).collect();
    let mut batch = sizes.join(", ");
    if config.scale_lr != crate::config::ScaleLr::None {
        batch += &format!(" (rates scaled {} from 256)", config.scale_lr);
    }
    format!(
        "{} epochs per rate, batch {batch}{schedules}, seed {}, {backend} on {adapter}.",
        config.epochs, config.seed
    )
}

/// With several groups (schedules, batch sizes): the grid of the lowest validation loss of
/// every rate (rows) in every group (columns: the schedule and/or the batch size), `(epoch)`
/// after each, the recommended one in bold; none with one group.
fn grid(summary: &Summary) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut groups: Vec<(lrsweep_model::Schedule, usize)> = Vec::new();
    for r in &summary.rates {
        if !groups.contains(&(r.schedule, r.batch_size)) {
            groups.push((r.schedule, r.batch_size));
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let schedules = groups.iter().any(|g| g.0 != groups[0].0);
    let sizes = groups.iter().any(|g| g.1 != groups[0].1);
    let name = |(schedule, size): (lrsweep_model::Schedule, usize)| match (schedules, sizes) {
        (true, true) => format!("{schedule}, batch {size}"),
        (true, false) => schedule.to_string(),
        _ => format!("batch {size}"),
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
    header.extend(groups.iter().map(|&g| name(g)));
    let rows = rates
        .iter()
        .map(|&rate| {
            let mut row = vec![rate_label(rate)];
            row.extend(groups.iter().map(|&(schedule, size)| {
                let found = summary
                    .rates
                    .iter()
                    .find(|r| r.rate == rate && r.schedule == schedule && r.batch_size == size);
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
const GRID_TITLE: &str = "Lowest validation loss (epoch) of each rate in each group";

/// What the batch sizes' table shows.
const BATCH_TITLE: &str = "Each batch size's best rate";

/// A Markdown table of `header` and `rows`.
fn md_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
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
fn html_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
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

/// The batch sizes' table: each size's best member, when it got there (epoch and seconds)
/// and its stack's speed.
const BATCH_COLUMNS: [&str; 5] = [
    "batch size",
    "best rate",
    "min val loss (epoch)",
    "seconds to it",
    "images/s",
];

fn batch_rows(summary: &Summary) -> Vec<[String; 5]> {
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

/// One line saying what the range test suggests.
pub fn describe_range(result: &FindResult) -> String {
    match &result.suggestions {
        Some(s) => format!(
            "range test ({} steps{}): valley {}, steep {}, minimum/10 {}",
            result.steps.len(),
            if result.diverged {
                ", stopped at divergence"
            } else {
                ""
            },
            short(s.valley),
            short(s.steep),
            short(s.minimum_10)
        ),
        None => "range test: too few steps for a suggestion".to_string(),
    }
}

/// One rate's row of the summary table, as display strings.
struct Row {
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
fn status(r: &Row) -> String {
    match &r.unfinished {
        Some(u) => format!("unfinished: {u}"),
        None => r.verdict.clone(),
    }
}

/// The paragraph saying a run is incomplete, when it is: each reason once, with the rates it
/// applies to (`0.001 and 0.01: stopped by a signal after epoch 6; …`).
fn incomplete(summary: &Summary) -> Option<String> {
    if summary.unfinished.is_empty() {
        return None;
    }
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for entry in &summary.unfinished {
        let (label, why) = entry.split_once(": ").unwrap_or((entry.as_str(), ""));
        match groups.iter_mut().find(|(_, w)| *w == why) {
            Some((labels, _)) => labels.push(label),
            None => groups.push((vec![label], why)),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(labels, why)| format!("{}: {why}", and_list(labels)))
        .collect();
    Some(format!(
        "This run is incomplete ({}): the figures are from what finished so far, and the recommendation from the rates that finished; `lrsweep sweep --resume RUN_DIR` continues it.",
        parts.join("; ")
    ))
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn row(r: &RateSummary) -> Row {
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

/// The summary table's columns, in Markdown and HTML alike.
const COLUMNS: [&str; 10] = [
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
fn cells(r: Row) -> [String; 10] {
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

/// The recommendation as a bold lead and the sentence after it.
fn recommendation(summary: &Summary) -> (String, String) {
    match &summary.recommended {
        Some(r) if r.label != rate_label(r.rate) => (
            format!(
                "Recommended: learning rate {} under schedule {} at batch size {}, stop at epoch {}",
                rate_label(r.rate),
                r.schedule,
                r.batch_size,
                r.epoch
            ),
            format!(" — {}.", r.reason),
        ),
        Some(r) => (
            format!(
                "Recommended: learning rate {}, stop at epoch {}",
                r.label, r.epoch
            ),
            format!(" — {}.", r.reason),
        ),
        None if !summary.unfinished.is_empty() => {
            let finished: Vec<&str> = summary
                .rates
                .iter()
                .filter(|r| r.unfinished.is_none())
                .map(|r| r.label.as_str())
                .collect();
            let all_diverged = summary
                .rates
                .iter()
                .filter(|r| r.unfinished.is_none())
                .all(|r| r.verdict == Verdict::Diverged);
            let failed = if all_diverged {
                "diverged"
            } else {
                "did not learn"
            };
            let rest = match finished.len() {
                0 => ": no rate has finished yet.".to_string(),
                1 => format!(
                    ": the one rate that finished ({}) {failed}, and the others are unfinished.",
                    finished[0]
                ),
                _ => format!(
                    ": the rates that finished ({}) {failed}, and the others are unfinished.",
                    and_list(&finished)
                ),
            };
            ("No recommendation yet".to_string(), rest)
        }
        None => ("No recommendation".to_string(), no_learner(summary)),
    }
}

/// Why no rate is recommended when every rate finished without learning, and where to look
/// next: smaller rates when they diverged, larger when they did not move, between when both.
fn no_learner(summary: &Summary) -> String {
    let of = |v: Verdict| -> Vec<&RateSummary> {
        summary.rates.iter().filter(|r| r.verdict == v).collect()
    };
    let (stalled, diverged) = (of(Verdict::NotMoving), of(Verdict::Diverged));
    let labels =
        |rs: &[&RateSummary]| and_list(&rs.iter().map(|r| r.label.as_str()).collect::<Vec<_>>());
    let largest = stalled
        .iter()
        .max_by(|a, b| a.rate.total_cmp(&b.rate))
        .map(|r| r.label.as_str());
    let smallest = diverged
        .iter()
        .min_by(|a, b| a.rate.total_cmp(&b.rate))
        .map(|r| r.label.as_str());
    match (largest, smallest) {
        (None, _) => ": every rate diverged; try smaller rates.".to_string(),
        (Some(big), None) => format!(
            ": no rate moved the weights ({} not moving: the loss stayed where an untrained network starts); try larger rates than {big} (if larger rates do the same, the network may be too narrow: a larger --hidden).",
            if stalled.len() == 1 { "it is" } else { "each is" }
        ),
        (Some(big), Some(small)) => format!(
            ": the smaller {} not move ({}) and the larger {} ({}); try rates between {big} and {small}.",
            if stalled.len() == 1 { "rate did" } else { "rates did" },
            labels(&stalled),
            if diverged.len() == 1 { "diverged" } else { "ones diverged" },
            labels(&diverged)
        ),
    }
}

/// The range test's line: its suggestions and how they compare with the sweep's answer.
fn range_line(summary: &Summary) -> Option<String> {
    let t = summary.range_test.as_ref()?;
    let label = summary.recommended.as_ref().map(|r| r.label.as_str());
    let verdict = match verdict_of(summary, t) {
        RangeVerdict::Agrees { factor } => format!(
            "it agrees with the sweep's {} (within a factor {factor:.1} of valley)",
            label.unwrap_or_default()
        ),
        RangeVerdict::Differs { factor } => format!(
            "it differs from the sweep's {} by a factor {factor:.1} (valley)",
            label.unwrap_or_default()
        ),
        RangeVerdict::NothingToCompare => {
            "the sweep has no recommendation yet to compare them with".to_string()
        }
    };
    let advice = match (summary.recommended.as_ref(), verdict_of(summary, t)) {
        (Some(r), RangeVerdict::Differs { .. }) => {
            let epochs = summary
                .rates
                .iter()
                .find(|s| s.rate == r.rate)
                .map_or(0, |s| s.epochs);
            let why = if t.valley > r.rate {
                "it points higher: in the first 100 batches larger rates cut the loss fastest, \
                 but over the whole run they overfit sooner or diverge"
            } else {
                "it points lower: in the first 100 batches the loss fell fastest at smaller rates, \
                 but over the whole run the sweep's rate reached a lower validation loss"
            };
            format!(
                " Trust the sweep's {}: it trained every rate for real, over up to {epochs} epochs, while the range test is a 100-batch heuristic; {why}.",
                r.label
            )
        }
        _ => String::new(),
    };
    Some(format!(
        "Range test: valley {}, steep {}, minimum/10 {}; {verdict}.{advice}",
        short(t.valley),
        short(t.steep),
        short(t.minimum_10)
    ))
}

/// How the range test's suggestions compare with the sweep's answer.
fn verdict_of(summary: &Summary, t: &crate::analysis::range::Suggestions) -> RangeVerdict {
    verdict(summary.recommended.as_ref().map(|r| r.rate), t)
}

/// The seeds' table's columns (`--seeds`).
const SEED_COLUMNS: [&str; 4] = [
    "rate",
    "seeds",
    "min val loss, mean ± sd (epoch, mean ± sd)",
    "each seed: min val loss (epoch)",
];

/// The seeds' table's rows, when the run trained several seeds.
fn seed_rows(summary: &Summary) -> Vec<[String; 4]> {
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

/// The summary as Markdown: the table, the recommendation and the range test's verdict (also
/// printed at the end of a run).
pub fn summary_markdown(summary: &Summary) -> String {
    let mut s = data_line(summary).map_or(String::new(), |l| format!("{l}\n\n"));
    s += &md_table(
        &COLUMNS,
        summary.rates.iter().map(row).map(|r| cells(r).to_vec()),
    );
    let seeds = seed_rows(summary);
    if !seeds.is_empty() {
        s += &format!(
            "\n{}",
            md_table(&SEED_COLUMNS, seeds.iter().map(|r| r.to_vec()))
        );
    }
    if let Some((header, rows)) = grid(summary) {
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        s += &format!("\n{GRID_TITLE}:\n\n{}", md_table(&header, rows));
    }
    let batches = batch_rows(summary);
    if !batches.is_empty() {
        s += &format!(
            "\n{BATCH_TITLE} (see batch-sizes.png):\n\n{}",
            md_table(&BATCH_COLUMNS, batches.iter().map(|r| r.to_vec()))
        );
    }
    let (lead, rest) = recommendation(summary);
    s += &format!("\n**{lead}**{rest}\n");
    if let Some(text) = incomplete(summary) {
        s += &format!("\n**{text}**\n");
    }
    if let Some(line) = range_line(summary) {
        s += &format!("\n{line}\n");
    }
    if let Some(line) = pruning_line(summary) {
        s += &format!("\n{line}\n");
    }
    s
}

/// What `--prune` did, in a paragraph: the rate-epochs trained against the unpruned run's,
/// who went on for the refinement's side, and which way the refinement went.
fn pruning_line(summary: &Summary) -> Option<String> {
    let p = summary.pruning.as_ref()?;
    let share = 100.0 * p.rate_epochs as f64 / p.rate_epochs_unpruned.max(1) as f64;
    let mut line = format!(
        "Pruning ({}): {} rate-epochs trained of the {} the run would have trained without it ({share:.0}%); pruned rates keep what they trained, and the recommendation comes from the rates that finished.",
        p.spec, p.rate_epochs, p.rate_epochs_unpruned
    );
    for kept in &p.kept_for_side {
        line += &format!(" At {kept}.");
    }
    if let Some(r) = &p.refinement {
        let mut chars = r.chars();
        let first = chars
            .next()
            .map_or(String::new(), |c| c.to_uppercase().collect());
        line += &format!(" {first}{}.", chars.as_str());
    }
    Some(line)
}

/// The user's data in one line: name, items, shape, scale, and each class with its items in
/// training / validation (the first 20 classes, then how many more).
fn data_line(summary: &Summary) -> Option<String> {
    let d = summary.data.as_ref()?;
    let shape = d
        .item_shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("×");
    let mut classes = d
        .classes
        .iter()
        .take(20)
        .map(|c| format!("{} ({}/{})", c.name, c.train, c.valid))
        .collect::<Vec<_>>()
        .join(", ");
    if d.classes.len() > 20 {
        classes += &format!(" and {} more", d.classes.len() - 20);
    }
    Some(format!(
        "Data: {} — {} items of {shape} features, scale {}; {} classes (training/validation items): {classes}",
        d.name,
        d.items,
        d.scale,
        d.classes.len()
    ))
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The recommendation, the summary table and the range test's verdict as HTML: the same row
/// model and sentences as [`summary_markdown`].
pub fn summary_html(summary: &Summary) -> String {
    let (lead, rest) = recommendation(summary);
    let mut h = format!("<p><b>{}</b>{}</p>\n", escape(&lead), escape(&rest));
    if let Some(line) = data_line(summary) {
        h += &format!("<p>{}</p>\n", escape(&line));
    }
    h += &html_table(
        &COLUMNS,
        summary.rates.iter().map(row).map(|r| cells(r).to_vec()),
    );
    if let Some((header, rows)) = grid(summary) {
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        h += &format!("<p>{GRID_TITLE}:</p>\n{}", html_table(&header, rows));
    }
    let batches = batch_rows(summary);
    if !batches.is_empty() {
        h += &format!(
            "<p>{BATCH_TITLE}:</p>\n{}",
            html_table(&BATCH_COLUMNS, batches.iter().map(|r| r.to_vec()))
        );
    }
    let seeds = seed_rows(summary);
    if !seeds.is_empty() {
        h += &html_table(&SEED_COLUMNS, seeds.iter().map(|r| r.to_vec()));
    }
    if let Some(text) = incomplete(summary) {
        h += &format!("<p><b>{}</b></p>\n", escape(&text));
    }
    if let Some(line) = range_line(summary) {
        h += &format!("<p>{}</p>\n", escape(&line));
    }
    if let Some(line) = pruning_line(summary) {
        h += &format!("<p>{}</p>\n", escape(&line));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::summary::{summarize, summarize_rate};
    use lrsweep_model::EpochRecord;

    fn rec(epoch: usize, val_loss: f64, val_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss * 0.9,
            train_acc: val_acc,
            val_loss,
            val_acc,
            seconds: 1.0,
            lr: 1e-3,
        }
    }

    #[test]
    fn markdown_shows_the_figures_and_the_recommendation() {
        let reader = crate::analysis::summary::TEST_DATA;
        let mut good = summarize_rate(
            1e-3,
            &[rec(1, 0.3, 0.9), rec(2, 0.1, 0.97), rec(3, 0.2, 0.98)],
            &reader,
            None,
        );
        good.stopped = Some(lrsweep_model::Stop::Completed { epochs: 3 });
        let bad = summarize_rate(
            1e-1,
            &[rec(1, 2.3, 0.1), rec(2, f64::NAN, f64::NAN)],
            &reader,
            None,
        );
        let md = summary_markdown(&summarize(vec![good, bad], None));
        assert!(md.contains("| 0.001 | 3 | 0.9800 (3) | 0.1000 (2)"), "{md}");
        assert!(md.contains("Recommended: learning rate 0.001, stop at epoch 2"));
        assert!(md.contains("| 0.1 | 2 |") && md.contains("diverged: a loss became NaN"));
        assert!(
            md.contains("| stopped |") && md.contains("| all 3 epochs |"),
            "{md}"
        );
    }

    /// Issue 23, class 12: rates too small to move get "try larger rates", diverged ones
    /// "try smaller", both "between"; a flat curve above a rate that learned is a collapse.
    #[test]
    fn the_advice_without_a_recommendation_points_the_right_way() {
        let data = crate::analysis::summary::TEST_DATA;
        let flat = |rate: f64| {
            let records: Vec<EpochRecord> = (1..=5).map(|e| rec(e, 2.6, 0.07)).collect();
            summarize_rate(rate, &records, &data, Some(rate * 4.0 / 0.05))
        };
        let saturated = |rate: f64| {
            let records: Vec<EpochRecord> = (1..=5).map(|e| rec(e, 14.5, 0.1)).collect();
            summarize_rate(rate, &records, &data, Some(rate * 4.0 / 0.05))
        };
        let md = summary_markdown(&summarize(vec![flat(1e-10), flat(1e-9)], None));
        assert!(
            md.contains("no rate moved the weights")
                && md.contains("try larger rates than 0.000000001")
                && !md.contains("try smaller"),
            "{md}"
        );
        assert!(md.contains("| not moving: training loss 2.3400"), "{md}");
        let md = summary_markdown(&summarize(vec![flat(1e-9), saturated(1.0)], None));
        assert!(md.contains("try rates between 0.000000001 and 1."), "{md}");
        let md = summary_markdown(&summarize(vec![saturated(1.0)], None));
        assert!(
            md.contains("every rate diverged; try smaller rates."),
            "{md}"
        );
        // A flat curve at a rate larger than one that learned is that rate's collapse.
        let learned: Vec<EpochRecord> = (1..=5).map(|e| rec(e, 1.0 / e as f64, 0.9)).collect();
        let good = summarize_rate(1e-5, &learned, &data, Some(1e-5 * 4.0 / 0.05));
        let s = summarize(vec![good, flat(1e-3)], None);
        assert_eq!(s.rates[1].verdict, Verdict::Diverged, "{:?}", s.rates[1]);
        assert!(s.rates[1]
            .verdict_reason
            .contains("while the smaller rate 0.00001 learned"));
    }
}
