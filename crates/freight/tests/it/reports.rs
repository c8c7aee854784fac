//! Whole reports over a generated organisation: every view adds up to the same totals, parts
//! add up to wholes, output is deterministic, and bad arguments get errors that name them.

use crate::support::{f64_at, freight, freight_json, generate, u64_at};
use serde_json::Value;
use std::path::Path;

fn report(dir: &Path, view: &str, extra: &[&str]) -> Value {
    let claude = dir.join("claude");
    let codex = dir.join("codex");
    let mut args = vec![
        "usage",
        view,
        "--json",
        "--claude-dir",
        claude.to_str().expect("utf-8"),
        "--codex-dir",
        codex.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    freight_json(&args)
}

/// The token and call totals of a report, summed from its rows (not read from `totals`).
fn summed(rows: &Value) -> (u64, u64, f64) {
    let rows = rows.as_array().expect("rows");
    let calls = rows.iter().map(|row| u64_at(row, &["calls"])).sum();
    let tokens = rows.iter().map(|row| u64_at(row, &["tokens", "total"])).sum();
    let cost = rows.iter().map(|row| f64_at(row, &["cost_usd"])).sum();
    (calls, tokens, cost)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(1.0)
}

#[test]
fn every_view_adds_up_to_the_same_totals() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 12_000, 5, true);
    let daily = report(dir.path(), "daily", &[]);
    let total_calls = u64_at(&daily, &["totals", "calls"]);
    let total_tokens = u64_at(&daily, &["totals", "tokens", "total"]);
    let total_cost = f64_at(&daily, &["totals", "cost_usd"]);
    assert!(total_calls > 1000, "the generator wrote calls: {total_calls}");
    assert!(u64_at(&daily, &["ingest", "duplicates"]) > 0, "content-block copies were found");

    for (view, key) in [
        ("daily", "periods"),
        ("weekly", "periods"),
        ("monthly", "periods"),
        ("session", "sessions"),
        ("blocks", "blocks"),
    ] {
        let report = report(dir.path(), view, &[]);
        let (calls, tokens, cost) = summed(&report[key]);
        assert_eq!(calls, total_calls, "{view} calls");
        assert_eq!(tokens, total_tokens, "{view} tokens");
        assert!(close(cost, total_cost), "{view} cost {cost} vs {total_cost}");
        assert_eq!(u64_at(&report, &["totals", "calls"]), total_calls, "{view} totals");
    }

    for period in daily["periods"].as_array().expect("periods") {
        let (calls, tokens, cost) = summed(&period["models"]);
        assert_eq!(calls, u64_at(period, &["calls"]));
        assert_eq!(tokens, u64_at(period, &["tokens", "total"]));
        assert!(close(cost, f64_at(period, &["cost_usd"])));
        let parts = ["input", "output", "cache_read", "cache_write_5m", "cache_write_1h"]
            .iter()
            .map(|kind| u64_at(period, &["tokens", kind]))
            .sum::<u64>();
        assert_eq!(parts, u64_at(period, &["tokens", "total"]), "kinds add up to the total");
    }
}

#[test]
fn the_generated_variants_show_up_as_such() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 40_000, 11, true);
    let daily = report(dir.path(), "daily", &[]);
    assert_eq!(daily["unpriced_models"], serde_json::json!(["acme-internal-coder-2"]));
    assert!(u64_at(&daily, &["totals", "unpriced_calls"]) > 0);
    assert!(u64_at(&daily, &["ingest", "malformed_lines"]) > 0);
    assert!(u64_at(&daily, &["totals", "tokens", "cache_write_1h"]) > 0);
    assert!(u64_at(&daily, &["totals", "tokens", "reasoning"]) > 0, "Codex reasoning tokens");
}

#[test]
fn a_seed_gives_the_same_logs_and_the_same_report() {
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    generate(first.path(), 5_000, 9, true);
    generate(second.path(), 5_000, 9, true);
    let a = report(first.path(), "daily", &[]);
    let b = report(second.path(), "daily", &[]);
    assert_eq!(a["periods"], b["periods"]);
    assert_eq!(a["totals"], b["totals"]);
}

#[test]
fn weeks_start_on_the_day_asked_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 3_000, 2, false);
    for (start, weekday) in [("sunday", chrono::Weekday::Sun), ("monday", chrono::Weekday::Mon)] {
        let weekly = report(dir.path(), "weekly", &["--start-of-week", start]);
        for period in weekly["periods"].as_array().expect("periods") {
            let day =
                chrono::NaiveDate::parse_from_str(period["period"].as_str().expect("key"), "%Y-%m-%d").expect("date");
            assert_eq!(chrono::Datelike::weekday(&day), weekday, "{period}");
        }
    }
}

#[test]
fn tables_show_totals_and_notes_go_to_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 20_000, 3, true);
    let claude = dir.path().join("claude");
    let output = freight(&["usage", "daily", "--claude-dir", claude.to_str().expect("utf-8"), "--tool", "claude"]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Total") && stdout.contains("Cost (USD)"), "{stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("malformed lines were skipped"), "{stderr}");
}

#[test]
fn bad_arguments_get_errors_that_name_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 500, 1, false);
    let claude = dir.path().join("claude");
    let claude = claude.to_str().expect("utf-8");
    for (flag, value, expected) in [
        ("--since", "last tuesday", "--since `last tuesday`"),
        ("--timezone", "Mars/Olympus", "Mars/Olympus"),
        ("--as-of", "yesterday", "--as-of `yesterday`"),
    ] {
        let output = freight(&["usage", "daily", "--claude-dir", claude, flag, value]);
        assert!(!output.status.success(), "{flag} {value} is rejected");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flag}: {stderr}");
    }
    let empty = tempfile::tempdir().expect("tempdir");
    let output =
        freight(&["usage", "daily", "--claude-dir", empty.path().to_str().expect("utf-8"), "--tool", "claude"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no agent logs found"));
}
