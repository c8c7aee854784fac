#!/usr/bin/env python3
"""Crash-recovery harness for `freight serve`: what the server acknowledged survives SIGKILL,
exactly once.

    durability.py --bin target/debug/freight --data-dir /tmp/dur/data --cycles 20 --clients 4 --seed 1
                  [--events-per-request 50] [--min-interval 1.0] [--max-interval 2.0] [--with-grpc]

It starts the server on an empty data dir (OTLP/HTTP only, on a free port) and has --clients
threads POST OTLP JSON log requests of Claude-Code-shaped api_request events (plain dicts,
urllib, a quarter of them gzip-compressed), each event with a unique request_id. An event is
ACKED only when its request got HTTP 200 with no partialSuccess rejection. On a connection
error, a timeout or a 5xx, the client sends the SAME request again (same ids) until it is
acknowledged, which exercises idempotent retries; a 4xx or a rejection is a failure. Clients
also resend some already-acknowledged requests, which must change nothing.

At seeded random moments (every --min-interval to --max-interval seconds) the server is
SIGKILLed and restarted on the same data dir and port, --cycles times in all. Then the clients
finish their pending retries, the server gets SIGTERM (it must exit 0), and `store dump` must
show: every ACKED id exactly once, no id twice, no id that was never sent, and each stored
event's token counts (and tool, user, session, model, request_id, cost, timestamp) as sent.

One summary line on stdout; exit status 1 on any failure, with up to 20 offending ids and the
tail of the server's log (DATA_DIR/../DATA_DIR_NAME.server.log) on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TextIO

TOKEN_KEYS = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
]
MODELS = ["claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001"]
USERS = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"]
TEAMS = ["platform", "payments", "growth"]
REQUEST_TIMEOUT = 10.0
HEALTH_DEADLINE = 30.0
DRAIN_DEADLINE = 20.0
SIGTERM_DEADLINE = 20.0


def log(msg: str) -> None:
    print(f"durability: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rfc3339_ms(ms: int) -> str:
    t = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def parse_instant(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------
# Requests


@dataclass
class Request:
    number: int
    body: bytes
    gzipped: bool
    expected: dict[str, dict[str, Any]]  # store id -> the event as `store dump` should show it


def kv(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def build_request(rng: random.Random, number: int, events: int, now_ms: int) -> Request:
    """One OTLP JSON ExportLogsServiceRequest of Claude Code api_request events."""
    session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    user = rng.choice(USERS)
    team = rng.choice(TEAMS)
    records = []
    expected: dict[str, dict[str, Any]] = {}
    for _ in range(events):
        request_id = "req_" + uuid.UUID(int=rng.getrandbits(128), version=4).hex
        ms = now_ms - rng.randint(60_000, 3 * 86_400_000)
        model = rng.choice(MODELS)
        tokens = {
            "input_tokens": rng.randint(1, 5_000),
            "output_tokens": rng.randint(1, 4_000),
            "cache_read_tokens": rng.choice([0, rng.randint(1, 200_000)]),
            "cache_write_5m_tokens": rng.choice([0, rng.randint(1, 50_000)]),
        }
        micros = rng.randint(1, 2_000_000)
        cost = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
        records.append(
            {
                "timeUnixNano": str(ms * 1_000_000),
                "observedTimeUnixNano": str(ms * 1_000_000),
                "body": {"stringValue": "claude_code.api_request"},
                "attributes": [
                    kv("event.name", "api_request"),
                    kv("event.timestamp", rfc3339_ms(ms)),
                    kv("session.id", session_id),
                    kv("user.email", user),
                    kv("model", model),
                    kv("input_tokens", str(tokens["input_tokens"])),
                    kv("output_tokens", str(tokens["output_tokens"])),
                    kv("cache_read_tokens", str(tokens["cache_read_tokens"])),
                    kv("cache_creation_tokens", str(tokens["cache_write_5m_tokens"])),
                    kv("cost_usd", cost),
                    kv("duration_ms", str(rng.randint(200, 60_000))),
                    kv("request_id", request_id),
                ],
            }
        )
        expected["claude-code:" + request_id] = {
            "tool": "claude-code",
            "user": user,
            "session_id": session_id,
            "model": model,
            "request_id": request_id,
            "timestamp": rfc3339_ms(ms),
            "reported_cost": cost,
            **tokens,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
        }
    doc = {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        kv("service.name", "claude-code"),
                        kv("service.version", "2.0.14"),
                        kv("team.id", team),
                        kv("department", "engineering"),
                        kv("cost_center", "cc-" + team),
                    ]
                },
                "scopeLogs": [
                    {
                        "scope": {"name": "com.anthropic.claude_code.events", "version": "2.0.14"},
                        "logRecords": records,
                    }
                ],
            }
        ]
    }
    body = json.dumps(doc).encode()
    gzipped = rng.random() < 0.25
    if gzipped:
        body = gzip.compress(body)
    return Request(number, body, gzipped, expected)


# ---------------------------------------------------------------------------------------------
# Shared bookkeeping


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    requests: int = 0  # distinct requests built
    posts: int = 0  # HTTP attempts, retries and resends included
    retries: int = 0
    resends: int = 0
    given_up: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


class Outcome:
    ACKED = "acked"
    RETRY = "retry"
    FAILED = "failed"


def post(url: str, req: Request, ledger: Ledger) -> tuple[str, str]:
    headers = {"Content-Type": "application/json"}
    if req.gzipped:
        headers["Content-Encoding"] = "gzip"
    with ledger.lock:
        ledger.posts += 1
    try:
        r = urllib.request.Request(url, data=req.body, headers=headers, method="POST")
        with urllib.request.urlopen(r, timeout=REQUEST_TIMEOUT) as resp:
            status = resp.status
            text = resp.read()
    except urllib.error.HTTPError as e:
        try:
            reason = e.read()[:300].decode(errors="replace")
        except OSError:
            reason = ""
        if e.code >= 500:
            return Outcome.RETRY, f"HTTP {e.code} {reason}"
        return Outcome.FAILED, f"HTTP {e.code} {reason}"
    except (OSError, http.client.HTTPException) as e:  # refused, reset, timeout, cut-off reply
        return Outcome.RETRY, f"connection: {type(e).__name__}: {e}"
    if status != 200:
        return Outcome.FAILED, f"HTTP {status} (expected 200)"
    if not text.strip():
        return Outcome.ACKED, ""
    try:
        partial = json.loads(text).get("partialSuccess") or {}
    except (json.JSONDecodeError, AttributeError) as e:
        return Outcome.FAILED, f"200 with unreadable body ({e}): {text[:200]!r}"
    rejected = int(partial.get("rejectedLogRecords") or 0)
    if rejected:
        return Outcome.FAILED, f"partialSuccess: {rejected} rejected: {partial.get('errorMessage')!r}"
    return Outcome.ACKED, ""


def client(
    index: int,
    url: str,
    seed: int,
    events: int,
    now_ms: int,
    ledger: Ledger,
    stop_new: threading.Event,
    give_up: threading.Event,
) -> None:
    rng = random.Random(f"{seed}/client/{index}")
    acked_requests: list[Request] = []
    number = 0
    try:
        while not stop_new.is_set():
            if acked_requests and rng.random() < 0.05:
                req, resend = rng.choice(acked_requests), True
            else:
                number += 1
                req, resend = build_request(rng, index * 1_000_000 + number, events, now_ms), False
                with ledger.lock:
                    ledger.requests += 1
                    ledger.sent.update(req.expected)  # sent from now on, whether or not it lands
            if resend:
                with ledger.lock:
                    ledger.resends += 1
            attempt = 0
            while True:
                outcome, why = post(url, req, ledger)
                if outcome == Outcome.ACKED:
                    if not resend:
                        acked_requests.append(req)
                        with ledger.lock:
                            ledger.acked.update(req.expected)
                    break
                if outcome == Outcome.FAILED:
                    first = next(iter(req.expected))
                    what = "resent request" if resend else "request"
                    ledger.fail(f"client {index} {what} {req.number} (first id {first}): {why}")
                    break
                if give_up.is_set():
                    with ledger.lock:
                        ledger.given_up += 1
                    log(f"client {index}: gave up on request {req.number} at the end: {why}")
                    return
                attempt += 1
                with ledger.lock:
                    ledger.retries += 1
                time.sleep(min(0.5, 0.02 * 2 ** min(attempt, 5)) * rng.uniform(0.5, 1.5))
            time.sleep(rng.uniform(0.0, 0.02))
    except Exception as e:  # noqa: BLE001 - a crashed client must fail the run, not vanish
        ledger.fail(f"client {index} crashed: {type(e).__name__}: {e}")


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    def __init__(self, binary: str, data_dir: Path, port: int, log_path: Path, grpc_port: int | None) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = port
        self.grpc_port = grpc_port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log: TextIO = open(log_path, "a", buffering=1)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.starts += 1
        self._log.write(
            f"===== durability.py: start {self.starts} at {dt.datetime.now().isoformat()} =====\n"
        )
        self._log.flush()
        cmd = [
            self.binary,
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--otlp-http",
            f"127.0.0.1:{self.port}",
        ]
        if self.grpc_port is not None:
            cmd += ["--otlp-grpc", f"127.0.0.1:{self.grpc_port}"]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1.0) as r:
                return bool(r.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def start(self) -> float:
        """Starts the server and waits for /health; retries a server that exits early (a port
        still held, say). Returns the seconds it took; raises after HEALTH_DEADLINE."""
        began = time.monotonic()
        early_exits = 0
        while time.monotonic() - began < HEALTH_DEADLINE:
            self.proc = self._spawn()
            while time.monotonic() - began < HEALTH_DEADLINE:
                if self.proc.poll() is not None:
                    if self.starts == 1:  # no earlier server could hold the port: a real failure
                        raise RuntimeError(f"server exited {self.proc.returncode} on its first start")
                    early_exits += 1
                    if early_exits == 1:
                        log(f"server exited {self.proc.returncode} while starting; starting it again")
                    time.sleep(0.25)
                    break
                if self.healthy():
                    return time.monotonic() - began
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"server not healthy within {HEALTH_DEADLINE:.0f} s (start {self.starts}, "
            f"{early_exits} exits while starting)"
        )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def terminate(self) -> int | None:
        """SIGTERM and wait; the exit status, or None if it had to be killed."""
        assert self.proc is not None
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=SIGTERM_DEADLINE)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def close(self) -> None:
        self.kill()
        self._log.close()


# ---------------------------------------------------------------------------------------------
# Checking the store


def same_value(key: str, want: Any, got: Any) -> bool:
    if key == "reported_cost":
        if want is None or got is None:
            return want is None and got is None
        try:
            return Decimal(str(want)) == Decimal(str(got))
        except InvalidOperation:
            return False
    if key == "timestamp":
        try:
            return parse_instant(str(want)) == parse_instant(str(got))
        except ValueError:
            return False
    if key in TOKEN_KEYS:
        try:
            return int(got) == int(want)
        except (TypeError, ValueError):
            return False
    return bool(want == got)


def check_store(dump: list[dict[str, Any]], ledger: Ledger) -> tuple[dict[str, int], list[str]]:
    counts = Counter(str(e.get("id")) for e in dump)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    missing = sorted(ledger.acked - counts.keys())
    unexpected = sorted(counts.keys() - ledger.sent.keys())
    mismatched: list[str] = []
    for e in dump:
        want = ledger.sent.get(str(e.get("id")))
        if want is None:
            continue
        wrong = [k for k, v in want.items() if not same_value(k, v, e.get(k))]
        if wrong:
            detail = ", ".join(f"{k}: sent {want[k]!r} stored {e.get(k)!r}" for k in wrong)
            mismatched.append(f"{e.get('id')} ({detail})")
    problems: list[str] = []
    for name, ids in (
        ("duplicated", duplicates),
        ("acked but missing", missing),
        ("never sent", unexpected),
        ("stored differently", mismatched),
    ):
        if ids:
            problems.append(f"{len(ids)} {name}: " + "; ".join(ids[:20]) + (" ..." if len(ids) > 20 else ""))
    stats = {
        "stored": len(dump),
        "duplicates": len(duplicates),
        "missing": len(missing),
        "unexpected": len(unexpected),
        "mismatched": len(mismatched),
        "stored_unacked": len((counts.keys() & ledger.sent.keys()) - ledger.acked),
    }
    return stats, problems


def store_dump(binary: str, data_dir: Path) -> list[dict[str, Any]]:
    p = subprocess.run(
        [binary, "store", "dump", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=300,
    )
    if p.returncode != 0:
        raise RuntimeError(f"store dump exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    out = []
    for n, line in enumerate(p.stdout.decode().splitlines(), 1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise RuntimeError(f"store dump line {n} is not JSON ({e}): {line[:200]}") from e
    return out


def print_log_tail(path: Path, lines: int = 150) -> None:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError as e:
        log(f"cannot read the server log {path}: {e}")
        return
    print(f"----- last {min(lines, len(text))} lines of {path} -----", file=sys.stderr)
    for line in text[-lines:]:
        print(line, file=sys.stderr)
    print("----- end of server log -----", file=sys.stderr)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True, help="the freight binary")
    ap.add_argument("--data-dir", required=True, type=Path, help="must not exist or be empty")
    ap.add_argument("--cycles", type=int, default=20, help="SIGKILLs in all")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events-per-request", type=int, default=50)
    ap.add_argument("--min-interval", type=float, default=1.0, help="seconds between kills, at least")
    ap.add_argument("--max-interval", type=float, default=2.0, help="seconds between kills, at most")
    ap.add_argument("--with-grpc", action="store_true", help="also give the server an --otlp-grpc port")
    args = ap.parse_args()

    binary = str(Path(args.bin).resolve()) if os.sep in args.bin else args.bin
    data_dir: Path = args.data_dir.resolve()
    if data_dir.exists() and any(data_dir.iterdir()):
        log(f"{data_dir} is not empty: the check needs a store holding only what this run sent")
        return 2
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.server.log"

    rng = random.Random(f"{args.seed}/kills")
    now_ms = int(time.time() * 1000)
    ledger = Ledger()
    server = Server(binary, data_dir, free_port(), log_path, free_port() if args.with_grpc else None)
    url = f"http://127.0.0.1:{server.port}/v1/logs"
    stop_new, give_up = threading.Event(), threading.Event()
    threads: list[threading.Thread] = []
    began = time.monotonic()
    kills = 0
    restart_secs: list[float] = []
    summary = ""
    failed = False
    try:
        server.start()
        for i in range(args.clients):
            t = threading.Thread(
                target=client,
                args=(i, url, args.seed, args.events_per_request, now_ms, ledger, stop_new, give_up),
                name=f"client-{i}",
                daemon=True,
            )
            t.start()
            threads.append(t)

        while kills < args.cycles:
            time.sleep(rng.uniform(args.min_interval, args.max_interval))
            server.kill()
            kills += 1
            restart_secs.append(server.start())
        time.sleep(rng.uniform(args.min_interval, args.max_interval))  # traffic after the last restart

        stop_new.set()
        drain_end = time.monotonic() + DRAIN_DEADLINE
        for t in threads:
            t.join(timeout=max(0.0, drain_end - time.monotonic()))
        if any(t.is_alive() for t in threads):
            give_up.set()
            for t in threads:
                t.join(timeout=REQUEST_TIMEOUT + 5)
        if any(t.is_alive() for t in threads):
            ledger.fail("client threads still running after the drain deadline")
        if ledger.given_up:
            ledger.fail(f"{ledger.given_up} requests never acknowledged with the server up")

        rc = server.terminate()
        if rc is None:
            ledger.fail(f"server ignored SIGTERM for {SIGTERM_DEADLINE:.0f} s (killed)")
        elif rc != 0:
            ledger.fail(f"server exited {rc} on SIGTERM (expected a clean 0)")

        dump = store_dump(binary, data_dir)
        stats, problems = check_store(dump, ledger)
        for p in problems:
            ledger.fail(p)
        if not ledger.acked:
            ledger.fail("no event was acknowledged at all")
        failed = bool(ledger.failures)
        summary = (
            f"cycles={kills} requests={ledger.requests} posts={ledger.posts} retries={ledger.retries} "
            f"resends={ledger.resends} acked_events={len(ledger.acked)} sent_events={len(ledger.sent)} "
            f"stored_events={stats['stored']} stored_unacked={stats['stored_unacked']} "
            f"duplicates={stats['duplicates']} missing={stats['missing']} unexpected={stats['unexpected']} "
            f"mismatched={stats['mismatched']} max_restart={max(restart_secs, default=0):.2f}s "
            f"elapsed={time.monotonic() - began:.1f}s"
        )
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        failed = True
        ledger.fail(str(e))
        summary = f"cycles={kills} requests={ledger.requests} acked_events={len(ledger.acked)} aborted: {e}"
    finally:
        stop_new.set()
        give_up.set()
        server.close()

    print(f"durability: {'FAIL' if failed else 'OK'}: {summary}", flush=True)
    if failed:
        print(f"durability: {len(ledger.failures)} failures:", file=sys.stderr)
        for f in ledger.failures[:20]:
            print(f"  {f}", file=sys.stderr)
        if len(ledger.failures) > 20:
            print(f"  ... and {len(ledger.failures) - 20} more", file=sys.stderr)
        print_log_tail(log_path)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
