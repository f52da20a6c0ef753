//! How much memory a run can take, and what bounds it.

/// Memory this process can still take, in bytes, and what bounds it: the system's
/// `MemAvailable`, or, when smaller, what the address-space limit (`ulimit -v`, RLIMIT_AS)
/// leaves above the process's present size less a reserve for the threads training starts
/// (each takes a stack and a malloc arena of address space). `None` where neither can be read.
pub fn available_memory() -> Option<Memory> {
    let system = meminfo_available().map(|bytes| Memory {
        bytes,
        bound: MemoryBound::System,
    });
    let limit = address_space_left().map(|bytes| Memory {
        bytes,
        bound: MemoryBound::AddressSpaceLimit,
    });
    match (system, limit) {
        (Some(s), Some(l)) => Some(if l.bytes < s.bytes { l } else { s }),
        (s, l) => s.or(l),
    }
}

/// How much memory can be taken, and by whose count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// Bytes.
    pub bytes: u64,
    /// What sets the figure.
    pub bound: MemoryBound,
}

/// What bounds the memory a run can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryBound {
    /// The memory the system has free (`MemAvailable`).
    System,
    /// The process's address-space limit (`ulimit -v`).
    AddressSpaceLimit,
}

impl Memory {
    /// Says how much there is and whose figure it is, e.g. "1.5 GiB available" or "0.3 GiB
    /// left under this shell's address-space limit (ulimit -v)".
    pub fn describe(&self) -> String {
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        match self.bound {
            MemoryBound::System => format!("{gib:.1} GiB available"),
            MemoryBound::AddressSpaceLimit => format!(
                "{gib:.1} GiB left under the address-space limit (ulimit -v; raise it or lift it with ulimit -v unlimited)"
            ),
        }
    }
}

/// The bytes a `/proc` file's line `key: N kB` gives (`/proc/meminfo`, `/proc/self/status`).
fn proc_bytes(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let kib: u64 = text
        .lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

fn meminfo_available() -> Option<u64> {
    proc_bytes("/proc/meminfo", "MemAvailable:")
}

/// What RLIMIT_AS leaves: the soft limit less the present virtual size (`VmSize`) and the
/// address space the training threads will reserve; `None` when there is no limit.
fn address_space_left() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given, which lives on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0
        || lim.rlim_cur == libc::RLIM_INFINITY
    {
        return None;
    }
    let size = proc_bytes("/proc/self/status", "VmSize:")?;
    // glibc gives each thread that allocates an arena of up to 64 MiB of address space (on
    // 64-bit systems), and each thread a stack (Rust's default 2 MiB, rayon's the same).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64 + 2;
    let reserve = threads * (66 << 20);
    Some(lim.rlim_cur.saturating_sub(size).saturating_sub(reserve))
}
