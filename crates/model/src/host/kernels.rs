//! The products and passes of one training step, on host memory, row-major throughout.
//!
//! The two large products of a step take the input batch as an operand: `x·W1` (forward) and
//! `xᵀ·dz1` (W1's gradient). With mostly-zero images (MNIST: 19% of pixels non-zero) both skip
//! the zeros: the forward walks each image's non-zeros ([`Csr`]) and adds the matching rows of
//! W1; the gradient walks each pixel's images ([`Csc`]) and applies Adam to W1's row as soon as
//! the row's gradient is summed, so the gradient is never stored. Dense inputs take the `gemm`
//! crate's products instead. Bias, ReLU and its mask are applied in the products' passes.
//!
//! Every output element is computed by one thread in a fixed order, so results do not depend on
//! the number of threads; each member of a stack is computed alone, so a member's numbers never
//! depend on another's. The inner loops are compiled twice, for AVX2 with FMA (chosen at run
//! time) and portably.

use std::ops::Range;

use rayon::prelude::*;

use crate::adam::{adam_element, FusedScalars};
use crate::loss::{LossKind, KERAS_EPSILON};

/// Columns summed in registers at once: eight AVX2 vectors.
const BLOCK: usize = 64;

/// Images per parallel task in the row-wise passes (the small products).
const ROWS_PER_TASK: usize = 16;

/// A batch's non-zero pixels, image by image: image `r`'s are `cols/vals[start[r]..start[r+1]]`.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    pub(crate) start: Vec<u32>,
    pub(crate) cols: Vec<u16>,
    pub(crate) vals: Vec<f32>,
}

impl Csr {
    /// Number of images.
    pub fn rows(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    fn row(&self, r: usize) -> (&[u16], &[f32]) {
        let (a, b) = (self.start[r] as usize, self.start[r + 1] as usize);
        (&self.cols[a..b], &self.vals[a..b])
    }
}

/// A batch's non-zeros pixel by pixel: pixel `i`'s are `rows/vals[start[i]..start[i+1]]`, the
/// rows counted from the batch's first image.
#[derive(Debug, Clone, Default)]
pub struct Csc {
    start: Vec<u32>,
    rows: Vec<u32>,
    vals: Vec<f32>,
}

impl Csc {
    /// Transposes the images `batch` of `x` (of `inputs` pixels), reusing this value's buffers.
    pub fn fill(&mut self, x: &Csr, batch: Range<usize>, inputs: usize) {
        self.start.clear();
        self.start.resize(inputs + 1, 0);
        let (a, b) = (x.start[batch.start] as usize, x.start[batch.end] as usize);
        for &c in &x.cols[a..b] {
            self.start[c as usize + 1] += 1;
        }
        for i in 0..inputs {
            self.start[i + 1] += self.start[i];
        }
        let nnz = b - a;
        self.rows.resize(nnz, 0);
        self.vals.resize(nnz, 0.0);
        let mut next: Vec<u32> = self.start[..inputs].to_vec();
        for (n, r) in batch.enumerate() {
            let (cols, vals) = x.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                let at = &mut next[c as usize];
                self.rows[*at as usize] = n as u32;
                self.vals[*at as usize] = v;
                *at += 1;
            }
        }
    }

    fn col(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        (&self.rows[a..b], &self.vals[a..b])
    }
}

/// Members of a panel: images (forward) or pixels (gradient) grouped `R` at a time.
const R: usize = 6;

/// How many entries ahead of the one being summed the panel kernel prefetches its row.
const PREFETCH: usize = 16;

/// Columns of the output summed at once by a panel: two AVX2 vectors, so that a group's
/// `R × NC` sums stay in registers.
const NC: usize = 16;

/// A batch's non-zeros regrouped for the products: `R` images (or pixels) at a time, each group
/// holding the union of its members' non-zero pixels (or images) and every member's value
/// there (0 where it has none). One loaded row of the other operand then serves the whole
/// group, as a dense product's does, while the zeros the group shares are skipped.
#[derive(Debug, Clone, Default)]
pub struct Panels {
    start: Vec<u32>,
    idx: Vec<u32>,
    vals: Vec<[f32; R]>,
    /// Images (or pixels) in all: the last group may have fewer than `R`.
    members: usize,
    /// A dense row of values per index, and whether it is in use, while a group is gathered.
    gather: Vec<[f32; R]>,
    used: Vec<bool>,
}

