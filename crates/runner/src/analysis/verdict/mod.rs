//! The reading of one rate's curves: a verdict — diverged, not moving, unstable, overfitting,
//! still improving or fits — with a sentence giving the evidence and the noise it was read
//! against. The rules, with the numbers they use (the README says the same):
//!
//! - **noise** ([`noise`]): each epoch records the standard error of its validation loss (the
//!   spread of the items' losses over the validation set, `√(s²/n)`); records of older
//!   versions, which keep none, are read against an estimate from the curve's second
//!   differences (a smooth, even decelerating, curve is not taken for noise).
//! - **diverged**: a loss NaN or infinite; or the last epochs show a hopeless member
//!   ([`Hopeless`], the model crate's rule the training loop stops on): the validation loss
//!   above 1.5 × a uniform guess's (`ln C`), or, after the first epoch, the training loss not
//!   falling by 1% over the window while it stays above `ln C` or the validation accuracy stays
//!   at chance. The window is the last 3 epochs ([`SETTLE_EPOCHS`]). A slow rate (training
//!   loss below `ln C`, or falling) is never diverged, nor one whose accuracy stayed far above
//!   chance.
//! - **not moving**: hopeless by a loss that does not fall, the training loss within 1% of
//!   epoch 1's at every epoch: the rate is too small (or the network too narrow): try larger
//!   rates.
//! - **unstable**: the validation loss above 1.5 × `ln C` over the last epochs while the
//!   accuracy is far above chance ([`Hopeless::far_above_chance`]): it learned, but its
//!   predictions are overconfident and its loss spikes; a smaller rate is steadier. Never
//!   stopped as hopeless.
//! - **overfitting**: at least [`MIN_AFTER`] epochs after its minimum, the validation loss
//!   rose from it beyond [`SIGMAS`] standard errors of the minimum's epoch (three deviations
//!   of an estimated noise) and by more than [`MIN_RISE`] of it, while the training loss kept
//!   falling.
//! - **still improving**: fewer than 3 epochs; or the minimum in the last [`TAIL`] of the run
//!   (at least the last 2 epochs) with the loss still falling over the last [`TREND`] epochs by
//!   more than [`SIGMAS`] × the noise of that difference: "train longer", with an estimate of how long only when
//!   at least [`FIT_GAINS`] falling epochs can be fitted (their gains as a geometric decay);
//!   or a curve that has not yet stayed within its noise for [`SETTLED`] epochs.
//! - **fits**: the rest: the loss found its minimum and stayed within its noise for at least
//!   [`SETTLED`] epochs.
//!
//! Every learned curve also gets its **stop epoch** by the one-standard-error rule: the
//! earliest epoch whose validation loss is within one standard error of the minimum.

mod noise;

pub use noise::{Noise, Source};

use lrsweep_model::{Cause, EpochRecord, Hopeless, FALLING, SETTLE_EPOCHS, WORSE_THAN_GUESSING};
use serde::{Deserialize, Serialize};

use noise::one_se_index;

/// Epochs after the minimum before a rise can count as overfitting.
pub const MIN_AFTER: usize = 2;
/// A change counts when beyond this many standard errors (about 95% when the noise is normal).
pub const SIGMAS: f64 = 2.0;
/// A rise counts when above this share of the minimum, too.
pub const MIN_RISE: f64 = 0.01;
/// The share of the run whose last epochs hold a still-improving minimum.
pub const TAIL: f64 = 0.1;
/// Epochs over which a still-improving trend is read.
pub const TREND: usize = 5;
/// Epochs a curve must have stayed within its noise of its minimum to have settled ("fits").
pub const SETTLED: usize = 3;
/// Falling epochs (their gains) an estimate of how long to train needs at least.
pub const FIT_GAINS: usize = 5;
/// A falling curve has levelled off when the gain still to come is under this share of its loss.
pub const LEVELLED: f64 = 0.01;

