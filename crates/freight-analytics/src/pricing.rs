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

/// The cost of the tokens in row `t` at the rates of the joined price row `p`: NULL when the
/// model has no price. The one cost rule in SQL; `freight_core`'s `ModelPrice::cost` is the same
/// rule in Rust, and a property test holds them equal.
fn cost_sql(t: &str) -> String {
    format!(
        "CASE WHEN p.model IS NULL THEN NULL ELSE
           ({t}.input_tokens * p.input
            + {t}.cache_read_tokens * p.cache_read
            + {t}.cache_write_5m_tokens * p.cache_write_5m
            + {t}.cache_write_1h_tokens * p.cache_write_1h
            + CASE WHEN p.reasoning IS NULL THEN {t}.output_tokens * p.output
                   ELSE ({t}.output_tokens - {t}.reasoning_tokens) * p.output + {t}.reasoning_tokens * p.reasoning END
           ) * CASE CAST({t}.speed AS VARCHAR)
                 WHEN 'fast' THEN p.fast_multiplier
                 WHEN 'priority' THEN p.priority_multiplier
                 ELSE CAST(1 AS DECIMAL(10, 4)) END
         END"
    )
}

/// The join to `model_prices p`: the row for `t`'s model whose prompt band holds `prompt`.
fn price_join_sql(t: &str, prompt: &str) -> String {
    format!(
        "LEFT JOIN model_prices p
           ON CAST({t}.model AS VARCHAR) = p.model
          AND {prompt} > p.prompt_floor
          AND (p.prompt_ceiling IS NULL OR {prompt} <= p.prompt_ceiling)"
    )
}

/// A call's prompt size (what price bands are cut on): every input token, cached or not.
/// `t` qualifies the columns (`"u."`, or `""` for none).
fn prompt_sql(t: &str) -> String {
    format!(
        "CAST({t}input_tokens + {t}cache_read_tokens + {t}cache_write_5m_tokens + {t}cache_write_1h_tokens AS BIGINT)"
    )
}

/// The priced view: every call with its cost (NULL when the model has no price) and the
/// catalog key its price came from.
pub fn priced_usage_sql() -> String {
    format!(
        "CREATE VIEW priced_usage AS SELECT u.*, p.price_key, {} AS cost FROM usage u {}",
        cost_sql("u"),
        price_join_sql("u", &prompt_sql("u."))
    )
}

/// Usage grouped by `keys` (SQL expressions over `usage`, named `k0`, `k1`, …) and model, with
/// each group's tokens, cost, calls, unpriced calls, first and last call, and (with `origin`)
/// its project and tool.
///
/// Cost is derived as `priced_usage` derives it, without pricing every call: calls are first
/// summed per (keys, model, speed, prompt band), and within such a group every call has the
/// same rates and multiplier, so pricing the sums gives exactly the sum of the calls' costs.
/// `band_floors` are the price bands' lower bounds across the catalog's models; a call is put
/// in the bucket of the highest floor its prompt exceeds, and each bucket lies inside one band
/// of every model.
pub fn priced_groups_sql(keys: &[String], filter: &str, band_floors: &[i64], origin: bool) -> String {
    let key_names: Vec<String> = (0..keys.len()).map(|index| format!("k{index}")).collect();
    let keyed: Vec<String> = keys.iter().zip(&key_names).map(|(expr, name)| format!("{expr} AS {name}")).collect();
    let bucket = prompt_bucket_sql(band_floors);
    let origin_columns = if origin {
        "MIN(CAST(project AS VARCHAR)) AS project, MIN(CAST(tool AS VARCHAR)) AS tool,"
    } else {
        "CAST(NULL AS VARCHAR) AS project, CAST(NULL AS VARCHAR) AS tool,"
    };
    let keys_list = key_names.join(", ");
    format!(
        "WITH calls AS (
           SELECT {keyed}, model, speed, {bucket} AS prompt_bucket,
                  SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens,
                  SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_5m_tokens) AS cache_write_5m_tokens,
                  SUM(cache_write_1h_tokens) AS cache_write_1h_tokens, SUM(reasoning_tokens) AS reasoning_tokens,
                  COUNT(*) AS calls, MIN(ts) AS first_ts, MAX(ts) AS last_ts, {origin_columns}
           FROM usage WHERE {filter}
           GROUP BY {keys_list}, model, speed, prompt_bucket
         )
         SELECT {keys_list}, COALESCE(CAST(c.model AS VARCHAR), '<unknown>') AS model,
                SUM(c.input_tokens) AS input, SUM(c.output_tokens) AS output,
                SUM(c.cache_read_tokens) AS cache_read, SUM(c.cache_write_5m_tokens) AS cache_write_5m,
                SUM(c.cache_write_1h_tokens) AS cache_write_1h, SUM(c.reasoning_tokens) AS reasoning,
                SUM({cost}) AS cost, SUM(c.calls) AS calls,
                SUM(CASE WHEN p.model IS NULL THEN c.calls ELSE 0 END) AS unpriced,
                MIN(c.first_ts) AS first_ts, MAX(c.last_ts) AS last_ts,
                MIN(c.project) AS project, MIN(c.tool) AS tool
         FROM calls c {join}
         GROUP BY {keys_list}, c.model",
        keyed = keyed.join(", "),
        cost = cost_sql("c"),
        join = price_join_sql("c", "c.prompt_bucket"),
    )
}

