#!/usr/bin/env python3
"""Sends Claude-Code-shaped log events and GenAI spans to a running `freight serve` through the
real OpenTelemetry Python SDK, and prints what it sent in `freight store dump`'s shape.

    PY=target/pyenv/bin/python   # the venv holding the OpenTelemetry packages
    $PY tests/python/otel_send.py --endpoint http://127.0.0.1:4318 --protocol http/protobuf --seed 7 \
                                  --logs 20 --spans 10
    $PY tests/python/otel_send.py --endpoint 127.0.0.1:4317        --protocol grpc      --seed 8
    $PY tests/python/otel_send.py --endpoint http://127.0.0.1:4318 --protocol http/json --seed 9

The same seed gives the same events whatever the protocol (so, against one store, the second
run is all duplicates): give each run its own seed.

What it tests: that freight ingests what the SDK really produces (the SDK's LoggerProvider,
TracerProvider, batch processors and OTLP exporters build the requests, not this script).

- http/protobuf and grpc: the SDK's own OTLP exporters send. Over http/protobuf the trace
  exporter gzips its requests, the log exporter does not.
- http/json: the Python SDK has no JSON exporter, so the SDK's records are captured in memory,
  encoded by the SDK's own encoder (encode_logs / encode_spans), turned into OTLP JSON
  (lowerCamelCase, enums as integers, trace and span ids as hex) and POSTed with urllib; the
  first half of the logs and the second half of the spans go gzip-compressed.

Every response's partialSuccess is read (HTTP: a requests response hook; gRPC: a client
interceptor); any rejected record, refused request or failed export makes the exit status 1.

stdout: one JSON array, the events sent, each with the keys `store dump` prints (id, timestamp,
tool, user, session_id, model, input_tokens, output_tokens, cache_read_tokens,
cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, reported_cost, and request_id
for Claude Code events). Timestamps are RFC 3339 UTC with milliseconds ("...T12:34:56.789Z");
reported_cost is the decimal string sent (compare it as a decimal, not as text).

Everything is derived from --seed, and timestamps from --anchor (default: the start of the
current UTC day), lying within the three days before it.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import json
import random
import sys
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import grpc
import requests
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    LogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind

CLAUDE_MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
GENAI_MODELS = [
    ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
    ("claude-opus-4-1", "claude-opus-4-1-20250805"),
    ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
]
TEAMS = [
    {"team.id": "platform", "department": "engineering", "cost_center": "cc-100"},
    {"team.id": "payments", "department": "engineering", "cost_center": "cc-200"},
]
USERS = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
BATCH_SIZE = 16  # small, so that a run's records go out in several export requests
QUEUE_SIZE = 1_000_000  # the batch processors drop records past this; --logs/--spans stay below
JSON_CHUNK = 25


class Failures:
    """What went wrong during the run; thread-safe, as exporters run on worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[str] = []

    def add(self, what: str) -> None:
        with self._lock:
            self.items.append(what)


# ---------------------------------------------------------------------------------------------
# Deterministic data


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def rfc3339_ms(ns: int) -> str:
    """UTC, millisecond precision, 'Z' suffix."""
    ms = ns // 1_000_000
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def random_time_ns(rng: random.Random, anchor: dt.datetime) -> int:
    """A millisecond-precise instant within the three days before `anchor`."""
    anchor_ms = int(anchor.timestamp()) * 1000
    return (anchor_ms - rng.randint(60_000, 3 * 86_400_000)) * 1_000_000


