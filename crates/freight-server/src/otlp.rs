//! The OTLP/HTTP endpoints. A request is answered 200 only once every usage event in it is on
//! disk (or was already: retries are idempotent); records that cannot be read are reported in
//! OTLP's partial-success answer; a body that cannot be read at all is a 4xx with the reason.

use crate::body::{Refusal, encoding, inflate, read_body};
use crate::{IntakeStats, Shared};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use freight_ingest::otlp::{Decoded, Encoding, decode_logs, decode_metrics, decode_traces};
use freight_store::StoredEvent;
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsPartialSuccess, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTracePartialSuccess, ExportTraceServiceResponse};
use prost::Message;

#[derive(Clone, Copy)]
enum Signal {
    Logs,
    Traces,
}

pub async fn logs(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    usage(state, headers, body, Signal::Logs).await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn traces(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    usage(state, headers, body, Signal::Traces).await.unwrap_or_else(IntoResponse::into_response)
}

/// Metrics are read and counted; token-usage points are a cross-check of the events, never
/// usage themselves.
pub async fn metrics(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    IntakeStats::add(&state.stats.requests, 1);
    let body = match read_body(&headers, body, state.max_body_bytes).await {
        Ok(body) => body,
        Err(refusal) => {
            IntakeStats::add(&state.stats.refused, 1);
            return refusal.into_response();
        }
    };
    let read = || {
        let encoding = encoding(&headers)?;
        let body = inflate(&headers, &body, state.max_body_bytes)?;
        let decoded = decode_metrics(&body, encoding)
            .map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, error.to_string()))?;
        Ok::<_, Refusal>((encoding, decoded))
    };
    let (encoding, decoded) = match read() {
        Ok(read) => read,
        Err(refusal) => {
            IntakeStats::add(&state.stats.refused, 1);
            return refusal.into_response();
        }
    };
    IntakeStats::add(&state.stats.metric_points, decoded.data_points);
    match crate::keep_points(&state, decoded.points).await {
        Ok(()) => respond(encoding, &ExportMetricsServiceResponse { partial_success: None }),
        Err(error) => Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("not stored: {error}")).into_response(),
    }
}

async fn usage(state: Shared, headers: HeaderMap, body: Body, signal: Signal) -> Result<Response, Refusal> {
    IntakeStats::add(&state.stats.requests, 1);
    let body = read_body(&headers, body, state.max_body_bytes)
        .await
        .inspect_err(|_| IntakeStats::add(&state.stats.refused, 1))?;
    let read = || -> Result<(Encoding, Decoded), Refusal> {
        let encoding = encoding(&headers)?;
        let body = inflate(&headers, &body, state.max_body_bytes)?;
        let decoded = match signal {
            Signal::Logs => decode_logs(&body, encoding),
            Signal::Traces => decode_traces(&body, encoding),
        }
        .map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, error.to_string()))?;
        Ok((encoding, decoded))
    };
    let (encoding, decoded) = read().inspect_err(|_| IntakeStats::add(&state.stats.refused, 1))?;
    let (rejected, message) = keep(&state, decoded).await?;
    Ok(match signal {
        Signal::Logs => respond(
            encoding,
            &ExportLogsServiceResponse {
                partial_success: (rejected > 0)
                    .then_some(ExportLogsPartialSuccess { rejected_log_records: rejected, error_message: message }),
            },
        ),
        Signal::Traces => respond(
            encoding,
            &ExportTraceServiceResponse {
                partial_success: (rejected > 0)
                    .then_some(ExportTracePartialSuccess { rejected_spans: rejected, error_message: message }),
            },
        ),
    })
}

/// Stores a request's usage events; answers how many records were rejected and why, or why
/// nothing was stored (the client retries, and the retry is idempotent).
pub async fn keep(state: &Shared, decoded: Decoded) -> Result<(i64, String), Refusal> {
    IntakeStats::add(&state.stats.records, decoded.records);
    IntakeStats::add(&state.stats.rejected, decoded.rejected);
    let (rejected, message) = (decoded.rejected as i64, decoded.error_message());
    let events: Vec<StoredEvent> = decoded
        .events
        .into_iter()
        .map(|otlp| StoredEvent {
            id: otlp.id,
            event: otlp.event,
            tool_use: false,
            // OTLP usage records say nothing of the call's tool calls.
            actions: None,
            turn: 0,
            team: otlp.team,
            department: otlp.department,
            cost_center: otlp.cost_center,
        })
        .collect();
    if !events.is_empty() {
        match state.store.append(events).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                return Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("not stored: {error}")));
            }
            Err(_) => return Err(Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the store is shutting down")),
        }
    }
    Ok((rejected, message))
}

/// An export answer in the request's encoding.
fn respond<T: Message + serde::Serialize>(encoding: Encoding, answer: &T) -> Response {
    match encoding {
        Encoding::Protobuf => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-protobuf")], answer.encode_to_vec()).into_response()
        }
        Encoding::Json => {
            // OTLP JSON leaves out what is unset: a full success is `{}`, not a null field.
            let mut value = serde_json::to_value(answer).unwrap_or_default();
            if let Some(fields) = value.as_object_mut() {
                fields.retain(|_, field| !field.is_null());
            }
            let body = serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec());
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}
