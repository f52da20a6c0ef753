//! `lrsweep devices`: what lrsweep can train on, numbered, and what `--backend auto` picks.

use anyhow::Result;
use serde::Serialize;

use crate::backend::{self, CPU_DEFAULT};
use crate::cli::DevicesArgs;
use crate::exit::say;

/// One device as listed.
#[derive(Debug, Serialize)]
struct Listed {
    /// Position in the list of wgpu adapters (`None` for the CPU backends).
    index: Option<usize>,
    /// The backend that trains on it.
    backend: &'static str,
    /// The adapter or processor.
    name: String,
    /// Discrete, integrated or virtual GPU, CPU.
    kind: String,
    /// The graphics API (wgpu only).
    api: Option<String>,
    /// Whether `--backend auto` trains on it.
    auto: bool,
}

/// Lists the devices.
pub fn run(args: &DevicesArgs) -> Result<()> {
    let adapters = backend::probe_adapters();
    let auto = backend::auto_choice(&adapters);
    let mut listed: Vec<Listed> = adapters
        .iter()
        .enumerate()
        .map(|(i, a)| Listed {
            index: Some(i),
            backend: "wgpu",
            name: a.name.clone(),
            kind: format!("{:?}", a.device_type),
            api: Some(format!("{:?}", a.backend)),
            auto: auto == Some(i),
        })
        .collect();
    let cpu = backend::cpu(CPU_DEFAULT, lrsweep_model::CpuPath::Auto).adapter;
    for (name, default) in [("cpu", true), ("flex", false), ("ndarray", false)] {
        listed.push(Listed {
            index: None,
            backend: name,
            name: cpu.clone(),
            kind: "Cpu".to_string(),
            api: None,
            auto: auto.is_none() && default,
        });
    }
    if args.json {
        return say(&serde_json::to_string_pretty(&listed)?);
    }
    let mut table = String::from(
        "| index | backend | device | type | API | auto |\n|---|---|---|---|---|---|\n",
    );
    for d in &listed {
        table += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            d.index.map_or("-".to_string(), |i| i.to_string()),
            d.backend,
            d.name,
            d.kind,
            d.api.as_deref().unwrap_or("-"),
            if d.auto { "yes" } else { "" }
        );
    }
    // One sentence in words: what `auto` trains on, and why.
    table += &match auto {
        Some(i) => format!(
            "\n--backend auto trains on the GPU {} (wgpu, adapter {i}).",
            adapters[i].name
        ),
        None if adapters.is_empty() => "\nNo GPU found: --backend auto trains on the CPU with lrsweep's own engine (cpu).".to_string(),
        None => format!(
            "\nNo GPU found ({} is a CPU driver, not a GPU): --backend auto trains on the CPU with lrsweep's own engine (cpu), which is faster there; --backend wgpu uses it anyway.",
            adapters.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    say(&table)
}
