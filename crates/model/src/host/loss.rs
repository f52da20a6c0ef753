//! The loss of [`LossKind`] on host memory, item by item: the arithmetic of the tensor engine's
//! loss, for any number of classes or targets.

use crate::loss::{LossKind, KERAS_EPSILON};
use crate::record::ErrorSums;

/// A batch's summed loss, summed squared loss (what its standard error needs), correct
/// predictions, and a regression's error sums.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Sums {
    pub(super) loss: f64,
    pub(super) squares: f64,
    pub(super) correct: u32,
    pub(super) errors: ErrorSums,
}

/// What a batch's outputs are scored against: its items' classes, or a regression's
/// standardised targets (`sd.len()` per item) with each target's standard deviation.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Truth<'a> {
    /// Class indices, one per item.
    Classes(&'a [lrsweep_data::Label]),
    /// Targets, row-major, and each target's standard deviation (for the units' errors).
    Targets {
        /// `rows × sd.len()` standardised targets.
        values: &'a [f32],
        /// Each target's standard deviation.
        sd: &'a [f32],
    },
}

impl Truth<'_> {
    /// Items in the batch.
    pub(crate) fn rows(&self) -> usize {
        match self {
            Truth::Classes(l) => l.len(),
            Truth::Targets { values, sd } => values.len() / sd.len().max(1),
        }
    }
}

/// Each item's loss, and (with `dz2`) the gradient of the batch's mean loss with respect to
/// the outputs. Returns the sums.
pub(super) fn loss_and_grad(
    kind: LossKind,
    logits: &[f32],
    truth: Truth<'_>,
    dz2: Option<&mut [f32]>,
) -> Sums {
    match truth {
        Truth::Classes(labels) => cross_entropy(kind, logits, labels, dz2),
        Truth::Targets { values, sd } => regression(kind, logits, values, sd, dz2),
    }
}

/// A regression's loss per item (the mean of [`LossKind::of_error`] over its targets) and the
/// gradient of the batch's mean of them: `loss′(e) / (rows · targets)` per output.
fn regression(
    kind: LossKind,
    outputs: &[f32],
    targets: &[f32],
    sd: &[f32],
    mut dz2: Option<&mut [f32]>,
) -> Sums {
    let m = sd.len().max(1);
    let rows = targets.len() / m;
    let per_item = 1.0 / m as f32;
    let scale = 1.0 / (rows.max(1) * m) as f32;
    let mut sums = Sums::default();
    for r in 0..rows {
        let mut item = 0f32;
        for (k, &sd_k) in sd.iter().enumerate() {
            let at = r * m + k;
            let e = outputs[at] - targets[at];
            let (l, d) = kind.of_error(e);
            item += l;
            if let Some(g) = dz2.as_deref_mut() {
                g[at] = d * scale;
            }
            let units = (e * sd_k) as f64;
            sums.errors.squared += (e as f64).powi(2);
            sums.errors.squared_units += units * units;
            sums.errors.absolute_units += units.abs();
        }
        let item = (item * per_item) as f64;
        sums.loss += item;
        sums.squares += item * item;
    }
    sums
}

