//! `freight report` end to end: a real repository (written with freight-git), agent logs whose
//! sessions worked in it, an org directory and a PR file; every pillar figure checked against
//! what was built.

use crate::support::{freight_json, write_lines};
use freight_git::write::{Change, RepoWriter, Stamp};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// 2026-11-02T09:00:00Z
const T0: i64 = 1_793_610_000;
const MINUTE: i64 = 60;
const HOUR: i64 = 3600;

fn iso(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).expect("time").to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One assistant call of `session`, in `cwd` on `branch`.
fn call(session: &str, n: usize, at: i64, cwd: &str, branch: &str, output: u64) -> String {
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"{cwd}","sessionId":"{session}","version":"2.0.31","gitBranch":"{branch}","message":{{"model":"claude-sonnet-4-5-20250929","id":"msg_{session}_{n}","type":"message","role":"assistant","content":[{{"type":"text","text":"ok"}}],"usage":{{"input_tokens":120,"cache_creation_input_tokens":0,"cache_read_input_tokens":5000,"output_tokens":{output}}}}},"requestId":"req_{session}_{n}","type":"assistant","uuid":"u","timestamp":"{}"}}"#,
        iso(at)
    )
}

fn session_file(logs: &Path, session: &str, lines: Vec<String>) {
    write_lines(&logs.join("projects").join("-work-payments").join(format!("{session}.jsonl")), &lines);
}

fn lines(n: usize, tag: &str) -> String {
    (0..n).map(|i| format!("{tag} {i}\n")).collect()
}

fn alice(seconds: i64) -> Stamp<'static> {
    Stamp { name: "Alice", email: "alice@acme.dev", seconds, offset: 0 }
}

fn money(value: &Value) -> Decimal {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a decimal string")).parse().expect("decimal")
}

struct Fixture {
    _dir: tempfile::TempDir,
    args: Vec<String>,
    shas: HashMap<&'static str, String>,
}

