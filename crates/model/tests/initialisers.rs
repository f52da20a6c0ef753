//! lrsweep's initialisers against the frameworks' own draws (`frameworks/init.json`, made by
//! `frameworks/init.py`): Keras' `RandomNormal(0.05)`, `GlorotUniform` and `HeNormal`, and
//! PyTorch's `nn.Linear` default, for layers from 784→784 to 64→32. Draws differ by generator,
//! so what is compared is what the framework defines: each layer's deviation (within sampling
//! error) and its largest magnitude (the bound of a bounded draw).

use lrsweep_model::{Init, ModelConfig, Widths};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    init: String,
    fan_in: usize,
    fan_out: usize,
    weight_std: f64,
    weight_max: f64,
    bias_std: f64,
    bias_max: f64,
}

/// Deviation and largest magnitude.
fn figures(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let max = values.iter().map(|v| v.abs() as f64).fold(0.0, f64::max);
    (var.sqrt(), max)
}

#[test]
fn every_initialiser_draws_as_its_framework_does() {
    let fixture: Fixture =
        serde_json::from_str(include_str!("frameworks/init.json")).expect("the fixture is JSON");
    assert_eq!(fixture.cases.len(), 20);
    for case in &fixture.cases {
        let init: Init = case.init.parse().unwrap();
        // The layer as a network's first: `fan_in` inputs into `fan_out` hidden units.
        let model = ModelConfig {
            inputs: case.fan_in,
            hidden: Widths::one(case.fan_out),
            classes: 2,
            init,
            ..ModelConfig::default()
        };
        let values = model.initial_values(42);
        let what = format!("{} {}→{}", case.init, case.fan_in, case.fan_out);
        let (std, max) = figures(&values[0]);
        let n = values[0].len() as f64;
        // Two samples' deviations differ by about σ/√n; five of that is never chance.
        assert!(
            (std - case.weight_std).abs() <= 5.0 * case.weight_std / n.sqrt(),
            "{what}: weight deviation {std}, the framework's {}",
            case.weight_std
        );
        // The deviation lrsweep computes for a layer (what a rate's reach is measured in).
        let formula = init.weight_std(case.fan_in, case.fan_out, 0.05);
        assert!(
            (formula - case.weight_std).abs() <= 5.0 * case.weight_std / n.sqrt(),
            "{what}: Init::weight_std {formula}, the framework's draws {}",
            case.weight_std
        );
        match init {
            // Unbounded: nothing beyond six deviations in draws this many.
            Init::Normal => assert!(max < 6.0 * case.weight_std, "{what}: {max}"),
            // Bounded: the largest draw near the bound the framework's largest draw shows.
            _ => assert!(
                (max - case.weight_max).abs() <= 0.02 * case.weight_max,
                "{what}: largest weight {max}, the framework's {}",
                case.weight_max
            ),
        }
        let (bias_std, bias_max) = figures(&values[1]);
        match init {
            Init::Torch => {
                let n = values[1].len() as f64;
                assert!(
                    (bias_std - case.bias_std).abs() <= 5.0 * case.bias_std / n.sqrt(),
                    "{what}: bias deviation {bias_std}, the framework's {}",
                    case.bias_std
                );
                // The biases' bound is the weights' (1/√fan_in).
                assert!(
                    bias_max <= case.weight_max.max(case.bias_max) * 1.001,
                    "{what}: largest bias {bias_max}"
                );
            }
            _ => assert_eq!(
                (bias_std, bias_max, case.bias_max),
                (0.0, 0.0, 0.0),
                "{what}"
            ),
        }
    }
}
