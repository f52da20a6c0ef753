//! Publishing a run's results, the one way `sweep`, `work --finish` and `report` do it: the
//! arms collected from the run directory, their charts (every one, or those missing), the
//! range test's chart, the summary, the overviews and `report.html`.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::EpochRecord;

use super::collect::{other_seeds, Collected};
use super::summarize::summarize;
use crate::analysis::range::FindResult;
use crate::analysis::summary::{self, Summary};
use crate::config::{rate_label, Arm};
use crate::render::{chart, html, text};
use crate::store::fs::{write_atomic, write_json};
use crate::store::layout::{names, RunLayout};
use crate::store::run::RunRecord;

/// The closing lines of a run: where to look.
pub fn where_to_look(out: &Path) -> String {
    format!(
        "Open {} for the charts, verdicts and recommendation (one file); each rate's chart is lr-<rate>.png, all rates together overview.png, the table summary.md",
        out.join(names::REPORT).display()
    )
}

/// Which arms' charts a publication draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charts {
    /// Every arm's, and the range test's: a report from the files alone.
    All,
    /// Those not drawn yet (a round draws its arms' charts as it closes).
    Missing,
}

/// Publishes the results of the run `record` in `layout` from its arms as `collected`
/// ([`super::collect`]): draws `charts`, and writes the summary (`summary.json`,
/// `summary.md`), the overviews and `report.html`; `find` is the run's range test, when it has
/// one. Returns the summary.
pub fn publish(
    layout: &RunLayout,
    record: &RunRecord,
    collected: Collected,
    finds: &[FindResult],
    charts: Charts,
) -> Result<Summary> {
    for (arm, records) in &collected.runs {
        if charts == Charts::All || !layout.arm(*arm).chart().exists() {
            let others = other_seeds(layout, record, *arm)?;
            rate_chart(layout, record, *arm, records, &others)?;
        }
    }
    if charts == Charts::All {
        for f in finds {
            let stem = crate::store::range::stem_of(&record.config, &f.optimizer);
            chart::find(layout.root(), &stem, f)?;
        }
    }
    write(layout, record, &collected, finds)
}

/// Draws `lr-<rate>.png` (and `.svg`; named as the member's directory) of `arm` in the run
/// `record` from its `records` under the run's seed, its verdict under the title and, with
/// further seeds (`others`), the band the seeds span.
pub fn rate_chart(
    layout: &RunLayout,
    record: &RunRecord,
    arm: Arm,
    records: &[EpochRecord],
    others: &[(u64, Vec<EpochRecord>)],
) -> Result<()> {
    let reading =
        crate::analysis::verdict::read(records, &record.hopeless(), Some(record.reach(arm)));
    let mut verdict = format!("{}: {}", reading.verdict.display(), reading.reason);
    let mut band: Vec<&[EpochRecord]> = Vec::new();
    if !others.is_empty() {
        verdict = format!(
            "{verdict} (seed {}; the band spans {} seeds)",
            record.config.seed,
            others.len() + 1
        );
        band.push(records);
        band.extend(others.iter().map(|(_, r)| r.as_slice()));
    }
    chart::rate_chart(
        layout.root(),
        layout.arm(arm).name(),
        &arm.title(),
        &verdict,
        records,
        &band,
    )
}

/// Writes the overviews (one per group), `batch-sizes.png` with several sizes,
/// `summary.json`, `summary.md` and `report.html`; returns the summary.
fn write(
    layout: &RunLayout,
    record: &RunRecord,
    collected: &Collected,
    finds: &[FindResult],
) -> Result<Summary> {
    let out = layout.root();
    let runs = &collected.runs;
    let mut summary = summarize(layout, record, runs, finds, &collected.missing)?;
    let recommended = summary.recommended.as_ref().map(|r| r.dir.clone());
    // One overview per group: `overview.png` for the reference's (the first group when the run
    // has no such group), `overview-<group>.png` for each other.
    let groups = record.config.groups();
    let main = groups.iter().position(|g| g.is_reference()).unwrap_or(0);
    for (k, group) in groups.iter().enumerate() {
        // A group nothing of which has trained yet has no overview (a crafted config.json may
        // list thousands).
        let trained = runs
            .iter()
            .any(|(arm, records)| arm.group == *group && !records.is_empty());
        if k != main && !trained {
            continue;
        }
        let stem = match k == main {
            true => "overview".to_string(),
            false => format!("overview-{}", group.slug()),
        };
        let lines: Vec<chart::Line> = runs
            .iter()
            .zip(&summary.rates)
            .filter(|((arm, _), _)| arm.group == *group)
            .map(|((arm, records), s)| chart::Line {
                label: rate_label(arm.rate),
                records: records.clone(),
                diverged: s.diverged,
                recommended: recommended.as_deref() == Some(s.dir.as_str()),
            })
            .collect();
        chart::overview(out, &stem, &lines)?;
        if groups.len() > 1 {
            summary.overviews.push(summary::Overview {
                group: group.name(),
                file: format!("{stem}.png"),
            });
        }
    }
    // The best member of each batch size and of each network, each a curve of its own.
    let records_of = |dir: &str| {
        runs.iter()
            .zip(&summary.rates)
            .find(|(_, s)| s.dir == dir)
            .map(|((_, records), _)| records.clone())
    };
    let best_line = |dir: &str, label: String| {
        Some(chart::Line {
            label,
            records: records_of(dir)?,
            diverged: false,
            recommended: recommended.as_deref() == Some(dir),
        })
    };
    if !summary.batch_sizes.is_empty() {
        let curves: Vec<chart::Line> = summary
            .batch_sizes
            .iter()
            .filter_map(|b| {
                let label = format!(
                    "batch {} ({}, {:.0} images/s)",
                    b.batch_size,
                    b.best(),
                    b.images_per_s
                );
                best_line(&b.dir, label)
            })
            .collect();
        chart::best_members(out, names::BATCH_CHART, &curves)?;
    }
    for (figures, file) in [
        (&summary.networks, names::NETWORK_CHART),
        (&summary.optimizers, names::OPTIMIZER_CHART),
    ] {
        if figures.is_empty() {
            continue;
        }
        let curves: Vec<chart::Line> = figures
            .iter()
            .filter_map(|n| {
                let moved = n.movement().map_or(String::new(), |m| format!(", {m}"));
                let label = format!("{} (lr {}{moved})", n.name, rate_label(n.rate));
                best_line(&n.dir, label)
            })
            .collect();
        chart::best_members(out, file, &curves)?;
    }
    write_json(&layout.file(names::SUMMARY_JSON), &summary)?;
    let trained: Vec<usize> = summary.rates.iter().map(|r| r.epochs).collect();
    let header = text::run_header(&record.config, &record.backend, &record.adapter, &trained);
    let md = format!(
        "# Learning-rate sweep\n\n{header}\n\n{}",
        text::summary_markdown(&summary)
    );
    write_atomic(&layout.file(names::SUMMARY_MD), md.as_bytes())?;
    let page = html::report(out, &record.config, &header, &summary, finds)?;
    write_atomic(&layout.file(names::REPORT), page.as_bytes())?;
    super::hparams::write(layout, record, collected, &summary)?;
    Ok(summary)
}
