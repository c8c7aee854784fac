//! `freight serve`: opens the event store, optionally loads the demo company's usage into it,
//! and runs the OTLP/HTTP receiver and webhooks until SIGTERM or Ctrl-C.

use crate::cli::ServeArgs;
use anyhow::Context;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, TimestampMillisecondType, UInt64Type};
use freight_core::{Speed, TokenCounts, Tool, UsageEvent};
use freight_server::{AppState, Config, IntakeStats};
use freight_store::{OutcomeLog, PointLog, Store, StoredEvent};
use std::sync::Arc;

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(address) = args.otlp_http {
        config.listen = address;
    }
    if let Some(address) = args.otlp_grpc {
        config.grpc_listen = address;
    }
    if args.no_grpc {
        config.grpc = false;
    }
    let dir = config.data_dir.clone();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating the data dir {}", dir.display()))?;
    let store = Arc::new(
        Store::open(&dir, config.store_options()).with_context(|| format!("opening the store in {}", dir.display()))?,
    );
    let outcomes = OutcomeLog::open(&dir)?;
    let points = PointLog::open(&dir)?;
    for repo in &config.org.repos {
        freight_store::register_repo(&dir, repo)?;
    }
    if args.demo {
        load_demo(&store, &dir)?;
    }
    let state = Arc::new(AppState {
        store,
        outcomes,
        points,
        max_body_bytes: config.max_body_bytes,
        github_secret: config.github_secret(),
        stats: IntakeStats::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let address = listener.local_addr()?;
        let grpc = match config.grpc {
            true => Some(
                tokio::net::TcpListener::bind(config.grpc_listen)
                    .await
                    .with_context(|| format!("listening on {} (OTLP/gRPC; --no-grpc turns it off)", config.grpc_listen))?,
            ),
            false => None,
        };
        let grpc_address = match &grpc {
            Some(listener) => format!("OTLP/gRPC on {}, ", listener.local_addr()?),
            None => String::new(),
        };
        eprintln!(
            "freight serve: OTLP/HTTP on http://{address} (/v1/logs, /v1/traces, /v1/metrics), {grpc_address}GitHub webhooks on /webhooks/github{}; data in {}",
            if state.github_secret.is_some() { "" } else { " (refused: no secret set)" },
            dir.display()
        );
        freight_server::serve(listener, grpc, state, shutdown_signal()).await?;
        eprintln!("freight serve: stopped; everything received is flushed");
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

/// Loads the demo company's agent logs into the store (idempotent: a second start adds nothing).
fn load_demo(store: &Store, dir: &std::path::Path) -> anyhow::Result<()> {
    let company = dir.join("demo-company");
    let outcome_args = crate::commands::report::demo_company(&company, 200_000, 7)?;
    let files = crate::commands::report::log_files(&crate::cli::SourceArgs::default(), &outcome_args)?;
    let table = crate::commands::usage::read_logs(files, false)?;
    let mut stored = 0;
    for batch in &table.batches {
        let events = events_of(batch)?;
        let appended = store
            .append(events)
            .blocking_recv()
            .map_err(|_| anyhow::anyhow!("the store stopped while loading the demo"))??;
        stored += appended.stored;
    }
    // Its outcomes go where the server keeps uploads and registered repositories, so a report
    // over the store finds them as it would an organisation's.
    for repo in &outcome_args.repos {
        freight_store::register_repo(dir, repo)?;
    }
    let files = [
        ("pulls", &outcome_args.pull_files),
        ("deploys", &outcome_args.deploy_files),
        ("tickets", &outcome_args.ticket_files),
        ("incidents", &outcome_args.incident_files),
    ];
    for (kind, paths) in files {
        for path in paths {
            let bytes = fs_err::read(path)?;
            let extension = path.extension().and_then(|ext| ext.to_str()).unwrap_or("csv");
            freight_store::keep_upload(&freight_store::upload_path(dir, kind, extension, &bytes), &bytes)?;
        }
    }
    eprintln!(
        "freight serve: demo company loaded ({stored} new calls, {} repositories and its delivery files); report on it with\n  freight report --store {} --org {}",
        outcome_args.repos.len(),
        dir.display(),
        outcome_args.org.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
    );
    Ok(())
}

/// A `usage` batch's calls as stored events, keyed by their message and request ids.
fn events_of(batch: &RecordBatch) -> anyhow::Result<Vec<StoredEvent>> {
    let text = |name: &str| -> anyhow::Result<Vec<Option<String>>> {
        let column = batch.column_by_name(name).with_context(|| format!("usage column {name}"))?;
        let strings = cast(column, &DataType::Utf8)?;
        let strings = strings.as_string::<i32>();
        Ok((0..strings.len()).map(|i| strings.is_valid(i).then(|| strings.value(i).to_string())).collect())
    };
    let count = |name: &str| -> anyhow::Result<Vec<u64>> {
        let column = batch.column_by_name(name).with_context(|| format!("usage column {name}"))?;
        Ok(column.as_primitive::<UInt64Type>().values().to_vec())
    };
    let flag = |name: &str| -> anyhow::Result<Vec<bool>> {
        let column = batch.column_by_name(name).with_context(|| format!("usage column {name}"))?;
        Ok(column.as_boolean().iter().map(|value| value.unwrap_or(false)).collect())
    };
    let times = batch.column_by_name("ts").context("usage column ts")?.as_primitive::<TimestampMillisecondType>();
    let costs = batch.column_by_name("reported_cost").context("usage column reported_cost")?;
    let costs = costs.as_primitive::<Decimal128Type>();
    let (tools, users, projects, sessions) = (text("tool")?, text("user")?, text("project")?, text("session_id")?);
    let (cwds, branches, models, speeds) = (text("cwd")?, text("git_branch")?, text("model")?, text("speed")?);
    let (messages, requests) = (text("message_id")?, text("request_id")?);
    let (sidechain, tool_use) = (flag("is_sidechain")?, flag("tool_use")?);
    let counts = freight_ingest::TOKEN_COLUMNS.iter().map(|name| count(name)).collect::<anyhow::Result<Vec<_>>>()?;
    let mut events = Vec::with_capacity(batch.num_rows());
    for row in 0..batch.num_rows() {
        let tool = tools[row].as_deref().and_then(Tool::parse).unwrap_or(Tool::ClaudeCode);
        let session = sessions[row].clone().unwrap_or_default();
        let timestamp = chrono::DateTime::from_timestamp_millis(times.value(row)).unwrap_or_default();
        let id = match (&messages[row], &requests[row]) {
            (Some(message), Some(request)) => format!("{}:{message}:{request}", tool.as_str()),
            _ => format!("{}:{session}:{}:{row}", tool.as_str(), timestamp.timestamp_millis()),
        };
        let reported_cost = costs.is_valid(row).then(|| {
            rust_decimal::Decimal::from_i128_with_scale(
                costs.value(row),
                freight_ingest::table::REPORTED_COST_SCALE.unsigned_abs().into(),
            )
        });
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
                tokens: TokenCounts {
                    input: counts[0][row],
                    output: counts[1][row],
                    cache_read: counts[2][row],
                    cache_write_5m: counts[3][row],
                    cache_write_1h: counts[4][row],
                    reasoning: counts[5][row],
                },
                reported_cost,
            },
            tool_use: tool_use[row],
            team: None,
            department: None,
            cost_center: None,
        });
    }
    Ok(events)
}
