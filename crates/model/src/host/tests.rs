//! Every kernel of the CPU engine against its plain formula, on every instruction set this
//! processor has and on the portable one ([`simd::all_isas`] fails when the one the tests mean
//! to cover is missing), at ragged sizes: partial panels (11 images, 13 pixels: groups of 6),
//! partial column blocks (70 hidden: one block of 64 and one of 6; chunks of 16 and a tail of
//! 6), so that the register path and the scalar tail both run.

use super::layout::{from_blocked, to_blocked, Csc, Csr, Panels};
use super::simd::all_isas;
use super::{dense, loss, rows, sparse, HostData, HostStack, Isa};
use crate::config::{CpuLayout, TrainConfig};
use crate::layers::Activation;
use crate::loss::LossKind;
use crate::optim::{Convention, OptimizerConfig};
use crate::shape::ModelConfig;
use crate::state::Member;

const ROWS: usize = 11;
const INPUTS: usize = 13;
const HIDDEN: usize = 70;
const CLASSES: usize = 3;

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

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
            "{what}: {i}: {x} vs {y}"
        );
    }
}

/// `[rows, k] · [k, cols]`, row-major, in f64.
fn product(a: &[f32], b: &[f32], rows: usize, k: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let z: f64 = (0..k)
                .map(|i| a[r * k + i] as f64 * b[i * cols + c] as f64)
                .sum();
            out[r * cols + c] = z as f32;
        }
    }
    out
}

fn transposed(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    super::layout::transpose(x, rows, cols)
}

#[test]
fn blocked_layout_round_trips() {
    let m = sparse_matrix(INPUTS, HIDDEN, 1);
    let mut b = Vec::new();
    to_blocked(&m, INPUTS, HIDDEN, &mut b);
    assert_eq!(b[..64], m[..64], "block 0 starts with row 0's first 64");
    assert_eq!(from_blocked(&b, INPUTS, HIDDEN), m);
}

#[test]
fn the_forward_products_equal_the_formula() {
    let x = sparse_matrix(ROWS, INPUTS, 2);
    let w1 = sparse_matrix(INPUTS, HIDDEN, 3);
    let b1: Vec<f32> = (0..HIDDEN).map(|j| j as f32 * 0.01 - 0.3).collect();
    let mut want = product(&x, &w1, ROWS, INPUTS, HIDDEN);
    for (i, z) in want.iter_mut().enumerate() {
        *z = (*z + b1[i % HIDDEN]).max(0.0);
    }
    let mut panels = Panels::default();
    panels.images(&csr(&x, INPUTS), 0..ROWS, INPUTS);
    let mut blocked = Vec::new();
    to_blocked(&w1, INPUTS, HIDDEN, &mut blocked);
    for isa in all_isas() {
        let mut h = vec![f32::NAN; ROWS * HIDDEN];
        sparse::forward(isa, &panels, &blocked, &b1, Activation::Relu, &mut h, None);
        close(&h, &want, &format!("sparse forward, {}", isa.name()));
    }
    for isa in all_isas() {
        let mut h = vec![f32::NAN; ROWS * HIDDEN];
        dense::forward(isa, &x, &w1, &b1, Activation::Relu, &mut h, None);
        close(&h, &want, &format!("dense forward, {}", isa.name()));
    }
    // Every activation, and the pre-activation kept where asked.
    let mut pre = product(&x, &w1, ROWS, INPUTS, HIDDEN);
    for (i, z) in pre.iter_mut().enumerate() {
        *z += b1[i % HIDDEN];
    }
    for act in [Activation::Tanh, Activation::Gelu] {
        let want: Vec<f32> = pre.iter().map(|&z| act.apply(z)).collect();
        for isa in all_isas() {
            let (mut h, mut z) = (vec![f32::NAN; ROWS * HIDDEN], vec![f32::NAN; ROWS * HIDDEN]);
            sparse::forward(isa, &panels, &blocked, &b1, act, &mut h, Some(&mut z));
            close(&h, &want, &format!("sparse forward {act}, {}", isa.name()));
            close(
                &z,
                &pre,
                &format!("sparse pre-activation {act}, {}", isa.name()),
            );
        }
        for isa in all_isas() {
            let (mut h, mut z) = (vec![f32::NAN; ROWS * HIDDEN], vec![f32::NAN; ROWS * HIDDEN]);
            dense::forward(isa, &x, &w1, &b1, act, &mut h, Some(&mut z));
            close(&h, &want, &format!("dense forward {act}, {}", isa.name()));
            close(
                &z,
                &pre,
                &format!("dense pre-activation {act}, {}", isa.name()),
            );
            let mut h = vec![f32::NAN; ROWS * HIDDEN];
            dense::forward(isa, &x, &w1, &b1, act, &mut h, None);
            close(
                &h,
                &want,
                &format!("dense forward {act} alone, {}", isa.name()),
            );
        }
    }
}

