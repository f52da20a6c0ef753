//! The loss of [`LossKind`] as tensor operations: per-item losses and the gradient with respect
//! to the outputs, for several models' batches stacked row-wise.

use burn::tensor::Tensor;

use crate::loss::{LossKind, HUBER_DELTA, KERAS_EPSILON};

/// Per-image losses `[rows, 1]` and the gradient of each model's mean loss over its own `batch`
/// rows with respect to the logits `[rows, classes]`, from logits and one-hot targets.
///
/// The gradient is `(softmax − target) / batch`, and zero for an image whose true-class
/// probability lies outside the clip range in the Keras form.
pub(crate) fn loss_and_grad(
    kind: LossKind,
    logits: Tensor<2>,
    target: Tensor<2>,
    batch: usize,
) -> (Tensor<2>, Tensor<2>) {
    let (loss, grad) = compute(kind, logits, target, Some(1.0 / batch.max(1) as f64));
    (loss, grad.expect("gradient requested"))
}

/// Per-image losses `[rows, 1]` only (validation).
pub(crate) fn loss(kind: LossKind, logits: Tensor<2>, target: Tensor<2>) -> Tensor<2> {
    compute(kind, logits, target, None).0
}

fn compute(
    kind: LossKind,
    logits: Tensor<2>,
    target: Tensor<2>,
    grad_scale: Option<f64>,
) -> (Tensor<2>, Option<Tensor<2>>) {
    let with_grad = grad_scale.is_some();
    let scale = grad_scale.unwrap_or(1.0);
    if kind.is_regression() {
        // The mean over the targets of each item's loss; the gradient of the batch's mean of
        // them, loss′(e) / (batch · targets).
        let m = logits.dims()[1] as f64;
        let e = logits - target;
        let (loss, slope) = match kind {
            LossKind::Huber => {
                let d = HUBER_DELTA as f64;
                let abs = e.clone().abs();
                let inside = abs.clone().lower_equal_elem(d).float();
                let quadratic = e.clone().powi_scalar(2).mul_scalar(0.5);
                let linear = abs.sub_scalar(0.5 * d).mul_scalar(d);
                let loss =
                    quadratic.clone() * inside.clone() + linear * inside.neg().add_scalar(1.0);
                (loss, with_grad.then(|| e.clamp(-d, d)))
            }
            _ => (
                e.clone().powi_scalar(2),
                with_grad.then(|| e.mul_scalar(2.0)),
            ),
        };
        let grad = slope.map(|g| g.mul_scalar(scale / m));
        return (loss.sum_dim(1).div_scalar(m), grad);
    }
    let max = logits.clone().max_dim(1);
    let shifted = logits - max;
    let exp = shifted.clone().exp();
    let sum = exp.clone().sum_dim(1);
    match kind {
        LossKind::Keras => {
            let prob = exp / sum;
            let p_true = (prob.clone() * target.clone()).sum_dim(1);
            let grad = with_grad.then(|| {
                let inside = p_true
                    .clone()
                    .greater_equal_elem(KERAS_EPSILON)
                    .bool_and(p_true.clone().lower_equal_elem(1.0 - KERAS_EPSILON))
                    .float();
                (prob - target).mul(inside).mul_scalar(scale)
            });
            let loss = p_true.clamp(KERAS_EPSILON, 1.0 - KERAS_EPSILON).log().neg();
            (loss, grad)
        }
        _ => {
            let grad = with_grad.then(|| (exp / sum.clone() - target.clone()).mul_scalar(scale));
            let loss = sum.log() - (shifted * target).sum_dim(1);
            (loss, grad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(rows: Vec<Vec<f32>>) -> Tensor<2> {
        let (r, c) = (rows.len(), rows[0].len());
        Tensor::from_data(TensorData::new(rows.concat(), [r, c]), &Device::flex())
    }

    fn v(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn of_batch(kind: LossKind, logits: Tensor<2>, target: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let rows = logits.dims()[0];
        loss_and_grad(kind, logits, target, rows)
    }

    #[test]
    fn hand_computed_cases() {
        // Uniform logits over 3 classes: loss ln 3 in both forms, gradient (1/3 − y) / batch.
        let logits = t(vec![vec![0.0, 0.0, 0.0]]);
        let target = t(vec![vec![0.0, 1.0, 0.0]]);
        for kind in [LossKind::Keras, LossKind::Exact] {
            let (l, g) = of_batch(kind, logits.clone(), target.clone());
            assert!((v(l)[0] - 3f32.ln()).abs() < 1e-6);
            let g = v(g);
            for (gi, want) in g.iter().zip([1.0 / 3.0, 1.0 / 3.0 - 1.0, 1.0 / 3.0]) {
                assert!((gi - want).abs() < 1e-6, "{g:?}");
            }
        }
        // Confidently wrong: p(true) = e^-40 / (1 + e^-40). Keras clips to 1e-7: −ln(1e-7) ≈ 16.118,
        // and passes no gradient; the exact form gives ≈ 40 and the full gradient.
        let logits = t(vec![vec![40.0, 0.0], vec![0.0, 1.0]]);
        let target = t(vec![vec![0.0, 1.0], vec![0.0, 1.0]]);
        let (l, g) = of_batch(LossKind::Keras, logits.clone(), target.clone());
        let (l, g) = (v(l), v(g));
        assert!((l[0] - 16.118_095).abs() < 1e-4, "{l:?}");
        let p1 = 1.0 / (1.0 + (-1f32).exp());
        assert!((l[1] + p1.ln()).abs() < 1e-6);
        assert_eq!(&g[..2], &[0.0, 0.0], "clipped: no gradient");
        assert!((g[3] - (p1 - 1.0) / 2.0).abs() < 1e-6, "{g:?}");
        let (l, g) = of_batch(LossKind::Exact, logits, target);
        let (l, g) = (v(l), v(g));
        assert!((l[0] - 40.0).abs() < 1e-4, "{l:?}");
        assert!(
            (g[0] - 0.5).abs() < 1e-6 && (g[1] + 0.5).abs() < 1e-6,
            "{g:?}"
        );
        // Confidently right: Keras floors the loss at −ln(1 − 1e-7) (f32: 1.19e-7).
        let (l, _) = of_batch(
            LossKind::Keras,
            t(vec![vec![0.0, 40.0]]),
            t(vec![vec![0.0, 1.0]]),
        );
        assert!((v(l)[0] - 1.192_093e-7).abs() < 1e-9);
        let l = loss(
            LossKind::Exact,
            t(vec![vec![0.0, 0.0]]),
            t(vec![vec![1.0, 0.0]]),
        );
        assert!((v(l)[0] - 2f32.ln()).abs() < 1e-6);
    }
}
