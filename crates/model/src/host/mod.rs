//! lrsweep's own CPU engine: the network's step written out as a few fused passes over host
//! memory, with products that skip the input's zeros when the images are mostly zeros.
//!
//! It trains the same network with the same loss and Adam as the tensor path
//! ([`crate::StackTrainer`]) and saves the same [`TrainerState`]; the two agree to rounding (the
//! order of a product's sums differs), which `tests/host_engine.rs` bounds on real data.

mod data;
mod kernels;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::{Device, TensorData};
use serde::{Deserialize, Serialize};

pub use data::{density, HostData};

use crate::adam::FusedScalars;
use crate::config::{check_config, TrainConfig};
use crate::mlp::{Mlp, ModelConfig};
use crate::record::{Score, TrainError};
use crate::stack::Joining;
use crate::state::{TrainerState, STATE_TENSORS};
use data::HostBatch;
use kernels::{Csc, Panels};

/// Above this fraction of non-zero pixels `Auto` takes the dense products: the sparse ones do
/// one multiply-add per load where the dense product reuses what it loads, so skipping zeros
/// pays only below it (measured with `lrsweep bench --backends cpu --cpu-path sparse|dense`).
pub const SPARSE_MAX_DENSITY: f64 = 0.35;

/// How the CPU engine computes the input layer's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuPath {
    /// Sparse when the training images' density is at most [`SPARSE_MAX_DENSITY`], else dense.
    #[default]
    Auto,
    /// Products over each image's non-zero pixels.
    Sparse,
    /// Dense matrix products (the `gemm` crate).
    Dense,
}

impl CpuPath {
    /// The path to take for images with `density` non-zero pixels: `Auto` decided.
    pub fn resolve(self, density: f64) -> CpuPath {
        match self {
            CpuPath::Auto if density <= SPARSE_MAX_DENSITY => CpuPath::Sparse,
            CpuPath::Auto => CpuPath::Dense,
            other => other,
        }
    }

    /// `auto`, `sparse` or `dense`.
    pub fn name(self) -> &'static str {
        match self {
            CpuPath::Auto => "auto",
            CpuPath::Sparse => "sparse",
            CpuPath::Dense => "dense",
        }
    }
}

/// The path the CPU engine takes for `asked` when training on `train`: `Auto` decided by the
/// training images' density.
pub fn path_for(asked: CpuPath, train: &lrsweep_data::Part) -> CpuPath {
    match asked {
        CpuPath::Auto => asked.resolve(density(train)),
        other => other,
    }
}

impl FromStr for CpuPath {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(CpuPath::Auto),
            "sparse" => Ok(CpuPath::Sparse),
            "dense" => Ok(CpuPath::Dense),
            other => Err(format!(
                "unknown CPU path '{other}': choose auto, sparse or dense"
            )),
        }
    }
}

impl std::fmt::Display for CpuPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A parameter with Adam's moments.
#[derive(Debug, Clone)]
struct Param {
    p: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Param {
    fn update(&mut self, g: &[f32], k: FusedScalars) {
        kernels::adam(&mut self.p, &mut self.m, &mut self.v, g, k);
    }
}

/// One member: its rate, step count and parameters, the output weights kept transposed
/// (`[classes, hidden]`) so that every pass reads them along rows.
#[derive(Debug, Clone)]
struct Member {
    rate: f64,
    step: u64,
    w1: Param,
    b1: Param,
    w2t: Param,
    b2: Param,
}

/// Buffers of one step, reused from step to step.
#[derive(Debug, Clone, Default)]
struct Scratch {
    h: Vec<f32>,
    dz1: Vec<f32>,
    logits: Vec<f32>,
    dz2: Vec<f32>,
    dw2t: Vec<f32>,
    db1: Vec<f32>,
    db2: Vec<f32>,
    /// W1's gradient (dense path only; the sparse path never stores it).
    dw1: Vec<f32>,
    /// dz1 in column blocks (sparse path).
    dz1_blocked: Vec<f32>,
    /// The batch by pixel, and its image and pixel panels (sparse path).
    csc: Csc,
    images: Panels,
    pixels: Panels,
}

impl Scratch {
    fn new(model: &ModelConfig, batch: usize, path: CpuPath) -> Self {
        let (i, h, c) = (model.inputs, model.hidden, model.classes);
        Self {
            h: vec![0.0; batch * h],
            dz1: vec![0.0; batch * h],
            logits: vec![0.0; batch * c],
            dz2: vec![0.0; batch * c],
            dw2t: vec![0.0; c * h],
            db1: vec![0.0; h],
            db2: vec![0.0; c],
            dw1: if path == CpuPath::Dense {
                vec![0.0; i * h]
            } else {
                Vec::new()
            },
            dz1_blocked: Vec::with_capacity(batch * h),
            csc: Csc::default(),
            images: Panels::default(),
            pixels: Panels::default(),
        }
    }
}

/// K models trained together on the CPU, one after another on each batch (each step itself
/// uses every core): the CPU counterpart of [`crate::StackTrainer`], with the same interface.
#[derive(Debug, Clone)]
pub struct HostStack {
    members: Vec<Member>,
    config: TrainConfig,
    model: ModelConfig,
    path: CpuPath,
    device: Device,
    scratch: Scratch,
}

/// `[rows, cols]` row-major → `[cols, rows]`.
fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = x[r * cols + c];
        }
    }
    out
}

