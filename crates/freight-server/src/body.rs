//! Request bodies: content type, gzip with a limit on the inflated size (a small bomb must not
//! become a large allocation), and the error answers.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use freight_ingest::otlp::Encoding;
use std::io::Read;

/// A refused request: its status and the reason, as text.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Refusal {
        Refusal { status, reason: reason.into() }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.status.as_u16(), "message": self.reason }).to_string();
        (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// The OTLP encoding a request's content type names.
pub fn encoding(headers: &HeaderMap) -> Result<Encoding, Refusal> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Ok(Encoding::Protobuf),
        "application/json" => Ok(Encoding::Json),
        _ => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content type {content_type:?}: OTLP/HTTP takes application/x-protobuf or application/json"),
        )),
    }
}

/// The body as sent, inflated when gzip'd, refused when it would grow past `limit`.
pub fn inflate<'a>(headers: &HeaderMap, body: &'a [u8], limit: usize) -> Result<std::borrow::Cow<'a, [u8]>, Refusal> {
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|value| value.to_str().ok()).unwrap_or("identity");
    match encoding.trim().to_ascii_lowercase().as_str() {
        "" | "identity" => Ok(std::borrow::Cow::Borrowed(body)),
        "gzip" | "x-gzip" => {
            let mut inflated = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            let mut decoder = flate2::read::MultiGzDecoder::new(body).take(limit as u64 + 1);
            decoder
                .read_to_end(&mut inflated)
                .map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, format!("body is not valid gzip: {error}")))?;
            if inflated.len() > limit {
                return Err(Refusal::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("gzip body inflates past the limit of {limit} bytes"),
                ));
            }
            Ok(std::borrow::Cow::Owned(inflated))
        }
        other => Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("content encoding {other:?}: only gzip is accepted"),
        )),
    }
}

/// Reads a request body into one buffer sized from `Content-Length` (no regrowth and copying
/// of a large body), refusing it (413) as soon as it passes `limit`.
pub async fn read_body(headers: &HeaderMap, body: axum::body::Body, limit: usize) -> Result<Vec<u8>, Refusal> {
    use futures::StreamExt;
    let too_large =
        || Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than the limit of {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut buffer = Vec::with_capacity(declared.unwrap_or(64 * 1024));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|error| Refusal::new(StatusCode::BAD_REQUEST, format!("reading the body: {error}")))?;
        if buffer.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer)
}
