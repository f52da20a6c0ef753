//! Dropout on every engine: its masks come from each member's own seeded stream, so a member's
//! figures are the same stacked and alone, in one run and resumed from its checkpoint, and the
//! engines agree with each other (they draw the same masks). On 2,000 real MNIST images, a
//! network of two hidden layers with dropout 0.3.

mod common;

use burn::tensor::Device;
use lrsweep_data::Split;
use lrsweep_model::{
    Compute, EpochRecord, Flow, Member, ModelConfig, StackFit, TrainConfig, TrainerState, Widths,
};

const EPOCHS: usize = 3;

fn model(dropout: f64) -> ModelConfig {
    ModelConfig {
        hidden: Widths::new(&[64, 32]).unwrap(),
        dropout,
        ..ModelConfig::default()
    }
}

fn config(compute: Compute) -> TrainConfig {
    TrainConfig {
        epochs: EPOCHS,
        compute,
        ..TrainConfig::default()
    }
}

/// The members (rate, seed) trained as one stack; each one's records, and its state after
/// `until` epochs when given (training stops there).
fn stack(
    split: &Split,
    model: &ModelConfig,
    compute: Compute,
    device: &Device,
    members: &[(f64, u64)],
    until: Option<usize>,
    resume: Option<&[(TrainerState, Vec<EpochRecord>)]>,
) -> (Vec<Vec<EpochRecord>>, Vec<Option<TrainerState>>) {
    let config = config(compute);
    let fit_members = members
        .iter()
        .enumerate()
        .map(|(i, &(rate, seed))| Member {
            resume: resume.map(|r| (&r[i].0, r[i].1.clone())),
            ..Member::fresh(rate).seeded(seed)
        })
        .collect();
    let mut states = vec![None; members.len()];
    let mut fit = StackFit::new(
        model,
        &config,
        &split.train,
        &split.valid,
        device,
        fit_members,
    );
    if let Some(epoch) = until {
        fit = fit.until(epoch);
    }
    let records = fit
        .run(|i, _, view| {
            if view.leaves() {
                states[i] = Some(view.state().unwrap());
            }
            Flow::Continue
        })
        .unwrap();
    (records, states)
}

fn figures(r: &[EpochRecord]) -> Vec<[f64; 5]> {
    r.iter()
        .map(|r| {
            [
                r.train_loss,
                r.train_acc,
                r.val_loss,
                r.val_acc,
                r.val_loss_se,
            ]
        })
        .collect()
}

#[test]
fn a_member_s_dropout_is_its_own_stacked_alone_resumed_and_on_every_engine() {
    let split = common::split(Some(2_000));
    let members = [(1e-3, 42), (1e-2, 42), (1e-3, 43)];
    let engines = common::engines();
    let dropped = model(0.3);
    let mut first: Option<Vec<Vec<EpochRecord>>> = None;
    for common::Engine {
        name,
        compute,
        device,
    } in &engines
    {
        let (together, _) = stack(&split, &dropped, *compute, device, &members, None, None);
        for (i, member) in members.iter().enumerate() {
            let what = format!("{name}, member {member:?}");
            assert_eq!(together[i].len(), EPOCHS, "{what}");
            // Alone: the same figures, bit for bit.
            let (alone, _) = stack(&split, &dropped, *compute, device, &[*member], None, None);
            assert_eq!(figures(&alone[0]), figures(&together[i]), "{what}: alone");
            // Resumed after its first epoch: the same figures, bit for bit.
            let (head, states) = stack(
                &split,
                &dropped,
                *compute,
                device,
                &[*member],
                Some(1),
                None,
            );
            let saved = [(
                states[0].clone().expect("a state after epoch 1"),
                head[0].clone(),
            )];
            let (resumed, _) = stack(
                &split,
                &dropped,
                *compute,
                device,
                &[*member],
                None,
                Some(&saved),
            );
            assert_eq!(
                figures(&resumed[0]),
                figures(&together[i]),
                "{what}: resumed"
            );
        }
        // The seeds draw other masks and the rates train: three different curves.
        assert_ne!(
            figures(&together[0]),
            figures(&together[2]),
            "{name}: seeds"
        );
        // Dropout changes training (not validation's way of scoring: it is off there).
        let (plain, _) = stack(
            &split,
            &model(0.0),
            *compute,
            device,
            &members[..1],
            None,
            None,
        );
        assert_ne!(
            figures(&plain[0]),
            figures(&together[0]),
            "{name}: dropout did nothing"
        );
        // Every engine draws the same masks: their figures agree to f32 rounding.
        match &first {
            None => first = Some(together),
            Some(reference) => {
                for (a, b) in reference.iter().zip(&together) {
                    for (x, y) in figures(a).iter().zip(figures(b)) {
                        for (k, (p, q)) in x.iter().zip(y).enumerate() {
                            // Losses to f32 rounding; accuracies to an item or two (an item
                            // on the boundary may fall either way).
                            let close = match k {
                                1 | 3 => (p - q).abs() <= 0.01,
                                _ => (p - q).abs() <= 1e-3 * p.abs().max(1e-3),
                            };
                            assert!(close, "{name} against cpu dense: {x:?} vs {y:?}");
                        }
                    }
                }
            }
        }
    }
}