fn build() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_path = dir.path().join("payments");
    let cwd = repo_path.to_str().expect("utf-8").to_string();
    let repo = RepoWriter::init(&repo_path).expect("init");
    repo.set_user_email("alice@acme.dev").expect("config");
    let mut shas = HashMap::new();
    shas.insert(
        "base",
        repo.commit("main", alice(T0 - 86_400), "Initial", &[Change { path: "README.md", content: Some("hi\n") }])
            .expect("c"),
    );
    // s-exact: names itself in a trailer; 30 lines.
    let exact = lines(30, "exact");
    shas.insert(
        "exact",
        repo.commit(
            "main",
            alice(T0 + 25 * MINUTE),
            "Add ledger\n\nFreight-Session: s-exact\nCo-Authored-By: Claude <noreply@anthropic.com>",
            &[Change { path: "ledger.rs", content: Some(&exact) }],
        )
        .expect("c"),
    );
    // s-heur: a commit inside its window, no trailer.
    let heur = lines(10, "heur");
    shas.insert(
        "heur",
        repo.commit(
            "main",
            alice(T0 + HOUR + 15 * MINUTE),
            "Fix rounding",
            &[Change { path: "round.rs", content: Some(&heur) }],
        )
        .expect("c"),
    );
    // s-rev: its commit is reverted the next day.
    let reverted = lines(8, "rev");
    let rev = repo
        .commit(
            "main",
            alice(T0 + 2 * HOUR + 10 * MINUTE),
            "Risky change\n\nFreight-Session: s-rev",
            &[Change { path: "risky.rs", content: Some(&reverted) }],
        )
        .expect("c");
    shas.insert(
        "revert",
        repo.commit(
            "main",
            alice(T0 + 26 * HOUR),
            &format!("Revert \"Risky change\"\n\nThis reverts commit {rev}."),
            &[Change { path: "risky.rs", content: None }],
        )
        .expect("c"),
    );
    shas.insert("rev", rev);

    let logs = dir.path().join("claude");
    session_file(
        &logs,
        "s-exact",
        (0..3).map(|n| call("s-exact", n, T0 + n as i64 * 5 * MINUTE, &cwd, "main", 400)).collect(),
    );
    session_file(
        &logs,
        "s-heur",
        (0..2).map(|n| call("s-heur", n, T0 + HOUR + n as i64 * 10 * MINUTE, &cwd, "main", 300)).collect(),
    );
    session_file(
        &logs,
        "s-rev",
        (0..2).map(|n| call("s-rev", n, T0 + 2 * HOUR + n as i64 * MINUTE, &cwd, "main", 200)).collect(),
    );
    session_file(
        &logs,
        "s-none",
        (0..4).map(|n| call("s-none", n, T0 + 3 * HOUR + n as i64 * MINUTE, &cwd, "main", 900)).collect(),
    );
    session_file(
        &logs,
        "s-pr",
        (0..2).map(|n| call("s-pr", n, T0 + 5 * HOUR + n as i64 * MINUTE, &cwd, "alice/spike", 700)).collect(),
    );

    let org = dir.path().join("org.toml");
    std::fs::write(
        &org,
        "[[person]]\nid = \"alice\"\nemails = [\"alice@acme.dev\"]\nteam = \"payments-team\"\ncost_centre = \"CC-7\"\n",
    )
    .expect("org");
    let prs = dir.path().join("prs.csv");
    std::fs::write(
        &prs,
        format!("repo,number,author,head_branch,opened_at,closed_at,additions,deletions\npayments,12,alice@acme.dev,alice/spike,{},{},50,0\n", iso(T0 + 6 * HOUR), iso(T0 + 30 * HOUR)),
    )
    .expect("prs");
    let deploys = dir.path().join("deploys.csv");
    std::fs::write(
        &deploys,
        format!(
            "repo,sha,environment,status,at,creator\npayments,{},production,success,{},alice@acme.dev\n",
            &shas["heur"][..12],
            iso(T0 + 3 * HOUR)
        ),
    )
    .expect("deploys");
    let args = vec![
        "report".into(),
        "--json".into(),
        "--claude-dir".into(),
        logs.display().to_string(),
        "--tool".into(),
        "claude".into(),
        "--repo".into(),
        repo_path.display().to_string(),
        "--org".into(),
        org.display().to_string(),
        "--prs".into(),
        prs.display().to_string(),
        "--as-of".into(),
        iso(T0 + 30 * 86_400).replace(".000", ""),
        "--deploys".into(),
        deploys.display().to_string(),
    ];
    Fixture { _dir: dir, args, shas }
}

fn session_costs(fixture: &Fixture) -> HashMap<String, Decimal> {
    let logs = &fixture.args[3];
    let sessions = freight_json(&["usage", "session", "--json", "--claude-dir", logs]);
    sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| (s["session_id"].as_str().expect("id").to_string(), money(&s["cost_usd_exact"])))
        .collect()
}

