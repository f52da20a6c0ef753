//! A regression on every engine (issue 36): the gradient of the mean squared error and of the
//! Huber loss against central finite differences of an f64 forward pass, several targets at
//! once; a stack's members equal their runs alone; every engine reaches the same curves, with
//! R², RMSE and MAE that agree with their definitions on the validation part.

mod common;

use burn::tensor::Device;
use lrsweep_data::{Dataset, Part, Split, SplitConfig, Values};
use lrsweep_model::{
    Activation, Compute, EpochRecord, Flow, LossKind, Member, ModelConfig, StackFit, TrainConfig,
    TrainerState, Widths, PER_PARAMETER,
};

const INPUTS: usize = 5;
const TARGETS: usize = 2;

/// `n` items of five features and two targets, a smooth function of them plus noise.
fn split(n: usize) -> Split {
    let mut state = 7u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut x = Vec::with_capacity(n * INPUTS);
    let mut y = Vec::with_capacity(n * TARGETS);
    for _ in 0..n {
        let row: Vec<f64> = (0..INPUTS).map(|_| uniform() * 4.0 - 2.0).collect();
        y.push(3.0 * row[0] - row[1] * row[2] + 0.3 * (uniform() - 0.5) + 100.0);
        y.push(row[3].sin() * 10.0 + row[4] + 0.3 * (uniform() - 0.5));
        x.extend(row.iter().map(|&v| v as f32));
    }
    Dataset::regression(
        Values::Floats(x.into()),
        y,
        vec![INPUTS],
        vec!["a".into(), "b".into()],
        "synthetic",
    )
    .unwrap()
    .split(&SplitConfig {
        val_fraction: 0.25,
        ..SplitConfig::default()
    })
    .unwrap()
}

fn model() -> ModelConfig {
    ModelConfig {
        inputs: INPUTS,
        hidden: Widths::new(&[7, 4]).unwrap(),
        classes: TARGETS,
        init_std: 0.5,
        activation: Activation::Tanh,
        ..ModelConfig::default()
    }
}

/// The mean over items of each item's mean loss over its targets, in f64.
fn loss(kind: LossKind, model: &ModelConfig, params: &[Vec<f64>], part: &Part) -> f64 {
    let layers = model.layers();
    let targets = part.targets().unwrap();
    let mut total = 0.0;
    let mut row = Vec::new();
    for i in 0..part.len() {
        row.clear();
        part.extend_row(i, &mut row);
        let mut a: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        for (l, &(fan_in, fan_out)) in layers.iter().enumerate() {
            let (w, b) = (&params[2 * l], &params[2 * l + 1]);
            let z: Vec<f64> = (0..fan_out)
                .map(|j| b[j] + (0..fan_in).map(|k| a[k] * w[k * fan_out + j]).sum::<f64>())
                .collect();
            a = match l + 1 < layers.len() {
                true => z.iter().map(|z| z.tanh()).collect(),
                false => z,
            };
        }
        let item: f64 = (0..TARGETS)
            .map(|k| {
                let e = a[k] - targets[i * TARGETS + k] as f64;
                match kind {
                    LossKind::Huber if e.abs() > 1.0 => e.abs() - 0.5,
                    LossKind::Huber => 0.5 * e * e,
                    _ => e * e,
                }
            })
            .sum::<f64>()
            / TARGETS as f64;
        total += item;
    }
    total / part.len() as f64
}

fn config(kind: LossKind, compute: Compute, batch: usize, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: batch,
        loss: kind,
        compute,
        ..TrainConfig::default()
    }
}

/// Each parameter's gradient as an engine computes it in one full-batch step.
fn engine_gradients(
    kind: LossKind,
    compute: Compute,
    device: &Device,
    part: &Part,
) -> Vec<Vec<f64>> {
    let config = config(kind, compute, part.len(), 1);
    common::first_step_gradients(&model(), &config, device, part)
}

/// One test (wgpu's device starts once in a process): the gradients, then the stacks.
#[test]
fn a_regression_on_every_engine() {
    let engines = common::engines();
    mse_and_huber_gradients_match_finite_differences(&engines);
    a_stack_equals_its_members_alone_and_the_engines_agree(&engines);
}

