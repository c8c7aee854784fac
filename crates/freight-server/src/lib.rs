//! `freight serve`: the OTLP/HTTP receiver (logs, traces, metrics; protobuf and JSON; gzip),
//! OTLP/gRPC, and the GitHub webhook intake, in front of the event store. Nothing is acknowledged before
//! the store has it on disk.

pub mod body;
pub mod config;
pub mod github;
pub mod grpc;
pub mod otlp;
pub mod outcomes;

pub use config::Config;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use freight_store::{OutcomeLog, PointLog, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of what the receiver saw (beside the store's own).
#[derive(Debug, Default)]
pub struct IntakeStats {
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    pub records: AtomicU64,
    pub rejected: AtomicU64,
    pub metric_points: AtomicU64,
    pub webhooks: AtomicU64,
}

/// What the handlers share.
pub struct AppState {
    pub store: Arc<Store>,
    pub outcomes: OutcomeLog,
    /// Token-usage metric points, the cross-check of the events.
    pub points: PointLog,
    pub max_body_bytes: usize,
    pub github_secret: Option<Vec<u8>>,
    pub stats: IntakeStats,
    /// Wakes whatever mines the registered repositories (a registration, a push).
    pub mine_now: Option<std::sync::mpsc::SyncSender<()>>,
}

impl AppState {
    /// Asks for the registered repositories to be mined soon (a pending request is enough).
    pub fn repos_changed(&self) {
        if let Some(wake) = &self.mine_now {
            let _ = wake.try_send(());
        }
    }
}

pub type Shared = Arc<AppState>;

/// The server's routes.
pub fn router(state: Shared) -> Router {
    // The raw limit is enforced by the extractor (413); the decompressed one in `body`.
    let limit = state.max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/v1/logs", post(otlp::logs))
        .route("/v1/traces", post(otlp::traces))
        .route("/v1/metrics", post(otlp::metrics))
        .route("/webhooks/github", post(github::webhook))
        .route("/v1/outcomes/{kind}", post(outcomes::upload))
        .route("/v1/repos", post(outcomes::register))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn health(State(state): State<Shared>) -> (StatusCode, String) {
    match state.store.failure() {
        None => (StatusCode::OK, "ok\n".into()),
        Some(failure) => (StatusCode::SERVICE_UNAVAILABLE, format!("store failed: {failure}\n")),
    }
}

/// Serves OTLP/HTTP and webhooks on `http`, and OTLP/gRPC on `grpc`, until `shutdown`
/// resolves; then stops taking requests, lets those under way finish, and flushes the store.
pub async fn serve(
    http: tokio::net::TcpListener,
    grpc: Option<tokio::net::TcpListener>,
    state: Shared,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let http_server = axum::serve(http, router(state.clone())).with_graceful_shutdown(until_stopped(stopped.clone()));
    let grpc_server = async {
        match grpc {
            Some(listener) => grpc::serve(listener, state, until_stopped(stopped)).await.map_err(std::io::Error::other),
            None => Ok(()),
        }
    };
    let (http_result, grpc_result) = tokio::join!(http_server, grpc_server);
    tokio::task::spawn_blocking(move || store.close()).await.map_err(std::io::Error::other)?;
    http_result.and(grpc_result)
}

/// Keeps a metrics request's token points (off the async threads: it waits for fsync).
pub async fn keep_points(state: &Shared, points: Vec<freight_ingest::otlp::TokenPoint>) -> Result<(), String> {
    if points.is_empty() {
        return Ok(());
    }
    let state = state.clone();
    tokio::task::spawn_blocking(move || state.points.append(&points))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())
}

impl IntakeStats {
    pub fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }
}
