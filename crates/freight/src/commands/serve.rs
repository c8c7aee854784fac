//! `freight serve`: opens the event store, optionally loads the demo company's usage into it,
//! and runs the OTLP/HTTP receiver and webhooks until SIGTERM or Ctrl-C.

use crate::cli::ServeArgs;
use anyhow::Context;
use freight_server::{AppState, Config, IntakeStats};
use freight_store::{OutcomeLog, PointLog, Store};
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
        load_demo(&store, &dir, args.demo_lines)?;
    }
    let (mine_now, wakes) = std::sync::mpsc::sync_channel(1);
    let every = match config.org.mine_interval_secs {
        0 => std::time::Duration::MAX,
        seconds => std::time::Duration::from_secs(seconds),
    };
    let mining_dir = dir.clone();
    std::thread::Builder::new()
        .name("freight-miner".into())
        .spawn(move || crate::mined::mine_on_schedule(&mining_dir, every, wakes))?;
    let state = Arc::new(AppState {
        store: store.clone(),
        outcomes,
        points,
        max_body_bytes: config.max_body_bytes,
        github_secret: config.github_secret(),
        stats: IntakeStats::default(),
        mine_now: Some(mine_now),
        reports: Arc::new(crate::server_reports::StoreReports::new(
            &config,
            config.org.directory.clone().or_else(|| args.demo.then(|| dir.join("demo-company").join("org.toml"))),
            store.clone(),
        )?),
        report_cache: Arc::new(freight_server::api::ReportCache::new(
            std::time::Duration::from_secs(config.api.cache_secs),
            usize::try_from(config.api.cache_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
        )),
        tokens: freight_server::auth::Tokens::open(&dir),
        audit: freight_server::auth::Audit::open(&dir)?,
        trust_localhost: config.auth.trust_localhost,
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
            "freight serve: OTLP/HTTP on http://{address} (/v1/logs, /v1/traces, /v1/metrics), {grpc_address}GitHub webhooks on /webhooks/github{}, the API on /api/v1 (docs: /api/v1/openapi.json); data in {}",
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
fn load_demo(store: &Store, dir: &std::path::Path, lines: u64) -> anyhow::Result<()> {
    let company = dir.join("demo-company");
    let outcome_args = crate::commands::report::demo_company(&company, lines, 7)?;
    let files = crate::commands::report::log_files(&crate::cli::SourceArgs::default(), &outcome_args)?;
    let table = crate::commands::usage::read_logs(files, false, freight_ingest::Detail::Full)?;
    let (mut stored, mut ordinal) = (0, 0);
    for batch in &table.batches {
        let events = crate::commands::store::stored_events(batch, ordinal)?;
        ordinal += batch.num_rows() as u64;
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
