//! Backend choice: a real GPU through wgpu when there is one, else a CPU backend, and why.

use anyhow::{bail, Result};
use burn::tensor::wgpu::{wgpu, WgpuBackend};
use burn::tensor::{Device, DeviceKind};
use lrsweep_model::{Compute, CpuPath, UpdateExec};
use serde::Serialize;

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

/// A wgpu adapter that a probe found.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// The adapter's name.
    pub name: String,
    /// Discrete, integrated, virtual GPU, or CPU.
    pub device_type: wgpu::DeviceType,
    /// The graphics API.
    pub backend: wgpu::Backend,
    /// Position among the adapters of the same type and API (what Burn's `DeviceKind` counts).
    pub index: usize,
}

impl Adapter {
    /// Whether this is a real GPU (not a CPU rasteriser).
    pub fn is_gpu(&self) -> bool {
        matches!(
            self.device_type,
            wgpu::DeviceType::DiscreteGpu
                | wgpu::DeviceType::IntegratedGpu
                | wgpu::DeviceType::VirtualGpu
        )
    }

    /// `name (type, API)`.
    pub fn describe(&self) -> String {
        format!("{} ({:?}, {:?})", self.name, self.device_type, self.backend)
    }
}

/// Lists the wgpu adapters on Vulkan, Metal and DirectX 12 without creating any device, so that
/// a machine without a GPU never panics inside wgpu. OpenGL is left out on purpose: it deadlocked
/// on the CPU GL driver.
pub fn probe_adapters() -> Vec<Adapter> {
    let backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL | wgpu::Backends::DX12;
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    let instance = wgpu::Instance::new(desc);
    let found = pollster::block_on(instance.enumerate_adapters(backends));
    let mut adapters: Vec<Adapter> = Vec::with_capacity(found.len());
    for a in found {
        let info = a.get_info();
        let index = adapters
            .iter()
            .filter(|o| o.device_type == info.device_type && o.backend == info.backend)
            .count();
        adapters.push(Adapter {
            name: info.name,
            device_type: info.device_type,
            backend: info.backend,
            index,
        });
    }
    adapters
}

fn rank(a: &Adapter) -> u8 {
    match a.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

fn wgpu_device(adapter: &Adapter) -> Result<Device> {
    let kind = match adapter.device_type {
        wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(adapter.index),
        wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(adapter.index),
        wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(adapter.index),
        _ => DeviceKind::Cpu,
    };
    let api = match adapter.backend {
        wgpu::Backend::Metal => WgpuBackend::Metal,
        wgpu::Backend::Dx12 => WgpuBackend::Dx12,
        _ => WgpuBackend::Vulkan,
    };
    Device::wgpu_options()
        .device_kind(kind)
        .graphics_api(api)
        .init()
        .map_err(|e| anyhow::anyhow!("wgpu could not start on {}: {e:?}", adapter.describe()))
}

/// The adapter `--backend auto` trains on, as its index in `adapters`: the best real GPU
/// (discrete, then integrated, then virtual; the first of equals); `None` without a GPU.
pub fn auto_choice(adapters: &[Adapter]) -> Option<usize> {
    adapters
        .iter()
        .enumerate()
        .filter(|(_, a)| a.is_gpu())
        .min_by_key(|(_, a)| rank(a))
        .map(|(i, _)| i)
}

/// Training on the wgpu `device` (described as `adapter`): tensor operations, Adam on the device.
fn on_wgpu(device: Device, adapter: String) -> Selected {
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

/// Memory this process can still take, in bytes, and what bounds it: the system's
/// `MemAvailable`, or, when smaller, what the address-space limit (`ulimit -v`, RLIMIT_AS)
/// leaves above the process's present size less a reserve for the threads training starts
/// (each takes a stack and a malloc arena of address space). `None` where neither can be read.
pub fn available_memory() -> Option<Memory> {
    let system = meminfo_available().map(|bytes| Memory {
        bytes,
        bound: MemoryBound::System,
    });
    let limit = address_space_left().map(|bytes| Memory {
        bytes,
        bound: MemoryBound::AddressSpaceLimit,
    });
    match (system, limit) {
        (Some(s), Some(l)) => Some(if l.bytes < s.bytes { l } else { s }),
        (s, l) => s.or(l),
    }
}

/// How much memory can be taken, and by whose count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Bytes.
    pub bytes: u64,
    /// What sets the figure.
    pub bound: MemoryBound,
}

/// What bounds the memory a run can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBound {
    /// The memory the system has free (`MemAvailable`).
    System,
    /// The process's address-space limit (`ulimit -v`).
    AddressSpaceLimit,
}

