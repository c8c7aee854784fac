//! `GET /metrics` for Prometheus (OpenMetrics text, through prometheus-client): spend, tokens,
//! waste and outcomes by team and by model from the cached report, and the health of intake,
//! WAL and store from their counters.

use crate::Shared;
use crate::api::ReportQuery;
use crate::body::Refusal;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

type Labels = Vec<(String, String)>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(number) => number.as_f64().unwrap_or(0.0),
        Value::String(text) => text.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The report figures of one cut (`team` or `model`) as gauge families.
fn report_families(registry: &mut Registry, report: &Value, cut: &str) {
    let (cost, tokens, wasted, outcomes) =
        (FloatGauges::default(), FloatGauges::default(), FloatGauges::default(), FloatGauges::default());
    for row in report["rows"].as_array().into_iter().flatten() {
        let key = row["key"].as_str().unwrap_or_default().to_string();
        let labels = |extra: Option<(&str, &str)>| -> Labels {
            let mut labels = vec![(cut.to_string(), key.clone())];
            labels.extend(extra.map(|(k, v)| (k.to_string(), v.to_string())));
            labels
        };
        cost.get_or_create(&labels(None)).set(number(&row["cost"]));
        for (kind, count) in row["tokens"].as_object().into_iter().flatten() {
            tokens.get_or_create(&labels(Some(("kind", kind)))).set(number(count));
        }
        for fate in ["rejected", "reverted", "never_shipped"] {
            wasted.get_or_create(&labels(Some(("fate", fate)))).set(number(&row["wasted"][fate]));
        }
        if cut == "team" {
            for kind in ["commits", "ai_commits", "merged_prs", "rejected_prs", "tickets", "deploys", "incidents"] {
                outcomes.get_or_create(&labels(Some(("kind", kind)))).set(number(&row["output"][kind]));
            }
        }
    }
    let by = format!("by {cut}, over all stored usage as of the report's time");
    registry.register(format!("freight_{cut}_cost_usd"), format!("Spend in USD, {by}"), cost);
    registry.register(format!("freight_{cut}_tokens"), format!("Tokens by kind, {by}"), tokens);
    registry.register(format!("freight_{cut}_wasted_usd"), format!("Wasted spend in USD by fate, {by}"), wasted);
    if cut == "team" {
        registry.register("freight_team_outcomes", format!("Outcomes by kind, {by}"), outcomes);
    }
}

fn counter(registry: &mut Registry, name: &str, help: &str, value: &AtomicU64) {
    let counter: Counter = Counter::default();
    counter.inc_by(value.load(Ordering::Relaxed));
    registry.register(name, help, counter);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, value: i64) {
    let gauge: Gauge = Gauge::default();
    gauge.set(value);
    registry.register(name, help, gauge);
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<Shared>) -> Response {
    let mut registry = Registry::default();
    for cut in ["team", "model"] {
        let query = ReportQuery { cut: Some(cut.into()), ..ReportQuery::default() };
        let key = match cut {
            "team" => crate::api::overview_key().0,
            _ => serde_json::to_string(&("pillars", &query)).unwrap_or_default(),
        };
        let reports = state.reports.clone();
        match state.report_cache.get(key, move || reports.pillars(&query)).await {
            // Only the rows are read: rendered once per computed report, then parsed small.
            Ok(report) => match report
                .rendered("metrics rows", Some(&["rows"]), |document| {
                    Ok(serde_json::to_vec(&document["rows"]).unwrap_or_default())
                })
                .map(|rows| serde_json::from_slice::<Value>(&rows).unwrap_or_default())
            {
                Ok(rows) => report_families(&mut registry, &serde_json::json!({ "rows": rows }), cut),
                Err(_) => eprintln!("freight serve: /metrics could not read the report by {cut}"),
            },
            Err(error) => eprintln!("freight serve: /metrics could not compute the report by {cut}: {error}"),
        }
    }
    let store = state.store.stats();
    counter(&mut registry, "freight_store_events_stored", "Usage events stored", &store.events_stored);
    counter(&mut registry, "freight_store_duplicates", "Events dropped as already stored (retries)", &store.duplicates);
    counter(&mut registry, "freight_wal_writes", "Group commits written and fsync'd", &store.wal_writes);
    counter(&mut registry, "freight_wal_bytes", "Bytes written to the WAL", &store.wal_bytes);
    counter(&mut registry, "freight_store_flushes", "Flushes into Parquet", &store.flushes);
    counter(&mut registry, "freight_store_compactions", "Day compactions", &store.compactions);
    counter(&mut registry, "freight_store_flush_errors", "Flushes that failed (retried)", &store.flush_errors);
    gauge(
        &mut registry,
        "freight_store_unflushed_events",
        "Events in the WAL not yet in Parquet",
        store.unflushed.load(Ordering::Relaxed) as i64,
    );
    gauge(
        &mut registry,
        "freight_store_failed",
        "1 when the store stopped taking writes",
        i64::from(state.store.failure().is_some()),
    );
    let intake = &state.stats;
    counter(&mut registry, "freight_intake_requests", "Intake requests received", &intake.requests);
    counter(&mut registry, "freight_intake_refused", "Intake requests refused (4xx)", &intake.refused);
    counter(&mut registry, "freight_intake_records", "Usage records received", &intake.records);
    counter(&mut registry, "freight_intake_rejected", "Usage records rejected (partial success)", &intake.rejected);
    counter(&mut registry, "freight_intake_metric_points", "Token metric points kept", &intake.metric_points);
    counter(&mut registry, "freight_intake_webhooks", "Webhook deliveries received", &intake.webhooks);
    let repos = freight_store::repos(state.store.dir()).map(|repos| repos.len()).unwrap_or(0);
    gauge(&mut registry, "freight_repos_registered", "Registered git repositories", repos as i64);
    let mut text = String::new();
    if let Err(error) = encode(&mut text, &registry) {
        return Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response();
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