/// Each image's cross-entropy and correctness, and (with `dz2`) the gradient of the batch's
/// mean loss with respect to the logits (the first largest logit is the guess).
fn cross_entropy(
    kind: LossKind,
    logits: &[f32],
    labels: &[lrsweep_data::Label],
    mut dz2: Option<&mut [f32]>,
) -> Sums {
    let classes = logits.len() / labels.len().max(1);
    let scale = 1.0 / labels.len().max(1) as f64;
    let (mut loss, mut squares, mut correct) = (0f64, 0f64, 0u32);
    let mut exp = vec![0f32; classes];
    for (r, (row, &label)) in logits.chunks(classes).zip(labels).enumerate() {
        let label = label as usize;
        let (mut best, mut max) = (0, row[0]);
        for (c, &z) in row.iter().enumerate().skip(1) {
            if z > max {
                (best, max) = (c, z);
            }
        }
        correct += u32::from(best == label);
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let max = if row.iter().any(|z| z.is_nan()) {
            f32::NAN
        } else {
            max
        };
        let mut sum = 0f32;
        for (e, &z) in exp.iter_mut().zip(row) {
            *e = (z - max).exp();
            sum += *e;
        }
        let image_loss;
        let mut inside = 1f32;
        match kind {
            LossKind::Keras => {
                let p_true = exp[label] / sum;
                inside = if LossKind::inside_clip(p_true) {
                    1.0
                } else {
                    0.0
                };
                image_loss = -p_true.clamp(KERAS_EPSILON, 1.0 - KERAS_EPSILON).ln();
            }
            _ => image_loss = sum.ln() - (row[label] - max),
        }
        loss += image_loss as f64;
        squares += (image_loss as f64).powi(2);
        if let Some(dz2) = dz2.as_deref_mut() {
            let out = &mut dz2[r * classes..(r + 1) * classes];
            for (c, (o, &e)) in out.iter_mut().zip(exp.iter()).enumerate() {
                let target = if c == label { 1.0 } else { 0.0 };
                *o = (e / sum - target) * inside * scale as f32;
            }
        }
    }
    Sums {
        loss,
        squares,
        correct,
        errors: ErrorSums::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_cases_for_any_class_count() {
        // Uniform logits over 3 classes: loss ln 3 in both forms, gradient (1/3 − y) / batch.
        for kind in [LossKind::Keras, LossKind::Exact] {
            let mut g = vec![0f32; 3];
            let Sums {
                loss: l,
                correct: c,
                ..
            } = loss_and_grad(kind, &[0.0, 0.0, 0.0], Truth::Classes(&[1]), Some(&mut g));
            assert!((l - 3f64.ln()).abs() < 1e-6 && c == 0, "{l} {c}");
            for (gi, want) in g.iter().zip([1.0 / 3.0, 1.0 / 3.0 - 1.0, 1.0 / 3.0]) {
                assert!((gi - want).abs() < 1e-6, "{g:?}");
            }
        }
        // Confidently wrong in the Keras form: clipped loss −ln(1e-7), no gradient.
        let mut g = vec![1f32; 2];
        let l = loss_and_grad(
            LossKind::Keras,
            &[40.0, 0.0],
            Truth::Classes(&[1]),
            Some(&mut g),
        )
        .loss;
        assert!(
            (l - 16.118_095).abs() < 1e-4 && g == [0.0, 0.0],
            "{l} {g:?}"
        );
        // 100 classes, the true one far ahead: loss ≈ 99·e^-20, the guess right.
        let mut logits = vec![0f32; 100];
        logits[73] = 20.0;
        let s = loss_and_grad(LossKind::Exact, &logits, Truth::Classes(&[73]), None);
        let (l, c) = (s.loss, s.correct);
        assert!((s.squares - l * l).abs() < 1e-18, "one image: its square");
        assert!(c == 1 && l < 1e-6, "{l}");
    }

    #[test]
    fn regression_losses_and_gradients_by_hand() {
        // Two items of two targets; errors 0.5, −2 | 0, 3.
        let targets = [1.0, 2.0, 0.0, -1.0];
        let outputs = [1.5, 0.0, 0.0, 2.0];
        let sd = [2.0, 10.0];
        let truth = Truth::Targets {
            values: &targets,
            sd: &sd,
        };
        let mut g = vec![0f32; 4];
        let s = loss_and_grad(LossKind::Mse, &outputs, truth, Some(&mut g));
        // Items' losses: (0.25 + 4)/2 and (0 + 9)/2; PyTorch's MSELoss: the mean of all four.
        assert!((s.loss - (2.125 + 4.5)).abs() < 1e-6, "{s:?}");
        assert_eq!(g, [2.0 * 0.5 / 4.0, 2.0 * -2.0 / 4.0, 0.0, 2.0 * 3.0 / 4.0]);
        assert!((s.errors.squared - 13.25).abs() < 1e-9);
        // In units: 0.5·2, −2·10, 0, 3·10.
        assert!((s.errors.squared_units - (1.0 + 400.0 + 900.0)).abs() < 1e-6);
        assert!((s.errors.absolute_units - 51.0).abs() < 1e-6);
        let s = loss_and_grad(LossKind::Huber, &outputs, truth, Some(&mut g));
        // ½·0.25, 2 − ½, 0, 3 − ½.
        assert!(
            (s.loss - ((0.125 + 1.5) / 2.0 + 2.5 / 2.0)).abs() < 1e-6,
            "{s:?}"
        );
        assert_eq!(g, [0.5 / 4.0, -1.0 / 4.0, 0.0, 1.0 / 4.0]);
    }
}
