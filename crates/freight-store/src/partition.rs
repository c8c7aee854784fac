//! The store's Parquet files: usage events of one UTC day each, in the `usage` table's schema
//! plus the event's id and the team attributes its source sent.
//!
//! ```text
//! usage/day=YYYY-MM-DD/part-<file number, 10 digits>.parquet
//! ```

use crate::manifest::PartFile;
use crate::wal::sync_dir;
use crate::{StoreError, StoredEvent};
use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, new_null_array};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMillisecondType, UInt64Type,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;
use freight_ingest::{EventRow, events_batch, usage_schema};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

pub const USAGE_DIR: &str = "usage";

/// Columns the store adds after the `usage` table's own.
const EXTRA: [&str; 4] = ["event_id", "team", "department", "cost_center"];

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields: Vec<Field> = usage_schema().fields().iter().map(|field| field.as_ref().clone()).collect();
    fields.push(Field::new(EXTRA[0], DataType::Utf8, false));
    for name in &EXTRA[1..] {
        fields.push(Field::new(*name, DataType::Utf8, true));
    }
    Arc::new(Schema::new(fields))
});

/// The schema of the store's usage files and of its unflushed events as queried.
pub fn stored_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Events as one batch in the stored schema.
pub fn stored_batch(events: &[&StoredEvent]) -> Result<RecordBatch, StoreError> {
    let rows: Vec<EventRow<'_>> = events
        .iter()
        .map(|stored| EventRow {
            event: &stored.event,
            tool_use: stored.tool_use,
            actions: stored.actions,
            turn: stored.turn,
        })
        .collect();
    let usage = events_batch(&rows)?;
    let mut columns: Vec<ArrayRef> = usage.columns().to_vec();
    columns.push(Arc::new(StringArray::from_iter_values(events.iter().map(|stored| stored.id.as_str()))));
    columns.push(Arc::new(StringArray::from_iter(events.iter().map(|stored| stored.team.as_deref()))));
    columns.push(Arc::new(StringArray::from_iter(events.iter().map(|stored| stored.department.as_deref()))));
    columns.push(Arc::new(StringArray::from_iter(events.iter().map(|stored| stored.cost_center.as_deref()))));
    Ok(RecordBatch::try_new(stored_schema(), columns)?)
}

const MILLIS_PER_DAY: i64 = 86_400_000;

/// The UTC day an event belongs to, as days since 1970-01-01.
fn day_number(event: &StoredEvent) -> i64 {
    event.event.timestamp.timestamp_millis().div_euclid(MILLIS_PER_DAY)
}

/// A day number as `YYYY-MM-DD`.
fn day_name(day: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(day * MILLIS_PER_DAY)
        .map(|time| time.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into())
}

fn writer_properties() -> WriterProperties {
    // Ids are unique per row: a dictionary would be built only to be thrown away.
    let unique = ["event_id", "request_id", "message_id"];
    unique
        .into_iter()
        .fold(WriterProperties::builder(), |builder, column| {
            builder.set_column_dictionary_enabled(ColumnPath::from(column), false)
        })
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1024 * 1024))
        .build()
}

/// Writes batches as one new file of `day`, durably, under a temporary name first so a crash
/// never leaves a half file under a name a manifest could list.
pub fn write_day_file(dir: &Path, day: &str, number: u64, batches: &[RecordBatch]) -> Result<PartFile, StoreError> {
    let relative = format!("{USAGE_DIR}/day={day}/part-{number:010}.parquet");
    let path = dir.join(&relative);
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
    std::fs::create_dir_all(&folder).map_err(|source| StoreError::io(&folder, source))?;
    let temporary = path.with_extension("parquet.tmp");
    let file = std::fs::File::create(&temporary).map_err(|source| StoreError::io(&temporary, source))?;
    let mut writer = ArrowWriter::try_new(file, stored_schema(), Some(writer_properties()))
        .map_err(|error| StoreError::parquet(&temporary, error))?;
    let mut rows = 0u64;
    for batch in batches {
        writer.write(batch).map_err(|error| StoreError::parquet(&temporary, error))?;
        rows += batch.num_rows() as u64;
    }
    let file = writer.into_inner().map_err(|error| StoreError::parquet(&temporary, error))?;
    file.sync_all().map_err(|source| StoreError::io(&temporary, source))?;
    std::fs::rename(&temporary, &path).map_err(|source| StoreError::io(&path, source))?;
    sync_dir(&folder)?;
    let bytes = std::fs::metadata(&path).map_err(|source| StoreError::io(&path, source))?.len();
    Ok(PartFile { path: relative, day: day.to_string(), rows, bytes })
}

