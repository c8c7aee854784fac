//! Optimizable cost: the model portfolio (tiers), and what work would have cost on a cheaper
//! tier that reached the same outcome rate for its task class (`routing`), as cache reads where
//! repeated context went uncached, and without the context re-sent after a conversation had
//! bloated. Each figure is re-priced with the catalog and comes with its assumptions.

use crate::grain::Grain;
use freight_core::{Money, PriceCatalog, Speed, TokenCounts};
use serde::Serialize;
use std::collections::BTreeMap;

/// One tier of the model portfolio.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    /// Models in this tier: a model belongs to the tier with the longest pattern its name
    /// contains (`gpt-5-mini` is economy though it contains `gpt-5`).
    pub models: Vec<String>,
    /// The models work moved down to this tier is re-priced on (the first of the moved
    /// model's provider, else the first).
    #[serde(default)]
    pub route_to: Vec<String>,
}

/// The model portfolio the saving is measured against, and the thresholds of the behaviour
/// passes that read it (`[portfolio]` in the config).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Portfolio {
    /// Most capable (and dearest) first.
    pub tiers: Vec<Tier>,
    /// A call with at most this many output tokens (and no tool call beyond reading) is routine.
    pub small_output: u64,
    /// Uncached input below this is too short to cache (providers' minimum cacheable prompt).
    pub min_cacheable_input: u64,
    /// A cheaper tier is good enough for a task class when its outcome rate is at most this far
    /// below the dearer tier's.
    pub tolerance: f64,
    /// Settled sessions a (task class, tier) needs before its outcome rate is trusted.
    pub min_sessions: u64,
    /// A conversation whose prompt reaches this many tokens is bloated.
    pub bloat_context: u64,
    /// Calls a bloated conversation may go on before it counts as dragged on (not restarted).
    pub restart_grace_calls: u64,
}

impl Default for Portfolio {
    fn default() -> Portfolio {
        let tier = |name: &str, models: &[&str], route_to: &[&str]| Tier {
            name: name.into(),
            models: models.iter().map(|m| m.to_string()).collect(),
            route_to: route_to.iter().map(|m| m.to_string()).collect(),
        };
        Portfolio {
            tiers: vec![
                tier("frontier", &["opus", "gpt-5-pro", "o3-pro", "o1-pro"], &[]),
                tier(
                    "standard",
                    &["sonnet", "gpt-5", "gpt-4.1", "gpt-4o", "o3", "o1", "gemini-2.5-pro", "gemini-3-pro"],
                    &["claude-sonnet-4-5", "gpt-5"],
                ),
                tier(
                    "economy",
                    &[
                        "haiku",
                        "gpt-5-mini",
                        "gpt-5-nano",
                        "gpt-4.1-mini",
                        "gpt-4.1-nano",
                        "gpt-4o-mini",
                        "o4-mini",
                        "flash",
                    ],
                    &["claude-haiku-4-5", "gpt-5-mini"],
                ),
            ],
            small_output: 200,
            min_cacheable_input: 1024,
            tolerance: 0.05,
            min_sessions: 20,
            bloat_context: 120_000,
            restart_grace_calls: 5,
        }
    }
}

impl Portfolio {
    /// The index of `model`'s tier (0 is the dearest), by its longest matching pattern.
    pub fn tier_of(&self, model: &str) -> Option<usize> {
        let model = model.to_ascii_lowercase();
        self.tiers
            .iter()
            .enumerate()
            .flat_map(|(index, tier)| tier.models.iter().map(move |pattern| (index, pattern)))
            .filter(|(_, pattern)| model.contains(pattern.to_ascii_lowercase().as_str()))
            .max_by_key(|(index, pattern)| (pattern.len(), std::cmp::Reverse(*index)))
            .map(|(index, _)| index)
    }

    /// Is `model` in the dearest tier?
    pub fn is_frontier(&self, model: &str) -> bool {
        self.tier_of(model) == Some(0)
    }

