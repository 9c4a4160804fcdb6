//! The `g2a` command's tests, run as a user would run it. One test binary
//! for all of them: linking a binary with the whole crate graph is most of
//! the build time of an integration test.

mod catalog_cli;
mod catalog_review;
mod container_commands;
mod export_commands;
mod play_gui;
mod record_command;
mod upload_command;
mod video_commands;

use std::process::{Command, Output};

/// Runs the `g2a` binary with `args` in this process's directory.
fn g2a(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_g2a"))
        .args(args)
        .output()
        .expect("run g2a")
}
