//! The `usage` table: collected calls as Arrow record batches, one row per call.
//!
//! Low-cardinality strings are dictionary-encoded; token counts are raw `UInt64`s by kind.
//! Cost is not a column: analytics derives it from the tokens and the price table. What a
//! call's tool calls did is kept as `actions` bits and a `turn` fingerprint, never as text.

use crate::collect::{Collected, Detail, IngestError, IngestReport, Row};
use crate::intern::{Interner, NONE, StringId};
use crate::merge::Ids;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Int32Array, StringArray, TimestampMillisecondArray,
    UInt16Array, UInt32Array, UInt64Array, new_null_array,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use freight_core::{Actions, Speed, TokenCounts, Tool};
use rayon::prelude::*;
use std::sync::{Arc, LazyLock};

/// Scale of the `reported_cost` column (USD).
pub const REPORTED_COST_SCALE: i8 = 10;

/// The token columns of the `usage` table, in `TokenCounts::KINDS` order.
pub const TOKEN_COLUMNS: [&str; 6] = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
];

fn dictionary() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new("tool", dictionary(), false),
        Field::new("user", dictionary(), true),
        Field::new("project", dictionary(), true),
        Field::new("session_id", dictionary(), false),
        Field::new("cwd", dictionary(), true),
        Field::new("git_branch", dictionary(), true),
        Field::new("model", dictionary(), true),
        Field::new("speed", dictionary(), false),
        Field::new("is_sidechain", DataType::Boolean, false),
        Field::new("tool_use", DataType::Boolean, false),
        // `freight_core::Actions` bits; null where the source does not say (OTLP events).
        Field::new("actions", DataType::UInt16, true),
        // Always written (0: no tool call), but nullable so that files written before the
        // column existed read with nulls in it.
        Field::new("turn", DataType::UInt32, true),
        Field::new("message_id", DataType::Utf8, true),
        Field::new("request_id", DataType::Utf8, true),
        Field::new(TOKEN_COLUMNS[0], DataType::UInt64, false),
        Field::new(TOKEN_COLUMNS[1], DataType::UInt64, false),
        Field::new(TOKEN_COLUMNS[2], DataType::UInt64, false),
        Field::new(TOKEN_COLUMNS[3], DataType::UInt64, false),
        Field::new(TOKEN_COLUMNS[4], DataType::UInt64, false),
        Field::new(TOKEN_COLUMNS[5], DataType::UInt64, false),
        Field::new("reported_cost", DataType::Decimal128(38, REPORTED_COST_SCALE), true),
    ]))
});

/// The schema of the `usage` table.
pub fn usage_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Calls as Arrow batches, with what the ingest read and skipped.
#[derive(Debug, Clone)]
pub struct UsageTable {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub report: IngestReport,
}

impl UsageTable {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A float dollar amount as a Decimal128 mantissa at `scale`, rounded half away from zero.
fn to_decimal128(value: f64, scale: i8) -> Option<i128> {
    let scaled = value * 10f64.powi(i32::from(scale));
    (scaled.is_finite() && scaled.abs() < 1e37).then(|| scaled.round() as i128)
}

/// A column's distinct strings as the values array of a dictionary (id order).
fn dictionary_values(strings: impl IntoIterator<Item = impl AsRef<str>>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(strings))
}

/// A dictionary column over shared `values`, keyed by `ids` (`NONE` is null).
fn dictionary_column(ids: impl Iterator<Item = StringId>, values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    let keys: Int32Array = ids.map(|id| if id == NONE { None } else { i32::try_from(id).ok() }).collect();
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values.clone())?))
}

