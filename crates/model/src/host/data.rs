//! A split part in host memory, in the training order, as the CPU kernels read it: each image's
//! non-zero pixels (sparse path) or all of its pixels (dense path), and its class.

use lrsweep_data::{Part, PIXELS};

use super::layout::Csr;
use crate::config::CpuLayout;

/// Images of a part in the order given, grouped into batches.
#[derive(Debug, Clone)]
pub struct HostData {
    /// Non-zero pixels of every image (sparse path).
    sparse: Csr,
    /// Every pixel, `[len, 784]` (dense path).
    dense: Vec<f32>,
    labels: Vec<u8>,
    batch_size: usize,
    layout: CpuLayout,
}

/// One batch as the kernels take it.
pub(super) enum HostBatch<'a> {
    /// Images by their non-zero pixels, with the index of the batch's first image.
    Sparse(&'a Csr, std::ops::Range<usize>),
    /// Pixels `[rows, 784]`.
    Dense(&'a [f32]),
}

impl HostData {
    /// `part` in the order `order` (or its own), laid out for `layout`.
    pub fn new(part: &Part, batch_size: usize, order: Option<&[usize]>, layout: CpuLayout) -> Self {
        let len = part.len();
        let index = |r: usize| order.map_or(r, |o| o[r]);
        let image = |r: usize| &part.pixels()[index(r) * PIXELS..(index(r) + 1) * PIXELS];
        let labels = (0..len).map(|r| part.labels()[index(r)]).collect();
        let mut sparse = Csr::default();
        let mut dense = Vec::new();
        if layout == CpuLayout::Dense {
            dense.reserve_exact(len * PIXELS);
            for r in 0..len {
                dense.extend(image(r).iter().map(|&p| p as f32 / 255.0));
            }
        } else {
            let nnz = (0..len)
                .map(|r| image(r).iter().filter(|&&p| p != 0).count())
                .sum();
            sparse.start.reserve_exact(len + 1);
            sparse.cols.reserve_exact(nnz);
            sparse.vals.reserve_exact(nnz);
            sparse.start.push(0);
            for r in 0..len {
                for (c, &p) in image(r).iter().enumerate() {
                    if p != 0 {
                        sparse.cols.push(c as u16);
                        sparse.vals.push(p as f32 / 255.0);
                    }
                }
                sparse.start.push(sparse.cols.len() as u32);
            }
        }
        Self {
            sparse,
            dense,
            labels,
            batch_size: batch_size.max(1),
            layout,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The layout: sparse or dense.
    pub fn layout(&self) -> CpuLayout {
        self.layout
    }

    /// Batches in order (the last one smaller): the images and their classes.
    pub(super) fn batches(&self) -> impl Iterator<Item = (HostBatch<'_>, &[u8])> + '_ {
        (0..self.len()).step_by(self.batch_size).map(move |start| {
            let end = (start + self.batch_size).min(self.len());
            let x = match self.layout {
                CpuLayout::Dense => HostBatch::Dense(&self.dense[start * PIXELS..end * PIXELS]),
                CpuLayout::Sparse => HostBatch::Sparse(&self.sparse, start..end),
            };
            (x, &self.labels[start..end])
        })
    }
}