fn mse_and_huber_gradients_match_finite_differences(engines: &[common::Engine]) {
    let part = split(16).train;
    let model = model();
    let start: Vec<Vec<f64>> = TrainerState::initial(&model, TrainConfig::default().seed)
        .tensors
        .chunks(PER_PARAMETER)
        .map(|slot| slot[0].1.iter().map(|&w| w as f64).collect())
        .collect();
    for kind in [LossKind::Mse, LossKind::Huber] {
        let h = 1e-6;
        let mut p = start.clone();
        let want: Vec<Vec<f64>> = (0..start.len())
            .map(|t| {
                (0..start[t].len())
                    .map(|k| {
                        let keep = p[t][k];
                        p[t][k] = keep + h;
                        let up = loss(kind, &model, &p, &part);
                        p[t][k] = keep - h;
                        let down = loss(kind, &model, &p, &part);
                        p[t][k] = keep;
                        (up - down) / (2.0 * h)
                    })
                    .collect()
            })
            .collect();
        let moving = want.iter().flatten().filter(|g| g.abs() > 1e-4).count();
        assert!(moving > 30, "{kind:?}: {moving} gradients above 1e-4");
        for common::Engine {
            name,
            compute,
            device,
        } in engines
        {
            let got = engine_gradients(kind, *compute, device, &part);
            for (t, (g, w)) in got.iter().zip(&want).enumerate() {
                for (k, (g, w)) in g.iter().zip(w).enumerate() {
                    assert!(
                        (g - w).abs() <= 1e-6 + 1e-4 * w.abs(),
                        "{name}, {kind:?}: tensor {t} index {k}: engine {g}, finite differences {w}"
                    );
                }
            }
        }
    }
}

fn train(
    split: &Split,
    kind: LossKind,
    engine: &common::Engine,
    rates: &[f64],
) -> Vec<Vec<EpochRecord>> {
    let config = config(kind, engine.compute, 32, 4);
    StackFit::new(
        &model(),
        &config,
        &split.train,
        &split.valid,
        &engine.device,
        rates.iter().map(|&r| Member::fresh(r)).collect(),
    )
    .run(|_, _, _| Flow::Continue)
    .unwrap()
}

/// The figures of records, the seconds left out.
fn figures(records: &[EpochRecord]) -> Vec<[f64; 6]> {
    records
        .iter()
        .map(|r| {
            [
                r.train_loss,
                r.train_acc,
                r.val_loss,
                r.val_acc,
                r.val_rmse,
                r.val_mae,
            ]
        })
        .collect()
}

fn a_stack_equals_its_members_alone_and_the_engines_agree(engines: &[common::Engine]) {
    let split = split(300);
    let rates = [1e-3, 1e-2];
    let mut reference: Option<Vec<Vec<[f64; 6]>>> = None;
    for engine in engines {
        for kind in [LossKind::Mse, LossKind::Huber] {
            let stacked = train(&split, kind, engine, &rates);
            for (i, &rate) in rates.iter().enumerate() {
                let alone = train(&split, kind, engine, &[rate]);
                assert_eq!(
                    figures(&stacked[i]),
                    figures(&alone[0]),
                    "{} {kind:?} {rate}: stacked = alone",
                    engine.name
                );
            }
            if kind != LossKind::Mse {
                continue;
            }
            let got: Vec<_> = stacked.iter().map(|r| figures(r)).collect();
            match &reference {
                None => reference = Some(got),
                Some(want) => {
                    for (a, b) in got.iter().flatten().zip(want.iter().flatten()) {
                        for (x, y) in a.iter().zip(b) {
                            assert!(
                                (x - y).abs() <= 1e-3 * (1.0 + y.abs()),
                                "{}: {a:?} against the first engine's {b:?}",
                                engine.name
                            );
                        }
                    }
                }
            }
        }
    }
    // The metrics agree with their definitions: R² from the validation loss (MSE over the
    // standardised targets), RMSE and MAE positive and R² learning at 1e-2.
    let records = &reference.unwrap()[1];
    let last = records.last().unwrap();
    let sst = split.valid.target_sum_of_squares().unwrap();
    let values = (split.valid.len() * TARGETS) as f64;
    let r2 = 1.0 - last[2] * values / sst;
    assert!(
        (last[3] - r2).abs() < 1e-4,
        "R² {} against 1 − SSE/SST {r2}",
        last[3]
    );
    assert!(last[3] > 0.5, "R² {} after 4 epochs", last[3]);
    assert!(
        last[4] > 0.0 && last[5] > 0.0 && last[5] <= last[4] + 1e-12,
        "{last:?}"
    );
}
