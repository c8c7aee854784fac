//! Optimizable cost, first cut: what frontier-tier calls with small outputs and no tool use
//! would have cost on the cheaper tier, and what repeated uncached context would have cost as
//! cache reads. Each figure is re-priced with the catalog and comes with its assumptions.

use crate::grain::Grain;
use freight_core::{Money, PriceCatalog, Speed, TokenCounts};
use serde::Serialize;
use std::collections::BTreeMap;

/// The model portfolio the saving is measured against.
#[derive(Debug, Clone, PartialEq)]
pub struct Portfolio {
    /// Frontier models (a name containing the pattern) and the cheaper model to route them to.
    pub frontier: Vec<(String, String)>,
    /// A call with at most this many output tokens (and no tool call) is routine.
    pub small_output: u64,
    /// Uncached input below this is too short to cache (providers' minimum cacheable prompt).
    pub min_cacheable_input: u64,
}

impl Default for Portfolio {
    fn default() -> Portfolio {
        Portfolio {
            frontier: vec![
                ("opus".into(), "claude-sonnet-4-5".into()),
                ("gpt-5-codex".into(), "gpt-5-mini".into()),
                ("gpt-5-pro".into(), "gpt-5".into()),
            ],
            small_output: 200,
            min_cacheable_input: 1024,
        }
    }
}

/// One saving: calls of one model that could have cost less.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saving {
    /// `routing` or `caching`.
    pub kind: &'static str,
    pub model: String,
    /// Where routing would have sent them.
    pub to_model: Option<String>,
    pub calls: u64,
    pub actual_cost: Money,
    pub alternative_cost: Money,
    pub saving: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Optimizable {
    pub total: Money,
    pub routing: Money,
    pub caching: Money,
    pub items: Vec<Saving>,
    pub assumptions: Vec<String>,
}

impl Portfolio {
    /// The cheaper model a frontier model's routine calls would go to.
    pub fn route(&self, model: &str) -> Option<&str> {
        self.frontier.iter().find(|(pattern, _)| model.contains(pattern.as_str())).map(|(_, target)| target.as_str())
    }
}

impl Saving {
    fn empty(kind: &'static str, model: &str, to_model: Option<&str>) -> Saving {
        Saving {
            kind,
            model: model.to_string(),
            to_model: to_model.map(str::to_string),
            calls: 0,
            actual_cost: Money::ZERO,
            alternative_cost: Money::ZERO,
            saving: Money::ZERO,
        }
    }
}

