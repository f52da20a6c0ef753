//! The results service: a run's rates collected from its directory, summarised, and written
//! the same way by `sweep`, `report` and `work --finish`: `overview.png`, `summary.json` and
//! `summary.md`.

use std::path::Path;

use anyhow::Result;
use lrsweep_model::{EpochRecord, Stop};

use crate::analysis::range::FindResult;
use crate::analysis::refine::{self, Refinement};
use crate::analysis::status::{self, RateState};
use crate::analysis::summary::{self, RateSummary, Summary};
use crate::config::{rate_label, Arm};
use crate::render::{chart, html, text};

/// The run's self-contained page: charts, summary and verdicts in one file.
pub const REPORT: &str = "report.html";

/// The closing lines of a run: where to look.
pub fn where_to_look(out: &Path) -> String {
    format!(
        "Open {} for the charts, verdicts and recommendation (one file); each rate's chart is lr-<rate>.png, all rates together overview.png, the table summary.md",
        out.join(REPORT).display()
    )
}
use crate::store::{self, claim, run::RunRecord};

/// A run's rates as its directory holds them.
pub struct Collected {
    /// Each planned rate (`rates_trained`) with the epochs its `metrics.csv` holds (none yet:
    /// empty).
    pub runs: Vec<(Arm, Vec<EpochRecord>)>,
    /// The rates whose training stopped without finishing and that no process trains now (a
    /// failed or killed task of a distributed run, an interrupted sweep).
    pub missing: Vec<Missing>,
    /// The state of each rate of `runs`, in order.
    pub states: Vec<RateState>,
}

/// A rate that stopped without finishing and that no process trains now.
#[derive(Debug, Clone)]
pub struct Missing {
    /// The rate and its schedule.
    pub arm: Arm,
    /// Why, in a sentence.
    pub reason: String,
    /// [`Stop::Interrupted`] when a signal stopped it (it continues on resume).
    pub stop: Option<Stop>,
}

/// Reads every planned rate of the run in `dir`: records, states, what is missing. A malformed
/// `metrics.csv`, or none for a finished rate, is an error naming it; an unfinished rate without
/// one (or with something else in its place, which its failure reports) has trained nothing.
pub fn collect(dir: &Path, record: &RunRecord) -> Result<Collected> {
    let mut collected = Collected {
        runs: Vec::new(),
        missing: Vec::new(),
        states: Vec::new(),
    };
    for &arm in &record.rates_trained {
        let rate_dir = dir.join(record.config.member_dir(arm, record.config.seed));
        let path = rate_dir.join("metrics.csv");
        let evidence = claim::evidence(&rate_dir);
        let state = status::state(&evidence, record.config.epochs);
        // A finished rate must have its metrics; another may not have written any yet.
        let records = if path.is_file() || matches!(state, RateState::Done { .. }) {
            store::metrics::read_metrics(&path)?
        } else {
            Vec::new()
        };
        // A rate whose trainer reported (status.json) and stopped; an older run's rates are
        // marked by their epoch counts alone.
        let reported = matches!(
            state,
            RateState::Interrupted { .. }
                | RateState::Failed {
                    worker: Some(_),
                    ..
                }
        );
        if let (true, Some(reason)) = (reported, state.why()) {
            if record.stop_rule().check(&records).is_none() {
                let interrupted = matches!(state, RateState::Interrupted { .. });
                collected.missing.push(Missing {
                    arm,
                    reason,
                    stop: interrupted.then_some(Stop::Interrupted {
                        epoch: records.len(),
                    }),
                });
            }
        }
        collected.runs.push((arm, records));
        collected.states.push(state);
    }
    Ok(collected)
}

/// The records of `arm` under the run's further seeds (`--seeds`), read from `dir`: none for
/// a seed not trained yet; empty when the run has one seed.
pub fn other_seeds(
    dir: &Path,
    record: &RunRecord,
    arm: Arm,
) -> Result<Vec<(u64, Vec<EpochRecord>)>> {
    let c = &record.config;
    c.seeds()
        .into_iter()
        .filter(|&s| s != c.seed)
        .map(|s| {
            let path = dir.join(c.member_dir(arm, s)).join("metrics.csv");
            let records = if path.is_file() {
                store::metrics::read_metrics(&path)?
            } else {
                Vec::new()
            };
            Ok((s, records))
        })
        .collect()
}

/// The analysis of each rate's records of the run `record` in `dir` (its further seeds' read
/// from there), in training order.
pub fn summarize_runs(
    dir: &Path,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
) -> Result<Vec<RateSummary>> {
    let pruned = pruning(record, runs).map(|(p, _)| p);
    summarize_pruned_runs(dir, record, runs, pruned.as_deref())
}

