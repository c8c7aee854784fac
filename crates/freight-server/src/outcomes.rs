//! Outcome intake besides webhooks: ticket, deploy, incident, pull-request and generic outcome
//! files uploaded as CSV or NDJSON (checked with the same readers `freight report` uses, kept
//! once per content), and git repositories registered for reports to mine.

use crate::Shared;
use crate::body::{Refusal, read_body};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use freight_ingest::events;
use freight_store::{UPLOAD_KINDS, keep_upload, register_repo, upload_path};
use std::path::{Path, PathBuf};

/// The file extension an upload's content type stands for.
fn extension(headers: &HeaderMap) -> Result<&'static str, Refusal> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    match content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "text/csv" => Ok("csv"),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/json" => Ok("ndjson"),
        _ => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?}: outcome files are text/csv or application/x-ndjson"),
        )),
    }
}

/// Reads the file as the report would; the problem names the line and field.
fn check(kind: &str, path: &Path) -> Result<usize, String> {
    let count = match kind {
        "pulls" => events::read_pull_requests(path).map(|rows| rows.len()),
        "deploys" => events::read_deploys(path).map(|rows| rows.len()),
        "tickets" => events::read_tickets(path).map(|rows| rows.len()),
        "incidents" => events::read_incidents(path).map(|rows| rows.len()),
        _ => events::read_outcome_events(path).map(|rows| rows.len()),
    };
    count.map_err(|error| error.to_string())
}

pub async fn upload(
    State(state): State<Shared>,
    UrlPath(kind): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match accept_upload(&state, &kind, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

async fn accept_upload(state: &Shared, kind: &str, headers: &HeaderMap, body: Body) -> Result<Response, Refusal> {
    if !UPLOAD_KINDS.contains(&kind) {
        return Err(Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no outcome kind {kind:?} (one of: {})", UPLOAD_KINDS.join(", ")),
        ));
    }
    let extension = extension(headers)?;
    let bytes = read_body(headers, body, state.max_body_bytes).await?;
    let dir = state.store.dir().to_path_buf();
    let kind = kind.to_string();
    let kept = tokio::task::spawn_blocking(move || -> Result<(PathBuf, usize, bool), Refusal> {
        let path = upload_path(&dir, &kind, extension, &bytes);
        let checking =
            path.with_file_name(format!(".checking-{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("upload")));
        let folder = checking.parent().unwrap_or(&dir).to_path_buf();
        let unavailable = |error: std::io::Error| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string());
        std::fs::create_dir_all(&folder).map_err(unavailable)?;
        std::fs::write(&checking, &bytes).map_err(unavailable)?;
        let checked = check(&kind, &checking);
        let _ = std::fs::remove_file(&checking);
        let rows = checked.map_err(|problem| {
            let problem = problem.replace(&checking.display().to_string(), "upload");
            Refusal::new(StatusCode::BAD_REQUEST, format!("not a {kind} file: {problem}"))
        })?;
        let new = keep_upload(&path, &bytes)
            .map_err(|error| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
        Ok((path, rows, new))
    })
    .await
    .map_err(|error| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()))??;
    let (path, rows, new) = kept;
    let answer = serde_json::json!({
        "kept": new,
        "rows": rows,
        "file": path.file_name().and_then(|name| name.to_str()),
    });
    Ok((StatusCode::OK, Json(answer)).into_response())
}

#[derive(serde::Deserialize)]
pub struct RepoRegistration {
    path: PathBuf,
}

/// Registers a git repository on the server's disk for reports over the store to mine.
pub async fn register(
    State(state): State<Shared>,
    registration: Result<Json<RepoRegistration>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let path = match registration {
        Ok(Json(registration)) => registration.path,
        Err(rejection) => return Refusal::new(rejection.status(), rejection.body_text()).into_response(),
    };
    let is_repository = path.is_absolute() && (path.join(".git").exists() || path.join("HEAD").is_file());
    if !is_repository {
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            format!("{} is not a git repository on the server (give an absolute path)", path.display()),
        )
        .into_response();
    }
    let dir = state.store.dir().to_path_buf();
    match tokio::task::spawn_blocking(move || register_repo(&dir, &path)).await {
        Ok(Ok(new)) => {
            state.repos_changed();
            (StatusCode::OK, Json(serde_json::json!({ "registered": new }))).into_response()
        }
        Ok(Err(error)) => Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
        Err(error) => Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}
