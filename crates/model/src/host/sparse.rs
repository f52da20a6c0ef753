//! The sparse path's two large products, over a batch's non-zeros laid out as panels
//! ([`Panels`]): the forward `h = act(x·W1 + b1)` and W1's gradient `xᵀ·dz1` with Adam applied
//! as soon as a block of it is summed, so that the gradient is never stored.
//!
//! Both run through one block driver ([`panel_block`]): W1 (or dz1) in column blocks of
//! [`BLOCK`], each task one block of a range of panel groups, each group's `R × NC` sums held
//! in registers while one loaded row of the block serves the whole group. Every output element
//! is computed by one task in a fixed order, so results do not depend on the number of threads.

use std::ops::Range;

use rayon::prelude::*;

use super::layout::{Panels, BLOCK, R};
use super::simd::{dispatch, Isa, Simd};
use crate::layers::Activation;
use crate::optim::Step;

/// Columns of the output summed at once by a panel: two eight-lane vectors, so that a group's
/// `R × NC` sums stay in registers.
const NC: usize = 16;

/// How many entries ahead of the one being summed the panel kernel prefetches its row.
const PREFETCH: usize = 16;

/// A matrix that parallel tasks write in disjoint blocks (see [`for_blocks`]).
#[derive(Clone, Copy)]
struct Shared(*mut f32);

// SAFETY: tasks only write disjoint elements through it (each task owns one column block of a
// range of rows), and the slice it points into outlives the parallel loop that uses it.
unsafe impl Send for Shared {}
// SAFETY: as for Send: tasks share the pointer, never an element.
unsafe impl Sync for Shared {}

impl Shared {
    /// Elements `at..at + len`.
    ///
    /// # Safety
    /// No other task may access these elements while the returned slice lives, and they must
    /// lie inside the matrix the pointer was made from.
    #[inline(always)]
    unsafe fn part<'a>(self, at: usize, len: usize) -> &'a mut [f32] {
        // SAFETY: the caller keeps `at..at + len` inside the matrix and owns those elements.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(at), len) }
    }
}

/// Runs `task(col, width, rows)` for every column block of a `[rows, cols]` matrix and every
/// part of its rows, in parallel: block by block, so that a task reads one block of a weight
/// matrix (`BLOCK` columns of every row: 200 KB for MNIST) over and over from the core's cache
/// instead of the whole matrix once per few images.
fn for_blocks(rows: usize, cols: usize, task: impl Fn(usize, usize, Range<usize>) + Sync) {
    let blocks = cols.div_ceil(BLOCK);
    let parts = rayon::current_num_threads().clamp(1, rows.max(1));
    let per = rows.div_ceil(parts).max(1);
    (0..blocks * parts).into_par_iter().for_each(|item| {
        let (block, part) = (item / parts, item % parts);
        let col = block * BLOCK;
        let range = (part * per).min(rows)..((part + 1) * per).min(rows);
        task(col, BLOCK.min(cols - col), range);
    });
}

/// `acc[g][j] += x[g]·w[j]` over the panel's entries `(k, x)`, `w` being row `k` of a
/// row-major matrix of row length `stride` from column `col`: one loaded row of `w` serves the
/// `R` members of the group. Only the first `width` (≤ `NC`) columns are used; a full `NC`
/// keeps the `R × NC` sums in vector registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // a panel's operands and the place of its row
fn panel_sum<S: Simd>(
    s: S,
    acc: &mut [[f32; NC]; R],
    idx: &[u32],
    vals: &[[f32; R]],
    w: &[f32],
    stride: usize,
    col: usize,
    width: usize,
) {
    if width < NC {
        for (&k, x) in idx.iter().zip(vals) {
            let row = &w[k as usize * stride + col..][..width];
            for g in 0..R {
                for (a, &wj) in acc[g].iter_mut().zip(row) {
                    *a = s.madd(x[g], wj, *a);
                }
            }
        }
        return;
    }
    let mut a = [[s.zero(); 2]; R];
    for g in 0..R {
        a[g] = [s.load(&acc[g][..8]), s.load(&acc[g][8..])];
    }
    for (n, (&k, x)) in idx.iter().zip(vals).enumerate() {
        if let Some(&ahead) = idx.get(n + PREFETCH) {
            s.prefetch(w, ahead as usize * stride + col);
        }
        let at = k as usize * stride + col;
        let row = &w[at..at + NC];
        let (w0, w1) = (s.load(&row[..8]), s.load(&row[8..]));
        for g in 0..R {
            let b = s.splat(x[g]);
            a[g][0] = s.fma(b, w0, a[g][0]);
            a[g][1] = s.fma(b, w1, a[g][1]);
        }
    }
    for g in 0..R {
        let (lo, hi) = acc[g].split_at_mut(8);
        s.store(a[g][0], lo);
        s.store(a[g][1], hi);
    }
}

