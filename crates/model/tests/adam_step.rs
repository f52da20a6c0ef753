//! One training step of a tiny network against the same step computed by hand in f64.

// The reference step is written index by index, as the formulas read (z1[j] = Σ_i x[i]·W1[i][j]).
#![allow(clippy::needless_range_loop)]

use burn::tensor::{Device, Int, Tensor, TensorData};
use lrsweep_model::{
    Batch, Compute, Convention, Defaults, LossKind, ModelConfig, Optimizer, OptimizerConfig,
    TrainConfig, Trainer, UpdateExec,
};

const IN: usize = 3;
const HID: usize = 4;
const OUT: usize = 3;

struct Params {
    w1: Vec<f64>, // IN × HID
    b1: Vec<f64>,
    w2: Vec<f64>, // HID × OUT
    b2: Vec<f64>,
}

fn f64s(t: Tensor<2>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn params(trainer: &Trainer) -> Params {
    let m = trainer.network();
    let b = |l: &burn::nn::Linear| f64s(l.bias.as_ref().unwrap().val().unsqueeze_dim(0));
    Params {
        w1: f64s(m.hidden.weight.val()),
        b1: b(&m.hidden),
        w2: f64s(m.output.weight.val()),
        b2: b(&m.output),
    }
}

/// Gradients of the mean exact cross-entropy, by hand.
fn grads(p: &Params, x: &[[f64; IN]], y: &[usize]) -> Params {
    let n = x.len() as f64;
    let mut g = Params {
        w1: vec![0.0; IN * HID],
        b1: vec![0.0; HID],
        w2: vec![0.0; HID * OUT],
        b2: vec![0.0; OUT],
    };
    for (xi, &yi) in x.iter().zip(y) {
        let z1: Vec<f64> = (0..HID)
            .map(|j| p.b1[j] + (0..IN).map(|i| xi[i] * p.w1[i * HID + j]).sum::<f64>())
            .collect();
        let h: Vec<f64> = z1.iter().map(|&z| z.max(0.0)).collect();
        let z2: Vec<f64> = (0..OUT)
            .map(|k| p.b2[k] + (0..HID).map(|j| h[j] * p.w2[j * OUT + k]).sum::<f64>())
            .collect();
        let m = z2.iter().cloned().fold(f64::MIN, f64::max);
        let e: Vec<f64> = z2.iter().map(|z| (z - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let dz2: Vec<f64> = (0..OUT)
            .map(|k| (e[k] / s - if k == yi { 1.0 } else { 0.0 }) / n)
            .collect();
        for k in 0..OUT {
            g.b2[k] += dz2[k];
            for j in 0..HID {
                g.w2[j * OUT + k] += h[j] * dz2[k];
            }
        }
        for j in 0..HID {
            let dh: f64 = (0..OUT).map(|k| dz2[k] * p.w2[j * OUT + k]).sum();
            let dz1 = if z1[j] > 0.0 { dh } else { 0.0 };
            g.b1[j] += dz1;
            for i in 0..IN {
                g.w1[i * HID + j] += xi[i] * dz1;
            }
        }
    }
    g
}

fn adam_first_step(p: &[f64], g: &[f64], lr: f64, convention: Convention) -> Vec<f64> {
    let (b1, b2, eps) = (0.9, 0.999, Defaults::of(convention).adam_epsilon);
    p.iter()
        .zip(g)
        .map(|(&p, &g)| {
            let m = (1.0 - b1) * g;
            let v = (1.0 - b2) * g * g;
            match convention {
                Convention::Keras => p - lr * (1.0 - b2).sqrt() / (1.0 - b1) * m / (v.sqrt() + eps),
                Convention::Torch => p - lr * (m / (1.0 - b1)) / ((v / (1.0 - b2)).sqrt() + eps),
            }
        })
        .collect()
}

fn batch(x: &[[f64; IN]], y: &[usize], device: &Device) -> Batch {
    let n = x.len();
    let flat: Vec<f32> = x.iter().flat_map(|r| r.iter().map(|&v| v as f32)).collect();
    let mut onehot = vec![0f32; n * OUT];
    for (r, &c) in y.iter().enumerate() {
        onehot[r * OUT + c] = 1.0;
    }
    Batch {
        x: Tensor::from_data(TensorData::new(flat, [n, IN]), device),
        y: Tensor::from_data(TensorData::new(onehot, [n, OUT]), device),
        labels: Tensor::<2, Int>::from_data(
            TensorData::new(y.iter().map(|&c| c as i32).collect::<Vec<_>>(), [n, 1]),
            device,
        ),
        sd: None,
    }
}

#[test]
fn one_adam_step_matches_the_hand_computed_update() {
    let device = Device::flex();
    let x = [
        [0.5, -1.0, 2.0],
        [1.5, 0.25, -0.5],
        [0.0, 1.0, 1.0],
        [-1.0, 0.5, 0.3],
    ];
    let y = [0, 2, 1, 2];
    let model_config = ModelConfig {
        inputs: IN,
        hidden: lrsweep_model::Widths::one(HID),
        classes: OUT,
        init_std: 0.5,
        ..ModelConfig::default()
    };
    let cases = [
        (Convention::Keras, UpdateExec::OnDevice),
        (Convention::Torch, UpdateExec::OnDevice),
        (Convention::Keras, UpdateExec::FusedOnHost),
        (Convention::Torch, UpdateExec::FusedOnHost),
    ];
    for (convention, update) in cases {
        let lr = 0.01;
        let config = TrainConfig {
            learning_rate: lr,
            compute: Compute::Tensor(update),
            loss: LossKind::Exact,
            optimizer: OptimizerConfig::new(Optimizer::Adam, convention),
            ..TrainConfig::default()
        };
        let mut trainer =
            Trainer::new(&model_config, model_config.init(3, &device), config).unwrap();
        let before = params(&trainer);
        let g = grads(&before, &x, &y);
        let totals = trainer
            .train_step(batch(&x, &y, &device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(trainer.steps(), 1);
        let after = params(&trainer);
        let pairs = [
            (&before.w1, &g.w1, &after.w1),
            (&before.b1, &g.b1, &after.b1),
            (&before.w2, &g.w2, &after.w2),
            (&before.b2, &g.b2, &after.b2),
        ];
        let mut changed = 0;
        for (p, g, a) in pairs {
            let want = adam_first_step(p, g, lr, convention);
            for ((w, a), p) in want.iter().zip(a).zip(p) {
                assert!(
                    (w - a).abs() < 1e-6,
                    "{convention:?}: expected {w}, got {a}"
                );
                changed += usize::from(a != p);
            }
        }
        // Every parameter with a non-zero gradient moved (Burn issue 5014: steps that did nothing).
        let nonzero = [&g.w1, &g.b1, &g.w2, &g.b2]
            .iter()
            .flat_map(|v| v.iter())
            .filter(|&&v| v != 0.0)
            .count();
        assert!(
            nonzero > 20 && changed == nonzero,
            "{changed} of {nonzero} moved"
        );
        assert!(totals[0] > 0.0 && (0.0..=4.0).contains(&totals[1]));
    }
}

#[test]
fn keras_and_torch_adam_differ_only_by_epsilon_scaling() {
    let k = OptimizerConfig::default();
    // PyTorch's placement with Keras' ε (what `--adam torch` trained before conventions).
    let t = OptimizerConfig {
        defaults: Defaults::earlier(Convention::Torch),
        ..OptimizerConfig::new(Optimizer::Adam, Convention::Torch)
    };
    let (sk, ek) = k.adam_scalars(1e-3, 1);
    let (st, et) = t.adam_scalars(1e-3, 1);
    assert_eq!(sk, st);
    assert!((ek - 1e-7).abs() < 1e-20 && (et - 1e-7 * 0.001f64.sqrt()).abs() < 1e-20);
}
