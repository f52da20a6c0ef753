//! The range test's analysis: smoothing, the divergence stop and fastai's suggestions
//! (`valley`, `steep`, `minimum/10`), as data.

use lrsweep_model::RangeConfig;
use serde::{Deserialize, Serialize};

/// Smoothing of the loss (fastai's 0.98).
const BETA: f64 = 0.98;
/// The test stops once the smoothed loss exceeds this multiple of its minimum.
const DIVERGENCE: f64 = 4.0;

/// One step of the test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FindStep {
    /// 1-based step.
    pub step: usize,
    /// The rate of this step.
    pub rate: f64,
    /// The batch's mean loss.
    pub loss: f64,
    /// Debiased exponential moving average of the loss.
    pub smoothed: f64,
}

/// The suggestions of a range test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// fastai's default: a rate two thirds down the longest valley of the loss curve.
    pub valley: f64,
    /// The rate where the loss falls fastest against log rate.
    pub steep: f64,
    /// The rate of the lowest loss, divided by 10.
    pub minimum_10: f64,
}

/// `find.json`: what ran and what it suggests.
fn is_adam(o: &lrsweep_model::Optimizer) -> bool {
    *o == lrsweep_model::Optimizer::Adam
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindResult {
    /// The settings.
    pub config: RangeConfig,
    /// Seed of the model and the training order.
    pub seed: u64,
    /// Whether it stopped because the loss diverged (before `end`).
    pub diverged: bool,
    /// The optimizer it trained with (left out for Adam).
    #[serde(default, skip_serializing_if = "is_adam")]
    pub optimizer: lrsweep_model::Optimizer,
    /// The suggestions (absent when too few steps ran).
    pub suggestions: Option<Suggestions>,
    /// The steps.
    pub steps: Vec<FindStep>,
}

impl FindResult {
    /// The result of `steps` (the divergence flag says whether the last one diverged), with the
    /// suggestions computed from the curve before divergence.
    pub fn new(config: RangeConfig, seed: u64, diverged: bool, steps: Vec<FindStep>) -> Self {
        Self {
            config,
            seed,
            diverged,
            optimizer: lrsweep_model::Optimizer::Adam,
            suggestions: suggest(curve(&steps, diverged)),
            steps,
        }
    }

    /// The same result, of a range test that trained with `optimizer`.
    pub fn with_optimizer(self, optimizer: lrsweep_model::Optimizer) -> Self {
        Self { optimizer, ..self }
    }

    /// The steps the suggestions read: all but a diverged last one.
    pub fn curve(&self) -> &[FindStep] {
        curve(&self.steps, self.diverged)
    }
}

fn curve(steps: &[FindStep], diverged: bool) -> &[FindStep] {
    if diverged && !steps.is_empty() {
        &steps[..steps.len() - 1]
    } else {
        steps
    }
}

/// Smooths the losses as they come and says when the test has diverged.
#[derive(Debug, Default)]
pub struct Smoother {
    avg: f64,
    best: Option<f64>,
    steps: Vec<FindStep>,
    diverged: bool,
}

impl Smoother {
    /// Adds the loss of the next step; returns whether the test should go on.
    pub fn push(&mut self, rate: f64, loss: f64) -> bool {
        let i = self.steps.len();
        self.avg = BETA * self.avg + (1.0 - BETA) * loss;
        let smoothed = self.avg / (1.0 - BETA.powi(i as i32 + 1));
        self.steps.push(FindStep {
            step: i + 1,
            rate,
            loss,
            smoothed,
        });
        let best = self.best.unwrap_or(f64::INFINITY);
        if !smoothed.is_finite() || smoothed > DIVERGENCE * best {
            self.diverged = true;
            return false;
        }
        self.best = Some(best.min(smoothed));
        true
    }

    /// The result of the steps so far.
    pub fn finish(self, config: RangeConfig, seed: u64) -> FindResult {
        FindResult::new(config, seed, self.diverged, self.steps)
    }
}

/// fastai's `valley`: the longest run of decreasing loss, two thirds of the way down it.
fn valley(steps: &[FindStep]) -> f64 {
    let n = steps.len();
    let mut lds = vec![1usize; n];
    let (mut max_start, mut max_end) = (0, 0);
    for i in 1..n {
        for j in 0..i {
            if steps[i].smoothed < steps[j].smoothed && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
        }
        if lds[max_end] < lds[i] {
            max_end = i;
            max_start = max_end.saturating_sub(lds[max_end]);
        }
    }
    let sections = (max_end - max_start) as f64 / 3.0;
    let idx = max_start + sections as usize + (sections / 2.0) as usize;
    steps[idx.min(n - 1)].rate
}

/// The suggestions from a curve of at least three steps.
pub fn suggest(steps: &[FindStep]) -> Option<Suggestions> {
    if steps.len() < 3 {
        return None;
    }
    let steep = steps
        .windows(2)
        .map(|w| {
            (
                (w[1].smoothed - w[0].smoothed) / (w[1].rate.ln() - w[0].rate.ln()),
                w[0].rate,
            )
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r)?;
    let minimum = steps
        .iter()
        .min_by(|a, b| a.smoothed.total_cmp(&b.smoothed))?
        .rate;
    Some(Suggestions {
        valley: valley(steps),
        steep,
        minimum_10: minimum / 10.0,
    })
}

/// A range test's suggestions beside the sweep's answer for the same optimizer (and the run's
/// first network, which the range test trains).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeAnswer {
    /// The optimizer it trained with (left out for Adam).
    #[serde(default, skip_serializing_if = "is_adam")]
    pub optimizer: lrsweep_model::Optimizer,
    /// Its suggestions.
    pub suggestions: Suggestions,
    /// The sweep's rate it is compared with: the recommendation where that is of the range
    /// test's optimizer and network, else their best rate; none while there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<Compared>,
}

/// The sweep's rate a range test is compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    /// The rate.
    pub rate: f64,
    /// Its label.
    pub label: String,
    /// The epochs it trained.
    pub epochs: usize,
}

