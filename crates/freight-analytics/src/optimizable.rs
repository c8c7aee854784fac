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
    /// Each grain row's part of the total (the report's cuts sum these).
    #[serde(skip)]
    pub by_row: Vec<Money>,
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

/// The first cut of optimizable cost over the report's calls, read from the grain: each grain
/// row's routing and caching saving, summed per model (the items), and each row's share of the
/// items kept (`by_row`, so any cut of the rows sums to the total).
pub fn optimizable(grain: &Grain, catalog: &PriceCatalog, portfolio: &Portfolio) -> Optimizable {
    let prices: Vec<_> = grain.models.iter().map(|model| catalog.resolve(model)).collect();
    let routes: Vec<_> = grain
        .models
        .iter()
        .map(|model| portfolio.route(model).and_then(|target| Some((target, catalog.resolve(target)?))))
        .collect();
    // Each session's first call is in the row with the earliest first call of the session.
    let mut first_row = vec![false; grain.rows.len()];
    let mut current: Option<usize> = None;
    for (index, row) in grain.rows.iter().enumerate() {
        match current {
            Some(best) if grain.rows[best].session == row.session => {
                if row.first_call < grain.rows[best].first_call {
                    current = Some(index);
                }
            }
            _ => {
                if let Some(best) = current {
                    first_row[best] = true;
                }
                current = Some(index);
            }
        }
    }
    if let Some(best) = current {
        first_row[best] = true;
    }
    // Per row: (kind, actual cost, alternative cost, calls) of each saving it has.
    let mut savings: Vec<[Option<(Money, Money, u64)>; 2]> = vec![[None, None]; grain.rows.len()];
    for (index, row) in grain.rows.iter().enumerate() {
        let model = row.model as usize;
        if row.routine_calls > 0
            && let (Some(actual), Some((_, cheaper))) = (prices[model], routes[model])
        {
            savings[index][0] = Some((
                actual.cost_in_band(&row.routine, row.speed, row.bucket),
                cheaper.cost_in_band(&row.routine, Speed::Standard, row.bucket),
                row.routine_calls,
            ));
        }
        // Repeated context sent uncached: every call after a session's first whose uncached
        // input is long enough to cache, priced as if that input had been read from the cache.
        let (mut input, mut calls) = (row.cacheable_input, row.cacheable_calls);
        if first_row[index] && row.first_call.1 >= portfolio.min_cacheable_input {
            input -= row.first_call.1;
            calls -= 1;
        }
        if calls > 0
            && let Some(price) = prices[model]
        {
            let as_sent = TokenCounts { input, ..TokenCounts::default() };
            let as_cached = TokenCounts { cache_read: input, ..TokenCounts::default() };
            savings[index][1] = Some((
                price.cost_in_band(&as_sent, row.speed, row.bucket),
                price.cost_in_band(&as_cached, row.speed, row.bucket),
                calls,
            ));
        }
    }
    let mut by_model: BTreeMap<(usize, u32), Saving> = BTreeMap::new();
    for (row, saving) in grain.rows.iter().zip(&savings) {
        for (kind, found) in saving.iter().enumerate() {
            let Some((actual, alternative, calls)) = found else { continue };
            let model = &grain.models[row.model as usize];
            let entry = by_model.entry((kind, row.model)).or_insert_with(|| match kind {
                0 => Saving::empty("routing", model, routes[row.model as usize].map(|(target, _)| target)),
                _ => Saving::empty("caching", model, None),
            });
            entry.calls += calls;
            entry.actual_cost += *actual;
            entry.alternative_cost += *alternative;
        }
    }
    let kept: std::collections::BTreeSet<(usize, u32)> = by_model
        .iter()
        .filter(|(_, item)| item.actual_cost - item.alternative_cost > Money::ZERO)
        .map(|(key, _)| *key)
        .collect();
    let by_row: Vec<Money> = grain
        .rows
        .iter()
        .zip(&savings)
        .map(|(row, saving)| {
            saving
                .iter()
                .enumerate()
                .filter(|(kind, _)| kept.contains(&(*kind, row.model)))
                .filter_map(|(_, found)| found.map(|(actual, alternative, _)| actual - alternative))
                .sum()
        })
        .collect();
    let mut items: Vec<Saving> = by_model.into_values().collect();
    for item in &mut items {
        item.saving = (item.actual_cost - item.alternative_cost).max(Money::ZERO);
    }
    items.retain(|item| item.saving > Money::ZERO);
    items.sort_by(|a, b| b.saving.cmp(&a.saving).then_with(|| a.model.cmp(&b.model)));
    let sum = |kind: &str| items.iter().filter(|i| i.kind == kind).map(|i| i.saving).sum::<Money>();
    let (routing, caching) = (sum("routing"), sum("caching"));
    let total = by_row.iter().copied().sum();
    let targets: Vec<String> = portfolio.frontier.iter().map(|(pattern, to)| format!("*{pattern}* -> {to}")).collect();
    Optimizable {
        total,
        by_row,
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
    use datafusion::arrow::datatypes::{DataType, Field};
    use std::sync::Arc;

    const MODEL: &str = "claude-sonnet-4-5-20250929";

    /// Calls as (session, ts, uncached input).
    fn engine(calls: &[(&str, i64, u64)], catalog: &PriceCatalog) -> Engine {
        let schema = Arc::new(crate::columns::test_usage_schema(vec![
            Field::new("user", DataType::Utf8, true),
            Field::new("cwd", DataType::Utf8, true),
            Field::new("git_branch", DataType::Utf8, true),
            Field::new("tool_use", DataType::Boolean, false),
        ]));
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
        // Each row's part: a's row holds a's saving, b's row b's; together the total.
        assert_eq!(result.by_row.len(), grain.rows.len());
        assert_eq!(result.by_row.iter().copied().sum::<Money>(), result.total);
        let part = |session: &str| {
            let index = grain.sessions.iter().position(|s| s.id == session).expect("session");
            grain
                .rows
                .iter()
                .zip(&result.by_row)
                .filter(|(r, _)| r.session as usize == index)
                .map(|(_, m)| *m)
                .sum::<Money>()
        };
        let one = |input: u64| {
            price.cost(&TokenCounts { input, ..TokenCounts::default() }, Speed::Standard)
                - price.cost(&TokenCounts { cache_read: input, ..TokenCounts::default() }, Speed::Standard)
        };
        assert_eq!(part("a"), one(4_000));
        assert_eq!(part("b"), one(3_000));
    }
}