def decimal_usd(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


class SeededIdGenerator(IdGenerator):
    """Trace and span ids from a seeded random, so span ids (and store ids) follow from --seed."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def generate_span_id(self) -> int:
        return self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self._rng.getrandbits(128) or 1


def claude_code_events(rng: random.Random, n: int, anchor: dt.datetime) -> list[dict[str, Any]]:
    """N Claude Code api_request events: what to emit (attributes, team) and what to expect."""
    sessions = [(str(seeded_uuid(rng)), rng.choice(USERS)) for _ in range(max(1, min(4, n)))]
    out = []
    for i in range(n):
        session_id, user = sessions[i % len(sessions)]
        team = i % len(TEAMS)
        ns = random_time_ns(rng, anchor)
        request_id = "req_" + seeded_uuid(rng).hex
        model = rng.choice(CLAUDE_MODELS)
        input_tokens = rng.randint(1, 5_000)
        output_tokens = rng.randint(1, 4_000)
        cache_read = rng.choice([0, rng.randint(1, 200_000)])
        cache_creation = rng.choice([0, rng.randint(1, 50_000)])
        cost = decimal_usd(rng.randint(1, 2_000_000))
        attributes = {
            "event.name": "api_request",
            "event.timestamp": rfc3339_ms(ns),
            "session.id": session_id,
            "user.email": user,
            "user.id": uuid.UUID(int=rng.getrandbits(128)).hex + uuid.UUID(int=rng.getrandbits(128)).hex,
            "organization.id": "00000000-0000-4000-8000-00000000f00d",
            "terminal.type": "vscode",
            "model": model,
            "input_tokens": str(input_tokens),
            "output_tokens": str(output_tokens),
            "cache_read_tokens": str(cache_read),
            "cache_creation_tokens": str(cache_creation),
            "cost_usd": cost,
            "duration_ms": str(rng.randint(200, 60_000)),
            "request_id": request_id,
        }
        expected = {
            "id": "claude-code:" + request_id,
            "timestamp": rfc3339_ms(ns),
            "tool": "claude-code",
            "user": user,
            "session_id": session_id,
            "model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_tokens": cache_read,
            "cache_write_5m_tokens": cache_creation,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
            "reported_cost": cost,
            "request_id": request_id,
        }
        out.append({"ns": ns, "team": team, "attributes": attributes, "expected": expected})
    return out


def genai_spans(rng: random.Random, n: int, anchor: dt.datetime) -> list[dict[str, Any]]:
    """N GenAI chat spans. Even ones name the user on the span, odd ones on the resource."""
    conversations = [str(seeded_uuid(rng)) for _ in range(max(1, min(3, n)))]
    resource_user = rng.choice(USERS)
    out = []
    for i in range(n):
        on_resource = i % 2 == 1
        user = resource_user if on_resource else rng.choice(USERS)
        request_model, response_model = rng.choice(GENAI_MODELS)
        has_response_model = i % 4 != 2
        uncached = rng.randint(1, 5_000)
        cache_read = rng.choice([0, rng.randint(1, 100_000)])
        cache_creation = rng.choice([0, rng.randint(1, 20_000)])
        output_tokens = rng.randint(1, 4_000)
        start_ns = random_time_ns(rng, anchor)
        end_ns = start_ns + rng.randint(100, 90_000) * 1_000_000
        conversation = conversations[i % len(conversations)]
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            # the old attribute name on every third span
            ("gen_ai.system" if i % 3 == 2 else "gen_ai.provider.name"): "anthropic",
            "gen_ai.request.model": request_model,
            "gen_ai.usage.input_tokens": uncached + cache_read + cache_creation,
            "gen_ai.usage.output_tokens": output_tokens,
            "gen_ai.usage.cache_read.input_tokens": cache_read,
            "gen_ai.usage.cache_creation.input_tokens": cache_creation,
            "gen_ai.conversation.id": conversation,
            "gen_ai.response.id": "msg_" + seeded_uuid(rng).hex[:24],
            "gen_ai.response.finish_reasons": ["end_turn"],
            "server.address": "api.anthropic.com",
        }
        if has_response_model:
            attributes["gen_ai.response.model"] = response_model
        if not on_resource:
            attributes["user.email"] = user
        expected = {
            "id": None,  # known once the SDK has given the span its ids
            "timestamp": rfc3339_ms(end_ns),
            "tool": "genai",
            "user": user,
            "session_id": conversation,
            "model": response_model if has_response_model else request_model,
            "input_tokens": uncached,
            "output_tokens": output_tokens,
            "cache_read_tokens": cache_read,
            "cache_write_5m_tokens": cache_creation,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
            "reported_cost": None,
        }
        out.append(
            {
                "name": f"chat {request_model}",
                "start_ns": start_ns,
                "end_ns": end_ns,
                "on_resource": on_resource,
                "resource_user": resource_user,
                "attributes": attributes,
                "expected": expected,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# Exporters that remember failures and partial successes


class CheckedLogExporter(LogRecordExporter):
    """Delegates to the SDK exporter and notes every export that did not succeed."""

    def __init__(self, inner: LogRecordExporter, failures: Failures) -> None:
        self._inner = inner
        self._failures = failures

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        result = self._inner.export(batch)
        if result != LogRecordExportResult.SUCCESS:
            self._failures.add(f"log export of {len(batch)} records: {result}")
        return result

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._inner.shutdown()


class CheckedSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, failures: Failures) -> None:
        self._inner = inner
        self._failures = failures

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        result = self._inner.export(spans)
        if result != SpanExportResult.SUCCESS:
            self._failures.add(f"span export of {len(spans)} spans: {result}")
        return result

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._inner.shutdown()


def rejected_in(kind: str, partial: dict[str, Any]) -> tuple[int, str]:
    key = "rejectedLogRecords" if kind == "logs" else "rejectedSpans"
    return int(partial.get(key) or 0), str(partial.get("errorMessage") or "")


def note_partial(failures: Failures, kind: str, rejected: int, message: str) -> None:
    if rejected:
        failures.add(f"{kind}: partialSuccess rejected={rejected} errorMessage={message!r}")
    elif message:
        # An errorMessage with nothing rejected is a warning, by the OTLP spec: shown, not failed.
        print(f"otel_send: {kind}: server warning: {message}", file=sys.stderr)


def http_session(failures: Failures, kind: str) -> requests.Session:
    """A requests session whose hook reads each OTLP/HTTP response's partialSuccess."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.status_code != 200:
            # The exporter retries 5xx and fails on the rest (CheckedLogExporter notes that);
            # the server's reason is shown here.
            print(f"otel_send: {kind}: HTTP {response.status_code}: {response.text[:500]}", file=sys.stderr)
            return
        body = response.content
        if not body:
            return
        try:
            if response.headers.get("Content-Type", "").startswith("application/json"):
                partial = json.loads(body).get("partialSuccess") or {}
                note_partial(failures, kind, *rejected_in(kind, partial))
            else:
                msg = ExportLogsServiceResponse() if kind == "logs" else ExportTraceServiceResponse()
                msg.ParseFromString(body)
                if msg.HasField("partial_success"):
                    p = msg.partial_success
                    rejected = p.rejected_log_records if kind == "logs" else p.rejected_spans
                    note_partial(failures, kind, rejected, p.error_message)
        except Exception as e:  # noqa: BLE001 - a response we cannot read is a failure
            failures.add(f"{kind}: unreadable 200 response ({e}): {body[:200]!r}")

    session = requests.Session()
    session.hooks["response"].append(hook)
    return session


class PartialSuccessInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Reads partial_success from each gRPC Export response."""

    def __init__(self, failures: Failures, kind: str) -> None:
        self._failures = failures
        self._kind = kind

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        outcome = continuation(details, request)
        try:
            response = outcome.result()
        except grpc.RpcError:
            return outcome  # the exporter sees the error and retries or fails
        if response.HasField("partial_success"):
            p = response.partial_success
            rejected = p.rejected_log_records if self._kind == "logs" else p.rejected_spans
            note_partial(self._failures, self._kind, rejected, p.error_message)
        return outcome


def intercepted(cls: type, failures: Failures, kind: str) -> type:
    """A subclass of the SDK's gRPC exporter whose stub goes through PartialSuccessInterceptor.

    Relies on the exporter's (private) _initialize_channel_and_stub, _channel, _stub and
    _client; if a future SDK renames them, the exporter still works, unchecked."""

    class Checked(cls):  # type: ignore[misc]
        def _initialize_channel_and_stub(self) -> None:
            super()._initialize_channel_and_stub()
            channel = getattr(self, "_channel", None)
            stub = getattr(self, "_stub", None)
            if channel is not None and stub is not None:
                self._client = stub(
                    grpc.intercept_channel(channel, PartialSuccessInterceptor(failures, kind))
                )

    return Checked


# ---------------------------------------------------------------------------------------------
# Emitting through the SDK


def claude_resource(team: int) -> Resource:
    return Resource.create(
        {
            "service.name": "claude-code",
            "service.version": "2.0.14",
            "os.type": "linux",
            "host.arch": "amd64",
            **TEAMS[team],
        }
    )


def genai_resource(user: str | None) -> Resource:
    attrs: dict[str, Any] = {"service.name": "freight-test-agent", "service.version": "0.1.0"}
    if user is not None:
        attrs["user.email"] = user
    return Resource.create(attrs)


def emit_logs(events: list[dict[str, Any]], make_processor: Callable[[], Any], failures: Failures) -> None:
    """One LoggerProvider per team (team.id is a resource attribute), emitting through the
    SDK's logger API."""
    for team in range(len(TEAMS)):
        mine = [e for e in events if e["team"] == team]
        if not mine:
            continue
        provider = LoggerProvider(resource=claude_resource(team), shutdown_on_exit=False)
        provider.add_log_record_processor(make_processor())
        logger = provider.get_logger("com.anthropic.claude_code.events", "2.0.14")
        for e in mine:
            logger.emit(timestamp=e["ns"], body="claude_code.api_request", attributes=e["attributes"])
        if not provider.force_flush(30_000):
            failures.add(f"logs: force_flush timed out (team {team})")
        provider.shutdown()


def emit_spans(
    spans: list[dict[str, Any]], make_processor: Callable[[], Any], failures: Failures, seed: int
) -> None:
    """Two TracerProviders: one whose resource names the user, one whose spans do."""
    id_rng = random.Random(seed * 7919 + 17)
    for on_resource in (False, True):
        mine = [s for s in spans if s["on_resource"] == on_resource]
        if not mine:
            continue
        provider = TracerProvider(
            resource=genai_resource(mine[0]["resource_user"] if on_resource else None),
            id_generator=SeededIdGenerator(id_rng),
            shutdown_on_exit=False,
        )
        provider.add_span_processor(make_processor())
        tracer = provider.get_tracer("freight.test.genai", "0.1.0")
        for s in mine:
            span = tracer.start_span(
                s["name"], kind=SpanKind.CLIENT, start_time=s["start_ns"], attributes=s["attributes"]
            )
            ctx = span.get_span_context()
            s["expected"]["id"] = f"genai:{ctx.trace_id:032x}{ctx.span_id:016x}"
            span.end(end_time=s["end_ns"])
        if not provider.force_flush(30_000):
            failures.add(f"spans: force_flush timed out (user on resource: {on_resource})")
        provider.shutdown()


# ---------------------------------------------------------------------------------------------
# OTLP JSON


def hex_ids(node: Any) -> Any:
    """proto3 JSON writes bytes as base64; OTLP JSON wants trace and span ids as hex."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                node[k] = base64.b64decode(v).hex()
            else:
                hex_ids(v)
    elif isinstance(node, list):
        for v in node:
            hex_ids(v)
    return node


def to_otlp_json(message: Any) -> dict[str, Any]:
    doc: dict[str, Any] = MessageToDict(
        message, preserving_proto_field_name=False, use_integers_for_enums=True
    )
    hex_ids(doc)
    return doc


def post_json(
    url: str,
    doc: dict[str, Any],
    kind: str,
    compress: bool,
    failures: Failures,
    timeout: float,
    attempts: int = 3,
) -> None:
    body = json.dumps(doc).encode()
    headers = {"Content-Type": "application/json"}
    if compress:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    last = ""
    for attempt in range(attempts):
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                text = resp.read()
                partial = (json.loads(text).get("partialSuccess") or {}) if text.strip() else {}
                note_partial(failures, kind, *rejected_in(kind, partial))
                return
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}: {e.read()[:500]!r}"
            if e.code < 500:
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = f"connection error: {e}"
        except json.JSONDecodeError as e:
            last = f"200 with a body that is not JSON: {e}"
            break
        if attempt + 1 < attempts:
            threading.Event().wait(0.25 * 2**attempt)
    failures.add(f"{kind}: POST {url} ({'gzip' if compress else 'plain'}) failed: {last}")


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def send_json(
    base: str,
    log_records: Sequence[ReadableLogRecord],
    spans: Sequence[ReadableSpan],
    failures: Failures,
    timeout: float,
) -> None:
    half = (len(log_records) + 1) // 2
    for part, gz in ((log_records[:half], True), (log_records[half:], False)):
        for chunk in chunks(part, JSON_CHUNK):
            post_json(f"{base}/v1/logs", to_otlp_json(encode_logs(chunk)), "logs", gz, failures, timeout)
    half = len(spans) // 2
    for span_part, gz in ((spans[:half], False), (spans[half:], True)):
        for chunk in chunks(span_part, JSON_CHUNK):
            post_json(f"{base}/v1/traces", to_otlp_json(encode_spans(chunk)), "traces", gz, failures, timeout)


# ---------------------------------------------------------------------------------------------


def parse_anchor(text: str | None) -> dt.datetime:
    if text is None:
        now = dt.datetime.now(dt.UTC)
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", required=True, help="http://HOST:PORT (HTTP) or HOST:PORT (gRPC)")
    ap.add_argument("--protocol", required=True, choices=["http/protobuf", "http/json", "grpc"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logs", type=int, default=20, help="Claude Code api_request events to send")
    ap.add_argument("--spans", type=int, default=10, help="GenAI chat spans to send")
    ap.add_argument("--anchor", help="RFC 3339 instant the timestamps precede (default: today 00:00Z)")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds per export, retries included")
    args = ap.parse_args()
    if not 0 <= args.logs < QUEUE_SIZE or not 0 <= args.spans < QUEUE_SIZE:
        ap.error(f"--logs and --spans must be between 0 and {QUEUE_SIZE - 1}")

    anchor = parse_anchor(args.anchor)
    rng = random.Random(args.seed)
    events = claude_code_events(rng, args.logs, anchor)
    spans = genai_spans(rng, args.spans, anchor)
    failures = Failures()
    base = args.endpoint.rstrip("/")

    if args.protocol == "http/json":
        # One in-memory sink per provider: a provider's shutdown stops its exporter.
        log_sinks: list[InMemoryLogRecordExporter] = []
        span_sinks: list[InMemorySpanExporter] = []

        def memory_log_processor() -> SimpleLogRecordProcessor:
            log_sinks.append(InMemoryLogRecordExporter())
            return SimpleLogRecordProcessor(log_sinks[-1])

        def memory_span_processor() -> SimpleSpanProcessor:
            span_sinks.append(InMemorySpanExporter())
            return SimpleSpanProcessor(span_sinks[-1])

        emit_logs(events, memory_log_processor, failures)
        emit_spans(spans, memory_span_processor, failures, args.seed)
        log_records = [r for sink in log_sinks for r in sink.get_finished_logs()]
        finished_spans = [s for sink in span_sinks for s in sink.get_finished_spans()]
        if len(log_records) != len(events) or len(finished_spans) != len(spans):
            failures.add(f"the SDK finished {len(log_records)} logs and {len(finished_spans)} spans")
        send_json(base, log_records, finished_spans, failures, args.timeout)
    elif args.protocol == "http/protobuf":
        if not base.startswith(("http://", "https://")):
            base = "http://" + base

        def log_processor() -> BatchLogRecordProcessor:
            inner = HttpLogExporter(
                endpoint=f"{base}/v1/logs", timeout=args.timeout, session=http_session(failures, "logs")
            )
            return BatchLogRecordProcessor(
                CheckedLogExporter(inner, failures),
                max_export_batch_size=BATCH_SIZE,
                max_queue_size=QUEUE_SIZE,
            )

        def span_processor() -> BatchSpanProcessor:
            inner = HttpSpanExporter(
                endpoint=f"{base}/v1/traces",
                timeout=args.timeout,
                compression=HttpCompression.Gzip,
                session=http_session(failures, "traces"),
            )
            return BatchSpanProcessor(
                CheckedSpanExporter(inner, failures),
                max_export_batch_size=BATCH_SIZE,
                max_queue_size=QUEUE_SIZE,
            )

        emit_logs(events, log_processor, failures)
        emit_spans(spans, span_processor, failures, args.seed)
    else:
        # The gRPC exporter treats an endpoint without a scheme as TLS unless told otherwise,
        # and wants host:port; "http://host:port" works as well.
        log_cls = intercepted(GrpcLogExporter, failures, "logs")
        span_cls = intercepted(GrpcSpanExporter, failures, "traces")

        def grpc_log_processor() -> BatchLogRecordProcessor:
            inner = log_cls(endpoint=base, insecure=True, timeout=args.timeout)
            return BatchLogRecordProcessor(
                CheckedLogExporter(inner, failures),
                max_export_batch_size=BATCH_SIZE,
                max_queue_size=QUEUE_SIZE,
            )

        def grpc_span_processor() -> BatchSpanProcessor:
            inner = span_cls(endpoint=base, insecure=True, timeout=args.timeout)
            return BatchSpanProcessor(
                CheckedSpanExporter(inner, failures),
                max_export_batch_size=BATCH_SIZE,
                max_queue_size=QUEUE_SIZE,
            )

        emit_logs(events, grpc_log_processor, failures)
        emit_spans(spans, grpc_span_processor, failures, args.seed)

    sent = [e["expected"] for e in events] + [s["expected"] for s in spans]
    json.dump(sent, sys.stdout, indent=1)
    sys.stdout.write("\n")
    if failures.items:
        for f in failures.items:
            print(f"otel_send: FAILED: {f}", file=sys.stderr)
        return 1
    print(
        f"otel_send: {args.protocol}: sent {len(events)} log events and {len(spans)} spans",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
