//! The dense path's two large products through the `gemm` crate (which picks its own
//! instruction set): the forward `h = relu(x·W1 + b1)` and W1's gradient `xᵀ·dz1`.

use rayon::prelude::*;

use super::simd::relu;

/// Images per parallel task of the bias-and-ReLU pass.
const ROWS_PER_TASK: usize = 16;

/// `h = relu(x·w1 + b1)` for a dense batch `x` `[rows, inputs]`.
pub(super) fn forward(x: &[f32], w1: &[f32], b1: &[f32], h: &mut [f32]) {
    let hidden = b1.len();
    let rows = h.len() / hidden;
    let inputs = w1.len() / hidden;
    matmul(rows, hidden, inputs, h, x, (inputs, 1), w1, (hidden, 1));
    h.par_chunks_mut(ROWS_PER_TASK * hidden).for_each(|part| {
        for row in part.chunks_mut(hidden) {
            for (o, &b) in row.iter_mut().zip(b1) {
                *o = relu(*o + b);
            }
        }
    });
}

/// W1's gradient `xᵀ·dz1 [inputs, hidden]` of a dense batch `x [rows, inputs]`, into `dw1`.
pub(super) fn w1_grad(x: &[f32], dz1: &[f32], rows: usize, dw1: &mut [f32]) {
    let hidden = dz1.len() / rows.max(1);
    let inputs = x.len() / rows.max(1);
    matmul(inputs, hidden, rows, dw1, x, (1, inputs), dz1, (hidden, 1));
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
