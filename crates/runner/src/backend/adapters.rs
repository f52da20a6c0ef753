//! The wgpu adapters a probe finds, how they rank, and a device started on one.

use anyhow::Result;
use burn::tensor::wgpu::{wgpu, WgpuBackend};
use burn::tensor::{Device, DeviceKind};

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

pub(super) fn rank(a: &Adapter) -> u8 {
    match a.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

pub(super) fn wgpu_device(adapter: &Adapter) -> Result<Device> {
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
