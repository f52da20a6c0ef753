//! What a run trains, named: a **network** (the layers a member trains), a **group** (the
//! dimensions a member has besides its rate), an **arm** (a rate in a group) and a **unit** (an
//! arm under one of the run's seeds: one member of a round). Each has one label for people and
//! one slug for file names, spelled here only.

use lrsweep_model::{Activation, Init, Optimizer, Schedule, Widths};
use serde::{Deserialize, Serialize};

/// The batch size the linear scaling rule scales from: the reference's.
pub const REFERENCE_BATCH: usize = 256;

/// Longest label in fixed-point form; longer ones use an exponent, so that a directory name
/// (`lr-<label>`) stays short whatever the rate.
const MAX_FIXED_LABEL: usize = 16;

/// A rate written the way the reference did: fixed-point, no trailing zeros (0.001, 0.00025);
/// with an exponent (`1.2345e-9`, `3e20`) where that would be longer than 16 characters.
pub fn rate_label(rate: f64) -> String {
    // Rust's `Display` for f64 is the shortest round-trip form and never uses an exponent.
    let fixed = format!("{rate}");
    if fixed.len() <= MAX_FIXED_LABEL {
        fixed
    } else {
        format!("{rate:e}")
    }
}

/// The network a member trains: its hidden layers' widths, their activation, the dropout after
/// each and how its weights start. The reference's is one layer of 784 ReLU units, no dropout,
/// Normal(0, 0.05) ([`Network::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Network {
    /// The hidden layers' widths.
    #[serde(default)]
    pub hidden: Widths,
    /// The activation after each hidden layer.
    #[serde(default, skip_serializing_if = "is_default")]
    pub activation: Activation,
    /// Inverted dropout's drop probability after each hidden activation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// How the weights start.
    #[serde(default, skip_serializing_if = "is_default")]
    pub init: Init,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl Network {
    /// Whether this is the reference's network.
    pub fn is_reference(&self) -> bool {
        *self == Network::default()
    }

    /// What differs from the reference's network, for people: `512-256 tanh, dropout 0.2`,
    /// `gelu`, `784, init he-normal`; empty for the reference's.
    pub fn label(&self) -> String {
        let reference = Network::default();
        let mut head = Vec::new();
        if self.hidden != reference.hidden {
            head.push(self.hidden.slug());
        }
        if self.activation != reference.activation {
            head.push(self.activation.to_string());
        }
        let mut parts = Vec::new();
        if !head.is_empty() {
            parts.push(head.join(" "));
        }
        if self.dropout > 0.0 {
            parts.push(format!("dropout {}", self.dropout));
        }
        if self.init != reference.init {
            parts.push(format!("init {}", self.init));
        }
        parts.join(", ")
    }

    /// The whole network in words, the reference's too: `784 relu`, `512-256 tanh, dropout 0.2`.
    pub fn describe(&self) -> String {
        let mut text = format!("{} {}", self.hidden.slug(), self.activation);
        if self.dropout > 0.0 {
            text += &format!(", dropout {}", self.dropout);
        }
        if self.init != Init::default() {
            text += &format!(", init {}", self.init);
        }
        text
    }

    /// For file names: `512-256-tanh-dropout0.2-init-he-normal` (the parts of [`Network::label`]).
    pub fn slug(&self) -> String {
        let reference = Network::default();
        let mut parts = Vec::new();
        if self.hidden != reference.hidden {
            parts.push(self.hidden.slug());
        }
        if self.activation != reference.activation {
            parts.push(self.activation.to_string());
        }
        if self.dropout > 0.0 {
            parts.push(format!("dropout{}", self.dropout));
        }
        if self.init != reference.init {
            parts.push(format!("init-{}", self.init));
        }
        parts.join("-")
    }
}

/// What a member trains besides its rate: its schedule, its network, its optimizer and, when
/// the run lists several, its batch size. Members of one group are compared with each other: a
/// group has its own best rate, refinement, grid column and overview. The reference's group is
/// the constant schedule, the reference's network, Adam, at the run's batch size
/// ([`Group::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Group {
    /// The learning-rate schedule.
    pub schedule: Schedule,
    /// The batch size when the run lists several and this is not the run's `batch_size`.
    pub batch: Option<usize>,
    /// The network.
    pub network: Network,
    /// The optimizer, as listed (`sgd:0.9`).
    pub optimizer: Optimizer,
}