/// What the curves say about a rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It will not learn: NaN or infinite losses, or hopeless curves.
    Diverged,
    /// It does not learn because it barely moves: hopeless curves that stayed flat from the
    /// first epoch where an untrained network starts (a rate too small, or a network too
    /// narrow).
    NotMoving,
    /// It learned (accuracy far above chance) but its loss is worse than guessing: too high a
    /// rate, overconfident, spiking.
    Unstable,
    /// Validation loss rose after its minimum beyond its noise while training loss fell.
    Overfitting,
    /// Still getting better at the last epoch: train longer.
    StillImproving,
    /// Found its minimum and stayed there.
    Fits,
    /// Ranked out at a rung of `--prune` (its curve until then in the evidence).
    Pruned,
}

impl Verdict {
    /// Whether the rate learned: neither diverged nor not moving. Only such rates are ranked,
    /// recommended and refined around.
    pub fn learned(self) -> bool {
        !matches!(self, Verdict::Diverged | Verdict::NotMoving)
    }

    /// The verdict as people read it: `still improving`.
    pub fn display(self) -> &'static str {
        match self {
            Verdict::StillImproving => "still improving",
            Verdict::NotMoving => "not moving",
            other => other.name(),
        }
    }

    /// The verdict's name as `summary.json` writes it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Diverged => "diverged",
            Verdict::NotMoving => "not_moving",
            Verdict::Unstable => "unstable",
            Verdict::Overfitting => "overfitting",
            Verdict::StillImproving => "still_improving",
            Verdict::Fits => "fits",
            Verdict::Pruned => "pruned",
        }
    }
}

/// A verdict with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence with the evidence (and the noise it was read against).
    pub reason: String,
    /// Overfitting: the epoch to stop at (by the one-standard-error rule).
    pub stop_at: Option<usize>,
    /// The epoch to stop at by the one-standard-error rule: the earliest within one standard
    /// error of the minimum (none without a finite loss).
    pub stop_epoch: Option<usize>,
    /// The standard error of the validation loss at its minimum (NaN when unknown).
    pub min_se: f64,
    /// Still improving: about how many more epochs would help, when it can be estimated.
    pub more_epochs: Option<usize>,
}