impl Panels {
    fn groups(&self) -> usize {
        self.members.div_ceil(R)
    }

    fn group(&self, q: usize) -> (&[u32], &[[f32; R]]) {
        let (a, b) = (self.start[q] as usize, self.start[q + 1] as usize);
        (&self.idx[a..b], &self.vals[a..b])
    }

    fn clear(&mut self, members: usize, width: usize) {
        self.members = members;
        self.start.clear();
        self.start.push(0);
        self.idx.clear();
        self.vals.clear();
        self.gather.clear();
        self.gather.resize(width, [0.0; R]);
        self.used.clear();
        self.used.resize(width, false);
    }

    /// Adds one group from its members' `(index, value)` lists.
    fn push_group<'a>(&mut self, members: impl Iterator<Item = (&'a [u32], &'a [f32])>) {
        for (g, (idx, vals)) in members.enumerate() {
            for (&i, &v) in idx.iter().zip(vals) {
                self.gather[i as usize][g] = v;
                self.used[i as usize] = true;
            }
        }
        for i in 0..self.used.len() {
            if std::mem::take(&mut self.used[i]) {
                self.idx.push(i as u32);
                self.vals
                    .push(std::mem::replace(&mut self.gather[i], [0.0; R]));
            }
        }
        self.start.push(self.idx.len() as u32);
    }

    /// The images `batch` of `x`, `R` at a time, by the pixels any of them has (forward).
    pub fn images(&mut self, x: &Csr, batch: Range<usize>, inputs: usize) {
        self.clear(batch.len(), inputs);
        let mut cols: Vec<Vec<u32>> = vec![Vec::new(); R];
        for first in batch.clone().step_by(R) {
            let end = (first + R).min(batch.end);
            for (g, r) in (first..end).enumerate() {
                cols[g].clear();
                cols[g].extend(x.row(r).0.iter().map(|&c| c as u32));
            }
            let lists: Vec<(&[u32], &[f32])> = (first..end)
                .enumerate()
                .map(|(g, r)| (cols[g].as_slice(), x.row(r).1))
                .collect();
            self.push_group(lists.into_iter());
        }
    }

    /// The pixels `0..inputs` of a batch (`x`, transposed), `R` at a time, by the images any of
    /// them appears in (W1's gradient).
    pub fn pixels(&mut self, x: &Csc, rows: usize, inputs: usize) {
        self.clear(inputs, rows);
        for first in (0..inputs).step_by(R) {
            let end = (first + R).min(inputs);
            let lists: Vec<(&[u32], &[f32])> = (first..end).map(|i| x.col(i)).collect();
            self.push_group(lists.into_iter());
        }
    }
}

/// Whether this processor runs the AVX2 + FMA versions of the inner loops.
fn fast_simd() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `a·b + c`, fused where the loop is compiled for FMA.
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// ReLU that keeps a NaN (as the tensor path's `x <= 0 → 0` does), so divergence shows.
#[inline(always)]
fn relu(x: f32) -> f32 {
    if x <= 0.0 {
        0.0
    } else {
        x
    }
}

/// Defines `$name` calling `$body::<true>` under AVX2 + FMA where the processor has them, and
/// `$body::<false>` elsewhere.
macro_rules! dispatch {
    ($(#[$doc:meta])* fn $name:ident / $fast:ident = $body:ident ($($arg:ident : $ty:ty),* $(,)?)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $fast($($arg: $ty),*) {
            $body::<true>($($arg),*)
        }
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            if fast_simd() {
                // SAFETY: the processor has AVX2 and FMA (checked at run time).
                return unsafe { $fast($($arg),*) };
            }
            $body::<false>($($arg),*)
        }
    };
}

/// A matrix that parallel tasks write in disjoint blocks (see [`for_blocks`]).
#[derive(Clone, Copy)]
struct Shared(*mut f32);

