//! The analytics engine: a DataFusion session with the `usage` and `model_prices` tables
//! registered and the `priced_usage` view defined over them.

use crate::pricing::{price_tables, priced_usage_sql};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::{SessionConfig, SessionContext};
use freight_core::PriceCatalog;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("query engine: {0}")]
    DataFusion(#[from] DataFusionError),
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("unknown time zone `{0}` (use an IANA name such as `Europe/Berlin` or `UTC`)")]
    TimeZone(String),
    #[error("result column `{0}` is missing or has an unexpected type")]
    Column(&'static str),
    #[error("{path}: {reason}")]
    Dataset { path: std::path::PathBuf, reason: String },
    #[error("a query task failed: {0}")]
    Task(String),
    #[error("writing {path}: {source}")]
    Io { path: std::path::PathBuf, source: std::io::Error },
}

/// A DataFusion session over one usage table and one price catalog.
pub struct Engine {
    pub ctx: SessionContext,
    /// Models in the usage that the catalog has no price for.
    pub unpriced_models: Vec<String>,
    /// Lower bounds of the price bands above the base band (for `priced_groups_sql`).
    pub band_floors: Vec<i64>,
}

impl Engine {
    /// Registers `usage` (split into partitions for the cores) and the catalog's prices.
    pub async fn new(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        catalog: &PriceCatalog,
    ) -> Result<Engine, AnalyticsError> {
        let partitions = partitions();
        let models = distinct_models(&batches)?;
        let mut split: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
        for (index, batch) in batches.into_iter().enumerate() {
            split[index % partitions].push(batch);
        }
        let ctx = session(partitions);
        ctx.register_table("usage", Arc::new(MemTable::try_new(schema, split)?))?;
        Self::with_prices(ctx, catalog, &models).await
    }

    /// Registers `usage` as the Parquet files of a dataset's usage folder (read as they are
    /// queried, never loaded whole). No model is priced yet: reading the models would take a
    /// scan of every call, so the caller prices those its first scan finds (`price`).
    pub async fn over_parquet(usage_dir: &std::path::Path, catalog: &PriceCatalog) -> Result<Engine, AnalyticsError> {
        let ctx = session(partitions());
        let location = format!("{}/", usage_dir.display());
        let options = datafusion::prelude::ParquetReadOptions::default().file_extension(".parquet");
        ctx.register_parquet("usage", &location, options.clone()).await?;
        // Files written before the `actions` and `turn` columns existed lack them. Where some
        // files have them, the inferred schema does and the others read as nulls; where none
        // has, the table is registered again with them added, to read as nulls everywhere.
        let inferred = ctx.table_provider("usage").await?.schema();
        let missing: Vec<Field> = [("actions", DataType::UInt16), ("turn", DataType::UInt32)]
            .into_iter()
            .filter(|(name, _)| inferred.field_with_name(name).is_err())
            .map(|(name, data_type)| Field::new(name, data_type, true))
            .collect();
        if !missing.is_empty() {
            let fields: Vec<FieldRef> =
                inferred.fields().iter().cloned().chain(missing.into_iter().map(Arc::new)).collect();
            let schema = Schema::new_with_metadata(fields, inferred.metadata().clone());
            ctx.deregister_table("usage")?;
            ctx.register_parquet("usage", &location, options.schema(&schema)).await?;
        }
        Self::with_prices(ctx, catalog, &[]).await
    }

    /// Prices `models` (the model names in the usage), replacing the price table.
    pub async fn price(&mut self, catalog: &PriceCatalog, models: &[String]) -> Result<(), AnalyticsError> {
        for name in ["priced_usage", "model_prices"] {
            let _ = self.ctx.deregister_table(name)?;
        }
        let priced = Self::with_prices(self.ctx.clone(), catalog, models).await?;
        (self.unpriced_models, self.band_floors) = (priced.unpriced_models, priced.band_floors);
        Ok(())
    }

    async fn with_prices(
        ctx: SessionContext,
        catalog: &PriceCatalog,
        models: &[String],
    ) -> Result<Engine, AnalyticsError> {
        let tables = price_tables(catalog, models)?;
        let prices = tables.model_prices;
        ctx.register_table("model_prices", Arc::new(MemTable::try_new(prices.schema(), vec![vec![prices]])?))?;
        ctx.sql(&priced_usage_sql()).await?.collect().await?;
        Ok(Engine { ctx, unpriced_models: tables.unpriced_models, band_floors: tables.band_floors })
    }

    /// Runs a query and collects its batches.
    /// With `FREIGHT_TIMINGS=1`, each query's wall time and opening words go to stderr.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>, AnalyticsError> {
        let started = std::time::Instant::now();
        let frame = self.ctx.sql(sql).await?;
        let task = Arc::new(frame.task_ctx());
        let plan = frame.create_physical_plan().await?;
        let planned = std::time::Instant::now();
        let batches = datafusion::physical_plan::collect(plan, task).await?;
        let opening = sql.split_whitespace().take(12).collect::<Vec<_>>().join(" ");
        note_time(&format!("query ({opening}) planned in {:.3} s, run in", (planned - started).as_secs_f64()), planned);
        Ok(batches)
    }
}

