//! `freight serve` end to end: the real OpenTelemetry Python SDK sends to it and the store
//! holds exactly what was sent; a SIGKILL harness checks that nothing acknowledged is lost or
//! doubled; webhooks are verified and idempotent; hostile bodies get a 4xx and no harm.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_freight");

/// The Python with the OpenTelemetry SDK that `scripts/test.sh` installs.
fn otel_python() -> Option<String> {
    match std::env::var("FREIGHT_OTEL_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if std::env::var("FREIGHT_REQUIRE_OTEL").is_ok_and(|v| v == "1") => {
            panic!("FREIGHT_REQUIRE_OTEL=1 but FREIGHT_OTEL_PYTHON is not set; run scripts/test.sh")
        }
        Err(_) => {
            eprintln!("OpenTelemetry SDK test skipped: run scripts/test.sh to install the SDK");
            None
        }
    }
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().and_then(Path::parent).expect("workspace root")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    grpc_port: u16,
}

impl Server {
    fn start(data: &Path, envs: &[(&str, &str)]) -> Server {
        Server::start_with(data, envs, &[], Duration::from_secs(60))
    }

    /// Starts `freight serve` with more arguments, waiting up to `startup` for it to answer.
    pub(crate) fn start_with(data: &Path, envs: &[(&str, &str)], args: &[&str], startup: Duration) -> Server {
        let (port, grpc_port) = (free_port(), free_port());
        let log = std::fs::File::create(data.with_extension("log")).expect("log file");
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--data-dir"])
            .arg(data)
            .args(["--otlp-http", &format!("127.0.0.1:{port}"), "--otlp-grpc", &format!("127.0.0.1:{grpc_port}")])
            .args(args)
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command.spawn().expect("starts freight serve");
        let server = Server { child, port, grpc_port };
        let deadline = Instant::now() + startup;
        while request(port, "GET", "/health", &[], b"").0 != 200 {
            assert!(Instant::now() < deadline, "freight serve did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub(crate) fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
        request(self.port, "GET", path, headers, b"")
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
        request(self.port, "POST", path, headers, body)
    }

    /// SIGTERM, and the exit status.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().expect("waits")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange: status and body (0 when the connection failed).
pub(crate) fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return (0, String::new()) };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).is_err() {
        // The server may answer (413) before reading a large body; read what it said.
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

fn dump(data: &Path) -> Vec<Value> {
    let output = Command::new(BIN).args(["store", "dump", "--data-dir"]).arg(data).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("json")).collect()
}

/// The fields both sides have, as one comparable text per event.
fn comparable(event: &Value) -> String {
    let keys = [
        "id",
        "tool",
        "user",
        "session_id",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "reasoning_tokens",
        "timestamp",
    ];
    let mut text: Vec<String> = keys.iter().map(|key| format!("{key}={}", event[*key])).collect();
    let cost = event["reported_cost"].as_str().map(|cost| cost.parse::<f64>().expect("a number"));
    text.push(format!("cost={cost:?}"));
    text.join(" ")
}

#[test]
fn the_opentelemetry_sdk_sends_and_the_store_holds_exactly_that() {
    let Some(python) = otel_python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let mut sent = Vec::new();
    for (seed, protocol) in [(11, "http/protobuf"), (12, "http/json"), (13, "grpc")] {
        let endpoint = match protocol {
            "grpc" => format!("127.0.0.1:{}", server.grpc_port),
            _ => format!("http://127.0.0.1:{}", server.port),
        };
        let output = Command::new(&python)
            .arg(repo_root().join("tests/python/otel_send.py"))
            .args(["--endpoint", &endpoint, "--protocol", protocol])
            .args(["--seed", &seed.to_string(), "--logs", "40", "--spans", "20"])
            .output()
            .expect("runs python");
        assert!(output.status.success(), "{protocol}: {}", String::from_utf8_lossy(&output.stderr));
        let events: Vec<Value> = serde_json::from_slice(&output.stdout).expect("the events sent");
        assert_eq!(events.len(), 60, "{protocol}");
        sent.extend(events);
    }
    let mut expected: Vec<String> = sent.iter().map(comparable).collect();
    let mut stored: Vec<String> = dump(&data).iter().map(comparable).collect();
    expected.sort();
    stored.sort();
    assert_eq!(stored, expected);

    // Sent again (the SDK's retry of the same records): nothing new.
    let output = Command::new(&python)
        .arg(repo_root().join("tests/python/otel_send.py"))
        .args(["--endpoint", &format!("http://127.0.0.1:{}", server.port), "--protocol", "http/protobuf"])
        .args(["--seed", "11", "--logs", "40", "--spans", "20"])
        .output()
        .expect("runs python");
    assert!(output.status.success());
    assert_eq!(dump(&data).len(), 180);

    // The usage report over the store sees the tokens sent.
    let input: u64 = sent.iter().map(|event| event["input_tokens"].as_u64().expect("count")).sum();
    let report = Command::new(BIN).args(["usage", "daily", "--json", "--store"]).arg(&data).output().expect("runs");
    let report: Value = serde_json::from_slice(&report.stdout).expect("json");
    assert_eq!(report["totals"]["tokens"]["input"].as_u64(), Some(input), "{report}");

    // With no org directory, people land in the teams their telemetry named (run outside any
    // git repository: only the store's outcomes count).
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let pillars = Command::new(BIN)
        .args(["report", "--json", "--store"])
        .arg(&data)
        .current_dir(elsewhere.path())
        .output()
        .expect("runs");
    assert!(pillars.status.success(), "{}", String::from_utf8_lossy(&pillars.stderr));
    let pillars: Value = serde_json::from_slice(&pillars.stdout).expect("json");
    let rows = pillars["rows"].as_array().expect("rows");
    let teams: Vec<&str> = rows.iter().filter_map(|row| row["key"].as_str()).collect();
    assert!(teams.contains(&"platform") && teams.contains(&"payments"), "{teams:?}");
    let calls: u64 = rows.iter().map(|row| row["calls"].as_u64().expect("calls")).sum();
    assert_eq!(calls, 180);
    assert!(server.stop().success());
}

#[test]
fn acknowledged_events_survive_sigkill_exactly_once() {
    let python = otel_python().unwrap_or_else(|| "python3".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(python)
        .arg(repo_root().join("tests/python/durability.py"))
        .args(["--bin", BIN, "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--cycles", "20", "--clients", "4", "--seed", "5", "--with-grpc"])
        .output()
        .expect("runs the harness");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{report}");
    assert!(report.contains("durability: OK"), "{report}");
}

fn sign(secret: &str, body: &[u8]) -> String {
    // The server's own check is tested against GitHub's published example; here the harness
    // signs with Python's hmac so the two implementations meet.
    let output = Command::new("python3")
        .args(["-c", "import hmac,hashlib,sys; print('sha256='+hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(body)?;
            child.wait_with_output()
        })
        .expect("python3 signs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn webhooks_need_the_signature_and_a_redelivery_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[("FREIGHT_GITHUB_WEBHOOK_SECRET", "s3cret")]);
    let body = br#"{"action":"closed","number":9,"pull_request":{"number":9,"user":{"login":"chen"},"head":{"ref":"chen/fix"},"base":{"ref":"main"},"created_at":"2026-11-05T08:00:00Z","merged_at":"2026-11-06T08:00:00Z","closed_at":"2026-11-06T08:00:00Z","merge_commit_sha":"def","additions":3,"deletions":1},"repository":{"name":"web-app"}}"#;
    let signature = sign("s3cret", body);
    let headers = |signature: &'static str| {
        vec![
            ("Content-Type", "application/json"),
            ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", "d-1"),
            ("X-Hub-Signature-256", signature),
        ]
    };
    let good: &'static str = Box::leak(signature.into_boxed_str());
    assert_eq!(server.post("/webhooks/github", &headers("sha256=00"), body).0, 401);
    let unsigned =
        [("Content-Type", "application/json"), ("X-GitHub-Event", "pull_request"), ("X-GitHub-Delivery", "d-1")];
    assert_eq!(server.post("/webhooks/github", &unsigned, body).0, 401);
    assert_eq!(server.post("/webhooks/github", &headers(good), body), (200, "kept\n".into()));
    let file = data.join("outcomes/github/pull_request.ndjson");
    let once = std::fs::read(&file).expect("kept");
    assert_eq!(server.post("/webhooks/github", &headers(good), body).0, 200);
    assert!(server.stop().success());
    // A redelivery after a restart is known too.
    let server = Server::start(&data, &[("FREIGHT_GITHUB_WEBHOOK_SECRET", "s3cret")]);
    assert_eq!(server.post("/webhooks/github", &headers(good), body).0, 200);
    assert_eq!(std::fs::read(&file).expect("kept"), once);
    // The kept payloads are what `--prs` reads.
    let pulls = freight_ingest::events::read_pull_requests(&file).expect("a --prs file");
    assert_eq!((pulls.len(), pulls[0].number), (1, 9));
    // Without a secret, webhooks are refused.
    drop(server);
    let server = Server::start(&data, &[]);
    assert_eq!(server.post("/webhooks/github", &headers(good), body).0, 403);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("compresses");
    encoder.finish().expect("compresses")
}

#[test]
fn hostile_bodies_get_a_clear_4xx_and_the_server_keeps_going() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let protobuf = [("Content-Type", "application/x-protobuf")];
    let json = [("Content-Type", "application/json")];
    let gzip_json = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")];

    let (status, reason) = server.post("/v1/logs", &protobuf, b"\xff\xff\xff\xff\x0f");
    assert_eq!(status, 400, "{reason}");
    assert!(reason.contains("not a valid OTLP protobuf logs request"), "{reason}");
    assert_eq!(server.post("/v1/logs", &[("Content-Type", "text/plain")], b"hi").0, 415);
    assert_eq!(server.post("/v1/logs", &gzip_json, b"not gzip at all").0, 400);
    // 17 MiB of spaces inflate past the 16 MiB limit from a few KiB.
    let bomb = gzip(&vec![b' '; 17 << 20]);
    assert!(bomb.len() < 100_000);
    let (status, reason) = server.post("/v1/logs", &gzip_json, &bomb);
    assert_eq!(status, 413, "{reason}");
    assert_eq!(server.post("/v1/logs", &json, &vec![b' '; 17 << 20]).0, 413);
    let deep = format!("{{\"resourceLogs\":{}{}}}", "[".repeat(50_000), "]".repeat(50_000));
    assert_eq!(server.post("/v1/logs", &json, deep.as_bytes()).0, 400);
    assert_eq!(server.post("/v1/traces", &json, br#"{"resourceSpans":"many"}"#).0, 400);

    // A record with a token count of the wrong type is rejected by name; its neighbour is kept.
    let record = |request: &str, input: &str| {
        format!(
            r#"{{"body":{{"stringValue":"claude_code.api_request"}},"timeUnixNano":"1795168800000000000","attributes":[{{"key":"session.id","value":{{"stringValue":"s"}}}},{{"key":"model","value":{{"stringValue":"claude-sonnet-4-5"}}}},{{"key":"input_tokens","value":{input}}},{{"key":"request_id","value":{{"stringValue":"{request}"}}}}]}}"#
        )
    };
    let body = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"claude-code"}}}}]}},"scopeLogs":[{{"logRecords":[{},{}]}}]}}]}}"#,
        record("r1", r#"{"intValue":"12"}"#),
        record("r2", r#"{"boolValue":true}"#)
    );
    let (status, answer) = server.post("/v1/logs", &json, body.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"].as_i64(), Some(1), "{answer}");
    assert!(answer["partialSuccess"]["errorMessage"].as_str().is_some_and(|m| m.contains("input_tokens")), "{answer}");
    assert_eq!(request(server.port, "GET", "/health", &[], b"").0, 200);
    assert!(server.stop().success());
    let stored = dump(&data);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["input_tokens"], 12);
}

