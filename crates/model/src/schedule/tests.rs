use super::*;

/// Records of epochs whose validation losses are `losses` (what `plateau` reads).
fn history(losses: &[f64]) -> Vec<EpochRecord> {
    losses
        .iter()
        .enumerate()
        .map(|(i, &val_loss)| EpochRecord {
            epoch: i + 1,
            train_loss: 0.5,
            train_acc: 0.9,
            val_loss,
            val_acc: 0.9,
            seconds: 1.0,
            lr: f64::NAN,
            val_loss_se: f64::NAN,
            val_rmse: f64::NAN,
            val_mae: f64::NAN,
        })
        .collect()
}

/// Every step's rate of a run of `epochs` × `steps`, epoch by epoch as the fit loop asks.
fn run(
    s: Schedule,
    rate: f64,
    epochs: usize,
    steps: usize,
    warmup: usize,
    losses: &[f64],
) -> Vec<f64> {
    let records = history(losses);
    (1..=epochs)
        .flat_map(|epoch| {
            let clock = Clock {
                epoch,
                steps,
                epochs,
                warmup,
            };
            s.rates(rate, clock, &records[..(epoch - 1).min(records.len())])
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-12)
}

#[test]
fn every_schedule_gives_the_rates_pytorch_and_keras_give() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixture.json")).expect("the fixture is JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for c in cases {
        let spec = c["spec"].as_str().unwrap();
        let schedule: Schedule = spec.parse().unwrap();
        let n = |k: &str| c[k].as_u64().unwrap() as usize;
        let losses: Vec<f64> = c["val_losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        let want: Vec<f64> = c["rates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let rate = c["rate"].as_f64().unwrap();
        let got = run(
            schedule,
            rate,
            n("epochs"),
            n("steps"),
            n("warmup"),
            &losses,
        );
        assert_eq!(got.len(), want.len(), "{spec}");
        for (s, (g, w)) in got.iter().zip(&want).enumerate() {
            // Keras computes in f32: within 1e-7 of the rate, besides 1e-6 relative.
            assert!(
                (g - w).abs() <= 1e-6 * w.abs() + 1e-7 * rate,
                "{spec} (warm-up {}) step {s}: lrsweep {g}, {} {w}",
                n("warmup"),
                c["source"]
            );
        }
    }
}

#[test]
fn per_epoch_schedules_change_only_at_epoch_boundaries() {
    // step:2:0.5 over 3 steps per epoch: epochs 1-2 at the rate, 3-4 at half, 5 at a quarter.
    let r = run("step:2:0.5".parse().unwrap(), 0.1, 5, 3, 0, &[]);
    assert_eq!(&r[..6], &[0.1; 6]);
    assert_eq!(&r[6..12], &[0.05; 6]);
    assert_eq!(&r[12..], &[0.025; 3]);
    // exp:0.5: epoch 1 trains at the rate itself.
    let r = run("exp:0.5".parse().unwrap(), 0.1, 3, 2, 0, &[]);
    assert_eq!(r, vec![0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
}

#[test]
fn per_step_schedules_move_within_epochs_and_meet_at_the_boundaries() {
    let (epochs, steps) = (4, 10);
    let r = run(Schedule::Cosine { alpha: None }, 1.0, epochs, steps, 0, &[]);
    assert_eq!(r[0], 1.0, "the first step at the rate");
    assert!(close(r[20], 0.5), "half way (step 20 of 40): half the rate");
    assert!(r.windows(2).all(|w| w[1] < w[0]), "falls every step");
    // Epoch 3's first step continues epoch 2's last: no jump at the boundary.
    let gap = r[20] - r[19];
    assert!(gap < 0.0 && gap.abs() < 0.05);
    let a = run(
        Schedule::Cosine { alpha: Some(0.2) },
        1.0,
        epochs,
        steps,
        0,
        &[],
    );
    assert!(a.iter().all(|&x| x > 0.2) && close(a[20], 0.6));
    let one = run(Schedule::OneCycle, 1.0, epochs, steps, 0, &[]);
    assert!(close(one[0], 1.0 / 25.0), "starts at max/25");
    let peak = one.iter().cloned().fold(0.0, f64::max);
    assert!(close(peak, 1.0), "peaks at the rate");
    assert!(close(one[39], 1.0 / 25.0 / 1e4), "ends at max/25/1e4");
}

#[test]
fn plateau_reads_only_the_epochs_before() {
    let p: Schedule = "plateau:0.5:2".parse().unwrap();
    // Epochs 2 and 3 do not improve: epoch 4 trains at half the rate.
    let losses = [1.0, 1.0, 1.0, 0.5];
    let r = run(p, 1.0, 5, 1, 0, &losses);
    assert_eq!(r, vec![1.0, 1.0, 1.0, 0.5, 0.5]);
    // An improvement smaller than 1e-4 is no improvement.
    let r = run(p, 1.0, 4, 1, 0, &[1.0, 0.99995, 0.99991]);
    assert_eq!(r, vec![1.0, 1.0, 1.0, 0.5]);
    // The same epoch's rates with longer histories: only the epochs before count.
    let clock = Clock {
        epoch: 3,
        steps: 1,
        epochs: 5,
        warmup: 0,
    };
    assert_eq!(
        p.rates(1.0, clock, &history(&[1.0, 1.0, 1.0, 1.0])),
        vec![1.0]
    );
}

#[test]
fn warm_up_climbs_linearly_then_the_schedule_starts_as_if_the_run_began_there() {
    let r = run(Schedule::Constant, 0.1, 4, 5, 2, &[]);
    for (t, x) in r[..10].iter().enumerate() {
        assert!(close(*x, 0.1 * (t + 1) as f64 / 10.0), "step {t}: {x}");
    }
    assert_eq!(&r[10..], &[0.1; 10]);
    let c = run(Schedule::Cosine { alpha: None }, 1.0, 4, 5, 2, &[]);
    assert_eq!(c[10], 1.0, "the cosine starts after the warm-up");
    assert!(close(c[15], 0.5), "and spans the remaining 10 steps");
    // plateau counts epochs from the warm-up's end: the warm-up's lower losses set no best.
    let p = run(
        "plateau:0.5:1".parse().unwrap(),
        1.0,
        5,
        1,
        2,
        &[0.1, 0.1, 1.0, 1.0],
    );
    assert_eq!(p, vec![0.5, 1.0, 1.0, 1.0, 0.5]);
}

#[test]
fn specs_read_back_as_given_and_bad_ones_say_why() {
    for spec in [
        "constant",
        "step:2:0.5",
        "exp:0.9",
        "cosine",
        "cosine:0.1",
        "onecycle",
        "plateau",
        "plateau:0.5:3",
    ] {
        let s: Schedule = spec.parse().unwrap();
        assert_eq!(s.to_string(), spec);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), s);
    }
    assert_eq!(Schedule::Constant.slug(), None);
    assert_eq!(
        "step:2:0.5".parse::<Schedule>().unwrap().slug().as_deref(),
        Some("step-2-0.5")
    );
    for (bad, says) in [
        ("linear", "unknown schedule 'linear'"),
        ("cosine:abc", "'abc' is not a number"),
        ("cosine:2", "0 ≤ A ≤ 1"),
        ("step:0:0.5", "at least 1 epoch"),
        ("step:2", "malformed"),
        ("step:2:1.5", "0 < G ≤ 1"),
        ("exp:0", "0 < G ≤ 1"),
        ("exp:nan", "not a number"),
        ("plateau:1:5", "0 < F < 1"),
        ("plateau:0.5:-1", "not a whole number"),
        ("", "unknown schedule ''"),
    ] {
        let e = bad.parse::<Schedule>().unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
    let e = Schedule::OneCycle.check(1, 100, 0).unwrap_err();
    assert!(e.contains("at least 2 epochs"), "{e}");
    assert!(Schedule::OneCycle.check(2, 100, 0).is_ok());
    assert!(
        Schedule::OneCycle.check(3, 100, 2).is_err(),
        "one epoch after warm-up"
    );
    let e = Schedule::Constant.check(3, 10, 3).unwrap_err();
    assert!(e.contains("--warmup 3"), "{e}");
}

#[test]
fn a_schedule_written_two_ways_is_the_same() {
    // Issue 37, class 16: cosine and cosine:0 once trained twice.
    let p = |s: &str| s.parse::<Schedule>().unwrap();
    assert!(p("cosine").same_as(&p("cosine:0")));
    assert!(p("plateau").same_as(&p("plateau:0.1:10")));
    assert!(!p("cosine").same_as(&p("cosine:0.1")));
    assert!(!p("plateau").same_as(&p("plateau:0.5:10")));
    assert!(p("exp:0.5").same_as(&p("exp:0.50")));
}
