//! Rates trained together: each member matches its run alone, and a diverging member never
//! changes another's numbers. On flex, 3 epochs on 6,000 real images.

mod common;

use burn::tensor::Device;
use lrsweep_data::Split;
use lrsweep_model::{
    Compute, EpochRecord, Fit, Flow, Member, ModelConfig, StackFit, TrainConfig, UpdateExec,
};

fn config(update: UpdateExec) -> TrainConfig {
    TrainConfig {
        epochs: 3,
        compute: Compute::Tensor(update),
        ..TrainConfig::default()
    }
}

fn stacked(split: &Split, rates: &[f64], update: UpdateExec) -> Vec<Vec<EpochRecord>> {
    let config = config(update);
    let members = rates.iter().map(|&rate| Member::fresh(rate)).collect();
    StackFit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &Device::flex(),
        members,
    )
    .run(|_, _, _| Flow::Continue)
    .unwrap()
}

fn alone(split: &Split, rate: f64, update: UpdateExec) -> Vec<EpochRecord> {
    let config = TrainConfig {
        learning_rate: rate,
        ..config(update)
    };
    Fit::new(
        &ModelConfig::default(),
        &config,
        &split.train,
        &split.valid,
        &Device::flex(),
    )
    .run(|_, _| Flow::Continue)
    .unwrap()
}

fn figures(r: &[EpochRecord]) -> Vec<[f64; 4]> {
    r.iter()
        .map(|r| [r.train_loss, r.train_acc, r.val_loss, r.val_acc])
        .collect()
}

/// The tolerance the engine promises (1e-4 relative); the test also reports whether the
/// figures are bit-identical, which they are on flex: every operation of a step works slice by
/// slice, and flex computes each slice of a batched product with the same kernel as a single one.
fn assert_matches(a: &[EpochRecord], b: &[EpochRecord], what: &str) -> bool {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in figures(a).iter().zip(figures(b)) {
        for (p, q) in x.iter().zip(y) {
            let rel = (p - q).abs() / p.abs().max(1e-12);
            assert!(rel <= 1e-4, "{what}: {x:?} vs {y:?}");
        }
    }
    figures(a) == figures(b)
}

#[test]
fn each_member_of_a_stack_matches_its_run_alone() {
    let split = common::split(Some(6_000));
    for update in [UpdateExec::FusedOnHost, UpdateExec::OnDevice] {
        let rates = [1e-4, 1e-3, 1e-2];
        let together = stacked(&split, &rates, update);
        for (rate, records) in rates.iter().zip(&together) {
            let solo = alone(&split, *rate, update);
            let identical = assert_matches(records, &solo, &format!("lr {rate} {update:?}"));
            assert!(
                identical,
                "lr {rate} {update:?}: within 1e-4 but not bit-identical"
            );
        }
        assert!(together[1].last().unwrap().val_acc > 0.9);
    }
}

#[test]
fn a_diverging_member_leaves_the_others_exactly_as_they_were() {
    let split = common::split(Some(6_000));
    let update = UpdateExec::FusedOnHost;
    let with = stacked(&split, &[1e-3, 1e3], update);
    let without = stacked(&split, &[1e-3], update);
    assert!(
        with[1].last().unwrap().diverged() || with[1].last().unwrap().val_acc < 0.3,
        "the huge rate fails: {:?}",
        with[1]
    );
    assert_eq!(figures(&with[0]), figures(&without[0]));
}

#[test]
fn members_at_different_epochs_train_together_and_leave_when_done() {
    let split = common::split(Some(2_000));
    let config = config(UpdateExec::FusedOnHost);
    let model = ModelConfig::default();
    let device = Device::flex();
    // Member 1 is one epoch ahead: saved after its first epoch of a run alone.
    let mut saved = None;
    let first = Fit::new(&model, &config, &split.train, &split.valid, &device)
        .run(|r, v| {
            if r.epoch == 1 {
                saved = Some(v.state().unwrap());
            }
            Flow::Continue
        })
        .unwrap();
    let state = saved.unwrap();
    let mut seen = Vec::new();
    let members = vec![
        Member::fresh(1e-2),
        Member {
            resume: Some((&state, first[..1].to_vec())),
            ..Member::fresh(1e-3)
        },
    ];
    let all = StackFit::new(
        &model,
        &config,
        &split.train,
        &split.valid,
        &device,
        members,
    )
    .run(|id, r, _| {
        seen.push((id, r.epoch));
        Flow::Continue
    })
    .unwrap();
    assert_eq!(all[0].len(), 3);
    assert_eq!(all[1].len(), 3);
    assert_eq!(seen, vec![(0, 1), (1, 2), (0, 2), (1, 3), (0, 3)]);
    assert_eq!(
        figures(&all[1]),
        figures(&first),
        "the resumed member continues exactly"
    );
}

