//! One member's training step and scoring pass on the CPU engine: the network's passes in
//! order, layer by layer, on buffers reused from step to step. The first layer reads the
//! images (sparse or dense), the hidden→hidden layers are dense products, the output layer
//! the row-wise kernels; the reference's one ReLU layer without dropout takes the fused ReLU
//! mask of the output layer's backward kernel.

use super::data::HostBatch;
use super::layout::{to_blocked, Csc, Panels};
use super::loss;
use super::simd::Isa;
use super::{dense, rows, sparse};
use crate::config::{CpuLayout, TrainConfig};
use crate::dropout;
use crate::layers::Activation;
use crate::loss::LossKind;
use crate::optim::{OptimizerConfig, Slot};
use crate::shape::ModelConfig;

/// One member's parameters: its rate, step count and seed, and every layer's weights with
/// Adam's moments: the first layer's W1 (in column blocks on the sparse layout), the
/// hidden→hidden layers' weights row-major `[fan_in, fan_out]`, the output weights transposed
/// `[classes, H_last]` so that every pass reads them along rows; and each layer's bias.
#[derive(Debug, Clone)]
pub(super) struct Params {
    pub(super) rate: f64,
    /// The member's optimizer.
    pub(super) optimizer: OptimizerConfig,
    /// The rate of each step of the epoch in training (its schedule's); empty: `rate`.
    pub(super) plan: Vec<f64>,
    pub(super) step: u64,
    /// The member's seed: its dropout masks' stream.
    pub(super) seed: u64,
    pub(super) w1: Slot<Vec<f32>>,
    pub(super) middle: Vec<Slot<Vec<f32>>>,
    pub(super) out_t: Slot<Vec<f32>>,
    /// The hidden layers' biases, then the output layer's.
    pub(super) biases: Vec<Slot<Vec<f32>>>,
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

/// One hidden layer's buffers: its activation, its pre-activation (GELU's), its dropout mask
/// and what it hands on (the activation masked), and the gradient at its pre-activation.
#[derive(Debug, Clone, Default)]
struct LayerBuffers {
    a: Vec<f32>,
    z: Vec<f32>,
    mask: Vec<f32>,
    out: Vec<f32>,
    dz: Vec<f32>,
}

/// Buffers of one step, reused from step to step, and the panels of each order's batch
/// (sparse layout), built once per batch and shared by every member in that order.
#[derive(Debug, Clone, Default)]
pub(super) struct Scratch {
    layers: Vec<LayerBuffers>,
    logits: Vec<f32>,
    dz2: Vec<f32>,
    dw_out_t: Vec<f32>,
    /// The hidden→hidden layers' weight gradients.
    dw_middle: Vec<Vec<f32>>,
    /// Every layer's bias gradient.
    db: Vec<Vec<f32>>,
    /// W1's gradient (dense layout only; the sparse one never stores it).
    dw1: Vec<f32>,
    /// dz1 in column blocks (sparse layout).
    dz1_blocked: Vec<f32>,
    /// Each order's batch laid out (sparse layout).
    batches: Vec<BatchPanels>,
    /// The dropout masks made last, with the (seed, step) they are of: members of one seed
    /// at one step share them.
    masks_of: Option<(u64, u64, usize)>,
}

impl Scratch {
    /// Buffers for batches of up to `batch` images of `model` on `layout`.
    pub(super) fn new(model: &ModelConfig, batch: usize, layout: CpuLayout) -> Self {
        let (i, c) = (model.inputs, model.classes);
        let gelu = model.activation.needs_input();
        let dropout = model.dropout > 0.0;
        let layers = model
            .hidden
            .iter()
            .map(|&h| LayerBuffers {
                a: vec![0.0; batch * h],
                z: if gelu {
                    vec![0.0; batch * h]
                } else {
                    Vec::new()
                },
                mask: if dropout {
                    vec![0.0; batch * h]
                } else {
                    Vec::new()
                },
                out: if dropout {
                    vec![0.0; batch * h]
                } else {
                    Vec::new()
                },
                dz: vec![0.0; batch * h],
            })
            .collect();
        let layer_shapes = model.layers();
        Self {
            layers,
            logits: vec![0.0; batch * c],
            dz2: vec![0.0; batch * c],
            dw_out_t: vec![0.0; c * model.hidden.last()],
            dw_middle: layer_shapes[1..layer_shapes.len() - 1]
                .iter()
                .map(|&(fan_in, fan_out)| vec![0.0; fan_in * fan_out])
                .collect(),
            db: layer_shapes
                .iter()
                .map(|&(_, fan_out)| vec![0.0; fan_out])
                .collect(),
            dw1: match layout {
                CpuLayout::Dense => vec![0.0; i * model.hidden.first()],
                CpuLayout::Sparse => Vec::new(),
            },
            dz1_blocked: Vec::with_capacity(batch * model.hidden.first()),
            ..Self::default()
        }
    }

