//! OTLP to usage events: Claude Code `api_request`, Codex `sse_event` (response.completed) and
//! Gemini CLI `api_response` log events, and OpenTelemetry GenAI spans (old and new attribute
//! names), in protobuf or OTLP JSON. Resource attributes say who and which team.
//!
//! Every usage record becomes an event with an id stable across a client's retries (the
//! source's request id, or the span's ids, or a hash of the record's content). A record that
//! looks like a usage record but cannot be read is rejected with its reason, for OTLP's
//! partial-success answer; records that are not usage (prompts, tool results) are skipped.

use chrono::{DateTime, Utc};
use freight_core::{Money, Speed, TokenCounts, Tool, UsageEvent};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use std::hash::{BuildHasher, Hasher};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("not a valid OTLP protobuf {what}: {reason}")]
    Protobuf { what: &'static str, reason: String },
    #[error("not a valid OTLP JSON {what}: {reason}")]
    Json { what: &'static str, reason: String },
}

/// One usage event read from OTLP, with the org attributes its resource carried.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpEvent {
    pub id: String,
    pub event: UsageEvent,
    pub team: Option<String>,
    pub department: Option<String>,
    pub cost_center: Option<String>,
}

/// What a request held.
#[derive(Debug, Default)]
pub struct Decoded {
    pub events: Vec<OtlpEvent>,
    /// Records (or data points) in the request.
    pub records: u64,
    /// Usage records that could not be read.
    pub rejected: u64,
    /// The first few reasons for rejection.
    pub problems: Vec<String>,
}

const PROBLEMS_KEPT: usize = 5;

impl Decoded {
    fn reject(&mut self, problem: String) {
        self.rejected += 1;
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(problem);
        }
    }

    /// The partial-success message: the reasons, and how many more there were.
    pub fn error_message(&self) -> String {
        let mut message = self.problems.join("; ");
        let unnamed = self.rejected.saturating_sub(self.problems.len() as u64);
        if unnamed > 0 {
            message.push_str(&format!("; and {unnamed} more"));
        }
        message
    }
}

fn decode<T: Message + Default + serde::de::DeserializeOwned>(
    body: &[u8],
    encoding: Encoding,
    what: &'static str,
) -> Result<T, OtlpError> {
    match encoding {
        Encoding::Protobuf => T::decode(body).map_err(|error| OtlpError::Protobuf { what, reason: error.to_string() }),
        Encoding::Json => {
            serde_json::from_slice(body).map_err(|error| OtlpError::Json { what, reason: error.to_string() })
        }
    }
}

/// A `/v1/logs` body.
pub fn decode_logs(body: &[u8], encoding: Encoding) -> Result<Decoded, OtlpError> {
    Ok(read_logs(&decode(body, encoding, "logs request")?))
}

/// A logs request already decoded (gRPC).
pub fn read_logs(request: &ExportLogsServiceRequest) -> Decoded {
    let records = request.resource_logs.iter().flat_map(|resource_logs| {
        let resource = Attributes(resource_logs.resource.as_ref().map_or(&[][..], |r| &r.attributes));
        resource_logs
            .scope_logs
            .iter()
            .flat_map(move |scope| scope.log_records.iter().map(move |record| (resource, record)))
    });
    read_records(records, log_event)
}

/// Each record's usage event, rejection or nothing, counted.
fn read_records<'a, T: 'a>(
    records: impl Iterator<Item = (Attributes<'a>, &'a T)>,
    event: impl Fn(Attributes<'a>, &'a T) -> Result<Option<OtlpEvent>, String>,
) -> Decoded {
    let mut decoded = Decoded::default();
    for (resource, record) in records {
        decoded.records += 1;
        match event(resource, record) {
            Ok(Some(event)) => decoded.events.push(event),
            Ok(None) => {}
            Err(problem) => decoded.reject(problem),
        }
    }
    decoded
}

/// A `/v1/traces` body.
pub fn decode_traces(body: &[u8], encoding: Encoding) -> Result<Decoded, OtlpError> {
    Ok(read_traces(&decode(body, encoding, "traces request")?))
}

