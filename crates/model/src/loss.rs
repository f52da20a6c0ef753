//! The losses lrsweep trains with: categorical cross-entropy in two forms for a classification,
//! mean squared error and Huber for a regression. Each engine computes them in its own code
//! (`tensor::loss`, `host::loss`); this is what they agree on.

use serde::{Deserialize, Serialize};

/// The clip Keras 2 applied to probabilities before the logarithm (`K.epsilon()`).
pub const KERAS_EPSILON: f32 = 1e-7;

/// Which cross-entropy to train and report with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Softmax, probabilities clipped to [1e-7, 1 − 1e-7], −log of the true class (Keras 2;
    /// what the reference ran). A clipped probability passes no gradient, as in TensorFlow.
    #[default]
    Keras,
    /// The unclipped log-softmax form: numerically exact, no floor at 1.19e-7, no ceiling at 16.1.
    Exact,
    /// A regression's mean squared error over the targets (standardised), the outputs linear:
    /// PyTorch's `MSELoss()`, Keras' `MeanSquaredError`.
    Mse,
    /// A regression's Huber loss with δ = 1 on the standardised targets: ½e² for |e| ≤ 1, |e| − ½
    /// beyond; PyTorch's `HuberLoss()` default.
    Huber,
}

/// The Huber loss's δ on the standardised targets (PyTorch's `HuberLoss` default).
pub const HUBER_DELTA: f32 = 1.0;

impl LossKind {
    /// Whether the loss is a regression's (linear outputs, targets) rather than a
    /// classification's (softmax outputs, classes).
    pub fn is_regression(self) -> bool {
        matches!(self, LossKind::Mse | LossKind::Huber)
    }

    /// `keras`, `exact`, `mse` or `huber`, as `--loss` takes it.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Keras => "keras",
            LossKind::Exact => "exact",
            LossKind::Mse => "mse",
            LossKind::Huber => "huber",
        }
    }

    /// A regression's guess under this loss: the mean loss over `targets` (standardised) of
    /// predicting the training part's mean, 0 on that scale (the mean of the items' losses,
    /// each the mean over its targets).
    pub fn guess(self, targets: &[f32]) -> f64 {
        let n = targets.len().max(1) as f64;
        targets
            .iter()
            .map(|&y| self.of_error(-y).0 as f64)
            .sum::<f64>()
            / n
    }

    /// A regression loss of error `e` (output minus target, standardised) and its derivative.
    #[inline(always)]
    pub(crate) fn of_error(self, e: f32) -> (f32, f32) {
        match self {
            LossKind::Huber if e.abs() > HUBER_DELTA => (
                HUBER_DELTA * (e.abs() - 0.5 * HUBER_DELTA),
                HUBER_DELTA * e.signum(),
            ),
            LossKind::Huber => (0.5 * e * e, e),
            _ => (e * e, 2.0 * e),
        }
    }

    /// Whether a true-class probability lies inside the Keras clip, so that it passes a gradient.
    #[inline(always)]
    pub(crate) fn inside_clip(p_true: f32) -> bool {
        (KERAS_EPSILON..=1.0 - KERAS_EPSILON).contains(&p_true)
    }
}
