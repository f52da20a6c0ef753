//! The cross-entropy of [`LossKind`] on host memory, image by image: the arithmetic of the
//! tensor engine's loss, for any number of classes.

use crate::loss::{LossKind, KERAS_EPSILON};

/// A batch's summed loss, summed squared loss (what its standard error needs) and correct
/// predictions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct Sums {
    pub(super) loss: f64,
    pub(super) squares: f64,
    pub(super) correct: u32,
}

/// Each image's loss and correctness, and (with `dz2`) the gradient of the batch's mean loss
/// with respect to the logits. Returns the sums (the first largest logit is the guess).
pub(super) fn loss_and_grad(
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
            LossKind::Exact => image_loss = sum.ln() - (row[label] - max),
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
            } = loss_and_grad(kind, &[0.0, 0.0, 0.0], &[1], Some(&mut g));
            assert!((l - 3f64.ln()).abs() < 1e-6 && c == 0, "{l} {c}");
            for (gi, want) in g.iter().zip([1.0 / 3.0, 1.0 / 3.0 - 1.0, 1.0 / 3.0]) {
                assert!((gi - want).abs() < 1e-6, "{g:?}");
            }
        }
        // Confidently wrong in the Keras form: clipped loss −ln(1e-7), no gradient.
        let mut g = vec![1f32; 2];
        let l = loss_and_grad(LossKind::Keras, &[40.0, 0.0], &[1], Some(&mut g)).loss;
        assert!(
            (l - 16.118_095).abs() < 1e-4 && g == [0.0, 0.0],
            "{l} {g:?}"
        );
        // 100 classes, the true one far ahead: loss ≈ 99·e^-20, the guess right.
        let mut logits = vec![0f32; 100];
        logits[73] = 20.0;
        let s = loss_and_grad(LossKind::Exact, &logits, &[73], None);
        let (l, c) = (s.loss, s.correct);
        assert!((s.squares - l * l).abs() < 1e-18, "one image: its square");
        assert!(c == 1 && l < 1e-6, "{l}");
    }
}
