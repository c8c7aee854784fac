//! Turns a computed report into what the user reads: tables on stdout (and notes on stderr), or
//! one JSON document (schema in docs/JSON.md).

pub mod compact;
mod json;
pub mod pillars;
pub mod table;

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

/// A table of a report written as CSV (stdout) or Parquet (a file).
#[derive(Debug, Clone)]
pub struct Export {
    pub table: Option<String>,
    pub parquet: Option<std::path::PathBuf>,
}

impl Export {
    pub fn from_args(args: &crate::cli::ReportArgs) -> anyhow::Result<Option<Export>> {
        if let Some(name) = &args.table {
            if !args.csv && args.parquet.is_none() {
                anyhow::bail!("--table {name} picks what --csv or --parquet writes; add one of them");
            }
            if !freight_analytics::export::TABLES.iter().any(|(known, _)| known == name) {
                let names: Vec<&str> = freight_analytics::export::TABLES.iter().map(|(name, _)| *name).collect();
                anyhow::bail!("--table {name}: no such table (tables: {})", names.join(", "));
            }
        }
        Ok((args.csv || args.parquet.is_some())
            .then(|| Export { table: args.table.clone(), parquet: args.parquet.clone() }))
    }

    /// Writes table `self.table` (else `default`) of the report's JSON document.
    pub fn write(&self, document: &serde_json::Value, default: &str) -> anyhow::Result<()> {
        let name = self.table.as_deref().unwrap_or(default);
        let rows = freight_analytics::export::table(document, name)
            .ok_or_else(|| anyhow::anyhow!("this report has no table {name:?}"))?;
        match &self.parquet {
            Some(path) => {
                fs_err::write(path, freight_analytics::export::parquet(&rows)?)?;
                eprintln!("freight: wrote {} rows of {name} to {}", rows.len(), path.display());
            }
            None => std::io::stdout().lock().write_all(&freight_analytics::export::csv(&rows)?)?,
        }
        Ok(())
    }
}

/// A usage report's JSON document (what `--json` prints).
pub fn usage_json(report: &Report) -> serde_json::Value {
    json::report(report)
}

/// Prints the report to stdout; notes about skipped input go to stderr with tables.
pub fn print(report: &Report, as_json: bool, export: Option<&Export>) -> anyhow::Result<()> {
    if let Some(export) = export {
        let table = match report.view {
            UsageView::Session => "sessions",
            UsageView::Blocks => "blocks",
            _ => "periods",
        };
        return export.write(&json::report(report), table);
    }
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
