//! The hardware a run trains on: the backend asked for and chosen, the wgpu adapters and the
//! devices a round is spread over, the memory a run can take, and the kernel launches a step
//! costs.
//!
//! Layers, imports pointing one way: `adapters` → `choice` → `devices`; `memory` and
//! `launches` apart.

mod adapters;
mod choice;
mod devices;
mod launches;
mod memory;

pub use adapters::{auto_choice, probe_adapters};
pub use choice::{cpu, select, BackendChoice, Selected, CPU_DEFAULT};
pub use devices::{select_devices, DeviceSpec};
pub use launches::launches_per_step;
pub use memory::available_memory;
