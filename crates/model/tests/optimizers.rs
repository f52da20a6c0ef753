//! Every optimizer under each convention against the framework that defines it
//! (`frameworks/optimizers.json`, made by `frameworks/optimizers.py`: PyTorch's `torch.optim`
//! and Keras 3's `keras.optimizers`): the weights after five steps from the same start on the
//! same batches, on every engine. The cases of one convention also train as one stack — Adam,
//! AdamW, SGD with and without momentum and Nesterov, RMSprop with and without momentum, with
//! and without weight decay — and every member's weights there equal its run alone, bit for
//! bit (on wgpu to the last bit of a fused multiply-add).

mod common;

use burn_dataset::Dataset;
use lrsweep_data::Part;
use lrsweep_model::{
    Convention, Flow, LossKind, Member, ModelConfig, OptimizerConfig, StackFit, TrainConfig,
    TrainerState, Widths, PER_PARAMETER,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    inputs: usize,
    hidden: Vec<usize>,
    classes: usize,
    batch_size: usize,
    pixels: Vec<u8>,
    labels: Vec<u16>,
    initial: Vec<Vec<f32>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    optimizer: String,
    convention: String,
    rate: f64,
    weight_decay: f64,
    #[serde(rename = "final")]
    after: Vec<Vec<f32>>,
}

impl Case {
    fn config(&self) -> OptimizerConfig {
        let convention = match self.convention.as_str() {
            "keras" => Convention::Keras,
            _ => Convention::Torch,
        };
        OptimizerConfig {
            weight_decay: self.weight_decay,
            ..OptimizerConfig::new(self.optimizer.parse().unwrap(), convention)
        }
    }

    fn name(&self) -> String {
        format!(
            "{} ({}, rate {}, weight decay {})",
            self.optimizer, self.convention, self.rate, self.weight_decay
        )
    }
}

/// The weights after one epoch (five steps) of `cases` trained together as one stack.
fn train(
    f: &Fixture,
    part: &Part,
    cases: &[&Case],
    loss: LossKind,
    engine: &common::Engine,
) -> Vec<Vec<Vec<f32>>> {
    let model = ModelConfig {
        inputs: f.inputs,
        hidden: Widths::new(&f.hidden).unwrap(),
        classes: f.classes,
        ..ModelConfig::default()
    };
    let start = TrainerState::before_training(
        model
            .parameter_shapes()
            .into_iter()
            .zip(f.initial.clone())
            .collect(),
    );
    let config = TrainConfig {
        epochs: 1,
        batch_size: f.batch_size,
        loss,
        compute: engine.compute,
        ..TrainConfig::default()
    };
    let members = cases
        .iter()
        .map(|c| Member {
            resume: Some((&start, Vec::new())),
            ..Member::fresh(c.rate).optimized(c.config())
        })
        .collect();
    let mut states = vec![None; cases.len()];
    StackFit::new(&model, &config, part, part, &engine.device, members)
        .run(|i, _, view| {
            states[i] = Some(view.state().unwrap());
            Flow::Continue
        })
        .unwrap();
    states
        .into_iter()
        .map(|s| {
            let s = s.expect("one epoch");
            assert_eq!(s.step, 5);
            s.tensors
                .chunks(PER_PARAMETER)
                .map(|slot| slot[0].1.clone())
                .collect()
        })
        .collect()
}

#[test]
fn every_optimizer_steps_as_its_framework_does_stacked_or_alone_on_every_engine() {
    let f: Fixture = serde_json::from_str(include_str!("frameworks/optimizers.json"))
        .expect("the fixture is JSON");
    assert_eq!(f.cases.len(), 22);
    let part = Part::from_pixels(f.pixels.clone(), f.labels.clone(), f.inputs, f.classes).unwrap();
    for i in 0..part.len() {
        let want: Vec<f32> = f.pixels[i * f.inputs..(i + 1) * f.inputs]
            .iter()
            .map(|&p| p as f32 / 255.0)
            .collect();
        assert_eq!(
            part.get(i).unwrap().image,
            want,
            "the inputs are the fixture's"
        );
    }
    for engine in common::engines() {
        for (convention, loss) in [("torch", LossKind::Exact), ("keras", LossKind::Keras)] {
            let cases: Vec<&Case> = f
                .cases
                .iter()
                .filter(|c| c.convention == convention)
                .collect();
            let together = train(&f, &part, &cases, loss, &engine);
            for (case, stacked) in cases.iter().zip(&together) {
                let what = format!("{}, {}", engine.name, case.name());
                let alone = train(&f, &part, &[case], loss, &engine).remove(0);
                if engine.name.starts_with("wgpu") {
                    // A GPU's kernel compiler may fuse a multiply and an add in one graph and
                    // not in another: to the last bit there, not beyond.
                    for (a, s) in alone.iter().flatten().zip(stacked.iter().flatten()) {
                        assert!(
                            (a - s).abs() <= 1e-6 * a.abs().max(1e-2),
                            "{what}: {a} vs {s}"
                        );
                    }
                } else {
                    assert_eq!(&alone, stacked, "{what}: stacked and alone differ");
                }
                let mut worst = 0f32;
                for (t, (got, want)) in stacked.iter().zip(&case.after).enumerate() {
                    for (k, (g, w)) in got.iter().zip(want).enumerate() {
                        worst = worst.max((g - w).abs());
                        assert!(
                            (g - w).abs() <= 1e-5 + 1e-4 * w.abs(),
                            "{what}: parameter tensor {t} index {k}: {g}, the framework's {w}"
                        );
                    }
                }
                let moved = stacked
                    .iter()
                    .flatten()
                    .zip(f.initial.iter().flatten())
                    .filter(|(a, b)| a != b)
                    .count();
                assert!(moved > 100, "{what}: {moved} weights moved");
                eprintln!("{what}: largest difference {worst:.1e}");
            }
        }
    }
}
