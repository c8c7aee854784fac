//! The JSON form of a usage report. Costs appear twice: `cost_usd` as a number for scripts and
//! `cost_usd_exact` as a decimal string for finance (no binary rounding).

use super::{Body, Report};
use crate::cli::UsageView;
use chrono::{DateTime, Utc};
use freight_analytics::UsageGroup;
use freight_analytics::blocks::Block;
use freight_core::{Money, TokenCounts, money};
use serde_json::{Map, Value, json};

pub fn tokens(tokens: &TokenCounts) -> Value {
    json!({
        "input": tokens.input,
        "output": tokens.output,
        "cache_read": tokens.cache_read,
        "cache_write_5m": tokens.cache_write_5m,
        "cache_write_1h": tokens.cache_write_1h,
        "reasoning": tokens.reasoning,
        "total": tokens.total(),
    })
}

fn cost_fields(object: &mut Map<String, Value>, cost: Money) {
    object.insert("cost_usd".into(), json!(money::to_f64(cost)));
    object.insert("cost_usd_exact".into(), json!(cost.round_dp(10).normalize().to_string()));
}

fn time(millis: Option<i64>) -> Value {
    millis
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map_or(Value::Null, |at| json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
}

fn totals(calls: u64, tokens_sum: &TokenCounts, cost: Money, unpriced_calls: u64) -> Value {
    let mut object = Map::new();
    object.insert("calls".into(), json!(calls));
    object.insert("tokens".into(), tokens(tokens_sum));
    cost_fields(&mut object, cost);
    object.insert("unpriced_calls".into(), json!(unpriced_calls));
    Value::Object(object)
}

fn group(view: UsageView, group: &UsageGroup) -> Value {
    let mut object = Map::new();
    match view {
        UsageView::Session => {
            object.insert("session_id".into(), json!(group.key));
            object.insert("project".into(), json!(group.project));
            object.insert("tool".into(), json!(group.tool));
            object.insert("first_activity".into(), time(group.first_ms));
            object.insert("last_activity".into(), time(group.last_ms));
        }
        _ => {
            object.insert("period".into(), json!(group.key));
        }
    }
    object.insert("calls".into(), json!(group.calls));
    object.insert("tokens".into(), tokens(&group.tokens));
    cost_fields(&mut object, group.cost);
    object.insert("unpriced_calls".into(), json!(group.unpriced_calls));
    let models: Vec<Value> = group
        .models
        .iter()
        .map(|line| {
            let mut model = Map::new();
            model.insert("model".into(), json!(line.model));
            model.insert("calls".into(), json!(line.calls));
            model.insert("tokens".into(), tokens(&line.tokens));
            cost_fields(&mut model, line.cost);
            model.insert("unpriced_calls".into(), json!(line.unpriced_calls));
            Value::Object(model)
        })
        .collect();
    object.insert("models".into(), Value::Array(models));
    Value::Object(object)
}

fn block(block: &Block) -> Value {
    let mut object = Map::new();
    object.insert("start".into(), time(Some(block.start_ms)));
    object.insert("end".into(), time(Some(block.end_ms)));
    object.insert("last_activity".into(), if block.is_gap { Value::Null } else { time(Some(block.last_call_ms)) });
    object.insert("is_gap".into(), json!(block.is_gap));
    object.insert("is_active".into(), json!(block.is_active));
    object.insert("calls".into(), json!(block.calls));
    object.insert("tokens".into(), tokens(&block.tokens));
    cost_fields(&mut object, block.cost);
    object.insert("unpriced_calls".into(), json!(block.unpriced_calls));
    object.insert("models".into(), json!(block.models));
    Value::Object(object)
}

pub fn report(report: &Report) -> Value {
    let view = match report.view {
        UsageView::Daily => "daily",
        UsageView::Weekly => "weekly",
        UsageView::Monthly => "monthly",
        UsageView::Session => "session",
        UsageView::Blocks => "blocks",
    };
    let mut object = Map::new();
    object.insert("view".into(), json!(view));
    object.insert("timezone".into(), json!(report.timezone));
    object.insert("currency".into(), json!("USD"));
    match &report.body {
        Body::Groups(groups) => {
            let key = if report.view == UsageView::Session { "sessions" } else { "periods" };
            object.insert(key.into(), groups.iter().map(|entry| group(report.view, entry)).collect());
            let sum = groups.iter().fold(TokenCounts::default(), |sum, entry| sum + entry.tokens);
            let cost = groups.iter().map(|entry| entry.cost).sum();
            let calls = groups.iter().map(|entry| entry.calls).sum();
            let unpriced = groups.iter().map(|entry| entry.unpriced_calls).sum();
            object.insert("totals".into(), totals(calls, &sum, cost, unpriced));
        }
        Body::Blocks(blocks) => {
            object.insert("blocks".into(), blocks.iter().map(block).collect());
            let sum = blocks.iter().fold(TokenCounts::default(), |sum, entry| sum + entry.tokens);
            let cost = blocks.iter().map(|entry| entry.cost).sum();
            let calls = blocks.iter().map(|entry| entry.calls).sum();
            let unpriced = blocks.iter().map(|entry| entry.unpriced_calls).sum();
            object.insert("totals".into(), totals(calls, &sum, cost, unpriced));
        }
    }
    object.insert("unpriced_models".into(), json!(report.unpriced_models));
    object.insert("price_catalog".into(), json!(report.catalog));
    object.insert("ingest".into(), json!(report.ingest));
    Value::Object(object)
}
