//! The words of a network's layers: how many hidden layers and how wide ([`Widths`]), their
//! activation ([`Activation`]) and how their weights start ([`Init`]), each with the spec the
//! command line takes and the formulas of the framework it follows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The most hidden layers a network may have.
pub const MAX_DEPTH: usize = 16;

/// The widths of a network's hidden layers, in order (at least one, at most [`MAX_DEPTH`],
/// each at least 1): `784` is the reference's one layer, `512,256` two. A plain value (no
/// heap), so a network is `Copy`. Written as a number for one layer (as `config.json` and the
/// model files of earlier versions wrote `hidden`), as a list for more.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Widths {
    len: usize,
    widths: [usize; MAX_DEPTH],
}

impl Widths {
    /// One hidden layer of `width` units.
    pub fn one(width: usize) -> Self {
        let mut widths = [0; MAX_DEPTH];
        widths[0] = width;
        Self { len: 1, widths }
    }

    /// The widths `list`, refused when empty, deeper than [`MAX_DEPTH`] or holding a 0.
    pub fn new(list: &[usize]) -> Result<Self, String> {
        if list.is_empty() {
            return Err("a network needs at least one hidden layer".to_string());
        }
        if list.len() > MAX_DEPTH {
            return Err(format!("{} hidden layers: at most {MAX_DEPTH}", list.len()));
        }
        if let Some(at) = list.iter().position(|&w| w == 0) {
            return Err(format!(
                "hidden layer {} has width 0: every layer needs at least 1 unit",
                at + 1
            ));
        }
        let mut widths = [0; MAX_DEPTH];
        widths[..list.len()].copy_from_slice(list);
        Ok(Self {
            len: list.len(),
            widths,
        })
    }

    /// The widths, first hidden layer first.
    pub fn as_slice(&self) -> &[usize] {
        &self.widths[..self.len]
    }

    /// The number of hidden layers.
    pub fn depth(&self) -> usize {
        self.len
    }

    /// The first hidden layer's width.
    pub fn first(&self) -> usize {
        self.widths[0]
    }

    /// The last hidden layer's width (the output layer's input).
    pub fn last(&self) -> usize {
        self.widths[self.len - 1]
    }

    /// For file names: `784`, `512-256`.
    pub fn slug(&self) -> String {
        self.join("-")
    }

    fn join(&self, sep: &str) -> String {
        self.as_slice()
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl Default for Widths {
    /// The reference's one hidden layer of 784 units.
    fn default() -> Self {
        Self::one(784)
    }
}

impl std::ops::Deref for Widths {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        self.as_slice()
    }
}

impl fmt::Debug for Widths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_slice())
    }
}

/// `784`, `512,256`: the spec `--hidden` takes.
impl fmt::Display for Widths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.join(","))
    }
}

impl FromStr for Widths {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let list = s
            .split(',')
            .map(|w| {
                w.trim().parse::<usize>().map_err(|_| {
                    format!(
                        "'{}' is not a layer width: give whole numbers such as 512,256",
                        w.trim()
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(&list)
    }
}

impl Serialize for Widths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_slice() {
            [one] => s.serialize_u64(*one as u64),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Widths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(usize),
            Many(Vec<usize>),
        }
        let list = match Form::deserialize(d)? {
            Form::One(w) => vec![w],
            Form::Many(list) => list,
        };
        Widths::new(&list).map_err(serde::de::Error::custom)
    }
}

/// The activation after each hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, z)` (the reference).
    #[default]
    Relu,
    /// `tanh(z)`.
    Tanh,
    /// `z·Φ(z)`, with Φ the standard normal's distribution function, exact (by `erf`, as
    /// PyTorch's `nn.GELU()` default), not the tanh approximation.
    Gelu,
}

/// The standard normal's density at `z`.
fn phi(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

impl Activation {
    /// The activation of `z`.
    #[inline(always)]
    pub fn apply(self, z: f32) -> f32 {
        match self {
            // Keeps a NaN (as the tensor engine's does), so divergence shows.
            Activation::Relu => {
                if z <= 0.0 {
                    0.0
                } else {
                    z
                }
            }
            Activation::Tanh => z.tanh(),
            Activation::Gelu => {
                (0.5 * z as f64 * (1.0 + erf(z as f64 / std::f64::consts::SQRT_2))) as f32
            }
        }
    }

    /// Its derivative at `z`, whose activation is `a`.
    #[inline(always)]
    pub fn derivative(self, z: f32, a: f32) -> f32 {
        match self {
            Activation::Relu => {
                if a <= 0.0 {
                    0.0
                } else {
                    1.0
                }
            }
            Activation::Tanh => 1.0 - a * a,
            Activation::Gelu => {
                let z = z as f64;
                (0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2)) + z * phi(z)) as f32
            }
        }
    }

    /// Whether its derivative needs the pre-activation `z` (not only the activation).
    pub fn needs_input(self) -> bool {
        self == Activation::Gelu
    }

