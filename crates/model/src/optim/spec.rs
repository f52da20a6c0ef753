//! What a user writes (`--optimizer sgd:0.9:nesterov`, `--convention torch`) and the defaults each
//! framework gives what they leave out.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Whose definition of each optimizer a run follows: where ε enters, the defaults, how SGD's
/// velocity holds the rate. Keras is the reference's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Convention {
    /// Keras (`keras.optimizers`; Adam as Keras 2, the reference, computed it).
    #[default]
    Keras,
    /// PyTorch (`torch.optim`).
    Torch,
}

impl Convention {
    /// `keras` or `torch`.
    pub fn name(self) -> &'static str {
        match self {
            Convention::Keras => "keras",
            Convention::Torch => "torch",
        }
    }
}

impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An optimizer as a run lists it: its kind and the numbers the user gave (what is left out
/// takes its convention's default, [`Defaults`]). Written as `adam`, `adamw[:WD]`,
/// `sgd[:MOMENTUM[:nesterov]]`, `rmsprop[:RHO[:MOMENTUM]]`, and read back from that.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Optimizer {
    /// Adam (the reference).
    #[default]
    Adam,
    /// AdamW: Adam with decoupled weight decay `WD` (each step the weights shrink by rate × WD).
    AdamW {
        /// The decay; none: the convention's.
        decay: Option<f64>,
    },
    /// Stochastic gradient descent, with heavy-ball (or Nesterov) momentum.
    Sgd {
        /// Momentum in [0, 1) (0: plain SGD).
        momentum: f64,
        /// Nesterov's momentum (needs a momentum above 0).
        nesterov: bool,
    },
    /// RMSprop: the gradient over the root of its running mean square, with momentum.
    RmsProp {
        /// The mean square's decay (PyTorch's `alpha`, Keras' `rho`); none: the convention's.
        rho: Option<f64>,
        /// Momentum in [0, 1).
        momentum: f64,
    },
}

/// The forms `--optimizer` takes, for messages.
pub const OPTIMIZER_FORMS: &str =
    "adam, adamw[:WD], sgd[:MOMENTUM[:nesterov]] or rmsprop[:RHO[:MOMENTUM]]";

impl Optimizer {
    /// `adam`, `adamw`, `sgd` or `rmsprop`.
    pub fn kind(&self) -> &'static str {
        match self {
            Optimizer::Adam => "adam",
            Optimizer::AdamW { .. } => "adamw",
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::RmsProp { .. } => "rmsprop",
        }
    }

    /// Whether it scales each weight's step by its gradient's history (Adam, AdamW, RMSprop:
    /// good rates around 1e-3) rather than taking the gradient as it is (SGD: good rates
    /// around 1e-2 to 1e-1).
    pub fn is_adaptive(&self) -> bool {
        !matches!(self, Optimizer::Sgd { .. })
    }

    /// For file names: `sgd-0.9-nesterov`, `adamw-0.01`, `rmsprop`.
    pub fn slug(&self) -> String {
        self.to_string().replace(':', "-")
    }

    /// The numbers given, checked: momentum and ρ in [0, 1), a decay at least 0 and finite,
    /// Nesterov with a momentum above 0.
    pub fn check(&self) -> Result<(), String> {
        let fraction = |what: &str, x: f64| {
            if (0.0..1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("{self}: {what} {x} must be at least 0 and below 1"))
            }
        };
        match *self {
            Optimizer::Adam => Ok(()),
            Optimizer::AdamW { decay } => match decay {
                Some(d) if !(d.is_finite() && d >= 0.0) => Err(format!(
                    "{self}: the weight decay {d} must be a finite number at least 0 (e.g. adamw:0.01)"
                )),
                _ => Ok(()),
            },
            Optimizer::Sgd { momentum, nesterov } => {
                fraction("momentum", momentum)?;
                if nesterov && momentum == 0.0 {
                    return Err(format!(
                        "{self}: Nesterov's momentum needs a momentum above 0: write sgd:0.9:nesterov"
                    ));
                }
                Ok(())
            }
            Optimizer::RmsProp { rho, momentum } => {
                if let Some(r) = rho {
                    fraction("rho", r)?;
                }
                fraction("momentum", momentum)
            }
        }
    }
}