/// A traces request already decoded (gRPC).
pub fn read_traces(request: &ExportTraceServiceRequest) -> Decoded {
    let spans = request.resource_spans.iter().flat_map(|resource_spans| {
        let resource = Attributes(resource_spans.resource.as_ref().map_or(&[][..], |r| &r.attributes));
        resource_spans.scope_spans.iter().flat_map(move |scope| scope.spans.iter().map(move |span| (resource, span)))
    });
    read_records(spans, span_event)
}

/// Token counts from a metric data point (`claude_code.token.usage`, `gemini_cli.token.usage`,
/// `gen_ai.client.token.usage`): a cross-check of the events, never summed into usage.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenPoint {
    pub metric: String,
    pub service: Option<String>,
    pub session: Option<String>,
    pub model: Option<String>,
    /// `input`, `output`, `cacheRead`, `cacheCreation`, ... as the source names it.
    pub kind: String,
    pub start_unix_nano: u64,
    pub time_unix_nano: u64,
    pub value: f64,
    /// True for cumulative temporality (the value is a running total since `start`).
    pub cumulative: bool,
}

/// What a `/v1/metrics` body held.
#[derive(Debug, Default)]
pub struct DecodedMetrics {
    pub points: Vec<TokenPoint>,
    pub data_points: u64,
}

/// A `/v1/metrics` body: the token-usage data points, others counted.
pub fn decode_metrics(body: &[u8], encoding: Encoding) -> Result<DecodedMetrics, OtlpError> {
    Ok(read_metrics(&decode(body, encoding, "metrics request")?))
}

/// A metrics request already decoded (gRPC).
pub fn read_metrics(request: &ExportMetricsServiceRequest) -> DecodedMetrics {
    use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, metric::Data, number_data_point};
    let mut decoded = DecodedMetrics::default();
    for resource_metrics in &request.resource_metrics {
        let resource = Attributes(resource_metrics.resource.as_ref().map_or(&[][..], |r| &r.attributes));
        for scope_metrics in &resource_metrics.scope_metrics {
            for metric in &scope_metrics.metrics {
                let is_tokens = metric.name.ends_with("token.usage");
                let (points, cumulative) = match &metric.data {
                    Some(Data::Sum(sum)) => {
                        (&sum.data_points, sum.aggregation_temporality == AggregationTemporality::Cumulative as i32)
                    }
                    Some(Data::Gauge(gauge)) => (&gauge.data_points, false),
                    Some(Data::Histogram(histogram)) => {
                        decoded.data_points += histogram.data_points.len() as u64;
                        if is_tokens {
                            let cumulative =
                                histogram.aggregation_temporality == AggregationTemporality::Cumulative as i32;
                            for point in &histogram.data_points {
                                let attributes = Attributes(&point.attributes);
                                decoded.points.push(token_point(
                                    &metric.name,
                                    resource,
                                    attributes,
                                    (point.start_time_unix_nano, point.time_unix_nano),
                                    point.sum.unwrap_or(0.0),
                                    cumulative,
                                ));
                            }
                        }
                        continue;
                    }
                    Some(_) | None => continue,
                };
                decoded.data_points += points.len() as u64;
                if !is_tokens {
                    continue;
                }
                for point in points {
                    let value = match point.value {
                        Some(number_data_point::Value::AsDouble(value)) => value,
                        Some(number_data_point::Value::AsInt(value)) => value as f64,
                        None => continue,
                    };
                    let attributes = Attributes(&point.attributes);
                    decoded.points.push(token_point(
                        &metric.name,
                        resource,
                        attributes,
                        (point.start_time_unix_nano, point.time_unix_nano),
                        value,
                        cumulative,
                    ));
                }
            }
        }
    }
    decoded
}