/// Members with their own seeds (weights and order) in one stack: each gives exactly the figures
/// it gives alone, on both engines, and other seeds give other figures.
#[test]
fn seeded_members_of_one_stack_match_their_runs_alone() {
    use lrsweep_model::{Compute, CpuPath};
    let split = common::split(Some(3_000));
    let members = |seeds: &[(f64, Option<u64>)]| -> Vec<Member<'static>> {
        seeds
            .iter()
            .map(|&(rate, seed)| match seed {
                Some(s) => Member::fresh(rate).seeded(s),
                None => Member::fresh(rate),
            })
            .collect()
    };
    let run = |compute, seeds: &[(f64, Option<u64>)]| {
        let config = TrainConfig {
            epochs: 2,
            compute,
            ..TrainConfig::default()
        };
        StackFit::new(
            &ModelConfig::default(),
            &config,
            &split.train,
            &split.valid,
            &Device::flex(),
            members(seeds),
        )
        .run(|_, _, _| Flow::Continue)
        .unwrap()
    };
    let all = [
        (1e-3, None),
        (1e-3, Some(43)),
        (1e-3, Some(44)),
        (1e-2, Some(43)),
    ];
    for compute in [
        Compute::Tensor(UpdateExec::FusedOnHost),
        Compute::Cpu(CpuPath::Sparse),
    ] {
        let together = run(compute, &all);
        for (i, member) in all.iter().enumerate() {
            let alone = run(compute, &[*member]);
            assert_eq!(
                figures(&together[i]),
                figures(&alone[0]),
                "{compute:?} {member:?}"
            );
        }
        assert_ne!(figures(&together[0]), figures(&together[1]), "seeds differ");
        // The run's own seed is the default member: the same figures as an unseeded one.
        assert_eq!(
            figures(&run(compute, &[(1e-3, Some(42))])[0]),
            figures(&together[0])
        );
    }
}

/// Members under different schedules in one stack, on both engines: each gives exactly the
/// figures it gives alone, a constant member exactly those of a plain (unscheduled) run, every
/// record's `lr` is its schedule's rate at the epoch's last step, and a scheduled rate trains
/// differently from the constant one.
#[test]
fn scheduled_members_of_one_stack_match_their_runs_alone() {
    use lrsweep_model::{Clock, Compute, CpuPath, Schedule};
    let split = common::split(Some(3_000));
    let specs = [
        "constant",
        "cosine",
        "step:1:0.5",
        "onecycle",
        "plateau:0.5:1",
    ];
    let schedules: Vec<Schedule> = specs.iter().map(|s| s.parse().unwrap()).collect();
    let (epochs, warmup) = (3, 0);
    let run = |compute, members: Vec<Member<'static>>| {
        let config = TrainConfig {
            epochs,
            warmup,
            compute,
            ..TrainConfig::default()
        };
        StackFit::new(
            &ModelConfig::default(),
            &config,
            &split.train,
            &split.valid,
            &Device::flex(),
            members,
        )
        .run(|_, _, _| Flow::Continue)
        .unwrap()
    };
    let steps = split.train.len().div_ceil(256);
    for compute in [
        Compute::Tensor(UpdateExec::FusedOnHost),
        Compute::Tensor(UpdateExec::OnDevice),
        Compute::Cpu(CpuPath::Sparse),
    ] {
        let members = || -> Vec<Member<'static>> {
            schedules
                .iter()
                .map(|&s| Member::fresh(2e-3).scheduled(s))
                .collect()
        };
        let together = run(compute, members());
        let plain = run(compute, vec![Member::fresh(2e-3)]);
        assert_eq!(
            figures(&together[0]),
            figures(&plain[0]),
            "{compute:?}: constant = plain"
        );
        for (i, member) in members().into_iter().enumerate() {
            let schedule = member.schedule;
            let alone = run(compute, vec![member]);
            assert_eq!(
                figures(&together[i]),
                figures(&alone[0]),
                "{compute:?} {}",
                specs[i]
            );
            for r in &together[i] {
                let clock = Clock {
                    epoch: r.epoch,
                    steps,
                    epochs,
                    warmup,
                };
                let rates = schedule.rates(2e-3, clock, &together[i][..r.epoch - 1]);
                assert_eq!(
                    r.lr,
                    *rates.last().unwrap(),
                    "{} epoch {}",
                    specs[i],
                    r.epoch
                );
            }
            // (plateau keeps the rate while the loss falls, as it does over these epochs)
            if i > 0 && !matches!(schedule, Schedule::Plateau { .. }) {
                assert_ne!(figures(&together[i]), figures(&together[0]), "{}", specs[i]);
            }
        }
        assert_eq!(
            together[2].iter().map(|r| r.lr).collect::<Vec<_>>(),
            vec![2e-3, 1e-3, 5e-4]
        );
    }
}