#[test]
fn token_metrics_are_kept_and_compared_with_the_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let json = [("Content-Type", "application/json")];
    let logs = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},"scopeLogs":[{"logRecords":[{"body":{"stringValue":"claude_code.api_request"},"timeUnixNano":"1795168800000000000","attributes":[{"key":"session.id","value":{"stringValue":"s"}},{"key":"model","value":{"stringValue":"claude-sonnet-4-5"}},{"key":"input_tokens","value":{"stringValue":"120"}},{"key":"output_tokens","value":{"stringValue":"30"}},{"key":"request_id","value":{"stringValue":"r1"}}]}]}]}]}"#;
    assert_eq!(server.post("/v1/logs", &json, logs.as_bytes()).0, 200);
    // Delta points: input agrees with the event (60 + 60), output does not (45 against 30).
    let point = |kind: &str, value: u64, time: u64| {
        format!(
            r#"{{"attributes":[{{"key":"type","value":{{"stringValue":"{kind}"}}}},{{"key":"model","value":{{"stringValue":"claude-sonnet-4-5"}}}}],"startTimeUnixNano":"{}","timeUnixNano":"{time}","asDouble":{value}}}"#,
            time - 1
        )
    };
    let metrics = format!(
        r#"{{"resourceMetrics":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"claude-code"}}}}]}},"scopeMetrics":[{{"metrics":[{{"name":"claude_code.token.usage","sum":{{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{},{},{}]}}}}]}}]}}]}}"#,
        point("input", 60, 10),
        point("input", 60, 20),
        point("output", 45, 20)
    );
    let (status, answer) = server.post("/v1/metrics", &json, metrics.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let output = Command::new(BIN).args(["store", "check", "--json", "--data-dir"]).arg(&data).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let check: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(check["metric_points"], 3, "{check}");
    assert_eq!(check["disagreeing"], 1, "{check}");
    let output_row = check["rows"].as_array().expect("rows").iter().find(|row| row["kind"] == "output").expect("row");
    assert_eq!((output_row["metric_tokens"].as_f64(), output_row["event_tokens"].as_u64()), (Some(45.0), Some(30)));
    assert!(server.stop().success());
}

