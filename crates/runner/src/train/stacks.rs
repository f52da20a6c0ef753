//! Training a segment of a round: its members spread over the devices (member k to device
//! k mod n, each device's share trained by a thread of its own), each device's share as one
//! stack per batch size and network (one member after another with `--serial`), every epoch persisted by
//! the members' sinks, and what they trained handed back to the round.

use anyhow::{Context as _, Result};
use lrsweep_data::Split;
use lrsweep_model::{EpochRecord, Member as FitMember, StackFit};

use super::persist::EpochSink;
use super::survey::Member;
use crate::analysis::status::{Activity, Worker};
use crate::backend::Selected;
use crate::config::Arm;
use crate::interrupt;
use crate::render::progress::Progress;
use crate::results::{LiveReport, Standing};
use crate::store::checkpoint::Checkpoint;
use crate::store::claim;
use crate::store::layout::RunLayout;
use crate::store::run::RunRecord;
use crate::track::mlflow::Tracker;

/// What a segment trains with: the run, its layout and data, the devices and progress.
pub(super) struct Context<'a> {
    pub(super) record: &'a RunRecord,
    pub(super) layout: &'a RunLayout,
    pub(super) split: &'a Split,
    pub(super) devices: &'a [Selected],
    pub(super) progress: &'a Progress,
    /// The live report, when the sweep keeps one.
    pub(super) live: Option<&'a LiveReport>,
    /// The round's number (1: listed rates, 2: refined), for the live report.
    pub(super) round: usize,
    /// The MLflow tracker, with `--mlflow`.
    pub(super) tracker: Option<&'a Tracker>,
}

/// What one member trained in a stack: its records, and the checkpoint after the last epoch
/// (none when it trained none).
type Outcome = (Vec<EpochRecord>, Option<Checkpoint>);

/// Trains the members `train` of a round of `arms` until `until` (a rung) or their end, and
/// writes what they trained back into `members`.
pub(super) fn train(
    cx: &Context,
    arms: &[Arm],
    members: &mut [Member],
    train: &[usize],
    until: Option<usize>,
) -> Result<()> {
    let config = &cx.record.config;
    let n = cx.devices.len().min(train.len()).max(1);
    // Members of one batch size and network next to each other, so that each device's share
    // of them trains as one stack.
    let mut pending = train.to_vec();
    let (sizes, networks) = (config.sizes(), config.networks());
    pending.sort_by_key(|&i| {
        let group = members[i].unit.arm.group;
        let size = config.batch_of(group);
        (
            sizes.iter().position(|&s| s == size),
            networks.iter().position(|n| *n == group.network),
        )
    });
    announce(cx, arms, members, &pending, n);
    let mut shares: Vec<Vec<usize>> = (0..n).map(|_| Vec::new()).collect();
    for (k, i) in pending.into_iter().enumerate() {
        shares[k % n].push(i);
    }
    let view: &[Member] = members;
    // A device's share: a stack per batch size and network (sizes differ in their batches,
    // networks in their layers), or with --serial one member after another.
    let share = |ids: &[usize], d: usize| -> Result<Vec<(usize, Outcome)>> {
        let key = |i: &usize| {
            let group = view[*i].unit.arm.group;
            (config.batch_of(group), group.network)
        };
        let stacks: Vec<&[usize]> = match config.exec.serial {
            true => ids.chunks(1).collect(),
            false => ids.chunk_by(|a, b| key(a) == key(b)).collect(),
        };
        let mut all = Vec::with_capacity(ids.len());
        for stack in stacks {
            if interrupt::requested() {
                break;
            }
            let outcomes = train_stack(cx, view, stack, d, until)?;
            all.extend(stack.iter().copied().zip(outcomes));
        }
        Ok(all)
    };
    let trained: Vec<Result<Vec<(usize, Outcome)>>> = if n == 1 {
        vec![share(&shares[0], 0)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .iter()
                .enumerate()
                .map(|(d, ids)| scope.spawn(move || share(ids, d)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(anyhow::anyhow!("a device's worker thread panicked"))
                    })
                })
                .collect()
        })
    };
    let rule = cx.record.stop_rule();
    for result in trained {
        for (i, (records, checkpoint)) in result? {
            let m = &mut members[i];
            m.finished = rule.check(&records).is_some();
            m.records = records;
            if checkpoint.is_some() {
                m.resume = checkpoint;
            }
        }
    }
    Ok(())
}