/// The rows of `inner` (a query with `model`, `speed`, `bucket` and the six token sums as
/// `input` … `reasoning`) with each row's cost at its model's rates in its bucket's band.
pub fn priced_rows_sql(inner: &str) -> String {
    let tokens = ["input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning"];
    let renamed: Vec<String> = tokens.iter().map(|kind| format!("g.{kind} AS {kind}_tokens")).collect();
    format!(
        "WITH g AS ({inner}),
         t AS (SELECT g.*, {renamed} FROM g)
         SELECT t.*, {cost} AS cost FROM t {join}",
        renamed = renamed.join(", "),
        cost = cost_sql("t"),
        join = price_join_sql("t", "t.bucket"),
    )
}

/// A call's prompt-band bucket: the lowest prompt size of the highest band floor its prompt
/// exceeds (floor + 1), else 0. Calls in one bucket fall in the same band of every model.
pub fn prompt_bucket_sql(band_floors: &[i64]) -> String {
    let mut floors = band_floors.to_vec();
    floors.sort_unstable_by(|a, b| b.cmp(a));
    floors.dedup();
    if floors.is_empty() {
        return "CAST(0 AS BIGINT)".to_string();
    }
    let prompt = prompt_sql("");
    let arms: String = floors.iter().map(|floor| format!(" WHEN {prompt} > {floor} THEN {}", floor + 1)).collect();
    format!("CASE{arms} ELSE CAST(0 AS BIGINT) END")
}

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
    /// The lower bounds of the price bands above the base one, across all priced models.
    pub band_floors: Vec<i64>,
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
    let mut band_floors = Vec::new();
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
        band_floors.extend(&thresholds);
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
    band_floors.sort_unstable();
    band_floors.dedup();
    Ok(PriceTables { model_prices, band_floors, unpriced_models })
}

#[cfg(test)]
mod tests {
    //! The SQL cost rule against the Rust one (`ModelPrice::cost`), call by call, on random calls.

    use crate::engine::Engine;
    use crate::usage::{Filters, Grouping, usage_report};
    use datafusion::arrow::array::{ArrayRef, StringArray, TimestampMillisecondArray, UInt64Array};
    use datafusion::arrow::datatypes::Schema;
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
        let schema = Arc::new(crate::columns::test_usage_schema(Vec::new()));
        let counts = |get: fn(&TokenCounts) -> u64| -> ArrayRef {
            Arc::new(UInt64Array::from_iter_values(calls.iter().map(|call| get(&call.tokens))))
        };
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from_iter_values(0..calls.len() as i64).with_timezone("UTC")),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|call| MODELS[call.model]))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|call| SPEEDS[call.speed].as_str()))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "p"))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "claude-code"))),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|_| "s"))),
        ];
        columns.extend(TokenCounts::KINDS.map(counts));
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

                // With two keys (input parity, tool), each row is one (parity, tool, model) and
                // the costs still add up to the calls' costs.
                let keys = ["CAST(input_tokens % 2 AS VARCHAR)".to_string(), "CAST(tool AS VARCHAR)".to_string()];
                let sql = super::priced_groups_sql(&keys, "TRUE", &engine.band_floors, false);
                let batches = engine.query(&sql).await.expect("two keys");
                let mut rows = Vec::new();
                for batch in &batches {
                    let parities = crate::columns::strings(batch, "k0").expect("k0");
                    let models = crate::columns::strings(batch, "model").expect("model");
                    let costs = crate::columns::decimals(batch, "cost").expect("cost");
                    for row in 0..batch.num_rows() {
                        rows.push((parities[row].clone(), models[row].clone(), costs[row]));
                    }
                }
                let mut distinct: Vec<(u64, &str)> =
                    calls.iter().map(|call| (call.tokens.input % 2, MODELS[call.model])).collect();
                distinct.sort_unstable();
                distinct.dedup();
                prop_assert_eq!(rows.len(), distinct.len());
                let total: Money = rows.iter().filter_map(|(_, _, cost)| *cost).sum();
                prop_assert_eq!(total.normalize(), expected.normalize());
                Ok(())
            })?;
        }
    }
}
