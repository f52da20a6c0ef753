//! The real MNIST copy for the model crate's tests and benchmark.

use std::path::PathBuf;

use burn::tensor::Device;
use lrsweep_data::{DatasetKind, Locator, Split, SplitConfig};

/// The reference split of the local MNIST copy (`LRSWEEP_DATA_DIR`, else `../shared/data/mnist`
/// beside the project, else the caches, else downloaded once into lrsweep's cache, verified),
/// optionally a stratified subset.
#[allow(dead_code)] // not every test binary trains on MNIST
pub fn split(limit: Option<usize>) -> Split {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    let dir = (std::env::var_os("LRSWEEP_DATA_DIR").is_none() && shared.is_dir()).then_some(shared);
    let locator = Locator::new(DatasetKind::Mnist, dir);
    let images = lrsweep_data::load(&locator).expect("the real MNIST copy: offline, set LRSWEEP_DATA_DIR to a directory holding the four MNIST files");
    images
        .split(&SplitConfig {
            limit,
            ..SplitConfig::default()
        })
        .expect("the reference split")
}

/// A wgpu device on the first Vulkan or Metal adapter (lavapipe in CI), with its name; `None`
/// where there is none, unless `LRSWEEP_REQUIRE_WGPU` says there must be one (CI sets it).
#[allow(dead_code)] // not every test binary trains on wgpu
pub fn wgpu_device() -> Option<(Device, String)> {
    use burn::tensor::wgpu::{wgpu, WgpuBackend};
    use burn::tensor::DeviceKind;
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let backends = wgpu::Backends::VULKAN | wgpu::Backends::METAL;
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = backends;
    let adapters = pollster::block_on(wgpu::Instance::new(desc).enumerate_adapters(backends));
    let Some(info) = adapters.first().map(|a| a.get_info()) else {
        assert!(
            std::env::var_os("LRSWEEP_REQUIRE_WGPU").is_none(),
            "LRSWEEP_REQUIRE_WGPU is set but wgpu finds no Vulkan or Metal adapter: install libvulkan1 and mesa-vulkan-drivers"
        );
        eprintln!("skipped: no Vulkan or Metal adapter on this machine");
        return None;
    };
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => DeviceKind::DiscreteGpu(0),
        wgpu::DeviceType::IntegratedGpu => DeviceKind::IntegratedGpu(0),
        wgpu::DeviceType::VirtualGpu => DeviceKind::VirtualGpu(0),
        _ => DeviceKind::Cpu,
    };
    let api = if info.backend == wgpu::Backend::Metal {
        WgpuBackend::Metal
    } else {
        WgpuBackend::Vulkan
    };
    let device = Device::wgpu_options()
        .device_kind(kind)
        .graphics_api(api)
        .init()
        .expect("wgpu starts");
    Some((device, info.name))
}

/// One way to train: a name for messages, the compute choice and the device.
#[allow(dead_code)] // not every test binary trains on every engine
pub struct Engine {
    pub name: String,
    pub compute: lrsweep_model::Compute,
    pub device: Device,
}

/// Every engine lrsweep trains on: the CPU engine on both layouts, the tensor engine on flex
/// (its update on the device and fused on the host), on ndarray and, where there is an adapter
/// (lavapipe in CI), on wgpu.
#[allow(dead_code)] // not every test binary trains on every engine
pub fn engines() -> Vec<Engine> {
    use lrsweep_model::{Compute, CpuPath, UpdateExec};
    let engine = |name: &str, compute, device| Engine {
        name: name.to_string(),
        compute,
        device,
    };
    #[allow(deprecated)] // Burn's ndarray backend, one of lrsweep's, is deprecated upstream.
    let ndarray = Device::ndarray();
    let mut all = vec![
        engine("cpu dense", Compute::Cpu(CpuPath::Dense), Device::flex()),
        engine("cpu sparse", Compute::Cpu(CpuPath::Sparse), Device::flex()),
        engine(
            "flex",
            Compute::Tensor(UpdateExec::OnDevice),
            Device::flex(),
        ),
        engine(
            "flex, host update",
            Compute::Tensor(UpdateExec::FusedOnHost),
            Device::flex(),
        ),
        engine("ndarray", Compute::Tensor(UpdateExec::FusedOnHost), ndarray),
    ];
    if let Some((device, name)) = wgpu_device() {
        all.push(engine(
            &format!("wgpu ({name})"),
            Compute::Tensor(UpdateExec::OnDevice),
            device,
        ));
    }
    all
}

/// Each parameter's gradient as an engine computes it in one full-batch step of `config` (its
/// batch the whole `part`): Adam's first moment after the step over 1 − β1 (`m = (1 − β1)·g`).
#[allow(dead_code)] // not every test binary reads gradients
pub fn first_step_gradients(
    model: &lrsweep_model::ModelConfig,
    config: &lrsweep_model::TrainConfig,
    device: &Device,
    part: &lrsweep_data::Part,
) -> Vec<Vec<f64>> {
    use lrsweep_model::{Flow, Member, StackFit, TrainerState, PER_PARAMETER};
    let mut state: Option<TrainerState> = None;
    StackFit::new(model, config, part, part, device, vec![Member::fresh(1e-3)])
        .run(|_, _, view| {
            assert_eq!(view.steps(), 1);
            state = Some(view.state().unwrap());
            Flow::Continue
        })
        .unwrap();
    let state = state.expect("one epoch");
    let beta1 = config.optimizer.defaults.beta1;
    state
        .tensors
        .chunks(PER_PARAMETER)
        .map(|slot| {
            slot[1]
                .1
                .iter()
                .map(|&m| m as f64 / (1.0 - beta1))
                .collect()
        })
        .collect()
}
