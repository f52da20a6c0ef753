//! `lrsweep`: which learning rate? Train the same network once per rate and let the curves answer.
//!
//! Layers, imports pointing one way: `cli` (clap) and `commands` (one module per subcommand,
//! orchestration only) over `train` (the round: claims, scheduling over devices, per-epoch
//! persistence) and the services `results` (collect, summarise, write) and `interrupt` (the
//! signal flag), over `store` (run directory files), `render` (charts, tables, progress),
//! `analysis` (summaries, verdicts, refinement as data), `backend` and `config`; below them the
//! `lrsweep-model` and `lrsweep-data` crates.
//!
//! # Glossary
//! - **listed** rates: those the user gives (`--rates`); **refined** rates: the ones a sweep
//!   adds between the best listed rate and its better neighbour (`--refine`). Together, in that
//!   order, they are the run's planned rates (`rates_trained` in `config.json`), numbered from 0.
//! - **round**: the rates trained together: the listed ones, then the refined ones.
//! - **member** and **stack**: a rate in training, and the rates of a round trained together on
//!   one device (the model crate's words).
//! - **claim**: a rate's `claim.lock`, held by the one process training it.
//! - **task**: one step of a prepared run as a scheduler runs it (`lrsweep work --index N`
//!   trains planned rate N; `--refine`, `--finish`).

mod analysis;
mod backend;
mod cli;
mod commands;
mod config;
mod exit;
mod interrupt;
mod render;
mod results;
mod slurm;
mod store;
mod train;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    // A file-size limit (`ulimit -f`, RLIMIT_FSIZE) would kill the process with SIGXFSZ, saying
    // nothing; ignored, the write that crosses it fails with EFBIG ("File too large") and the run
    // stops with that error, keeping what it wrote (issue 23, class 13).
    // SAFETY: setting a signal's disposition to SIG_IGN before any thread is started; no handler
    // runs, so nothing unsafe can happen in one.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    // Mesa's Vulkan drivers warn on every start without it.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match &cli.command {
        Command::Sweep(args) => commands::sweep::run(args, &cli::explicit_ids(&matches, "sweep")),
        Command::Fetch(args) => commands::fetch::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Find(args) => commands::find::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Devices(args) => commands::devices::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Work(args) => commands::work::run(args),
    };
    exit::finish(result)
}