impl Group {
    /// Whether this is the reference's group: the constant schedule at the run's batch size.
    pub fn is_reference(&self) -> bool {
        *self == Group::default()
    }

    /// What differs from the reference, for people: `cosine, batch 1024`; empty for the
    /// reference's group.
    pub fn label(&self) -> String {
        self.parts(
            |schedule| schedule.to_string(),
            |size| format!("batch {size}"),
        )
        .join(", ")
    }

    /// What differs within a run whose first network is `first`, for a member's directory:
    /// `cosine-b1024`, `512-256-tanh`; none for the run's first group. A network is named where
    /// it is not the run's first (as a batch size is where it is not the run's): a run of one
    /// network, whatever it is, keeps `lr-<rate>`, as earlier versions named it.
    pub fn suffix(&self, first: &Network) -> Option<String> {
        let mut parts: Vec<String> = self.schedule.slug().into_iter().collect();
        if self.network != *first {
            parts.push(self.network.slug());
        }
        if self.optimizer != Optimizer::Adam {
            parts.push(self.optimizer.slug());
        }
        parts.extend(self.batch.map(|size| format!("b{size}")));
        parts.retain(|p| !p.is_empty());
        (!parts.is_empty()).then(|| parts.join("-"))
    }

    /// The group in a file name: what differs from the reference (`cosine`, `512-256-tanh`,
    /// `sgd-0.9`, `b1024`), `constant` for the reference's.
    pub fn slug(&self) -> String {
        self.suffix(&Network::default())
            .unwrap_or_else(|| "constant".to_string())
    }

    /// The group's name where a name is needed: its [`Group::label`], `constant` for the
    /// reference's.
    pub fn name(&self) -> String {
        match self.label() {
            l if l.is_empty() => "constant".to_string(),
            l => l,
        }
    }

    /// The dimensions that differ from the reference, each written by `schedule` or `batch`
    /// (the network by its label, the optimizer by its spec).
    fn parts(
        &self,
        schedule: impl Fn(Schedule) -> String,
        batch: impl Fn(usize) -> String,
    ) -> Vec<String> {
        let mut parts = Vec::new();
        if self.schedule != Schedule::Constant {
            parts.push(schedule(self.schedule));
        }
        if !self.network.is_reference() {
            parts.push(self.network.label());
        }
        if self.optimizer != Optimizer::Adam {
            parts.push(self.optimizer.to_string());
        }
        if let Some(size) = self.batch {
            parts.push(batch(size));
        }
        parts
    }
}

/// One configuration a run trains: a listed or refined rate in one of the run's groups.
/// Recorded in `config.json` as the bare rate for the reference's group (as older versions
/// recorded every rate), as `{"rate", "schedule", "batch_size", "network", "optimizer"}` otherwise (what is
/// the reference's left out). An arm without a network is of the reference's network, or, in a
/// run that does not train it, of the run's one network (read so by [`crate::store::run`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "ArmRecord", into = "ArmRecord")]
pub struct Arm {
    /// The learning rate as listed (or refined), before any batch-size scaling.
    pub rate: f64,
    /// Its group.
    pub group: Group,
}

impl Arm {
    /// `rate` in `group`.
    pub fn new(rate: f64, group: Group) -> Self {
        Self { rate, group }
    }

    /// The rate in the reference's group.
    pub fn reference(rate: f64) -> Self {
        Self::new(rate, Group::default())
    }