/// How the sweep's recommended rate compares with the range test's valley.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeVerdict {
    /// Within a factor 3 of the valley: the two agree.
    Agrees {
        /// max(rate/valley, valley/rate).
        factor: f64,
    },
    /// Further apart.
    Differs {
        /// max(rate/valley, valley/rate).
        factor: f64,
    },
    /// The sweep recommends nothing to compare with.
    NothingToCompare,
}

/// The verdict for a recommended rate (if any) against the test's suggestions.
pub fn verdict(recommended: Option<f64>, suggestions: &Suggestions) -> RangeVerdict {
    match recommended {
        Some(rate) => {
            let factor = (rate / suggestions.valley).max(suggestions.valley / rate);
            if factor <= 3.0 {
                RangeVerdict::Agrees { factor }
            } else {
                RangeVerdict::Differs { factor }
            }
        }
        None => RangeVerdict::NothingToCompare,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoother_stops_at_four_times_the_minimum_and_suggests_from_the_curve_before() {
        let mut s = Smoother::default();
        let config = RangeConfig::default();
        let mut went_on = 0;
        for i in 0..config.steps {
            let rate = config.rate(i);
            // Flat, falling between 1e-4 and 1e-2, then exploding.
            let lr = rate.log10();
            let loss = if lr < -4.0 {
                2.3
            } else if lr < -2.0 {
                2.3 - (lr + 4.0)
            } else {
                0.3 * 10f64.powf(3.0 * (lr + 2.0))
            };
            if !s.push(rate, loss) {
                break;
            }
            went_on += 1;
        }
        let result = s.finish(config, 1);
        assert!(result.diverged);
        assert_eq!(result.steps.len(), went_on + 1);
        assert_eq!(result.curve().len(), went_on);
        let sg = result.suggestions.unwrap();
        assert!((1e-4..1e-2).contains(&sg.valley), "{sg:?}");
        assert!(sg.minimum_10 < sg.valley * 10.0);
        assert_eq!(
            verdict(Some(sg.valley * 2.0), &sg),
            RangeVerdict::Agrees { factor: 2.0 }
        );
        assert!(matches!(
            verdict(Some(sg.valley * 10.0), &sg),
            RangeVerdict::Differs { .. }
        ));
        assert_eq!(verdict(None, &sg), RangeVerdict::NothingToCompare);
    }
}
