//! Sources to Arrow: finds and reads Claude Code and Codex CLI session logs, de-duplicates
//! their calls, and hands them on as the `usage` table; reads delivery-event files (PRs,
//! tickets, generic outcomes).
// Without the table (the fuzz targets' build), what only the table reads goes unread.
#![cfg_attr(not(feature = "arrow"), allow(dead_code))]

pub mod claude;
pub mod codex;
pub mod collect;
pub mod discover;
pub mod events;
mod intern;
mod lines;
mod merge;
#[cfg(feature = "otlp")]
pub mod otlp;
mod quotes;
pub mod scan;
#[cfg(feature = "arrow")]
pub mod table;
pub mod time;
pub mod tools;

pub use collect::{Detail, IngestError, IngestOptions, IngestReport, LineProblem};
pub use discover::{Locations, SourceFile, discover, discover_people};
#[cfg(feature = "arrow")]
pub use table::{EventRow, TOKEN_COLUMNS, UsageTable, events_batch, usage_schema};

/// Reads every file into the `usage` table.
#[cfg(feature = "arrow")]
pub fn ingest(files: Vec<SourceFile>, options: &IngestOptions<'_>) -> Result<UsageTable, IngestError> {
    table::into_table(collect::collect(files, options)?)
}
