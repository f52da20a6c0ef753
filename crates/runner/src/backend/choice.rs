//! The backend a run asks for and the one it trains on: a real GPU through wgpu when there is
//! one, else a CPU backend, and why.

use anyhow::{bail, Result};
use burn::tensor::Device;
use lrsweep_model::{Compute, CpuPath, UpdateExec};
use serde::Serialize;

use super::adapters::{auto_choice, probe_adapters, rank, wgpu_device, Adapter};

/// What the user may ask for with `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendChoice {
    /// wgpu on a real GPU adapter if one exists, else the CPU default (cpu).
    Auto,
    /// lrsweep's own CPU engine: products that skip the images' zeros, fused passes.
    Cpu,
    /// wgpu (Vulkan, Metal or DirectX 12; never OpenGL), even on a CPU adapter such as lavapipe.
    Wgpu,
    /// Burn's ndarray backend on the CPU.
    Ndarray,
    /// Burn's flex backend (pure Rust) on the CPU.
    Flex,
}

impl BackendChoice {
    /// The name `--backend` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Wgpu => "wgpu",
            Self::Ndarray => "ndarray",
            Self::Flex => "flex",
        }
    }
}

/// The CPU backend `auto` falls back to: lrsweep's own CPU engine, measured faster per epoch
/// than Burn's flex and ndarray backends and than PyTorch on the same cores (README, "Speed");
/// flex and ndarray stay selectable with `--backend flex|ndarray` for comparison.
pub const CPU_DEFAULT: BackendChoice = BackendChoice::Cpu;

/// A backend ready to train on, with what to record about it.
#[derive(Debug, Clone)]
pub struct Selected {
    /// The Burn device.
    pub device: Device,
    /// The backend's name: `wgpu`, `cpu`, `ndarray` or `flex`.
    pub backend: &'static str,
    /// The adapter or processor, e.g. `NVIDIA GeForce RTX 4060 (DiscreteGpu, Vulkan)` or `CPU`.
    pub adapter: String,
    /// Why `auto` chose a CPU backend, when it did.
    pub fallback_reason: Option<String>,
    /// Which code computes a step: the CPU engine for `cpu`, tensor operations otherwise (with
    /// Adam's update fused on the host for the CPU backends).
    pub compute: Compute,
}

/// Training on the wgpu `device` (described as `adapter`): tensor operations, Adam on the device.
pub(super) fn on_wgpu(device: Device, adapter: String) -> Selected {
    Selected {
        device,
        backend: "wgpu",
        adapter,
        fallback_reason: None,
        compute: Compute::Tensor(UpdateExec::OnDevice),
    }
}

/// The CPU backend named `choice` (cpu, ndarray or flex); `path` is the CPU engine's.
pub fn cpu(choice: BackendChoice, path: CpuPath) -> Selected {
    let fused = Compute::Tensor(UpdateExec::FusedOnHost);
    let (device, backend, compute) = match choice {
        // The CPU engine keeps its own weights; flex holds the networks it hands out.
        BackendChoice::Cpu => (Device::flex(), "cpu", Compute::Cpu(path)),
        BackendChoice::Flex => (Device::flex(), "flex", fused),
        #[allow(deprecated)] // Burn 0.22 deprecates ndarray; it stays selectable for comparison
        _ => (Device::ndarray(), "ndarray", fused),
    };
    Selected {
        device,
        backend,
        adapter: format!(
            "CPU ({} threads)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        ),
        fallback_reason: None,
        compute,
    }
}

/// Chooses the backend for `choice` (`path`: the CPU engine's, where it trains); `auto` never
/// picks a CPU adapter for wgpu.
pub fn select(choice: BackendChoice, path: CpuPath) -> Result<Selected> {
    match choice {
        BackendChoice::Cpu | BackendChoice::Ndarray | BackendChoice::Flex => Ok(cpu(choice, path)),
        BackendChoice::Wgpu => {
            let mut adapters = probe_adapters();
            adapters.sort_by_key(rank);
            let Some(best) = adapters.first() else {
                bail!(
                    "--backend wgpu: no Vulkan, Metal or DirectX 12 adapter found (install a GPU driver, or Mesa's lavapipe for a CPU Vulkan device: Debian `mesa-vulkan-drivers libvulkan1`); use --backend ndarray to train on the CPU"
                );
            };
            Ok(on_wgpu(wgpu_device(best)?, best.describe()))
        }
        BackendChoice::Auto => {
            let adapters = probe_adapters();
            let reason = match auto_choice(&adapters).map(|i| &adapters[i]) {
                Some(gpu) => match wgpu_device(gpu) {
                    Ok(device) => return Ok(on_wgpu(device, gpu.describe())),
                    Err(e) => format!("{e:#}"),
                },
                None if adapters.is_empty() => "no GPU adapter (wgpu found none)".to_string(),
                None => format!(
                    "no GPU adapter (wgpu found: {})",
                    adapters
                        .iter()
                        .map(Adapter::describe)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let mut selected = cpu(CPU_DEFAULT, path);
            selected.fallback_reason = Some(reason);
            Ok(selected)
        }
    }
}
