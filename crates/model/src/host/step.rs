//! One member's training step and scoring pass on the CPU engine: the network's passes in
//! order, on buffers reused from step to step.

use super::data::HostBatch;
use super::layout::{to_blocked, Csc, Panels};
use super::simd::Isa;
use super::{dense, loss, rows, sparse};
use crate::adam::Slot;
use crate::config::{CpuLayout, TrainConfig};
use crate::loss::LossKind;
use crate::shape::ModelConfig;

/// One member's parameters: its rate, step count and weights with Adam's moments, the output
/// weights kept transposed (`[classes, hidden]`) so that every pass reads them along rows, and
/// W1 in column blocks on the sparse layout.
#[derive(Debug, Clone)]
pub(super) struct Params {
    pub(super) rate: f64,
    /// The rate of each step of the epoch in training (its schedule's); empty: `rate`.
    pub(super) plan: Vec<f64>,
    pub(super) step: u64,
    pub(super) w1: Slot<Vec<f32>>,
    pub(super) b1: Slot<Vec<f32>>,
    pub(super) w2t: Slot<Vec<f32>>,
    pub(super) b2: Slot<Vec<f32>>,
}

impl Params {
    /// The rate of step `b` of the epoch: its plan's (the last one past its end), else `rate`.
    pub(super) fn rate_of_step(&self, b: usize) -> f64 {
        self.plan
            .get(b)
            .or(self.plan.last())
            .copied()
            .unwrap_or(self.rate)
    }
}

/// A sparse batch laid out for the products: by pixel, and its image and pixel panels.
#[derive(Debug, Clone, Default)]
pub(super) struct BatchPanels {
    csc: Csc,
    images: Panels,
    pixels: Panels,
}

/// Buffers of one step, reused from step to step, and the panels of each order's batch
/// (sparse layout), built once per batch and shared by every member in that order.
#[derive(Debug, Clone, Default)]
pub(super) struct Scratch {
    h: Vec<f32>,
    dz1: Vec<f32>,
    logits: Vec<f32>,
    dz2: Vec<f32>,
    dw2t: Vec<f32>,
    db1: Vec<f32>,
    db2: Vec<f32>,
    /// W1's gradient (dense layout only; the sparse one never stores it).
    dw1: Vec<f32>,
    /// dz1 in column blocks (sparse layout).
    dz1_blocked: Vec<f32>,
    /// Each order's batch laid out (sparse layout).
    batches: Vec<BatchPanels>,
}

impl Scratch {
    /// Buffers for batches of up to `batch` images of `model` on `layout`.
    pub(super) fn new(model: &ModelConfig, batch: usize, layout: CpuLayout) -> Self {
        let (i, h, c) = (model.inputs, model.hidden, model.classes);
        Self {
            h: vec![0.0; batch * h],
            dz1: vec![0.0; batch * h],
            logits: vec![0.0; batch * c],
            dz2: vec![0.0; batch * c],
            dw2t: vec![0.0; c * h],
            db1: vec![0.0; h],
            db2: vec![0.0; c],
            dw1: match layout {
                CpuLayout::Dense => vec![0.0; i * h],
                CpuLayout::Sparse => Vec::new(),
            },
            dz1_blocked: Vec::with_capacity(batch * h),
            ..Self::default()
        }
    }

    /// Lays out order `j`'s sparse batch for the products (a dense batch needs nothing).
    pub(super) fn prepare(&mut self, j: usize, x: &HostBatch, inputs: usize, training: bool) {
        if self.batches.len() <= j {
            self.batches.resize_with(j + 1, BatchPanels::default);
        }
        let b = &mut self.batches[j];
        if let HostBatch::Sparse(csr, rows) = x {
            b.images.images(csr, rows.clone(), inputs);
            if training {
                b.csc.fill(csr, rows.clone(), inputs);
                b.pixels.pixels(&b.csc, rows.len(), inputs);
            }
        }
    }
}

/// `h = relu(x·w1 + b1)` on either layout (`images`: a sparse batch's image panels).
fn forward(isa: Isa, p: &Params, x: &HostBatch, images: &Panels, h: &mut [f32]) {
    match x {
        HostBatch::Sparse(..) => sparse::forward(isa, images, &p.w1.param, &p.b1.param, h),
        HostBatch::Dense(x) => dense::forward(x, &p.w1.param, &p.b1.param, h),
    }
}

/// A member's sums (loss, squared loss, correct) on a batch prepared in `s`, without gradients.
#[allow(clippy::too_many_arguments)] // the pass's operands and its buffers
pub(super) fn score(
    isa: Isa,
    p: &Params,
    loss_kind: LossKind,
    model: &ModelConfig,
    x: &HostBatch,
    labels: &[lrsweep_data::Label],
    s: &mut Scratch,
) -> loss::Sums {
    let rows = labels.len();
    let (h, logits) = (
        &mut s.h[..rows * model.hidden],
        &mut s.logits[..rows * model.classes],
    );
    forward(isa, p, x, &s.batches[0].images, h);
    rows::output(isa, h, &p.w2t.param, &p.b2.param, logits);
    loss::loss_and_grad(loss_kind, logits, labels, None)
}

/// One Adam step of one member at learning rate `rate` on its order's batch (`j`), prepared in
/// `s`; the batch's sums.
#[allow(clippy::too_many_arguments)] // the step's operands, its order and its buffers
pub(super) fn step(
    isa: Isa,
    p: &mut Params,
    rate: f64,
    config: &TrainConfig,
    model: &ModelConfig,
    x: &HostBatch,
    labels: &[lrsweep_data::Label],
    j: usize,
    s: &mut Scratch,
) -> loss::Sums {
    let rows = labels.len();
    let (hidden, classes) = (model.hidden, model.classes);
    let (h, dz1) = (&mut s.h[..rows * hidden], &mut s.dz1[..rows * hidden]);
    let (logits, dz2) = (
        &mut s.logits[..rows * classes],
        &mut s.dz2[..rows * classes],
    );
    let panels = &s.batches[j];
    forward(isa, p, x, &panels.images, h);
    rows::output(isa, h, &p.w2t.param, &p.b2.param, logits);
    let sums = loss::loss_and_grad(config.loss, logits, labels, Some(dz2));
    rows::hidden_grad(isa, dz2, &p.w2t.param, h, dz1, classes);
    rows::output_grads(isa, dz2, h, &mut s.dw2t, &mut s.db2);
    rows::column_sums(dz1, &mut s.db1);
    p.step += 1;
    let k = config.adam.constants(rate, p.step);
    let w1 = &mut p.w1;
    match x {
        HostBatch::Sparse(..) => {
            to_blocked(dz1, rows, hidden, &mut s.dz1_blocked);
            sparse::w1_update(
                isa,
                &panels.pixels,
                &s.dz1_blocked,
                &mut w1.param,
                &mut w1.m,
                &mut w1.v,
                k,
            )
        }
        HostBatch::Dense(x) => {
            dense::w1_grad(x, dz1, rows, &mut s.dw1);
            w1.update(&s.dw1, k);
        }
    }
    p.b1.update(&s.db1, k);
    p.w2t.update(&s.dw2t, k);
    p.b2.update(&s.db2, k);
    sums
}
