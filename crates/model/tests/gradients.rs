//! Every parameter's gradient, on every engine, against central finite differences of an f64
//! forward pass: a network of three hidden layers under each activation (and a different
//! initialisation each), one full-batch step. Adam's first step leaves the gradient in its
//! first moment (`m = (1 − β1)·g`), which is what the engines are read by.

mod common;

use burn::tensor::Device;
use lrsweep_data::Part;
use lrsweep_model::{
    Activation, Compute, Init, LossKind, ModelConfig, TrainConfig, TrainerState, Widths,
    PER_PARAMETER,
};

const INPUTS: usize = 6;
const CLASSES: usize = 3;
const ITEMS: usize = 8;

/// Eight items of six features, about a third of them zero (the sparse path skips those).
fn part() -> Part {
    let mut pixels = Vec::with_capacity(ITEMS * INPUTS);
    let mut state = 2024u32;
    for _ in 0..ITEMS * INPUTS {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let v = (state >> 24) as u8;
        pixels.push(if v < 85 { 0 } else { v });
    }
    let labels = (0..ITEMS)
        .map(|i| (i % CLASSES) as lrsweep_data::Label)
        .collect();
    Part::from_pixels(pixels, labels, INPUTS, CLASSES).unwrap()
}

/// The network's mean exact cross-entropy over `part` in f64, its parameters `params` (each
/// layer's weight `[fan_in, fan_out]` row-major, then its bias).
fn loss(model: &ModelConfig, params: &[Vec<f64>], x: &[Vec<f64>], y: &[usize]) -> f64 {
    let layers = model.layers();
    let mut total = 0.0;
    for (xi, &yi) in x.iter().zip(y) {
        let mut a = xi.clone();
        for (l, &(fan_in, fan_out)) in layers.iter().enumerate() {
            let (w, b) = (&params[2 * l], &params[2 * l + 1]);
            let z: Vec<f64> = (0..fan_out)
                .map(|j| b[j] + (0..fan_in).map(|i| a[i] * w[i * fan_out + j]).sum::<f64>())
                .collect();
            a = if l + 1 < layers.len() {
                z.iter().map(|&z| activate(model.activation, z)).collect()
            } else {
                z
            };
        }
        let max = a.iter().copied().fold(f64::MIN, f64::max);
        let sum: f64 = a.iter().map(|z| (z - max).exp()).sum();
        total -= a[yi] - max - sum.ln();
    }
    total / x.len() as f64
}

/// The activation in f64, as the frameworks define it (GELU exact, with erf).
fn activate(a: Activation, z: f64) -> f64 {
    match a {
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Gelu => 0.5 * z * (1.0 + lrsweep_model::erf(z / std::f64::consts::SQRT_2)),
    }
}

/// Central differences of [`loss`] in every parameter.
fn finite_differences(model: &ModelConfig, params: &[Vec<f64>], part: &Part) -> Vec<Vec<f64>> {
    use burn_dataset::Dataset;
    let items: Vec<_> = (0..part.len()).map(|i| part.get(i).unwrap()).collect();
    let x: Vec<Vec<f64>> = items
        .iter()
        .map(|item| item.image.iter().map(|&v| v as f64).collect())
        .collect();
    let y: Vec<usize> = items.iter().map(|item| item.label).collect();
    let h = 1e-6;
    let mut p = params.to_vec();
    (0..params.len())
        .map(|t| {
            (0..params[t].len())
                .map(|k| {
                    let keep = p[t][k];
                    p[t][k] = keep + h;
                    let up = loss(model, &p, &x, &y);
                    p[t][k] = keep - h;
                    let down = loss(model, &p, &x, &y);
                    p[t][k] = keep;
                    (up - down) / (2.0 * h)
                })
                .collect()
        })
        .collect()
}

/// Each parameter's gradient as `engine` computes it in one full-batch step of the exact
/// cross-entropy.
fn engine_gradients(
    model: &ModelConfig,
    compute: Compute,
    device: &Device,
    part: &Part,
) -> Vec<Vec<f64>> {
    let config = TrainConfig {
        epochs: 1,
        batch_size: ITEMS,
        loss: LossKind::Exact,
        compute,
        ..TrainConfig::default()
    };
    common::first_step_gradients(model, &config, device, part)
}

#[test]
fn every_parameter_s_gradient_matches_finite_differences_on_every_engine() {
    let part = part();
    let engines = common::engines();
    for (activation, init) in [
        (Activation::Relu, Init::Normal),
        (Activation::Tanh, Init::GlorotUniform),
        (Activation::Gelu, Init::Torch),
    ] {
        let model = ModelConfig {
            inputs: INPUTS,
            hidden: Widths::new(&[8, 6, 5]).unwrap(),
            classes: CLASSES,
            init_std: 0.5,
            activation,
            init,
            ..ModelConfig::default()
        };
        let start: Vec<Vec<f64>> = TrainerState::initial(&model, TrainConfig::default().seed)
            .tensors
            .chunks(PER_PARAMETER)
            .map(|slot| slot[0].1.iter().map(|&w| w as f64).collect())
            .collect();
        assert_eq!(start.len(), 8, "four layers, a weight and a bias each");
        let want = finite_differences(&model, &start, &part);
        let moving = want.iter().flatten().filter(|g| g.abs() > 1e-4).count();
        assert!(moving > 40, "{activation}: {moving} gradients above 1e-4");
        for common::Engine {
            name,
            compute,
            device,
        } in &engines
        {
            let got = engine_gradients(&model, *compute, device, &part);
            assert_eq!(got.len(), want.len());
            let worst = got
                .iter()
                .flatten()
                .zip(want.iter().flatten())
                .map(|(g, w)| (g - w).abs())
                .fold(0.0, f64::max);
            eprintln!("{name}, {activation}: largest difference {worst:.1e}");
            for (t, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.len(), w.len(), "{name} {activation}: tensor {t}");
                for (k, (g, w)) in g.iter().zip(w).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-6 + 1e-4 * w.abs(),
                        "{name}, {activation}: parameter tensor {t} (layer {}, {}) index {k}: engine {g}, finite differences {w}",
                        t / 2 + 1,
                        if t % 2 == 0 { "weight" } else { "bias" }
                    );
                }
            }
        }
    }
}