    /// `0.001`, with what differs from the reference: `0.001 cosine`, `0.001 b1024`.
    pub fn label(&self) -> String {
        let parts = self
            .group
            .parts(|schedule| schedule.to_string(), |size| format!("b{size}"));
        std::iter::once(rate_label(self.rate))
            .chain(parts)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A chart's name of it: `0.001`, or `0.001 (cosine, batch 1024)`.
    pub fn title(&self) -> String {
        match self.group.label() {
            group if group.is_empty() => rate_label(self.rate),
            group => format!("{} ({group})", rate_label(self.rate)),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // a transient form of one arm, read or written once
enum ArmRecord {
    Rate(f64),
    Full {
        rate: f64,
        #[serde(default)]
        schedule: Schedule,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch_size: Option<usize>,
        #[serde(default, skip_serializing_if = "Network::is_reference")]
        network: Network,
        #[serde(default, skip_serializing_if = "is_adam")]
        optimizer: Optimizer,
    },
}

fn is_adam(o: &Optimizer) -> bool {
    *o == Optimizer::Adam
}

impl From<ArmRecord> for Arm {
    fn from(r: ArmRecord) -> Self {
        match r {
            ArmRecord::Rate(rate) => Arm::reference(rate),
            ArmRecord::Full {
                rate,
                schedule,
                batch_size,
                network,
                optimizer,
            } => Arm::new(
                rate,
                Group {
                    schedule,
                    batch: batch_size,
                    network,
                    optimizer,
                },
            ),
        }
    }
}

impl From<Arm> for ArmRecord {
    fn from(a: Arm) -> Self {
        match a.group.is_reference() {
            true => ArmRecord::Rate(a.rate),
            false => ArmRecord::Full {
                rate: a.rate,
                schedule: a.group.schedule,
                batch_size: a.group.batch,
                network: a.group.network,
                optimizer: a.group.optimizer,
            },
        }
    }
}

/// One member of a round: an arm under one of the run's seeds (`--seeds`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    /// The rate and its group.
    pub arm: Arm,
    /// Its seed (weights and order).
    pub seed: u64,
}

impl Unit {
    /// The member's directory name in a run seeded `run_seed` whose first network is `first`:
    /// `lr-<rate>` for the run's first group and seed, with what differs added:
    /// `lr-0.001-cosine`, `lr-0.001-b1024`, `lr-0.001-512-256-tanh`, `lr-0.001-seed43`,
    /// `lr-0.001-step-2-0.5-seed43`.
    pub fn dir_name(&self, run_seed: u64, first: &Network) -> String {
        let mut name = format!("lr-{}", rate_label(self.arm.rate));
        if let Some(suffix) = self.arm.group.suffix(first) {
            name = format!("{name}-{suffix}");
        }
        if self.seed != run_seed {
            name = format!("{name}-seed{}", self.seed);
        }
        name
    }

    /// How progress and messages name it in a run seeded `run_seed`: `0.001`, `0.001 cosine`,
    /// or `0.001 (seed 43)`.
    pub fn label(&self, run_seed: u64) -> String {
        match self.seed == run_seed {
            true => self.arm.label(),
            false => format!("{} (seed {})", self.arm.label(), self.seed),
        }
    }
}

/// How `--scale-lr` scales a rate with the batch size (Goyal et al.'s linear scaling rule, or
/// its square-root form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleLr {
    /// Every size trains at the listed rate.
    #[default]
    None,
    /// The rate times size/256.
    Linear,
    /// The rate times √(size/256).
    Sqrt,
}

impl ScaleLr {
    /// `rate` scaled for batches of `size`.
    pub fn scale(self, rate: f64, size: usize) -> f64 {
        let ratio = size as f64 / REFERENCE_BATCH as f64;
        match self {
            ScaleLr::None => rate,
            ScaleLr::Linear => rate * ratio,
            ScaleLr::Sqrt => rate * ratio.sqrt(),
        }
    }

    /// `none`, `linear` or `sqrt`.
    pub fn name(self) -> &'static str {
        match self {
            ScaleLr::None => "none",
            ScaleLr::Linear => "linear",
            ScaleLr::Sqrt => "sqrt",
        }
    }
}

impl std::str::FromStr for ScaleLr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "none" => Ok(ScaleLr::None),
            "linear" => Ok(ScaleLr::Linear),
            "sqrt" => Ok(ScaleLr::Sqrt),
            other => Err(format!(
                "unknown --scale-lr '{other}': choose none, linear (rate × size/256) or sqrt (rate × √(size/256))"
            )),
        }
    }
}

