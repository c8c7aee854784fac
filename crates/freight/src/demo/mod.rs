//! A generated organisation's agent logs: Claude Code projects and Codex rollouts, written the
//! way the agents write them (one line per content block, resumed-session replays, subagent
//! files, growing cached contexts), deterministic for a seed.

mod claude;
mod codex;
pub mod company;
pub mod labelled;
mod org;
pub mod scale;
mod text;

use anyhow::Context;
use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Claude Code lines in total (Codex gets `codex_lines`).
    pub claude_lines: u64,
    pub claude_sessions: u64,
    pub codex_lines: u64,
    pub codex_sessions: u64,
    pub seed: u64,
    /// Last day of activity; sessions spread over the 30 days that end here.
    pub end: NaiveDate,
    /// Also write the rare shapes: malformed lines, unpriced models, API errors, fast mode.
    pub variants: bool,
}

/// Days of activity a plan spreads over.
pub const DAYS: i64 = 30;

impl Plan {
    /// The `freight demo` organisation: Claude Code and a fifth as much Codex.
    pub fn demo(lines: u64, seed: u64, end: NaiveDate) -> Plan {
        Plan {
            claude_lines: lines,
            claude_sessions: (lines / 400).max(1),
            codex_lines: lines / 5,
            codex_sessions: (lines / 5 / 300).max(1),
            seed,
            end,
            variants: true,
        }
    }

    /// A text that changes whenever the plan does (to know whether generated files are current).
    pub fn fingerprint(&self) -> String {
        format!("{self:?}")
    }
}

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub claude_files: u64,
    pub codex_files: u64,
    pub lines: u64,
    pub bytes: u64,
}

impl std::ops::Add for Summary {
    type Output = Summary;
    fn add(self, other: Summary) -> Summary {
        Summary {
            claude_files: self.claude_files + other.claude_files,
            codex_files: self.codex_files + other.codex_files,
            lines: self.lines + other.lines,
            bytes: self.bytes + other.bytes,
        }
    }
}

/// A buffered output file that counts what it wrote.
pub(crate) struct FileWriter {
    out: BufWriter<File>,
    lines: u64,
    bytes: u64,
}

impl FileWriter {
    fn create(path: &Path) -> anyhow::Result<FileWriter> {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        let file = fs_err::File::create(path)?.into_parts().0;
        Ok(FileWriter { out: BufWriter::with_capacity(1 << 20, file), lines: 0, bytes: 0 })
    }

    fn line(&mut self, text: &str) -> anyhow::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        self.bytes += text.len() as u64 + 1;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<Summary> {
        self.out.flush()?;
        Ok(Summary { lines: self.lines, bytes: self.bytes, ..Summary::default() })
    }

    fn finish_claude(self) -> anyhow::Result<Summary> {
        Ok(Summary { claude_files: 1, ..self.finish()? })
    }

    fn finish_codex(self) -> anyhow::Result<Summary> {
        Ok(Summary { codex_files: 1, ..self.finish()? })
    }
}

/// A reproducible random stream for one session of one kind.
fn session_rng(seed: u64, kind: u64, index: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (kind << 56) ^ index)
}

/// Splits `total` lines over `parts` sessions, unevenly but deterministically, summing to `total`.
fn line_budgets(total: u64, parts: u64, seed: u64) -> Vec<u64> {
    use rand::Rng;
    if parts == 0 {
        return Vec::new();
    }
    let mut rng = session_rng(seed, 0xFF, 0);
    let weights: Vec<f64> = (0..parts).map(|_| rng.random_range(0.2..1.8)).collect();
    let sum: f64 = weights.iter().sum();
    let mut budgets: Vec<u64> = weights.iter().map(|weight| (total as f64 * weight / sum) as u64).collect();
    let assigned: u64 = budgets.iter().sum();
    if let Some(first) = budgets.first_mut() {
        *first += total.saturating_sub(assigned);
    }
    budgets
}

/// Writes one session per budget in parallel, each with its own reproducible random stream.
fn write_sessions(
    budgets: &[u64],
    seed: u64,
    kind: u64,
    write: impl Fn(u64, u64, &mut ChaCha8Rng) -> anyhow::Result<Summary> + Sync,
) -> anyhow::Result<Summary> {
    budgets
        .par_iter()
        .enumerate()
        .map(|(index, &lines)| write(index as u64, lines, &mut session_rng(seed, kind, index as u64)))
        .try_reduce(Summary::default, |a, b| Ok(a + b))
}

/// Writes the plan's files under `out/claude/projects` and `out/codex/sessions`, in parallel.
pub fn generate(plan: &Plan, out: &Path) -> anyhow::Result<Summary> {
    let claude_root = out.join("claude").join("projects");
    let codex_root = out.join("codex").join("sessions");
    for root in [&claude_root, &codex_root] {
        if root.exists() {
            fs_err::remove_dir_all(root)?;
        }
        fs_err::create_dir_all(root)?;
    }
    let organisation = org::Organisation::new();
    let claude_budgets = line_budgets(plan.claude_lines, plan.claude_sessions, plan.seed);
    let codex_budgets = line_budgets(plan.codex_lines, plan.codex_sessions, plan.seed ^ 1);
    let claude = write_sessions(&claude_budgets, plan.seed, 1, |index, lines, rng| {
        claude::write_session(&claude_root, &organisation, plan, index, lines, rng)
    })
    .context("writing Claude Code sessions")?;
    let codex = write_sessions(&codex_budgets, plan.seed, 2, |index, lines, rng| {
        codex::write_session(&codex_root, &organisation, plan, index, lines, rng)
    })
    .context("writing Codex sessions")?;
    Ok(claude + codex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_sum_to_the_total() {
        for (total, parts) in [(0, 3), (10, 3), (1_000_003, 200), (5, 7)] {
            assert_eq!(line_budgets(total, parts, 9).iter().sum::<u64>(), total);
        }
    }
}
