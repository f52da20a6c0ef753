//! A run's records summarised: one row per arm ([`RateSummary::of`]), the run's pruning
//! replayed once for all of them, and the answer with its run-wide figures.

use anyhow::Result;
use lrsweep_model::{Contender, EpochRecord, Replay};

use super::collect::{other_seeds, Missing};
use crate::analysis::range::{Compared, FindResult, RangeAnswer};
use crate::analysis::refine::{self, Refinement};
use crate::analysis::summary::{self, Facts, RateSummary, Summary};
use crate::config::{Arm, SweepConfig};
use crate::store::layout::RunLayout;
use crate::store::run::RunRecord;
use lrsweep_model::Optimizer;

/// With `--prune`: the run's pruning replayed from `runs`' records, as its rounds decided it.
fn replay(record: &RunRecord, runs: &[(Arm, Vec<EpochRecord>)]) -> Option<Replay> {
    let config = &record.config;
    let halving = config.prune.as_ref()?;
    let groups = config.groups();
    let contenders: Vec<Contender> = runs
        .iter()
        .map(|(arm, records)| Contender {
            rate: arm.rate,
            listed: config.is_listed(*arm),
            group: groups.iter().position(|g| *g == arm.group).unwrap_or(0),
            records,
        })
        .collect();
    Some(lrsweep_model::replay_pruning(
        halving,
        &record.stop_rule(),
        config.epochs,
        &contenders,
    ))
}

/// Refuses records that disagree with the run's pruning: a member the replay prunes at a rung
/// stopped there, so holding epochs beyond it means its file was changed (a report would
/// otherwise call a member of 4 epochs "pruned at epoch 1" and rank it against the others).
fn consistent(layout: &RunLayout, runs: &[(Arm, Vec<EpochRecord>)], replay: &Replay) -> Result<()> {
    for ((arm, records), pruned) in runs.iter().zip(&replay.pruned) {
        if let Some(p) = pruned.filter(|p| records.len() > p.epoch) {
            return Err(crate::exit::usage(anyhow::anyhow!(
                "the run's records disagree with its pruning: {} holds {} epochs, but replaying the pruning from the members' records stops this rate at epoch {} ({}); a member's metrics.csv was changed or copied in: restore it, or delete that rate's directory and resume the run to train it again",
                layout.arm(*arm).metrics().display(),
                records.len(),
                p.epoch,
                p.describe()
            )));
        }
    }
    Ok(())
}

/// The summary rows of `runs` (arms with their records under the run's seed) of the run in
/// `layout`, its further seeds' records read from there; `missing` says why an arm stopped
/// without finishing; `replay` is the run's pruning.
fn rows(
    layout: &RunLayout,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
    missing: &[Missing],
    replay: Option<&Replay>,
) -> Result<Vec<RateSummary>> {
    let config = &record.config;
    runs.iter()
        .enumerate()
        .map(|(i, (arm, records))| {
            let others = other_seeds(layout, record, *arm)?;
            Ok(RateSummary::of(Facts {
                arm: *arm,
                batch_size: config.batch_of(arm.group),
                effective_rate: config.effective_rate(*arm),
                decay_per_step: config
                    .optimizer_of(arm.group)
                    .decoupled_decay()
                    .map(|wd| config.effective_rate(*arm) * wd),
                dir: layout.arm(*arm).name().to_string(),
                records,
                run_seed: config.seed,
                others: &others,
                hopeless: record.hopeless(),
                reach: Some(record.reach(*arm)),
                pruned: replay.and_then(|r| r.pruned[i]),
                rule: record.stop_rule(),
                missing: missing
                    .iter()
                    .find(|m| m.arm == *arm)
                    .map(|m| (m.reason.clone(), m.stop)),
            }))
        })
        .collect()
}