#[test]
fn pillars_join_spend_to_what_it_bought() {
    let fixture = build();
    let args: Vec<&str> = fixture
        .args
        .iter()
        .map(String::as_str)
        .chain(["--by", "person", "--review-rate", "90", "--review-minutes", "40"])
        .collect();
    let report = freight_json(&args);
    let costs = session_costs(&fixture);
    let total: Decimal = costs.values().sum();
    let close = |a: Decimal, b: Decimal| (a - b).abs() < Decimal::new(1, 9);

    let pillars = &report["total"];
    assert!(close(money(&pillars["cost"]), total), "cost {} vs sessions {}", pillars["cost"], total);
    assert!(close(money(&pillars["wasted"]["reverted"]), costs["s-rev"]), "{}", pillars["wasted"]);
    assert!(close(money(&pillars["wasted"]["rejected"]), costs["s-pr"]), "{}", pillars["wasted"]);
    assert!(close(money(&pillars["wasted"]["never_shipped"]), costs["s-none"]), "{}", pillars["wasted"]);
    assert!(close(money(&pillars["shipped_cost"]), costs["s-exact"] + costs["s-heur"]));
    assert!(close(money(&pillars["exact_linked_cost"]), costs["s-exact"] + costs["s-rev"]));
    assert!(close(money(&pillars["heuristic_linked_cost"]), costs["s-heur"] + costs["s-pr"]));

    // Output: four non-merge commits after the base... five in all, two with trailers.
    assert_eq!(pillars["output"]["commits"], 5.0);
    assert_eq!(pillars["output"]["ai_commits"], 2.0);
    assert_eq!(pillars["output"]["rejected_prs"], 1.0);
    assert_eq!(pillars["output"]["surviving_ai_lines"], 30, "the reverted commit's lines are gone");
    // The deploy of the heuristic commit shipped the AI commit before it, not the one after.
    assert_eq!(pillars["output"]["deployed_ai_commits"], 1.0);
    assert_eq!(pillars["output"]["deploys"], 1.0);

    // The person cut: everything is alice's, in her team.
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["key"], "alice");

    // Line items name what the money was wasted on.
    let waste = report["waste"].as_array().expect("waste");
    let reverted = waste.iter().find(|w| w["fate"] == "reverted").expect("reverted item");
    assert_eq!(reverted["outcome"]["sha"], fixture.shas["rev"].as_str());
    assert_eq!(reverted["reverted_by"], fixture.shas["revert"].as_str());
    let rejected = waste.iter().find(|w| w["fate"] == "rejected").expect("rejected item");
    assert_eq!(rejected["outcome"]["number"], 12);
    assert_eq!(rejected["sessions"][0], "s-pr");
    let never = waste.iter().find(|w| w["fate"] == "never_shipped").expect("never shipped item");
    assert_eq!(never["sessions"][0], "s-none");

    // The rejected PR's review time, costed at the given rate: paid twice.
    assert_eq!(money(&report["double_billed"]["amount"]), Decimal::from(60), "{}", report["double_billed"]);
    assert_eq!(report["double_billed"]["pull_requests"][0]["number"], 12);

    assert_eq!(report["links"]["exact_links"], 2);
    assert_eq!(report["links"]["heuristic_links"], 2);
    assert_eq!(report["links"]["linked_sessions"], 4);
}

#[test]
fn team_cut_and_as_of_settle_late_outcomes() {
    let fixture = build();
    // As of the morning after the work, before the revert and the PR's closing: the risky
    // commit still stands, the PR is open and s-none is inside its grace period.
    let early = iso(T0 + 20 * HOUR).replace(".000", "");
    let mut args: Vec<&str> = fixture.args.iter().map(String::as_str).collect();
    let position = args.iter().position(|a| *a == "--as-of").expect("as-of") + 1;
    args[position] = &early;
    args.extend(["--by", "team"]);
    let report = freight_json(&args);
    let costs = session_costs(&fixture);
    let pillars = &report["total"];
    assert_eq!(money(&pillars["wasted"]["total"]), Decimal::ZERO, "{}", pillars["wasted"]);
    assert!((money(&pillars["pending_cost"]) - costs["s-none"] - costs["s-pr"]).abs() < Decimal::new(1, 9));
    assert_eq!(report["rows"][0]["key"], "payments-team");
    assert_eq!(pillars["output"]["commits"], 4.0, "the revert came later");
}

/// One call with a chosen model, output size and content.
fn model_call(session: &str, n: usize, model: &str, output: u64, content: &str) -> String {
    format!(
        r#"{{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/w/x","sessionId":"{session}","version":"2.0.31","gitBranch":"main","message":{{"model":"{model}","id":"msg_{session}_{n}","type":"message","role":"assistant","content":[{content}],"usage":{{"input_tokens":40,"cache_creation_input_tokens":0,"cache_read_input_tokens":9000,"output_tokens":{output}}}}},"requestId":"req_{session}_{n}","type":"assistant","uuid":"u","timestamp":"{}"}}"#,
        iso(T0 + n as i64 * 60)
    )
}

