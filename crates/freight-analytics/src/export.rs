//! Exports of any report as a table: one of the report's JSON row lists, flattened (nested
//! objects become `a.b` columns, lists become JSON text) and written as CSV or Parquet with
//! Arrow's own writers. The same code serves `--csv`/`--parquet` and the API's `format=`.

use crate::engine::AnalyticsError;
use datafusion::arrow::array::{RecordBatch, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde_json::{Map, Value};
use std::sync::Arc;

/// A report's tables by name: where each sits in the report's JSON.
pub const TABLES: [(&str, &str); 14] = [
    ("trend", "spend beside output, week by week"),
    ("rows", "the pillar rows, the total first"),
    ("outcomes", "the outcomes of each row, the total first"),
    ("leaderboard", "teams by outcomes per dollar"),
    ("waste", "wasted spend as line items"),
    ("links", "every session-to-outcome link with its evidence"),
    ("unit", "unit economics of each row, the total first"),
    ("optimizable", "the optimizable savings, item by item"),
    ("classes", "each task class's outcome rate on each tier, and the routing it supports"),
    ("behaviours", "each team's habits (each person's with --by person), everyone first"),
    ("flags", "tokenmaxxing flags with their evidence"),
    ("periods", "usage by day, week or month"),
    ("sessions", "usage by session"),
    ("blocks", "usage by 5-hour block"),
];

/// The rows of table `name` of a report's JSON, or None when the report has no such table.
pub fn table(report: &Value, name: &str) -> Option<Vec<Value>> {
    let list = |key: &str| report.get(key).and_then(Value::as_array).cloned();
    let keyed = |pick: &dyn Fn(&Value) -> Value| -> Option<Vec<Value>> {
        let total = report.get("total")?;
        let rows = report.get("rows")?.as_array()?;
        Some(std::iter::once(total).chain(rows).map(pick).collect())
    };
    match name {
        "rows" => keyed(&|row| row.clone()),
        "unit" => keyed(&|row| only(row, "unit")),
        "outcomes" => keyed(&|row| only(row, "output")),
        "leaderboard" | "waste" | "trend" | "periods" | "sessions" | "blocks" => list(name),
        "links" => list("session_links"),
        "optimizable" => report.get("optimizable").and_then(|o| o.get("items")).and_then(Value::as_array).cloned(),
        "classes" => report.get("optimizable").and_then(|o| o.get("classes")).and_then(Value::as_array).cloned(),
        "flags" => list("flags"),
        "behaviours" => {
            let behaviours = report.get("behaviours")?;
            let people = behaviours.get("by_person").and_then(Value::as_array).filter(|people| !people.is_empty());
            let rows = people.or(behaviours.get("by_team").and_then(Value::as_array))?;
            Some(std::iter::once(behaviours.get("total")?).chain(rows).cloned().collect())
        }
        _ => None,
    }
}

/// A row's key with the fields of one of its parts.
fn only(row: &Value, part: &str) -> Value {
    let mut out = Map::new();
    out.insert("key".into(), row["key"].clone());
    if let Some(fields) = row.get(part).and_then(Value::as_object) {
        out.extend(fields.clone());
    }
    Value::Object(out)
}

/// One row as flat columns: nested objects joined with `.`, lists as their JSON text.
fn flatten_into(prefix: &str, value: &Value, out: &mut Map<String, Value>) {
    match value {
        Value::Object(fields) => {
            for (key, value) in fields {
                let name = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten_into(&name, value, out);
            }
        }
        Value::Array(_) => {
            out.insert(prefix.to_string(), Value::String(value.to_string()));
        }
        scalar => {
            out.insert(prefix.to_string(), scalar.clone());
        }
    }
}

pub fn flatten(row: &Value) -> Value {
    let mut out = Map::new();
    match row {
        Value::Object(_) => flatten_into("", row, &mut out),
        scalar => {
            out.insert("value".into(), scalar.clone());
        }
    }
    Value::Object(out)
}

/// Columns that name a row come first; the rest follow in name order.
const LEADING: [&str; 7] = ["key", "rank", "team", "period", "date", "session", "session_id"];

/// The rows as one Arrow batch. Numbers are Int64 or Float64; money stays decimal text,
/// exactly as the JSON has it.
pub fn batch(rows: &[Value]) -> Result<RecordBatch, AnalyticsError> {
    let flat: Vec<Value> = rows.iter().map(flatten).collect();
    let mut order: Vec<String> =
        flat.iter().flat_map(|row| row.as_object().into_iter().flat_map(Map::keys)).cloned().collect();
    order.sort_by_key(|name| (LEADING.iter().position(|lead| lead == name).unwrap_or(LEADING.len()), name.clone()));
    order.dedup();
    let inferred = datafusion::arrow::json::reader::infer_json_schema_from_iterator(flat.iter().map(Ok))?;
    // Columns that are null on every row have no type to infer; they are text.
    let fields: Vec<Field> = order
        .iter()
        .map(|name| {
            let data_type = inferred.field_with_name(name).map(|f| f.data_type().clone()).unwrap_or(DataType::Utf8);
            let data_type = if data_type == DataType::Null { DataType::Utf8 } else { data_type };
            Field::new(name, data_type, true)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    if flat.is_empty() {
        let columns = schema.fields().iter().map(|f| new_null_array(f.data_type(), 0)).collect();
        let options = datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(0));
        return Ok(RecordBatch::try_new_with_options(schema, columns, &options)?);
    }
    let mut decoder = datafusion::arrow::json::ReaderBuilder::new(schema.clone()).build_decoder()?;
    decoder.serialize(&flat)?;
    Ok(decoder.flush()?.unwrap_or_else(|| RecordBatch::new_empty(schema)))
}

/// The rows as CSV with a header line.
pub fn csv(rows: &[Value]) -> Result<Vec<u8>, AnalyticsError> {
    let batch = batch(rows)?;
    let mut out = Vec::new();
    {
        let mut writer = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(&mut out);
        writer.write(&batch)?;
    }
    Ok(out)
}

/// The rows as one Parquet file.
pub fn parquet(rows: &[Value]) -> Result<Vec<u8>, AnalyticsError> {
    let batch = batch(rows)?;
    let mut out = Vec::new();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None)
        .map_err(|error| AnalyticsError::Task(error.to_string()))?;
    writer.write(&batch).map_err(|error| AnalyticsError::Task(error.to_string()))?;
    writer.close().map_err(|error| AnalyticsError::Task(error.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_rows_become_flat_columns_in_csv_and_parquet() {
        let rows = vec![
            json!({"key": "total", "cost": "12.50", "tokens": {"input": 10, "output": 2}, "sessions": ["a", "b"], "rate": 0.5}),
            json!({"key": "payments", "cost": "2.5", "tokens": {"input": 4, "output": 1}, "sessions": [], "rate": null}),
        ];
        let text = String::from_utf8(csv(&rows).expect("csv")).expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("key,cost,rate,sessions,tokens.input,tokens.output"));
        assert_eq!(lines.next(), Some(r#"total,12.50,0.5,"[""a"",""b""]",10,2"#));
        assert_eq!(lines.next(), Some("payments,2.5,,[],4,1"));

        let bytes = parquet(&rows).expect("parquet");
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(bytes),
        )
        .expect("reads")
        .build()
        .expect("reader");
        let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("batches");
        assert_eq!(batches[0].num_rows(), 2);
        assert_eq!(batches[0].schema().field_with_name("tokens.input").expect("column").data_type(), &DataType::Int64);
        assert_eq!(batch(&[]).expect("empty").num_rows(), 0);
    }

    #[test]
    fn a_report_names_its_tables() {
        let report = json!({"total": {"key": "total", "unit": {"cost_per_merged_pr": "3"}}, "rows": [{"key": "a", "unit": {}}], "session_links": [{"session": "s"}]});
        assert_eq!(table(&report, "rows").expect("rows").len(), 2);
        assert_eq!(table(&report, "unit").expect("unit")[0], json!({"key": "total", "cost_per_merged_pr": "3"}));
        assert_eq!(table(&report, "links").expect("links").len(), 1);
        assert!(table(&report, "blocks").is_none());
    }
}
