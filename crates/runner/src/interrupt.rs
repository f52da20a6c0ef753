//! The signal service: SIGINT and SIGTERM set the flag the trainer checks before every batch,
//! so the epoch in progress is given up; the last finished epoch's metrics and checkpoint are
//! already on disk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The flag the signal handlers set.
pub fn flag() -> &'static Arc<AtomicBool> {
    INTERRUPTED.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Whether a signal has asked the sweep to stop.
pub fn requested() -> bool {
    flag().load(Ordering::Relaxed)
}

/// Makes SIGINT and SIGTERM set [`flag`] instead of killing the process.
pub fn install_handlers() {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, flag().clone());
    }
}

/// The error a sweep stopped by a signal ends with: what was trained is kept, and the command
/// that continues the run in `out`.
pub fn stopped(out: &std::path::Path) -> anyhow::Error {
    anyhow::Error::new(crate::exit::Interrupted {
        continue_with: format!("lrsweep sweep --resume {}", out.display()),
    })
}