/// The loop both sparse products share, over one column block `col..col + width` of a matrix
/// kept in blocks (`block`: its `rows × width` values): for each group `q` of `groups` and each
/// `NC`-wide chunk `c` of the block, the sums `bias[c + j] + Σ x[g]·block[k][c + j]` over the
/// group's entries, handed over as `finish(image or pixel, c, sums)`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one block of a product: operands, place and epilogue
fn panel_block<S: Simd>(
    s: S,
    x: &Panels,
    groups: Range<usize>,
    block: &[f32],
    col: usize,
    width: usize,
    bias: Option<&[f32]>,
    mut finish: impl FnMut(usize, usize, &[f32]),
) {
    for q in groups {
        let (idx, vals) = x.group(q);
        let members = R.min(x.count() - q * R);
        for c in (col..col + width).step_by(NC) {
            let w = NC.min(col + width - c);
            let mut acc = [[0f32; NC]; R];
            if let Some(b) = bias {
                for a in acc.iter_mut() {
                    a[..w].copy_from_slice(&b[c..c + w]);
                }
            }
            panel_sum(s, &mut acc, idx, vals, block, width, c - col, w);
            for (g, a) in acc.iter().enumerate().take(members) {
                finish(q * R + g, c, &a[..w]);
            }
        }
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)] // one block of the forward product: operands and place
fn forward_block<S: Simd>(
    s: S,
    x: &Panels,
    groups: Range<usize>,
    w1: &[f32],
    b1: &[f32],
    act: Activation,
    (h, z): (Shared, Option<Shared>),
    col: usize,
    width: usize,
) {
    let hidden = b1.len();
    let inputs = w1.len() / hidden;
    // This block of W1: `inputs` rows of `width` columns, contiguous (see `to_blocked`).
    let block = &w1[inputs * col..inputs * (col + width)];
    panel_block(
        s,
        x,
        groups,
        block,
        col,
        width,
        Some(b1),
        |image, c, sums| {
            // SAFETY: the image's columns c..c+w belong to this task alone (for_blocks).
            let out = unsafe { h.part(image * hidden + c, sums.len()) };
            for (o, &v) in out.iter_mut().zip(sums) {
                *o = act.apply(v);
            }
            if let Some(z) = z {
                // SAFETY: as for `h`: this task's elements alone.
                let pre = unsafe { z.part(image * hidden + c, sums.len()) };
                pre.copy_from_slice(sums);
            }
        },
    );
}

dispatch! {
    /// One block of `h = act(x·w1 + b1)`.
    fn forward_part = forward_block(
        x: &Panels, groups: Range<usize>, w1: &[f32], b1: &[f32], act: Activation,
        out: (Shared, Option<Shared>), col: usize, width: usize,
    )
}

/// `h = act(x·w1 + b1)` for a sparse batch given as image panels ([`Panels::images`]), W1
/// in blocks ([`super::layout::to_blocked`]); `h` is `[rows, hidden]`; with `z`, the
/// pre-activation kept there too.
pub(super) fn forward(
    isa: Isa,
    x: &Panels,
    w1: &[f32],
    b1: &[f32],
    act: Activation,
    h: &mut [f32],
    z: Option<&mut [f32]>,
) {
    let hidden = b1.len();
    // The writes below stay inside h (and z); every read is a checked slice.
    assert!(h.len() >= x.count() * hidden, "h holds the batch");
    let z = z.map(|z| {
        assert!(z.len() >= x.count() * hidden, "z holds the batch");
        Shared(z.as_mut_ptr())
    });
    let out = (Shared(h.as_mut_ptr()), z);
    for_blocks(x.groups(), hidden, |col, width, groups| {
        forward_part(isa, x, groups, w1, b1, act, out, col, width)
    });
}

#[inline(always)]
#[allow(clippy::too_many_arguments)] // one block of the fused gradient and update
fn w1_block<S: Simd>(
    s: S,
    x: &Panels,
    groups: Range<usize>,
    dz1: &[f32],
    w1: [Shared; 3],
    hidden: usize,
    col: usize,
    width: usize,
    k: Step,
) {
    let inputs = x.count();
    let rows = dz1.len() / hidden;
    // This block of dz1: `rows` rows of `width` columns, contiguous.
    let block = &dz1[rows * col..rows * (col + width)];
    panel_block(s, x, groups, block, col, width, None, |pixel, c, grad| {
        let at = inputs * col + pixel * width + (c - col);
        // SAFETY: W1's row `pixel`, columns c..c+w, belong to this task alone (for_blocks).
        let (p, m, v) = unsafe {
            (
                w1[0].part(at, grad.len()),
                w1[1].part(at, grad.len()),
                w1[2].part(at, grad.len()),
            )
        };
        k.apply(p, m, v, grad);
    });
}

dispatch! {
    /// One block of W1's gradient and Adam update.
    fn w1_part = w1_block(
        x: &Panels, groups: Range<usize>, dz1: &[f32], w1: [Shared; 3], hidden: usize,
        col: usize, width: usize, k: Step,
    )
}

/// Adam on W1 (in blocks, as are its moments and `dz1`) with the gradient `xᵀ·dz1` of a sparse
/// batch given as pixel panels ([`Panels::pixels`]), block by block, each block of the gradient
/// summed in registers and applied at once: the gradient is never stored.
pub(super) fn w1_update(
    isa: Isa,
    x: &Panels,
    dz1: &[f32],
    w1: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    k: Step,
) {
    let inputs = x.count();
    let hidden = w1.len() / inputs.max(1);
    // The writes below stay inside the three matrices; every read is a checked slice.
    assert!(m.len() == w1.len() && v.len() == w1.len() && inputs * hidden == w1.len());
    let parts = [
        Shared(w1.as_mut_ptr()),
        Shared(m.as_mut_ptr()),
        Shared(v.as_mut_ptr()),
    ];
    for_blocks(x.groups(), hidden, |col, width, groups| {
        w1_part(isa, x, groups, dz1, parts, hidden, col, width, k)
    });
}
