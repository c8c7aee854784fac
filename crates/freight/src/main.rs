//! The `freight` command: parses arguments, runs one command, and prints errors with their
//! causes (exit status 1) or the report (exit status 0).

mod cli;
mod commands;
mod demo;
mod env;
mod mined;
mod render;
mod server_reports;

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("freight: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