/// The first cut of optimizable cost over the report's calls, read from the grain.
pub fn optimizable(grain: &Grain, catalog: &PriceCatalog, portfolio: &Portfolio) -> Optimizable {
    let mut items = Vec::new();
    let mut by_model: BTreeMap<(String, String), Saving> = BTreeMap::new();
    let mut cacheable: BTreeMap<(u32, u8, u64), (Speed, u64, u64)> = BTreeMap::new();
    for row in &grain.rows {
        let model = &grain.models[row.model as usize];
        if row.routine_calls > 0
            && let Some(target) = portfolio.route(model)
            && let (Some(actual), Some(cheaper)) = (catalog.resolve(model), catalog.resolve(target))
        {
            let entry = by_model
                .entry((model.clone(), target.to_string()))
                .or_insert_with(|| Saving::empty("routing", model, Some(target)));
            entry.calls += row.routine_calls;
            entry.actual_cost += actual.cost_in_band(&row.routine, row.speed, row.bucket);
            entry.alternative_cost += cheaper.cost_in_band(&row.routine, Speed::Standard, row.bucket);
        }
        let group = cacheable.entry((row.model, row.speed as u8, row.bucket)).or_insert((row.speed, 0, 0));
        group.1 += row.cacheable_input;
        group.2 += row.cacheable_calls;
    }
    items.extend(by_model.into_values());

    // Repeated context sent uncached: every call after a session's first whose uncached input
    // is long enough to cache, priced as if that input had been read from the cache. All such
    // calls are summed per row, then each session's first call is taken back out.
    let mut first: Option<&crate::grain::GrainRow> = None;
    let mut take_out_first = |first: Option<&crate::grain::GrainRow>| {
        if let Some(row) = first
            && row.first_call.1 >= portfolio.min_cacheable_input
            && let Some(group) = cacheable.get_mut(&(row.model, row.speed as u8, row.bucket))
        {
            group.1 -= row.first_call.1;
            group.2 -= 1;
        }
    };
    for row in &grain.rows {
        match first {
            Some(current) if current.session == row.session => {
                if row.first_call < current.first_call {
                    first = Some(row);
                }
            }
            _ => {
                take_out_first(first);
                first = Some(row);
            }
        }
    }
    take_out_first(first);
    let mut caching: BTreeMap<String, Saving> = BTreeMap::new();
    for ((model, _, bucket), (speed, input, calls)) in cacheable {
        if calls == 0 {
            continue;
        }
        let model = &grain.models[model as usize];
        let Some(price) = catalog.resolve(model) else { continue };
        let as_cached = TokenCounts { cache_read: input, ..TokenCounts::default() };
        let as_sent = TokenCounts { input, ..TokenCounts::default() };
        let entry = caching.entry(model.clone()).or_insert_with(|| Saving::empty("caching", model, None));
        entry.calls += calls;
        entry.actual_cost += price.cost_in_band(&as_sent, speed, bucket);
        entry.alternative_cost += price.cost_in_band(&as_cached, speed, bucket);
    }
    items.extend(caching.into_values());
    for item in &mut items {
        item.saving = (item.actual_cost - item.alternative_cost).max(Money::ZERO);
    }
    items.retain(|item| item.saving > Money::ZERO);
    items.sort_by(|a, b| b.saving.cmp(&a.saving).then_with(|| a.model.cmp(&b.model)));
    let sum = |kind: &str| items.iter().filter(|i| i.kind == kind).map(|i| i.saving).sum::<Money>();
    let (routing, caching) = (sum("routing"), sum("caching"));
    let targets: Vec<String> = portfolio.frontier.iter().map(|(pattern, to)| format!("*{pattern}* -> {to}")).collect();
    Optimizable {
        total: routing + caching,
        routing,
        caching,
        items,
        assumptions: vec![
            format!(
                "routing: calls on frontier models ({}) with at most {} output tokens and no tool call would have done as well on the cheaper model, at its standard rates, with the same tokens",
                targets.join(", "),
                portfolio.small_output
            ),
            format!(
                "caching: after a session's first call (of calls in the same millisecond, the one with the least uncached input counts as first), uncached input of at least {} tokens repeats earlier context and could have been a cache read; the cache writes that would have cost are not subtracted",
                portfolio.min_cacheable_input
            ),
            "no check yet that the cheaper tier reaches the same outcome rate for such work (the behaviours issue adds it)".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMillisecondArray, UInt64Array,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;

    const MODEL: &str = "claude-sonnet-4-5-20250929";

    /// Calls as (session, ts, uncached input).
    fn engine(calls: &[(&str, i64, u64)], catalog: &PriceCatalog) -> Engine {
        let schema = Arc::new(Schema::new(
            vec![
                Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
                Field::new("model", DataType::Utf8, true),
                Field::new("speed", DataType::Utf8, false),
                Field::new("project", DataType::Utf8, true),
                Field::new("tool", DataType::Utf8, false),
                Field::new("session_id", DataType::Utf8, false),
                Field::new("user", DataType::Utf8, true),
                Field::new("cwd", DataType::Utf8, true),
                Field::new("git_branch", DataType::Utf8, true),
                Field::new("tool_use", DataType::Boolean, false),
            ]
            .into_iter()
            .chain(crate::columns::token_fields())
            .collect::<Vec<_>>(),
        ));
        let text = |value: &str| -> ArrayRef { Arc::new(StringArray::from(vec![value; calls.len()])) };
        let zeros = || -> ArrayRef { Arc::new(UInt64Array::from(vec![0; calls.len()])) };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from_iter_values(calls.iter().map(|c| c.1)).with_timezone("UTC")),
            text(MODEL),
            text("standard"),
            text("p"),
            text("claude-code"),
            Arc::new(StringArray::from_iter_values(calls.iter().map(|c| c.0))),
            Arc::new(StringArray::from(vec![None::<&str>; calls.len()])),
            text("/w"),
            text("main"),
            Arc::new(BooleanArray::from(vec![true; calls.len()])),
            Arc::new(UInt64Array::from_iter_values(calls.iter().map(|c| c.2))),
            Arc::new(UInt64Array::from(vec![500; calls.len()])),
            zeros(),
            zeros(),
            zeros(),
            zeros(),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(Engine::new(schema, vec![batch], catalog)).expect("engine")
    }

    #[test]
    fn caching_counts_long_uncached_input_after_each_sessions_first_call() {
        let catalog = PriceCatalog::pinned().expect("catalog");
        // Session a: its first call is long but first (not counted); the second counts; the
        // third is too short to cache. Session b: its first call comes later in the table.
        let calls = [("a", 10, 5_000), ("b", 50, 3_000), ("a", 20, 4_000), ("a", 30, 100), ("b", 5, 1_500)];
        let engine = engine(&calls, &catalog);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let portfolio = Portfolio::default();
        let rules = crate::grain::GrainRules {
            as_of: 1_000,
            small_output: portfolio.small_output,
            min_cacheable_input: portfolio.min_cacheable_input,
        };
        let grain = runtime
            .block_on(crate::grain::scan(
                &engine,
                &crate::usage::Filters::default(),
                rules,
                crate::grain::band_floors(&catalog, &portfolio),
            ))
            .expect("grain");
        let result = optimizable(&grain, &catalog, &portfolio);
        let caching: Vec<&Saving> = result.items.iter().filter(|item| item.kind == "caching").collect();
        assert_eq!(caching.len(), 1, "{:?}", result.items);
        // a's second call (4,000) and b's call at 50 ms (3,000; b began at 5 ms).
        assert_eq!(caching[0].calls, 2);
        let price = catalog.resolve(MODEL).expect("priced");
        let sent = price.cost(&TokenCounts { input: 7_000, ..TokenCounts::default() }, Speed::Standard);
        let cached = price.cost(&TokenCounts { cache_read: 7_000, ..TokenCounts::default() }, Speed::Standard);
        assert_eq!(caching[0].saving, sent - cached);
        assert_eq!(result.caching, sent - cached);
    }
}
