//! Argument parsing and subcommand dispatch for the `tricho` binary.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Trichoscopy image analysis.
#[derive(Parser, Debug)]
#[command(name = "tricho", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
