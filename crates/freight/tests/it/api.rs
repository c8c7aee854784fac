//! The server's API against the CLI and its access rules: every route in the checked-in
//! OpenAPI document walked with every role, the JSON equal to `freight report --json` for the
//! same inputs and as-of time, exports, Prometheus and the audit log.

use crate::serve::Server;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_freight");
/// One as-of time for every report of a test run (the demo company works until yesterday).
static AS_OF: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));

fn token(data: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN).args(["token", "create", "--data-dir"]).arg(data).args(args).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8").trim().to_string()
}

/// A served demo company with `trust_localhost = false`, so loopback is treated as off-host.
fn demo_server(dir: &Path) -> (Server, std::path::PathBuf) {
    let data = dir.join("data");
    let config = dir.join("freight.toml");
    std::fs::write(
        &config,
        "[auth]\ntrust_localhost = false\n[api]\ncache_secs = 3600\n[org]\nmine_interval_secs = 0\n",
    )
    .expect("config");
    let args = ["--config", config.to_str().expect("utf-8"), "--demo", "--demo-lines", "20000"];
    let server = Server::start_with(&data, &[], &args, Duration::from_secs(600));
    (server, data)
}

fn get_json(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let (status, body) = server.get(path, &[("Authorization", &auth)]);
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn cli_report(data: &Path, extra: &[&str]) -> Value {
    let org = data.join("demo-company/org.toml");
    let output = Command::new(BIN)
        .args(["report", "--json", "--as-of", AS_OF.as_str(), "--store"])
        .arg(data)
        .arg("--org")
        .arg(&org)
        .args(extra)
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("json")
}

/// Every (method, path) in the checked-in OpenAPI document, path parameters filled in.
fn documented_routes() -> Vec<(String, String)> {
    let doc: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json")).expect("openapi json");
    let mut routes = Vec::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            let concrete = path.replace("{view}", "daily").replace("{kind}", "tickets");
            routes.push((method.to_uppercase(), concrete));
        }
    }
    routes
}

#[test]
fn every_documented_route_keeps_each_role_within_its_reach() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, data) = demo_server(dir.path());
    let as_of = AS_OF.as_str();
    let tokens: BTreeMap<&str, String> = [
        ("admin", token(&data, &["--role", "admin"])),
        ("finance", token(&data, &["--role", "finance"])),
        ("lead", token(&data, &["--role", "team-lead", "--team", "payments"])),
        ("engineer", token(&data, &["--role", "engineer", "--person", "alice"])),
        ("ingest", token(&data, &["--role", "ingest"])),
    ]
    .into();
    // What each role may see, stated as the admin's filters.
    let reach: BTreeMap<&str, &str> =
        [("admin", ""), ("finance", ""), ("lead", "&team=payments"), ("engineer", "&person=alice")].into();

    let routes = documented_routes();
    assert!(routes.len() >= 18, "{routes:?}");
    for (method, path) in &routes {
        let open = ["/health", "/webhooks/github", "/api/v1/openapi.json"].contains(&path.as_str());
        let (status, _) = if method == "GET" {
            server.get(path, &[])
        } else {
            crate::serve::request(server.port, method, path, &[("Content-Type", "application/json")], b"{}")
        };
        if open {
            assert_ne!(status, 401, "{method} {path} is open");
        } else {
            assert_eq!(status, 401, "{method} {path} without a token off localhost");
        }
        let (status, _) = server.get(path, &[("Authorization", "Bearer frt_not_a_token")]);
        if !open {
            assert_eq!(status, 401, "{method} {path} with an unknown token");
        }
        for (role, secret) in &tokens {
            let auth = format!("Bearer {secret}");
            let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
            if method == "POST" {
                let (status, body) = crate::serve::request(server.port, method, path, &headers, b"{}");
                let ingests = matches!(*role, "admin" | "ingest");
                if path.starts_with("/v1/") {
                    assert_eq!(status == 403, !ingests, "{role} {method} {path}: {status} {body}");
                }
                continue;
            }
            if !path.starts_with("/api/v1/") || path.ends_with("openapi.json") || path.ends_with("/me") {
                let (status, body) = server.get(path, &headers);
                let allowed = path != "/metrics" || matches!(*role, "admin" | "finance");
                assert_eq!(status == 403, !allowed, "{role} GET {path}: {status} {body}");
                continue;
            }
            let url = format!("{path}?as_of={as_of}");
            let (status, answer) = get_json(&server, &url, secret);
            if *role == "ingest" || (*role == "engineer" && path.ends_with("/leaderboard")) {
                assert_eq!(status, 403, "{role} GET {path}: {answer}");
                continue;
            }
            assert_eq!(status, 200, "{role} GET {url}: {answer}");
            // The role's answer is exactly the admin's answer filtered to the role's reach.
            let filtered = format!("{url}{}", reach[role]);
            let (_, expected) = get_json(&server, &filtered, &tokens["admin"]);
            assert_eq!(answer, expected, "{role} GET {path} equals the admin's {filtered}");
        }
    }

    // A team lead asking for another team, or finance asking for people, is refused.
    assert_eq!(get_json(&server, "/api/v1/report?team=web", &tokens["lead"]).0, 403);
    assert_eq!(get_json(&server, "/api/v1/report?cut=person", &tokens["finance"]).0, 403);
    assert_eq!(get_json(&server, "/api/v1/report?person=bo", &tokens["engineer"]).0, 403);
    let (_, lead) = get_json(&server, &format!("/api/v1/report?as_of={as_of}"), &tokens["lead"]);
    let teams: Vec<&Value> = lead["rows"].as_array().expect("rows").iter().map(|row| &row["key"]).collect();
    assert_eq!(teams, [&Value::from("payments")], "a lead's rows are their team's");
    let (_, mine) = get_json(&server, &format!("/api/v1/report?as_of={as_of}&cut=person"), &tokens["engineer"]);
    let people: Vec<&Value> = mine["rows"].as_array().expect("rows").iter().map(|row| &row["key"]).collect();
    assert!(people.iter().all(|key| *key == "alice"), "{people:?}");

    // Reads of per-person figures are in the audit log, with who made them.
    let audit = std::fs::read_to_string(data.join("audit/reads.ndjson")).expect("audit log");
    let entries: Vec<Value> = audit.lines().map(|line| serde_json::from_str(line).expect("json")).collect();
    assert!(entries.iter().any(|e| e["role"] == "engineer" && e["per_person"] == true && e["status"] == 200));
    assert!(entries.iter().all(|e| e["principal"].as_str().is_some_and(|p| p.starts_with('t'))));
    assert!(!audit.contains("frt_"), "no token is written to the audit log");
    assert!(server.stop().success());
}