impl HostStack {
    /// A stack of `members` taking `path` (sparse or dense: resolve `Auto` first); fresh
    /// members start from `config.seed`'s weights, made on `device` (also where
    /// [`HostStack::model`] puts a member's network).
    pub fn new(
        model: &ModelConfig,
        config: TrainConfig,
        members: &[Joining],
        path: CpuPath,
        device: &Device,
    ) -> Result<Self, TrainError> {
        if members.is_empty() {
            return Err(TrainError::InvalidConfig(
                "a stack needs at least one rate".into(),
            ));
        }
        if model.inputs > usize::from(u16::MAX) + 1 {
            return Err(TrainError::InvalidConfig(format!(
                "the CPU engine takes at most 65536 inputs, not {}",
                model.inputs
            )));
        }
        let fresh = match members.iter().any(|m| m.state.is_none()) {
            true => Some(fresh_state(model, config.seed, device)?),
            false => None,
        };
        let path = path.resolve(0.0);
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            check_config(&TrainConfig {
                learning_rate: m.rate,
                ..config
            })?;
            let state = match m.state {
                Some(s) => s,
                None => fresh.as_ref().expect("made when a member is fresh"),
            };
            out.push(member_from(model, m.rate, state, path)?);
        }
        Ok(Self {
            members: out,
            config,
            model: *model,
            path,
            device: device.clone(),
            scratch: Scratch::new(model, config.batch_size.max(1), path),
        })
    }

    /// Sparse or dense.
    pub fn path(&self) -> CpuPath {
        self.path
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether no member is left.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adam steps taken by each member.
    pub fn steps(&self) -> Vec<u64> {
        self.members.iter().map(|m| m.step).collect()
    }

    /// Trains one epoch over `data`, checking `interrupt` before every batch (`None` when it
    /// was set: the weights are then part-way through the epoch).
    pub fn train_epoch_unless(
        &mut self,
        data: &HostData,
        interrupt: Option<&AtomicBool>,
    ) -> Result<Option<Vec<Score>>, TrainError> {
        self.check_data(data)?;
        let k = self.len();
        let mut totals = vec![(0f64, 0u64); k];
        let Self {
            members,
            config,
            model,
            scratch,
            ..
        } = self;
        for (x, labels) in data.batches() {
            if interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
                return Ok(None);
            }
            if let HostBatch::Sparse(csr, rows) = &x {
                scratch.csc.fill(csr, rows.clone(), model.inputs);
                scratch.images.images(csr, rows.clone(), model.inputs);
                scratch
                    .pixels
                    .pixels(&scratch.csc, rows.len(), model.inputs);
            }
            for (member, total) in members.iter_mut().zip(&mut totals) {
                let (loss, correct) = step(member, config, model, &x, labels, scratch);
                total.0 += loss;
                total.1 += u64::from(correct);
            }
        }
        Ok(Some(scores(&totals, data.len())))
    }

    /// Each member's loss and accuracy on `data`, without gradients.
    pub fn evaluate(&self, data: &HostData) -> Result<Vec<Score>, TrainError> {
        self.check_data(data)?;
        let batch = self.config.batch_size.max(1);
        let (hidden, classes) = (self.model.hidden, self.model.classes);
        let mut h = vec![0.0; batch * hidden];
        let mut logits = vec![0.0; batch * classes];
        let mut totals = vec![(0f64, 0u64); self.len()];
        let mut images = Panels::default();
        for (x, labels) in data.batches() {
            let rows = labels.len();
            if let HostBatch::Sparse(csr, range) = &x {
                images.images(csr, range.clone(), self.model.inputs);
            }
            for (member, total) in self.members.iter().zip(&mut totals) {
                forward(member, &x, &images, &mut h[..rows * hidden]);
                kernels::output(
                    &h[..rows * hidden],
                    &member.w2t.p,
                    &member.b2.p,
                    &mut logits[..rows * classes],
                );
                let (loss, correct) = kernels::loss_and_grad(
                    self.config.loss,
                    &logits[..rows * classes],
                    labels,
                    None,
                );
                total.0 += loss;
                total.1 += u64::from(correct);
            }
        }
        Ok(scores(&totals, data.len()))
    }

    fn check_data(&self, data: &HostData) -> Result<(), TrainError> {
        if data.is_empty() {
            return Err(TrainError::NoData(
                "there are no images to train or evaluate on".into(),
            ));
        }
        if data.path() != self.path {
            return Err(TrainError::InvalidConfig(format!(
                "data laid out for the {} path given to a {} stack",
                data.path(),
                self.path
            )));
        }
        Ok(())
    }

    /// Member `i`'s state, in the format of the tensor path's.
    pub fn state(&self, i: usize) -> TrainerState {
        let (m, s) = (&self.model, &self.members[i]);
        let mut tensors = Vec::with_capacity(STATE_TENSORS);
        let mut push = |shape: Vec<usize>, p: &Param, t: Option<(usize, usize)>| {
            for values in [&p.p, &p.m, &p.v] {
                let values = match t {
                    Some((rows, cols)) => transpose(values, rows, cols),
                    None => values.clone(),
                };
                tensors.push((shape.clone(), values));
            }
        };
        let w1 = self.w1_row_major(s);
        push(vec![m.inputs, m.hidden], &w1, None);
        push(vec![m.hidden], &s.b1, None);
        push(
            vec![m.hidden, m.classes],
            &s.w2t,
            Some((m.classes, m.hidden)),
        );
        push(vec![m.classes], &s.b2, None);
        TrainerState {
            step: s.step,
            tensors,
        }
    }

    /// Member `i`'s network with its current weights, on the stack's device.
    pub fn model(&self, i: usize) -> Mlp {
        use burn::module::Param as BurnParam;
        use burn::tensor::Tensor;
        let (m, s) = (&self.model, &self.members[i]);
        let layer = |w: Vec<f32>, b: &[f32], d_in: usize, d_out: usize| burn::nn::Linear {
            weight: BurnParam::from_tensor(Tensor::<2>::from_data(
                TensorData::new(w, [d_in, d_out]),
                &self.device,
            )),
            bias: Some(BurnParam::from_tensor(Tensor::<1>::from_data(
                TensorData::new(b.to_vec(), [d_out]),
                &self.device,
            ))),
        };
        Mlp {
            hidden: layer(self.w1_row_major(s).p, &s.b1.p, m.inputs, m.hidden),
            output: layer(
                transpose(&s.w2t.p, m.classes, m.hidden),
                &s.b2.p,
                m.hidden,
                m.classes,
            ),
        }
    }

    /// A member's W1 with its moments in row-major order (the sparse path keeps them in blocks).
    fn w1_row_major(&self, s: &Member) -> Param {
        let (rows, cols) = (self.model.inputs, self.model.hidden);
        match self.path {
            CpuPath::Sparse => Param {
                p: kernels::from_blocked(&s.w1.p, rows, cols),
                m: kernels::from_blocked(&s.w1.m, rows, cols),
                v: kernels::from_blocked(&s.w1.v, rows, cols),
            },
            _ => s.w1.clone(),
        }
    }

    /// Keeps only the members at positions `keep` (in that order).
    pub fn retain(&mut self, keep: &[usize]) {
        let mut old: Vec<Option<Member>> = self.members.drain(..).map(Some).collect();
        self.members = keep.iter().filter_map(|&k| old[k].take()).collect();
    }
}

