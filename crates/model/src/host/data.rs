//! A split part in host memory, in the training order, as the CPU kernels read it: each image's
//! non-zero features (sparse path) or all of them (dense path), and its class.

use lrsweep_data::{Label, Part};

use super::layout::Csr;
use super::loss::Truth;
use crate::config::CpuLayout;
use crate::record::Regression;

/// Images of a part in the order given, grouped into batches.
#[derive(Debug, Clone)]
pub struct HostData {
    /// Non-zero pixels of every image (sparse path).
    sparse: Csr,
    /// Every feature, `[len, width]` (dense path).
    dense: Vec<f32>,
    labels: Vec<Label>,
    /// A regression's standardised targets, in the order, `sd.len()` per item.
    targets: Vec<f32>,
    /// A regression's targets' standard deviations (empty for a classification).
    sd: Vec<f32>,
    /// What a regression's scores are read against.
    regression: Option<Regression>,
    width: usize,
    batch_size: usize,
    layout: CpuLayout,
}

/// One batch as the kernels take it.
pub(super) enum HostBatch<'a> {
    /// Images by their non-zero pixels, with the index of the batch's first image.
    Sparse(&'a Csr, std::ops::Range<usize>),
    /// Features `[rows, width]`.
    Dense(&'a [f32]),
}

impl HostData {
    /// `part` in the order `order` (or its own), laid out for `layout`; a regression's targets
    /// with their standard deviations `sd`.
    pub fn new(part: &Part, batch_size: usize, order: Option<&[usize]>, layout: CpuLayout) -> Self {
        let len = part.len();
        let index = |r: usize| order.map_or(r, |o| o[r]);
        let width = part.width();
        let labels = (0..len).map(|r| part.labels()[index(r)]).collect();
        let m = part.classes();
        let targets = part.targets().map_or_else(Vec::new, |t| {
            (0..len)
                .flat_map(|r| t[index(r) * m..(index(r) + 1) * m].iter().copied())
                .collect()
        });
        let regression = part
            .target_sum_of_squares()
            .map(|sst| Regression { sst, outputs: m });
        let mut sparse = Csr::default();
        let mut dense = Vec::new();
        if layout == CpuLayout::Dense {
            dense.reserve_exact(len * width);
            for r in 0..len {
                part.extend_row(index(r), &mut dense);
            }
        } else {
            // Column indices are u16: a sparse layout takes at most 65,536 features (the
            // engine refuses more before it gets here).
            let mut nnz = 0;
            for r in 0..len {
                part.for_each_nonzero(index(r), |_, _| nnz += 1);
            }
            sparse.start.reserve_exact(len + 1);
            sparse.cols.reserve_exact(nnz);
            sparse.vals.reserve_exact(nnz);
            sparse.start.push(0);
            for r in 0..len {
                part.for_each_nonzero(index(r), |c, v| {
                    sparse.cols.push(c as u16);
                    sparse.vals.push(v);
                });
                sparse.start.push(sparse.cols.len() as u32);
            }
        }
        Self {
            sparse,
            dense,
            labels,
            sd: match regression {
                Some(_) => part.target_sd().iter().map(|&s| s as f32).collect(),
                None => Vec::new(),
            },
            targets,
            regression,
            width,
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

    /// What a regression's scores are read against; none for a classification.
    pub fn regression(&self) -> Option<Regression> {
        self.regression
    }

    /// Batches in order (the last one smaller): the images and what they are scored against.
    pub(super) fn batches(&self) -> impl Iterator<Item = (HostBatch<'_>, Truth<'_>)> + '_ {
        (0..self.len()).step_by(self.batch_size).map(move |start| {
            let end = (start + self.batch_size).min(self.len());
            let x = match self.layout {
                CpuLayout::Dense => {
                    HostBatch::Dense(&self.dense[start * self.width..end * self.width])
                }
                CpuLayout::Sparse => HostBatch::Sparse(&self.sparse, start..end),
            };
            let truth = match self.regression {
                Some(_) => {
                    let m = self.sd.len();
                    Truth::Targets {
                        values: &self.targets[start * m..end * m],
                        sd: &self.sd,
                    }
                }
                None => Truth::Classes(&self.labels[start..end]),
            };
            (x, truth)
        })
    }
}