    /// The model `model`'s work is re-priced on when moved to tier `tier`: the first of the
    /// tier's `route_to` from the same provider as `model`, else the first.
    pub fn target<'p>(&'p self, tier: usize, model: &str, catalog: &PriceCatalog) -> Option<&'p str> {
        let targets = &self.tiers.get(tier)?.route_to;
        let provider = catalog.resolve(model).and_then(|price| price.provider.clone());
        targets
            .iter()
            .find(|target| provider.is_some() && catalog.resolve(target).and_then(|p| p.provider.clone()) == provider)
            .or(targets.first())
            .map(String::as_str)
    }

    /// Every model work could be re-priced on (their price bands cut the grain).
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.tiers.iter().flat_map(|tier| tier.route_to.iter().map(String::as_str))
    }

    /// Checks the portfolio makes sense, naming what does not.
    pub fn check(&self) -> Result<(), String> {
        if self.tiers.is_empty() {
            return Err("portfolio: no tiers".into());
        }
        for (index, tier) in self.tiers.iter().enumerate().skip(1) {
            if tier.route_to.is_empty() {
                return Err(format!("portfolio: tier `{}` has no `route_to` model to re-price work on", tier.name));
            }
            if tier.models.is_empty() {
                return Err(format!("portfolio: tier {index} (`{}`) lists no models", tier.name));
            }
        }
        if !(0.0..=1.0).contains(&self.tolerance) {
            return Err(format!("portfolio: tolerance {} is not between 0 and 1", self.tolerance));
        }
        Ok(())
    }
}

/// A portfolio file: `[portfolio]` (with `[[portfolio.tiers]]`) and the detectors' `[marks]`,
/// each defaulting field by field.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortfolioFile {
    pub portfolio: Portfolio,
    pub marks: crate::tokenmaxxing::Marks,
}

impl PortfolioFile {
    /// Reads and checks a portfolio file's text; `description` names it in errors.
    pub fn parse(text: &str, description: &str) -> Result<PortfolioFile, String> {
        let file: PortfolioFile = toml::from_str(text).map_err(|error| format!("{description}: {error}"))?;
        file.portfolio.check().map_err(|error| format!("{description}: {error}"))?;
        Ok(file)
    }
}

/// One saving: calls of one model that could have cost less.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saving {
    /// `routing`, `caching` or `restart`.
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
    /// Each grain row's part of the routing and caching savings (the report's cuts sum these).
    #[serde(skip)]
    pub by_row: Vec<Money>,
    /// Each (attribution session, model)'s restart saving.
    #[serde(skip)]
    pub restart_by_session: Vec<(usize, String, Money)>,
    /// Work moved to a cheaper tier that reached the same outcome rate on such tasks.
    pub routing: Money,
    pub caching: Money,
    /// Context re-sent after a conversation had bloated, where a restart would have dropped it.
    pub restart: Money,
    pub items: Vec<Saving>,
    /// The evidence for routing: each task class's outcome rate on each tier.
    pub classes: Vec<crate::routing::ClassTier>,
    pub assumptions: Vec<String>,
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

/// Each grain row's caching saving (actual, alternative, calls): repeated context sent
/// uncached, priced as cache reads.
fn caching_by_row(grain: &Grain, catalog: &PriceCatalog, portfolio: &Portfolio) -> Vec<Option<(Money, Money, u64)>> {
    let prices: Vec<_> = grain.models.iter().map(|model| catalog.resolve(model)).collect();
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
    grain
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            // Every call after a session's first whose uncached input is long enough to cache.
            let (mut input, mut calls) = (row.cacheable_input, row.cacheable_calls);
            if first_row[index] && row.first_call.1 >= portfolio.min_cacheable_input {
                input -= row.first_call.1;
                calls -= 1;
            }
            let price = prices[row.model as usize]?;
            (calls > 0).then(|| {
                let as_sent = TokenCounts { input, ..TokenCounts::default() };
                let as_cached = TokenCounts { cache_read: input, ..TokenCounts::default() };
                (
                    price.cost_in_band(&as_sent, row.speed, row.bucket),
                    price.cost_in_band(&as_cached, row.speed, row.bucket),
                    calls,
                )
            })
        })
        .collect()
}