/// Writes events into one new file per day they fall on; `next_file` numbers the files.
pub fn write_events(dir: &Path, events: &[&StoredEvent], next_file: &mut u64) -> Result<Vec<PartFile>, StoreError> {
    let mut by_day: BTreeMap<i64, Vec<&StoredEvent>> = BTreeMap::new();
    for event in events {
        by_day.entry(day_number(event)).or_default().push(event);
    }
    let mut written = Vec::new();
    for (day, mut events) in by_day {
        events.sort_unstable_by_key(|event| event.event.timestamp);
        let batch = stored_batch(&events)?;
        written.push(write_day_file(dir, &day_name(day), *next_file, &[batch])?);
        *next_file += 1;
    }
    Ok(written)
}

/// Reads a whole file (in the stored schema), or only some of its columns.
pub fn read_file(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>, StoreError> {
    let file = std::fs::File::open(path).map_err(|source| StoreError::io(path, source))?;
    let mut builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|error| StoreError::parquet(path, error))?;
    if let Some(columns) = columns {
        let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
        builder = builder.with_projection(mask);
    }
    let reader = builder.with_batch_size(64 * 1024).build().map_err(|error| StoreError::parquet(path, error))?;
    let batches = reader.map(|batch| batch.map_err(|error| StoreError::parquet(path, error)));
    match columns {
        Some(_) => batches.collect(),
        None => batches.map(|batch| in_stored_schema(path, batch?)).collect(),
    }
}

/// A whole file's batch with the stored schema's columns in order: a file written before a
/// nullable column existed (`actions`, `turn`) reads with nulls in it.
fn in_stored_schema(path: &Path, batch: RecordBatch) -> Result<RecordBatch, StoreError> {
    let schema = stored_schema();
    if batch.schema().fields().len() == schema.fields().len() {
        return Ok(batch);
    }
    let columns = schema
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) => Ok(column.clone()),
            None if field.is_nullable() => Ok(new_null_array(field.data_type(), batch.num_rows())),
            None => Err(StoreError::corrupt(path, format!("no `{}` column", field.name()))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// The event ids in a file.
pub fn read_ids(path: &Path) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    for batch in read_file(path, Some(&["event_id"]))? {
        let column = batch.column(0);
        let Some(strings) = column.as_string_opt::<i32>() else {
            return Err(StoreError::corrupt(path, "event_id is not a string column"));
        };
        ids.extend(strings.iter().flatten().map(str::to_string));
    }
    Ok(ids)
}

/// Several files of one day rewritten as one.
pub fn compact(dir: &Path, day: &str, files: &[PathBuf], number: u64) -> Result<PartFile, StoreError> {
    let mut batches = Vec::new();
    for file in files {
        batches.extend(read_file(file, None)?);
    }
    let schema = stored_schema();
    // Dictionaries differ between files; one plain batch lets the writer build one per column.
    let batches = batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(column, field)| cast(column, field.data_type()))
                .collect::<Result<Vec<_>, _>>()?;
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let merged = concat_batches(&schema, &batches)?;
    write_day_file(dir, day, number, &[merged])
}