/// Reads `records` (one rate's epochs, in order) of a run whose data makes members hopeless as
/// `hopeless` says (its class count and validation size); `reach` is the rate's [`reach`] on
/// that run, when known.
pub fn read(records: &[EpochRecord], hopeless: &Hopeless, reach: Option<f64>) -> Reading {
    let reading = |verdict, reason: String| Reading {
        verdict,
        reason,
        stop_at: None,
        stop_epoch: None,
        min_se: f64::NAN,
        more_epochs: None,
    };
    if records.is_empty() {
        return reading(Verdict::StillImproving, "no epoch finished yet".to_string());
    }
    if let Some(bad) = records.iter().find(|r| r.diverged()) {
        return reading(
            Verdict::Diverged,
            format!("a loss became NaN or infinite at epoch {}", bad.epoch),
        );
    }
    let n = records.len();
    let windows = [SETTLE_EPOCHS.min(n), SETTLE_EPOCHS.min(n.saturating_sub(1))];
    if let Some((window, cause)) = windows
        .into_iter()
        .filter(|&w| w > 0)
        .find_map(|w| hopeless.judge(records, w).map(|c| (w, c)))
    {
        let first = records[n - window].epoch;
        let last = records[n - 1].epoch;
        let span = if first == last {
            format!("at epoch {last}")
        } else {
            format!("over epochs {first}–{last}")
        };
        if let Some(flat) = not_moving(records, cause, hopeless, reach) {
            return reading(Verdict::NotMoving, flat);
        }
        return reading(Verdict::Diverged, format!("{} {span}", cause.describe()));
    }
    let val: Vec<f64> = records.iter().map(|r| r.val_loss).collect();
    let (m, min) =
        val.iter().copied().enumerate().fold(
            (0, f64::INFINITY),
            |b, (i, v)| if v < b.1 { (i, v) } else { b },
        );
    let min_epoch = records[m].epoch;
    let noise = Noise::of(records, hopeless.valid_len);
    let se_min = noise.se(m);
    let first_within = one_se_index(&val, m, min, &noise);
    let stop_epoch = records[first_within].epoch;
    let located = |verdict, reason: String| Reading {
        stop_epoch: Some(stop_epoch),
        min_se: match noise.source {
            Source::Recorded { .. } => se_min,
            Source::Estimated => f64::NAN,
        },
        ..reading(verdict, reason)
    };
    if let Some(unstable) = unstable(records, hopeless) {
        return located(Verdict::Unstable, unstable);
    }
    if n < 3 {
        return located(
            Verdict::StillImproving,
            format!(
                "{n} epoch{} too few to read a trend (validation loss {:.4}); train longer",
                if n == 1 { " is" } else { "s are" },
                val[n - 1]
            ),
        );
    }
    let last = records[n - 1];
    let rise = last.val_loss - min;
    let band_min = noise.sigmas() * se_min;
    let train_fell = last.train_loss < records[m].train_loss;
    let at_stop = if stop_epoch < min_epoch {
        format!(
            "stop at epoch {stop_epoch}; the minimum at epoch {min_epoch} is within noise of it"
        )
    } else {
        format!("stop at epoch {stop_epoch}")
    };
    if n - 1 - m >= MIN_AFTER && rise > band_min && rise > MIN_RISE * min && train_fell {
        return Reading {
            stop_at: Some(stop_epoch),
            ..located(
                Verdict::Overfitting,
                format!(
                    "validation loss rose by {rise:.4} from its minimum {min:.4} at epoch {min_epoch} to {:.4} at epoch {} (noise {}) while the training loss fell from {:.4} to {:.4}; {at_stop}",
                    last.val_loss,
                    last.epoch,
                    noise.describe(se_min),
                    records[m].train_loss,
                    last.train_loss
                ),
            )
        };
    }
    let tail = ((n as f64 * TAIL).ceil() as usize).max(2);
    let k = TREND.min(n - 1);
    let drop = val[n - 1 - k] - val[n - 1];
    let drop_noise = noise.of_difference(n - 1 - k, n - 1);
    if m + tail >= n && drop > noise.sigmas() * drop_noise {
        let (more, estimate) = how_long(&val, n);
        return Reading {
            more_epochs: more,
            ..located(
                Verdict::StillImproving,
                format!(
                    "validation loss still falling at the last epoch ({:.4}, down {drop:.4} over the last {k} epochs, beyond its noise {}): train longer{estimate}",
                    val[n - 1],
                    noise.describe(drop_noise)
                ),
            )
        };
    }
    let settled = n - first_within;
    if settled >= SETTLED {
        return located(
            Verdict::Fits,
            format!(
                "validation loss reached {min:.4} at epoch {min_epoch} and stayed within its noise ({}) over the last {settled} epochs (rise {rise:.4}); {at_stop}",
                noise.describe(se_min)
            ),
        );
    }
    located(
        Verdict::StillImproving,
        format!(
            "validation loss {:.4} at epoch {} has been within its noise ({}) of its minimum {min:.4} for {settled} epoch{} only, too few to tell whether it has settled: train a few more epochs",
            val[n - 1],
            last.epoch,
            noise.describe(se_min),
            if settled == 1 { "" } else { "s" }
        ),
    )
}

/// About how many more epochs a falling curve (validation losses `val`, `n` epochs) needs,
/// and the words for it: an estimate only where at least [`FIT_GAINS`] falling epochs end the
/// curve, said with how many were fitted.
fn how_long(val: &[f64], n: usize) -> (Option<usize>, String) {
    let gains: Vec<f64> = val.windows(2).map(|w| w[1] - w[0]).collect();
    let falling = gains.iter().rev().take_while(|d| **d < 0.0).count();
    if falling < FIT_GAINS {
        return (
            None,
            format!(
                ", but too few falling epochs in a row ({falling}; an estimate needs {FIT_GAINS}) to say how long"
            ),
        );
    }
    let fitted = &gains[gains.len() - falling.min(3 * TREND)..];
    match more_epochs(fitted, val[n - 1], n) {
        Some(k) => (
            Some(k),
            format!(
                ", about {k} more epoch{} until it levels off (a geometric fit to the last {} epochs' gains)",
                if k == 1 { "" } else { "s" },
                fitted.len()
            ),
        ),
        None => (
            Some(n),
            format!(
                ", at least as many epochs again ({n}): its last {} epochs' gains are not shrinking",
                fitted.len()
            ),
        ),
    }
}

