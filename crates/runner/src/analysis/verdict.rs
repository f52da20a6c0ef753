//! The reading of one rate's curves: a verdict — diverged, overfitting, still improving or fits —
//! with a sentence giving the evidence. The rules, with the numbers they use (the README says
//! the same):
//!
//! - **diverged**: a loss NaN or infinite; or the last epochs show a hopeless member
//!   ([`Hopeless`], the model crate's rule the training loop stops on): the validation loss
//!   above 1.5 × a uniform guess's (`ln C`), or, after the first epoch, the training loss not
//!   falling by 1% over the window while it stays above `ln C` or the validation accuracy stays
//!   at chance (`1/C` ± 3 binomial standard deviations on the validation size). The window is
//!   the last 3 epochs ([`SETTLE_EPOCHS`]; fewer in a shorter run). A slow rate (training loss
//!   below `ln C`, or falling) is never diverged.
//! - **not moving**: hopeless by a loss that does not fall (not by one worse than guessing),
//!   with the training loss within 1% ([`FALLING`]) of epoch 1's at every epoch and at most
//!   1.5 × `ln C`: the network stays where it started. A rate too small (1e-9), or a network
//!   too narrow to learn (`--hidden 1`): try larger rates. In a sweep where a smaller rate
//!   learned, such a curve is a collapse of the larger rate instead, and the summary calls it
//!   diverged.
//! - **overfitting**: at least [`MIN_AFTER`] epochs after its minimum, the validation loss rose
//!   from it by more than its own noise — more than [`NOISE_SIGMAS`] × the jitter of the
//!   validation loss after the minimum (the robust spread of its epoch-to-epoch changes about
//!   their median, so a steady rise is not mistaken for noise), and more than [`MIN_RISE`] of
//!   the minimum — while the training loss kept falling. Judged from the recorded curve, not a
//!   bootstrap of the validation set: the records keep each epoch's mean loss, not each image's.
//!   Stop at the minimum's epoch.
//! - **still improving**: fewer than 3 epochs (too few to read a trend), or the minimum in the
//!   last [`TAIL`] of the run (at least the last 2 epochs) with the validation loss still falling
//!   over the last [`TREND`] epochs by more than its jitter: train longer, with an estimate of
//!   how long: the per-epoch gains fitted as a geometric decay (`|dₖ| ∝ rᵏ`, least squares on
//!   their logarithms), and the epochs until the gain still to come, `|d|·r/(1−r)`, is under
//!   [`LEVELLED`] of the loss.
//! - **fits**: the rest — the validation loss found its minimum and stayed within its noise.

use lrsweep_model::{Cause, EpochRecord, Hopeless, FALLING, SETTLE_EPOCHS, WORSE_THAN_GUESSING};
use serde::{Deserialize, Serialize};

/// Epochs after the minimum before a rise can count as overfitting.
pub const MIN_AFTER: usize = 2;
/// A rise counts when above this many times the validation loss's jitter.
pub const NOISE_SIGMAS: f64 = 3.0;
/// A rise counts when above this share of the minimum, too.
pub const MIN_RISE: f64 = 0.01;
/// The share of the run whose last epochs hold a still-improving minimum.
pub const TAIL: f64 = 0.1;
/// Epochs over which a still-improving trend is read.
pub const TREND: usize = 5;
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
    /// One sentence with the evidence.
    pub reason: String,
    /// Overfitting: the epoch to stop at (the minimum's).
    pub stop_at: Option<usize>,
    /// Still improving: about how many more epochs would help, when it can be estimated.
    pub more_epochs: Option<usize>,
}

/// The median of `values` (NaN when empty).
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The jitter of a series: the standard deviation of its noise, estimated from the spread of
/// its successive changes about their median (1.4826 × MAD turns a median absolute deviation
/// into a standard deviation; a change is the difference of two noisy values, hence √2).
pub fn jitter(values: &[f64]) -> f64 {
    let diffs: Vec<f64> = values.windows(2).map(|w| w[1] - w[0]).collect();
    if diffs.len() < 2 {
        return 0.0;
    }
    let mid = median(diffs.clone());
    let mad = median(diffs.iter().map(|d| (d - mid).abs()).collect());
    1.4826 * mad / std::f64::consts::SQRT_2
}