/// Rows of stored batches as JSON objects (`freight store dump`).
pub fn rows_as_json(batch: &RecordBatch) -> Result<Vec<serde_json::Value>, StoreError> {
    let schema = batch.schema();
    let mut rows = vec![serde_json::Map::new(); batch.num_rows()];
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        match field.data_type() {
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                let times = column.as_primitive::<TimestampMillisecondType>();
                for (row, value) in rows.iter_mut().zip(times.iter()) {
                    let text = value
                        .and_then(DateTime::<Utc>::from_timestamp_millis)
                        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
                    row.insert("timestamp".into(), text.into());
                }
            }
            DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                let counts = cast(column, &DataType::UInt64)?;
                let counts = counts.as_primitive::<UInt64Type>();
                for (row, value) in rows.iter_mut().zip(counts.iter()) {
                    row.insert(name.into(), value.into());
                }
            }
            DataType::Boolean => {
                for (row, value) in rows.iter_mut().zip(column.as_boolean().iter()) {
                    row.insert(name.into(), value.into());
                }
            }
            _ => {
                let text = cast(column, &DataType::Utf8)?;
                let strings = text.as_string::<i32>();
                let key = if name == "event_id" { "id" } else { name };
                for (index, row) in rows.iter_mut().enumerate() {
                    let value = strings.is_valid(index).then(|| strings.value(index).to_string());
                    row.insert(key.into(), value.into());
                }
            }
        }
    }
    Ok(rows.into_iter().map(serde_json::Value::Object).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use freight_core::{Actions, Speed, TokenCounts, Tool, UsageEvent};

    fn event(id: &str, actions: Option<Actions>, turn: u32) -> StoredEvent {
        StoredEvent {
            id: id.into(),
            event: UsageEvent {
                timestamp: DateTime::from_timestamp_millis(1_795_168_800_000).expect("time"),
                tool: Tool::ClaudeCode,
                user: Some("ana@example.com".into()),
                session_id: "s1".into(),
                project: None,
                cwd: None,
                git_branch: None,
                model: Some("claude-sonnet-4-5".into()),
                provider: None,
                message_id: None,
                request_id: Some(id.into()),
                is_sidechain: false,
                speed: Speed::Standard,
                tokens: TokenCounts { input: 5, output: 10, ..TokenCounts::default() },
                reported_cost: None,
            },
            tool_use: actions.is_some_and(Actions::any_tool),
            actions,
            turn,
            team: None,
            department: None,
            cost_center: None,
        }
    }

    /// A file as the store wrote it before the `actions` and `turn` columns.
    fn write_old_file(path: &Path, events: &[&StoredEvent]) {
        let batch = stored_batch(events).expect("batch");
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&index| !matches!(batch.schema().field(index).name().as_str(), "actions" | "turn"))
            .collect();
        let old = batch.project(&keep).expect("project");
        let file = std::fs::File::create(path).expect("create");
        let mut writer = ArrowWriter::try_new(file, old.schema(), None).expect("writer");
        writer.write(&old).expect("write");
        writer.close().expect("close");
    }

    fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
        batch.column_by_name(name).expect("column")
    }

    #[test]
    fn files_without_the_action_columns_read_with_nulls_and_compact_with_new_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old_path = dir.path().join("old.parquet");
        write_old_file(&old_path, &[&event("old", None, 0)]);
        let old = read_file(&old_path, None).expect("reads");
        assert_eq!(old[0].schema(), stored_schema());
        assert_eq!(column(&old[0], "actions").null_count(), 1);
        assert_eq!(column(&old[0], "turn").null_count(), 1);

        let new = event("new", Some(Actions::EDIT | Actions::TEST), 77);
        let written = write_events(dir.path(), &[&new], &mut 0).expect("writes");
        let new_path = dir.path().join(&written[0].path);
        let compacted = compact(dir.path(), "2026-11-20", &[old_path, new_path], 9).expect("compacts");
        let batches = read_file(&dir.path().join(&compacted.path), None).expect("reads");
        let rows: Vec<serde_json::Value> =
            batches.iter().flat_map(|batch| rows_as_json(batch).expect("rows")).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!((&rows[0]["actions"], &rows[0]["turn"]), (&serde_json::Value::Null, &serde_json::Value::Null));
        assert_eq!((rows[1]["actions"].as_u64(), rows[1]["turn"].as_u64()), (Some(5), Some(77)));
    }
}