/// `adam`, `adamw:0.01`, `sgd:0.9:nesterov`, `rmsprop:0.9:0.5`: the spec `--optimizer` takes,
/// written with only what was given.
impl fmt::Display for Optimizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Optimizer::Adam => f.write_str("adam"),
            Optimizer::AdamW { decay: None } => f.write_str("adamw"),
            Optimizer::AdamW { decay: Some(d) } => write!(f, "adamw:{d}"),
            Optimizer::Sgd { momentum, nesterov } => match (momentum == 0.0, nesterov) {
                (true, false) => f.write_str("sgd"),
                (false, false) => write!(f, "sgd:{momentum}"),
                (_, true) => write!(f, "sgd:{momentum}:nesterov"),
            },
            Optimizer::RmsProp { rho, momentum } => match (rho, momentum == 0.0) {
                (None, true) => f.write_str("rmsprop"),
                (Some(r), true) => write!(f, "rmsprop:{r}"),
                (None, false) => write!(f, "rmsprop:default:{momentum}"),
                (Some(r), false) => write!(f, "rmsprop:{r}:{momentum}"),
            },
        }
    }
}

impl FromStr for Optimizer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let spec = s.trim().to_lowercase();
        let mut parts = spec.split(':');
        let kind = parts.next().unwrap_or_default();
        let args: Vec<&str> = parts.collect();
        let number = |what: &str, t: &str| -> Result<f64, String> {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{s}: {what} '{t}' is not a number"))
        };
        let too_many = |most: usize, form: &str| {
            if args.len() > most {
                Err(format!("{s}: too many parts; write {form}"))
            } else {
                Ok(())
            }
        };
        let optimizer = match kind {
            "adam" => {
                too_many(
                    0,
                    "adam (its numbers are the convention's; AdamW takes a decay)",
                )?;
                Optimizer::Adam
            }
            "adamw" => {
                too_many(1, "adamw or adamw:WD")?;
                Optimizer::AdamW {
                    decay: args
                        .first()
                        .map(|t| number("weight decay", t))
                        .transpose()?,
                }
            }
            "sgd" => {
                too_many(2, "sgd, sgd:MOMENTUM or sgd:MOMENTUM:nesterov")?;
                let nesterov = match args.get(1).map(|t| t.trim()) {
                    None => false,
                    Some("nesterov") => true,
                    Some(other) => {
                        return Err(format!(
                            "{s}: '{other}' is not 'nesterov'; write sgd:MOMENTUM:nesterov"
                        ))
                    }
                };
                Optimizer::Sgd {
                    momentum: args
                        .first()
                        .map(|t| number("momentum", t))
                        .transpose()?
                        .unwrap_or(0.0),
                    nesterov,
                }
            }
            "rmsprop" => {
                too_many(2, "rmsprop, rmsprop:RHO or rmsprop:RHO:MOMENTUM")?;
                let rho = match args.first().map(|t| t.trim()) {
                    None | Some("default") => None,
                    Some(t) => Some(number("rho", t)?),
                };
                Optimizer::RmsProp {
                    rho,
                    momentum: args
                        .get(1)
                        .map(|t| number("momentum", t))
                        .transpose()?
                        .unwrap_or(0.0),
                }
            }
            other => {
                return Err(format!(
                    "unknown optimizer '{other}': choose {OPTIMIZER_FORMS} (e.g. sgd:0.9)"
                ))
            }
        };
        optimizer.check()?;
        Ok(optimizer)
    }
}