/// The reason a member is unstable, if it is: over the last epochs (up to [`SETTLE_EPOCHS`])
/// its validation loss stayed above [`WORSE_THAN_GUESSING`] × `ln C` while its validation
/// accuracy stayed far above chance.
fn unstable(records: &[EpochRecord], hopeless: &Hopeless) -> Option<String> {
    let n = records.len();
    let window = SETTLE_EPOCHS.min(n);
    let recent = &records[n - window..];
    let uniform = hopeless.uniform();
    let bad = recent.iter().all(|r| {
        r.val_loss > WORSE_THAN_GUESSING * uniform && hopeless.far_above_chance(r.val_acc)
    });
    let last = recent.last()?;
    bad.then(|| match hopeless.guess {
        Some(_) => format!(
            "validation loss {:.4} above {WORSE_THAN_GUESSING} × predicting the mean's {uniform:.3} while its R² {:.3} is far above 0: it learned, but its predictions swing and its loss spikes; a smaller rate would be steadier",
            last.val_loss, last.val_acc
        ),
        None => format!(
            "validation loss {:.4} above {WORSE_THAN_GUESSING} × a uniform guess's {uniform:.3} while its accuracy {:.3} is far above chance ({:.3}): it learned, but its predictions are overconfident and its loss spikes; a smaller rate would be steadier",
            last.val_loss,
            last.val_acc,
            hopeless.chance()
        ),
    })
}

/// The reason a hopeless member is not moving, if it is: its hopelessness is a loss that does
/// not fall (above `ln C`, or at chance accuracy), not one worse than guessing; and its training
/// loss never left epoch 1's by more than [`FALLING`] (1%), at most [`WORSE_THAN_GUESSING`] ×
/// `ln C` — where an untrained network starts, near a uniform guess. A rate that diverged
/// jumps away from that start (to the clip's 14.5 on MNIST, or about): it is not flat from
/// epoch 1, or not there. And its [`reach`] is under 1: a rate that could move each weight by
/// more than its initial scale in one epoch did move it, so a flat curve there is a collapse.
fn not_moving(
    records: &[EpochRecord],
    cause: Cause,
    hopeless: &Hopeless,
    reach: Option<f64>,
) -> Option<String> {
    if !matches!(cause, Cause::AboveUniform { .. } | Cause::AtChance { .. })
        || reach.is_some_and(|r| r >= 1.0)
    {
        return None;
    }
    let uniform = hopeless.uniform();
    let (first, last) = (records.first()?, records.last()?);
    let moved = records
        .iter()
        .map(|r| (r.train_loss - first.train_loss).abs())
        .fold(0.0f64, f64::max);
    let flat = moved <= FALLING * first.train_loss
        && records
            .iter()
            .all(|r| r.train_loss <= WORSE_THAN_GUESSING * uniform);
    flat.then(|| {
        format!(
            "training loss {:.4} at epoch {} {} of epoch 1's {:.4}, near {} {uniform:.3} (validation {} {:.3}): the weights barely move; the rate is too small (or the network too narrow to learn): try larger rates",
            last.train_loss,
            last.epoch,
            match 100.0 * moved / first.train_loss {
                pct if pct < 0.01 => "within 0.01%".to_string(),
                pct => format!("within {pct:.2}%"),
            },
            first.train_loss,
            match hopeless.guess {
                Some(_) => "predicting the mean's",
                None => "a uniform guess's",
            },
            match hopeless.guess {
                Some(_) => "R²",
                None => "accuracy",
            },
            last.val_acc
        )
    })
}