// SAFETY: tasks only write disjoint elements through it (each task owns one column block of a
// range of rows), and the slice it points into outlives the parallel loop that uses it.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Elements `at..at + len`.
    ///
    /// # Safety
    /// No other task may access these elements while the returned slice lives, and they must
    /// lie inside the matrix the pointer was made from.
    #[inline(always)]
    unsafe fn part<'a>(self, at: usize, len: usize) -> &'a mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(at), len)
    }
}

/// `[rows, cols]` row-major → the same in column blocks of `BLOCK`: block `b` (columns
/// `col = b·BLOCK` on, `width` of them) holds its `rows × width` values contiguously from
/// offset `rows·col`. A task reading one block of a matrix then stays within a few pages,
/// which matters more than the cache on a virtual machine's address translation.
pub fn to_blocked(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
    dst.clear();
    dst.reserve(rows * cols);
    for col in (0..cols).step_by(BLOCK) {
        let width = BLOCK.min(cols - col);
        for r in 0..rows {
            dst.extend_from_slice(&src[r * cols + col..r * cols + col + width]);
        }
    }
}

/// The inverse of [`to_blocked`].
pub fn from_blocked(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; rows * cols];
    for col in (0..cols).step_by(BLOCK) {
        let width = BLOCK.min(cols - col);
        for r in 0..rows {
            let at = rows * col + r * width;
            out[r * cols + col..r * cols + col + width].copy_from_slice(&src[at..at + width]);
        }
    }
    out
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
/// row-major matrix of row length `stride` from column `col`: one loaded vector of `w` serves
/// the `R` members of the group. Only the first `width` (≤ `NC`) columns are used.
#[inline(always)]
fn panel_sum<const FMA: bool>(
    acc: &mut [[f32; NC]; R],
    idx: &[u32],
    vals: &[[f32; R]],
    w: &[f32],
    stride: usize,
    col: usize,
    width: usize,
) {
    #[cfg(target_arch = "x86_64")]
    if FMA && width == NC {
        // SAFETY: FMA is only true inside the functions compiled for AVX2 + FMA, which run
        // only on processors that have them (`dispatch!`).
        return unsafe { panel_sum_avx2(acc, idx, vals, w, stride, col) };
    }
    for (&k, x) in idx.iter().zip(vals) {
        let row = &w[k as usize * stride + col..][..width];
        for g in 0..R {
            for (a, &wj) in acc[g].iter_mut().zip(row) {
                *a = madd::<FMA>(x[g], wj, *a);
            }
        }
    }
}

/// [`panel_sum`] for a full `NC` columns with the `R × 2` sums held in AVX registers (written
/// with intrinsics: left to itself the compiler kept them on the stack).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn panel_sum_avx2(
    acc: &mut [[f32; NC]; R],
    idx: &[u32],
    vals: &[[f32; R]],
    w: &[f32],
    stride: usize,
    col: usize,
) {
    use std::arch::x86_64::*;
    let mut a = [[_mm256_setzero_ps(); 2]; R];
    for g in 0..R {
        // SAFETY: acc[g] holds NC = 16 floats.
        unsafe {
            a[g][0] = _mm256_loadu_ps(acc[g].as_ptr());
            a[g][1] = _mm256_loadu_ps(acc[g].as_ptr().add(8));
        }
    }
    for (n, (&k, x)) in idx.iter().zip(vals).enumerate() {
        if let Some(&ahead) = idx.get(n + PREFETCH) {
            let at = (ahead as usize * stride + col).min(w.len().saturating_sub(1));
            // SAFETY: a prefetch of an address inside `w`; it reads nothing.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(w.as_ptr().add(at) as *const i8) };
        }
        let at = k as usize * stride + col;
        let row = &w[at..at + NC];
        // SAFETY: row holds NC = 16 floats.
        let (w0, w1) = unsafe {
            (
                _mm256_loadu_ps(row.as_ptr()),
                _mm256_loadu_ps(row.as_ptr().add(8)),
            )
        };
        for g in 0..R {
            let b = _mm256_set1_ps(x[g]);
            a[g][0] = _mm256_fmadd_ps(b, w0, a[g][0]);
            a[g][1] = _mm256_fmadd_ps(b, w1, a[g][1]);
        }
    }
    for g in 0..R {
        // SAFETY: acc[g] holds NC = 16 floats.
        unsafe {
            _mm256_storeu_ps(acc[g].as_mut_ptr(), a[g][0]);
            _mm256_storeu_ps(acc[g].as_mut_ptr().add(8), a[g][1]);
        }
    }
}

