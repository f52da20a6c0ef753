//! How the CPU engine lays out what it multiplies: a batch's non-zero pixels by image ([`Csr`])
//! and by pixel ([`Csc`]), regrouped into panels of `R` images or pixels ([`Panels`]), and matrices in
//! column blocks ([`to_blocked`]) so that a task reading one block stays within a few pages.

use std::ops::Range;

/// Columns of a matrix block: eight AVX2 vectors summed in registers at once.
pub(super) const BLOCK: usize = 64;

/// Members of a panel: images (forward) or pixels (gradient) grouped `R` at a time.
pub(super) const R: usize = 6;

/// A batch's non-zero pixels, image by image: image `r`'s are `cols/vals[start[r]..start[r+1]]`.
#[derive(Debug, Clone, Default)]
pub(super) struct Csr {
    pub(super) start: Vec<u32>,
    pub(super) cols: Vec<u16>,
    pub(super) vals: Vec<f32>,
}

impl Csr {
    fn row(&self, r: usize) -> (&[u16], &[f32]) {
        let (a, b) = (self.start[r] as usize, self.start[r + 1] as usize);
        (&self.cols[a..b], &self.vals[a..b])
    }
}

/// A batch's non-zeros pixel by pixel: pixel `i`'s are `rows/vals[start[i]..start[i+1]]`, the
/// rows counted from the batch's first image.
#[derive(Debug, Clone, Default)]
pub(super) struct Csc {
    start: Vec<u32>,
    rows: Vec<u32>,
    vals: Vec<f32>,
}

impl Csc {
    /// Transposes the images `batch` of `x` (of `inputs` pixels), reusing this value's buffers.
    pub(super) fn fill(&mut self, x: &Csr, batch: Range<usize>, inputs: usize) {
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

/// A batch's non-zeros regrouped for the products: `R` images (or pixels) at a time, each group
/// holding the union of its images' non-zero pixels (or pixels' images) and each one's value
/// there (0 where it has none). One loaded row of the other operand then serves the whole
/// group, as a dense product's does, while the zeros the group shares are skipped.
#[derive(Debug, Clone, Default)]
pub(super) struct Panels {
    start: Vec<u32>,
    idx: Vec<u32>,
    vals: Vec<[f32; R]>,
    /// Images (or pixels) in all: the last group may have fewer than `R`.
    count: usize,
    /// A dense row of values per index, and whether it is in use, while a group is gathered.
    gather: Vec<[f32; R]>,
    used: Vec<bool>,
}

impl Panels {
    /// Images (or pixels) in all.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Groups of `R` (the last one may hold fewer).
    pub(super) fn groups(&self) -> usize {
        self.count.div_ceil(R)
    }

    /// Group `q`'s indices and each one's `R` values.
    pub(super) fn group(&self, q: usize) -> (&[u32], &[[f32; R]]) {
        let (a, b) = (self.start[q] as usize, self.start[q + 1] as usize);
        (&self.idx[a..b], &self.vals[a..b])
    }

    fn clear(&mut self, count: usize, width: usize) {
        self.count = count;
        self.start.clear();
        self.start.push(0);
        self.idx.clear();
        self.vals.clear();
        self.gather.clear();
        self.gather.resize(width, [0.0; R]);
        self.used.clear();
        self.used.resize(width, false);
    }

    /// Adds one group from its images' (or pixels') `(index, value)` lists.
    fn push_group<'a>(&mut self, lists: impl Iterator<Item = (&'a [u32], &'a [f32])>) {
        for (g, (idx, vals)) in lists.enumerate() {
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
    pub(super) fn images(&mut self, x: &Csr, batch: Range<usize>, inputs: usize) {
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
    pub(super) fn pixels(&mut self, x: &Csc, rows: usize, inputs: usize) {
        self.clear(inputs, rows);
        for first in (0..inputs).step_by(R) {
            let end = (first + R).min(inputs);
            let lists: Vec<(&[u32], &[f32])> = (first..end).map(|i| x.col(i)).collect();
            self.push_group(lists.into_iter());
        }
    }
}

/// `[rows, cols]` row-major → the same in column blocks of `BLOCK`: block `b` (columns
/// `col = b·BLOCK` on, `width` of them) holds its `rows × width` values contiguously from
/// offset `rows·col`. A task reading one block of a matrix then stays within a few pages,
/// which matters more than the cache on a virtual machine's address translation.
pub(super) fn to_blocked(src: &[f32], rows: usize, cols: usize, dst: &mut Vec<f32>) {
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
pub(super) fn from_blocked(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
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

/// `[rows, cols]` row-major → `[cols, rows]`.
pub(super) fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = x[r * cols + c];
        }
    }
    out
}