#[test]
fn the_api_answers_what_the_cli_prints_and_exports_its_tables() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, data) = demo_server(dir.path());
    let as_of = AS_OF.as_str();
    let admin = token(&data, &["--role", "admin"]);

    let (status, api) = get_json(&server, &format!("/api/v1/report?as_of={as_of}&cut=person"), &admin);
    assert_eq!(status, 200, "{api}");
    assert_eq!(api, cli_report(&data, &["--by", "person"]), "the API's report is the CLI's");
    let (_, scoped) =
        get_json(&server, &format!("/api/v1/report?as_of={as_of}&team=payments&model=claude-opus-4-6"), &admin);
    assert_eq!(scoped, cli_report(&data, &["--team", "payments", "--model", "claude-opus-4-6"]));
    let (_, board) = get_json(&server, &format!("/api/v1/leaderboard?as_of={as_of}"), &admin);
    assert_eq!(board["leaderboard"], cli_report(&data, &[])["leaderboard"]);
    assert_eq!(board["as_of"], AS_OF.as_str());

    let auth = format!("Bearer {admin}");
    let (status, csv) = server.get(&format!("/api/v1/waste?as_of={as_of}&format=csv"), &[("Authorization", &auth)]);
    assert_eq!(status, 200);
    let waste_items = api["waste"].as_array().expect("waste").len();
    assert!(waste_items > 0);
    assert_eq!(csv.lines().count(), waste_items + 1, "a header and one line per waste item");
    let (status, parquet) =
        server.get(&format!("/api/v1/report?as_of={as_of}&format=parquet"), &[("Authorization", &auth)]);
    assert_eq!(status, 200);
    assert!(parquet.starts_with("PAR1"), "a Parquet file");
    assert_eq!(get_json(&server, "/api/v1/report?format=xml", &admin).0, 400);
    assert_eq!(get_json(&server, "/api/v1/report?since=yesterday", &admin).0, 400);
    assert_eq!(get_json(&server, "/api/v1/usage/hourly", &admin).0, 404);
    let (status, usage) = get_json(&server, "/api/v1/usage/daily", &admin);
    assert_eq!(status, 200, "{usage}");
    assert!(!usage["periods"].as_array().expect("periods").is_empty());

    // Prometheus: each team's spend as the report has it, and the store's health.
    let (status, metrics) = server.get("/metrics", &[("Authorization", &auth)]);
    assert_eq!(status, 200);
    let (_, now) = get_json(&server, "/api/v1/report", &admin);
    for row in now["rows"].as_array().expect("rows") {
        let team = row["key"].as_str().expect("team");
        let cost: f64 = row["cost"].as_str().expect("cost").parse().expect("number");
        let line = metrics
            .lines()
            .find(|line| line.starts_with(&format!("freight_team_cost_usd{{team=\"{team}\"}}")))
            .unwrap_or_else(|| panic!("no spend line for {team} in\n{metrics}"));
        let value: f64 = line.rsplit(' ').next().expect("value").parse().expect("number");
        assert!((value - cost).abs() < 1e-6, "{line} against {cost}");
    }
    assert!(metrics.contains("freight_store_events_stored_total"), "{metrics}");
    assert!(metrics.contains("freight_model_cost_usd{model="), "{metrics}");
    assert!(server.stop().success());
}
