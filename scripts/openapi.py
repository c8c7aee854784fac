#!/usr/bin/env python3
"""Writes the server's OpenAPI document: `python3 scripts/openapi.py > docs/openapi.json`.

docs/openapi.json is what the server serves (built into the binary); a test checks that this
script still prints it, so change the API here and in the server together.
"""
import json
P = lambda name, desc, schema=None, where="query", required=False: {"name": name, "in": where, "required": required, "description": desc, "schema": schema or {"type": "string"}}
params = {
 "since": P("since", "First day (YYYY-MM-DD or YYYYMMDD, in `timezone`).", {"type": "string", "example": "2026-11-01"}),
 "until": P("until", "Last day (YYYY-MM-DD or YYYYMMDD, in `timezone`).", {"type": "string", "example": "2026-11-30"}),
 "timezone": P("timezone", "IANA time zone for days (default UTC).", {"type": "string", "example": "Europe/Berlin"}),
 "as_of": P("as_of", "The report's time (RFC 3339); default: when it was computed (see cache_secs).", {"type": "string", "format": "date-time"}),
 "cut": P("cut", "What the rows are.", {"type": "string", "enum": ["team", "person", "cost_centre", "repo", "tool", "model"]}),
 "team": P("team", "Only these teams (comma-separated)."),
 "person": P("person", "Only these people (comma-separated)."),
 "cost_centre": P("cost_centre", "Only these cost centres (comma-separated)."),
 "repo": P("repo", "Only work in these repositories, by name (comma-separated)."),
 "tool": P("tool", "Only these agents (comma-separated): claude-code, codex, gemini-cli, genai."),
 "model": P("model", "Only these models (comma-separated); outputs, which have no model, are then left out."),
 "format": P("format", "json (default), or one of the report's tables as csv or parquet.", {"type": "string", "enum": ["json", "csv", "parquet"]}),
 "table": P("table", "With format=csv or parquet: which table.", {"type": "string", "enum": ["rows", "trend", "outcomes", "leaderboard", "waste", "links", "unit", "optimizable", "classes", "behaviours", "flags", "periods", "sessions", "blocks"]}),
}
ref = lambda n: {"$ref": f"#/components/parameters/{n}"}
err = lambda d: {"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
common_errors = {"400": err("A parameter is wrong; the message names it."), "401": err("No token (off localhost), or an unknown one."), "403": err("The token's role may not read this, or a filter reaches outside its teams or person."), "503": err("The report could not be computed (the store or a repository is unreadable).")}
def report_op(summary, desc, op, with_cut=True, usage=False):
    names = ["since", "until", "timezone", "as_of"] + (["cut"] if with_cut else []) + ["team", "person"] + ([] if usage else ["cost_centre", "repo"]) + ["tool", "model", "format", "table"]
    return {"get": {"operationId": op, "summary": summary, "description": desc, "tags": ["reports"], "parameters": [ref(n) for n in names],
        "responses": {"200": {"description": "The report (JSON), or one of its tables.", "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}, **common_errors}}}
paths = {}
paths["/api/v1/report"] = report_op("The four pillars", "The whole four-pillar report: exactly what `freight report --store DIR --json` prints for the same inputs, as-of time and filters (schema: docs/JSON.md).", "report")
parts = [("leaderboard", "The team leaderboard", "Teams by outcomes per dollar with confidence intervals (`leaderboard` of the report). Refused to engineer tokens.", "leaderboard"),
 ("waste", "Waste line items", "Wasted spend, one item per rejected PR, reverted commit or unshipped session, with its sessions (`waste`).", "waste"),
 ("unit-economics", "Unit economics", "Cost per merged PR, per commit, per surviving line, per ticket; outcomes per dollar — per row and in total (`unit` of each row).", "unitEconomics"),
 ("outcomes", "Outcomes", "Commits, AI commits, surviving lines, merged and rejected PRs, tickets, deploys and incidents per row and in total (`output` of each row).", "outcomes"),
 ("links", "Session-to-outcome links", "Every link with its evidence and confidence, and their summary (`links`, `session_links`).", "links"),
 ("optimizable", "Optimizable cost", "Savings from moving work to a cheaper tier that reached the same outcome rate for its task class, caching repeated context and restarting bloated conversations, with the outcome rates per class and tier and the assumptions (`optimizable`).", "optimizable"),
 ("adoption", "Adoption", "Level 1: active people by day and week, seats in use, spend concentration (`adoption`).", "adoption"),
 ("trend", "Weekly trend", "Spend beside output week by week (Monday weeks in `timezone`): cost, wasted, calls, commits, AI commits, merged PRs, tickets, outcomes per dollar (`trend`).", "trend"),
 ("behaviours", "Behaviours", "Level 2: each team's habits (cache reuse, context per turn, restarts, frontier models on routine calls, verifying before shipping, rejected edits, sessions that ship), their weekly trend and how widely each has spread (`behaviours`; per person only with cut=person, and never to tokens without per-person access).", "behaviours"),
 ("flags", "Tokenmaxxing flags", "Usage gamed as a target, each flag with its evidence and severity (`flags`). Tokens without per-person access get the flags without names.", "flags")]
for path, summary, desc, op in parts:
    paths[f"/api/v1/{path}"] = report_op(summary, desc + " The same values as in /api/v1/report, with its header (as_of, timezone, since, until, scope).", op)
paths["/api/v1/usage/{view}"] = report_op("Usage", "Tokens and cost by period, session or 5-hour block: what `freight usage <view> --store DIR --json` prints.", "usage", with_cut=False, usage=True)
paths["/api/v1/usage/{view}"]["get"]["responses"]["404"] = err("No such view.")
paths["/api/v1/usage/{view}"]["get"]["parameters"].insert(0, P("view", "daily, weekly, monthly, session or blocks.", {"type": "string", "enum": ["daily", "weekly", "monthly", "session", "blocks"]}, where="path", required=True))
paths["/api/v1/me"] = {"get": {"operationId": "me", "summary": "The caller", "description": "The token's role and the part of the organisation it may read.", "tags": ["access"], "responses": {"200": {"description": "Role and scope.", "content": {"application/json": {"schema": {"type": "object", "required": ["principal", "role", "per_person"], "properties": {"principal": {"type": "string"}, "role": {"type": "string", "enum": ["admin", "finance", "team_lead", "engineer", "ingest"]}, "scope": {"type": ["object", "null"]}, "per_person": {"type": "boolean"}}}}}}, "401": common_errors["401"], "403": common_errors["403"]}}}
paths["/api/v1/openapi.json"] = {"get": {"operationId": "openapi", "summary": "This document", "tags": ["access"], "security": [{}], "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
paths["/metrics"] = {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "description": "Spend, tokens, waste and outcomes by team and by model; intake, WAL and store health. Admin and finance tokens.", "tags": ["operations"], "responses": {"200": {"description": "OpenMetrics text.", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}, "401": common_errors["401"], "403": common_errors["403"]}}}
paths["/"] = {"get": {"operationId": "dashboard", "summary": "The dashboard", "description": "The four pillars, spend beside outcomes by week, the team leaderboard, unit economics and waste line items with drill-down. Its data comes from this API with the token given as #token=... in the address (or none on localhost).", "tags": ["dashboard"], "security": [{}], "responses": {"200": {"description": "The page.", "content": {"text/html": {"schema": {"type": "string"}}}}}}}
paths["/health"] = {"get": {"operationId": "health", "summary": "Health", "tags": ["operations"], "security": [{}], "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}, "503": {"description": "The store stopped taking writes; the body says why.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
otlp = lambda op, what: {"post": {"operationId": op, "summary": f"OTLP/HTTP {what}", "description": "OTLP/HTTP export (docs/SERVER.md): protobuf or JSON, optionally gzip. Admin and ingest tokens.", "tags": ["ingest"],
   "requestBody": {"required": True, "content": {"application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}, "application/json": {"schema": {"type": "object"}}}},
   "responses": {"200": {"description": "Export response, with partialSuccess when records were rejected.", "content": {"application/json": {"schema": {"type": "object"}}, "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}}}, "400": err("The body could not be read (bad protobuf, JSON, gzip)."), "401": common_errors["401"], "403": common_errors["403"], "413": err("The body, or its inflated size, is over max_body_bytes."), "415": err("Unsupported content type or encoding."), "503": err("The store did not take the events; nothing was acknowledged.")}}}
paths["/v1/logs"] = otlp("exportLogs", "logs")
paths["/v1/traces"] = otlp("exportTraces", "traces")
paths["/v1/metrics"] = otlp("exportMetrics", "metrics")
paths["/webhooks/github"] = {"post": {"operationId": "githubWebhook", "summary": "GitHub webhook", "description": "pull_request, push and deployment_status deliveries, authenticated by X-Hub-Signature-256 (no token).", "tags": ["ingest"], "security": [{}],
   "parameters": [P("X-Hub-Signature-256", "HMAC-SHA256 of the body with the webhook secret.", where="header", required=True), P("X-GitHub-Event", "The event name.", where="header", required=True), P("X-GitHub-Delivery", "The delivery id (kept once).", where="header", required=True)],
   "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
   "responses": {"200": {"description": "Kept, or already kept.", "content": {"text/plain": {"schema": {"type": "string"}}}}, "202": {"description": "An event that is not kept.", "content": {"text/plain": {"schema": {"type": "string"}}}}, "400": err("A header is missing or the payload is not a JSON object."), "401": err("The signature is missing or wrong."), "403": err("No webhook secret is configured."), "413": err("Too large.")}}}
paths["/v1/outcomes/{kind}"] = {"post": {"operationId": "uploadOutcomes", "summary": "Upload outcomes", "description": "A pull request, deploy, ticket, incident or outcome-event file as `freight report` reads it (CSV or NDJSON). Checked row by row; kept once per content. Admin and ingest tokens.", "tags": ["ingest"],
   "parameters": [P("kind", "What the file holds.", {"type": "string", "enum": ["pulls", "deploys", "tickets", "incidents", "events"]}, where="path", required=True)],
   "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}},
   "responses": {"200": {"description": "Kept (or kept before).", "content": {"application/json": {"schema": {"type": "object", "properties": {"kept": {"type": "boolean"}, "rows": {"type": "integer"}, "file": {"type": ["string", "null"]}}}}}}, "400": err("A row is wrong; the message names its line and field."), "401": common_errors["401"], "403": common_errors["403"], "404": err("No such kind."), "413": err("Too large."), "415": err("Not CSV or NDJSON."), "503": err("Not stored.")}}}
paths["/v1/repos"] = {"post": {"operationId": "registerRepo", "summary": "Register a repository", "description": "A git repository on the server's disk, mined on a schedule for outcomes. Admin and ingest tokens.", "tags": ["ingest"],
   "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "description": "Absolute path."}}}}}},
   "responses": {"200": {"description": "Registered (or registered before).", "content": {"application/json": {"schema": {"type": "object", "properties": {"registered": {"type": "boolean"}}}}}}, "400": err("Not an absolute path to a git repository."), "401": common_errors["401"], "403": common_errors["403"], "415": err("Not JSON."), "422": err("The JSON does not have a path."), "503": err("Not stored.")}}}
doc = {"openapi": "3.1.0",
 "info": {"title": "freight", "version": "1", "description": "What AI spend bought: usage joined with outcomes. Every report answers with the JSON `freight ... --json` prints (docs/JSON.md) or one of its tables as CSV or Parquet, within what the caller's token may read: admin and finance (no per-person figures unless enabled) see every team, a team lead their teams, an engineer their own figures; ingest tokens send and read nothing. Off localhost every request but /health, the webhook and this document needs a token."},
 "servers": [{"url": "http://127.0.0.1:4318"}],
 "security": [{"bearerAuth": []}],
 "paths": paths,
 "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token made with `freight token create` (frt_...)."}},
   "parameters": params,
   "schemas": {"Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}}}}
print(json.dumps(doc, indent=2))
