//! `lrsweep`: which learning rate? Train the same network once per rate and let the curves answer.

mod backend;
mod bench;
mod chart;
mod cli;
mod config;
mod progress;
mod rundir;
mod summary;
mod sweep;

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::cli::{Cli, Command, DataArgs};

/// Marks an error the user can fix by changing the command line or the data (exit code 2).
#[derive(Debug)]
pub struct Usage(anyhow::Error);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Usage {}

/// Wraps an error as a usage error.
pub fn usage(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Usage(e.into()))
}

fn fetch(args: &DataArgs) -> Result<()> {
    let config = args.to_config(0.15, None);
    let images = lrsweep_data::load(&config.locator())
        .map_err(|e| usage(anyhow::anyhow!(e).context(format!("fetching {}", args.dataset))))?;
    println!(
        "{}: {} images, classes {:?}",
        images.dataset,
        images.len(),
        images.class_counts()
    );
    for f in &images.files {
        println!(
            "  {} ({:?}) {}\n    SHA-256 of the decompressed file verified: {}",
            f.name,
            f.origin,
            f.path.display(),
            f.sha256
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    // Mesa's Vulkan drivers warn on every start without it.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Sweep(args) => sweep::run(args),
        Command::Fetch(args) => fetch(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.is::<Usage>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
