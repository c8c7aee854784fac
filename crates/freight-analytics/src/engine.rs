//! The analytics engine: a DataFusion session with the `usage` and `model_prices` tables
//! registered and the `priced_usage` view defined over them.

use crate::pricing::{price_tables, priced_usage_sql};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
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
        ctx.register_parquet("usage", &location, options).await?;
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
        let batches = self.ctx.sql(sql).await?.collect().await?;
        note_time(&format!("query ({})", sql.split_whitespace().take(12).collect::<Vec<_>>().join(" ")), started);
        Ok(batches)
    }
}

/// With `FREIGHT_TIMINGS=1`, prints how long a step took (since `started`) to stderr.
pub fn note_time(step: &str, started: std::time::Instant) {
    if std::env::var_os("FREIGHT_TIMINGS").is_some_and(|v| v == "1") {
        eprintln!("freight: {step} {:.2} s", started.elapsed().as_secs_f64());
    }
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
