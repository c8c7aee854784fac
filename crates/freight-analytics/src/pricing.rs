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

#[cfg(test)]
mod tests {
    //! The SQL cost rule against the Rust one (`ModelPrice::cost`), call by call, on random calls.

    use crate::engine::Engine;
    use crate::usage::{Filters, Grouping, usage_report};
    use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMillisecondArray, UInt64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::arrow::record_batch::RecordBatch;
    use freight_core::{Money, PriceCatalog, Speed, TokenCounts};
    use proptest::prelude::*;
    use std::sync::Arc;

    const MODELS: [&str; 5] = ["claude-sonnet-4-5-20250929", "claude-opus-4-6", "gpt-5", "tiered-x", "no-such-model"];
    const SPEEDS: [Speed; 3] = [Speed::Standard, Speed::Fast, Speed::Priority];

    fn catalog() -> PriceCatalog {
        let mut catalog = PriceCatalog::pinned().expect("pinned catalog");
        catalog
            .apply_overrides(
                r#"[models."tiered-x"]
input_cost_per_token = 0.000001
output_cost_per_token = 0.00001
cache_read_input_token_cost = 0.0000001
cache_creation_input_token_cost = 0.00000125
input_cost_per_token_above_200k_tokens = 0.000002
output_cost_per_token_above_200k_tokens = 0.00002
cache_read_input_token_cost_above_200k_tokens = 0.0000002
cache_creation_input_token_cost_above_200k_tokens = 0.0000025
"#,
                "test",
            )
            .expect("overrides");
        catalog
    }

    #[derive(Debug, Clone)]
    struct Call {
        model: usize,
        speed: usize,
        tokens: TokenCounts,
    }

    fn call() -> impl Strategy<Value = Call> {
        (0..MODELS.len(), 0..SPEEDS.len(), 0..5_000u64, 0..5_000u64, 0..300_000u64, 0..20_000u64, 0..20_000u64)
            .prop_map(|(model, speed, input, output, cache_read, write_5m, write_1h)| Call {
                model,
                speed,
                tokens: TokenCounts {
                    input,
                    output,
                    cache_read,
                    cache_write_5m: write_5m,
                    cache_write_1h: write_1h,
                    reasoning: output / 3,
                },
            })
    }

    fn table(calls: &[Call]) -> (Arc<Schema>, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
            Field::new("model", DataType::Utf8, true),
            Field::new("speed", DataType::Utf8, false),
            Field::new("project", DataType::Utf8, true),
            Field::new("tool", DataType::Utf8, false),
            Field::new("session_id", DataType::Utf8, false),
            Field::new("input_tokens", DataType::UInt64, false),
            Field::new("output_tokens", DataType::UInt64, false),
            Field::new("cache_read_tokens", DataType::UInt64, false),
            Field::new("cache_write_5m_tokens", DataType::UInt64, false),
            Field::new("cache_write_1h_tokens", DataType::UInt64, false),
            Field::new("reasoning_tokens", DataType::UInt64, false),
        ]));
        let counts = |get: fn(&TokenCounts) -> u64| -> ArrayRef {
            Arc::new(UInt64Array::from_iter_values(calls.iter().map(|call| get(&call.tokens))))
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from_iter_values(0..calls.len() as i64).with_timezone("UTC")),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|call| MODELS[call.model]))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|call| SPEEDS[call.speed].as_str()))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "p"))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "claude-code"))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "s"))),
            counts(|t| t.input),
            counts(|t| t.output),
            counts(|t| t.cache_read),
            counts(|t| t.cache_write_5m),
            counts(|t| t.cache_write_1h),
            counts(|t| t.reasoning),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
        (schema, batch)
    }

    fn rust_cost(catalog: &PriceCatalog, call: &Call) -> Option<Money> {
        catalog.resolve(MODELS[call.model]).map(|price| price.cost(&call.tokens, SPEEDS[call.speed]))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn sql_cost_equals_rust_cost_and_totals_are_sums(calls in prop::collection::vec(call(), 1..40)) {
            let catalog = catalog();
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let (schema, batch) = table(&calls);
            runtime.block_on(async {
                let engine = Engine::new(schema, vec![batch], &catalog).await.expect("engine");
                let batches = engine.query("SELECT cost FROM priced_usage ORDER BY ts").await.expect("query");
                let sql: Vec<Option<Money>> =
                    batches.iter().flat_map(|b| crate::columns::decimals(b, "cost").expect("cost")).collect();
                let rust: Vec<Option<Money>> = calls.iter().map(|call| rust_cost(&catalog, call)).collect();
                prop_assert_eq!(sql.len(), rust.len());
                for (index, (sql, rust)) in sql.iter().zip(&rust).enumerate() {
                    prop_assert_eq!(sql.map(|c| c.normalize()), rust.map(|c| c.normalize()), "call {}: {:?}", index, calls[index]);
                }

                // The report's total is the sum of the calls' costs, and computing it again
                // (re-pricing with the same catalog) gives the same answer.
                let first = usage_report(&engine, Grouping::Daily, &Filters::default()).await.expect("report");
                let again = usage_report(&engine, Grouping::Daily, &Filters::default()).await.expect("report");
                let total: Money = first.iter().map(|group| group.cost).sum();
                let expected: Money = rust.iter().flatten().copied().sum();
                prop_assert_eq!(total.normalize(), expected.normalize());
                prop_assert_eq!(&first, &again);
                let unpriced: u64 = first.iter().map(|group| group.unpriced_calls).sum();
                prop_assert_eq!(unpriced as usize, rust.iter().filter(|cost| cost.is_none()).count());
                Ok(())
            })?;
        }
    }
}
