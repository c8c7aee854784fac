//! One module per subcommand; `run` dispatches to them.

mod bench;
mod bench_api;
mod bench_ingest;
pub mod eval;
mod generate;
mod hook;
pub mod report;
mod serve;
pub mod store;
mod token;
pub mod usage;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Report(args) => report::run(&args),
        Command::Usage(args) => usage::run(&args),
        Command::Demo(args) => report::demo(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Hook(args) => hook::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Store(args) => store::run(&args),
        Command::Token(args) => token::run(&args),
    }
}
