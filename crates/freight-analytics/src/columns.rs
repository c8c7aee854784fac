//! Reading typed values out of query results, whatever physical string or integer type the
//! engine chose (dictionary, view or plain strings; signed or unsigned sums).

use crate::engine::AnalyticsError;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, TimeUnit, TimestampMillisecondType, UInt64Type};
use freight_core::TokenCounts;
use rust_decimal::Decimal;

pub(crate) fn column(batch: &RecordBatch, name: &'static str) -> Result<ArrayRef, AnalyticsError> {
    batch.column_by_name(name).cloned().ok_or(AnalyticsError::Column(name))
}

/// A string column as owned optional strings.
pub fn strings(batch: &RecordBatch, name: &'static str) -> Result<Vec<Option<String>>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::Utf8)?;
    let strings = array.as_string::<i32>();
    Ok((0..strings.len()).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect())
}

/// An integer column (any integer type) as u64; NULL reads as 0.
pub fn counts(batch: &RecordBatch, name: &'static str) -> Result<Vec<u64>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::UInt64)?;
    let values = array.as_primitive::<UInt64Type>();
    Ok((0..values.len()).map(|i| if values.is_valid(i) { values.value(i) } else { 0 }).collect())
}

/// The token columns `input`, `output`, `cache_read`, `cache_write_5m`, `cache_write_1h` and
/// `reasoning` of a result, row by row.
pub fn tokens(batch: &RecordBatch) -> Result<Vec<TokenCounts>, AnalyticsError> {
    let input = counts(batch, "input")?;
    let output = counts(batch, "output")?;
    let cache_read = counts(batch, "cache_read")?;
    let cache_write_5m = counts(batch, "cache_write_5m")?;
    let cache_write_1h = counts(batch, "cache_write_1h")?;
    let reasoning = counts(batch, "reasoning")?;
    let columns = [&input[..], &output, &cache_read, &cache_write_5m, &cache_write_1h, &reasoning];
    Ok((0..batch.num_rows()).map(|row| token_row(columns, row)).collect())
}

/// Row `row` of six token columns, in `TokenCounts` order (input, output, cache read, cache
/// write 5m, cache write 1h, reasoning).
#[inline]
pub fn token_row(columns: [&[u64]; 6], row: usize) -> TokenCounts {
    TokenCounts {
        input: columns[0][row],
        output: columns[1][row],
        cache_read: columns[2][row],
        cache_write_5m: columns[3][row],
        cache_write_1h: columns[4][row],
        reasoning: columns[5][row],
    }
}

/// A usage table's schema for tables built in tests: time, model, speed, project, tool and
/// session (plain strings), then `extra`, then the six token counts.
#[cfg(test)]
pub fn test_usage_schema(extra: Vec<datafusion::arrow::datatypes::Field>) -> datafusion::arrow::datatypes::Schema {
    use datafusion::arrow::datatypes::{Field, TimeUnit};
    let mut fields = vec![
        Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new("model", DataType::Utf8, true),
        Field::new("speed", DataType::Utf8, false),
        Field::new("project", DataType::Utf8, true),
        Field::new("tool", DataType::Utf8, false),
        Field::new("session_id", DataType::Utf8, false),
    ];
    fields.extend(extra);
    fields.extend(token_fields());
    datafusion::arrow::datatypes::Schema::new(fields)
}

/// The usage table's six token count fields (for tables built in tests).
#[cfg(test)]
pub fn token_fields() -> Vec<datafusion::arrow::datatypes::Field> {
    ["input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning"]
        .map(|kind| datafusion::arrow::datatypes::Field::new(format!("{kind}_tokens"), DataType::UInt64, false))
        .into()
}

/// A timestamp column as milliseconds since the epoch.
pub fn millis(batch: &RecordBatch, name: &'static str) -> Result<Vec<Option<i64>>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
    let values = array.as_primitive::<TimestampMillisecondType>();
    Ok((0..values.len()).map(|i| values.is_valid(i).then(|| values.value(i))).collect())
}

/// A decimal column as exact decimals; NULL reads as `None`.
pub fn decimals(batch: &RecordBatch, name: &'static str) -> Result<Vec<Option<Decimal>>, AnalyticsError> {
    let array = column(batch, name)?;
    let DataType::Decimal128(_, scale) = *array.data_type() else {
        return Err(AnalyticsError::Column(name));
    };
    let values = array.as_primitive::<Decimal128Type>();
    Ok((0..values.len()).map(|i| values.is_valid(i).then(|| decimal(values.value(i), scale))).collect())
}

/// A Decimal128 value (`mantissa` at `scale` places) as a decimal.
pub fn decimal(mantissa: i128, scale: i8) -> Decimal {
    Decimal::try_from_i128_with_scale(mantissa, scale.max(0) as u32)
        .or_else(|_| {
            // Beyond 28 digits of scale: drop the excess digits first.
            let excess = (scale as u32).saturating_sub(28);
            Decimal::try_from_i128_with_scale(mantissa / 10i128.pow(excess), 28)
        })
        .unwrap_or_default()
}

/// An integer column (any integer type) as optional u64s.
pub fn optional_counts(batch: &RecordBatch, name: &'static str) -> Result<Vec<Option<u64>>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::UInt64)?;
    let values = array.as_primitive::<UInt64Type>();
    Ok((0..values.len()).map(|i| values.is_valid(i).then(|| values.value(i))).collect())
}

/// A numeric column as f64; NULL reads as `None`.
pub fn floats(batch: &RecordBatch, name: &'static str) -> Result<Vec<Option<f64>>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::Float64)?;
    let values = array.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
    Ok((0..values.len()).map(|i| values.is_valid(i).then(|| values.value(i))).collect())
}

/// A boolean column; NULL reads as false.
pub fn bools(batch: &RecordBatch, name: &'static str) -> Result<Vec<bool>, AnalyticsError> {
    let array = cast(&column(batch, name)?, &DataType::Boolean)?;
    let values = array.as_boolean();
    Ok((0..values.len()).map(|i| values.is_valid(i) && values.value(i)).collect())
}
