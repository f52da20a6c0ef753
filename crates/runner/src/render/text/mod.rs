//! Text for people: the summary's table (one row model, rendered as Markdown and as HTML), the
//! recommendation, the range test's line and the run's header.
//!
//! Layers, imports pointing one way: `format` (values and tables) → `rows` and `sentences` →
//! this module (the summary as Markdown and as HTML).

mod format;
mod rows;
mod sentences;

pub use format::{about, escape, short};
pub use sentences::{describe_range, run_header};

use format::{html_table, md_table};
use rows::{
    batch_rows, best_columns, best_rows, cells, columns, grid, rates_html, row, seed_rows,
    BATCH_COLUMNS, BATCH_TITLE, GRID_TITLE, NETWORK_TITLE, OPTIMIZER_TITLE, SEED_COLUMNS,
};
use sentences::{
    data_line, incomplete, lead_line, moves_line, pruning_line, range_lines, recommendation,
};

use crate::analysis::summary::Summary;

/// The summary as Markdown: the table, the recommendation and the range test's verdict (also
/// printed at the end of a run).
pub fn summary_markdown(summary: &Summary) -> String {
    let mut s = data_line(summary).map_or(String::new(), |l| format!("{l}\n\n"));
    s += &md_table(
        &columns(summary),
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
    for (title, what, figures, chart) in best_tables(summary) {
        s += &format!(
            "\n{title} (see {chart}):\n\n{}",
            md_table(&best_columns(what), best_rows(figures))
        );
        for line in [moves_line(figures), lead_line(figures, what)]
            .into_iter()
            .flatten()
        {
            s += &format!("\n{line}\n");
        }
    }
    let (lead, rest) = recommendation(summary);
    s += &format!("\n**{lead}**{rest}\n");
    if let Some(text) = incomplete(summary) {
        s += &format!("\n**{text}**\n");
    }
    for line in range_lines(summary) {
        s += &format!("\n{line}\n");
    }
    if let Some(line) = pruning_line(summary) {
        s += &format!("\n{line}\n");
    }
    s
}

/// The tables of each network's and each optimizer's best member the summary has: title, what
/// a row is, the figures and their chart.
fn best_tables(
    summary: &Summary,
) -> Vec<(
    &'static str,
    &'static str,
    &[crate::analysis::summary::BestFigures],
    &'static str,
)> {
    [
        (NETWORK_TITLE, "network", &summary.networks, "networks.png"),
        (
            OPTIMIZER_TITLE,
            "optimizer",
            &summary.optimizers,
            "optimizers.png",
        ),
    ]
    .into_iter()
    .filter(|(_, _, figures, _)| !figures.is_empty())
    .map(|(title, what, figures, chart)| (title, what, figures.as_slice(), chart))
    .collect()
}

/// The recommendation, the summary table and the range test's verdict as HTML: the same row
/// model and sentences as [`summary_markdown`].
pub fn summary_html(summary: &Summary) -> String {
    let (lead, rest) = recommendation(summary);
    let mut h = format!("<p><b>{}</b>{}</p>\n", escape(&lead), escape(&rest));
    if let Some(line) = data_line(summary) {
        h += &format!("<p>{}</p>\n", escape(&line));
    }
    h += &rates_html(summary);
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
    for (title, what, figures, _) in best_tables(summary) {
        h += &format!(
            "<p>{title}:</p>\n{}",
            html_table(&best_columns(what), best_rows(figures))
        );
        for line in [moves_line(figures), lead_line(figures, what)]
            .into_iter()
            .flatten()
        {
            h += &format!("<p>{}</p>\n", escape(&line));
        }
    }
    let seeds = seed_rows(summary);
    if !seeds.is_empty() {
        h += &html_table(&SEED_COLUMNS, seeds.iter().map(|r| r.to_vec()));
    }
    if let Some(text) = incomplete(summary) {
        h += &format!("<p><b>{}</b></p>\n", escape(&text));
    }
    for line in range_lines(summary) {
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
    use crate::analysis::summary::{summarize, Facts, RateSummary};
    use crate::analysis::verdict::Verdict;
    use lrsweep_model::{EpochRecord, Hopeless};

    #[test]
    fn a_verdicts_gist_is_its_first_clause() {
        assert_eq!(
            rows::gist(
                "validation loss still falling at the last epoch (0.2452, down): train longer"
            ),
            "validation loss still falling at the last epoch"
        );
        assert_eq!(rows::gist("undecided: pruned at epoch 2"), "undecided");
        assert_eq!(rows::gist(&"x".repeat(200)).chars().count(), 90);
    }

    fn summarize_rate(
        rate: f64,
        records: &[EpochRecord],
        hopeless: &Hopeless,
        reach: Option<f64>,
    ) -> RateSummary {
        RateSummary::of(Facts {
            reach,
            ..Facts::plain(rate, records, *hopeless)
        })
    }

    fn rec(epoch: usize, val_loss: f64, val_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: val_loss * 0.9,
            train_acc: val_acc,
            val_loss,
            val_acc,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
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