/// With `FREIGHT_TIMINGS=1`, prints how long a step took (since `started`) to stderr, and
/// the process's peak resident memory so far where the system tells it.
pub fn note_time(step: &str, started: std::time::Instant) {
    if std::env::var_os("FREIGHT_TIMINGS").is_some_and(|v| v == "1") {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let memory =
            match (status_mib(&status, "VmHWM:"), status_mib(&status, "RssAnon:"), status_mib(&status, "RssFile:")) {
                (Some(peak), Some(anon), Some(file)) => {
                    format!(" (peak RSS {peak} MiB; now {anon} MiB anonymous, {file} MiB mapped files)")
                }
                (Some(peak), ..) => format!(" (peak RSS {peak} MiB)"),
                _ => String::new(),
            };
        eprintln!("freight: {step} {:.2} s{memory}", started.elapsed().as_secs_f64());
    }
}

/// One `kB` field of `/proc/self/status` (Linux), in MiB.
fn status_mib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// One partition per core.
fn partitions() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from).max(1)
}

fn session(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions).with_information_schema(false);
    SessionContext::new_with_config(config)
}

/// The distinct model names in the usage batches (read from the dictionaries, not the rows).
fn distinct_models(batches: &[RecordBatch]) -> Result<Vec<String>, AnalyticsError> {
    let mut models = std::collections::BTreeSet::new();
    for batch in batches {
        let Some(column) = batch.column_by_name("model") else {
            return Err(AnalyticsError::Column("model"));
        };
        let values = match column.data_type() {
            DataType::Dictionary(_, _) => {
                let dictionary = column.as_any_dictionary();
                cast(dictionary.values(), &DataType::Utf8)?
            }
            _ => cast(column, &DataType::Utf8)?,
        };
        let strings = values.as_string::<i32>();
        for index in 0..strings.len() {
            if strings.is_valid(index) {
                models.insert(strings.value(index).to_string());
            }
        }
    }
    Ok(models.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMillisecondArray, UInt32Array, UInt64Array};

    /// A usage file with `calls` calls, with the `actions` and `turn` columns or without.
    fn write_usage(path: &std::path::Path, calls: usize, with_actions: bool) {
        let extra = if with_actions {
            vec![Field::new("actions", DataType::UInt16, true), Field::new("turn", DataType::UInt32, true)]
        } else {
            Vec::new()
        };
        let schema = Arc::new(crate::columns::test_usage_schema(extra));
        let text = |value: &str| -> ArrayRef { Arc::new(StringArray::from(vec![value; calls])) };
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(vec![1_795_168_800_000; calls]).with_timezone("UTC")),
            text("claude-sonnet-4-5-20250929"),
            text("standard"),
            text("p"),
            text("claude-code"),
            text("s"),
        ];
        if with_actions {
            let actions = cast(&(Arc::new(UInt32Array::from(vec![5; calls])) as ArrayRef), &DataType::UInt16);
            columns.push(actions.expect("cast"));
            columns.push(Arc::new(UInt32Array::from(vec![77; calls])));
        }
        columns.extend((0..6).map(|_| Arc::new(UInt64Array::from(vec![10; calls])) as ArrayRef));
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
        crate::dataset::write_parquet(path, schema, &[batch]).expect("write");
    }

    fn actions_and_turns(dir: &std::path::Path) -> Vec<(Option<u16>, Option<u32>)> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(async {
            let engine = Engine::over_parquet(dir, &PriceCatalog::pinned().expect("catalog")).await.expect("engine");
            let batches =
                engine.query("SELECT actions, turn FROM usage ORDER BY turn NULLS FIRST").await.expect("query");
            let mut rows = Vec::new();
            for batch in batches {
                let actions = cast(batch.column(0), &DataType::UInt16).expect("cast");
                let turns = cast(batch.column(1), &DataType::UInt32).expect("cast");
                let actions = actions.as_primitive::<datafusion::arrow::datatypes::UInt16Type>();
                let turns = turns.as_primitive::<datafusion::arrow::datatypes::UInt32Type>();
                rows.extend(actions.iter().zip(turns.iter()));
            }
            rows
        })
    }

    #[test]
    fn usage_files_from_before_the_action_columns_read_with_nulls() {
        let dir = std::env::temp_dir().join(format!("freight-engine-old-usage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        write_usage(&dir.join("part-0.parquet"), 2, false);
        let old_only = actions_and_turns(&dir);
        write_usage(&dir.join("part-1.parquet"), 1, true);
        let mixed = actions_and_turns(&dir);
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(old_only, [(None, None), (None, None)]);
        assert_eq!(mixed, [(None, None), (None, None), (Some(5), Some(77))]);
    }
}
