//! Sources to Arrow: finds and reads Claude Code and Codex CLI session logs, de-duplicates
//! their calls, and hands them on as the `usage` table.

pub mod claude;
pub mod codex;
pub mod collect;
pub mod discover;
mod intern;
mod lines;
pub mod scan;
pub mod table;
pub mod time;

pub use collect::{IngestError, IngestOptions, IngestReport, LineProblem};
pub use discover::{Locations, SourceFile, discover};
pub use table::{UsageTable, usage_schema};

/// Reads every file into the `usage` table.
pub fn ingest(files: Vec<SourceFile>, options: &IngestOptions<'_>) -> Result<UsageTable, IngestError> {
    table::into_table(collect::collect(files, options)?)
}
