//! A split part held on the device, in chunks, ready to be sliced into batches.

use burn::tensor::{Device, Int, Tensor, TensorData};
use lrsweep_data::Part;

use crate::record::Regression;

/// Largest chunk in bytes: below the 128 MiB storage-buffer cap of the CPU Vulkan driver and of
/// many GPUs, with room to spare.
const MAX_CHUNK_BYTES: usize = 64 << 20;

/// One chunk of images on the device.
#[derive(Debug, Clone)]
struct Chunk {
    /// Features as the model sees them, `[rows, width]`.
    x: Tensor<2>,
    /// One-hot targets, `[rows, classes]`.
    y: Tensor<2>,
    /// Class indices, `[rows, 1]`.
    labels: Tensor<2, Int>,
}

/// A part of the data uploaded once, split into chunks whose size is a multiple of the batch.
#[derive(Debug, Clone)]
pub struct DeviceData {
    chunks: Vec<Chunk>,
    chunk_rows: usize,
    batch_size: usize,
    len: usize,
    /// A regression's targets' standard deviations `[1, targets]`, and what its scores are
    /// read against; none for a classification.
    regression: Option<(Tensor<2>, Regression)>,
}

/// One batch: images, one-hot targets (or a regression's standardised targets) and class
/// indices.
pub struct Batch {
    /// `[rows, width]`.
    pub x: Tensor<2>,
    /// `[rows, classes]`: one-hot, or a regression's targets.
    pub y: Tensor<2>,
    /// `[rows, 1]`.
    pub labels: Tensor<2, Int>,
    /// A regression's targets' standard deviations `[1, targets]`.
    pub sd: Option<Tensor<2>>,
}

impl DeviceData {
    /// Uploads `part` in the order given by `order` (or its own order), chunked so that batches of
    /// `batch_size` never straddle two chunks.
    pub fn upload(
        part: &Part,
        batch_size: usize,
        order: Option<&[usize]>,
        device: &Device,
    ) -> Self {
        let len = part.len();
        let batch_size = batch_size.max(1);
        let (width, classes) = (part.width(), part.classes());
        let rows_cap = (MAX_CHUNK_BYTES / ((width + classes) * 4)).max(batch_size);
        let chunk_rows = (rows_cap / batch_size) * batch_size;
        let gather = |range: std::ops::Range<usize>| -> (Vec<f32>, Vec<f32>, Vec<i32>) {
            let idx: Vec<usize> = match order {
                Some(o) => o[range].to_vec(),
                None => range.collect(),
            };
            let mut x = Vec::with_capacity(idx.len() * width);
            let mut y = Vec::with_capacity(idx.len() * classes);
            let mut l = Vec::with_capacity(idx.len());
            for &i in &idx {
                part.extend_row(i, &mut x);
                y.extend(part.one_hot(i..i + 1));
                l.push(part.labels()[i] as i32);
            }
            (x, y, l)
        };
        let chunks = (0..len)
            .step_by(chunk_rows)
            .map(|start| {
                let end = (start + chunk_rows).min(len);
                let rows = end - start;
                let (x, y, l) = gather(start..end);
                Chunk {
                    x: Tensor::from_data(TensorData::new(x, [rows, width]), device),
                    y: Tensor::from_data(TensorData::new(y, [rows, classes]), device),
                    labels: Tensor::from_data(TensorData::new(l, [rows, 1]), device),
                }
            })
            .collect();
        let regression = part.target_sum_of_squares().map(|sst| {
            let sd: Vec<f32> = part.target_sd().iter().map(|&s| s as f32).collect();
            (
                Tensor::from_data(TensorData::new(sd, [1, classes]), device),
                Regression {
                    sst,
                    outputs: classes,
                },
            )
        });
        Self {
            chunks,
            chunk_rows,
            batch_size,
            len,
            regression,
        }
    }

    /// What a regression's scores are read against; none for a classification.
    pub fn regression(&self) -> Option<Regression> {
        self.regression.as_ref().map(|(_, r)| *r)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Batches of the upload's batch size (the last one smaller), sliced on the device, in order.
    pub fn batches(&self) -> impl Iterator<Item = Batch> + '_ {
        (0..self.len).step_by(self.batch_size).map(move |start| {
            let rows = self.batch_size.min(self.len - start);
            let chunk = &self.chunks[start / self.chunk_rows];
            let offset = start % self.chunk_rows;
            Batch {
                x: chunk.x.clone().narrow(0, offset, rows),
                y: chunk.y.clone().narrow(0, offset, rows),
                labels: chunk.labels.clone().narrow(0, offset, rows),
                sd: self.regression.as_ref().map(|(sd, _)| sd.clone()),
            }
        })
    }
}
