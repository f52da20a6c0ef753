//! Categorical cross-entropy: the two forms lrsweep trains with. Each engine computes them in
//! its own code (`tensor::loss`, `host::loss`); this is what they agree on.

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
}

impl LossKind {
    /// Whether a true-class probability lies inside the Keras clip, so that it passes a gradient.
    #[inline(always)]
    pub(crate) fn inside_clip(p_true: f32) -> bool {
        (KERAS_EPSILON..=1.0 - KERAS_EPSILON).contains(&p_true)
    }
}
