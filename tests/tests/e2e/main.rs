//! End-to-end tests: each drives the built `lrsweep` binary as a user would. One test binary,
//! one way to find the executable ([`common::bin`]).

mod bad_input;
mod bench;
mod common;
mod devices;
mod distributed;
mod early_stop;
mod fetch;
mod find_report;
mod first_contact;
mod golden;
mod hostile;
mod hostile4;
mod hostile_runs;
mod house;
mod network;
mod noise;
mod optimizer;
mod own_data;
mod prune;
mod readme;
mod regression;
mod resume;
mod schedules;
mod second_day;
mod sweep;
mod trackers;
mod using;
mod verdicts;
