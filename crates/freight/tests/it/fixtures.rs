//! Hand-written log lines, one behaviour each: exact cost, duplicate copies, survivors,
//! malformed lines, unpriced models, price bands, Codex running totals, time zones, fast mode.

use crate::support::{f64_at, freight, freight_json, u64_at, write_lines};
use serde_json::Value;
use std::path::Path;

/// One Claude Code assistant line.
pub struct Call<'a> {
    pub session: &'a str,
    pub message: &'a str,
    pub request: &'a str,
    pub model: &'a str,
    pub at: &'a str,
    pub input: u64,
    pub output: u64,
    pub write_5m: u64,
    pub write_1h: u64,
    pub read: u64,
    pub sidechain: bool,
    pub speed: Option<&'a str>,
}

impl Default for Call<'_> {
    fn default() -> Self {
        Call {
            session: "s-1",
            message: "msg_1",
            request: "req_1",
            model: "claude-sonnet-4-5-20250929",
            at: "2026-03-01T10:00:00.000Z",
            input: 3,
            output: 172,
            write_5m: 1331,
            write_1h: 0,
            read: 14874,
            sidechain: false,
            speed: None,
        }
    }
}

impl Call<'_> {
    pub fn line(&self) -> String {
        let speed = self.speed.map(|speed| format!(r#","speed":"{speed}""#)).unwrap_or_default();
        format!(
            r#"{{"parentUuid":null,"isSidechain":{},"userType":"external","cwd":"/home/dev/app","sessionId":"{}","version":"2.0.31","gitBranch":"main","message":{{"model":"{}","id":"{}","type":"message","role":"assistant","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{},"ephemeral_1h_input_tokens":{}}},"output_tokens":{}{speed}}}}},"requestId":"{}","type":"assistant","uuid":"u","timestamp":"{}"}}"#,
            self.sidechain,
            self.session,
            self.model,
            self.message,
            self.input,
            self.write_5m + self.write_1h,
            self.read,
            self.write_5m,
            self.write_1h,
            self.output,
            self.request,
            self.at
        )
    }
}

fn claude_daily(root: &Path, extra: &[&str]) -> Value {
    let dir = root.to_str().expect("utf-8");
    let mut args = vec!["usage", "daily", "--json", "--tool", "claude", "--claude-dir", dir];
    args.extend_from_slice(extra);
    freight_json(&args)
}

pub fn project_file(root: &Path, name: &str) -> std::path::PathBuf {
    root.join("projects").join("-home-dev-app").join(name)
}

#[test]
fn one_call_costs_exactly_what_the_price_list_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[Call::default().line()]);
    let report = claude_daily(dir.path(), &[]);
    // 3 × 3e-6 + 172 × 1.5e-5 + 14874 × 3e-7 + 1331 × 3.75e-6
    assert_eq!(report["totals"]["cost_usd_exact"], "0.01204245");
    assert_eq!(report["periods"][0]["period"], "2026-03-01");
    assert_eq!(u64_at(&report, &["totals", "tokens", "total"]), 3 + 172 + 14874 + 1331);
}

#[test]
fn copies_of_a_call_count_once_across_files_and_the_fuller_copy_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let early = Call { output: 10, ..Call::default() };
    let full = Call::default();
    let other = Call { message: "msg_2", request: "req_2", ..Call::default() };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[early.line(), full.line(), other.line()]);
    // A resumed session replays the first call under a new session id.
    let replay = Call { session: "s-2", ..Call::default() };
    write_lines(&project_file(dir.path(), "s-2.jsonl"), &[replay.line()]);
    let report = claude_daily(dir.path(), &[]);
    assert_eq!(u64_at(&report, &["totals", "calls"]), 2);
    assert_eq!(u64_at(&report, &["totals", "tokens", "output"]), 172 * 2);
    assert_eq!(u64_at(&report, &["ingest", "duplicates"]), 2);
}

#[test]
fn a_main_chain_copy_wins_over_a_sidechain_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sidechain = Call { sidechain: true, output: 500, ..Call::default() };
    let main_chain = Call { output: 172, ..Call::default() };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[sidechain.line(), main_chain.line()]);
    let report = claude_daily(dir.path(), &[]);
    assert_eq!(u64_at(&report, &["totals", "calls"]), 1);
    assert_eq!(u64_at(&report, &["totals", "tokens", "output"]), 172);
}

