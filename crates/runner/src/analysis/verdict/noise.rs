//! How noisy a curve's validation loss is, epoch by epoch, and what that noise is read from:
//! the standard error each epoch recorded (the spread of the items' losses over the validation
//! set), or, for records of older versions that kept none, an estimate from the curve itself.

use lrsweep_model::EpochRecord;

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

/// The robust spread of `values` about their median, as a standard deviation (1.4826 × their
/// median absolute deviation); 0 for fewer than two values.
fn robust_sd(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mid = median(values.to_vec());
    1.4826 * median(values.iter().map(|d| (d - mid).abs()).collect())
}

/// The `k`-th differences of `values`.
fn differences(values: &[f64], k: usize) -> Vec<f64> {
    let mut d = values.to_vec();
    for _ in 0..k {
        d = d.windows(2).map(|w| w[1] - w[0]).collect();
    }
    d
}

/// The noise of a series estimated from its differences of the highest order it allows (the
/// third with seven values or more, the second with four, else the first): the `k`-th
/// difference of independent noise of deviation σ has deviation `σ·√C(2k, k)` (√2, √6, √20),
/// while a smooth trend's higher differences shrink, so a decelerating curve's curvature is not
/// taken for noise. 0 with fewer than three values.
pub fn estimated(values: &[f64]) -> f64 {
    let (k, scale) = match values.len() {
        n if n >= 7 => (3, 20f64.sqrt()),
        n if n >= 4 => (2, 6f64.sqrt()),
        _ => (1, std::f64::consts::SQRT_2),
    };
    robust_sd(&differences(values, k)) / scale
}

/// The jitter of a series, as earlier versions read it: the robust spread of its successive
/// changes about their median (÷ √2), so a steady trend is not taken for noise.
fn jitter(values: &[f64]) -> f64 {
    robust_sd(&differences(values, 1)) / std::f64::consts::SQRT_2
}

/// Where a curve's noise comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// Each epoch's recorded standard error of the mean loss over `items` validation items.
    Recorded {
        /// Validation items.
        items: usize,
    },
    /// Estimated from the curve (records of older versions keep no per-item spread).
    Estimated,
}

/// A curve's noise: one standard error per epoch, and its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    se: Vec<f64>,
    /// Where it comes from.
    pub source: Source,
}

/// An estimated noise counts a change beyond this many of its deviations (as earlier versions
/// did): an estimate from a few epochs is itself uncertain.
const ESTIMATED_SIGMAS: f64 = 3.0;

impl Noise {
    /// The noise of `records` (one curve) scored on `items` validation items: their recorded
    /// standard errors when every epoch has one; else one estimate from the curve: the jitter
    /// of the epochs after its minimum when there are three or more (as earlier versions read
    /// it), or the whole curve's [`estimated`] noise.
    pub fn of(records: &[EpochRecord], items: usize) -> Self {
        let recorded = !records.is_empty()
            && records
                .iter()
                .all(|r| r.val_loss_se.is_finite() && r.val_loss_se >= 0.0);
        if recorded {
            return Self {
                se: records.iter().map(|r| r.val_loss_se).collect(),
                source: Source::Recorded { items },
            };
        }
        let values: Vec<f64> = records
            .iter()
            .map(|r| r.val_loss)
            .filter(|v| v.is_finite())
            .collect();
        let m = values
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        let after = &values[m.min(values.len())..];
        let sd = match after.len() >= 3 {
            true => jitter(after),
            false => estimated(&values),
        };
        Self {
            se: vec![sd; records.len()],
            source: Source::Estimated,
        }
    }

    /// How many standard errors a change must exceed to count: [`super::SIGMAS`] for recorded
    /// errors, three for an estimate.
    pub fn sigmas(&self) -> f64 {
        match self.source {
            Source::Recorded { .. } => super::SIGMAS,
            Source::Estimated => ESTIMATED_SIGMAS,
        }
    }

    /// The standard error at the epoch of index `i`.
    pub fn se(&self, i: usize) -> f64 {
        self.se.get(i).copied().unwrap_or(0.0)
    }

    /// The noise of the difference of the values at two epochs, `i` and `j`: their standard
    /// errors combined (an estimate's independent noise at each).
    pub fn of_difference(&self, i: usize, j: usize) -> f64 {
        (self.se(i).powi(2) + self.se(j).powi(2)).sqrt()
    }

    /// What a figure `±x` of this noise is, for an evidence sentence.
    pub fn describe(&self, x: f64) -> String {
        match self.source {
            Source::Recorded { items } => format!(
                "±{x:.4}, from the standard error of the mean loss over {items} validation items"
            ),
            Source::Estimated => {
                format!("±{x:.4}, estimated from the curve: these records keep no per-item spread")
            }
        }
    }
}

/// The index of the earliest epoch whose validation loss is within one standard error of the
/// minimum's (`min`, at index `m`): the one-standard-error rule (Breiman et al.; glmnet's
/// `lambda.1se`): the cheapest epoch the minimum cannot be told from.
pub fn one_se_index(values: &[f64], m: usize, min: f64, noise: &Noise) -> usize {
    let bar = min + noise.se(m);
    values
        .iter()
        .position(|&v| v.is_finite() && v <= bar)
        .unwrap_or(m)
        .min(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_smooth_decelerating_curve_is_not_noise_and_a_noisy_one_is() {
        // 1.48, 0.96, …: falling faster then slower, with no noise.
        let smooth: Vec<f64> = (0..10).map(|e| 0.3 + 1.2 * 0.6f64.powi(e)).collect();
        let first_differences = {
            let d: Vec<f64> = smooth.windows(2).map(|w| w[1] - w[0]).collect();
            robust_sd(&d) / std::f64::consts::SQRT_2
        };
        assert!(
            estimated(&smooth) < 0.1 * first_differences,
            "{} against {first_differences}",
            estimated(&smooth)
        );
        // White noise of sd 0.01 about a flat line is estimated near 0.01.
        let mut x = 7u64;
        let noisy: Vec<f64> = (0..400)
            .map(|_| {
                // Sum of uniforms: about normal.
                let mut s = 0.0;
                for _ in 0..12 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    s += (x % 10_000) as f64 / 10_000.0;
                }
                0.5 + 0.01 * (s - 6.0)
            })
            .collect();
        let e = estimated(&noisy);
        assert!((0.008..0.012).contains(&e), "{e}");
    }

    #[test]
    fn recorded_errors_are_taken_and_the_one_se_epoch_is_the_earliest_within_noise() {
        let rec = |e: usize, v: f64, se: f64| EpochRecord {
            epoch: e,
            train_loss: v,
            train_acc: 0.9,
            val_loss: v,
            val_acc: 0.9,
            seconds: 1.0,
            lr: 1e-3,
            val_loss_se: se,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        };
        let curve: Vec<EpochRecord> = [0.9, 0.5, 0.452, 0.44, 0.445, 0.437]
            .iter()
            .enumerate()
            .map(|(i, &v)| rec(i + 1, v, 0.02))
            .collect();
        let noise = Noise::of(&curve, 600);
        assert_eq!(noise.source, Source::Recorded { items: 600 });
        let values: Vec<f64> = curve.iter().map(|r| r.val_loss).collect();
        // Minimum 0.437 at index 5; within 0.02 of it from index 2 (0.452).
        assert_eq!(one_se_index(&values, 5, 0.437, &noise), 2);
        assert!(noise.describe(0.02).contains("600 validation items"));
        let mut old = curve.clone();
        old[3].val_loss_se = f64::NAN;
        assert_eq!(Noise::of(&old, 600).source, Source::Estimated);
    }
}
