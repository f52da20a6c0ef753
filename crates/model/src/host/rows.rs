//! The small products and element-wise passes of a step, row by row in parallel: the output
//! layer's logits, the gradient at the last hidden layer (with the ReLU mask fused where that
//! is all there is), the output layer's weight and bias gradients, and the passes through a
//! hidden layer's dropout and activation. The products are written once over the [`Simd`]
//! primitives and compiled per instruction set.

use rayon::prelude::*;

use super::simd::{dispatch, Isa, Simd};
use crate::layers::Activation;

/// Images per parallel task in the row-wise passes.
const ROWS_PER_TASK: usize = 16;

#[inline(always)]
fn dot<S: Simd>(s: S, a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] = s.madd(x[j], y[j], acc[j]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn output_rows<S: Simd>(s: S, h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32]) {
    let classes = b2.len();
    let hidden = w2t.len() / classes;
    for (row, out) in h.chunks(hidden).zip(logits.chunks_mut(classes)) {
        for c in 0..classes {
            out[c] = dot(s, row, &w2t[c * hidden..(c + 1) * hidden]) + b2[c];
        }
    }
}

dispatch! {
    /// Logits of some rows.
    fn output_part = output_rows(h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32])
}

/// `logits [rows, C] = h·w2 + b2`, with `w2t` the output weights transposed `[C, hidden]`.
pub(super) fn output(isa: Isa, h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32]) {
    let (classes, hidden) = (b2.len(), w2t.len() / b2.len());
    h.par_chunks(ROWS_PER_TASK * hidden)
        .zip(logits.par_chunks_mut(ROWS_PER_TASK * classes))
        .for_each(|(h, l)| output_part(isa, h, w2t, b2, l));
}

#[inline(always)]
fn hidden_grad_rows<S: Simd>(
    s: S,
    dz2: &[f32],
    w2t: &[f32],
    h: &[f32],
    dz1: &mut [f32],
    classes: usize,
) {
    let hidden = w2t.len() / classes;
    for ((g, hr), out) in dz2
        .chunks(classes)
        .zip(h.chunks(hidden))
        .zip(dz1.chunks_mut(hidden))
    {
        out.fill(0.0);
        for (c, &gc) in g.iter().enumerate() {
            for (o, &w) in out.iter_mut().zip(&w2t[c * hidden..(c + 1) * hidden]) {
                *o = s.madd(gc, w, *o);
            }
        }
        for (o, &x) in out.iter_mut().zip(hr) {
            if x <= 0.0 {
                *o = 0.0;
            }
        }
    }
}

dispatch! {
    /// The hidden layer's gradient for some rows.
    fn hidden_grad_part = hidden_grad_rows(
        dz2: &[f32], w2t: &[f32], h: &[f32], dz1: &mut [f32], classes: usize,
    )
}

/// `dz1 = (dz2·w2ᵀ) ⊙ [h > 0]`: the gradient at the hidden layer's input, `[rows, hidden]`.
pub(super) fn hidden_grad(
    isa: Isa,
    dz2: &[f32],
    w2t: &[f32],
    h: &[f32],
    dz1: &mut [f32],
    classes: usize,
) {
    let hidden = w2t.len() / classes;
    dz2.par_chunks(ROWS_PER_TASK * classes)
        .zip(h.par_chunks(ROWS_PER_TASK * hidden))
        .zip(dz1.par_chunks_mut(ROWS_PER_TASK * hidden))
        .for_each(|((g, h), d)| hidden_grad_part(isa, g, w2t, h, d, classes));
}

#[inline(always)]
fn back_rows<S: Simd>(s: S, dz2: &[f32], w2t: &[f32], dh: &mut [f32], classes: usize) {
    let hidden = w2t.len() / classes;
    for (g, out) in dz2.chunks(classes).zip(dh.chunks_mut(hidden)) {
        out.fill(0.0);
        for (c, &gc) in g.iter().enumerate() {
            for (o, &w) in out.iter_mut().zip(&w2t[c * hidden..(c + 1) * hidden]) {
                *o = s.madd(gc, w, *o);
            }
        }
    }
}

dispatch! {
    /// The gradient at the output layer's input for some rows.
    fn back_part = back_rows(dz2: &[f32], w2t: &[f32], dh: &mut [f32], classes: usize)
}

/// `dh = dz2·w2ᵀ`: the gradient at the output layer's input `[rows, hidden]`, before any
/// dropout or activation (see [`through`]).
pub(super) fn output_input_grad(
    isa: Isa,
    dz2: &[f32],
    w2t: &[f32],
    dh: &mut [f32],
    classes: usize,
) {
    let hidden = w2t.len() / classes;
    dz2.par_chunks(ROWS_PER_TASK * classes)
        .zip(dh.par_chunks_mut(ROWS_PER_TASK * hidden))
        .for_each(|(g, d)| back_part(isa, g, w2t, d, classes));
}

