//! freight against ccusage (the peer, pinned at 20.0.24) on the same generated logs: per day
//! and model, tokens equal exactly and cost within a millionth. `scripts/test.sh` installs
//! ccusage and sets FREIGHT_CCUSAGE; without it these tests say so and pass, unless
//! FREIGHT_REQUIRE_CCUSAGE=1 (as CI sets) makes a missing ccusage a failure.

use crate::fixtures::{Call, project_file};
use crate::support::{freight_json, generate, write_lines};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ccusage() -> Option<PathBuf> {
    match std::env::var_os("FREIGHT_CCUSAGE") {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var("FREIGHT_REQUIRE_CCUSAGE").is_ok_and(|v| v == "1") => {
            panic!("FREIGHT_REQUIRE_CCUSAGE=1 but FREIGHT_CCUSAGE is not set; run scripts/test.sh")
        }
        None => {
            eprintln!("ccusage parity skipped: run scripts/test.sh to install ccusage@20.0.24");
            None
        }
    }
}

fn run_ccusage(program: &Path, agent: &str, variable: &str, dir: &Path, home: &Path) -> Value {
    let output = Command::new(program)
        .args([agent, "daily", "--json", "--offline", "--timezone", "UTC"])
        .env(variable, dir)
        .env("HOME", home)
        .env_remove(if variable == "CODEX_HOME" { "CLAUDE_CONFIG_DIR" } else { "CODEX_HOME" })
        .output()
        .expect("ccusage runs");
    assert!(output.status.success(), "ccusage failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("ccusage prints JSON")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1e-3)
}

/// (input, output, cache write, cache read) as ccusage counts them.
fn freight_tokens(tokens: &Value) -> [u64; 4] {
    let get = |key: &str| tokens[key].as_u64().expect("count");
    [get("input"), get("output"), get("cache_write_5m") + get("cache_write_1h"), get("cache_read")]
}

fn ccusage_tokens(entry: &Value) -> [u64; 4] {
    let get = |key: &str| entry[key].as_u64().expect("count");
    [get("inputTokens"), get("outputTokens"), get("cacheCreationTokens"), get("cacheReadTokens")]
}

/// Per day and model, tokens equal and cost within a millionth. `<synthetic>` (Claude Code's own
/// error messages, $0) is listed by freight and left out by ccusage.
fn assert_claude_parity(ours: &Value, theirs: &Value) {
    let their_days = theirs["daily"].as_array().expect("daily");
    let our_days = ours["periods"].as_array().expect("periods");
    assert_eq!(our_days.len(), their_days.len(), "same days");
    for (our_day, their_day) in our_days.iter().zip(their_days) {
        assert_eq!(our_day["period"], their_day["date"]);
        let theirs_by_model: Vec<(&str, &Value)> = their_day["modelBreakdowns"]
            .as_array()
            .expect("breakdowns")
            .iter()
            .map(|entry| (entry["modelName"].as_str().expect("model"), entry))
            .collect();
        let our_models: Vec<&Value> = our_day["models"]
            .as_array()
            .expect("models")
            .iter()
            .filter(|line| line["model"] != "<synthetic>")
            .collect();
        assert_eq!(
            our_models.len(),
            theirs_by_model.len(),
            "{}: {our_models:?} vs {theirs_by_model:?}",
            our_day["period"]
        );
        for line in our_models {
            let model = line["model"].as_str().expect("model");
            let (_, entry) = theirs_by_model.iter().find(|(name, _)| *name == model).expect("ccusage has the model");
            assert_eq!(freight_tokens(&line["tokens"]), ccusage_tokens(entry), "{} {model}", our_day["period"]);
            let (ours, theirs) = (line["cost_usd"].as_f64().expect("cost"), entry["cost"].as_f64().expect("cost"));
            assert!(close(ours, theirs), "{} {model}: {ours} vs {theirs}", our_day["period"]);
        }
    }
    let (our_cost, their_cost) =
        (ours["totals"]["cost_usd"].as_f64().expect("cost"), theirs["totals"]["totalCost"].as_f64().expect("cost"));
    assert!(close(our_cost, their_cost), "total {our_cost} vs {their_cost}");
    assert_eq!(
        freight_tokens(&ours["totals"]["tokens"]).iter().sum::<u64>(),
        theirs["totals"]["totalTokens"].as_u64().expect("total")
    );
}

fn claude_reports(program: &Path, root: &Path) -> (Value, Value) {
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let claude = root.join("claude");
    let theirs = run_ccusage(program, "claude", "CLAUDE_CONFIG_DIR", &claude, &home);
    let ours = freight_json(&[
        "usage",
        "daily",
        "--json",
        "--tool",
        "claude",
        "--claude-dir",
        claude.to_str().expect("utf-8"),
    ]);
    (ours, theirs)
}

#[test]
fn claude_daily_matches_ccusage() {
    let Some(program) = ccusage() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 30_000, 21, false);
    let (ours, theirs) = claude_reports(&program, dir.path());
    assert!(ours["periods"].as_array().expect("periods").len() > 10);
    assert_claude_parity(&ours, &theirs);
}

