//! GitHub webhooks: `pull_request`, `push` and `deployment_status` deliveries, verified by
//! `X-Hub-Signature-256` against the configured secret and kept once per delivery id.

use crate::body::Refusal;
use crate::{IntakeStats, Shared};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The events kept; others (and `ping`) are answered and dropped.
const KEPT: [&str; 3] = ["pull_request", "push", "deployment_status"];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim).filter(|value| !value.is_empty())
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}

/// True when `signature` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `secret`,
/// compared in constant time.
pub fn signature_matches(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(expected) = signature.strip_prefix("sha256=").and_then(from_hex) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

pub async fn webhook(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    IntakeStats::add(&state.stats.webhooks, 1);
    match accept(&state, &headers, &body).await {
        Ok(answer) => answer,
        Err(refusal) => {
            IntakeStats::add(&state.stats.refused, 1);
            refusal.into_response()
        }
    }
}

async fn accept(state: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, Refusal> {
    let Some(secret) = &state.github_secret else {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "no webhook secret is configured (github.webhook_secret_env names its environment variable)",
        ));
    };
    let signature = header(headers, "x-hub-signature-256")
        .ok_or_else(|| Refusal::new(StatusCode::UNAUTHORIZED, "missing X-Hub-Signature-256"))?;
    if !signature_matches(secret, body, signature) {
        return Err(Refusal::new(StatusCode::UNAUTHORIZED, "X-Hub-Signature-256 does not match the body"));
    }
    let event = header(headers, "x-github-event")
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "missing X-GitHub-Event"))?
        .to_string();
    let delivery = header(headers, "x-github-delivery")
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "missing X-GitHub-Delivery"))?
        .to_string();
    if !KEPT.contains(&event.as_str()) {
        return Ok((StatusCode::ACCEPTED, format!("{event} events are not kept\n")).into_response());
    }
    let payload: serde_json::Value = serde_json::from_slice(body)
        .map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, format!("the {event} payload is not JSON: {error}")))?;
    if !payload.is_object() {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, format!("the {event} payload is not a JSON object")));
    }
    if event == "push" {
        state.repos_changed();
    }
    let state = state.clone();
    let kept = tokio::task::spawn_blocking(move || state.outcomes.append(&event, &delivery, &payload))
        .await
        .map_err(|error| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?
        .map_err(|error| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("not stored: {error}")))?;
    Ok(if kept {
        (StatusCode::OK, "kept\n").into_response()
    } else {
        (StatusCode::OK, "already kept (a redelivery)\n").into_response()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_against_the_body() {
        // GitHub's documented example: secret "It's a Secret to Everybody", body "Hello, World!".
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_matches(b"It's a Secret to Everybody", b"Hello, World!", signature));
        assert!(!signature_matches(b"It's a Secret to Everybody", b"Hello, World?", signature));
        assert!(!signature_matches(b"another secret", b"Hello, World!", signature));
        assert!(!signature_matches(b"It's a Secret to Everybody", b"Hello, World!", "sha1=757107"));
        assert!(!signature_matches(b"It's a Secret to Everybody", b"Hello, World!", "sha256=zz"));
    }
}