fn token_point(
    metric: &str,
    resource: Attributes<'_>,
    attributes: Attributes<'_>,
    (start_unix_nano, time_unix_nano): (u64, u64),
    value: f64,
    cumulative: bool,
) -> TokenPoint {
    let either = |key: &str| attributes.text(key).or_else(|| resource.text(key));
    TokenPoint {
        metric: metric.to_string(),
        service: resource.text("service.name"),
        session: either("session.id"),
        model: either("model").or_else(|| either("gen_ai.response.model")).or_else(|| either("gen_ai.request.model")),
        kind: either("type").or_else(|| either("gen_ai.token.type")).unwrap_or_default(),
        start_unix_nano,
        time_unix_nano,
        value,
        cumulative,
    }
}

/// A record's or resource's attributes.
#[derive(Clone, Copy)]
struct Attributes<'a>(&'a [KeyValue]);

impl<'a> Attributes<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.iter().rev().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()).and_then(|v| v.value.as_ref())
    }

    /// A string attribute, borrowed.
    fn str(&self, key: &str) -> Option<&'a str> {
        match self.get(key)? {
            Value::StringValue(text) if !text.is_empty() => Some(text),
            _ => None,
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::StringValue(text) if !text.is_empty() => Some(text.clone()),
            Value::IntValue(number) => Some(number.to_string()),
            Value::DoubleValue(number) => Some(number.to_string()),
            Value::BoolValue(flag) => Some(flag.to_string()),
            _ => None,
        }
    }

    /// A token count: an integer, or a string or whole double holding one.
    fn count(&self, key: &str) -> Result<Option<u64>, String> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let bad = |shown: String| format!("attribute `{key}` is not a token count: {shown}");
        match value {
            Value::IntValue(number) => u64::try_from(*number).map(Some).map_err(|_| bad(number.to_string())),
            Value::DoubleValue(number) if number.fract() == 0.0 && *number >= 0.0 && *number < 1e18 => {
                Ok(Some(*number as u64))
            }
            Value::StringValue(text) if text.is_empty() => Ok(None),
            Value::StringValue(text) => text.trim().parse::<u64>().map(Some).map_err(|_| bad(format!("{text:?}"))),
            other => Err(bad(format!("{other:?}"))),
        }
    }

    fn counts(&self, keys: &[&str]) -> Result<Option<u64>, String> {
        for key in keys {
            if let Some(count) = self.count(key)? {
                return Ok(Some(count));
            }
        }
        Ok(None)
    }

    fn money(&self, key: &str) -> Result<Option<Money>, String> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let parsed = match value {
            Value::DoubleValue(number) => freight_core::money::decimal_from_f64(*number),
            Value::IntValue(number) => Some(Money::from(*number)),
            Value::StringValue(text) => text.trim().parse::<Money>().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| format!("attribute `{key}` is not an amount: {value:?}"))
    }
}

/// The first of several attributes present, on the record first, then on the resource.
fn first_text(record: Attributes<'_>, resource: Attributes<'_>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| record.text(key)).or_else(|| keys.iter().find_map(|key| resource.text(key)))
}

fn nanos_to_time(nanos: u64) -> Option<DateTime<Utc>> {
    (nanos > 0).then(|| DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX)))
}

/// An id from a record's content: the same record sent again gets the same id.
fn content_id(tool: Tool, record: &impl Message, resource: Attributes<'_>) -> String {
    let mut hasher = foldhash::quality::FixedState::with_seed(0xf4e1_647d).build_hasher();
    hasher.write(&record.encode_to_vec());
    for kv in resource.0 {
        hasher.write(kv.key.as_bytes());
        hasher.write(&kv.value.as_ref().map(Message::encode_to_vec).unwrap_or_default());
    }
    let low = hasher.finish();
    let mut second = foldhash::quality::FixedState::with_seed(0x2b7e_1516).build_hasher();
    second.write(&record.encode_to_vec());
    second.write_u64(low);
    format!("{}:h{:016x}{:016x}", tool.as_str(), second.finish(), low)
}