impl Memory {
    /// Says how much there is and whose figure it is, e.g. "1.5 GiB available" or "0.3 GiB
    /// left under this shell's address-space limit (ulimit -v)".
    pub fn describe(&self) -> String {
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        match self.bound {
            MemoryBound::System => format!("{gib:.1} GiB available"),
            MemoryBound::AddressSpaceLimit => format!(
                "{gib:.1} GiB left under the address-space limit (ulimit -v; raise it or lift it with ulimit -v unlimited)"
            ),
        }
    }
}

/// The bytes a `/proc` file's line `key: N kB` gives (`/proc/meminfo`, `/proc/self/status`).
fn proc_bytes(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let kib: u64 = text
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn meminfo_available() -> Option<u64> {
    proc_bytes("/proc/meminfo", "MemAvailable:")
}

/// What RLIMIT_AS leaves: the soft limit less the present virtual size (`VmSize`) and the
/// address space the training threads will reserve; `None` when there is no limit.
fn address_space_left() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given, which lives on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let size = proc_bytes("/proc/self/status", "VmSize:")?;
    // glibc gives each thread that allocates an arena of up to 64 MiB of address space (on
    // 64-bit systems), and each thread a stack (Rust's default 2 MiB, rayon's the same).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64 + 2;
    let reserve = threads * (66 << 20);
    Some(lim.rlim_cur.saturating_sub(size).saturating_sub(reserve))
}

/// Kernel launches per training step of a stack of `rates` on a cubecl backend (wgpu), counted
/// with cubecl's launch observer over ten steps after two of warm-up, the steps' totals summed
/// and read back as an epoch does; `None` where it could not be counted.
pub fn launches_per_step(
    model: &lrsweep_model::ModelConfig,
    train: &lrsweep_model::TrainConfig,
    rates: &[f64],
    split: &lrsweep_data::Split,
    selected: &Selected,
) -> Option<f64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use cubecl_runtime::logging::{LaunchObservation, LaunchObserver};
    use lrsweep_model::{DeviceData, Member, TensorStack};

    struct Count(AtomicU64);
    impl LaunchObserver for Count {
        fn launched(&self, _kernel: &'static str) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    const STEPS: usize = 10;
    let members: Vec<Member> = rates.iter().map(|&rate| Member::fresh(rate)).collect();
    let mut stack = TensorStack::new(model, *train, &members, &selected.device).ok()?;
    let data = DeviceData::upload(&split.train, train.batch_size, None, &selected.device);
    let mut batches = data.batches();
    let mut run = |n: usize| -> Option<usize> {
        let mut totals = None;
        let mut steps = 0;
        for batch in batches.by_ref().take(n) {
            let t = stack.train_step(batch);
            totals = Some(match totals {
                Some(acc) => acc + t,
                None => t,
            });
            steps += 1;
        }
        totals?.try_into_data().ok()?;
        Some(steps)
    };
    run(2)?;
    let count = Arc::new(Count(AtomicU64::new(0)));
    let watching = LaunchObservation::new(count.clone());
    let steps = run(STEPS);
    drop(watching);
    let steps = steps.filter(|&s| s > 0)?;
    Some(count.0.load(Ordering::Relaxed) as f64 / steps as f64)
}