/// What a session's restart savings are worked out with: the bloat marks and each model's
/// price (by index into the timelines' model names). Interned ([`RestartMarks::interned`]), so
/// a timeline's kept savings are checked against a query's marks by pointer.
#[derive(Debug, PartialEq)]
pub struct RestartMarks {
    bloat_context: u64,
    restart_grace_calls: u64,
    prices: Vec<Option<freight_core::ModelPrice>>,
}

impl RestartMarks {
    /// The marks for `models` priced by `catalog`: the same allocation as the last equal marks
    /// asked for (the last few are kept), so kept savings match by pointer; a new one otherwise.
    pub fn interned(models: &[String], catalog: &PriceCatalog, portfolio: &Portfolio) -> std::sync::Arc<RestartMarks> {
        static KEPT: std::sync::Mutex<Vec<std::sync::Arc<RestartMarks>>> = std::sync::Mutex::new(Vec::new());
        const KEEP: usize = 8;
        let marks = RestartMarks {
            bloat_context: portfolio.bloat_context,
            restart_grace_calls: portfolio.restart_grace_calls,
            prices: models.iter().map(|model| catalog.resolve(model).cloned()).collect(),
        };
        let mut kept = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(at) = kept.iter().position(|known| **known == marks) {
            let known = kept.remove(at);
            kept.push(known.clone());
            return known;
        }
        let marks = std::sync::Arc::new(marks);
        if kept.len() == KEEP {
            kept.remove(0);
        }
        kept.push(marks.clone());
        marks
    }
}

/// One session's restart savings by model (index into the timelines' model names): the
/// context its calls re-sent after the conversation had bloated and the grace calls had
/// passed, beyond what the session's first call sent — what a restart would not have re-sent —
/// priced as cache reads (what re-sent context mostly is; a lower bound where it went
/// uncached). Each is (model, saving, calls); models whose saving is zero are left out.
pub fn session_restart_savings(calls: &[crate::timeline::Call], marks: &RestartMarks) -> Vec<(u16, Money, u64)> {
    let mut savings = Vec::new();
    let Some(bloated_at) = calls.iter().position(|call| call.context() >= marks.bloat_context) else {
        return savings;
    };
    let fresh = calls[0].context();
    let price_of = |model: u16| marks.prices.get(model as usize).and_then(Option::as_ref);
    // Excess tokens and calls per (model, price band): linear within a band, so each group
    // is priced once.
    let mut groups: BTreeMap<(u16, usize), (u64, u64, u64)> = BTreeMap::new();
    for call in calls.iter().skip(bloated_at + 1 + marks.restart_grace_calls as usize) {
        let context = call.context();
        let Some(price) = price_of(call.model) else { continue };
        if context <= fresh {
            continue;
        }
        let band = price.tiers.iter().filter(|tier| context > tier.above_prompt_tokens).count();
        let group = groups.entry((call.model, band)).or_insert((0, 0, context));
        group.0 += context - fresh;
        group.1 += 1;
    }
    for ((model, _), (excess, calls, prompt)) in groups {
        let Some(price) = price_of(model) else { continue };
        let resent = TokenCounts { cache_read: excess, ..TokenCounts::default() };
        let saving = price.cost_in_band(&resent, Speed::Standard, prompt);
        match savings.last_mut() {
            Some((last, total, count)) if *last == model => {
                *total += saving;
                *count += calls;
            }
            _ => savings.push((model, saving, calls)),
        }
    }
    savings.retain(|(_, saving, _)| !saving.is_zero());
    savings
}