/// The usage event names this reads, by the name a record carries.
fn event_kind(name: &str, service: Option<&str>) -> Option<Tool> {
    let name = name.trim();
    match name {
        "claude_code.api_request" => Some(Tool::ClaudeCode),
        "codex.sse_event" => Some(Tool::Codex),
        "gemini_cli.api_response" => Some(Tool::GeminiCli),
        "api_request" if service == Some("claude-code") => Some(Tool::ClaudeCode),
        _ => None,
    }
}

fn log_event(resource: Attributes<'_>, record: &LogRecord) -> Result<Option<OtlpEvent>, String> {
    let attributes = Attributes(&record.attributes);
    let service = resource.str("service.name");
    let body = match record.body.as_ref().and_then(|body| body.value.as_ref()) {
        Some(Value::StringValue(text)) => Some(text.as_str()),
        _ => None,
    };
    let tool = [Some(record.event_name.as_str()), attributes.str("event.name"), body]
        .into_iter()
        .flatten()
        .find_map(|name| event_kind(name, service));
    let Some(tool) = tool else { return Ok(None) };
    if tool == Tool::Codex {
        let kind = attributes.str("event.kind").or_else(|| attributes.str("event.type"));
        if kind != Some("response.completed") {
            return Ok(None);
        }
    }
    let what = format!("{} log record", tool.as_str());
    let named = |problem: String| format!("{what}: {problem}");
    let timestamp = match attributes.str("event.timestamp") {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|_| named(format!("`event.timestamp` is not an RFC 3339 time: {text:?}")))?,
        None => nanos_to_time(record.time_unix_nano)
            .or_else(|| nanos_to_time(record.observed_time_unix_nano))
            .ok_or_else(|| named("no time (neither `event.timestamp` nor timeUnixNano)".into()))?,
    };
    let model = first_text(attributes, resource, &["model", "gen_ai.response.model", "gen_ai.request.model"]);
    let count = |keys: &[&str]| attributes.counts(keys).map(Option::unwrap_or_default).map_err(named);
    let (tokens, speed) = match tool {
        Tool::ClaudeCode => {
            let speed = match attributes.str("speed") {
                Some("fast") => Speed::Fast,
                _ => Speed::Standard,
            };
            let tokens = TokenCounts {
                input: count(&["input_tokens"])?,
                output: count(&["output_tokens"])?,
                cache_read: count(&["cache_read_tokens"])?,
                cache_write_5m: count(&["cache_creation_tokens"])?,
                ..TokenCounts::default()
            };
            (tokens, speed)
        }
        Tool::Codex => {
            let cached = count(&["cached_token_count"])?;
            let speed = match attributes.str("service_tier") {
                Some("priority" | "fast") => Speed::Priority,
                _ => Speed::Standard,
            };
            let tokens = TokenCounts {
                input: count(&["input_token_count"])?.saturating_sub(cached),
                output: count(&["output_token_count"])?,
                cache_read: cached,
                reasoning: count(&["reasoning_token_count"])?,
                ..TokenCounts::default()
            };
            (tokens, speed)
        }
        Tool::GeminiCli | Tool::GenAi => {
            let cached = count(&["cached_content_token_count"])?;
            let thoughts = count(&["thoughts_token_count"])?;
            let tokens = TokenCounts {
                input: (count(&["input_token_count"])? + count(&["tool_token_count"])?).saturating_sub(cached),
                output: count(&["output_token_count"])? + thoughts,
                cache_read: cached,
                reasoning: thoughts,
                ..TokenCounts::default()
            };
            (tokens, Speed::Standard)
        }
    };
    let session = first_text(attributes, resource, &["session.id", "conversation.id", "gen_ai.conversation.id"])
        .ok_or_else(|| named("no session (`session.id` or `conversation.id`)".into()))?;
    let request_id = attributes.text("request_id").or_else(|| attributes.text("request.id"));
    let id = match (&request_id, attributes.text("event.sequence")) {
        (Some(request), _) => format!("{}:{request}", tool.as_str()),
        (None, Some(sequence)) => format!("{}:{session}:{sequence}", tool.as_str()),
        (None, None) => content_id(tool, record, resource),
    };
    let event = UsageEvent {
        timestamp,
        tool,
        user: person(attributes, resource),
        session_id: session,
        project: None,
        cwd: first_text(attributes, resource, &["cwd", "process.cwd"]),
        git_branch: None,
        model,
        provider: first_text(attributes, resource, &["provider", "gen_ai.provider.name", "gen_ai.system"]),
        message_id: None,
        request_id,
        is_sidechain: false,
        speed,
        tokens,
        reported_cost: attributes.money("cost_usd").map_err(named)?,
    };
    Ok(Some(with_org(id, event, attributes, resource)))
}