#[allow(clippy::too_many_arguments)] // one block of a sparse product: its operands and place
#[inline(always)]
fn sparse_forward_block<const FMA: bool>(
    x: &Panels,
    groups: Range<usize>,
    w1: &[f32],
    b1: &[f32],
    h: Shared,
    rows: usize,
    col: usize,
    width: usize,
) {
    let hidden = b1.len();
    let inputs = w1.len() / hidden;
    // This block of W1: `inputs` rows of `width` columns, contiguous (see `to_blocked`).
    let w1 = &w1[inputs * col..inputs * (col + width)];
    for q in groups {
        let (idx, vals) = x.group(q);
        let members = R.min(rows - q * R);
        for c in (col..col + width).step_by(NC) {
            let w = NC.min(col + width - c);
            let mut acc = [[0f32; NC]; R];
            for a in acc.iter_mut() {
                a[..w].copy_from_slice(&b1[c..c + w]);
            }
            panel_sum::<FMA>(&mut acc, idx, vals, w1, width, c - col, w);
            for (g, a) in acc.iter().enumerate().take(members) {
                // SAFETY: row q·R+g's columns c..c+w belong to this task alone (for_blocks).
                let out = unsafe { h.part((q * R + g) * hidden + c, w) };
                for (o, &v) in out.iter_mut().zip(a) {
                    *o = relu(v);
                }
            }
        }
    }
}

dispatch! {
    /// One block of `h = relu(x·w1 + b1)`.
    fn sparse_forward_part / sparse_forward_fast = sparse_forward_block(
        x: &Panels, groups: Range<usize>, w1: &[f32], b1: &[f32], h: Shared, rows: usize,
        col: usize, width: usize,
    )
}

/// `h = relu(x·w1 + b1)` for a sparse batch given as image panels ([`Panels::images`]), W1
/// in blocks ([`to_blocked`]); `h` is `[rows, hidden]`.
pub fn sparse_forward(x: &Panels, w1: &[f32], b1: &[f32], h: &mut [f32]) {
    let hidden = b1.len();
    let rows = x.members;
    // The writes below stay inside h; every read is a checked slice.
    assert!(h.len() >= rows * hidden, "h holds the batch");
    let out = Shared(h.as_mut_ptr());
    for_blocks(x.groups(), hidden, |col, width, groups| {
        sparse_forward_part(x, groups, w1, b1, out, rows, col, width)
    });
}

/// `h = relu(x·w1 + b1)` for a dense batch `x` `[rows, inputs]`.
pub fn dense_forward(x: &[f32], w1: &[f32], b1: &[f32], h: &mut [f32]) {
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

#[inline(always)]
fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
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
            acc[j] = madd::<FMA>(x[j], y[j], acc[j]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn output_rows<const FMA: bool>(h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32]) {
    let classes = b2.len();
    let hidden = w2t.len() / classes;
    for (row, out) in h.chunks(hidden).zip(logits.chunks_mut(classes)) {
        for c in 0..classes {
            out[c] = dot::<FMA>(row, &w2t[c * hidden..(c + 1) * hidden]) + b2[c];
        }
    }
}

dispatch! {
    /// Logits of some rows.
    fn output_part / output_fast = output_rows(h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32])
}

/// `logits [rows, C] = h·w2 + b2`, with `w2t` the output weights transposed `[C, hidden]`.
pub fn output(h: &[f32], w2t: &[f32], b2: &[f32], logits: &mut [f32]) {
    let (classes, hidden) = (b2.len(), w2t.len() / b2.len());
    h.par_chunks(ROWS_PER_TASK * hidden)
        .zip(logits.par_chunks_mut(ROWS_PER_TASK * classes))
        .for_each(|(h, l)| output_part(h, w2t, b2, l));
}

