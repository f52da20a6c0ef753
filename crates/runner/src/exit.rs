//! How lrsweep ends: the user-facing error kinds, their exit codes, and stdout that a closed
//! pipe cannot turn into a panic.

use std::process::ExitCode;

/// Exit code of a usage error: bad options, bad data, an occupied output directory.
pub const USAGE: u8 = 2;
/// Exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

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

/// The error a sweep stopped by a signal ends with (exit code 130): it says how to continue.
#[derive(Debug)]
pub struct Interrupted {
    /// The command that continues the work.
    pub continue_with: String,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted; every finished epoch and its checkpoint are saved. Continue with: {}",
            self.continue_with
        )
    }
}

impl std::error::Error for Interrupted {}

/// An error with a sentence after it saying how to go on (e.g. how to resume a run).
#[derive(Debug)]
struct Hinted {
    error: anyhow::Error,
    hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}\n{}", self.error, self.hint)
    }
}

impl std::error::Error for Hinted {}

/// Adds `hint` after a failure's message, unless the failure is the user's (a usage error, an
/// interruption, a closed pipe): those say what to do already.
pub fn with_hint(error: anyhow::Error, hint: impl Into<String>) -> anyhow::Error {
    if error.is::<Usage>() || error.is::<Interrupted>() || is_broken_pipe(&error) {
        return error;
    }
    anyhow::Error::new(Hinted {
        error,
        hint: hint.into(),
    })
}

/// Writes `text` and a newline to stdout; a closed pipe (`lrsweep … | head`) ends the program
/// quietly instead of panicking, a full disk is an error that says it was stdout.
pub fn say(text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .context("writing to standard output")
}

/// Writes `text` and a newline to stderr, ignoring failure: progress and notes are not worth a
/// run, so a closed or full stderr (`2>&1 | head -1`, `2>/dev/full`) never stops one.
pub fn note(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Reports a command's outcome on stderr and turns it into the process's exit code.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(i) = e.downcast_ref::<Interrupted>() {
                note(&i.to_string());
                return ExitCode::from(INTERRUPTED);
            }
            note(&format!("error: {e:#}"));
            if e.is::<Usage>() {
                ExitCode::from(USAGE)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
