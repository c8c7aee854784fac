//! `freight serve`: the OTLP/HTTP receiver (logs, traces, metrics; protobuf and JSON; gzip),
//! OTLP/gRPC, and the GitHub webhook intake, in front of the event store. Nothing is acknowledged before
//! the store has it on disk.

pub mod api;
pub mod auth;
pub mod body;
pub mod config;
pub mod dashboard;
pub mod github;
pub mod grpc;
pub mod metrics;
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
    pub reports: Arc<dyn api::Reports>,
    pub report_cache: Arc<api::ReportCache>,
    pub tokens: auth::Tokens,
    pub audit: auth::Audit,
    /// Requests from loopback without a token act as admin.
    pub trust_localhost: bool,
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

/// What a route needs of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (health, the OpenAPI document, the dashboard's page and assets, whose data
    /// needs a token; webhooks carry their own signature).
    Open,
    /// A token that ingests (OTLP, outcome uploads, repository registration).
    Ingest,
    /// Any token (the caller's own role and reach).
    Caller,
    /// A token that reads reports (its scope applies inside).
    Read,
    /// A token that reads server-wide figures.
    OrgMetrics,
}

fn access(path: &str) -> Access {
    match path {
        "/health" | "/webhooks/github" | "/api/v1/openapi.json" | "/" => Access::Open,
        _ if path.starts_with("/assets/") => Access::Open,
        "/metrics" => Access::OrgMetrics,
        "/api/v1/me" => Access::Caller,
        _ if path.starts_with("/v1/") => Access::Ingest,
        _ => Access::Read,
    }
}

/// Finds who is asking (a bearer token, or loopback without one) and refuses what their
/// role may not do; the handlers get the [`auth::Principal`].
async fn authorize(
    State(state): State<Shared>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let needed = access(request.uri().path());
    let bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::to_string);
    let principal = match bearer {
        Some(token) => match state.tokens.authenticate(&token) {
            Ok(Some(principal)) => Some(principal),
            Ok(None) => {
                return body::Refusal::new(StatusCode::UNAUTHORIZED, "the bearer token is not known (revoked?)")
                    .into_response();
            }
            Err(error) => {
                return body::Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response();
            }
        },
        None if state.trust_localhost && peer.ip().is_loopback() => {
            Some(auth::Principal { id: "localhost".into(), role: auth::Role::Admin })
        }
        None => None,
    };
    if needed != Access::Open {
        let Some(principal) = &principal else {
            return body::Refusal::new(
                StatusCode::UNAUTHORIZED,
                "a bearer token is needed (Authorization: Bearer frt_...)",
            )
            .into_response();
        };
        let allowed = match needed {
            Access::Open | Access::Caller => true,
            Access::Ingest => principal.role.ingests(),
            Access::Read => principal.role.scope().is_some(),
            Access::OrgMetrics => principal.role.reads_org_metrics(),
        };
        if !allowed {
            let reason = format!("{} tokens may not use {}", principal.role.name(), request.uri().path());
            return body::Refusal::new(StatusCode::FORBIDDEN, reason).into_response();
        }
    }
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    next.run(request).await
}

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
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/usage/{view}", get(api::usage))
        .route("/api/v1/{part}", get(api::pillars_part))
        .route("/metrics", get(metrics::metrics))
        .route("/", get(dashboard::index))
        .route("/assets/{name}", get(dashboard::asset))
        .layer(axum::middleware::from_fn_with_state(state.clone(), authorize))
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
    tokio::spawn(api::warm(state.clone()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let app = router(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let http_server = axum::serve(http, app).with_graceful_shutdown(until_stopped(stopped.clone()));
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