/// How far, at most, a rate moves a weight in one epoch, in units of the weights' initial
/// scale: Adam's step is about the rate in each weight whatever the gradient's size, so `rate ×
/// steps per epoch / init std`. Under 1 a rate cannot have moved the network far from its
/// start in an epoch; well over 1 it could have, many times.
pub fn reach(rate: f64, steps_per_epoch: usize, init_std: f64) -> f64 {
    rate * steps_per_epoch as f64 / init_std
}

/// Epochs until a falling curve (last per-epoch gains `diffs`, negative; last value `loss`)
/// levels off, if its gains shrink geometrically (`|dₖ| = |d|·rᵏ`, `r` fitted by least squares
/// on `ln |d|`): the first `k` with `|d|·rᵏ·r/(1−r)` under [`LEVELLED`] × `loss`. `None` when
/// the gains do not shrink (r ≥ 0.99) or a gain is not a fall.
fn more_epochs(diffs: &[f64], loss: f64, trained: usize) -> Option<usize> {
    if diffs.len() < 2 || diffs.iter().any(|d| d.is_nan() || *d >= 0.0) {
        return None;
    }
    let ys: Vec<f64> = diffs.iter().map(|d| d.abs().ln()).collect();
    let n = ys.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        sxy += (i as f64 - mean_x) * (y - mean_y);
        sxx += (i as f64 - mean_x).powi(2);
    }
    let r = (sxy / sxx).exp();
    let last = diffs.last()?.abs();
    if !(r > 0.0 && r < 0.99 && loss > 0.0) {
        return None;
    }
    let to_come = |k: f64| last * r.powf(k) * r / (1.0 - r);
    if to_come(0.0) < LEVELLED * loss {
        return Some(1);
    }
    let k = ((LEVELLED * loss * (1.0 - r) / (last * r)).ln() / r.ln()).ceil();
    (k.is_finite() && k >= 1.0).then(|| (k as usize).min(10 * trained.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNIST: Hopeless = Hopeless {
        classes: 10,
        valid_len: 10_500,
        guess: None,
    };

    /// A curve of an older version's records (no standard errors), learned (accuracy 0.9).
    fn curve(
        train: impl Fn(usize) -> f64,
        val: impl Fn(usize) -> f64,
        n: usize,
    ) -> Vec<EpochRecord> {
        at_accuracy(train, val, n, 0.9)
    }

    /// The same at validation accuracy `acc` (0.1: chance on ten classes).
    fn at_accuracy(
        train: impl Fn(usize) -> f64,
        val: impl Fn(usize) -> f64,
        n: usize,
        acc: f64,
    ) -> Vec<EpochRecord> {
        (1..=n)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: train(e),
                train_acc: acc,
                val_loss: val(e),
                val_acc: acc,
                seconds: 1.0,
                lr: 1e-3,
                val_loss_se: f64::NAN,
                val_rmse: f64::NAN,
                val_mae: f64::NAN,
            })
            .collect()
    }

    /// A deterministic pseudo-random wobble in [-1, 1] (a splitmix64 hash of the epoch).
    fn wobble(e: usize) -> f64 {
        let mut x = (e as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        x ^= x >> 30;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^= x >> 27;
        (x % 2001) as f64 / 1000.0 - 1.0
    }

    #[test]
    fn slow_rates_are_never_diverged_and_one_epoch_says_train_longer() {
        // The quick run: 1e-5 at 2.33 after one epoch on 1,000 images.
        let one = curve(|_| 2.33, |_| 2.29, 1);
        let r = read(&one, &MNIST, None);
        assert_eq!(r.verdict, Verdict::StillImproving, "{r:?}");
        assert!(r.reason.contains("too few"));
        let slow = curve(|e| 2.3 - 0.02 * e as f64, |e| 2.28 - 0.02 * e as f64, 10);
        assert_eq!(read(&slow, &MNIST, None).verdict, Verdict::StillImproving);
    }

    #[test]
    fn stuck_and_exploding_rates_are_diverged() {
        let stuck = at_accuracy(|_| 14.5, |_| 14.5, 10, 0.1);
        let r = read(&stuck, &MNIST, None);
        assert_eq!(r.verdict, Verdict::Diverged);
        assert!(r.reason.contains("over epochs 8–10"), "{}", r.reason);
        let exploding = at_accuracy(|_| 547_239.0, |_| 12.79, 1, 0.11);
        assert_eq!(read(&exploding, &MNIST, None).verdict, Verdict::Diverged);
        let nan = curve(|e| if e == 3 { f64::NAN } else { 1.0 }, |_| 1.0, 4);
        assert!(read(&nan, &MNIST, None).reason.contains("epoch 3"));
        // At the uniform guess, flat and noisy, at a rate that could move each weight far: a
        // collapse, diverged.
        let flat = at_accuracy(
            |e| 2.3035 + 0.0005 * wobble(e),
            |e| 2.3027 + 0.0003 * wobble(e),
            12,
            0.1,
        );
        let far = Some(reach(1e-1, 233, 0.05));
        assert_eq!(read(&flat, &MNIST, far).verdict, Verdict::Diverged);
    }

    #[test]
    fn a_rate_too_small_to_move_is_not_moving_not_diverged() {
        // The issue's --rates 1e-10: 2.3826 at every epoch, accuracy 0.073.
        let still = |e: usize| 2.3826 + 1e-6 * wobble(e);
        let stalled = at_accuracy(still, |e| 2.3443 + 1e-6 * wobble(e), 4, 0.073);
        let tiny = Some(reach(1e-10, 4, 0.05));
        for r in [tiny, None] {
            let reading = read(&stalled, &MNIST, r);
            assert_eq!(reading.verdict, Verdict::NotMoving, "{reading:?}");
            assert!(
                reading.reason.contains("try larger rates"),
                "{}",
                reading.reason
            );
            assert!(!reading.verdict.learned());
        }
        assert_eq!(Verdict::NotMoving.name(), "not_moving");
        // Saturated at the clip: worse than guessing, diverged however small the rate.
        assert_eq!(
            read(&at_accuracy(|_| 14.5, |_| 14.5, 6, 0.1), &MNIST, tiny).verdict,
            Verdict::Diverged
        );
        // Moved more than 1% from epoch 1 before going flat above ln C: not a stall.
        let jumped = at_accuracy(|e| if e == 1 { 2.9 } else { 2.7 }, |_| 2.7, 6, 0.1);
        assert_eq!(read(&jumped, &MNIST, tiny).verdict, Verdict::Diverged);
        // The same flat curve where the rate could move each weight 20 times its scale.
        assert_eq!(
            read(&stalled, &MNIST, Some(reach(1e-3, 1000, 0.05))).verdict,
            Verdict::Diverged
        );
        // Reach: 1e-3 for 233 steps is 4.7 initial scales of 0.05.
        assert!((reach(1e-3, 233, 0.05) - 4.66).abs() < 1e-9);
    }

    #[test]
    fn a_real_rise_is_overfitting_and_noise_is_not() {
        // Minimum 0.06 at epoch 8, then a steady rise to 0.12 while training loss falls.
        let val = |e: usize| {
            if e <= 8 {
                0.3 - 0.03 * e as f64
            } else {
                0.06 + 0.003 * (e - 8) as f64 + 0.0005 * wobble(e)
            }
        };
        let over = curve(|e| 0.3 / e as f64, val, 28);
        let r = read(&over, &MNIST, None);
        assert_eq!(r.verdict, Verdict::Overfitting, "{r:?}");
        assert_eq!(r.stop_at, Some(8));
        assert!(r.reason.contains("stop at epoch 8"));
        // The README's example: a rise of 0.0004 within a jitter of about as much: fits.
        let noisy = curve(
            |e| 0.3 / e as f64,
            |e| {
                if e <= 8 {
                    0.3 - 0.03 * e as f64
                } else {
                    0.0605 + 0.0006 * wobble(e)
                }
            },
            28,
        );
        let r = read(&noisy, &MNIST, None);
        assert_eq!(r.verdict, Verdict::Fits, "{r:?}");
        // A rise while training loss rises too is not overfitting.
        let both = curve(|e| 0.1 + 0.01 * e as f64, val, 28);
        assert_ne!(read(&both, &MNIST, None).verdict, Verdict::Overfitting);
    }

    #[test]
    fn a_minimum_at_the_end_of_a_falling_curve_says_train_longer_with_an_estimate() {
        // The reference's 1e-5: still falling at epoch 150, its gains shrinking by 2% an epoch.
        let val = |e: usize| 0.1 + 2.0 * 0.98f64.powi(e as i32) + 0.0001 * wobble(e);
        let r = read(&curve(|e| val(e) - 0.01, val, 150), &MNIST, None);
        assert_eq!(r.verdict, Verdict::StillImproving, "{r:?}");
        assert!(r.reason.contains("train longer"), "{}", r.reason);
        assert!(r.more_epochs.is_some());
        // A curve that reached its minimum early and then lay flat: fits.
        let flat = curve(
            |_| 0.05,
            |e| {
                if e < 5 {
                    1.0 / e as f64
                } else {
                    0.2 + 0.0001 * wobble(e)
                }
            },
            30,
        );
        assert_eq!(read(&flat, &MNIST, None).verdict, Verdict::Fits);
    }

    /// A curve with each epoch's recorded standard error `se`.
    fn with_se(points: &[(f64, f64)], val: &[f64], se: f64, acc: f64) -> Vec<EpochRecord> {
        points
            .iter()
            .zip(val)
            .enumerate()
            .map(|(i, (&(train, train_acc), &v))| EpochRecord {
                epoch: i + 1,
                train_loss: train,
                train_acc,
                val_loss: v,
                val_acc: acc,
                seconds: 1.0,
                lr: 1e-3,
                val_loss_se: se,
                val_rmse: f64::NAN,
                val_mae: f64::NAN,
            })
            .collect()
    }

    /// Issue 32: `--limit 10000 --epochs 10 … --batch-size 1024`: 0.0003 falls every epoch,
    /// its minimum at the last: still improving, never "fits", and no jitter quoted.
    #[test]
    fn a_curve_falling_at_its_last_epoch_is_still_improving() {
        let val = [1.48, 0.96, 0.72, 0.58, 0.49, 0.43, 0.39, 0.36, 0.336, 0.320];
        let train: Vec<(f64, f64)> = val.iter().map(|v| (v * 1.05, 0.8)).collect();
        for se in [0.012, f64::NAN] {
            let curve = with_se(&train, &val, se, 0.9);
            let r = read(
                &curve,
                &Hopeless {
                    classes: 10,
                    valid_len: 1500,
                    guess: None,
                },
                None,
            );
            assert_eq!(r.verdict, Verdict::StillImproving, "se {se}: {r:?}");
            assert!(r.reason.contains("train longer"), "{}", r.reason);
            assert!(!r.reason.contains("jitter"), "{}", r.reason);
            // Nine falling epochs: enough to fit, and said so.
            assert!(r.more_epochs.is_some(), "{r:?}");
            assert!(
                r.reason.contains("geometric fit to the last"),
                "{}",
                r.reason
            );
        }
        // Three epochs, falling: too few to estimate how long.
        let short = with_se(&train[..3], &val[..3], 0.012, 0.9);
        let r = read(
            &short,
            &Hopeless {
                classes: 10,
                valid_len: 1500,
                guess: None,
            },
            None,
        );
        assert_eq!(r.verdict, Verdict::StillImproving);
        assert!(
            r.more_epochs.is_none() && r.reason.contains("too few falling epochs"),
            "{r:?}"
        );
    }

    /// A curve near its minimum for two epochs only: no noise is read from a one-point slice
    /// after the minimum, and it is not "fits" before it has stayed within its noise a while.
    #[test]
    fn two_epochs_near_the_minimum_are_too_few_to_have_settled() {
        let val = [
            0.9, 0.6, 0.5, 0.46, 0.4350, 0.4345, 0.4352, 0.4348, 0.4330, 0.4320,
        ];
        let train: Vec<(f64, f64)> = val.iter().map(|v| (v * 0.9, 0.8)).collect();
        let curve = with_se(&train, &val, 0.002, 0.9);
        let r = read(&curve, &MNIST, None);
        assert_eq!(r.verdict, Verdict::StillImproving, "{r:?}");
        assert!(
            r.reason.contains("too few to tell whether it has settled"),
            "{}",
            r.reason
        );
        assert!(!r.reason.contains("jitter"), "{}", r.reason);
        // The same curve on 600 items (a standard error of 0.02): within noise of its minimum
        // since epoch 5, so it fits, stopping at epoch 5 by the one-standard-error rule.
        let curve = with_se(&train, &val, 0.02, 0.9);
        let r = read(
            &curve,
            &Hopeless {
                classes: 10,
                valid_len: 600,
                guess: None,
            },
            None,
        );
        assert_eq!(r.verdict, Verdict::Fits, "{r:?}");
        assert_eq!(r.stop_epoch, Some(5));
        assert!(
            r.reason
                .contains("stop at epoch 5; the minimum at epoch 10 is within noise of it"),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("600 validation items"), "{}", r.reason);
    }

    /// Issue 32: on 27 validation items a rise of 0.0007 is noise, not overfitting.
    #[test]
    fn a_rise_within_a_small_validation_sets_noise_is_not_overfitting() {
        let val = [
            0.30, 0.12, 0.06, 0.041, 0.0412, 0.0413, 0.0415, 0.0416, 0.0417,
        ];
        let train: Vec<(f64, f64)> = (0..9).map(|i| (0.3 / (i + 1) as f64, 1.0)).collect();
        let wine = Hopeless {
            classes: 3,
            valid_len: 27,
            guess: None,
        };
        let r = read(&with_se(&train, &val, 0.015, 1.0), &wine, None);
        assert_ne!(r.verdict, Verdict::Overfitting, "{r:?}");
        assert_eq!(r.verdict, Verdict::Fits, "{r:?}");
        // The same rise on 10,500 items (a standard error of 0.0001) is beyond the noise.
        let r = read(&with_se(&train, &val, 0.0001, 1.0), &MNIST, None);
        assert_eq!(r.verdict, Verdict::Overfitting, "{r:?}");
        assert!(r.reason.contains("10500 validation items"), "{}", r.reason);
    }

    /// Issue 32: breast cancer at 0.1: 93% validation accuracy with an overconfident loss above
    /// 1.5 × ln 2 is unstable, not diverged, and the stop rule does not stop it.
    #[test]
    fn an_accurate_rate_with_a_loss_worse_than_guessing_is_unstable() {
        let bc = Hopeless {
            classes: 2,
            valid_len: 86,
            guess: None,
        };
        let val = [0.45, 0.9, 1.2, 1.05, 1.3, 1.12];
        let train: Vec<(f64, f64)> = (0..6).map(|i| (0.3 - 0.02 * i as f64, 0.96)).collect();
        let curve = with_se(&train, &val, 0.3, 0.93);
        let r = read(&curve, &bc, Some(reach(0.1, 2, 0.05)));
        assert_eq!(r.verdict, Verdict::Unstable, "{r:?}");
        assert!(r.verdict.learned());
        assert!(r.reason.contains("far above chance"), "{}", r.reason);
        let rule = lrsweep_model::StopRule::new(150, None, Some(bc));
        assert_eq!(rule.check(&curve), None, "never stopped as hopeless");
        // At chance the same loss is hopeless.
        let chance = with_se(&train, &val, 0.3, 0.5);
        assert_eq!(read(&chance, &bc, None).verdict, Verdict::Diverged);
    }
}