/// The gradient through a hidden layer's dropout and activation, on every instruction set,
/// against the formula element by element: `g·mask·act'(z)`, and 0 (not NaN) where the
/// derivative is 0.
#[test]
fn the_gradient_through_a_layer_equals_the_formula() {
    let n = ROWS * HIDDEN;
    let z: Vec<f32> = sparse_matrix(ROWS, HIDDEN, 11)
        .iter()
        .map(|v| v * 4.0 - 1.0)
        .collect();
    let mask: Vec<f32> = (0..n)
        .map(|i| if i % 3 == 0 { 0.0 } else { 1.25 })
        .collect();
    let mut g: Vec<f32> = sparse_matrix(ROWS, HIDDEN, 12);
    g[0] = f32::NAN;
    for act in [Activation::Relu, Activation::Tanh, Activation::Gelu] {
        let a: Vec<f32> = z.iter().map(|&z| act.apply(z)).collect();
        for with_mask in [false, true] {
            let want: Vec<f32> = (0..n)
                .map(|i| {
                    let g = if with_mask { g[i] * mask[i] } else { g[i] };
                    let d = act.derivative(z[i], a[i]);
                    if d == 0.0 {
                        0.0
                    } else {
                        g * d
                    }
                })
                .collect();
            for isa in all_isas() {
                let values = rows::LayerValues {
                    a: &a,
                    z: act.needs_input().then_some(z.as_slice()),
                    mask: with_mask.then_some(mask.as_slice()),
                };
                let mut got = g.clone();
                rows::through(isa, act, &values, &mut got);
                let what = format!("{act}, mask {with_mask}, {}", isa.name());
                for (i, (x, y)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        x == y || (x.is_nan() && y.is_nan()),
                        "{what}: {i}: {x} vs {y}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_w1_updates_equal_each_optimizer_on_the_formulas_gradient() {
    let x = sparse_matrix(ROWS, INPUTS, 4);
    let dz1 = sparse_matrix(ROWS, HIDDEN, 5);
    let w1 = sparse_matrix(INPUTS, HIDDEN, 6);
    // Reference: the gradient xᵀ·dz1, then the update element by element.
    let grad = product(&transposed(&x, ROWS, INPUTS), &dz1, INPUTS, ROWS, HIDDEN);
    let (mut csc, mut panels) = (Csc::default(), Panels::default());
    csc.fill(&csr(&x, INPUTS), 0..ROWS, INPUTS);
    panels.pixels(&csc, ROWS, INPUTS);
    let block = |a: &[f32], rows: usize| {
        let mut b = Vec::new();
        to_blocked(a, rows, HIDDEN, &mut b);
        b
    };
    let with = |spec: &str, convention, weight_decay| OptimizerConfig {
        weight_decay,
        ..OptimizerConfig::new(spec.parse().unwrap(), convention)
    };
    for optimizer in [
        OptimizerConfig::default(),
        with("adam", Convention::Torch, 1e-2),
        with("adamw", Convention::Keras, 0.0),
        with("sgd:0.9:nesterov", Convention::Keras, 1e-2),
        with("sgd:0.9", Convention::Torch, 0.0),
        with("rmsprop:0.9:0.5", Convention::Keras, 0.0),
        with("rmsprop", Convention::Torch, 1e-2),
    ] {
        let k = optimizer.step(1e-3, 2);
        let (mut p, mut m, mut v) = (w1.clone(), vec![0.01f32; w1.len()], vec![0.02f32; w1.len()]);
        k.apply(&mut p, &mut m, &mut v, &grad);
        for isa in all_isas() {
            let (mut bp, mut bm, mut bv) = (
                block(&w1, INPUTS),
                block(&vec![0.01; w1.len()], INPUTS),
                block(&vec![0.02; w1.len()], INPUTS),
            );
            sparse::w1_update(
                isa,
                &panels,
                &block(&dz1, ROWS),
                &mut bp,
                &mut bm,
                &mut bv,
                k,
            );
            let what = format!("sparse W1 update, {optimizer:?}, {}", isa.name());
            close(&from_blocked(&bm, INPUTS, HIDDEN), &m, &what);
            close(&from_blocked(&bv, INPUTS, HIDDEN), &v, &what);
            close(&from_blocked(&bp, INPUTS, HIDDEN), &p, &what);
        }
    }
    let mut dw1 = vec![f32::NAN; INPUTS * HIDDEN];
    dense::weight_grad(&x, &dz1, ROWS, &mut dw1);
    close(&dw1, &grad, "dense W1 gradient");
}

#[test]
fn the_row_passes_equal_the_formulas() {
    let h = sparse_matrix(ROWS, HIDDEN, 7);
    let w2 = sparse_matrix(HIDDEN, CLASSES, 8);
    let w2t = transposed(&w2, HIDDEN, CLASSES);
    let b2 = vec![0.1, -0.2, 0.3];
    let dz2 = sparse_matrix(ROWS, CLASSES, 9);
    let mut logits_want = product(&h, &w2, ROWS, HIDDEN, CLASSES);
    for (i, z) in logits_want.iter_mut().enumerate() {
        *z += b2[i % CLASSES];
    }
    let mut dz1_want = product(&dz2, &w2t, ROWS, CLASSES, HIDDEN);
    for (d, &x) in dz1_want.iter_mut().zip(&h) {
        if x <= 0.0 {
            *d = 0.0;
        }
    }
    let dw2t_want = product(&transposed(&dz2, ROWS, CLASSES), &h, CLASSES, ROWS, HIDDEN);
    let db2_want: Vec<f32> = (0..CLASSES)
        .map(|c| (0..ROWS).map(|r| dz2[r * CLASSES + c]).sum())
        .collect();
    for isa in all_isas() {
        let what = |pass: &str| format!("{pass}, {}", isa.name());
        let mut logits = vec![f32::NAN; ROWS * CLASSES];
        rows::output(isa, &h, &w2t, &b2, &mut logits);
        close(&logits, &logits_want, &what("logits"));
        let mut dz1 = vec![f32::NAN; ROWS * HIDDEN];
        rows::hidden_grad(isa, &dz2, &w2t, &h, &mut dz1, CLASSES);
        close(&dz1, &dz1_want, &what("hidden gradient"));
        let (mut dw2t, mut db2) = (vec![f32::NAN; CLASSES * HIDDEN], vec![f32::NAN; CLASSES]);
        rows::output_grads(isa, &dz2, &h, &mut dw2t, &mut db2);
        close(&dw2t, &dw2t_want, &what("output weight gradient"));
        close(&db2, &db2_want, &what("output bias gradient"));
    }
    let sums = loss::loss_and_grad(
        LossKind::Exact,
        &logits_want,
        loss::Truth::Classes(&[0; ROWS]),
        None,
    );
    assert!(sums.loss.is_finite() && sums.squares >= 0.0 && sums.correct as usize <= ROWS);
}

/// Whole steps on a small synthetic part: every instruction set trains the same network to
/// rounding, on both layouts, and the stack's ISA is the detected one unless asked otherwise.
#[test]
fn every_instruction_set_trains_the_same_network() {
    let reference = ModelConfig {
        inputs: 784,
        hidden: crate::layers::Widths::one(HIDDEN),
        classes: 10,
        ..ModelConfig::default()
    };
    // And a deeper one, with dropout and another activation.
    let deeper = ModelConfig {
        hidden: crate::layers::Widths::new(&[HIDDEN, 24, 16]).unwrap(),
        activation: Activation::Tanh,
        dropout: 0.2,
        ..reference
    };
    for model in [reference, deeper] {
        same_network_on_every_isa(&model);
    }
}

fn same_network_on_every_isa(model: &ModelConfig) {
    let model = *model;
    let part = synthetic_part(300);
    let config = TrainConfig {
        batch_size: 64,
        ..TrainConfig::default()
    };
    let members = [Member::fresh(1e-3), Member::fresh(1e-2)];
    for layout in [CpuLayout::Sparse, CpuLayout::Dense] {
        let data = HostData::new(&part, 64, None, layout);
        let device = burn::tensor::Device::flex();
        let runs: Vec<_> = all_isas()
            .into_iter()
            .map(|isa| {
                let mut stack = HostStack::new(&model, config, &members, layout, &device)
                    .unwrap()
                    .with_isa(isa);
                assert_eq!(stack.isa(), isa);
                let scores: Vec<_> = (0..2).map(|_| stack.train_epoch(&data).unwrap()).collect();
                (isa, scores, stack.state(1))
            })
            .collect();
        assert_eq!(
            HostStack::new(&model, config, &members, layout, &device)
                .unwrap()
                .isa(),
            Isa::detect()
        );
        let (_, want, want_state) = &runs[0];
        for (isa, got, state) in &runs[1..] {
            for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
                assert!(
                    ((g.loss - w.loss) / w.loss).abs() < 1e-4,
                    "{layout} {}: {g:?} vs {w:?}",
                    isa.name()
                );
            }
            let gap = state
                .tensors
                .iter()
                .zip(&want_state.tensors)
                .flat_map(|((_, a), (_, b))| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
                .fold(0f32, f32::max);
            assert!(
                gap < 1e-3,
                "{layout} {}: states differ by {gap}",
                isa.name()
            );
        }
        assert!(want[1][0].loss < want[0][0].loss, "training progresses");
    }
}

/// `n` 28×28 images with about a fifth of their pixels lit in a class-dependent band.
fn synthetic_part(n: usize) -> lrsweep_data::Part {
    let mut pixels = vec![0u8; n * 784];
    let mut labels = Vec::with_capacity(n);
    let mut state = 12345u32;
    for i in 0..n {
        let class = (i % 10) as lrsweep_data::Label;
        labels.push(class);
        for p in 0..784 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let band = (p / 28) / 3 == class as usize % 9;
            if band || (state >> 24) < 20 {
                pixels[i * 784 + p] = (state >> 16) as u8 | 1;
            }
        }
    }
    lrsweep_data::Part::from_pixels(pixels, labels, 784, 10).expect("a valid part")
}