/// The sweep's rate a range test with `optimizer` is compared with: the recommendation where it
/// is of that optimizer and the run's first network (what the range test trained), else the
/// best of those members.
fn compared(summary: &Summary, config: &SweepConfig, optimizer: Optimizer) -> Option<Compared> {
    let first = config.first_network();
    let ours = |r: &RateSummary| r.optimizer == optimizer && r.network == first;
    let row = match &summary.recommended {
        Some(rec) if rec.optimizer == optimizer && rec.network == first => {
            summary.rates.iter().find(|r| r.dir == rec.dir)
        }
        _ => {
            let mine: Vec<RateSummary> =
                summary.rates.iter().filter(|r| ours(r)).cloned().collect();
            let best = summary::best(&mine).map(|b| b.dir.clone())?;
            summary.rates.iter().find(|r| r.dir == best)
        }
    }?;
    let label = match &summary.recommended {
        Some(rec) if rec.dir == row.dir => rec.label.clone(),
        _ => row.label.clone(),
    };
    Some(Compared {
        rate: row.rate,
        label,
        epochs: row.epochs,
    })
}

/// The rows of `runs` alone (what a refinement is planned from).
pub fn summarize_runs(
    layout: &RunLayout,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
) -> Result<Vec<RateSummary>> {
    rows(layout, record, runs, &[], replay(record, runs).as_ref())
}

/// The summary of a run's records: each arm's row (`missing` says why an arm a distributed
/// run's task left unfinished stopped), the recommendation, the run-wide figures, and the arms
/// the run should have (listed and refined) but has not trained yet.
pub fn summarize(
    layout: &RunLayout,
    record: &RunRecord,
    runs: &[(Arm, Vec<EpochRecord>)],
    finds: &[FindResult],
    missing: &[Missing],
) -> Result<Summary> {
    let config = &record.config;
    let rule = record.stop_rule();
    let replay = replay(record, runs);
    if let Some(r) = &replay {
        consistent(layout, runs, r)?;
    }
    let rates = rows(layout, record, runs, missing, replay.as_ref())?;
    let trained: Vec<Arm> = runs.iter().map(|(a, _)| *a).collect();
    let mut expected = config.listed_arms();
    // The refinement of each group: the rates around its best.
    let sides = refine::plan_each(&rates, config);
    for (group, listed, side) in &sides {
        if listed.len() == config.rates_of(*group).len()
            && listed.iter().all(|s| s.unfinished.is_none())
        {
            if let Refinement::Between { rates, .. } = side {
                expected.extend(rates.iter().map(|&rate| Arm::new(rate, *group)));
            }
        }
    }
    let first = finds.first().and_then(|f| f.suggestions);
    let mut summary = summary::summarize(rates, first);
    summary.range_tests = finds
        .iter()
        .filter_map(|f| {
            Some(RangeAnswer {
                optimizer: f.optimizer,
                suggestions: f.suggestions?,
                compared: compared(&summary, config, f.optimizer),
            })
        })
        .collect();
    if config.several_sizes() {
        let records: Vec<&[EpochRecord]> = runs.iter().map(|(_, r)| r.as_slice()).collect();
        summary.batch_sizes = summary::batch_figures(
            &summary.rates,
            &records,
            &config.sizes(),
            record.data.train_size,
        );
    }
    let networks = config.networks();
    if networks.len() > 1 {
        summary.networks = summary::network_figures(&summary.rates, &networks);
    }
    if config.optimizers.len() > 1 {
        summary.optimizers = summary::optimizer_figures(&summary.rates, &config.optimizers);
    }
    if let Some(replay) = replay {
        // What the stop rule alone would have trained: to its first stop, or all epochs.
        let unpruned = runs
            .iter()
            .map(|(_, r)| rule.first_stop(r).map_or(config.epochs, |s| s.epoch()))
            .sum();
        summary.pruning = Some(summary::PruningSummary {
            spec: config.prune.map(|h| h.to_string()).unwrap_or_default(),
            rate_epochs: runs.iter().map(|(_, r)| r.len()).sum(),
            rate_epochs_unpruned: unpruned,
            kept_for_side: replay.kept_for_side,
            // Each group's side (named where there are several groups).
            refinement: {
                let several = sides.len() > 1;
                let each: Vec<String> = sides
                    .iter()
                    .filter_map(|(group, listed, side)| {
                        let evidence = refine::side_evidence(listed, side)?;
                        Some(match several {
                            true => format!("{}: {evidence}", group.name()),
                            false => evidence,
                        })
                    })
                    .collect();
                (!each.is_empty()).then(|| each.join("; "))
            },
        });
    }
    summary.data = config.data.user.as_ref().map(|user| {
        let d = &record.data;
        summary::DataSummary {
            name: user.path.display().to_string(),
            task: d.task,
            label_column: d.label_column.clone(),
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
