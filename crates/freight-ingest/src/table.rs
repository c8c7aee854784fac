//! The `usage` table: collected calls as Arrow record batches, one row per call.
//!
//! Low-cardinality strings are dictionary-encoded; token counts are raw `UInt64`s by kind.
//! Cost is not a column: analytics derives it from the tokens and the price table.

use crate::collect::{Collected, IngestError, IngestReport};
use crate::intern::{Interner, NONE, StringId};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, StringBuilder, StringDictionaryBuilder, TimestampMillisecondBuilder,
    UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use std::sync::{Arc, LazyLock};

/// Rows per record batch.
const BATCH_ROWS: usize = 64 * 1024;

/// Scale of the `reported_cost` column (USD).
pub const REPORTED_COST_SCALE: i8 = 10;

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
        Field::new("message_id", DataType::Utf8, true),
        Field::new("request_id", DataType::Utf8, true),
        Field::new("input_tokens", DataType::UInt64, false),
        Field::new("output_tokens", DataType::UInt64, false),
        Field::new("cache_read_tokens", DataType::UInt64, false),
        Field::new("cache_write_5m_tokens", DataType::UInt64, false),
        Field::new("cache_write_1h_tokens", DataType::UInt64, false),
        Field::new("reasoning_tokens", DataType::UInt64, false),
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

fn push_interned(builder: &mut StringDictionaryBuilder<Int32Type>, strings: &Interner, id: StringId) {
    match (id != NONE).then(|| strings.get(id)).flatten() {
        Some(text) => builder.append_value(text),
        None => builder.append_null(),
    }
}

/// Turns collected rows into the `usage` table.
pub fn into_table(collected: Collected) -> Result<UsageTable, IngestError> {
    let Collected { files, rows, strings, report } = collected;
    let mut batches = Vec::with_capacity(rows.len().div_ceil(BATCH_ROWS));
    for chunk in rows.chunks(BATCH_ROWS) {
        let n = chunk.len();
        let mut ts = TimestampMillisecondBuilder::with_capacity(n).with_timezone("UTC");
        let mut tool = StringDictionaryBuilder::<Int32Type>::new();
        let mut user = StringDictionaryBuilder::<Int32Type>::new();
        let mut project = StringDictionaryBuilder::<Int32Type>::new();
        let mut session = StringDictionaryBuilder::<Int32Type>::new();
        let mut cwd = StringDictionaryBuilder::<Int32Type>::new();
        let mut branch = StringDictionaryBuilder::<Int32Type>::new();
        let mut model = StringDictionaryBuilder::<Int32Type>::new();
        let mut speed = StringDictionaryBuilder::<Int32Type>::new();
        let mut sidechain = BooleanBuilder::with_capacity(n);
        let mut message_id = StringBuilder::new();
        let mut request_id = StringBuilder::new();
        let mut tokens: [UInt64Builder; 6] = std::array::from_fn(|_| UInt64Builder::with_capacity(n));
        let mut reported = Decimal128Builder::with_capacity(n);
        for row in chunk {
            let file = &files[row.file as usize];
            ts.append_value(row.ts_ms);
            tool.append_value(file.tool.as_str());
            user.append_null();
            match &file.project {
                Some(name) => project.append_value(name),
                None => project.append_null(),
            }
            session.append_value(&file.session);
            push_interned(&mut cwd, &strings, row.cwd);
            push_interned(&mut branch, &strings, row.branch);
            push_interned(&mut model, &strings, row.model);
            speed.append_value(row.speed.as_str());
            sidechain.append_value(row.is_sidechain);
            message_id.append_option(row.message_id.as_deref());
            request_id.append_option(row.request_id.as_deref());
            let counts = [
                row.tokens.input,
                row.tokens.output,
                row.tokens.cache_read,
                row.tokens.cache_write_5m,
                row.tokens.cache_write_1h,
                row.tokens.reasoning,
            ];
            for (builder, count) in tokens.iter_mut().zip(counts) {
                builder.append_value(count);
            }
            reported.append_option(row.reported_cost.and_then(|cost| to_decimal128(cost, REPORTED_COST_SCALE)));
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(ts.finish()),
            Arc::new(tool.finish()),
            Arc::new(user.finish()),
            Arc::new(project.finish()),
            Arc::new(session.finish()),
            Arc::new(cwd.finish()),
            Arc::new(branch.finish()),
            Arc::new(model.finish()),
            Arc::new(speed.finish()),
            Arc::new(sidechain.finish()),
            Arc::new(message_id.finish()),
            Arc::new(request_id.finish()),
        ];
        columns.extend(tokens.iter_mut().map(|builder| Arc::new(builder.finish()) as ArrayRef));
        columns.push(Arc::new(reported.finish().with_precision_and_scale(38, REPORTED_COST_SCALE)?));
        batches.push(RecordBatch::try_new(usage_schema(), columns)?);
    }
    Ok(UsageTable { schema: usage_schema(), batches, report })
}