/// `h = relu(x·w1 + b1)` on either layout (`images`: a sparse batch's image panels).
fn forward(member: &Member, x: &HostBatch, images: &Panels, h: &mut [f32]) {
    match x {
        HostBatch::Sparse(..) => kernels::sparse_forward(images, &member.w1.p, &member.b1.p, h),
        HostBatch::Dense(x) => kernels::dense_forward(x, &member.w1.p, &member.b1.p, h),
    }
}

/// One Adam step of one member on a batch; the batch's summed loss and correct count.
fn step(
    member: &mut Member,
    config: &TrainConfig,
    model: &ModelConfig,
    x: &HostBatch,
    labels: &[u8],
    s: &mut Scratch,
) -> (f64, u32) {
    let rows = labels.len();
    let (hidden, classes) = (model.hidden, model.classes);
    let (h, dz1) = (&mut s.h[..rows * hidden], &mut s.dz1[..rows * hidden]);
    let (logits, dz2) = (
        &mut s.logits[..rows * classes],
        &mut s.dz2[..rows * classes],
    );
    forward(member, x, &s.images, h);
    kernels::output(h, &member.w2t.p, &member.b2.p, logits);
    let (loss, correct) = kernels::loss_and_grad(config.loss, logits, labels, Some(dz2));
    kernels::hidden_grad(dz2, &member.w2t.p, h, dz1, classes);
    kernels::output_grads(dz2, h, &mut s.dw2t, &mut s.db2);
    kernels::column_sums(dz1, &mut s.db1);
    member.step += 1;
    let k = FusedScalars::new(
        &config.adam,
        config.adam.step_scalars(member.rate, member.step),
    );
    let w1 = &mut member.w1;
    match x {
        HostBatch::Sparse(..) => {
            kernels::to_blocked(dz1, rows, hidden, &mut s.dz1_blocked);
            kernels::sparse_w1_update(
                &s.pixels,
                &s.dz1_blocked,
                &mut w1.p,
                &mut w1.m,
                &mut w1.v,
                k,
            )
        }
        HostBatch::Dense(x) => {
            kernels::dense_w1_grad(x, dz1, rows, &mut s.dw1);
            w1.update(&s.dw1, k);
        }
    }
    member.b1.update(&s.db1, k);
    member.w2t.update(&s.dw2t, k);
    member.b2.update(&s.db2, k);
    (loss, correct)
}

