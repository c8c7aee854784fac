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

/// mimalloc's setting for how long freed memory waits before it goes back to the OS.
const PURGE_DELAY: &str = "MIMALLOC_PURGE_DELAY";

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if matches!(cli.command, cli::Command::Serve(_)) {
        keep_freed_memory();
    }
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

/// Starts this process again with mimalloc told to keep the memory it frees, unless the
/// environment already says how long to keep it. A server builds and drops a report's
/// structures (hundreds of MiB) at every request; handing those pages back to the OS a
/// second after they are freed (mimalloc 3's default) and faulting them in zeroed again was
/// an eighth of the server's CPU (12.6% in a profile).
/// mimalloc reads the setting only when it starts, before `main`, and setting it from
/// inside would need `unsafe`. If the exec fails, the server runs as it is.
fn keep_freed_memory() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(PURGE_DELAY).is_some() {
        return;
    }
    let Ok(program) = std::env::current_exe() else { return };
    let mut arguments = std::env::args_os();
    let name = arguments.next().unwrap_or_else(|| program.clone().into_os_string());
    let error = std::process::Command::new(&program).arg0(name).args(arguments).env(PURGE_DELAY, "-1").exec();
    eprintln!("freight: could not restart with freed memory kept ({error}); running as is");
}