/// Turns collected rows into the `usage` table. Every batch's dictionary columns share one
/// values array per column (the collection's distinct strings), so no string is copied per row.
pub fn into_table(collected: Collected) -> Result<UsageTable, IngestError> {
    let Collected { detail, files, rows, ids, strings, report } = collected;
    // Usage detail leaves the id columns null: the ids' memory is free for the batches.
    let ids = match detail {
        Detail::Full => Some(ids),
        Detail::Usage => None,
    };
    let tools = dictionary_values(Tool::ALL.map(Tool::as_str));
    let speeds = dictionary_values(Speed::ALL.map(Speed::as_str));
    let models = dictionary_values(strings.models.strings());
    let cwds = dictionary_values(strings.cwds.strings());
    let branches = dictionary_values(strings.branches.strings());
    // Project and session come from the file's path.
    let (mut projects, mut sessions) = (Interner::default(), Interner::default());
    let file_project: Vec<StringId> =
        files.iter().map(|file| projects.intern_option(file.project.as_deref())).collect();
    let file_session: Vec<StringId> = files.iter().map(|file| sessions.intern(&file.session)).collect();
    let mut users = Interner::default();
    let file_user: Vec<StringId> = files.iter().map(|file| users.intern_option(file.user.as_deref())).collect();
    let (projects, sessions) = (dictionary_values(projects.strings()), dictionary_values(sessions.strings()));
    let users = dictionary_values(users.strings());
    let tool_id = |tool: Tool| Tool::ALL.iter().position(|known| *known == tool).unwrap_or(0) as StringId;
    let speed_id = |speed: Speed| Speed::ALL.iter().position(|known| *known == speed).unwrap_or(0) as StringId;

    // Each chunk of rows is dropped once its batch is built, so rows and batches are not
    // both whole in memory.
    let batches = rows
        .into_chunks()
        .into_par_iter()
        .map(|chunk| {
            let file = |row: &Row| row.file as usize;
            let counts = |count: fn(&TokenCounts) -> u64| -> ArrayRef {
                Arc::new(UInt64Array::from_iter_values(chunk.iter().map(|row| count(&row.tokens))))
            };
            let mut columns: Vec<ArrayRef> = vec![
                Arc::new(
                    TimestampMillisecondArray::from_iter_values(chunk.iter().map(|row| row.ts_ms)).with_timezone("UTC"),
                ),
                dictionary_column(chunk.iter().map(|row| tool_id(files[file(row)].tool)), &tools)?,
                dictionary_column(chunk.iter().map(|row| file_user[file(row)]), &users)?,
                dictionary_column(chunk.iter().map(|row| file_project[file(row)]), &projects)?,
                dictionary_column(chunk.iter().map(|row| file_session[file(row)]), &sessions)?,
                dictionary_column(chunk.iter().map(|row| row.cwd), &cwds)?,
                dictionary_column(chunk.iter().map(|row| row.branch), &branches)?,
                dictionary_column(chunk.iter().map(|row| row.model), &models)?,
                dictionary_column(chunk.iter().map(|row| speed_id(row.speed)), &speeds)?,
                Arc::new(BooleanArray::from_iter(chunk.iter().map(|row| Some(row.is_sidechain)))),
                Arc::new(BooleanArray::from_iter(chunk.iter().map(|row| Some(row.tool_use)))),
                Arc::new(UInt16Array::from_iter_values(chunk.iter().map(|row| row.actions.0))),
                Arc::new(UInt32Array::from_iter_values(chunk.iter().map(|row| row.turn))),
            ];
            let id_columns: [fn(Ids<'_>) -> Option<&str>; 2] = [|ids| ids.message, |ids| ids.request];
            for id in id_columns {
                columns.push(match &ids {
                    Some(ids) => Arc::new(StringArray::from_iter(chunk.iter().map(|row| id(ids.get(row.ids))))),
                    None => new_null_array(&DataType::Utf8, chunk.len()),
                });
            }
            columns.extend(TokenCounts::KINDS.map(counts));
            columns.push(Arc::new(
                chunk
                    .iter()
                    .map(|row| row.reported_cost.and_then(|cost| to_decimal128(cost, REPORTED_COST_SCALE)))
                    .collect::<Decimal128Array>()
                    .with_precision_and_scale(38, REPORTED_COST_SCALE)?,
            ));
            Ok(RecordBatch::try_new(usage_schema(), columns)?)
        })
        .collect::<Result<Vec<RecordBatch>, IngestError>>()?;
    Ok(UsageTable { schema: usage_schema(), batches, report })
}

/// One call as the `usage` table holds it, from a source that delivers whole events (OTLP).
pub struct EventRow<'a> {
    pub event: &'a freight_core::UsageEvent,
    /// The call's response used a tool (Claude Code logs tell; OTLP events do not).
    pub tool_use: bool,
    /// What the call's tool calls did; `None` when the source does not say.
    pub actions: Option<Actions>,
    /// The fingerprint of the call's tool calls (0: none, or not known).
    pub turn: u32,
}

/// Whole events as one `usage` batch, with dictionaries of this batch's own strings.
pub fn events_batch(rows: &[EventRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let tools = dictionary_values(Tool::ALL.map(Tool::as_str));
    let speeds = dictionary_values(Speed::ALL.map(Speed::as_str));
    let tool_id = |tool: Tool| Tool::ALL.iter().position(|known| *known == tool).unwrap_or(0) as StringId;
    let speed_id = |speed: Speed| Speed::ALL.iter().position(|known| *known == speed).unwrap_or(0) as StringId;
    let interned = |text: fn(&freight_core::UsageEvent) -> Option<&str>| -> Result<ArrayRef, ArrowError> {
        let mut strings = Interner::default();
        let ids: Vec<StringId> = rows.iter().map(|row| strings.intern_option(text(row.event))).collect();
        dictionary_column(ids.into_iter(), &dictionary_values(strings.strings()))
    };
    let counts = |count: fn(&TokenCounts) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|row| count(&row.event.tokens))))
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(
            TimestampMillisecondArray::from_iter_values(rows.iter().map(|row| row.event.timestamp.timestamp_millis()))
                .with_timezone("UTC"),
        ),
        dictionary_column(rows.iter().map(|row| tool_id(row.event.tool)), &tools)?,
        interned(|event| event.user.as_deref())?,
        interned(|event| event.project.as_deref())?,
        interned(|event| Some(event.session_id.as_str()))?,
        interned(|event| event.cwd.as_deref())?,
        interned(|event| event.git_branch.as_deref())?,
        interned(|event| event.model.as_deref())?,
        dictionary_column(rows.iter().map(|row| speed_id(row.event.speed)), &speeds)?,
        Arc::new(BooleanArray::from_iter(rows.iter().map(|row| Some(row.event.is_sidechain)))),
        Arc::new(BooleanArray::from_iter(rows.iter().map(|row| Some(row.tool_use)))),
        Arc::new(UInt16Array::from_iter(rows.iter().map(|row| row.actions.map(|actions| actions.0)))),
        Arc::new(UInt32Array::from_iter_values(rows.iter().map(|row| row.turn))),
        Arc::new(StringArray::from_iter(rows.iter().map(|row| row.event.message_id.as_deref()))),
        Arc::new(StringArray::from_iter(rows.iter().map(|row| row.event.request_id.as_deref()))),
    ];
    columns.extend(TokenCounts::KINDS.map(counts));
    columns.push(Arc::new(
        rows.iter()
            .map(|row| {
                row.event
                    .reported_cost
                    .and_then(|cost| freight_core::money::mantissa_at(cost, REPORTED_COST_SCALE.unsigned_abs().into()))
            })
            .collect::<Decimal128Array>()
            .with_precision_and_scale(38, REPORTED_COST_SCALE)?,
    ));
    RecordBatch::try_new(usage_schema(), columns)
}
