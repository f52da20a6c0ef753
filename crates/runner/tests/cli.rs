//! The command line parses and documents itself (this file also makes `cargo test` build the
//! binary that the end-to-end tests in `tests/` drive).

use std::process::Command;

fn lrsweep(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lrsweep"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_lists_every_subcommand_and_the_sweep_defaults() {
    let out = lrsweep(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for sub in [
        "sweep", "fetch", "bench", "find", "eval", "report", "devices",
    ] {
        assert!(help.contains(sub), "{help}");
    }
    let out = lrsweep(&["sweep", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for default in [
        "1e-5,1e-4,1e-3,1e-2,1e-1",
        "[default: 150]",
        "[default: 256]",
        "[default: 42]",
        "[default: 0.15]",
        "[default: auto]",
    ] {
        assert!(help.contains(default), "{default} missing from:\n{help}");
    }
}

#[test]
fn bench_help_states_the_flop_formula() {
    let out = lrsweep(&["bench", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("2·(784·H + H·10)") && help.contains("median"),
        "{help}"
    );
}

#[test]
fn an_unknown_option_is_a_usage_error() {
    let out = lrsweep(&["sweep", "--no-such-option"]);
    assert_eq!(out.status.code(), Some(2));
}