    /// Lays out order `j`'s sparse batch for the products (a dense batch needs nothing): its
    /// image panels (forward) and, in training, beside them on another thread, its pixel panels
    /// (W1's gradient).
    pub(super) fn prepare(&mut self, j: usize, x: &HostBatch, inputs: usize, training: bool) {
        if self.batches.len() <= j {
            self.batches.resize_with(j + 1, BatchPanels::default);
        }
        let BatchPanels {
            csc,
            images,
            pixels,
        } = &mut self.batches[j];
        if let HostBatch::Sparse(csr, rows) = x {
            match training {
                true => rayon::join(
                    || images.images(csr, rows.clone(), inputs),
                    || {
                        csc.fill(csr, rows.clone(), inputs);
                        pixels.pixels(csc, rows.len(), inputs);
                    },
                ),
                false => (images.images(csr, rows.clone(), inputs), ()),
            };
        }
    }

    /// The dropout masks of `rows` items at step `step` of a member seeded `seed` (made once
    /// for every member of that seed at that step).
    fn masks(&mut self, model: &ModelConfig, seed: u64, step: u64, rows: usize) {
        if self.masks_of == Some((seed, step, rows)) {
            return;
        }
        for (l, (buf, &width)) in self.layers.iter_mut().zip(model.hidden.iter()).enumerate() {
            let m = dropout::mask(seed, step, l, rows, width, model.dropout);
            buf.mask[..rows * width].copy_from_slice(&m);
        }
        self.masks_of = Some((seed, step, rows));
    }
}

/// The forward pass of a batch of `rows` items (`x`, laid out in `panels`) through every hidden
/// layer, each with its dropout when `training` (the masks made already), then the logits.
#[allow(clippy::too_many_arguments)] // the pass's operands and its buffers
fn forward(
    isa: Isa,
    p: &Params,
    model: &ModelConfig,
    x: &HostBatch,
    panels: &Panels,
    rows: usize,
    training: bool,
    layers: &mut [LayerBuffers],
    logits: &mut [f32],
) {
    let act = model.activation;
    let dropout = training && model.dropout > 0.0;
    for (l, &width) in model.hidden.iter().enumerate() {
        let n = rows * width;
        let (before, here) = layers.split_at_mut(l);
        let buf = &mut here[0];
        let z = act.needs_input().then(|| &mut buf.z[..n]);
        let a = &mut buf.a[..n];
        let b = &p.biases[l].param;
        if l == 0 {
            match x {
                HostBatch::Sparse(..) => sparse::forward(isa, panels, &p.w1.param, b, act, a, z),
                HostBatch::Dense(x) => dense::forward(isa, x, &p.w1.param, b, act, a, z),
            }
        } else {
            let input = handed_on(&before[l - 1], rows * model.hidden[l - 1], dropout);
            dense::forward(isa, input, &p.middle[l - 1].param, b, act, a, z);
        }
        if dropout {
            rows::masked(&buf.a[..n], &buf.mask[..n], &mut buf.out[..n]);
        }
    }
    let last = layers.last().expect("a hidden layer");
    let h = handed_on(last, rows * model.hidden.last(), dropout);
    rows::output(
        isa,
        h,
        &p.out_t.param,
        p.biases.last().map_or(&[], |b| &b.param),
        logits,
    );
}

/// What a hidden layer hands the next one: its activation, masked with dropout.
fn handed_on(buf: &LayerBuffers, n: usize, dropout: bool) -> &[f32] {
    match dropout {
        true => &buf.out[..n],
        false => &buf.a[..n],
    }
}

/// A member's sums (loss, squared loss, correct) on a batch prepared in `s`, without gradients
/// (and without dropout).
#[allow(clippy::too_many_arguments)] // the pass's operands and its buffers
pub(super) fn score(
    isa: Isa,
    p: &Params,
    loss_kind: LossKind,
    model: &ModelConfig,
    x: &HostBatch,
    truth: loss::Truth<'_>,
    s: &mut Scratch,
) -> loss::Sums {
    let rows = truth.rows();
    let logits = &mut s.logits[..rows * model.classes];
    forward(
        isa,
        p,
        model,
        x,
        &s.batches[0].images,
        rows,
        false,
        &mut s.layers,
        logits,
    );
    loss::loss_and_grad(loss_kind, logits, truth, None)
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
    truth: loss::Truth<'_>,
    j: usize,
    s: &mut Scratch,
) -> loss::Sums {
    let rows = truth.rows();
    let classes = model.classes;
    let act = model.activation;
    let dropout = model.dropout > 0.0;
    if dropout {
        s.masks(model, p.seed, p.step + 1, rows);
    }
    let depth = model.hidden.depth();
    let panels = &s.batches[j];
    let (logits, dz2) = (
        &mut s.logits[..rows * classes],
        &mut s.dz2[..rows * classes],
    );
    forward(
        isa,
        p,
        model,
        x,
        &panels.images,
        rows,
        true,
        &mut s.layers,
        logits,
    );
    let sums = loss::loss_and_grad(config.loss, logits, truth, Some(dz2));
    // The output layer: the gradient at its input, through the last hidden layer.
    let last = depth - 1;
    let h_last = rows * model.hidden.last();
    {
        let buf = &mut s.layers[last];
        if act == Activation::Relu && !dropout {
            // The reference's fused pass: dz = (dz2·w2ᵀ) ⊙ [a > 0].
            rows::hidden_grad(
                isa,
                dz2,
                &p.out_t.param,
                &buf.a[..h_last],
                &mut buf.dz[..h_last],
                classes,
            );
        } else {
            rows::output_input_grad(isa, dz2, &p.out_t.param, &mut buf.dz[..h_last], classes);
            let values = rows::LayerValues {
                a: &buf.a[..h_last],
                z: act.needs_input().then(|| &buf.z[..h_last]),
                mask: dropout.then(|| &buf.mask[..h_last]),
            };
            rows::through(isa, act, &values, &mut buf.dz[..h_last]);
        }
    }
    let h = handed_on(&s.layers[last], h_last, dropout);
    rows::output_grads(
        isa,
        dz2,
        h,
        &mut s.dw_out_t,
        s.db.last_mut().expect("an output bias"),
    );
    // The hidden→hidden layers, last first: each one's weight gradient, then the gradient at its
    // input, through the layer below.
    for l in (1..depth).rev() {
        let (fan_in, fan_out) = (model.hidden[l - 1], model.hidden[l]);
        let (below, above) = s.layers.split_at_mut(l);
        let (below, here) = (&mut below[l - 1], &above[0]);
        let dz = &here.dz[..rows * fan_out];
        let input = handed_on(below, rows * fan_in, dropout);
        dense::weight_grad(input, dz, rows, &mut s.dw_middle[l - 1]);
        rows::column_sums(dz, &mut s.db[l]);
        let n = rows * fan_in;
        dense::input_grad(dz, &p.middle[l - 1].param, fan_out, &mut below.dz[..n]);
        let values = rows::LayerValues {
            a: &below.a[..n],
            z: act.needs_input().then(|| &below.z[..n]),
            mask: dropout.then(|| &below.mask[..n]),
        };
        rows::through(isa, act, &values, &mut below.dz[..n]);
    }
    let hidden = model.hidden.first();
    let dz1 = &s.layers[0].dz[..rows * hidden];
    rows::column_sums(dz1, &mut s.db[0]);
    p.step += 1;
    let k = p.optimizer.step(rate, p.step);
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
            dense::weight_grad(x, dz1, rows, &mut s.dw1);
            w1.update(&s.dw1, k);
        }
    }
    for (w, dw) in p.middle.iter_mut().zip(&s.dw_middle) {
        w.update(dw, k);
    }
    p.out_t.update(&s.dw_out_t, k);
    for (b, db) in p.biases.iter_mut().zip(&s.db) {
        b.update(db, k);
    }
    sums
}