fn scores(totals: &[(f64, u64)], n: usize) -> Vec<Score> {
    totals
        .iter()
        .map(|&(loss, correct)| Score {
            loss: loss / n as f64,
            accuracy: correct as f64 / n as f64,
        })
        .collect()
}

/// The state of a fresh network from `seed` (the tensor path's initial weights).
fn fresh_state(
    model: &ModelConfig,
    seed: u64,
    device: &Device,
) -> Result<TrainerState, TrainError> {
    crate::trainer::initial_state(&model.init(seed, device))
}

/// A member from a saved state; on the sparse path W1 and its moments are put in blocks.
fn member_from(
    model: &ModelConfig,
    rate: f64,
    state: &TrainerState,
    path: CpuPath,
) -> Result<Member, TrainError> {
    let shapes = crate::stack::member_shapes(model);
    crate::stack::check_state(state, &shapes)?;
    let param = |i: usize, t: Option<(usize, usize)>| {
        let get = |j: usize| {
            let values = &state.tensors[3 * i + j].1;
            match t {
                Some((rows, cols)) => transpose(values, rows, cols),
                None => values.clone(),
            }
        };
        Param {
            p: get(0),
            m: get(1),
            v: get(2),
        }
    };
    let mut w1 = param(0, None);
    if path == CpuPath::Sparse {
        for values in [&mut w1.p, &mut w1.m, &mut w1.v] {
            let row_major = std::mem::take(values);
            kernels::to_blocked(&row_major, model.inputs, model.hidden, values);
        }
    }
    Ok(Member {
        rate,
        step: state.step,
        w1,
        b1: param(1, None),
        w2t: param(2, Some((model.hidden, model.classes))),
        b2: param(3, None),
    })
}