/// [`summarize_runs`] with the run's pruning already decided ([`pruning`]).
fn summarize_pruned_runs(
    dir: &Path,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
    pruned: Option<&[Option<lrsweep_model::Pruned>]>,
) -> Result<Vec<RateSummary>> {
    let hopeless = record.hopeless();
    runs.iter()
        .enumerate()
        .map(|(i, (arm, records))| {
            let mut s =
                summary::summarize_rate(arm.rate, records, &hopeless, Some(record.reach(*arm)));
            summary::mark_arm(
                &mut s,
                *arm,
                record.config.batch_of(*arm),
                record.config.effective_rate(*arm),
                &record.config.member_dir(*arm, record.config.seed),
            );
            let others = other_seeds(dir, record, *arm)?;
            if !others.is_empty() {
                summary::add_seeds(&mut s, record.config.seed, records, &others);
            }
            if let Some(p) = pruned.and_then(|p| p[i]) {
                summary::mark_pruned(&mut s, p);
            }
            Ok(s)
        })
        .collect()
}

/// With `--prune`: each of `runs`' rates' pruning (in order), decided as the rounds decided it
/// from the same records — the listed rates' round (guarding the refinement's side), then the
/// refined rates' — and the lines saying who the side kept.
pub fn pruning(
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
) -> Option<(Vec<Option<lrsweep_model::Pruned>>, Vec<String>)> {
    let config = &record.config;
    let halving = config.prune.as_ref()?;
    let rule = record.stop_rule();
    let mut pruned = vec![None; runs.len()];
    let mut kept = Vec::new();
    let listed: Vec<usize> = (0..runs.len())
        .filter(|&i| record.is_listed(runs[i].0))
        .collect();
    let refined: Vec<usize> = (0..runs.len()).filter(|i| !listed.contains(i)).collect();
    let mut references: Vec<(f64, &[EpochRecord])> = Vec::new();
    for (round, guard) in [(listed, true), (refined, false)] {
        let members: Vec<(f64, &[EpochRecord])> = round
            .iter()
            .map(|&i| (runs[i].0.rate, runs[i].1.as_slice()))
            .collect();
        let d = lrsweep_model::prune_decisions(
            halving,
            &rule,
            config.epochs,
            &members,
            guard,
            &references,
        );
        for (k, &i) in round.iter().enumerate() {
            pruned[i] = d.pruned[k];
        }
        kept.extend(d.kept_for_side);
        // The refinement round's bar: the listed rates that were not pruned.
        references = members
            .iter()
            .zip(&d.pruned)
            .filter(|(_, p)| p.is_none())
            .map(|(m, _)| *m)
            .collect();
    }
    Some((pruned, kept))
}

/// With `--prune`, the refinement round's bar read from `dir`: the listed rates of the run
/// `record` that were not pruned, with their records ([`pruning`]).
pub fn prune_references(dir: &Path, record: &RunRecord) -> Result<Vec<(f64, Vec<EpochRecord>)>> {
    let config = &record.config;
    let mut listed = Vec::with_capacity(config.rates.len());
    for &rate in &config.rates {
        let path = dir
            .join(config.member_dir(Arm::constant(rate), config.seed))
            .join("metrics.csv");
        listed.push((Arm::constant(rate), store::metrics::read_metrics(&path)?));
    }
    let Some((pruned, _)) = pruning(record, &listed) else {
        return Ok(Vec::new());
    };
    Ok(listed
        .into_iter()
        .zip(pruned)
        .filter(|(_, p)| p.is_none())
        .map(|((arm, records), _)| (arm.rate, records))
        .collect())
}

/// The summary of a run's records: each rate marked if it has not finished (`missing` says why
/// for rates a distributed run's task left unfinished), and the rates the run should have
/// (listed and refined) but has not trained yet.
pub fn summarize(
    dir: &Path,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
    find: Option<&FindResult>,
    missing: &[Missing],
) -> Result<Summary> {
    let config = &record.config;
    let rule = record.stop_rule();
    let pruning = pruning(record, runs);
    let mut rates = summarize_pruned_runs(
        dir,
        record,
        runs,
        pruning.as_ref().map(|(p, _)| p.as_slice()),
    )?;
    for (s, (arm, records)) in rates.iter_mut().zip(runs) {
        summary::mark_stop(s, records, &rule, config.epochs);
        if let Some(m) = missing.iter().find(|m| m.arm == *arm) {
            // An interrupted rate is not missing: it waits for its resume.
            let missing = if m.stop.is_some() { "" } else { "missing: " };
            s.unfinished = Some(format!(
                "{missing}{}; {} of {} epochs trained",
                m.reason,
                records.len(),
                config.epochs
            ));
            s.stopped = s.stopped.or(m.stop);
        }
    }
    let trained: Vec<Arm> = runs.iter().map(|(a, _)| *a).collect();
    let mut expected = config.arms(&config.rates);
    // The refinement of each group (schedule and batch size): the two rates around its best.
    let sides = refine::plan_each(&rates, config);
    for (group, listed, side) in &sides {
        if listed.len() == config.rates.len() && listed.iter().all(|s| s.unfinished.is_none()) {
            if let Refinement::Between { rates, .. } = side {
                expected.extend(rates.iter().map(|&rate| group.at(rate)));
            }
        }
    }
    let mut summary = summary::summarize(rates, find.and_then(|f| f.suggestions));
    if config.several_sizes() {
        let records: Vec<&[EpochRecord]> = runs.iter().map(|(_, r)| r.as_slice()).collect();
        summary.batch_sizes = summary::batch_figures(
            &summary.rates,
            &records,
            &config.sizes(),
            record.data.train_size,
        );
    }
    if let Some((_, kept_for_side)) = pruning {
        let unpruned: usize = runs
            .iter()
            .map(|(_, r)| {
                // What the stop rule alone would have trained: to its stop, or all epochs.
                (1..=r.len())
                    .find(|&k| rule.check(&r[..k]).is_some())
                    .unwrap_or(config.epochs)
            })
            .sum();
        summary.pruning = Some(summary::PruningSummary {
            spec: config.prune.map(|h| h.to_string()).unwrap_or_default(),
            rate_epochs: runs.iter().map(|(_, r)| r.len()).sum(),
            rate_epochs_unpruned: unpruned,
            kept_for_side,
            refinement: sides
                .first()
                .and_then(|(_, listed, side)| refine::side_evidence(listed, side)),
        });
    }
    summary.data = config.data.user.as_ref().map(|user| {
        let d = &record.data;
        summary::DataSummary {
            name: user.path.display().to_string(),
            items: d.train_size + d.valid_size,
            item_shape: d.item_shape.clone(),
            scale: d.scale.to_string(),
            classes: d
                .class_names
                .iter()
                .enumerate()
                .map(|(c, name)| summary::ClassCount {
                    name: name.clone(),
                    train: d.train_class_counts.get(c).copied().unwrap_or(0),
                    valid: d.valid_class_counts.get(c).copied().unwrap_or(0),
                })
                .collect(),
        }
    });
    summary.unfinished.extend(
        expected
            .iter()
            .filter(|r| !trained.contains(r))
            .map(|a| format!("{}: not trained yet", a.label())),
    );
    Ok(summary)
}