/// Each image's loss and correctness, and (with `dz2`) the gradient of the batch's mean loss
/// with respect to the logits: the arithmetic of [`crate::loss`], image by image. Returns the
/// summed loss and the number of correct predictions (the first largest logit is the guess).
pub fn loss_and_grad(
    kind: LossKind,
    logits: &[f32],
    labels: &[u8],
    mut dz2: Option<&mut [f32]>,
) -> (f64, u32) {
    let classes = logits.len() / labels.len().max(1);
    let scale = 1.0 / labels.len().max(1) as f64;
    let (mut loss, mut correct) = (0f64, 0u32);
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
        let mut exp = [0f32; 64];
        let exp = &mut exp[..classes.min(64)];
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
                inside = if (KERAS_EPSILON..=1.0 - KERAS_EPSILON).contains(&p_true) {
                    1.0
                } else {
                    0.0
                };
                image_loss = -p_true.clamp(KERAS_EPSILON, 1.0 - KERAS_EPSILON).ln();
            }
            LossKind::Exact => image_loss = sum.ln() - (row[label] - max),
        }
        loss += image_loss as f64;
        if let Some(dz2) = dz2.as_deref_mut() {
            let out = &mut dz2[r * classes..(r + 1) * classes];
            for (c, (o, &e)) in out.iter_mut().zip(exp.iter()).enumerate() {
                let target = if c == label { 1.0 } else { 0.0 };
                *o = (e / sum - target) * inside * scale as f32;
            }
        }
    }
    (loss, correct)
}

#[inline(always)]
fn hidden_grad_rows<const FMA: bool>(
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
                *o = madd::<FMA>(gc, w, *o);
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
    fn hidden_grad_part / hidden_grad_fast = hidden_grad_rows(
        dz2: &[f32], w2t: &[f32], h: &[f32], dz1: &mut [f32], classes: usize,
    )
}

/// `dz1 = (dz2·w2ᵀ) ⊙ [h > 0]`: the gradient at the hidden layer's input, `[rows, hidden]`.
pub fn hidden_grad(dz2: &[f32], w2t: &[f32], h: &[f32], dz1: &mut [f32], classes: usize) {
    let hidden = w2t.len() / classes;
    dz2.par_chunks(ROWS_PER_TASK * classes)
        .zip(h.par_chunks(ROWS_PER_TASK * hidden))
        .zip(dz1.par_chunks_mut(ROWS_PER_TASK * hidden))
        .for_each(|((g, h), d)| hidden_grad_part(g, w2t, h, d, classes));
}

#[inline(always)]
fn output_grad_rows<const FMA: bool>(
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
            *o = madd::<FMA>(gc, x, *o);
        }
    }
}

dispatch! {
    /// One class's row of the output weights' gradient.
    fn output_grad_row / output_grad_fast = output_grad_rows(
        dz2: &[f32], h: &[f32], c: usize, classes: usize, out: &mut [f32],
    )
}

/// The output layer's gradients: `dw2t [C, hidden] = dz2ᵀ·h` (transposed, as the weights are
/// kept) and `db2 = Σ dz2` over the rows.
pub fn output_grads(dz2: &[f32], h: &[f32], dw2t: &mut [f32], db2: &mut [f32]) {
    let classes = db2.len();
    let hidden = dw2t.len() / classes;
    dw2t.par_chunks_mut(hidden)
        .enumerate()
        .for_each(|(c, row)| output_grad_row(dz2, h, c, classes, row));
    column_sums(dz2, db2);
}

/// `out[j] = Σ_r m[r, j]` for a row-major `m` with `out.len()` columns.
pub fn column_sums(m: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks(out.len()) {
        for (o, &x) in out.iter_mut().zip(row) {
            *o += x;
        }
    }
}

