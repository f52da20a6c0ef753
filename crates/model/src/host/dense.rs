//! The dense products through the `gemm` crate (which picks its own instruction set): the
//! first layer's forward `h = act(x·W1 + b1)` and gradient `xᵀ·dz1` on the dense path, and every
//! hidden→hidden layer's forward, weight gradient and input gradient on both paths.

use rayon::prelude::*;

use super::simd::{dispatch, Isa, Simd};
use crate::layers::Activation;

/// Images per parallel task of the bias-and-activation pass.
const ROWS_PER_TASK: usize = 16;

/// `a = act(lhs·w + b)` for `lhs` `[rows, fan_in]` and `w` `[fan_in, fan_out]` (row-major);
/// with `z`, the pre-activation `lhs·w + b` is kept there too (GELU's derivative needs it).
pub(super) fn forward(
    isa: Isa,
    lhs: &[f32],
    w: &[f32],
    b: &[f32],
    act: Activation,
    a: &mut [f32],
    z: Option<&mut [f32]>,
) {
    let fan_out = b.len();
    let rows = a.len() / fan_out;
    let fan_in = w.len() / fan_out;
    matmul(rows, fan_out, fan_in, a, lhs, (fan_in, 1), w, (fan_out, 1));
    let chunk = ROWS_PER_TASK * fan_out;
    match z {
        None => a
            .par_chunks_mut(chunk)
            .for_each(|part| activate_part(isa, b, act, part, None)),
        Some(z) => a
            .par_chunks_mut(chunk)
            .zip(z.par_chunks_mut(chunk))
            .for_each(|(part, zs)| activate_part(isa, b, act, part, Some(zs))),
    }
}

dispatch! {
    /// [`activate_rows`] on one part of a layer's rows.
    fn activate_part = activate_rows(b: &[f32], act: Activation, a: &mut [f32], z: Option<&mut [f32]>)
}

/// `a ← act(a + b)` row by row (rows of `b.len()`), keeping `a + b` in `z` when given; the
/// activation chosen once (so that ReLU's loop is branch-free and vectorises).
#[inline(always)]
fn activate_rows<S: Simd>(_: S, b: &[f32], act: Activation, a: &mut [f32], z: Option<&mut [f32]>) {
    let width = b.len();
    match z {
        Some(z) => {
            for (row, zr) in a.chunks_mut(width).zip(z.chunks_mut(width)) {
                for ((o, zo), &bias) in row.iter_mut().zip(zr).zip(b) {
                    *zo = *o + bias;
                    *o = act.apply(*zo);
                }
            }
        }
        None if act == Activation::Relu => {
            for row in a.chunks_mut(width) {
                for (o, &bias) in row.iter_mut().zip(b) {
                    let z = *o + bias;
                    // As `Activation::apply`: a NaN stays.
                    *o = if z <= 0.0 { 0.0 } else { z };
                }
            }
        }
        None => {
            for row in a.chunks_mut(width) {
                for (o, &bias) in row.iter_mut().zip(b) {
                    *o = act.apply(*o + bias);
                }
            }
        }
    }
}

/// A layer's weight gradient `lhsᵀ·dz [fan_in, fan_out]` from its input `lhs [rows, fan_in]` and
/// the gradient at its output `dz [rows, fan_out]`, into `dw`.
pub(super) fn weight_grad(lhs: &[f32], dz: &[f32], rows: usize, dw: &mut [f32]) {
    let fan_out = dz.len() / rows.max(1);
    let fan_in = lhs.len() / rows.max(1);
    matmul(
        fan_in,
        fan_out,
        rows,
        dw,
        lhs,
        (1, fan_in),
        dz,
        (fan_out, 1),
    );
}

/// The gradient at a layer's input, `dz·wᵀ [rows, fan_in]`, from the gradient at its output
/// `dz [rows, fan_out]` and its weights `w [fan_in, fan_out]`, into `dh`.
pub(super) fn input_grad(dz: &[f32], w: &[f32], fan_out: usize, dh: &mut [f32]) {
    let rows = dz.len() / fan_out.max(1);
    let fan_in = w.len() / fan_out.max(1);
    matmul(rows, fan_in, fan_out, dh, dz, (fan_out, 1), w, (1, fan_out));
}

/// `dst [m, n] = lhs [m, k] · rhs [k, n]`, with the operands' (row, column) strides.
#[allow(clippy::too_many_arguments)] // the shape of a strided product
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    lhs: &[f32],
    lhs_strides: (usize, usize),
    rhs: &[f32],
    rhs_strides: (usize, usize),
) {
    assert!(dst.len() >= m * n, "destination holds the product");
    let end = |rows: usize, cols: usize, (rs, cs): (usize, usize)| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        }
    };
    assert!(lhs.len() >= end(m, k, lhs_strides), "lhs holds its matrix");
    assert!(rhs.len() >= end(k, n, rhs_strides), "rhs holds its matrix");
    let threads = rayon::current_num_threads();
    // SAFETY: the asserts above keep every index the strides reach inside the slices, and
    // `dst` does not overlap the operands (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            lhs_strides.1 as isize,
            lhs_strides.0 as isize,
            rhs.as_ptr(),
            rhs_strides.1 as isize,
            rhs_strides.0 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            if threads > 1 {
                gemm::Parallelism::Rayon(threads)
            } else {
                gemm::Parallelism::None
            },
        );
    }
}