#[test]
fn work_moves_to_a_cheaper_tier_only_where_that_tier_shipped_as_often() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_path = dir.path().join("x");
    // Ten days on, three small changes on the frontier model ship (each commit names its
    // session); three on the standard model do not.
    let t1 = T0 + 10 * 86_400;
    let repo = RepoWriter::init(&repo_path).expect("init");
    repo.commit("main", alice(T0), "Initial", &[Change { path: "a", content: Some("1\n") }]).expect("c");
    for n in 0..3 {
        let message = format!("Change {n}\n\nFreight-Session: edit-frontier-{n}");
        let content = format!("{n}\n");
        repo.commit("main", alice(t1 + 300 + n), &message, &[Change { path: "b", content: Some(&content) }])
            .expect("commit");
    }
    let logs = dir.path().join("claude");
    let text = r#"{"type":"text","text":"done"}"#;
    let edit = r#"{"type":"tool_use","id":"toolu_1","name":"Edit","input":{"file_path":"/w/x/b","old_string":"a","new_string":"b"}}"#;
    let file = |name: &str, lines: Vec<String>| {
        write_lines(&logs.join("projects").join("-w-x").join(format!("{name}.jsonl")), &lines)
    };
    // Questions: the same calls on the frontier and the standard model; both ship (the
    // initial commit is inside their window), so the frontier's questions move down.
    file("routine", (0..3).map(|n| model_call("routine", n, "claude-opus-4-6", 120, text)).collect());
    file("twin", (0..3).map(|n| model_call("twin", n, "claude-sonnet-4-5-20250929", 120, text)).collect());
    let at_t1 = |line: String| {
        line.replace(&iso(T0), &iso(t1)).replace(&iso(T0 + 60), &iso(t1 + 60)).replace(&iso(T0 + 120), &iso(t1 + 120))
    };
    for n in 0..3 {
        let (frontier, standard) = (format!("edit-frontier-{n}"), format!("edit-standard-{n}"));
        file(&frontier, (0..3).map(|c| at_t1(model_call(&frontier, c, "claude-opus-4-6", 900, edit))).collect());
        file(
            &standard,
            (0..3).map(|c| at_t1(model_call(&standard, c, "claude-sonnet-4-5-20250929", 900, edit))).collect(),
        );
    }
    let portfolio = dir.path().join("portfolio.toml");
    std::fs::write(&portfolio, "[portfolio]\nmin_sessions = 1\n").expect("portfolio");
    let logs_arg = logs.display().to_string();
    let sessions = freight_json(&["usage", "session", "--json", "--claude-dir", &logs_arg]);
    let cost = |id: &str| -> Decimal {
        let session =
            sessions["sessions"].as_array().expect("sessions").iter().find(|s| s["session_id"] == id).expect("session");
        money(&session["cost_usd_exact"])
    };
    let report = freight_json(&[
        "report",
        "--json",
        "--claude-dir",
        &logs_arg,
        "--repo",
        repo_path.to_str().expect("utf-8"),
        "--portfolio",
        portfolio.to_str().expect("utf-8"),
    ]);
    let optimizable = &report["optimizable"];
    let classes = optimizable["classes"].as_array().expect("classes");
    let cell = |class: &str, tier: &str| {
        classes
            .iter()
            .find(|c| c["class"] == class && c["tier"] == tier)
            .cloned()
            .unwrap_or_else(|| panic!("{class} {tier}: {classes:?}"))
    };
    assert_eq!(cell("question", "frontier")["moved_to"], "standard", "{classes:?}");
    assert_eq!(cell("question", "frontier")["outcome_rate"], 1.0);
    assert_eq!(cell("small_change", "frontier")["outcome_rate"], 1.0);
    assert_eq!(cell("small_change", "standard")["outcome_rate"], 0.0);
    // Where the cheaper tier did worse, nothing moves and nothing is saved.
    assert!(cell("small_change", "frontier")["moved_to"].is_null());
    assert_eq!(money(&cell("small_change", "frontier")["saving"]), Decimal::ZERO);
    // The frontier question's calls, re-priced on the standard model: its twin's cost.
    let routing = money(&optimizable["routing"]);
    assert!((routing - (cost("routine") - cost("twin"))).abs() < Decimal::new(1, 9), "{optimizable}");
    let items: Vec<&Value> =
        optimizable["items"].as_array().expect("items").iter().filter(|item| item["kind"] == "routing").collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["calls"], 3);
    assert!(!optimizable["assumptions"].as_array().expect("assumptions").is_empty());
}
