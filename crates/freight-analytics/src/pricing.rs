//! The price catalog as tables, so cost is derived in SQL: `model_prices` holds one row per
//! (model name as written, price band) for the models present in the usage, with the model's
//! fast and priority multiples. `PRICED_USAGE_SQL` joins it to `usage`.

use datafusion::arrow::array::{ArrayRef, Decimal128Builder, Int64Builder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use freight_core::{PriceCatalog, Rates, Speed};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Scale of per-token rates in the price table: 18 decimal places holds every LiteLLM rate.
pub const RATE_SCALE: i8 = 18;

/// The priced view: every call with its cost (NULL when the model has no price) and the
/// catalog key its price came from.
pub const PRICED_USAGE_SQL: &str = "
CREATE VIEW priced_usage AS
SELECT u.*,
       p.price_key,
       CASE WHEN p.model IS NULL THEN NULL ELSE
         (u.input_tokens * p.input
          + u.cache_read_tokens * p.cache_read
          + u.cache_write_5m_tokens * p.cache_write_5m
          + u.cache_write_1h_tokens * p.cache_write_1h
          + CASE WHEN p.reasoning IS NULL THEN u.output_tokens * p.output
                 ELSE (u.output_tokens - u.reasoning_tokens) * p.output + u.reasoning_tokens * p.reasoning END
         ) * CASE CAST(u.speed AS VARCHAR)
               WHEN 'fast' THEN p.fast_multiplier
               WHEN 'priority' THEN p.priority_multiplier
               ELSE CAST(1 AS DECIMAL(10, 4)) END
       END AS cost
FROM usage u
LEFT JOIN model_prices p
  ON CAST(u.model AS VARCHAR) = p.model
 AND CAST(u.input_tokens + u.cache_read_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens AS BIGINT) > p.prompt_floor
 AND (p.prompt_ceiling IS NULL
      OR CAST(u.input_tokens + u.cache_read_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens AS BIGINT) <= p.prompt_ceiling)
";

fn rate_type() -> DataType {
    DataType::Decimal128(38, RATE_SCALE)
}

/// Scale of the speed multiples (×2.5 and the like).
const MULTIPLIER_SCALE: i8 = 4;

fn multiplier_type() -> DataType {
    DataType::Decimal128(10, MULTIPLIER_SCALE)
}

/// The value's integer mantissa at `scale`, or None when it does not fit.
fn mantissa(value: Decimal, scale: i8) -> Option<i128> {
    let mut value = value;
    value.rescale(scale as u32);
    (value.scale() == scale as u32).then(|| value.mantissa())
}

/// Models named in the usage, split into those the catalog prices and those it does not.
pub struct PriceTables {
    pub model_prices: RecordBatch,
    /// Models with no price: their calls get a NULL cost and are reported as such.
    pub unpriced_models: Vec<String>,
}

/// Builds the price tables for the distinct model names in `models`.
pub fn price_tables(catalog: &PriceCatalog, models: &[String]) -> Result<PriceTables, ArrowError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("model", DataType::Utf8, false),
        Field::new("price_key", DataType::Utf8, false),
        Field::new("prompt_floor", DataType::Int64, false),
        Field::new("prompt_ceiling", DataType::Int64, true),
        Field::new("input", rate_type(), false),
        Field::new("output", rate_type(), false),
        Field::new("cache_read", rate_type(), false),
        Field::new("cache_write_5m", rate_type(), false),
        Field::new("cache_write_1h", rate_type(), false),
        Field::new("reasoning", rate_type(), true),
        Field::new("fast_multiplier", multiplier_type(), false),
        Field::new("priority_multiplier", multiplier_type(), false),
    ]));
    let mut model = StringBuilder::new();
    let mut key = StringBuilder::new();
    let mut floor = Int64Builder::new();
    let mut ceiling = Int64Builder::new();
    let mut rates: [Decimal128Builder; 6] = std::array::from_fn(|_| Decimal128Builder::new());
    let mut multipliers: [Decimal128Builder; 2] = std::array::from_fn(|_| Decimal128Builder::new());
    let mut unpriced_models = Vec::new();
    for name in models {
        let Some(price) = catalog.resolve(name) else {
            unpriced_models.push(name.clone());
            continue;
        };
        let mut bands: Vec<(i64, Option<i64>, &Rates)> = Vec::new();
        let thresholds: Vec<i64> = price.tiers.iter().map(|tier| tier.above_prompt_tokens as i64).collect();
        bands.push((-1, thresholds.first().copied(), &price.base));
        for (index, tier) in price.tiers.iter().enumerate() {
            bands.push((thresholds[index], thresholds.get(index + 1).copied(), &tier.rates));
        }
        for (band_floor, band_ceiling, band) in bands {
            model.append_value(name);
            key.append_value(&price.key);
            floor.append_value(band_floor);
            ceiling.append_option(band_ceiling);
            let values = [
                Some(band.input),
                Some(band.output),
                Some(band.cache_read),
                Some(band.cache_write_5m),
                Some(band.cache_write_1h),
                band.reasoning,
            ];
            for (builder, value) in rates.iter_mut().zip(values) {
                builder.append_option(value.and_then(|rate| mantissa(rate, RATE_SCALE)));
            }
            for (builder, speed) in multipliers.iter_mut().zip([Speed::Fast, Speed::Priority]) {
                builder.append_option(mantissa(price.speed_multiplier(speed), MULTIPLIER_SCALE));
            }
        }
    }
    let mut columns: Vec<ArrayRef> =
        vec![Arc::new(model.finish()), Arc::new(key.finish()), Arc::new(floor.finish()), Arc::new(ceiling.finish())];
    for mut builder in rates {
        columns.push(Arc::new(builder.finish().with_precision_and_scale(38, RATE_SCALE)?));
    }
    for mut builder in multipliers {
        columns.push(Arc::new(builder.finish().with_precision_and_scale(10, MULTIPLIER_SCALE)?));
    }
    let model_prices = RecordBatch::try_new(schema, columns)?;
    Ok(PriceTables { model_prices, unpriced_models })
}