impl Serialize for Optimizer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Optimizer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// The numbers a convention gives what a spec leaves out: every default, named once, recorded
/// in a run's `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Defaults {
    /// Adam's and AdamW's first-moment decay (0.9 in both).
    pub beta1: f64,
    /// Their second-moment decay (0.999 in both).
    pub beta2: f64,
    /// Their ε (Keras 1e-7, PyTorch 1e-8).
    pub adam_epsilon: f64,
    /// AdamW's weight decay (Keras 0.004, PyTorch 0.01).
    pub adamw_decay: f64,
    /// RMSprop's ρ (Keras `rho` 0.9, PyTorch `alpha` 0.99).
    pub rmsprop_rho: f64,
    /// RMSprop's ε (Keras 1e-7, PyTorch 1e-8).
    pub rmsprop_epsilon: f64,
    /// SGD's momentum dampening (0 in both; Burn's `MomentumConfig` has 0.1).
    pub sgd_dampening: f64,
}

impl Defaults {
    /// `convention`'s defaults.
    pub fn of(convention: Convention) -> Self {
        match convention {
            Convention::Keras => Self {
                beta1: 0.9,
                beta2: 0.999,
                adam_epsilon: 1e-7,
                adamw_decay: 0.004,
                rmsprop_rho: 0.9,
                rmsprop_epsilon: 1e-7,
                sgd_dampening: 0.0,
            },
            Convention::Torch => Self {
                beta1: 0.9,
                beta2: 0.999,
                adam_epsilon: 1e-8,
                adamw_decay: 0.01,
                rmsprop_rho: 0.99,
                rmsprop_epsilon: 1e-8,
                sgd_dampening: 0.0,
            },
        }
    }

    /// What runs of earlier versions trained with, which recorded no defaults: `convention`'s,
    /// but Adam's ε 1e-7 under either (`--adam torch` placed ε as PyTorch does, with Keras' ε).
    pub fn earlier(convention: Convention) -> Self {
        Self {
            adam_epsilon: 1e-7,
            ..Self::of(convention)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_read_written_back_and_refused_in_words() {
        for spec in [
            "adam",
            "adamw",
            "adamw:0.01",
            "sgd",
            "sgd:0.9",
            "sgd:0.9:nesterov",
            "rmsprop",
            "rmsprop:0.9",
            "rmsprop:0.9:0.5",
            "rmsprop:default:0.5",
        ] {
            let o: Optimizer = spec.parse().unwrap();
            assert_eq!(o.to_string(), spec);
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(serde_json::from_str::<Optimizer>(&json).unwrap(), o);
        }
        assert_eq!(
            "SGD:0.9:Nesterov".parse::<Optimizer>().unwrap().slug(),
            "sgd-0.9-nesterov"
        );
        let bad = |s: &str| s.parse::<Optimizer>().unwrap_err();
        assert!(bad("adagrad").contains("unknown optimizer 'adagrad'"));
        assert!(bad("sgd:1").contains("momentum 1 must be at least 0 and below 1"));
        assert!(bad("sgd:-0.1").contains("momentum -0.1"));
        assert!(bad("sgd:0:nesterov").contains("needs a momentum above 0"));
        assert!(bad("sgd:0.9:heavy").contains("is not 'nesterov'"));
        assert!(bad("rmsprop:1.5").contains("rho 1.5"));
        assert!(bad("adamw:-0.1").contains("at least 0"));
        assert!(bad("adamw:abc").contains("'abc' is not a number"));
        assert!(bad("adam:0.9").contains("too many parts"));
        assert!(!Optimizer::Sgd {
            momentum: 0.9,
            nesterov: false
        }
        .is_adaptive());
    }

    #[test]
    fn each_convention_names_its_framework_s_defaults() {
        let (k, t) = (
            Defaults::of(Convention::Keras),
            Defaults::of(Convention::Torch),
        );
        assert_eq!((k.adam_epsilon, t.adam_epsilon), (1e-7, 1e-8));
        assert_eq!((k.adamw_decay, t.adamw_decay), (0.004, 0.01));
        assert_eq!((k.rmsprop_rho, t.rmsprop_rho), (0.9, 0.99));
        assert_eq!(Defaults::earlier(Convention::Torch).adam_epsilon, 1e-7);
    }
}
