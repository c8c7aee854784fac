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
/// One as-of time for every report of a test run (the demo company's work ended days ago).
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
    // Marks low enough that the small demo company raises flags (the marks' defaults are for
    // real organisations), so the flags' access rules have something to hold.
    std::fs::write(dir.join("portfolio.toml"), PORTFOLIO).expect("portfolio");
    std::fs::write(
        &config,
        "[auth]\ntrust_localhost = false\n[api]\ncache_secs = 3600\n[org]\nmine_interval_secs = 0\nportfolio = \"portfolio.toml\"\n",
    )
    .expect("config");
    let args = ["--config", config.to_str().expect("utf-8"), "--demo", "--demo-lines", "20000"];
    let server = Server::start_with(&data, &[], &args, Duration::from_secs(600));
    // The server mines the company's repositories once it has loaded them.
    let registered: Vec<String> =
        serde_json::from_slice(&std::fs::read(data.join("outcomes/repos.json")).expect("registered")).expect("json");
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let kept = || {
        std::fs::read_dir(data.join("outcomes/mined"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.path().join("mined.json").exists())
            .count()
    };
    while kept() < registered.len() {
        assert!(std::time::Instant::now() < deadline, "the server did not mine the demo's repositories");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, data)
}

fn get_json(server: &Server, path: &str, token: &str) -> (u16, Value) {
    let auth = format!("Bearer {token}");
    let (status, body) = server.get(path, &[("Authorization", &auth)]);
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// The portfolio file the served demo uses.
const PORTFOLIO: &str = "[marks]\nclock_hours = 6\nclock_days = 1\n";

fn cli_report(data: &Path, extra: &[&str]) -> Value {
    let org = data.join("demo-company/org.toml");
    let portfolio = data.parent().expect("the test's dir").join("portfolio.toml");
    let output = Command::new(BIN)
        .args(["report", "--json", "--as-of", AS_OF.as_str(), "--store"])
        .arg(data)
        .arg("--org")
        .arg(&org)
        .arg("--portfolio")
        .arg(&portfolio)
        .args(extra)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("(read now)"), "the server's mined history is current: {stderr}");
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
        let open = ["/", "/health", "/webhooks/github", "/api/v1/openapi.json"].contains(&path.as_str());
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
            if *role == "ingest" {
                assert_eq!(status, 403, "{role} GET {path}: {answer}");
                continue;
            }
            assert_eq!(status, 200, "{role} GET {url}: {answer}");
            // The role's answer is exactly the admin's answer filtered to the role's reach.
            let filtered = format!("{url}{}", reach[role]);
            let (_, mut expected) = get_json(&server, &filtered, &tokens["admin"]);
            if *role == "finance" {
                without_people(&mut expected);
            }
            assert_eq!(answer, expected, "{role} GET {path} equals the admin's {filtered}");
        }
    }

    // Finance without per-person access sees flags without names; the admin sees the names.
    let flags_url = format!("/api/v1/flags?as_of={as_of}");
    let (_, admin_flags) = get_json(&server, &flags_url, &tokens["admin"]);
    let (_, finance_flags) = get_json(&server, &flags_url, &tokens["finance"]);
    let admin_flags = admin_flags["flags"].as_array().expect("flags").clone();
    assert!(!admin_flags.is_empty(), "the demo company has flags");
    assert!(admin_flags.iter().all(|flag| flag["person"].is_string()));
    let finance_flags = finance_flags["flags"].as_array().expect("flags").clone();
    assert_eq!(finance_flags.len(), admin_flags.len());
    assert!(finance_flags.iter().all(|flag| flag.get("person").is_none() && flag["team"].is_string()));

    // A team lead asking for another team, or finance asking for people, is refused.
    assert_eq!(get_json(&server, "/api/v1/report?team=web", &tokens["lead"]).0, 403);
    assert_eq!(get_json(&server, "/api/v1/report?cut=person", &tokens["finance"]).0, 403);
    assert_eq!(get_json(&server, "/api/v1/report?person=bo", &tokens["engineer"]).0, 403);
    let (_, lead) = get_json(&server, &format!("/api/v1/report?as_of={as_of}"), &tokens["lead"]);
    let teams: Vec<&Value> = lead["rows"].as_array().expect("rows").iter().map(|row| &row["key"]).collect();
    assert_eq!(teams, [&Value::from("payments")], "a lead's rows are their team's");
    let (_, by_repo) = get_json(&server, &format!("/api/v1/report?as_of={as_of}&cut=repo"), &tokens["lead"]);
    let worked_in: Vec<&str> =
        by_repo["rows"].as_array().expect("rows").iter().filter_map(|row| row["key"].as_str()).collect();
    let listed: Vec<&str> =
        lead["repos"].as_array().expect("repos").iter().filter_map(|repo| repo["name"].as_str()).collect();
    assert!(
        !listed.is_empty() && listed.iter().all(|name| worked_in.contains(name)),
        "{listed:?} against {worked_in:?}"
    );
    let (_, mine) = get_json(&server, &format!("/api/v1/report?as_of={as_of}&cut=person"), &tokens["engineer"]);
    let people: Vec<&Value> = mine["rows"].as_array().expect("rows").iter().map(|row| &row["key"]).collect();
    assert!(people.iter().all(|key| *key == "alice"), "{people:?}");
    assert_eq!(mine["leaderboard"], serde_json::json!([]), "one person's figures rank no team");

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
    // Periods in two time zones: the server cuts them from the days it keeps, the CLI reads
    // only their calls.
    let day = |back: i64| (chrono::Utc::now() - chrono::Duration::days(back)).date_naive().to_string();
    for (since, until, zone) in [(day(20), day(9), "Europe/Berlin"), (day(13), day(13), "UTC")] {
        let path = format!("/api/v1/report?as_of={as_of}&since={since}&until={until}&timezone={zone}&cut=person");
        let (status, period) = get_json(&server, &path, &admin);
        assert_eq!(status, 200, "{period}");
        let args = ["--by", "person", "--since", &since, "--until", &until, "--timezone", zone];
        assert_eq!(period, cli_report(&data, &args), "the API's report of {since}..{until} in {zone} is the CLI's");
        assert!(period["total"]["calls"].as_u64().is_some_and(|calls| calls > 0), "{path}: calls in the period");
        assert_ne!(period["total"]["calls"], api["total"]["calls"], "{path}: a part of the calls");
    }
    let (_, board) = get_json(&server, &format!("/api/v1/leaderboard?as_of={as_of}"), &admin);
    assert_eq!(board["leaderboard"], cli_report(&data, &[])["leaderboard"]);
    assert_eq!(board["as_of"], AS_OF.as_str());
    // The leaderboard is computed on its own, without the rest of the report; it is the part
    // of the CLI's report for every scope and period (a scope naming repositories takes the
    // whole report's path).
    let repo = api["repos"][0]["name"].as_str().expect("a repository").to_string();
    let (since, until) = (day(40), day(5));
    let scopes: [(String, Vec<&str>); 6] = [
        ("team=payments".into(), vec!["--team", "payments"]),
        ("model=claude-opus-4-6".into(), vec!["--model", "claude-opus-4-6"]),
        ("tool=claude-code".into(), vec!["--agent", "claude-code"]),
        (format!("repo={repo}"), vec!["--repo-name", &repo]),
        ("person=alice".into(), vec!["--person", "alice"]),
        (
            format!("since={since}&until={until}&timezone=Europe/Berlin"),
            vec!["--since", &since, "--until", &until, "--timezone", "Europe/Berlin"],
        ),
    ];
    for (query, args) in scopes {
        let (status, board) = get_json(&server, &format!("/api/v1/leaderboard?as_of={as_of}&{query}"), &admin);
        assert_eq!(status, 200, "{board}");
        let cli = cli_report(&data, &[&args[..], &["--by", "team"]].concat());
        for key in ["as_of", "timezone", "since", "until", "scope", "leaderboard"] {
            assert_eq!(board.get(key), cli.get(key), "{query}: {key} is the CLI's");
        }
        // Its figures are the pillar SQL's team rows, though computed without it.
        for entry in board["leaderboard"].as_array().expect("leaderboard") {
            let rows = cli["rows"].as_array().expect("rows");
            let row = rows.iter().find(|row| row["key"] == entry["team"]).expect("the team's row");
            assert_eq!(entry["cost"], row["cost"], "{query}: {}", entry["team"]);
            assert_eq!(entry["sessions"], row["sessions"], "{query}: {}", entry["team"]);
            assert_eq!(entry["outcomes"], row["unit"]["outcomes"], "{query}: {}", entry["team"]);
        }
        assert_eq!(board["leaderboard"].as_array().is_some_and(Vec::is_empty), query.starts_with("person="), "{query}");
    }

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
    for view in ["daily", "session", "blocks"] {
        let (status, usage) = get_json(&server, &format!("/api/v1/usage/{view}?as_of={as_of}"), &admin);
        assert_eq!(status, 200, "{usage}");
        let output = Command::new(BIN)
            .args(["usage", view, "--json", "--as-of", as_of, "--store"])
            .arg(&data)
            .output()
            .expect("runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let cli: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(usage, cli, "the API's usage {view} is the CLI's");
        let rows = ["periods", "sessions", "blocks"].iter().find_map(|key| usage[*key].as_array());
        assert!(rows.is_some_and(|rows| !rows.is_empty()), "usage {view} has rows");
    }

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

/// Debian's Chromium (installed by .ci/run), or None when this machine has none.
fn chromium() -> Option<String> {
    let candidate = std::env::var("FREIGHT_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&candidate).arg("--version").output().is_ok_and(|output| output.status.success());
    match (found, std::env::var("FREIGHT_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1")) {
        (true, _) => Some(candidate),
        (false, true) => panic!("FREIGHT_REQUIRE_CHROMIUM=1 but {candidate} does not run"),
        (false, false) => None,
    }
}

/// Loads a page headless: its DOM once the scripts settled, and a screenshot.
fn render(chromium: &str, url: &str, screenshot: &Path) -> String {
    // No sandbox (CI runs as root) and no /dev/shm (small in containers).
    let headless = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--virtual-time-budget=20000",
    ];
    let shot = Command::new(chromium)
        .args(headless)
        .arg("--window-size=1440,1800")
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(shot.status.success() && screenshot.exists(), "{}", String::from_utf8_lossy(&shot.stderr));
    let dom = Command::new(chromium).args(headless).arg("--dump-dom").arg(url).output().expect("chromium runs");
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8(dom.stdout).expect("utf-8");
    assert!(dom.contains(r#"data-state="ready""#), "the page did not finish loading {url}:\n{dom}");
    dom
}

/// The value of `attribute` on the element that has `marker` in its start tag.
fn attribute<'d>(dom: &'d str, marker: &str, attribute: &str) -> &'d str {
    let at = dom.find(marker).unwrap_or_else(|| panic!("no {marker} in the page"));
    let start = dom[..at].rfind('<').expect("a tag");
    let tag = &dom[start..start + dom[start..].find('>').expect("a tag end")];
    let value = tag.split(&format!("{attribute}=\"")).nth(1).unwrap_or_else(|| panic!("no {attribute} in {tag}"));
    &value[..value.find('"').expect("a closing quote")]
}

fn close(shown: &str, expected: &Value) -> bool {
    let expected = expected.as_f64().or_else(|| expected.as_str()?.parse().ok()).expect("a number");
    (shown.parse::<f64>().expect("a number") - expected).abs() <= 1e-9 * expected.abs().max(1.0)
}

#[test]
fn the_dashboard_shows_the_pillars_the_leaderboard_and_a_drill_down() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: no chromium on this machine (.ci/run installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, data) = demo_server(dir.path());
    let admin = token(&data, &["--role", "admin"]);
    let (_, report) = get_json(&server, "/api/v1/report", &admin);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../dashboard");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let base = format!("http://127.0.0.1:{}/", server.port);

    let dom = render(&chromium, &format!("{base}#token={admin}"), &shots.join("overview.png"));
    let total = &report["total"];
    for (pillar, expected) in [
        ("cost", &total["cost"]),
        ("wasted", &total["wasted"]["total"]),
        ("optimizable", &total["optimizable_cost"]),
        ("output", &total["unit"]["outcomes"]),
    ] {
        let shown = attribute(&dom, &format!(r#"data-pillar="{pillar}""#), "data-value");
        assert!(close(shown, expected), "pillar {pillar}: the page shows {shown}, the API {expected}");
    }
    let board = report["leaderboard"].as_array().expect("leaderboard");
    assert!(board.len() >= 4);
    for entry in board {
        let team = entry["team"].as_str().expect("team");
        let shown = attribute(&dom, &format!(r#"data-team="{team}""#), "data-opd");
        match entry["outcomes_per_dollar"].is_null() {
            true => assert_eq!(shown, "", "{team} has no figure"),
            false => assert!(close(shown, &entry["outcomes_per_dollar"]), "{team}: {shown} against {entry}"),
        }
    }
    // Behaviours by team beside everyone, and every flag with its kind and severity.
    for figures in
        report["behaviours"]["by_team"].as_array().expect("teams").iter().chain([&report["behaviours"]["total"]])
    {
        let key = figures["key"].as_str().expect("key");
        assert!(dom.contains(&format!(r#"data-habits="{key}""#)), "the behaviours table has a row for {key}");
    }
    let flags = report["flags"].as_array().expect("flags");
    assert!(!flags.is_empty());
    for flag in flags.iter().take(30) {
        let (kind, severity) = (flag["kind"].as_str().expect("kind"), flag["severity"].as_str().expect("severity"));
        assert!(dom.contains(&format!(r#"data-flag="{kind}" data-severity="{severity}""#)), "flag {flag}");
    }

    let item = &report["waste"][0];
    let dom = render(&chromium, &format!("{base}#/waste/0&token={admin}"), &shots.join("waste-item.png"));
    assert!(close(attribute(&dom, r#"id="waste-item""#, "data-amount"), &item["amount"]));
    for session in item["sessions"].as_array().expect("sessions") {
        let session = session.as_str().expect("id");
        assert!(dom.contains(&format!(r#"data-session="{session}""#)), "the drill-down lists session {session}");
    }

    let team = board[0]["team"].as_str().expect("team");
    let dom = render(&chromium, &format!("{base}#/team/{team}&token={admin}"), &shots.join("team.png"));
    let (_, team_report) = get_json(&server, &format!("/api/v1/report?team={team}"), &admin);
    let shown = attribute(&dom, r#"data-pillar="cost""#, "data-value");
    assert!(close(shown, &team_report["total"]["cost"]), "the team page shows the team's spend");
    assert!(dom.contains(&format!(r#"data-team-page="{team}""#)));
    assert!(server.stop().success());
}

#[test]
fn the_checked_in_openapi_document_is_what_its_script_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new("python3").arg(root.join("scripts/openapi.py")).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let written: Value = serde_json::from_slice(&output.stdout).expect("json");
    let checked_in: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json")).expect("json");
    assert_eq!(written, checked_in, "run `python3 scripts/openapi.py > docs/openapi.json`");
}

/// schemathesis (PyPI, installed by scripts/test.sh), or None when this machine has none.
fn schemathesis() -> Option<String> {
    let found = std::env::var("FREIGHT_SCHEMATHESIS").ok();
    match (found, std::env::var("FREIGHT_REQUIRE_SCHEMATHESIS").is_ok_and(|v| v == "1")) {
        (Some(path), _) => Some(path),
        (None, true) => panic!("FREIGHT_REQUIRE_SCHEMATHESIS=1 but FREIGHT_SCHEMATHESIS is not set"),
        (None, false) => None,
    }
}

#[test]
fn generated_requests_to_every_documented_operation_get_no_server_error() {
    let Some(schemathesis) = schemathesis() else {
        eprintln!("skipped: no schemathesis (scripts/test.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, data) = demo_server(dir.path());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for role in [vec!["--role", "admin"], vec!["--role", "team-lead", "--team", "payments"]] {
        let secret = token(&data, &role);
        // One worker: CPython 3.11 keeps the AST constructor's recursion depth per interpreter,
        // not per thread, so Hypothesis parsing lambda sources on two worker threads at once
        // can stop schemathesis with "AST constructor recursion depth mismatch" (CPython
        // gh-106905), an error of its own that says nothing about the server.
        let output = Command::new(&schemathesis)
            .arg("run")
            .arg(root.join("docs/openapi.json"))
            .args(["--url", &format!("http://127.0.0.1:{}", server.port)])
            .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance"])
            .args(["--max-examples", "10", "--workers", "1", "--request-timeout", "120", "--seed", "7"])
            .args(["--header", &format!("Authorization: Bearer {secret}")])
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis runs");
        let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "schemathesis found failures as {role:?}:\n{report}");
    }
    let (status, _) = server.get("/health", &[]);
    assert_eq!(status, 200, "the server is unharmed");
    assert!(server.stop().success());
}

/// An answer as a token without per-person access gets it: flags without names, no per-person habits.
fn without_people(answer: &mut Value) {
    if let Some(flags) = answer.get_mut("flags").and_then(Value::as_array_mut) {
        for flag in flags.iter_mut().filter_map(Value::as_object_mut) {
            flag.remove("person");
            flag.remove("account");
        }
    }
    if let Some(behaviours) = answer.get_mut("behaviours").and_then(Value::as_object_mut) {
        behaviours.remove("by_person");
    }
}
