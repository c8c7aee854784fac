//! Turns a computed report into what the user reads: tables on stdout (and notes on stderr), or
//! one JSON document (schema in docs/JSON.md).

mod json;
pub mod pillars;
mod table;

use crate::cli::UsageView;
use freight_analytics::UsageGroup;
use freight_analytics::blocks::Block;
use freight_ingest::IngestReport;
use std::io::Write;

/// The result of one usage command, ready to print.
pub struct Report {
    pub view: UsageView,
    pub timezone: String,
    pub breakdown: bool,
    pub body: Body,
    pub unpriced_models: Vec<String>,
    pub ingest: IngestReport,
    pub catalog: Vec<String>,
}

pub enum Body {
    Groups(Vec<UsageGroup>),
    Blocks(Vec<Block>),
}

/// Prints the report to stdout; notes about skipped input go to stderr with tables.
pub fn print(report: &Report, as_json: bool) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    if as_json {
        serde_json::to_writer_pretty(&mut stdout, &json::report(report))?;
        writeln!(stdout)?;
    } else {
        writeln!(stdout, "{}", table::report(report))?;
        for note in notes(report) {
            eprintln!("{note}");
        }
    }
    Ok(())
}

/// What the reader should know about the input: malformed lines (with where), skipped lines,
/// and models without a price.
fn notes(report: &Report) -> Vec<String> {
    let ingest = &report.ingest;
    let mut notes = Vec::new();
    if ingest.malformed_lines > 0 {
        notes.push(format!("note: {} malformed lines were skipped, for example:", ingest.malformed_lines));
        notes.extend(ingest.malformed_examples.iter().take(5).map(|problem| format!("  {problem}")));
    }
    for (reason, count) in &ingest.skipped {
        notes.push(format!("note: {count} lines skipped: {reason}"));
    }
    if !report.unpriced_models.is_empty() {
        notes.push(format!(
            "note: no price for {}; their calls are counted in tokens and left out of cost (add them with --prices)",
            report.unpriced_models.join(", ")
        ));
    }
    notes
}

/// Bytes in binary units, for messages.
pub fn bytes(count: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{count} B") } else { format!("{value:.1} {}", units[unit]) }
}