/// Per attribution session and model: its restart saving ([`session_restart_savings`], kept
/// with each timeline). Returns (session, model, saving, calls) where `keep` says so.
pub fn restart_savings(
    timelines: &crate::timeline::Timelines,
    attribution: &crate::attribution::Attribution,
    catalog: &PriceCatalog,
    portfolio: &Portfolio,
    keep: impl Fn(usize, &str) -> bool + Sync,
) -> Vec<(usize, String, Money, u64)> {
    use rayon::prelude::*;
    let marks = RestartMarks::interned(&timelines.models, catalog, portfolio);
    attribution
        .sessions
        .par_iter()
        .enumerate()
        .flat_map_iter(|(index, spend)| {
            let Some(timeline) = timelines.session(index, &spend.session) else { return Vec::new() };
            timeline
                .restart_savings(&marks)
                .iter()
                .map(|&(model, saving, calls)| (&timelines.models[model as usize], saving, calls))
                .filter(|(name, ..)| keep(index, name))
                .map(|(name, saving, calls)| (index, name.clone(), saving, calls))
                .collect()
        })
        .collect()
}

/// Optimizable cost: routing (outcome-backed, see `routing`), caching of repeated context and
/// restarts of bloated conversations, each re-priced with the catalog, with the items and the
/// evidence. `by_row` and `restart_by_session` place every saving, so any cut sums to its part.
pub fn optimizable(
    grain: &Grain,
    catalog: &PriceCatalog,
    portfolio: &Portfolio,
    routing: crate::routing::Routing,
    restart: Vec<(usize, String, Money, u64)>,
) -> Optimizable {
    let caching = caching_by_row(grain, catalog, portfolio);
    // Savings by kind and model: rows add to their model's slot by index, not to a map keyed
    // by the model's name cloned for each row.
    let mut caching_of: Vec<Option<Saving>> = vec![None; grain.models.len()];
    let mut routing_of: Vec<Option<Saving>> = vec![None; grain.models.len()];
    fn slot<'s>(slots: &'s mut [Option<Saving>], kind: &'static str, models: &[String], model: u32) -> &'s mut Saving {
        slots[model as usize].get_or_insert_with(|| Saving::empty(kind, &models[model as usize], None))
    }
    for (row, found) in grain.rows.iter().zip(&caching) {
        let Some((actual, alternative, calls)) = found else { continue };
        let entry = slot(&mut caching_of, "caching", &grain.models, row.model);
        entry.calls += calls;
        entry.actual_cost += *actual;
        entry.alternative_cost += *alternative;
    }
    // A model's caching counts only where it saves overall (cache reads priced above input
    // would make it negative).
    let kept_caching: Vec<bool> = caching_of
        .iter()
        .map(|item| item.as_ref().is_some_and(|item| item.actual_cost > item.alternative_cost))
        .collect();
    let mut by_row: Vec<Money> = grain
        .rows
        .iter()
        .zip(&caching)
        .map(|(row, found)| match found {
            Some((actual, alternative, _)) if kept_caching[row.model as usize] => *actual - *alternative,
            _ => Money::ZERO,
        })
        .collect();
    for ((row, saving), total) in grain.rows.iter().zip(&routing.by_row).zip(&mut by_row) {
        if saving.is_zero() {
            continue;
        }
        *total += *saving;
        let entry = slot(&mut routing_of, "routing", &grain.models, row.model);
        entry.calls += row.calls;
        entry.saving += *saving;
    }
    let mut by_model: BTreeMap<(&'static str, String, Option<String>), Saving> = BTreeMap::new();
    for item in caching_of.into_iter().chain(routing_of).flatten() {
        by_model.insert((item.kind, item.model.clone(), None), item);
    }
    for (_, model, saving, calls) in &restart {
        let entry =
            by_model.entry(("restart", model.clone(), None)).or_insert_with(|| Saving::empty("restart", model, None));
        entry.calls += calls;
        entry.saving += *saving;
    }
    let mut items: Vec<Saving> = by_model.into_values().collect();
    for item in &mut items {
        if item.kind == "caching" {
            item.saving = (item.actual_cost - item.alternative_cost).max(Money::ZERO);
        }
    }
    items.retain(|item| item.saving > Money::ZERO);
    items.sort_by(|a, b| b.saving.cmp(&a.saving).then_with(|| a.kind.cmp(b.kind)).then_with(|| a.model.cmp(&b.model)));
    let sum = |kind: &str| items.iter().filter(|i| i.kind == kind).map(|i| i.saving).sum::<Money>();
    let (routing_total, caching_total, restart_total) = (sum("routing"), sum("caching"), sum("restart"));
    let tiers: Vec<String> =
        portfolio.tiers.iter().map(|tier| format!("{} ({})", tier.name, tier.models.join(", "))).collect();
    Optimizable {
        total: routing_total + caching_total + restart_total,
        by_row,
        restart_by_session: restart.into_iter().map(|(session, model, saving, _)| (session, model, saving)).collect(),
        routing: routing_total,
        caching: caching_total,
        restart: restart_total,
        items,
        classes: routing.classes,
        assumptions: vec![
            format!(
                "routing: sessions are classed by what their calls did (question, investigation, small change, feature, large change) and placed on the tier of the model they spent most on ({}); a class's work on a tier moves to the cheapest tier whose outcome rate (sessions whose work shipped, of those settled) is at most {:.0} points lower, when both have at least {} settled sessions; its calls are re-priced at the standard rates of that tier's model from the same provider, with the same tokens",
                tiers.join("; "),
                portfolio.tolerance * 100.0,
                portfolio.min_sessions
            ),
            format!(
                "caching: after a session's first call (of calls in the same millisecond, the one with the least uncached input counts as first), uncached input of at least {} tokens repeats earlier context and could have been a cache read; the cache writes that would have cost are not subtracted",
                portfolio.min_cacheable_input
            ),
            format!(
                "restart: once a conversation's prompt reached {} tokens and it went on for more than {} calls, each further call's prompt beyond the session's first prompt is what a fresh conversation would not have re-sent, priced as cache reads (a lower bound where it went uncached)",
                portfolio.bloat_context, portfolio.restart_grace_calls
            ),
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
        let routing = crate::routing::Routing { by_row: vec![Money::ZERO; grain.rows.len()], ..Default::default() };
        let result = optimizable(&grain, &catalog, &portfolio, routing, Vec::new());
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

    #[test]
    fn kept_restart_savings_are_used_only_with_the_marks_they_were_worked_out_with() {
        let catalog = PriceCatalog::pinned().expect("catalog");
        let models = vec![MODEL.to_string()];
        // A conversation that grows by 20k tokens a call, from 10k to 290k.
        let calls: Vec<crate::timeline::Call> = (0..15u32)
            .map(|i| crate::timeline::Call {
                ts: i64::from(i) * 60_000,
                model: 0,
                actions: 0,
                uncached: 1_000,
                cache_read: 9_000 + 20_000 * i,
                cache_write: 0,
                output: 500,
                turn: 0,
            })
            .collect();
        let timeline = crate::timeline::Timeline::new("s".into(), "claude-code".into(), None, Arc::new(calls));
        let early = Portfolio { bloat_context: 50_000, restart_grace_calls: 1, ..Portfolio::default() };
        let late = Portfolio { bloat_context: 200_000, restart_grace_calls: 1, ..Portfolio::default() };
        let (early_marks, late_marks) =
            (RestartMarks::interned(&models, &catalog, &early), RestartMarks::interned(&models, &catalog, &late));
        assert!(Arc::ptr_eq(&early_marks, &RestartMarks::interned(&models, &catalog, &early)), "equal marks are one");
        assert!(!Arc::ptr_eq(&early_marks, &late_marks));

        let fresh = |marks: &RestartMarks| session_restart_savings(&timeline.calls, marks);
        let (early_savings, late_savings) = (fresh(&early_marks), fresh(&late_marks));
        assert_eq!(early_savings.len(), 1);
        assert!(early_savings[0].2 > late_savings[0].2, "a later bloat point leaves fewer calls");
        // The first marks asked with are kept; other marks get their own answer every time.
        assert_eq!(*timeline.restart_savings(&early_marks), early_savings);
        assert_eq!(*timeline.restart_savings(&late_marks), late_savings);
        assert_eq!(*timeline.restart_savings(&early_marks), early_savings);
    }
}