#[test]
fn outcome_files_are_checked_kept_once_and_repositories_registered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let csv = [("Content-Type", "text/csv")];
    let tickets = b"id,team,resolved_at\nT-1,payments,2026-11-20\nT-2,payments,2026-11-21\n";
    let (status, answer) = server.post("/v1/outcomes/tickets", &csv, tickets);
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!((answer["kept"].as_bool(), answer["rows"].as_u64()), (Some(true), Some(2)));
    let again: Value = serde_json::from_str(&server.post("/v1/outcomes/tickets", &csv, tickets).1).expect("json");
    assert_eq!(again["kept"].as_bool(), Some(false));
    let (status, reason) = server.post("/v1/outcomes/tickets", &csv, b"id,team,resolved_at\nT-3,payments,yesterday\n");
    assert_eq!(status, 400, "{reason}");
    assert!(reason.contains("upload:2") && reason.contains("resolved_at"), "{reason}");
    assert_eq!(server.post("/v1/outcomes/invoices", &csv, tickets).0, 404);
    assert_eq!(server.post("/v1/outcomes/tickets", &[("Content-Type", "text/plain")], tickets).0, 415);
    assert_eq!(std::fs::read_dir(data.join("outcomes/uploads/tickets")).expect("kept").count(), 1);

    let json = [("Content-Type", "application/json")];
    let repo = dir.path().join("api");
    let writer = freight_git::write::RepoWriter::init(&repo).expect("a repository");
    let stamp = freight_git::write::Stamp { name: "Ann", email: "ann@x.org", seconds: 1_700_000_000, offset: 0 };
    let change = freight_git::write::Change { path: "a.rs", content: Some("fn a() {}\n") };
    writer.commit("main", stamp, "feat: a\n\nFreight-Session: s1", &[change]).expect("commits");
    let body = serde_json::json!({ "path": repo }).to_string();
    assert_eq!(server.post("/v1/repos", &json, body.as_bytes()).0, 200);
    assert_eq!(server.post("/v1/repos", &json, br#"{"path": "relative/api"}"#).0, 400);
    let registered: Value =
        serde_json::from_slice(&std::fs::read(data.join("outcomes/repos.json")).expect("kept")).expect("json");
    assert_eq!(registered, serde_json::json!([repo]));

    // The registration wakes the miner; a report over the store then reads what it kept.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mined_record = || {
        std::fs::read_dir(data.join("outcomes/mined"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| entry.path().join("mined.json").exists())
    };
    while !mined_record() {
        assert!(Instant::now() < deadline, "the server did not mine the registered repository");
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = Command::new(BIN)
        .args(["report", "--json", "--store"])
        .arg(&data)
        .current_dir(dir.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("(kept by the server)"), "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(report["repos"][0]["commits"], 1, "{}", report["repos"]);
    assert!(server.stop().success());
}