#[allow(clippy::too_many_arguments)] // one block of the fused gradient and update
#[inline(always)]
fn sparse_w1_block<const FMA: bool>(
    x: &Panels,
    groups: Range<usize>,
    dz1: &[f32],
    w1: [Shared; 3],
    hidden: usize,
    col: usize,
    width: usize,
    k: FusedScalars,
) {
    let inputs = x.members;
    let rows = dz1.len() / hidden;
    // This block of dz1 and of W1: `rows` (`inputs`) rows of `width` columns, contiguous.
    let dz1 = &dz1[rows * col..rows * (col + width)];
    for q in groups {
        let (idx, vals) = x.group(q);
        let members = R.min(inputs - q * R);
        for c in (col..col + width).step_by(NC) {
            let w = NC.min(col + width - c);
            let mut acc = [[0f32; NC]; R];
            panel_sum::<FMA>(&mut acc, idx, vals, dz1, width, c - col, w);
            for (g, grad) in acc.iter().enumerate().take(members) {
                let at = inputs * col + (q * R + g) * width + (c - col);
                // SAFETY: W1's row q·R+g, columns c..c+w, belong to this task alone.
                let (p, m, v) =
                    unsafe { (w1[0].part(at, w), w1[1].part(at, w), w1[2].part(at, w)) };
                for j in 0..w {
                    adam_element(&mut p[j], &mut m[j], &mut v[j], grad[j], k);
                }
            }
        }
    }
}

dispatch! {
    /// One block of W1's gradient and Adam update.
    fn sparse_w1_part / sparse_w1_fast = sparse_w1_block(
        x: &Panels, groups: Range<usize>, dz1: &[f32], w1: [Shared; 3], hidden: usize,
        col: usize, width: usize, k: FusedScalars,
    )
}

/// Adam on W1 (in blocks, as are its moments and `dz1`: [`to_blocked`]) with the gradient
/// `xᵀ·dz1` of a sparse batch given as pixel panels ([`Panels::pixels`]), block by block, each block of the gradient summed in registers and
/// applied at once: the gradient is never stored.
pub fn sparse_w1_update(
    x: &Panels,
    dz1: &[f32],
    w1: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    k: FusedScalars,
) {
    let inputs = x.members;
    let hidden = w1.len() / inputs.max(1);
    // The writes below stay inside the three matrices; every read is a checked slice.
    assert!(m.len() == w1.len() && v.len() == w1.len() && inputs * hidden == w1.len());
    let parts = [
        Shared(w1.as_mut_ptr()),
        Shared(m.as_mut_ptr()),
        Shared(v.as_mut_ptr()),
    ];
    for_blocks(x.groups(), hidden, |col, width, groups| {
        sparse_w1_part(x, groups, dz1, parts, hidden, col, width, k)
    });
}

/// W1's gradient `xᵀ·dz1 [inputs, hidden]` of a dense batch `x [rows, inputs]`, into `dw1`.
pub fn dense_w1_grad(x: &[f32], dz1: &[f32], rows: usize, dw1: &mut [f32]) {
    let hidden = dz1.len() / rows.max(1);
    let inputs = x.len() / rows.max(1);
    matmul(inputs, hidden, rows, dw1, x, (1, inputs), dz1, (hidden, 1));
}

