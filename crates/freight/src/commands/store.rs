//! `freight store`: an event store read from outside the server (flushed Parquet files and the
//! WAL beyond them), and the store as the `usage` table for `usage` and `report --store`.

use crate::cli::{StoreArgs, StoreKind};
use anyhow::Context;
use datafusion::arrow::array::RecordBatch;
use freight_core::{Actions, Speed, Tool, UsageEvent};
use freight_ingest::{IngestReport, UsageTable, usage_schema};
use freight_store::StoredEvent;
use std::io::Write;
use std::path::Path;

pub fn run(args: &StoreArgs) -> anyhow::Result<()> {
    match &args.kind {
        StoreKind::Dump { data_dir } => dump(data_dir),
        StoreKind::Check { data_dir, tolerance, json } => check(data_dir, *tolerance, *json),
    }
}

fn dump(dir: &Path) -> anyhow::Result<()> {
    match write_dump(dir) {
        // `freight store dump | head` is done when head is.
        Err(error)
            if error.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

fn write_dump(dir: &Path) -> anyhow::Result<()> {
    let snapshot =
        freight_store::read_snapshot(dir).with_context(|| format!("reading the store in {}", dir.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for batch in snapshot.batches()? {
        for row in freight_store::rows_as_json(&batch)? {
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The outcome arguments with what the store holds added: webhook deliveries, uploaded files
/// and registered repositories, and the people its telemetry placed in teams.
pub fn with_store_outcomes(args: &crate::cli::OutcomeArgs, dir: &Path) -> anyhow::Result<crate::cli::OutcomeArgs> {
    let snapshot = freight_store::read_snapshot(dir)?;
    with_store_files(args, dir, telemetry_people(&snapshot)?)
}

/// People as the store's telemetry placed them (OTLP `team.id`, `cost_center`).
pub fn telemetry_people(snapshot: &freight_store::Snapshot) -> anyhow::Result<Vec<freight_core::org::PersonEntry>> {
    Ok(freight_store::org_attributes(snapshot)?
        .into_iter()
        .map(|(user, (team, cost_centre))| freight_core::org::PersonEntry {
            id: user.clone(),
            name: None,
            emails: vec![user],
            accounts: Vec::new(),
            team: Some(team),
            cost_centre,
        })
        .collect())
}

/// [`with_store_outcomes`] with the telemetry's people already read.
pub fn with_store_files(
    args: &crate::cli::OutcomeArgs,
    dir: &Path,
    telemetry_people: Vec<freight_core::org::PersonEntry>,
) -> anyhow::Result<crate::cli::OutcomeArgs> {
    let mut outcomes = args.clone();
    outcomes.mined_in = Some(dir.to_path_buf());
    let github = dir.join(freight_store::GITHUB_DIR);
    for (event, files) in
        [("pull_request", &mut outcomes.pull_files), ("deployment_status", &mut outcomes.deploy_files)]
    {
        let path = github.join(format!("{event}.ndjson"));
        if path.exists() {
            files.push(path);
        }
    }
    outcomes.pull_files.extend(freight_store::uploads(dir, "pulls"));
    outcomes.deploy_files.extend(freight_store::uploads(dir, "deploys"));
    outcomes.ticket_files.extend(freight_store::uploads(dir, "tickets"));
    outcomes.incident_files.extend(freight_store::uploads(dir, "incidents"));
    outcomes.outcome_files.extend(freight_store::uploads(dir, "events"));
    outcomes.telemetry_people = telemetry_people;
    for repo in freight_store::repos(dir)? {
        if !outcomes.repos.contains(&repo) {
            outcomes.repos.push(repo);
        }
    }
    Ok(outcomes)
}

/// A store's events as the `usage` table (its own columns only).
pub fn usage_table(dir: &Path) -> anyhow::Result<UsageTable> {
    let snapshot =
        freight_store::read_snapshot(dir).with_context(|| format!("reading the store in {}", dir.display()))?;
    usage_of(&snapshot)
}

/// A snapshot's events as the `usage` table.
pub fn usage_of(snapshot: &freight_store::Snapshot) -> anyhow::Result<UsageTable> {
    let schema = usage_schema();
    let batches = snapshot
        .batches()?
        .into_iter()
        .map(|batch| {
            let columns = batch.columns()[..schema.fields().len()].to_vec();
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()
        .context("the store's files do not have the usage table's columns")?;
    Ok(UsageTable { schema, batches, report: IngestReport::default() })
}

/// One comparison: what the metrics say against what the events add up to.
#[derive(Debug, serde::Serialize)]
struct CheckRow {
    service: String,
    model: String,
    kind: String,
    metric_tokens: f64,
    event_tokens: u64,
    agree: bool,
}

/// The tool whose events a metric's `service.name` stands for.
fn tool_of_service(service: &str) -> &'static str {
    match service {
        "claude-code" => "claude-code",
        "gemini-cli" | "gemini_cli" => "gemini-cli",
        "codex" | "codex_cli_rs" | "codex-cli" => "codex",
        _ => "genai",
    }
}

/// The event token columns a metric's token kind counts, in that tool's convention.
fn columns_of_kind(tool: &str, kind: &str) -> Option<&'static [&'static str]> {
    Some(match (tool, kind) {
        ("claude-code", "input") => &["input_tokens"],
        ("claude-code", "cacheRead") => &["cache_read_tokens"],
        ("claude-code", "cacheCreation") => &["cache_write_5m_tokens", "cache_write_1h_tokens"],
        (_, "output") => &["output_tokens"],
        ("gemini-cli", "cache") => &["cache_read_tokens"],
        ("gemini-cli", "thought") => &["reasoning_tokens"],
        // GenAI and Gemini count input with the cached part inside it.
        (_, "input") => &["input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"],
        _ => return None,
    })
}

fn check(dir: &Path, tolerance: f64, json: bool) -> anyhow::Result<()> {
    let points = freight_store::read_points(dir)?;
    let totals = freight_store::metric_totals(&points);
    let mut events: std::collections::HashMap<(String, String, String), u64> = std::collections::HashMap::new();
    for batch in freight_store::read_snapshot(dir)?.batches()? {
        use freight_analytics::columns::{counts, strings};
        let (tools, models) = (strings(&batch, "tool")?, strings(&batch, "model")?);
        for column in freight_ingest::TOKEN_COLUMNS {
            for ((tool, model), count) in tools.iter().zip(&models).zip(counts(&batch, column)?) {
                let key = (tool.clone().unwrap_or_default(), model.clone().unwrap_or_default(), column.to_string());
                *events.entry(key).or_default() += count;
            }
        }
    }
    let rows: Vec<CheckRow> = totals
        .into_iter()
        .filter_map(|((service, model, kind), metric_tokens)| {
            let tool = tool_of_service(&service);
            let columns = columns_of_kind(tool, &kind)?;
            let event_tokens: u64 = columns
                .iter()
                .map(|column| events.get(&(tool.to_string(), model.clone(), column.to_string())).copied().unwrap_or(0))
                .sum();
            let scale = metric_tokens.abs().max(event_tokens as f64).max(1.0);
            let agree = (metric_tokens - event_tokens as f64).abs() / scale <= tolerance;
            Some(CheckRow { service, model, kind, metric_tokens, event_tokens, agree })
        })
        .collect();
    let disagreeing = rows.iter().filter(|row| !row.agree).count();
    if json {
        let document = serde_json::json!({ "tolerance": tolerance, "metric_points": points.len(), "disagreeing": disagreeing, "rows": rows });
        #[allow(clippy::print_stdout)]
        {
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["service", "model", "token kind", "metrics", "events", ""]);
    for row in &rows {
        table.add_row([
            row.service.clone(),
            row.model.clone(),
            row.kind.clone(),
            format!("{:.0}", row.metric_tokens),
            row.event_tokens.to_string(),
            if row.agree { "ok".into() } else { "DISAGREE".into() },
        ]);
    }
    #[allow(clippy::print_stdout)]
    {
        println!("{table}");
        println!(
            "{} metric points; {disagreeing} of {} rows disagree by more than {:.1}%",
            points.len(),
            rows.len(),
            tolerance * 100.0
        );
    }
    Ok(())
}

/// An optional unsigned column as `u32`s (nulls, and a column the batch lacks, as `None`):
/// usage written before `actions` and `turn` existed has neither.
fn optional_u32s(batch: &RecordBatch, name: &str) -> anyhow::Result<Vec<Option<u32>>> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{DataType, UInt32Type};
    let Some(column) = batch.column_by_name(name) else { return Ok(vec![None; batch.num_rows()]) };
    let values = datafusion::arrow::compute::cast(column, &DataType::UInt32)
        .with_context(|| format!("usage column `{name}` is not an unsigned integer"))?;
    Ok(values.as_primitive::<UInt32Type>().iter().collect())
}

/// A `usage` batch's calls as stored events, keyed by their message and request ids (or, for
/// calls without them, by session, time and `ordinal`: the batch's first row's place in all).
pub fn stored_events(batch: &RecordBatch, ordinal: u64) -> anyhow::Result<Vec<StoredEvent>> {
    use freight_analytics::columns::{bools, counts, decimals, millis, strings, token_row};
    let times = millis(batch, "ts")?;
    let costs = decimals(batch, "reported_cost")?;
    let (tools, users, projects, sessions) =
        (strings(batch, "tool")?, strings(batch, "user")?, strings(batch, "project")?, strings(batch, "session_id")?);
    let (cwds, branches, models, speeds) =
        (strings(batch, "cwd")?, strings(batch, "git_branch")?, strings(batch, "model")?, strings(batch, "speed")?);
    let (messages, requests) = (strings(batch, "message_id")?, strings(batch, "request_id")?);
    let (sidechain, tool_use) = (bools(batch, "is_sidechain")?, bools(batch, "tool_use")?);
    let (actions, turns) = (optional_u32s(batch, "actions")?, optional_u32s(batch, "turn")?);
    let tokens = freight_ingest::TOKEN_COLUMNS.map(|name| counts(batch, name));
    let [input, output, cache_read, write_5m, write_1h, reasoning] = tokens;
    let token_columns = [input?, output?, cache_read?, write_5m?, write_1h?, reasoning?];
    let token_columns = token_columns.each_ref().map(Vec::as_slice);
    let mut events = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let tool = tools[row].as_deref().and_then(Tool::parse).unwrap_or(Tool::ClaudeCode);
        let session = sessions[row].clone().unwrap_or_default();
        let timestamp = times[row].and_then(chrono::DateTime::from_timestamp_millis).unwrap_or_default();
        let id = match (&messages[row], &requests[row]) {
            (Some(message), Some(request)) => format!("{}:{message}:{request}", tool.as_str()),
            _ => format!("{}:{session}:{}:{}", tool.as_str(), timestamp.timestamp_millis(), ordinal + row as u64),
        };
        events.push(StoredEvent {
            id,
            event: UsageEvent {
                timestamp,
                tool,
                user: users[row].clone(),
                session_id: session,
                project: projects[row].clone(),
                cwd: cwds[row].clone(),
                git_branch: branches[row].clone(),
                model: models[row].clone(),
                provider: None,
                message_id: messages[row].clone(),
                request_id: requests[row].clone(),
                is_sidechain: sidechain[row],
                speed: Speed::ALL
                    .into_iter()
                    .find(|speed| Some(speed.as_str()) == speeds[row].as_deref())
                    .unwrap_or_default(),
                tokens: token_row(token_columns, row),
                reported_cost: costs[row],
            },
            tool_use: tool_use[row],
            actions: actions[row].and_then(|bits| u16::try_from(bits).ok()).map(Actions),
            turn: turns[row].unwrap_or(0),
            team: None,
            department: None,
            cost_center: None,
        });
    }
    Ok(events)
}
