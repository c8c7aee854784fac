//! `freight store`: an event store read from outside the server (flushed Parquet files and the
//! WAL beyond them), and the store as the `usage` table for `usage` and `report --store`.

use crate::cli::{StoreArgs, StoreKind};
use anyhow::Context;
use datafusion::arrow::array::RecordBatch;
use freight_ingest::{IngestReport, UsageTable, usage_schema};
use std::io::Write;
use std::path::Path;

pub fn run(args: &StoreArgs) -> anyhow::Result<()> {
    match &args.kind {
        StoreKind::Dump { data_dir } => dump(data_dir),
    }
}

fn dump(dir: &Path) -> anyhow::Result<()> {
    match write_dump(dir) {
        // `freight store dump | head` is done when head is.
        Err(error)
            if error.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn write_dump(dir: &Path) -> anyhow::Result<()> {
    let snapshot =
        freight_store::read_snapshot(dir).with_context(|| format!("reading the store in {}", dir.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for batch in snapshot.batches()? {
        for row in freight_store::rows_as_json(&batch)? {
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A store's events as the `usage` table (its own columns only).
pub fn usage_table(dir: &Path) -> anyhow::Result<UsageTable> {
    let snapshot =
        freight_store::read_snapshot(dir).with_context(|| format!("reading the store in {}", dir.display()))?;
    let schema = usage_schema();
    let batches = snapshot
        .batches()?
        .into_iter()
        .map(|batch| {
            let columns = batch.columns()[..schema.fields().len()].to_vec();
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()
        .context("the store's files do not have the usage table's columns")?;
    Ok(UsageTable { schema, batches, report: IngestReport::default() })
}
