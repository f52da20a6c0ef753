//! Which wgpu adapters `--devices` spreads a round over, and the devices started on them.

use anyhow::{bail, Result};
use burn::tensor::Device;
use lrsweep_model::CpuPath;
use serde::Serialize;

use super::adapters::{probe_adapters, wgpu_device};
use super::choice::{on_wgpu, select, BackendChoice, Selected};

/// Which wgpu adapters `--devices` trains on: `all` or indices as `lrsweep devices` lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum DeviceSpec {
    /// Every GPU adapter (every adapter with `--backend wgpu` when there is no GPU).
    All,
    /// These adapters; an index given twice gets two workers sharing that adapter.
    List(Vec<usize>),
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        let list = s
            .split(',')
            .map(|part| {
                part.trim().parse::<usize>().map_err(|_| {
                    format!("'{part}' is not an adapter index; give `all` or indices such as 0,1 (as `lrsweep devices` lists them)")
                })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self::List(list))
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All => write!(f, "all"),
            Self::List(l) => {
                let parts: Vec<String> = l.iter().map(usize::to_string).collect();
                write!(f, "{}", parts.join(","))
            }
        }
    }
}

impl From<DeviceSpec> for String {
    fn from(d: DeviceSpec) -> Self {
        d.to_string()
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

/// The devices a sweep trains on: with `devices`, one wgpu device per listed adapter (each
/// described with its index); without, the one device [`select`] chooses.
pub fn select_devices(
    choice: BackendChoice,
    devices: Option<&DeviceSpec>,
    path: CpuPath,
) -> Result<Vec<Selected>> {
    let Some(spec) = devices else {
        return Ok(vec![select(choice, path)?]);
    };
    if !matches!(choice, BackendChoice::Auto | BackendChoice::Wgpu) {
        bail!(
            "--devices chooses wgpu adapters (`lrsweep devices` lists them), but --backend {} trains on the CPU with every core; drop --devices, or use --backend wgpu",
            choice.name()
        );
    }
    let adapters = probe_adapters();
    let picked: Vec<usize> = match spec {
        DeviceSpec::All => {
            let gpus: Vec<usize> = (0..adapters.len())
                .filter(|&i| adapters[i].is_gpu())
                .collect();
            if gpus.is_empty() && choice == BackendChoice::Wgpu {
                (0..adapters.len()).collect()
            } else {
                gpus
            }
        }
        DeviceSpec::List(list) => {
            if let Some(bad) = list.iter().find(|&&i| i >= adapters.len()) {
                bail!(
                    "--devices {spec}: there is no adapter {bad}; this machine has {} (`lrsweep devices` lists them with their indices)",
                    if adapters.is_empty() {
                        "none".to_string()
                    } else {
                        format!("0 to {}", adapters.len() - 1)
                    }
                );
            }
            list.clone()
        }
    };
    if picked.is_empty() {
        if choice == BackendChoice::Wgpu {
            bail!("--devices all: wgpu found no adapter (install a GPU driver, or Mesa's lavapipe: Debian `mesa-vulkan-drivers libvulkan1`)");
        }
        return Ok(vec![select(choice, path)?]);
    }
    // One device per adapter: wgpu starts each once, and workers listed on the same adapter
    // share it.
    let mut started: Vec<(usize, Device)> = Vec::new();
    picked
        .into_iter()
        .map(|i| {
            let adapter = &adapters[i];
            let device = match started.iter().find(|(j, _)| *j == i) {
                Some((_, d)) => d.clone(),
                None => {
                    let d = wgpu_device(adapter)?;
                    started.push((i, d.clone()));
                    d
                }
            };
            Ok(on_wgpu(device, format!("{i}: {}", adapter.describe())))
        })
        .collect()
}
