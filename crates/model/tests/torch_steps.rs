//! A network of three hidden layers trained a few steps on every engine against PyTorch's own
//! numbers for the same initial weights, batches, loss and optimizer (`frameworks/steps.json`,
//! made by `frameworks/steps.py`): each epoch's training loss and every weight after
//! the last step, under each activation.

mod common;

use burn::tensor::Device;
use burn_dataset::Dataset;
use lrsweep_data::Part;
use lrsweep_model::{
    Activation, Compute, Convention, Defaults, Flow, Init, LossKind, Member, ModelConfig,
    Optimizer, OptimizerConfig, StackFit, TrainConfig, TrainerState, Widths, PER_PARAMETER,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    inputs: usize,
    hidden: Vec<usize>,
    classes: usize,
    batch_size: usize,
    epochs: usize,
    rate: f64,
    eps: f64,
    pixels: Vec<u8>,
    labels: Vec<u16>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    activation: String,
    initial: Vec<Vec<f32>>,
    step_losses: Vec<f64>,
    #[serde(rename = "final")]
    after: Vec<Vec<f32>>,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("frameworks/steps.json")).expect("the fixture is JSON")
}

/// What `engine` makes of `case`: each epoch's training loss and the weights after the last
/// epoch, from PyTorch's initial weights, the part's own order.
fn train(
    f: &Fixture,
    case: &Case,
    part: &Part,
    compute: Compute,
    device: &Device,
) -> (Vec<f64>, Vec<Vec<f32>>) {
    let model = ModelConfig {
        inputs: f.inputs,
        hidden: Widths::new(&f.hidden).unwrap(),
        classes: f.classes,
        activation: case.activation.parse::<Activation>().unwrap(),
        init: Init::Torch,
        ..ModelConfig::default()
    };
    let shapes = model.parameter_shapes();
    let start =
        TrainerState::before_training(shapes.into_iter().zip(case.initial.clone()).collect());
    start
        .check(&model)
        .expect("PyTorch's weights fit the network");
    let config = TrainConfig {
        epochs: f.epochs,
        batch_size: f.batch_size,
        loss: LossKind::Exact,
        optimizer: OptimizerConfig {
            defaults: Defaults {
                adam_epsilon: f.eps,
                ..Defaults::of(Convention::Torch)
            },
            ..OptimizerConfig::new(Optimizer::Adam, Convention::Torch)
        },
        compute,
        ..TrainConfig::default()
    };
    let member = Member {
        resume: Some((&start, Vec::new())),
        ..Member::fresh(f.rate)
    };
    let mut last = None;
    let records = StackFit::new(&model, &config, part, part, device, vec![member])
        .run(|_, _, view| {
            last = Some(view.state().unwrap());
            Flow::Continue
        })
        .unwrap();
    let state = last.expect("an epoch");
    assert_eq!(
        state.step as usize,
        f.epochs * f.pixels.len() / f.inputs / f.batch_size
    );
    let weights = state
        .tensors
        .chunks(PER_PARAMETER)
        .map(|slot| slot[0].1.clone())
        .collect();
    (records[0].iter().map(|r| r.train_loss).collect(), weights)
}

#[test]
fn three_hidden_layers_train_as_pytorch_trains_them_on_every_engine() {
    let f = fixture();
    let items = f.labels.len();
    let part = Part::from_pixels(f.pixels.clone(), f.labels.clone(), f.inputs, f.classes).unwrap();
    // The inputs are PyTorch's: bytes over 255 in f32.
    for i in 0..items {
        let item = part.get(i).unwrap();
        let want: Vec<f32> = f.pixels[i * f.inputs..(i + 1) * f.inputs]
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect();
        assert_eq!(item.image, want);
    }
    let engines = common::engines();
    assert_eq!(f.cases.len(), 3, "relu, tanh and gelu");
    let steps_per_epoch = items / f.batch_size;
    for case in &f.cases {
        // Each epoch's loss: the mean of its steps' (equal batches).
        let want_losses: Vec<f64> = case
            .step_losses
            .chunks(steps_per_epoch)
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .collect();
        assert!(want_losses[2] < want_losses[0], "PyTorch's loss falls");
        for common::Engine {
            name,
            compute,
            device,
        } in &engines
        {
            let what = format!("{name}, {}", case.activation);
            let (losses, weights) = train(&f, case, &part, *compute, device);
            for (got, want) in losses.iter().zip(&want_losses) {
                assert!(
                    (got - want).abs() <= 1e-6,
                    "{what}: epoch loss {got}, PyTorch {want}"
                );
            }
            let mut worst = 0f32;
            for (t, (got, want)) in weights.iter().zip(&case.after).enumerate() {
                assert_eq!(got.len(), want.len());
                for (k, (g, w)) in got.iter().zip(want).enumerate() {
                    worst = worst.max((g - w).abs());
                    assert!(
                        (g - w).abs() <= 2e-6,
                        "{what}: parameter tensor {t} index {k}: {g}, PyTorch {w}"
                    );
                }
            }
            let moved = weights
                .iter()
                .flatten()
                .zip(case.initial.iter().flatten())
                .filter(|(a, b)| a != b)
                .count();
            let total = case.initial.iter().map(Vec::len).sum::<usize>();
            assert!(
                2 * moved > total,
                "{what}: {moved} of {total} weights moved"
            );
            eprintln!("{what}: largest weight difference from PyTorch {worst:.1e}");
        }
    }
}