/// Adam over whole slices (biases, output weights, a dense W1), in parallel for large ones.
pub fn adam(p: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: FusedScalars) {
    const CHUNK: usize = 1 << 15;
    p.par_chunks_mut(CHUNK)
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .zip(g.par_chunks(CHUNK))
        .for_each(|(((p, m), v), g)| {
            for (((p, m), v), &g) in p.iter_mut().zip(m).zip(v).zip(g) {
                adam_element(p, m, v, g, k);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adam::AdamConfig;

    /// A `[rows, cols]` matrix with about a third of its values non-zero, deterministic.
    fn sparse_matrix(rows: usize, cols: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..rows * cols)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let u = (state >> 8) as f32 / (1 << 24) as f32;
                if u < 0.35 {
                    u * 2.0 - 0.3
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn csr(x: &[f32], cols: usize) -> Csr {
        let mut c = Csr::default();
        c.start.push(0);
        for row in x.chunks(cols) {
            for (j, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                c.cols.push(j as u16);
                c.vals.push(v);
            }
            c.start.push(c.cols.len() as u32);
        }
        c
    }

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{i}: {x} vs {y}");
        }
    }

    // Sizes that leave partial panels (11 images, 13 pixels: groups of 6), partial column
    // blocks (70 hidden: one block of 64 and one of 6; sub-blocks of 16 and a tail of 6).
    const ROWS: usize = 11;
    const INPUTS: usize = 13;
    const HIDDEN: usize = 70;

    #[test]
    fn blocked_layout_round_trips() {
        let m = sparse_matrix(INPUTS, HIDDEN, 1);
        let mut b = Vec::new();
        to_blocked(&m, INPUTS, HIDDEN, &mut b);
        assert_eq!(
            b[..HIDDEN.min(64)],
            m[..64],
            "block 0 starts with row 0's first 64"
        );
        assert_eq!(from_blocked(&b, INPUTS, HIDDEN), m);
    }

    #[test]
    fn sparse_forward_equals_the_dense_formula() {
        let x = sparse_matrix(ROWS, INPUTS, 2);
        let w1 = sparse_matrix(INPUTS, HIDDEN, 3);
        let b1: Vec<f32> = (0..HIDDEN).map(|j| j as f32 * 0.01 - 0.3).collect();
        let mut want = vec![0f32; ROWS * HIDDEN];
        for r in 0..ROWS {
            for j in 0..HIDDEN {
                let z: f32 = (0..INPUTS)
                    .map(|i| x[r * INPUTS + i] * w1[i * HIDDEN + j])
                    .sum();
                want[r * HIDDEN + j] = (z + b1[j]).max(0.0);
            }
        }
        let mut panels = Panels::default();
        panels.images(&csr(&x, INPUTS), 0..ROWS, INPUTS);
        let mut blocked = Vec::new();
        to_blocked(&w1, INPUTS, HIDDEN, &mut blocked);
        let mut h = vec![f32::NAN; ROWS * HIDDEN];
        sparse_forward(&panels, &blocked, &b1, &mut h);
        close(&h, &want);
    }

    #[test]
    fn sparse_w1_update_equals_adam_on_the_dense_gradient() {
        let x = sparse_matrix(ROWS, INPUTS, 4);
        let dz1 = sparse_matrix(ROWS, HIDDEN, 5);
        let w1 = sparse_matrix(INPUTS, HIDDEN, 6);
        let k = FusedScalars::new(&AdamConfig::default(), (1e-3, 1e-7));
        // Reference: the gradient xᵀ·dz1, then the fused update element by element.
        let (mut p, mut m, mut v) = (w1.clone(), vec![0.01f32; w1.len()], vec![0.02f32; w1.len()]);
        for i in 0..INPUTS {
            for j in 0..HIDDEN {
                let g: f32 = (0..ROWS)
                    .map(|r| x[r * INPUTS + i] * dz1[r * HIDDEN + j])
                    .sum();
                let at = i * HIDDEN + j;
                adam_element(&mut p[at], &mut m[at], &mut v[at], g, k);
            }
        }
        let (mut csc, mut panels) = (Csc::default(), Panels::default());
        csc.fill(&csr(&x, INPUTS), 0..ROWS, INPUTS);
        panels.pixels(&csc, ROWS, INPUTS);
        let block = |a: &[f32], rows: usize| {
            let mut b = Vec::new();
            to_blocked(a, rows, HIDDEN, &mut b);
            b
        };
        let (mut bp, mut bm, mut bv) = (
            block(&w1, INPUTS),
            block(&vec![0.01; w1.len()], INPUTS),
            block(&vec![0.02; w1.len()], INPUTS),
        );
        sparse_w1_update(&panels, &block(&dz1, ROWS), &mut bp, &mut bm, &mut bv, k);
        close(&from_blocked(&bm, INPUTS, HIDDEN), &m);
        close(&from_blocked(&bv, INPUTS, HIDDEN), &v);
        close(&from_blocked(&bp, INPUTS, HIDDEN), &p);
    }
}