#[test]
fn claude_fixture_variants_match_ccusage() {
    let Some(program) = ccusage() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("claude");
    let first = Call::default();
    let early_copy = Call { output: 12, ..Call::default() };
    let one_hour = Call {
        message: "msg_4",
        request: "req_4",
        model: "claude-opus-4-6",
        write_5m: 0,
        write_1h: 40_000,
        ..Call::default()
    };
    let unknown = Call { message: "msg_5", request: "req_5", model: "acme-coder-9", ..Call::default() };
    let zero =
        Call { message: "msg_6", request: "req_6", input: 0, output: 0, write_5m: 0, read: 0, ..Call::default() };
    let synthetic = Call {
        message: "msg_8",
        request: "req_8",
        model: "<synthetic>",
        input: 0,
        output: 0,
        write_5m: 0,
        read: 0,
        ..Call::default()
    };
    let next_day = Call {
        message: "msg_9",
        request: "req_9",
        at: "2026-03-02T08:00:00.000Z",
        model: "claude-sonnet-4-6",
        ..Call::default()
    };
    // No requestId: copies are recognised by session and message id.
    let no_request = Call { message: "msg_7", request: "", ..Call::default() }.line().replace(r#""requestId":"","#, "");
    let user_line = r#"{"type":"user","sessionId":"s-1","message":{"role":"user","content":"hi"},"timestamp":"2026-03-01T09:59:00.000Z"}"#;
    write_lines(
        &project_file(&root, "s-1.jsonl"),
        &[
            user_line.to_string(),
            early_copy.line(),
            first.line(),
            one_hour.line(),
            unknown.line(),
            zero.line(),
            synthetic.line(),
            no_request.clone(),
            no_request,
            next_day.line(),
        ],
    );
    // A resumed session replays the first call; a subagent works on the sidechain.
    write_lines(&project_file(&root, "s-2.jsonl"), &[Call { session: "s-2", ..Call::default() }.line()]);
    let subagent = Call {
        message: "msg_3",
        request: "req_3",
        model: "claude-haiku-4-5-20251001",
        sidechain: true,
        ..Call::default()
    };
    write_lines(&project_file(&root, "s-1/subagents/agent-1.jsonl"), &[subagent.line()]);

    let (ours, theirs) = claude_reports(&program, dir.path());
    assert_eq!(ours["totals"]["calls"], 8, "msg_1, 3, 4, 5, 6, 7, 8, 9 once each: {}", ours["totals"]);
    assert_claude_parity(&ours, &theirs);
}

#[test]
fn codex_daily_matches_ccusage() {
    let Some(program) = ccusage() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), 60_000, 22, false);
    let codex = dir.path().join("codex");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let theirs = run_ccusage(&program, "codex", "CODEX_HOME", &codex, &home);
    let ours =
        freight_json(&["usage", "daily", "--json", "--tool", "codex", "--codex-dir", codex.to_str().expect("utf-8")]);

    let their_days = theirs["daily"].as_array().expect("daily");
    let our_days = ours["periods"].as_array().expect("periods");
    assert_eq!(our_days.len(), their_days.len(), "same days");
    for (our_day, their_day) in our_days.iter().zip(their_days) {
        assert_eq!(our_day["period"], their_day["date"]);
        let models = their_day["models"].as_object().expect("models");
        assert_eq!(our_day["models"].as_array().expect("models").len(), models.len());
        for line in our_day["models"].as_array().expect("models") {
            let entry = &models[line["model"].as_str().expect("model")];
            let tokens = &line["tokens"];
            assert_eq!(tokens["input"], entry["inputTokens"]);
            assert_eq!(tokens["cache_read"], entry["cacheReadTokens"]);
            assert_eq!(tokens["output"], entry["outputTokens"]);
            assert_eq!(tokens["reasoning"], entry["reasoningOutputTokens"]);
            assert_eq!(tokens["total"], entry["totalTokens"]);
        }
        let (ours, theirs) =
            (our_day["cost_usd"].as_f64().expect("cost"), their_day["costUSD"].as_f64().expect("cost"));
        assert!(close(ours, theirs), "{}: {ours} vs {theirs}", our_day["period"]);
    }
}
