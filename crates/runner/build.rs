//! Links the `lrsweep` binary with its debug sections compressed (zlib): the line tables kept
//! for lrsweep's own crates (so that a backtrace names its files and lines) take a fraction of
//! the space, and the standard library's backtrace reads compressed sections as it reads plain
//! ones. Only this binary's link changes; no dependency is built differently.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--compress-debug-sections=zlib");
    println!("cargo:rerun-if-changed=build.rs");
}