    /// `relu`, `tanh` or `gelu`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
        }
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_lowercase().as_str() {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "gelu" => Ok(Activation::Gelu),
            other => Err(format!(
                "unknown activation '{other}': choose relu, tanh or gelu"
            )),
        }
    }
}

/// The error function in double precision, by the `libm` crate's port of FreeBSD's msun (the
/// same bits in every build): what exact GELU needs on the host.
pub fn erf(x: f64) -> f64 {
    libm::erf(x)
}

/// How a layer's weights start (its biases start at 0 but under `torch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// Normal(0, σ) with σ the network's `init_std` (Keras' `'normal'`, 0.05: the reference).
    #[default]
    Normal,
    /// Keras' `glorot_uniform`: U(−l, l), `l = √(6 / (fan_in + fan_out))`.
    GlorotUniform,
    /// Keras' `he_normal`: a normal of deviation `√(2 / fan_in)` truncated at two deviations
    /// (drawn with `√(2 / fan_in) / 0.8796…` before the truncation, as Keras does).
    HeNormal,
    /// PyTorch's `nn.Linear` default: weights and biases U(−1/√fan_in, 1/√fan_in)
    /// (`kaiming_uniform_(a=√5)`).
    Torch,
}

impl Init {
    /// `normal`, `glorot-uniform`, `he-normal` or `torch`.
    pub fn name(self) -> &'static str {
        match self {
            Init::Normal => "normal",
            Init::GlorotUniform => "glorot-uniform",
            Init::HeNormal => "he-normal",
            Init::Torch => "torch",
        }
    }

    /// The standard deviation of a layer's weights at the start, `fan_in` to `fan_out`, with
    /// `normal`'s σ `std`.
    pub fn weight_std(self, fan_in: usize, fan_out: usize, std: f64) -> f64 {
        let (i, o) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        match self {
            Init::Normal => std,
            Init::GlorotUniform => (2.0 / (i + o)).sqrt(),
            Init::HeNormal => (2.0 / i).sqrt(),
            Init::Torch => 1.0 / (3.0 * i).sqrt(),
        }
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_lowercase().as_str() {
            "normal" => Ok(Init::Normal),
            "glorot-uniform" | "glorot_uniform" => Ok(Init::GlorotUniform),
            "he-normal" | "he_normal" => Ok(Init::HeNormal),
            "torch" => Ok(Init::Torch),
            other => Err(format!(
                "unknown init '{other}': choose normal (Normal(0, 0.05), the reference), glorot-uniform (Keras), he-normal (Keras) or torch (PyTorch's nn.Linear)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_read_written_and_refused_in_words() {
        let w: Widths = "512,256".parse().unwrap();
        assert_eq!(
            (w.as_slice(), w.depth(), w.slug()),
            (&[512, 256][..], 2, "512-256".into())
        );
        assert_eq!(w.to_string(), "512,256");
        assert_eq!(serde_json::to_string(&w).unwrap(), "[512,256]");
        assert_eq!(serde_json::to_string(&Widths::one(784)).unwrap(), "784");
        let back: Widths = serde_json::from_str("784").unwrap();
        assert_eq!(back, Widths::default());
        let back: Widths = serde_json::from_str("[512,256]").unwrap();
        assert_eq!(back, w);
        assert!("512,0".parse::<Widths>().unwrap_err().contains("width 0"));
        assert!("a"
            .parse::<Widths>()
            .unwrap_err()
            .contains("not a layer width"));
        let deep = vec!["8"; MAX_DEPTH + 1].join(",");
        assert!(deep.parse::<Widths>().unwrap_err().contains("at most 16"));
        assert!(serde_json::from_str::<Widths>("[]").is_err());
        assert!(serde_json::from_str::<Widths>("0").is_err());
    }

    #[test]
    fn activations_and_their_derivatives() {
        for a in [Activation::Relu, Activation::Tanh, Activation::Gelu] {
            assert_eq!(a.name().parse::<Activation>(), Ok(a));
            for z in [-2.5f32, -0.3, 0.2, 1.7] {
                let h = 1e-3f64;
                let numeric = (a.apply((z as f64 + h) as f32) as f64
                    - a.apply((z as f64 - h) as f32) as f64)
                    / (2.0 * h);
                let exact = a.derivative(z, a.apply(z)) as f64;
                assert!(
                    (numeric - exact).abs() < 2e-3,
                    "{a} at {z}: {numeric} vs {exact}"
                );
            }
        }
        // GELU's exact values (PyTorch: gelu(1) = 0.8413, gelu(-1) = -0.1587).
        assert!((Activation::Gelu.apply(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((Activation::Gelu.apply(-1.0) + 0.158_655_3).abs() < 1e-6);
        assert!("swish"
            .parse::<Activation>()
            .unwrap_err()
            .contains("relu, tanh or gelu"));
        assert!("xavier"
            .parse::<Init>()
            .unwrap_err()
            .contains("glorot-uniform"));
        assert_eq!("he-normal".parse::<Init>(), Ok(Init::HeNormal));
    }
}