impl std::fmt::Display for ScaleLr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_fixed_point_without_trailing_zeros() {
        let cases = [
            (1e-5, "0.00001"),
            (1e-4, "0.0001"),
            (1e-3, "0.001"),
            (1e-2, "0.01"),
            (1e-1, "0.1"),
            (5e-4, "0.0005"),
            (2.5e-4, "0.00025"),
            (1.0, "1"),
            (1e-10, "0.0000000001"),
            (1.2345678901e-9, "1.2345678901e-9"),
            (3e38, "3e38"),
            (1e-320, "1e-320"),
        ];
        for (r, l) in cases {
            assert_eq!(rate_label(r), l);
            assert!(rate_label(r).len() <= 24);
        }
    }

    #[test]
    fn one_name_per_member_and_group() {
        let cosine: Schedule = "cosine".parse().unwrap();
        let step: Schedule = "step:2:0.5".parse().unwrap();
        let reference = Unit {
            arm: Arm::reference(1e-3),
            seed: 42,
        };
        let first = Network::default();
        assert_eq!(reference.dir_name(42, &first), "lr-0.001");
        assert_eq!(reference.label(42), "0.001");
        assert_eq!(reference.arm.title(), "0.001");
        let group = Group {
            schedule: step,
            batch: Some(1024),
            network: Network::default(),
            optimizer: Optimizer::Adam,
        };
        let other = Unit {
            arm: Arm::new(1e-3, group),
            seed: 43,
        };
        assert_eq!(
            other.dir_name(42, &first),
            "lr-0.001-step-2-0.5-b1024-seed43"
        );
        assert_eq!(other.label(42), "0.001 step:2:0.5 b1024 (seed 43)");
        assert_eq!(other.arm.title(), "0.001 (step:2:0.5, batch 1024)");
        assert_eq!(group.slug(), "step-2-0.5-b1024");
        assert_eq!(Group::default().slug(), "constant");
        assert_eq!(Group::default().name(), "constant");
        let g = Group {
            schedule: cosine,
            batch: None,
            network: Network::default(),
            optimizer: Optimizer::Adam,
        };
        assert_eq!((g.label(), g.name()), ("cosine".into(), "cosine".into()));
        // The record: a bare rate for the reference's group, the full form otherwise.
        let json = serde_json::to_string(&[Arm::reference(1e-3), Arm::new(1e-3, group)]).unwrap();
        assert_eq!(
            json,
            r#"[0.001,{"rate":0.001,"schedule":"step:2:0.5","batch_size":1024}]"#
        );
        let back: Vec<Arm> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![Arm::reference(1e-3), Arm::new(1e-3, group)]);
        // A network: named where it differs from the reference (labels), and in directories
        // where it differs from the run's first network.
        let deep = Network {
            hidden: "512,256".parse().unwrap(),
            activation: Activation::Tanh,
            dropout: 0.2,
            init: Init::default(),
        };
        assert_eq!(deep.label(), "512-256 tanh, dropout 0.2");
        assert_eq!(deep.slug(), "512-256-tanh-dropout0.2");
        let arm = Arm::new(
            1e-3,
            Group {
                network: deep,
                ..Group::default()
            },
        );
        assert_eq!(arm.title(), "0.001 (512-256 tanh, dropout 0.2)");
        assert_eq!(arm.label(), "0.001 512-256 tanh, dropout 0.2");
        let unit = Unit { arm, seed: 42 };
        assert_eq!(unit.dir_name(42, &deep), "lr-0.001");
        assert_eq!(
            unit.dir_name(42, &first),
            "lr-0.001-512-256-tanh-dropout0.2"
        );
        let json = serde_json::to_string(&arm).unwrap();
        assert_eq!(
            json,
            r#"{"rate":0.001,"schedule":"constant","network":{"hidden":[512,256],"activation":"tanh","dropout":0.2}}"#
        );
        assert_eq!(serde_json::from_str::<Arm>(&json).unwrap(), arm);
        let gelu = Network {
            activation: Activation::Gelu,
            ..Network::default()
        };
        assert_eq!(
            (gelu.label(), gelu.describe()),
            ("gelu".into(), "784 gelu".into())
        );
    }
}
