//! `freight generate`: writes a generated organisation's agent logs for tests and benchmarks.

use crate::cli::{GenerateArgs, GenerateFormat};
use crate::commands::usage::parse_day;
use crate::demo::{Plan, generate};
use crate::render::bytes;

pub fn run(args: &GenerateArgs) -> anyhow::Result<()> {
    let plan = plan(args)?;
    let started = std::time::Instant::now();
    let summary = generate(&plan, &args.out)?;
    eprintln!(
        "freight: wrote {} Claude Code and {} Codex files, {} lines, {} to {} in {:.1}s",
        summary.claude_files,
        summary.codex_files,
        summary.lines,
        bytes(summary.bytes),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn plan(args: &GenerateArgs) -> anyhow::Result<Plan> {
    let end = parse_day(&args.end, "--end")?;
    let claude_lines = if args.format == GenerateFormat::Codex { 0 } else { args.lines };
    let codex_lines = match args.format {
        GenerateFormat::Claude => 0,
        GenerateFormat::Codex => args.lines,
        GenerateFormat::Both => args.lines / 5,
    };
    let claude_sessions = if claude_lines == 0 { 0 } else { args.sessions.unwrap_or((claude_lines / 400).max(1)) };
    let codex_sessions =
        if codex_lines == 0 { 0 } else { args.sessions.map_or((codex_lines / 300).max(1), |n| (n / 5).max(1)) };
    Ok(Plan {
        claude_lines,
        claude_sessions,
        codex_lines,
        codex_sessions,
        seed: args.seed,
        end,
        variants: args.variants,
    })
}
