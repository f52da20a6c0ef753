//! The summary's sentences: the run's header, the recommendation (or why there is none), the
//! range test's line, the incomplete run's paragraph, what pruning did, the user's data.

use super::format::{and_list, short};
use crate::analysis::range::{verdict, FindResult, RangeAnswer, RangeVerdict};
use crate::analysis::summary::{BestFigures, RateSummary, Summary};
use crate::analysis::verdict::Verdict;
use crate::config::{rate_label, SweepConfig};

/// The line under the summary's title: what ran where.
pub fn run_header(config: &SweepConfig, backend: &str, adapter: &str, trained: &[usize]) -> String {
    let mut schedules = String::new();
    if config.schedules != [lrsweep_model::Schedule::Constant] {
        let specs: Vec<String> = config.schedules.iter().map(|s| s.to_string()).collect();
        schedules = format!(", schedule {}", specs.join(", "));
    }
    if config.warmup > 0 {
        schedules += &format!(" after {} warm-up epochs", config.warmup);
    }
    let networks = config.networks();
    let network = match networks.as_slice() {
        [one] if one.is_reference() => String::new(),
        [one] => format!(", network {}", one.describe()),
        many => format!(
            ", networks {}",
            many.iter()
                .map(|n| n.describe())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let sizes: Vec<String> = config.sizes().iter().map(|s| s.to_string()).collect();
    let mut batch = sizes.join(", ");
    if config.scale_lr != crate::config::ScaleLr::None {
        batch += &format!(" (rates scaled {} from 256)", config.scale_lr);
    }
    let mut optimizers = String::new();
    if config.optimizers != [lrsweep_model::Optimizer::Adam] {
        let specs: Vec<String> = config.optimizers.iter().map(|o| o.to_string()).collect();
        optimizers = format!(", optimizer {}", specs.join(", "));
    }
    if config.convention != lrsweep_model::Convention::Keras {
        optimizers += &format!(" ({} convention)", config.convention);
    }
    if config.weight_decay > 0.0 {
        optimizers += &format!(", weight decay {}", config.weight_decay);
    }
    // With pruning or early stopping (--quick has both), the epochs each rate trained.
    let (lo, hi) = trained
        .iter()
        .fold((usize::MAX, 0), |(lo, hi), &e| (lo.min(e), hi.max(e)));
    let stops = config.prune.is_some() || config.patience.is_some();
    let epochs = match stops && !trained.is_empty() && lo < config.epochs {
        true => format!(
            "up to {} epochs per rate ({} trained: {})",
            config.epochs,
            match lo == hi {
                true => lo.to_string(),
                false => format!("{lo} to {hi}"),
            },
            match (config.prune.is_some(), config.patience) {
                (true, Some(p)) => format!("pruning and patience {p}"),
                (true, None) => "pruning".to_string(),
                (false, Some(p)) => format!("patience {p}"),
                (false, None) => String::new(),
            }
        ),
        false => format!("{} epochs per rate", config.epochs),
    };
    format!(
        "{epochs}, batch {batch}{schedules}{network}{optimizers}, seed {}, {backend} on {adapter}.",
        config.seed
    )
}

/// One line saying what the range test suggests.
pub fn describe_range(result: &FindResult) -> String {
    let with = match result.optimizer {
        lrsweep_model::Optimizer::Adam => String::new(),
        o => format!(" with {o}"),
    };
    match &result.suggestions {
        Some(s) => format!(
            "range test{with} ({} steps{}): valley {}, steep {}, minimum/10 {}",
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
        None => format!("range test{with}: too few steps for a suggestion"),
    }
}

/// The paragraph saying a run is incomplete, when it is: each reason once, with the rates it
/// applies to (`0.001 and 0.01: stopped by a signal after epoch 6; …`).
pub(super) fn incomplete(summary: &Summary) -> Option<String> {
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

/// What the recommended member trains with besides its rate, where that is not the
/// reference's: ` with sgd:0.9 under schedule cosine at batch size 1024 on network (512-256
/// relu)`.
fn how(r: &crate::analysis::summary::Recommendation) -> String {
    let mut parts = Vec::new();
    if r.optimizer != lrsweep_model::Optimizer::Adam {
        parts.push(format!(" with {}", r.optimizer));
    }
    // A schedule or a batch size of its own: both named, as the label names either.
    let sized = r
        .label
        .split(' ')
        .any(|p| p == format!("b{}", r.batch_size));
    if r.schedule != lrsweep_model::Schedule::Constant || sized {
        parts.push(format!(
            " under schedule {} at batch size {}",
            r.schedule, r.batch_size
        ));
    }
    if !r.network.is_reference() {
        parts.push(format!(" on network ({})", r.network.describe()));
    }
    parts.concat()
}

/// The recommendation as a bold lead and the sentence after it.
pub(super) fn recommendation(summary: &Summary) -> (String, String) {
    match &summary.recommended {
        Some(r) if r.label != rate_label(r.rate) => (
            format!(
                "Recommended: learning rate {}{}, stop at epoch {}",
                rate_label(r.rate),
                how(r),
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

/// The range tests' lines: each one's suggestions and how they compare with the sweep's answer
/// for its optimizer.
pub(super) fn range_lines(summary: &Summary) -> Vec<String> {
    let several = summary.range_tests.len() > 1;
    summary
        .range_tests
        .iter()
        .map(|t| range_line(summary, t, several))
        .collect()
}

/// One range test's line.
fn range_line(summary: &Summary, test: &RangeAnswer, several: bool) -> String {
    let t = &test.suggestions;
    let answer = test.compared.as_ref();
    let label = answer.map(|c| c.label.as_str());
    let range = verdict(answer.map(|c| c.rate), t);
    let verdict = match range {
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
    let advice = match (answer, range) {
        (Some(c), RangeVerdict::Differs { .. }) => {
            let why = if t.valley > c.rate {
                "it points higher: in the first 100 batches larger rates cut the loss fastest, \
                 but over the whole run they overfit sooner or diverge"
            } else {
                "it points lower: in the first 100 batches the loss fell fastest at smaller rates, \
                 but over the whole run the sweep's rate reached a lower validation loss"
            };
            format!(
                " Trust the sweep's {}: it trained every rate for real, over up to {} epochs, while the range test is a 100-batch heuristic; {why}.",
                c.label, c.epochs
            )
        }
        _ => String::new(),
    };
    let with = match several || test.optimizer != lrsweep_model::Optimizer::Adam {
        true => format!(" with {}", test.optimizer),
        false => String::new(),
    };
    // With several networks the range test trained the first.
    let on = match summary.networks.is_empty() {
        true => "",
        false => " (on the run's first network)",
    };
    format!(
        "Range test{with}{on}: valley {}, steep {}, minimum/10 {}; {verdict}.{advice}",
        short(t.valley),
        short(t.steep),
        short(t.minimum_10)
    )
}

/// What `--prune` did, in a paragraph: the rate-epochs trained against the unpruned run's,
/// who went on for the refinement's side, and which way the refinement went.
pub(super) fn pruning_line(summary: &Summary) -> Option<String> {
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

/// With several networks or optimizers: how the best rate moved with each from the
/// first's, in sentences (`With 512-256 relu the best rate moved ×2 lower: 0.0005, against
/// 0.001 with 784 relu.`), saying when the first's rate ties with the new best within noise.
pub(super) fn moves_line(figures: &[BestFigures]) -> Option<String> {
    let first = figures.first().filter(|n| n.first)?;
    let others: Vec<_> = figures.iter().filter(|n| n.moved.is_some()).collect();
    if others.is_empty() {
        return None;
    }
    let first_rate = rate_label(first.rate);
    let lines: Vec<String> = others
        .iter()
        .map(|n| {
            let rate = rate_label(n.rate);
            let moved = match n.movement().as_deref() {
                Some("unchanged") | None => format!(
                    "With {} the best rate is {rate}, as with {}.",
                    n.name, first.name
                ),
                Some(m) => format!(
                    "With {} the best rate moved {m}: {rate}, against {first_rate} with {}.",
                    n.name, first.name
                ),
            };
            match n.ties.contains(&first_rate) {
                true => format!(
                    "{moved} {first_rate} ties with it within noise there, so the move is within noise."
                ),
                false => moved,
            }
        })
        .collect();
    Some(lines.join(" "))
}

/// With several optimizers (or networks, `what`): which is best, each at its best rate, and
/// whether its lead over the next is beyond the noise of the two minima (with `--seeds`, the
/// seeds' spread included): `Best optimizer: sgd:0.9 at 0.01 (0.0612 ± 0.0021), ahead of adam
/// at 0.001 (0.0701 ± 0.0020) by 0.0089, beyond their noise (0.0029).`
pub(super) fn lead_line(figures: &[BestFigures], what: &str) -> Option<String> {
    let mut ranked: Vec<&BestFigures> = figures
        .iter()
        .filter(|f| f.min_val_loss.is_finite())
        .collect();
    ranked.sort_by(|a, b| a.min_val_loss.total_cmp(&b.min_val_loss));
    let (best, next) = (ranked.first()?, ranked.get(1)?);
    let noisy = |f: &BestFigures| match f.noise > 0.0 {
        true => format!("{:.4} ± {:.4}", f.min_val_loss, f.noise),
        false => format!("{:.4}", f.min_val_loss),
    };
    let gap = next.min_val_loss - best.min_val_loss;
    let noise = (best.noise.powi(2) + next.noise.powi(2)).sqrt();
    let head = format!(
        "Best {what}: {} at {} ({}, stop at epoch {})",
        best.name,
        rate_label(best.rate),
        noisy(best),
        best.stop_epoch
    );
    Some(match gap > noise {
        true => format!(
            "{head}, ahead of {} at {} ({}) by {gap:.4}, beyond their noise ({noise:.4}).",
            next.name,
            rate_label(next.rate),
            noisy(next)
        ),
        false => format!(
            "{head}; {} at {} ({}) ties with it within their noise ({gap:.4} apart, noise {noise:.4}): either, and the cheaper to train is as good.",
            next.name,
            rate_label(next.rate),
            noisy(next)
        ),
    })
}

/// The user's data in one line: name, items, shape, scale, and each class with its items in
/// training / validation (the first 20 classes, then how many more).
pub(super) fn data_line(summary: &Summary) -> Option<String> {
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
    let label = d
        .label_column
        .as_ref()
        .map_or(String::new(), |l| format!(", label column {l}"));
    if d.task == lrsweep_data::Task::Regression {
        let (train, valid) = d.classes.first().map_or((0, 0), |c| (c.train, c.valid));
        let names: Vec<&str> = d.classes.iter().map(|c| c.name.as_str()).collect();
        return Some(format!(
            "Data: {} — {} items of {shape} features{label}, scale {}; a regression of {} target{} ({}), standardised by the training part; {train} training and {valid} validation items",
            d.name,
            d.items,
            d.scale,
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ));
    }
    Some(format!(
        "Data: {} — {} items of {shape} features{label}, scale {}; {} classes (training/validation items): {classes}",
        d.name,
        d.items,
        d.scale,
        d.classes.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn best(name: &str, rate: f64, loss: f64, noise: f64, first: bool) -> BestFigures {
        BestFigures {
            name: name.to_string(),
            first,
            rate,
            label: rate_label(rate),
            dir: format!("lr-{rate}"),
            min_val_loss: loss,
            noise,
            min_val_loss_epoch: 5,
            stop_epoch: 4,
            best_val_acc: 0.97,
            verdict: "fits".to_string(),
            decay_per_step: None,
            ties: Vec::new(),
            moved: (!first).then(|| rate / 1e-3),
        }
    }

    /// Issue 34: the best optimizer's lead is said to be beyond the noise (the minima's standard
    /// errors and, with `--seeds`, the seeds' spread) only when it is.
    #[test]
    fn the_lead_between_optimizers_is_weighed_against_their_noise() {
        let clear = [
            best("adam", 1e-3, 0.0700, 0.0020, true),
            best("sgd:0.9", 1e-1, 0.0612, 0.0021, false),
        ];
        let line = lead_line(&clear, "optimizer").unwrap();
        assert!(
            line.starts_with("Best optimizer: sgd:0.9 at 0.1 (0.0612 ± 0.0021, stop at epoch 4)")
                && line.contains("ahead of adam at 0.001 (0.0700 ± 0.0020) by 0.0088, beyond their noise (0.0029)"),
            "{line}"
        );
        let close = [
            best("adam", 1e-3, 0.0700, 0.0060, true),
            best("sgd:0.9", 1e-1, 0.0690, 0.0060, false),
        ];
        let line = lead_line(&close, "optimizer").unwrap();
        assert!(line.contains("ties with it within their noise"), "{line}");
        let moves = moves_line(&clear).unwrap();
        assert_eq!(
            moves,
            "With sgd:0.9 the best rate moved ×100 higher: 0.1, against 0.001 with adam."
        );
        assert_eq!(lead_line(&clear[..1], "optimizer"), None);
    }
}