/// A hidden layer's values for the backward pass: its activation `a`, its pre-activation `z`
/// where the activation's derivative needs it, and the dropout mask applied to it.
pub(super) struct LayerValues<'a> {
    pub(super) a: &'a [f32],
    pub(super) z: Option<&'a [f32]>,
    pub(super) mask: Option<&'a [f32]>,
}

/// `dh` (the gradient at what a hidden layer handed on) turned, in place, into the gradient at
/// its pre-activation: through its dropout mask, then its activation's derivative.
pub(super) fn through<'a>(isa: Isa, act: Activation, layer: &LayerValues<'a>, dh: &mut [f32]) {
    let chunk = ROWS_PER_TASK * 64;
    dh.par_chunks_mut(chunk).enumerate().for_each(|(k, d)| {
        let at = k * chunk;
        let n = d.len();
        let part = |s: Option<&'a [f32]>| s.map(|s| &s[at..at + n]);
        let a = &layer.a[at..at + n];
        through_part(isa, act, a, part(layer.z), part(layer.mask), d);
    });
}

dispatch! {
    /// [`through`] on one part of a layer.
    fn through_part = through_values(
        act: Activation, a: &[f32], z: Option<&[f32]>, mask: Option<&[f32]>, g: &mut [f32],
    )
}

/// `g ← (g ⊙ mask) ⊙ act'(z, a)` element by element, the activation chosen once per part (so
/// that each loop is branch-free and vectorises); a unit whose derivative is 0 passes nothing,
/// even a NaN (as ReLU's mask does).
#[inline(always)]
fn through_values<S: Simd>(
    _: S,
    act: Activation,
    a: &[f32],
    z: Option<&[f32]>,
    mask: Option<&[f32]>,
    g: &mut [f32],
) {
    if let Some(mask) = mask {
        for (g, &m) in g.iter_mut().zip(mask) {
            *g *= m;
        }
    }
    let pass = |g: f32, d: f32| if d == 0.0 { 0.0 } else { g * d };
    match (act, z) {
        (Activation::Relu, _) => {
            for (g, &a) in g.iter_mut().zip(a) {
                *g = if a <= 0.0 { 0.0 } else { *g };
            }
        }
        (Activation::Tanh, _) => {
            for (g, &a) in g.iter_mut().zip(a) {
                *g = pass(*g, 1.0 - a * a);
            }
        }
        (Activation::Gelu, z) => {
            let z = z.unwrap_or(a);
            for ((g, &z), &a) in g.iter_mut().zip(z).zip(a) {
                *g = pass(*g, Activation::Gelu.derivative(z, a));
            }
        }
    }
}

/// `out = a ⊙ mask`: a hidden layer's activation with its dropout mask applied.
pub(super) fn masked(a: &[f32], mask: &[f32], out: &mut [f32]) {
    out.par_chunks_mut(ROWS_PER_TASK * 64)
        .zip(a.par_chunks(ROWS_PER_TASK * 64))
        .zip(mask.par_chunks(ROWS_PER_TASK * 64))
        .for_each(|((o, a), m)| {
            for ((o, &a), &m) in o.iter_mut().zip(a).zip(m) {
                *o = a * m;
            }
        });
}

#[inline(always)]
fn output_grad_rows<S: Simd>(
    s: S,
    dz2: &[f32],
    h: &[f32],
    c: usize,
    classes: usize,
    out: &mut [f32],
) {
    let hidden = out.len();
    out.fill(0.0);
    for (g, hr) in dz2.chunks(classes).zip(h.chunks(hidden)) {
        let gc = g[c];
        for (o, &x) in out.iter_mut().zip(hr) {
            *o = s.madd(gc, x, *o);
        }
    }
}

dispatch! {
    /// One class's row of the output weights' gradient.
    fn output_grad_row = output_grad_rows(
        dz2: &[f32], h: &[f32], c: usize, classes: usize, out: &mut [f32],
    )
}

/// The output layer's gradients: `dw2t [C, hidden] = dz2ᵀ·h` (transposed, as the weights are
/// kept) and `db2 = Σ dz2` over the rows.
pub(super) fn output_grads(isa: Isa, dz2: &[f32], h: &[f32], dw2t: &mut [f32], db2: &mut [f32]) {
    let classes = db2.len();
    let hidden = dw2t.len() / classes;
    dw2t.par_chunks_mut(hidden)
        .enumerate()
        .for_each(|(c, row)| output_grad_row(isa, dz2, h, c, classes, row));
    column_sums(dz2, db2);
}

/// `out[j] = Σ_r m[r, j]` for a row-major `m` with `out.len()` columns.
pub(super) fn column_sums(m: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks(out.len()) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}
