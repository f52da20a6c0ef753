//! `lrsweep`: which learning rate? Train the same network once per rate and let the curves answer.

mod backend;
mod bench;
mod chart;
mod checkpoint;
mod cli;
mod config;
mod find;
mod models;
mod progress;
mod report;
mod rundir;
mod summary;
mod sweep;

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches};

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

/// Writes `text` and a newline to stdout; a closed pipe (`lrsweep … | head`) ends the program
/// quietly instead of panicking.
pub fn say(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").and_then(|_| out.flush())?;
    Ok(())
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Wraps an error as a usage error.
pub fn usage(e: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Usage(e.into()))
}

fn fetch(args: &DataArgs) -> Result<()> {
    let config = args.to_config(0.15, None);
    let images = lrsweep_data::load(&config.locator())
        .map_err(|e| usage(anyhow::anyhow!(e).context(format!("fetching {}", args.dataset))))?;
    say(&format!(
        "{}: {} images, classes {:?}",
        images.dataset,
        images.len(),
        images.class_counts()
    ))?;
    for f in &images.files {
        say(&format!(
            "  {} ({:?}) {}
    SHA-256 of the decompressed file verified: {}",
            f.name,
            f.origin,
            f.path.display(),
            f.sha256
        ))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    // Mesa's Vulkan drivers warn on every start without it.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let explicit: Vec<String> = matches
        .subcommand_matches("sweep")
        .map(|m| {
            m.ids()
                .filter(|id| {
                    m.value_source(id.as_str()) == Some(clap::parser::ValueSource::CommandLine)
                })
                .map(|id| id.to_string())
                .collect()
        })
        .unwrap_or_default();
    let result = match &cli.command {
        Command::Sweep(args) => sweep::run(args, &explicit),
        Command::Fetch(args) => fetch(args),
        Command::Bench(args) => bench::run(args),
        Command::Eval(args) => models::eval(args),
        Command::Find(args) => find::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(i) = e.downcast_ref::<sweep::Interrupted>() {
                eprintln!("{i}");
                return ExitCode::from(130);
            }
            eprintln!("error: {e:#}");
            if e.is::<Usage>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
