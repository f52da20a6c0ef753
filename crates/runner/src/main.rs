//! `lrsweep`: which learning rate? Train the same network once per rate and let the curves answer.
//!
//! Layers, imports pointing one way: `cli` (clap) and `commands` (one module per subcommand,
//! orchestration only) over `train` (the round: survey, segments, stacks on the devices,
//! per-epoch persistence) and the services `results` (collect, summarise, publish, the live
//! report), `track` (MLflow) and `interrupt` (the signal flag), over `store` (the run directory: one layout of its paths, one
//! way to write its files), `render` (charts, tables, progress), `analysis` (summaries,
//! verdicts, refinement as data), `backend` and `config` (the settings and the names of what a
//! run trains); below them the `lrsweep-model` and `lrsweep-data` crates.
//!
//! # Glossary
//! - **listed** rates: those the user gives (`--rates`); **refined** rates: the ones a sweep
//!   adds between a group's best listed rate and its better neighbour (`--refine`).
//! - **group**: what a member trains besides its rate ([`config::Group`]: its schedule, its
//!   network, its optimizer and its batch size); members of a group are compared with each
//!   other, and each group has its own best rate, refinement, grid column and overview. The
//!   reference's group is the constant schedule, the reference's network and Adam at the run's
//!   batch size.
//! - **network**: the layers a member trains ([`config::Network`]: hidden widths, activation,
//!   dropout, initialisation); **optimizer**: its update rule as listed (`sgd:0.9`), under the
//!   run's **convention** (Keras' or PyTorch's definitions and defaults).
//! - **arm**: a rate in a group ([`config::Arm`]); the run's planned arms, listed then refined,
//!   are `rates_trained` in `config.json`, numbered from 0 (a work task's index).
//! - **unit**: an arm under one of the run's seeds ([`config::Unit`]): one member of a round,
//!   with one directory (`lr-0.001-cosine-seed43`).
//! - **round**: the arms trained together: the listed ones, then the refined ones.
//! - **member** and **stack**: a unit in training, and the members of a round trained together
//!   on one device, one stack per batch size and network (the model crate's words; a stack
//!   holds every optimizer and schedule of its round).
//! - **rung**: an epoch where `--prune` ranks a round's members still training and stops the
//!   worse ones (pruned); **segment**: the stretch a pruned round trains between two rungs
//!   (or to its end), every member then at the same epoch.
//! - **bar**: the listed arms that finished a pruned run's first round, against which the
//!   refined round is ranked at its rungs (a refined rate goes on only while among the best of
//!   all rates at the same epoch).
//! - **claim**: a member's `claim.lock`, held by the one process training it.
//! - **task**: one step of a prepared run as a scheduler runs it (`lrsweep work --index N`
//!   trains planned arm N; `--refine`, `--finish`). Not to be confused with the data's task
//!   (`--task`, [`lrsweep_data::Task`]): a **classification** (classes, softmax, accuracy) or a
//!   **regression** (**targets**: numbers standardised by the training part, linear outputs,
//!   MSE or Huber, R² where accuracy is, RMSE and MAE in the targets' units).
//! - **live report**: the `report.html` a sweep rewrites after every epoch of a stack while it
//!   trains (curves so far, a banner, a reload), until the final report replaces it.
//! - **tracker**: where a run is found beyond its directory: TensorBoard's event files (always
//!   written, `store::tfevents`) and an MLflow server (`--mlflow`, `track`), where the sweep is
//!   a parent run and each member a nested run; the run directory stays the record.
//! - **execution settings**: how this machine runs a run (data directory, mirrors, `--no-find`,
//!   `--serial`, `--cpu-path`, `--devices`), as against the settings that define it.

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
mod track;
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
        Command::Predict(args) => commands::predict::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Find(args) => commands::find::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Track(args) => commands::track::run(args),
        Command::Devices(args) => commands::devices::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Work(args) => commands::work::run(args),
    };
    exit::finish(result)
}