/// Says on the progress display which members train now, how, and where they stand in the
/// run (numbered by their place in it: listed first, refined after).
fn announce(cx: &Context, arms: &[Arm], members: &[Member], pending: &[usize], devices: usize) {
    let (record, config) = (cx.record, &cx.record.config);
    let labels: Vec<String> = pending
        .iter()
        .map(|&i| members[i].unit.label(config.seed))
        .collect();
    let how = match (devices, config.exec.serial) {
        (1, _) => "together".to_string(),
        (n, false) => format!("over {n} devices, each device's share together"),
        (n, true) => format!("over {n} devices, one after another on each"),
    };
    let first = arms.first().copied();
    let seeds = config.seeds().len();
    let before = seeds
        * record
            .rates_trained
            .iter()
            .position(|r| Some(*r) == first)
            .unwrap_or_default();
    let total = seeds
        * (config.listed_arms().len() + config.refine * config.groups().len())
            .max(record.rates_trained.len());
    cx.progress
        .start_round(&labels, &how, before, total, config.epochs);
}

/// Who trains on device `d`.
fn worker(cx: &Context, d: usize) -> Worker {
    claim::worker_here(&cx.devices[d.min(cx.devices.len() - 1)].adapter)
}

/// Trains the members `ids` (of one batch size) as one stack on device `d` until `until`;
/// what each trained, in order. Each member's `status.json` says what happened to it.
fn train_stack(
    cx: &Context,
    members: &[Member],
    ids: &[usize],
    d: usize,
    until: Option<usize>,
) -> Result<Vec<Outcome>> {
    let (record, config) = (cx.record, &cx.record.config);
    let selected = &cx.devices[d];
    let worker = worker(cx, d);
    let mut sinks = Vec::with_capacity(ids.len());
    for &i in ids {
        let m = &members[i];
        sinks.push(EpochSink::open(
            record,
            cx.layout.member(m.unit),
            m.unit,
            m.resume.as_ref(),
            cx.progress,
            worker.clone(),
        )?);
    }
    let labels: Vec<&str> = sinks.iter().map(|s| s.label.as_str()).collect();
    let what = format!("training learning rates {}", labels.join(", "));
    let group = members[ids[0]].unit.arm.group;
    let model = record.model_of(members[ids[0]].unit.arm);
    let train = config.train(group, selected);
    let fit_members = ids
        .iter()
        .map(|&i| {
            let m = &members[i];
            FitMember {
                resume: m.resume.as_ref().map(|c| (&c.state, c.records.clone())),
                ..FitMember::fresh(config.effective_rate(m.unit.arm))
                    .seeded(m.unit.seed)
                    .scheduled(m.unit.arm.group.schedule)
                    .optimized(config.optimizer_of(m.unit.arm.group))
            }
        })
        .collect();
    let mut fit = StackFit::new(
        &model,
        &train,
        &cx.split.train,
        &cx.split.valid,
        &selected.device,
        fit_members,
    )
    .interrupt(interrupt::flag());
    if let Some(epoch) = until {
        fit = fit.until(epoch);
    }
    let trained = fit
        .run(|id, epoch, member| {
            let flow = sinks[id].on_epoch(epoch, member);
            if let Some(tracker) = cx.tracker {
                let unit = members[ids[id]].unit;
                tracker.epoch(unit, cx.layout.member(unit).name(), epoch);
                for line in tracker.said() {
                    cx.progress.println(&line);
                }
            }
            if let (Some(live), true) = (cx.live, member.is_last()) {
                let at = Standing {
                    round: cx.round,
                    epoch: epoch.epoch,
                    left: cx.progress.left(epoch.epoch, epoch.seconds, config.epochs),
                };
                if let Some(warning) = live.update(cx.layout.root(), record, at) {
                    cx.progress.println(&warning);
                }
            }
            flow
        })
        .context(what);
    let failure = match &trained {
        Err(_) => None,
        Ok(_) => sinks.iter_mut().find_map(|sink| {
            sink.error
                .take()
                .map(|e| e.context(format!("saving learning rate {}", sink.label)))
        }),
    };
    let result = match failure {
        Some(e) => Err(e),
        None => trained.map(|_| ()),
    };
    let (activity, reason) = match &result {
        Err(e) => (Some(Activity::Failed), Some(format!("{e:#}"))),
        Ok(()) if interrupt::requested() => (Some(Activity::Interrupted), None),
        Ok(()) => (None, None),
    };
    if let Some(activity) = activity {
        for sink in sinks.iter().filter(|s| !s.stopped()) {
            let _ = sink.report(activity, reason.clone());
        }
    }
    result?;
    Ok(sinks.into_iter().map(EpochSink::into_trained).collect())
}
