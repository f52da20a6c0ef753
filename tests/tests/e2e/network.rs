//! Issue 33: the user's network. Several networks swept like rates and compared; dropout that
//! is each member's own (stacked, serial, killed and resumed, on Slurm: the same figures); bad
//! networks refused before anything is written.

use crate::bad_input::refused;
use crate::common::{
    all_figures, json, lrsweep, same_stacked_serial_and_resumed, sweep_ok, text, usage_error,
};

const NETWORKS: [&str; 17] = [
    "--limit",
    "3000",
    "--epochs",
    "4",
    "--rates",
    "1e-3,1e-2",
    "--refine",
    "1",
    "--hidden",
    "128",
    "--hidden",
    "64,32",
    "--dropout",
    "0.2",
    "--no-find",
    "--backend",
    "cpu",
];

#[test]
fn networks_are_swept_like_rates_and_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let said = sweep_ok(&NETWORKS, &run);
    // The first network's members are named as a run of one network names them; the other's
    // add it.
    for dir in [
        "lr-0.001",
        "lr-0.01",
        "lr-0.001-64-32-dropout0.2",
        "lr-0.01-64-32-dropout0.2",
    ] {
        assert!(run.join(dir).join("metrics.csv").exists(), "{dir}");
        assert!(run.join(format!("{dir}.png")).exists(), "{dir}.png");
    }
    let config = json(&run.join("config.json"));
    assert_eq!(
        config["config"]["hidden"],
        serde_json::json!([[128], [64, 32]])
    );
    assert_eq!(config["config"]["dropouts"], serde_json::json!([0.2]));
    // Each network refined around its own best: 2 listed + 1 refined rate each.
    let summary = json(&run.join("summary.json"));
    let rates = summary["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 6, "{summary:#}");
    let deep: Vec<&serde_json::Value> = rates
        .iter()
        .filter(|r| r["network"]["hidden"] == serde_json::json!([64, 32]))
        .collect();
    assert_eq!(deep.len(), 3, "{summary:#}");
    // Each network's best rate, and how far the second's moved from the first's.
    let networks = summary["networks"].as_array().unwrap();
    assert_eq!(networks.len(), 2, "{summary:#}");
    // Real accuracy: each network's best learns MNIST in 4 epochs of 2,550 images.
    for n in networks {
        assert!(n["best_val_acc"].as_f64().unwrap() > 0.88, "{n:#}");
    }
    assert_eq!(networks[0]["name"], "128 relu, dropout 0.2");
    assert_eq!(networks[0]["first"], true);
    assert_eq!(networks[1]["name"], "64-32 relu, dropout 0.2");
    let moved = networks[1]["moved"].as_f64().unwrap();
    assert_eq!(
        moved,
        networks[1]["rate"].as_f64().unwrap() / networks[0]["rate"].as_f64().unwrap()
    );
    let md = std::fs::read_to_string(run.join("summary.md")).unwrap();
    assert!(
        md.contains("Each network's best rate (see networks.png)")
            && md.contains("| rate | 128 relu, dropout 0.2 | 64-32 relu, dropout 0.2 |")
            && md.contains("networks 128 relu, dropout 0.2; 64-32 relu, dropout 0.2"),
        "{md}"
    );
    let line = if moved == 1.0 {
        "With 64-32 relu, dropout 0.2 the best rate is".to_string()
    } else {
        "With 64-32 relu, dropout 0.2 the best rate moved ×".to_string()
    };
    assert!(md.contains(&line), "{md}");
    assert!(said.contains("Each network's best rate"), "{said}");
    // The charts: each member's titled with its network, an overview per network, and one
    // chart of each network's best member.
    let svg = std::fs::read_to_string(run.join("lr-0.01-64-32-dropout0.2.svg")).unwrap();
    assert!(
        svg.contains("Model - Learning Rate 0.01 (64-32, dropout 0.2)"),
        "the chart's title names the network"
    );
    for chart in [
        "overview.png",
        "overview-64-32-dropout0.2.png",
        "networks.png",
    ] {
        assert!(run.join(chart).exists(), "{chart}");
    }
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(page.contains("<h2>Networks</h2>") && page.contains("Each network"));
    // A model file describes its network, and evaluates to what it recorded.
    let sidecar = json(&run.join("lr-0.01-64-32-dropout0.2/model.json"));
    assert_eq!(sidecar["model"]["hidden"], serde_json::json!([64, 32]));
    assert_eq!(sidecar["model"]["dropout"], 0.2);
    let model = run.join("lr-0.01-64-32-dropout0.2/model.bpk");
    let o = lrsweep(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let recorded = format!("(recorded {:.4})", sidecar["val_acc"].as_f64().unwrap());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&recorded),
        "{}",
        text(&o)
    );
    // Status and report know the networks.
    let o = lrsweep(&["status", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("0.01 64-32, dropout 0.2"));
    let o = lrsweep(&["report", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    // A resume must name the same networks.
    let dir = run.to_str().unwrap();
    for (args, says) in [
        (["--dropout", "0.5"], "--dropout 0.5 (the run has 0.2)"),
        (
            ["--hidden", "64"],
            "--hidden 64 (the run has 128 --hidden 64,32)",
        ),
        (
            ["--activation", "tanh"],
            "--activation tanh (the run has relu)",
        ),
    ] {
        let mut resume = vec!["sweep", "--resume", dir];
        resume.extend(args);
        usage_error(&resume, says);
    }
}

/// The Burn module the README shows for loading a model file of a network of several hidden
/// layers into one's own code: the field names are the file's.
mod readme_module {
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Tensor};

    #[derive(Module, Debug)]
    pub struct Net {
        hidden: Linear,      // inputs → first hidden width
        deeper: Vec<Linear>, // each further hidden layer (empty for one hidden layer)
        output: Linear,      // last hidden width → classes (logits)
    }

    impl Net {
        /// `sizes`: inputs, each hidden width, classes (784, 64, 32, 10).
        pub fn new(sizes: &[usize], device: &Device) -> Self {
            let layer = |i: usize| LinearConfig::new(sizes[i], sizes[i + 1]).init(device);
            let n = sizes.len() - 1;
            Net {
                hidden: layer(0),
                deeper: (1..n - 1).map(layer).collect(),
                output: layer(n - 1),
            }
        }

        /// Logits; the activation is the run's (`relu` here: its `model.json` says which).
        pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
            let mut a = relu(self.hidden.forward(x));
            for layer in &self.deeper {
                a = relu(layer.forward(a));
            }
            self.output.forward(a)
        }
    }
}

#[test]
fn a_model_file_loads_into_the_burn_module_the_readme_shows() {
    use burn::module::Module;
    use burn::tensor::{Device, Distribution, Tensor};
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    sweep_ok(
        &[
            "--limit",
            "1000",
            "--epochs",
            "1",
            "--rates",
            "1e-3",
            "--refine",
            "0",
            "--hidden",
            "64,32",
            "--no-find",
            "--backend",
            "cpu",
        ],
        &run,
    );
    let file = run.join("lr-0.001/model.bpk");
    let device = Device::flex();
    let net = readme_module::Net::new(&[784, 64, 32, 10], &device).load_file(&file);
    // The same logits as lrsweep's own network from the same file.
    let sidecar = json(&run.join("lr-0.001/model.json"));
    let model: lrsweep_model::ModelConfig =
        serde_json::from_value(sidecar["model"].clone()).unwrap();
    let ours = model.init(0, &device).load_file(&file);
    let x = Tensor::<2>::random([5, 784], Distribution::Uniform(0.0, 1.0), &device);
    let (a, b) = (
        net.forward(x.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap(),
        ours.forward(x).into_data().try_to_vec::<f32>().unwrap(),
    );
    assert_eq!(a, b);
    assert!(a.iter().any(|v| v.abs() > 1e-3), "{a:?}");
}

/// A deep network with dropout, GELU and He initialisation, on `backend`.
fn dropout_settings(backend: &'static str) -> Vec<&'static str> {
    vec![
        "--limit",
        "4000",
        "--epochs",
        "6",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "0",
        "--hidden",
        "128,64,32",
        "--activation",
        "gelu",
        "--dropout",
        "0.3",
        "--init",
        "he-normal",
        "--no-find",
        "--backend",
        backend,
    ]
}

#[test]
fn dropout_is_each_member_s_own_stacked_serial_killed_and_resumed() {
    for backend in ["cpu", "flex"] {
        same_stacked_serial_and_resumed(&dropout_settings(backend), "lr-0.001", 2, 6);
    }
    // The two engines draw the same masks: the same epochs to the third decimal.
    let tmp = tempfile::tempdir().unwrap();
    let (cpu, flex) = (tmp.path().join("cpu"), tmp.path().join("flex"));
    sweep_ok(&dropout_settings("cpu"), &cpu);
    sweep_ok(&dropout_settings("flex"), &flex);
    for ((name, a), (_, b)) in all_figures(&cpu).iter().zip(all_figures(&flex)) {
        for (x, y) in a.iter().zip(&b) {
            // val_loss, column 3: within f32 rounding after six epochs.
            let (p, q): (f64, f64) = (x[3].parse().unwrap(), y[3].parse().unwrap());
            assert!((p - q).abs() <= 1e-3 * p, "{name}: cpu {x:?}, flex {y:?}");
        }
    }
}

#[test]
fn bad_networks_are_refused_before_anything_is_written() {
    refused(&["--hidden", "0"], "every layer needs at least 1 unit");
    refused(&["--hidden", "512,0"], "hidden layer 2 has width 0");
    refused(&["--hidden", "512,abc"], "'abc' is not a layer width");
    refused(
        &["--hidden", "8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8"],
        "17 hidden layers: at most 16",
    );
    refused(
        &["--hidden", "784", "--hidden", "200000,200000"],
        "choose a smaller --hidden",
    );
    refused(
        &["--activation", "swish"],
        "unknown activation 'swish': choose relu, tanh or gelu",
    );
    refused(
        &["--init", "xavier"],
        "unknown init 'xavier': choose normal",
    );
    refused(
        &["--dropout", "1"],
        "a drop probability must be at least 0 and below 1",
    );
    refused(
        &["--dropout", "-0.1"],
        "a drop probability must be at least 0 and below 1",
    );
    refused(&["--dropout", "0.2,abc"], "'abc' is not a number");
}

/// A Slurm job array trains each network's members as a local run does, bit for bit.
#[test]
fn a_slurm_sweep_of_networks_equals_a_local_one() {
    if !crate::distributed::slurm_here() {
        return;
    }
    let settings = [
        "--limit",
        "2000",
        "--epochs",
        "3",
        "--rates",
        "1e-3,1e-2",
        "--refine",
        "1",
        "--hidden",
        "64",
        "--hidden",
        "32,16",
        "--activation",
        "tanh",
        "--dropout",
        "0.1",
        "--no-find",
        "--backend",
        "cpu",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let (run, local) = (tmp.path().join("run"), tmp.path().join("local"));
    let mut slurm = settings.to_vec();
    slurm.push("--slurm");
    sweep_ok(&slurm, &run);
    crate::distributed::wait_status(&run, "the whole run", |s| {
        s["counts"]["done"] == 6 && s["recommended"].is_object()
    });
    sweep_ok(&settings, &local);
    let want = all_figures(&local);
    assert_eq!(want.len(), 6, "{want:?}");
    assert_eq!(all_figures(&run), want);
    let (a, b) = (
        json(&run.join("summary.json")),
        json(&local.join("summary.json")),
    );
    assert_eq!(a["networks"], b["networks"]);
    assert_eq!(a["recommended"]["label"], b["recommended"]["label"]);
}