#[test]
fn malformed_lines_are_counted_with_file_and_line_and_strict_mode_stops_on_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let second = Call { message: "msg_2", request: "req_2", ..Call::default() };
    let path = project_file(dir.path(), "s-1.jsonl");
    write_lines(
        &path,
        &[Call::default().line(), r#"{"type":"assistant","message":{"usage":{"input_tok"#.into(), second.line()],
    );
    let report = claude_daily(dir.path(), &[]);
    assert_eq!(u64_at(&report, &["totals", "calls"]), 2, "the good lines around a bad one are kept");
    assert_eq!(u64_at(&report, &["ingest", "malformed_lines"]), 1);
    let example = &report["ingest"]["malformed_examples"][0];
    assert_eq!(example["line"], 2);
    assert!(example["path"].as_str().is_some_and(|p| p.ends_with("s-1.jsonl")), "{example}");

    let output = freight(&["usage", "daily", "--strict", "--claude-dir", dir.path().to_str().expect("utf-8")]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("s-1.jsonl:2"), "strict error names file and line: {stderr}");
}

#[test]
fn a_model_with_no_price_is_unpriced_not_free() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unknown = Call { model: "acme-coder-9", message: "msg_2", request: "req_2", ..Call::default() };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[Call::default().line(), unknown.line()]);
    let report = claude_daily(dir.path(), &[]);
    assert_eq!(report["unpriced_models"], serde_json::json!(["acme-coder-9"]));
    assert_eq!(u64_at(&report, &["totals", "unpriced_calls"]), 1);
    assert_eq!(report["totals"]["cost_usd_exact"], "0.01204245");
    let output = freight(&["usage", "daily", "--claude-dir", dir.path().to_str().expect("utf-8")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no price for acme-coder-9"), "{stderr}");
}

#[test]
fn a_price_band_is_chosen_on_the_whole_prompt_and_applies_to_every_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let prices = dir.path().join("prices.toml");
    std::fs::write(
        &prices,
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
    )
    .expect("write prices");
    let big = Call { model: "tiered-x", input: 100, read: 250_000, write_5m: 0, output: 1000, ..Call::default() };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[big.line()]);
    let report = claude_daily(dir.path(), &["--prices", prices.to_str().expect("utf-8")]);
    // 100 × 2e-6 + 250000 × 2e-7 + 1000 × 2e-5: every token at the above-200k rates.
    assert_eq!(report["totals"]["cost_usd_exact"], "0.0702");
}

#[test]
fn fast_mode_costs_the_models_fast_multiple() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fast = Call {
        model: "claude-opus-4-6",
        input: 1000,
        output: 1000,
        read: 0,
        write_5m: 0,
        speed: Some("fast"),
        ..Call::default()
    };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[fast.line()]);
    let report = claude_daily(dir.path(), &[]);
    // (1000 × 5e-6 + 1000 × 2.5e-5) × 6
    assert_eq!(report["totals"]["cost_usd_exact"], "0.18");
}

#[test]
fn days_are_cut_in_the_chosen_time_zone_and_filters_apply_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let late = Call { at: "2026-03-01T23:30:00.000Z", ..Call::default() };
    write_lines(&project_file(dir.path(), "s-1.jsonl"), &[late.line()]);
    let utc = claude_daily(dir.path(), &[]);
    assert_eq!(utc["periods"][0]["period"], "2026-03-01");
    let berlin = claude_daily(dir.path(), &["--timezone", "Europe/Berlin"]);
    assert_eq!(berlin["periods"][0]["period"], "2026-03-02");
    let filtered = claude_daily(dir.path(), &["--timezone", "Europe/Berlin", "--since", "20260302"]);
    assert_eq!(u64_at(&filtered, &["totals", "calls"]), 1);
    let filtered = claude_daily(dir.path(), &["--since", "2026-03-02"]);
    assert_eq!(u64_at(&filtered, &["totals", "calls"]), 0);
}

#[test]
fn codex_usage_is_the_last_call_with_cached_input_apart_and_repeats_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let context = r#"{"timestamp":"2026-03-01T10:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/dev/app","model":"gpt-5","effort":"medium"}}"#;
    let count = r#"{"timestamp":"2026-03-01T10:00:20.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":18000,"cached_input_tokens":12000,"output_tokens":600,"reasoning_output_tokens":188,"total_tokens":18600},"last_token_usage":{"input_tokens":18000,"cached_input_tokens":12000,"output_tokens":600,"reasoning_output_tokens":188,"total_tokens":18600}}}}"#;
    let path = dir.path().join("sessions/2026/03/01/rollout-2026-03-01T10-00-00-abc.jsonl");
    write_lines(&path, &[context.into(), count.into(), count.into()]);
    let report = freight_json(&[
        "usage",
        "daily",
        "--json",
        "--tool",
        "codex",
        "--codex-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(u64_at(&report, &["totals", "calls"]), 1);
    assert_eq!(u64_at(&report, &["totals", "tokens", "input"]), 6000);
    assert_eq!(u64_at(&report, &["totals", "tokens", "cache_read"]), 12000);
    // 6000 × 1.25e-6 + 12000 × 1.25e-7 + 600 × 1e-5
    assert_eq!(report["totals"]["cost_usd_exact"], "0.015");
    assert!((f64_at(&report, &["totals", "cost_usd"]) - 0.015).abs() < 1e-12);
}
