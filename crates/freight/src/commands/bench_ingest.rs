//! `freight bench ingest`: OTLP/HTTP ingest throughput and acknowledgement latency with
//! durability on. Starts `freight serve` as its own process on loopback, then keeps several
//! keep-alive connections busy with Claude Code `api_request` log batches (every event a new
//! request id, so each one is really stored), and prints events/s and p50/p99/max latency.

use crate::cli::BenchIngestArgs;
use anyhow::{Context, bail};
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Request ids are `req_` and this many hex digits: fixed length, so a template's ids can be
/// rewritten in place for every request.
const ID_DIGITS: usize = 16;

fn text(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(Value::StringValue(value)) }),
        ..KeyValue::default()
    }
}

/// One request body with `events` records, and where each record's id digits sit in it.
struct Template {
    body: Vec<u8>,
    id_offsets: Vec<usize>,
}

fn template(events: usize, json: bool) -> anyhow::Result<Template> {
    let models = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-5-20251101"];
    let now = chrono::Utc::now();
    let records = (0..events)
        .map(|index| LogRecord {
            body: Some(AnyValue { value: Some(Value::StringValue("claude_code.api_request".into())) }),
            attributes: vec![
                text("event.name", "api_request".into()),
                text("event.timestamp", (now - chrono::Duration::seconds(index as i64)).to_rfc3339()),
                text("session.id", format!("bench-session-{}", index % 50)),
                text("user.email", format!("dev{}@example.com", index % 20)),
                text("model", models[index % models.len()].into()),
                text("input_tokens", (index * 7 % 5000).to_string()),
                text("output_tokens", (index * 13 % 3000).to_string()),
                text("cache_read_tokens", (index * 101 % 90_000).to_string()),
                text("cache_creation_tokens", (index * 3 % 4000).to_string()),
                text("cost_usd", "0.0123".into()),
                text("duration_ms", "2300".into()),
                text("request_id", format!("req_{}", "#".repeat(ID_DIGITS))),
            ],
            ..LogRecord::default()
        })
        .collect();
    let request = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![text("service.name", "claude-code".into()), text("team.id", "platform".into())],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs { log_records: records, ..ScopeLogs::default() }],
            ..ResourceLogs::default()
        }],
    };
    let body = if json { serde_json::to_vec(&request)? } else { request.encode_to_vec() };
    let placeholder = "#".repeat(ID_DIGITS);
    let id_offsets: Vec<usize> = body
        .windows(ID_DIGITS)
        .enumerate()
        .filter(|(_, window)| *window == placeholder.as_bytes())
        .map(|(at, _)| at)
        .collect();
    if id_offsets.len() != events {
        bail!("the bench's request template has {} id slots for {events} events", id_offsets.len());
    }
    Ok(Template { body, id_offsets })
}

/// Writes request numbers into a template's id slots: client, request and record.
fn stamp(body: &mut [u8], offsets: &[usize], client: usize, request: u64) {
    for (record, &at) in offsets.iter().enumerate() {
        let id = format!("{client:04x}{:08x}{record:04x}", request as u32);
        body[at..at + ID_DIGITS].copy_from_slice(id.as_bytes());
    }
}

/// Sends one request on a kept-alive connection and reads the answer's status; an answer that
/// reports rejected records is an error.
async fn exchange(
    stream: &mut tokio::net::TcpStream,
    head: &[u8],
    body: &[u8],
    buffer: &mut Vec<u8>,
    json: bool,
) -> anyhow::Result<u16> {
    stream.write_all(head).await?;
    stream.write_all(body).await?;
    buffer.clear();
    loop {
        let mut chunk = [0u8; 4096];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            bail!("the server closed the connection");
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            let headers = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = headers
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let read = stream.read(&mut chunk).await?;
                if read == 0 {
                    bail!("the server closed the connection mid-answer");
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
            let status = headers.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
            if status == 200 {
                let answer = &buffer[end + 4..end + 4 + length];
                let answer: ExportLogsServiceResponse = if json {
                    serde_json::from_slice(answer).context("the server's JSON answer")?
                } else {
                    ExportLogsServiceResponse::decode(answer).context("the server's protobuf answer")?
                };
                if let Some(partial) = answer.partial_success.filter(|partial| partial.rejected_log_records > 0) {
                    bail!("the server rejected {} records: {}", partial.rejected_log_records, partial.error_message);
                }
            }
            return Ok(status);
        }
    }
}

pub fn run(args: &BenchIngestArgs) -> anyhow::Result<()> {
    let data = tempfile_dir(&args.data_dir)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = Command::new(std::env::current_exe()?)
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args(["--otlp-http", &format!("127.0.0.1:{port}"), "--no-grpc"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting freight serve")?;
    let result = drive(args, port);
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let sent = result?;
    // Every acknowledged event must be in the store, once.
    let stored: usize = freight_store::read_snapshot(&data)?.batches()?.iter().map(|b| b.num_rows()).sum();
    eprintln!("bench ingest: {stored} events in the store after shutdown (sent and acknowledged: {sent})");
    let result = if stored as u64 == sent {
        Ok(())
    } else {
        Err(anyhow::anyhow!("the store holds {stored} events, {sent} were acknowledged"))
    };
    if args.data_dir.is_none() {
        let _ = std::fs::remove_dir_all(&data);
    }
    result
}

fn tempfile_dir(given: &Option<std::path::PathBuf>) -> anyhow::Result<std::path::PathBuf> {
    let dir = match given {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("freight-bench-ingest-{}", std::process::id())),
    };
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    Ok(dir)
}

fn drive(args: &BenchIngestArgs, port: u16) -> anyhow::Result<u64> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if Instant::now() > deadline {
                bail!("freight serve did not start listening");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let json = args.json;
        let template = template(args.batch, json)?;
        let content_type = if json { "application/json" } else { "application/x-protobuf" };
        let head = format!(
            "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            template.body.len()
        );
        let requests_per_client = (args.events / (args.batch * args.clients) as u64).max(1);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..args.clients {
            let (mut body, offsets, head) = (template.body.clone(), template.id_offsets.clone(), head.clone());
            tasks.push(tokio::spawn(async move {
                let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                stream.set_nodelay(true)?;
                let mut buffer = Vec::with_capacity(4096);
                let mut latencies = Vec::with_capacity(requests_per_client as usize);
                for request in 0..requests_per_client {
                    stamp(&mut body, &offsets, client, request);
                    let sent = Instant::now();
                    let status = exchange(&mut stream, head.as_bytes(), &body, &mut buffer, json).await?;
                    if status != 200 {
                        bail!("request answered {status}: {}", String::from_utf8_lossy(&buffer));
                    }
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await??);
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let events = latencies.len() as u64 * args.batch as u64;
        let at = |quantile: f64| {
            latencies[((latencies.len() as f64 * quantile) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0
        };
        let stats = serde_json::json!({
            "encoding": if json { "json" } else { "protobuf" },
            "clients": args.clients,
            "events_per_request": args.batch,
            "requests": latencies.len(),
            "events": events,
            "body_bytes": template.body.len(),
            "seconds": elapsed.as_secs_f64(),
            "events_per_second": events as f64 / elapsed.as_secs_f64(),
            "ack_ms_p50": at(0.50),
            "ack_ms_p99": at(0.99),
            "ack_ms_max": at(1.0),
        });
        #[allow(clippy::print_stdout)]
        {
            println!("{}", serde_json::to_string_pretty(&stats)?);
        }
        Ok(events)
    })
}