/// Draws `lr-<rate>.png` (and `.svg`; named as the member's directory) of `arm` in the run
/// `record` in `dir` from its `records` under the run's seed, its verdict under the title and,
/// with further seeds (`others`), the band the seeds span.
pub fn rate_chart(
    dir: &Path,
    record: &RunRecord,
    arm: Arm,
    records: &[EpochRecord],
    others: &[(u64, Vec<EpochRecord>)],
) -> Result<()> {
    let label = match arm.group_label() {
        group if group.is_empty() => rate_label(arm.rate),
        group => format!("{} ({group})", rate_label(arm.rate)),
    };
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
        dir,
        &record.config.member_dir(arm, record.config.seed),
        &label,
        &verdict,
        records,
        &band,
    )
}

/// Writes `overview.png` (one per schedule), `summary.json`, `summary.md` and `report.html` into `out` (`missing`:
/// as for [`summarize`]); returns the summary.
pub fn write(
    out: &Path,
    header: &str,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
    find: Option<&FindResult>,
    missing: &[Missing],
) -> Result<Summary> {
    let summary = summarize(out, record, runs, find, missing)?;
    let mut summary = summary;
    let recommended = summary.recommended.as_ref().map(|r| r.dir.clone());
    // One overview per group (schedule and batch size): `overview.png` for the reference's
    // (constant, at the run's batch size; the first group when the run has no such group),
    // `overview-<group>.png` for each other.
    let groups = record.config.groups();
    let main = groups
        .iter()
        .position(|g| *g == Arm::constant(0.0))
        .unwrap_or(0);
    for (k, group) in groups.iter().enumerate() {
        let stem = match k == main {
            true => "overview".to_string(),
            false => format!("overview-{}", group.group_slug()),
        };
        let lines: Vec<chart::Line> = runs
            .iter()
            .zip(&summary.rates)
            .filter(|((arm, _), _)| arm.same_group(group))
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
                group: match group.group_label() {
                    g if g.is_empty() => "constant".to_string(),
                    g => g,
                },
                file: format!("{stem}.png"),
            });
        }
    }
    if !summary.batch_sizes.is_empty() {
        let curves: Vec<chart::Line> = summary
            .batch_sizes
            .iter()
            .filter_map(|b| {
                let (_, records) = runs
                    .iter()
                    .zip(&summary.rates)
                    .find(|(_, s)| s.dir == b.dir)?
                    .0;
                Some(chart::Line {
                    label: format!(
                        "batch {} ({}, {:.0} images/s)",
                        b.batch_size,
                        b.best(),
                        b.images_per_s
                    ),
                    records: records.clone(),
                    diverged: false,
                    recommended: recommended.as_deref() == Some(b.dir.as_str()),
                })
            })
            .collect();
        chart::batch_sizes(out, &curves)?;
    }
    store::write_json(&out.join("summary.json"), &summary)?;
    let md = format!(
        "# Learning-rate sweep\n\n{header}\n\n{}",
        text::summary_markdown(&summary)
    );
    store::write_atomic(&out.join("summary.md"), md.as_bytes())?;
    let page = html::report(out, header, &summary, find)?;
    store::write_atomic(&out.join(REPORT), page.as_bytes())?;
    Ok(summary)
}