/// Who made the call: an email first, then an account id.
fn person(attributes: Attributes<'_>, resource: Attributes<'_>) -> Option<String> {
    first_text(attributes, resource, &["user.email", "enduser.id", "user.account_uuid", "user.account_id", "user.id"])
}

fn with_org(id: String, event: UsageEvent, attributes: Attributes<'_>, resource: Attributes<'_>) -> OtlpEvent {
    OtlpEvent {
        id,
        event,
        team: first_text(attributes, resource, &["team.id", "team"]),
        department: first_text(attributes, resource, &["department"]),
        cost_center: first_text(attributes, resource, &["cost_center", "cost_centre", "cost.center"]),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn span_event(resource: Attributes<'_>, span: &Span) -> Result<Option<OtlpEvent>, String> {
    let attributes = Attributes(&span.attributes);
    let input = attributes.counts(&["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"]);
    let output = attributes.counts(&["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"]);
    let named = |problem: String| format!("GenAI span {:?}: {problem}", span.name);
    let (input, output) = (input.map_err(named)?, output.map_err(named)?);
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    let count = |keys: &[&str]| attributes.counts(keys).map(Option::unwrap_or_default).map_err(named);
    let cache_read = count(&["gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"])?;
    let cache_write = count(&["gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens"])?;
    let tokens = TokenCounts {
        input: input.unwrap_or_default().saturating_sub(cache_read + cache_write),
        output: output.unwrap_or_default(),
        cache_read,
        cache_write_5m: cache_write,
        reasoning: count(&["gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens"])?,
        ..TokenCounts::default()
    };
    let timestamp = nanos_to_time(span.end_time_unix_nano)
        .or_else(|| nanos_to_time(span.start_time_unix_nano))
        .ok_or_else(|| named("no start or end time".into()))?;
    let trace = hex(&span.trace_id);
    let session = first_text(attributes, resource, &["gen_ai.conversation.id", "session.id", "conversation.id"])
        .unwrap_or_else(|| trace.clone());
    let event = UsageEvent {
        timestamp,
        tool: Tool::GenAi,
        user: person(attributes, resource),
        session_id: session,
        project: None,
        cwd: None,
        git_branch: None,
        model: first_text(attributes, resource, &["gen_ai.response.model", "gen_ai.request.model"]),
        provider: first_text(attributes, resource, &["gen_ai.provider.name", "gen_ai.system"]),
        message_id: attributes.text("gen_ai.response.id"),
        request_id: None,
        is_sidechain: false,
        speed: Speed::Standard,
        tokens,
        reported_cost: None,
    };
    let id = format!("genai:{trace}{}", hex(&span.span_id));
    Ok(Some(with_org(id, event, attributes, resource)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::resource::v1::Resource;

    fn kv(key: &str, value: Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..KeyValue::default() }
    }

    fn text(key: &str, value: &str) -> KeyValue {
        kv(key, Value::StringValue(value.into()))
    }

    fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![text("service.name", "claude-code"), text("team.id", "payments")],
                    ..Resource::default()
                }),
                scope_logs: vec![ScopeLogs { log_records: records, ..ScopeLogs::default() }],
                ..ResourceLogs::default()
            }],
        }
    }

    fn api_request(request: &str, input: Value) -> LogRecord {
        LogRecord {
            body: Some(AnyValue { value: Some(Value::StringValue("claude_code.api_request".into())) }),
            attributes: vec![
                text("event.name", "api_request"),
                text("event.timestamp", "2026-11-20T10:00:00.250Z"),
                text("session.id", "s-1"),
                text("user.email", "ana@example.com"),
                text("model", "claude-sonnet-4-5-20250929"),
                kv("input_tokens", input),
                text("output_tokens", "200"),
                text("cache_read_tokens", "3000"),
                text("cache_creation_tokens", "40"),
                text("cost_usd", "0.0123"),
                text("request_id", request),
            ],
            ..LogRecord::default()
        }
    }

    #[test]
    fn claude_code_api_requests_in_protobuf_and_json_read_the_same() {
        let request = logs(vec![
            api_request("req_1", Value::StringValue("12".into())),
            api_request("req_2", Value::IntValue(12)),
            LogRecord {
                body: Some(AnyValue { value: Some(Value::StringValue("claude_code.user_prompt".into())) }),
                ..LogRecord::default()
            },
            api_request("req_3", Value::StringValue("twelve".into())),
        ]);
        let from_protobuf = decode_logs(&request.encode_to_vec(), Encoding::Protobuf).expect("decodes");
        let json = serde_json::to_vec(&request).expect("encodes");
        let from_json = decode_logs(&json, Encoding::Json).expect("decodes");
        for decoded in [&from_protobuf, &from_json] {
            assert_eq!(decoded.records, 4);
            assert_eq!(decoded.rejected, 1);
            assert!(
                decoded.problems[0].contains("`input_tokens` is not a token count: \"twelve\""),
                "{:?}",
                decoded.problems
            );
            assert_eq!(decoded.events.len(), 2);
            let first = &decoded.events[0];
            assert_eq!(first.id, "claude-code:req_1");
            assert_eq!(first.team.as_deref(), Some("payments"));
            assert_eq!(
                first.event.tokens,
                TokenCounts { input: 12, output: 200, cache_read: 3000, cache_write_5m: 40, ..TokenCounts::default() }
            );
            assert_eq!(first.event.user.as_deref(), Some("ana@example.com"));
            assert_eq!(first.event.timestamp.timestamp_millis(), 1_795_168_800_250);
            assert_eq!(first.event.reported_cost, Some("0.0123".parse().expect("decimal")));
        }
        assert_eq!(from_protobuf.events, from_json.events);
    }

    #[test]
    fn genai_spans_take_cached_tokens_out_of_input_under_old_and_new_names() {
        use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
        let span = |names: [&str; 3], id: u8| Span {
            trace_id: vec![1; 16],
            span_id: vec![id; 8],
            name: "chat".into(),
            end_time_unix_nano: 1_795_168_800_000_000_000,
            attributes: vec![
                text(names[0], "anthropic"),
                text("gen_ai.request.model", "claude-haiku-4-5"),
                kv(names[1], Value::IntValue(1000)),
                kv("gen_ai.usage.output_tokens", Value::IntValue(50)),
                kv(names[2], Value::IntValue(600)),
                text("gen_ai.conversation.id", "conv-9"),
            ],
            ..Span::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![
                        span(
                            [
                                "gen_ai.provider.name",
                                "gen_ai.usage.input_tokens",
                                "gen_ai.usage.cache_read.input_tokens",
                            ],
                            2,
                        ),
                        span(
                            ["gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.cache_read_input_tokens"],
                            3,
                        ),
                        Span { name: "not a model call".into(), ..Span::default() },
                    ],
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        };
        let decoded = decode_traces(&request.encode_to_vec(), Encoding::Protobuf).expect("decodes");
        assert_eq!((decoded.records, decoded.rejected, decoded.events.len()), (3, 0, 2));
        for event in &decoded.events {
            assert_eq!((event.event.tokens.input, event.event.tokens.cache_read), (400, 600));
            assert_eq!(event.event.provider.as_deref(), Some("anthropic"));
            assert_eq!(event.event.session_id, "conv-9");
        }
        assert_eq!(decoded.events[0].id, format!("genai:{}{}", "01".repeat(16), "02".repeat(8)));
    }

    #[test]
    fn codex_completions_and_gemini_responses_count_cached_input_once() {
        let record = |name: &str, attributes: Vec<KeyValue>| LogRecord {
            body: Some(AnyValue { value: Some(Value::StringValue(name.into())) }),
            time_unix_nano: 1_795_168_800_000_000_000,
            attributes,
            ..LogRecord::default()
        };
        let number = |key: &str, value: i64| kv(key, Value::IntValue(value));
        let request = logs(vec![
            record(
                "codex.sse_event",
                vec![
                    text("event.kind", "response.completed"),
                    text("conversation.id", "c-1"),
                    text("model", "gpt-5-codex"),
                    number("input_token_count", 1000),
                    number("cached_token_count", 800),
                    number("output_token_count", 300),
                    number("reasoning_token_count", 120),
                    text("service_tier", "priority"),
                ],
            ),
            // Other stream events are not usage.
            record(
                "codex.sse_event",
                vec![text("event.kind", "response.output_text.delta"), text("conversation.id", "c-1")],
            ),
            record(
                "gemini_cli.api_response",
                vec![
                    text("session.id", "g-1"),
                    text("model", "gemini-2.5-pro"),
                    number("input_token_count", 500),
                    number("cached_content_token_count", 200),
                    number("tool_token_count", 10),
                    number("output_token_count", 40),
                    number("thoughts_token_count", 60),
                ],
            ),
        ]);
        let decoded = decode_logs(&request.encode_to_vec(), Encoding::Protobuf).expect("decodes");
        assert_eq!((decoded.records, decoded.rejected, decoded.events.len()), (3, 0, 2));
        let (codex, gemini) = (&decoded.events[0].event, &decoded.events[1].event);
        assert_eq!((codex.tool, codex.speed, codex.session_id.as_str()), (Tool::Codex, Speed::Priority, "c-1"));
        assert_eq!(
            codex.tokens,
            TokenCounts { input: 200, output: 300, cache_read: 800, reasoning: 120, ..TokenCounts::default() }
        );
        assert!(decoded.events[0].id.starts_with("codex:h"));
        assert_eq!(gemini.tool, Tool::GeminiCli);
        assert_eq!(
            gemini.tokens,
            TokenCounts { input: 310, output: 100, cache_read: 200, reasoning: 60, ..TokenCounts::default() }
        );
    }

    #[test]
    fn a_retried_record_without_ids_gets_the_same_content_id() {
        let mut record = api_request("unused", Value::IntValue(1));
        record.attributes.retain(|kv| kv.key != "request_id");
        let request = logs(vec![record.clone(), record]);
        let decoded = decode_logs(&request.encode_to_vec(), Encoding::Protobuf).expect("decodes");
        assert_eq!(decoded.events[0].id, decoded.events[1].id);
        assert!(decoded.events[0].id.starts_with("claude-code:h"));
    }

    #[test]
    fn broken_bodies_are_errors_not_panics() {
        assert!(decode_logs(b"\xff\xff\xff", Encoding::Protobuf).is_err());
        assert!(decode_logs(b"{\"resourceLogs\": 5}", Encoding::Json).is_err());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(decode_logs(deep.as_bytes(), Encoding::Json).is_err());
    }
}
#[cfg(test)]
mod metric_tests {
    use super::*;

    #[test]
    fn a_token_usage_sum_in_otlp_json_gives_its_points() {
        let body = br#"{"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"claude-code"}}]},"scopeMetrics":[{"metrics":[{"name":"claude_code.token.usage","sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{"attributes":[{"key":"type","value":{"stringValue":"input"}}],"startTimeUnixNano":"9","timeUnixNano":"10","asDouble":60}]}}]}]}]}"#;
        let request: ExportMetricsServiceRequest = serde_json::from_slice(body).expect("decodes");
        let decoded = read_metrics(&request);
        assert_eq!(decoded.data_points, 1, "{request:?}");
        assert_eq!(decoded.points[0].value, 60.0);
        assert_eq!(decoded.points[0].kind, "input");
        assert!(!decoded.points[0].cumulative);
    }
}