/// Reads `records` (one rate's epochs, in order) of a run whose data makes members hopeless as
/// `hopeless` says (its class count and validation size); `reach` is the rate's
/// [`reach`] on that run, when known.
pub fn read(records: &[EpochRecord], hopeless: &Hopeless, reach: Option<f64>) -> Reading {
    let reading = |verdict, reason: String| Reading {
        verdict,
        reason,
        stop_at: None,
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
    if n < 3 {
        return Reading {
            more_epochs: None,
            ..reading(
                Verdict::StillImproving,
                format!(
                    "{n} epoch{} too few to read a trend (validation loss {:.4}); train longer",
                    if n == 1 { " is" } else { "s are" },
                    val[n - 1]
                ),
            )
        };
    }
    let after = &val[m..];
    let noise = jitter(after);
    let rise = val[n - 1] - min;
    let train_fell = records[n - 1].train_loss < records[m].train_loss;
    if after.len() > MIN_AFTER && rise > NOISE_SIGMAS * noise && rise > MIN_RISE * min && train_fell
    {
        return Reading {
            stop_at: Some(min_epoch),
            ..reading(
                Verdict::Overfitting,
                format!(
                    "validation loss rose by {rise:.4} from its minimum {min:.4} at epoch {min_epoch} to {:.4} at epoch {} (jitter ±{noise:.4}) while the training loss fell from {:.4} to {:.4}; stop at epoch {min_epoch}",
                    val[n - 1],
                    records[n - 1].epoch,
                    records[m].train_loss,
                    records[n - 1].train_loss
                ),
            )
        };
    }
    let tail = ((n as f64 * TAIL).ceil() as usize).max(2);
    let trend = &val[n - TREND.min(n)..];
    let trend_noise = jitter(&val[n.saturating_sub(3 * TREND)..]);
    let diffs: Vec<f64> = trend.windows(2).map(|w| w[1] - w[0]).collect();
    let per_epoch = median(diffs.clone());
    let drop = trend[0] - trend[trend.len() - 1];
    if m + tail >= n && per_epoch < 0.0 && drop > NOISE_SIGMAS * trend_noise {
        let more = more_epochs(&diffs, val[n - 1], n);
        let estimate = match more {
            Some(k) => format!(
                "about {k} more epoch{} until it levels off",
                if k == 1 { "" } else { "s" }
            ),
            None => format!("at least as many epochs again ({n})"),
        };
        return Reading {
            more_epochs: Some(more.unwrap_or(n)),
            ..reading(
                Verdict::StillImproving,
                format!(
                    "validation loss still falling at the last epoch ({:.4}, {per_epoch:+.4} per epoch over the last {} epochs): train longer, {estimate}",
                    val[n - 1],
                    trend.len()
                ),
            )
        };
    }
    reading(
        Verdict::Fits,
        format!(
            "validation loss reached {min:.4} at epoch {min_epoch} and stayed within its noise after (rise {rise:.4}, jitter ±{noise:.4})"
        ),
    )
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
    let uniform = (hopeless.classes.max(2) as f64).ln();
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
            "training loss {:.4} at epoch {} {} of epoch 1's {:.4}, near a uniform guess's {uniform:.3} (validation accuracy {:.3}): the weights barely move; the rate is too small (or the network too narrow to learn): try larger rates",
            last.train_loss,
            last.epoch,
            match 100.0 * moved / first.train_loss {
                pct if pct < 0.01 => "within 0.01%".to_string(),
                pct => format!("within {pct:.2}%"),
            },
            first.train_loss,
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
    };

    fn curve(
        train: impl Fn(usize) -> f64,
        val: impl Fn(usize) -> f64,
        n: usize,
    ) -> Vec<EpochRecord> {
        (1..=n)
            .map(|e| EpochRecord {
                epoch: e,
                train_loss: train(e),
                train_acc: 0.9,
                val_loss: val(e),
                val_acc: 0.9,
                seconds: 1.0,
                lr: 1e-3,
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
        let stuck = curve(|_| 14.5, |_| 14.5, 10);
        let r = read(&stuck, &MNIST, None);
        assert_eq!(r.verdict, Verdict::Diverged);
        assert!(r.reason.contains("over epochs 8–10"), "{}", r.reason);
        let exploding = curve(|_| 547_239.0, |_| 12.79, 1);
        assert_eq!(read(&exploding, &MNIST, None).verdict, Verdict::Diverged);
        let nan = curve(|e| if e == 3 { f64::NAN } else { 1.0 }, |_| 1.0, 4);
        assert!(read(&nan, &MNIST, None).reason.contains("epoch 3"));
        // At the uniform guess, flat and noisy, at a rate that could move each weight far: a
        // collapse, diverged.
        let flat = curve(
            |e| 2.3035 + 0.0005 * wobble(e),
            |e| 2.3027 + 0.0003 * wobble(e),
            12,
        );
        let far = Some(reach(1e-1, 233, 0.05));
        assert_eq!(read(&flat, &MNIST, far).verdict, Verdict::Diverged);
    }

    #[test]
    fn a_rate_too_small_to_move_is_not_moving_not_diverged() {
        // The issue's --rates 1e-10: 2.3826 at every epoch, accuracy 0.073.
        let still = |e: usize| 2.3826 + 1e-6 * wobble(e);
        let stalled = curve(still, |e| 2.3443 + 1e-6 * wobble(e), 4);
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
            read(&curve(|_| 14.5, |_| 14.5, 6), &MNIST, tiny).verdict,
            Verdict::Diverged
        );
        // Moved more than 1% from epoch 1 before going flat above ln C: not a stall.
        let jumped = curve(|e| if e == 1 { 2.9 } else { 2.7 }, |_| 2.7, 6);
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

    #[test]
    fn jitter_ignores_a_steady_trend() {
        let steady: Vec<f64> = (0..10).map(|i| i as f64 * 0.01).collect();
        assert!(jitter(&steady) < 1e-12);
        let noisy: Vec<f64> = (0..40).map(|i| 0.01 * wobble(i)).collect();
        assert!(jitter(&noisy) > 0.002);
    }
}
