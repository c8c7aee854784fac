//! The report API (`/api/v1/...`): the four-pillar report and its parts, and the usage
//! reports, as the same JSON the CLI prints with `--json` (or one of its tables as CSV or
//! Parquet), within what the caller's token may read. Reports are computed by a [`Reports`]
//! implementation (the `freight` binary's own pipeline) and kept for `cache_secs`: a stale
//! answer is served while one fresh computation runs behind it.

use crate::Shared;
use crate::auth::{AuditEntry, Principal};
use crate::body::Refusal;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use freight_analytics::Scope;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a report is computed from, once access control has set its scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportQuery {
    pub since: Option<String>,
    pub until: Option<String>,
    pub timezone: Option<String>,
    /// RFC 3339; absent: now.
    pub as_of: Option<String>,
    /// team, person, cost_centre, repo, tool or model.
    pub cut: Option<String>,
    pub scope: Scope,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The query is wrong (a date, a time zone): the caller's to fix.
    #[error("{0}")]
    Query(String),
    /// The server could not compute it (the store unreadable, a repository gone).
    #[error("{0}")]
    Failed(String),
}

/// Computes reports over the server's store (implemented by the `freight` binary).
pub trait Reports: Send + Sync {
    /// The four-pillar report, as `freight report --store DIR --json` prints it (compact JSON).
    fn pillars(&self, query: &ReportQuery) -> Result<Vec<u8>, ReportError>;
    /// The leaderboard part of [`Reports::pillars`] (the header keys and `leaderboard`), which
    /// needs far less work than the whole report.
    fn leaderboard(&self, query: &ReportQuery) -> Result<Vec<u8>, ReportError>;
    /// A usage report (`daily`, `weekly`, `monthly`, `session`, `blocks`), as `freight usage
    /// <view> --store DIR --json` prints it (compact JSON).
    fn usage(&self, view: &str, query: &ReportQuery) -> Result<Vec<u8>, ReportError>;
}

/// Query parameters every report endpoint takes. Lists are comma-separated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiParams {
    pub since: Option<String>,
    pub until: Option<String>,
    pub timezone: Option<String>,
    pub as_of: Option<String>,
    pub cut: Option<String>,
    pub team: Option<String>,
    pub person: Option<String>,
    pub cost_centre: Option<String>,
    pub repo: Option<String>,
    pub tool: Option<String>,
    pub model: Option<String>,
    /// json (default), csv or parquet.
    pub format: Option<String>,
    /// With csv or parquet: which of the report's tables.
    pub table: Option<String>,
}

pub const CUTS: [&str; 6] = ["team", "person", "cost_centre", "repo", "tool", "model"];
pub const USAGE_VIEWS: [&str; 5] = ["daily", "weekly", "monthly", "session", "blocks"];

/// A comma-separated filter; empty (`team=`) is no filter.
fn list(value: &Option<String>) -> Option<BTreeSet<String>> {
    let values: BTreeSet<String> =
        value.as_ref()?.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
    (!values.is_empty()).then_some(values)
}

fn forbidden(reason: impl Into<String>) -> Refusal {
    Refusal::new(StatusCode::FORBIDDEN, reason)
}

fn bad_request(reason: impl Into<String>) -> Refusal {
    Refusal::new(StatusCode::BAD_REQUEST, reason)
}

impl ApiParams {
    fn requested_scope(&self) -> Scope {
        Scope {
            teams: list(&self.team),
            people: list(&self.person),
            cost_centres: list(&self.cost_centre),
            repos: list(&self.repo),
            tools: list(&self.tool),
            models: list(&self.model),
        }
    }

    /// The query this caller may run: its filters within its token's reach. A filter that
    /// reaches outside is refused (403), never quietly narrowed.
    pub fn query_for(&self, principal: &Principal) -> Result<ReportQuery, Refusal> {
        let role = &principal.role;
        let allowed = role.scope().ok_or_else(|| forbidden("an ingest token reads no reports"))?;
        if let Some(cut) = &self.cut
            && !CUTS.contains(&cut.as_str())
        {
            return Err(bad_request(format!("cut={cut}: cuts are {}", CUTS.join(", "))));
        }
        let requested = self.requested_scope();
        if !role.sees_people() && (self.cut.as_deref() == Some("person") || requested.people.is_some()) {
            return Err(forbidden(
                "this token sees no per-person figures (a finance token made with --per-person does)",
            ));
        }
        for (name, wanted, reach) in
            [("team", &requested.teams, &allowed.teams), ("person", &requested.people, &allowed.people)]
        {
            if let (Some(wanted), Some(reach)) = (wanted, reach)
                && let Some(outside) = wanted.iter().find(|value| !reach.contains(*value))
            {
                return Err(forbidden(format!("{name}={outside} is outside what this token may read")));
            }
        }
        Ok(ReportQuery {
            since: self.since.clone(),
            until: self.until.clone(),
            timezone: self.timezone.clone(),
            as_of: self.as_of.clone(),
            cut: self.cut.clone(),
            scope: requested.within(allowed),
        })
    }

    /// Whether the answer can hold a single person's figures (the audit log says so).
    fn per_person(&self, principal: &Principal) -> bool {
        matches!(principal.role, crate::auth::Role::Engineer { .. })
            || self.cut.as_deref() == Some("person")
            || self.person.is_some()
    }
}

/// Computed reports by query, kept for a while.
pub struct ReportCache {
    ttl: Duration,
    /// Bytes the kept reports and their rendered answers may take.
    budget: usize,
    entries: Mutex<HashMap<String, Arc<CacheEntry>>>,
    /// One computation at a time: each holds a whole report in memory.
    computing: tokio::sync::Semaphore,
}

/// A computed report and the answers already rendered from it. The report is kept as its
/// compact JSON: parsed, a 10M-event report's 14 MB took eight times that, and most
/// requests want the JSON as it is.
pub struct Computed {
    json: axum::body::Bytes,
    rendered: Mutex<HashMap<String, axum::body::Bytes>>,
}

impl Computed {
    fn new(json: Vec<u8>) -> Computed {
        Computed { json: json.into(), rendered: Mutex::new(HashMap::new()) }
    }

    /// The report, parsed.
    pub fn document(&self) -> Result<Value, Refusal> {
        serde_json::from_slice(&self.json).map_err(|error| {
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("the kept report does not read: {error}"))
        })
    }

    /// The report's JSON as computed.
    pub fn json(&self) -> axum::body::Bytes {
        self.json.clone()
    }

    /// Bytes kept: the report and the answers rendered from it.
    fn size(&self) -> usize {
        let rendered = self.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.json.len() + rendered.values().map(axum::body::Bytes::len).sum::<usize>()
    }

    /// The report's top-level `keys` only (the rest is scanned, not built: a part of a large
    /// report reads in a fraction of the time the whole takes).
    pub fn document_of(&self, keys: &[&str]) -> Result<Value, Refusal> {
        let unreadable = |error: serde_json::Error| {
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, format!("the kept report does not read: {error}"))
        };
        let top: HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_slice(&self.json).map_err(unreadable)?;
        let mut document = serde_json::Map::new();
        for key in keys {
            if let Some(raw) = top.get(*key) {
                document.insert((*key).to_string(), serde_json::from_str(raw.get()).map_err(unreadable)?);
            }
        }
        Ok(Value::Object(document))
    }

    /// The answer body kept under `key`, rendered once from the parsed report (only its
    /// top-level `keys` when given).
    pub fn rendered(
        &self,
        key: &str,
        keys: Option<&[&str]>,
        render: impl FnOnce(&Value) -> Result<Vec<u8>, Refusal>,
    ) -> Result<axum::body::Bytes, Refusal> {
        if let Some(body) = self.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key) {
            return Ok(body.clone());
        }
        let document = match keys {
            Some(keys) => self.document_of(keys)?,
            None => self.document()?,
        };
        let body = axum::body::Bytes::from(render(&document)?);
        self.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key.to_string(), body.clone());
        Ok(body)
    }
}

#[derive(Default)]
struct CacheEntry {
    value: Mutex<Option<(Instant, Arc<Computed>)>>,
    refresh: Arc<tokio::sync::Mutex<()>>,
}

impl CacheEntry {
    fn computed_at(&self) -> Option<Instant> {
        self.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref().map(|(at, _)| *at)
    }
}

const CACHE_ENTRIES: usize = 256;

impl ReportCache {
    pub fn new(ttl: Duration, budget_bytes: usize) -> ReportCache {
        ReportCache {
            ttl,
            budget: budget_bytes,
            entries: Mutex::new(HashMap::new()),
            computing: tokio::sync::Semaphore::new(1),
        }
    }

    fn entry(&self, key: &str) -> Arc<CacheEntry> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_ENTRIES && !entries.contains_key(key) {
            // Drop the entry computed longest ago.
            let oldest = entries.iter().min_by_key(|(_, entry)| entry.computed_at()).map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.entry(key.to_string()).or_default().clone()
    }

    /// Keeps `value` under `entry`, then drops the reports computed longest ago while the kept
    /// ones take more than the budget (the newest is always kept).
    fn keep(&self, entry: &CacheEntry, value: Arc<Computed>) {
        *entry.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), value));
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut kept: Vec<(Instant, String, usize)> = entries
            .iter()
            .filter_map(|(key, entry)| {
                let value = entry.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                value.as_ref().map(|(at, computed)| (*at, key.clone(), computed.size()))
            })
            .collect();
        kept.sort_unstable_by_key(|(at, _, _)| std::cmp::Reverse(*at));
        let mut total = 0;
        for (index, (_, key, size)) in kept.into_iter().enumerate() {
            total += size;
            if index > 0 && total > self.budget {
                entries.remove(&key);
            }
        }
    }

    /// The report kept under `key`, if it is fresh.
    pub fn fresh(&self, key: &str) -> Option<Arc<Computed>> {
        let entry = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(key).cloned()?;
        let value = entry.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        value.filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, computed)| computed)
    }

    /// The report for `key`: fresh from the cache, stale while a refresh runs behind it, or
    /// computed now.
    pub async fn get(
        self: &Arc<Self>,
        key: String,
        compute: impl Fn() -> Result<Vec<u8>, ReportError> + Send + Sync + 'static,
    ) -> Result<Arc<Computed>, ReportError> {
        let entry = self.entry(&key);
        let current = entry.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let compute = Arc::new(compute);
        match current {
            Some((at, value)) if at.elapsed() < self.ttl => Ok(value),
            Some((_, stale)) => {
                if let Ok(guard) = entry.refresh.clone().try_lock_owned() {
                    let (cache, entry, compute) = (self.clone(), entry.clone(), compute.clone());
                    tokio::spawn(async move {
                        let _guard = guard;
                        if let Ok(value) = cache.run(compute).await {
                            cache.keep(&entry, value);
                        }
                    });
                }
                Ok(stale)
            }
            None => {
                let _guard = entry.refresh.lock().await;
                if let Some((_, value)) = entry.value.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
                {
                    return Ok(value);
                }
                let value = self.run(compute).await?;
                self.keep(&entry, value.clone());
                Ok(value)
            }
        }
    }

    async fn run(
        &self,
        compute: Arc<impl Fn() -> Result<Vec<u8>, ReportError> + Send + Sync + 'static>,
    ) -> Result<Arc<Computed>, ReportError> {
        let _permit = self.computing.acquire().await.map_err(|error| ReportError::Failed(error.to_string()))?;
        tokio::task::spawn_blocking(move || compute())
            .await
            .map_err(|error| ReportError::Failed(format!("the report computation stopped: {error}")))?
            .map(|json| Arc::new(Computed::new(json)))
    }
}

/// A part of the four-pillar report: its key in the JSON document, and the table CSV and
/// Parquet exports write by default.
#[derive(Debug, Clone, Copy)]
pub struct Part {
    pub path: &'static str,
    pub keys: &'static [&'static str],
    pub table: &'static str,
}

pub const PARTS: [Part; 11] = [
    Part { path: "report", keys: &[], table: "rows" },
    Part { path: "leaderboard", keys: &["leaderboard"], table: "leaderboard" },
    Part { path: "waste", keys: &["waste"], table: "waste" },
    Part { path: "unit-economics", keys: &["cut", "total", "rows"], table: "unit" },
    Part { path: "outcomes", keys: &["cut", "total", "rows"], table: "outcomes" },
    Part { path: "links", keys: &["links", "session_links"], table: "links" },
    Part { path: "optimizable", keys: &["optimizable"], table: "optimizable" },
    Part { path: "adoption", keys: &["adoption"], table: "rows" },
    Part { path: "trend", keys: &["trend"], table: "trend" },
    Part { path: "behaviours", keys: &["behaviours"], table: "behaviours" },
    Part { path: "flags", keys: &["flags"], table: "flags" },
];

impl Part {
    /// Whether the part names people (tokenmaxxing flags do).
    fn names_people(&self) -> bool {
        self.keys.is_empty() || self.keys.contains(&"flags") || self.keys.contains(&"behaviours")
    }
}

/// The document without the names of people, for tokens that may not see them: flags keep
/// their kind, team, severity and evidence; per-person habits go.
fn without_people(document: &Value) -> Value {
    let mut document = document.clone();
    if let Some(flags) = document.get_mut("flags").and_then(Value::as_array_mut) {
        for flag in flags.iter_mut().filter_map(Value::as_object_mut) {
            flag.remove("person");
            flag.remove("account");
        }
    }
    if let Some(behaviours) = document.get_mut("behaviours").and_then(Value::as_object_mut) {
        behaviours.remove("by_person");
    }
    document
}

/// The fields every part carries: when and over what it was computed.
const HEADER_KEYS: [&str; 5] = ["as_of", "timezone", "since", "until", "scope"];

fn part_of(document: &Value, part: &Part) -> Value {
    if part.keys.is_empty() {
        return document.clone();
    }
    let mut out = serde_json::Map::new();
    for key in HEADER_KEYS.iter().chain(part.keys) {
        if let Some(value) = document.get(*key) {
            out.insert((*key).to_string(), value.clone());
        }
    }
    // Unit economics and outcomes: each row's key with only that part of it.
    let only = match part.path {
        "unit-economics" => Some("unit"),
        "outcomes" => Some("output"),
        _ => None,
    };
    if let Some(field) = only {
        let trim = |row: &Value| serde_json::json!({ "key": row["key"], field: row[field] });
        out.insert("total".into(), trim(&document["total"]));
        let rows = document["rows"].as_array().map(|rows| rows.iter().map(trim).collect()).unwrap_or_default();
        out.insert("rows".into(), Value::Array(rows));
    }
    Value::Object(out)
}

fn report_error(error: ReportError) -> Refusal {
    match error {
        ReportError::Query(reason) => bad_request(reason),
        ReportError::Failed(reason) => Refusal::new(StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

/// The answer in the format asked for: the JSON of `part` (None: the whole document), or a
/// table of the whole document; rendered once per computed report.
fn answer(
    computed: &Computed,
    part: Option<&Part>,
    default_table: &str,
    params: &ApiParams,
    sees_people: bool,
) -> Result<Response, Refusal> {
    let format = params.format.as_deref().unwrap_or("json");
    let view = if sees_people { "" } else { " without people" };
    let failed = |error: String| Refusal::new(StatusCode::SERVICE_UNAVAILABLE, error);
    if format == "json" {
        if let Some(table) = &params.table {
            return Err(bad_request(format!("table={table} goes with format=csv or format=parquet")));
        }
        if part.is_none() && sees_people {
            return Ok(([(header::CONTENT_TYPE, "application/json")], computed.json()).into_response());
        }
        let key = format!("json {}{view}", part.map_or("", |part| part.path));
        let keys: Option<Vec<&str>> = part.filter(|part| !part.keys.is_empty()).map(|part| {
            let trimmed_rows: &[&str] = if part.keys.contains(&"rows") { &["total", "rows"] } else { &[] };
            HEADER_KEYS.iter().chain(part.keys).chain(trimmed_rows).copied().collect()
        });
        let body = computed.rendered(&key, keys.as_deref(), |document| {
            let redacted;
            let document = match sees_people {
                true => document,
                false => {
                    redacted = without_people(document);
                    &redacted
                }
            };
            let value = match part {
                Some(part) => &part_of(document, part),
                None => document,
            };
            serde_json::to_vec(value).map_err(|error| failed(error.to_string()))
        })?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let name = params.table.as_deref().unwrap_or(default_table);
    let table_rows = |document: &Value| {
        let redacted = (!sees_people).then(|| without_people(document));
        freight_analytics::export::table(redacted.as_ref().unwrap_or(document), name)
            .ok_or_else(|| bad_request(format!("table={name}: this report has no such table")))
    };
    match format {
        "csv" => {
            let body = computed.rendered(&format!("csv {name}{view}"), None, |document| {
                freight_analytics::export::csv(&table_rows(document)?).map_err(|error| failed(error.to_string()))
            })?;
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
        }
        "parquet" => {
            let body = computed.rendered(&format!("parquet {name}{view}"), None, |document| {
                freight_analytics::export::parquet(&table_rows(document)?).map_err(|error| failed(error.to_string()))
            })?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/vnd.apache.parquet".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.parquet\"")),
                ],
                body,
            )
                .into_response())
        }
        other => Err(bad_request(format!("format={other}: formats are json, csv and parquet"))),
    }
}

fn audit(state: &Shared, principal: &Principal, path: &str, params_text: &str, status: u16, per_person: bool) {
    let entry = AuditEntry {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        principal: &principal.id,
        role: principal.role.name(),
        path,
        query: params_text,
        status,
        per_person,
    };
    if let Err(error) = state.audit.record(&entry) {
        eprintln!("freight serve: the audit log could not be written: {error}");
    }
}

/// Runs one report request: access, cache, format, audit.
async fn serve_report(
    state: Shared,
    principal: Principal,
    path: String,
    raw_query: String,
    params: Result<ApiParams, String>,
    names_people: bool,
    run: impl FnOnce(ApiParams, ReportQuery) -> futures::future::BoxFuture<'static, Result<Response, Refusal>>,
) -> Response {
    let outcome = async {
        let params = params.map_err(bad_request)?;
        let query = params.query_for(&principal)?;
        let per_person = params.per_person(&principal) || (names_people && principal.role.sees_people());
        Ok::<_, Refusal>((run(params, query).await, per_person))
    }
    .await;
    let (response, per_person) = match outcome {
        Ok((Ok(response), per_person)) => (response, per_person),
        Ok((Err(refusal), per_person)) => (refusal.into_response(), per_person),
        Err(refusal) => (refusal.into_response(), false),
    };
    audit(&state, &principal, &path, &raw_query, response.status().as_u16(), per_person);
    response
}

/// The query string as [`ApiParams`]; an unknown parameter is an error naming it.
fn parse_params(raw: Option<&str>) -> Result<ApiParams, String> {
    let uri: axum::http::Uri = format!("/?{}", raw.unwrap_or("")).parse().map_err(|error| format!("query: {error}"))?;
    Query::<ApiParams>::try_from_uri(&uri)
        .map(|Query(params)| params)
        .map_err(|error| format!("query: {}", error.body_text()))
}

/// `GET /api/v1/{part}`.
pub async fn pillars_part(
    State(state): State<Shared>,
    Extension(principal): Extension<Principal>,
    Path(part): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let Some(part) = PARTS.iter().copied().find(|p| p.path == part) else {
        return Refusal::new(StatusCode::NOT_FOUND, format!("/api/v1/{part}: no such report")).into_response();
    };
    let params = parse_params(raw.as_deref());
    let path = format!("/api/v1/{}", part.path);
    let run_state = state.clone();
    let sees_people = principal.role.sees_people();
    serve_report(state, principal, path, raw.unwrap_or_default(), params, part.names_people(), move |params, query| {
        Box::pin(async move {
            let key = serde_json::to_string(&("pillars", &query)).map_err(|e| bad_request(e.to_string()))?;
            let reports = run_state.reports.clone();
            let cache = &run_state.report_cache;
            // The leaderboard alone is a fraction of the report's work: it is computed on its
            // own unless the whole report is at hand (or a table of the rest is asked for).
            let leaderboard_only =
                part.path == "leaderboard" && params.table.as_deref().is_none_or(|t| t == part.table);
            let document = match (leaderboard_only, cache.fresh(&key)) {
                (true, None) => {
                    let key =
                        serde_json::to_string(&("leaderboard", &query)).map_err(|e| bad_request(e.to_string()))?;
                    cache.get(key, move || reports.leaderboard(&query)).await
                }
                (_, Some(document)) => Ok(document),
                (false, None) => cache.get(key, move || reports.pillars(&query)).await,
            }
            .map_err(report_error)?;
            let whole = part.keys.is_empty();
            answer(&document, (!whole).then_some(&part), part.table, &params, sees_people)
        })
    })
    .await
}

/// `GET /api/v1/usage/{view}`.
pub async fn usage(
    State(state): State<Shared>,
    Extension(principal): Extension<Principal>,
    Path(view): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    if !USAGE_VIEWS.contains(&view.as_str()) {
        return Refusal::new(StatusCode::NOT_FOUND, format!("usage/{view}: views are {}", USAGE_VIEWS.join(", ")))
            .into_response();
    }
    let params = parse_params(raw.as_deref());
    let path = format!("/api/v1/usage/{view}");
    let run_state = state.clone();
    serve_report(state, principal, path, raw.unwrap_or_default(), params, false, move |params, query| {
        Box::pin(async move {
            if query.cut.is_some() || query.scope.repos.is_some() || query.scope.cost_centres.is_some() {
                return Err(bad_request(
                    "usage reports take since, until, timezone, as_of, team, person, tool and model (cuts, repositories and cost centres are in /api/v1/report)",
                ));
            }
            let key = serde_json::to_string(&("usage", &view, &query)).map_err(|e| bad_request(e.to_string()))?;
            let reports = run_state.reports.clone();
            let view_name = view.clone();
            let document = run_state
                .report_cache
                .get(key, move || reports.usage(&view_name, &query))
                .await
                .map_err(report_error)?;
            let table = match view.as_str() {
                "session" => "sessions",
                "blocks" => "blocks",
                _ => "periods",
            };
            answer(&document, None, table, &params, true)
        })
    })
    .await
}

/// The report the dashboard and `/metrics` open with (the whole organisation by team, as of
/// when it is computed), under the key a request for it finds.
pub fn overview_key() -> (String, ReportQuery) {
    let query = ReportQuery { cut: Some("team".into()), ..ReportQuery::default() };
    let key = serde_json::to_string(&("pillars", &query)).unwrap_or_default();
    (key, query)
}

/// Computes the overview once at start, so the dashboard's first visitor does not wait for it
/// (after that, the cache keeps it fresh as it is asked for).
pub async fn warm(state: Shared) {
    let (key, query) = overview_key();
    let reports = state.reports.clone();
    if let Err(error) = state.report_cache.get(key, move || reports.pillars(&query)).await {
        eprintln!("freight serve: the overview report could not be computed: {error}");
    }
}

/// `GET /api/v1/me`: the caller's role and reach.
pub async fn me(Extension(principal): Extension<Principal>) -> Response {
    axum::Json(serde_json::json!({
        "principal": principal.id,
        "role": principal.role.name(),
        "scope": principal.role.scope(),
        "per_person": principal.role.sees_people(),
    }))
    .into_response()
}

/// The OpenAPI document, as checked in at docs/openapi.json.
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn principal(role: Role) -> Principal {
        Principal { id: "t1".into(), role }
    }

    #[test]
    fn kept_reports_stay_within_the_memory_budget() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let cache = Arc::new(ReportCache::new(Duration::from_secs(3600), 250));
        let computed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let get = |key: &str| {
            let counter = computed.clone();
            let report = runtime
                .block_on(cache.get(key.to_string(), move || {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Ok(format!("{{\"rows\":\"{}\"}}", "x".repeat(90)).into_bytes())
                }))
                .expect("computed");
            assert_eq!(report.document().expect("parses")["rows"].as_str().map(str::len), Some(90));
        };
        get("a");
        get("b");
        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 2, "two ~100-byte reports fit in 250");
        get("a");
        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 2, "a is kept");
        get("c");
        let kept: BTreeSet<String> = cache
            .entries
            .lock()
            .expect("entries")
            .iter()
            .filter(|(_, entry)| entry.computed_at().is_some())
            .map(|(key, _)| key.clone())
            .collect();
        assert_eq!(kept, ["b".to_string(), "c".to_string()].into(), "the report computed longest ago went");
        get("a");
        assert_eq!(computed.load(std::sync::atomic::Ordering::SeqCst), 4, "a dropped report is computed again");
        // The newest is kept even when it alone is over the budget.
        let tiny = ReportCache::new(Duration::from_secs(3600), 10);
        let tiny = Arc::new(tiny);
        runtime.block_on(tiny.get("big".into(), || Ok(b"[1,2,3,4,5,6,7,8,9,10]".to_vec()))).expect("computed");
        assert_eq!(tiny.entries.lock().expect("entries").len(), 1);
    }

    #[test]
    fn a_part_read_from_its_keys_is_the_part_of_the_whole() {
        let document = serde_json::json!({
            "as_of": "2026-11-20T00:00:00Z", "timezone": "UTC", "since": null, "until": null, "cut": "team",
            "total": {"key": "total", "unit": {"per_pr": "1.5"}, "output": {"prs": 2}, "cost": "3"},
            "rows": [{"key": "web", "unit": {"per_pr": "1"}, "output": {"prs": 1}, "cost": "1"}],
            "leaderboard": [{"team": "web"}], "waste": [{"amount": "1"}], "links": {"sessions": 3},
            "session_links": [{"session": "s"}], "optimizable": {"total": "0"}, "adoption": {"seats": 2},
            "trend": [], "behaviours": {"teams": []}, "flags": [{"person": "ana", "kind": "loops"}],
            "repos": [], "ingest": {},
        });
        let computed = Computed::new(serde_json::to_vec(&document).expect("json"));
        for part in PARTS.iter().filter(|part| !part.keys.is_empty()) {
            let trimmed_rows: &[&str] = if part.keys.contains(&"rows") { &["total", "rows"] } else { &[] };
            let keys: Vec<&str> = HEADER_KEYS.iter().chain(part.keys).chain(trimmed_rows).copied().collect();
            let from_keys = computed.document_of(&keys).expect("reads");
            assert_eq!(part_of(&from_keys, part), part_of(&document, part), "{}", part.path);
            assert!(from_keys.get("session_links").is_none() || part.keys.contains(&"session_links"));
        }
    }

    #[test]
    fn a_query_stays_within_its_token() {
        let lead = principal(Role::TeamLead { teams: ["payments".to_string(), "web".to_string()].into() });
        let all = ApiParams::default().query_for(&lead).expect("allowed");
        assert_eq!(all.scope.teams, Some(["payments".to_string(), "web".to_string()].into()));
        let one = ApiParams { team: Some("web".into()), ..ApiParams::default() }.query_for(&lead).expect("allowed");
        assert_eq!(one.scope.teams, Some(["web".to_string()].into()));
        let other = ApiParams { team: Some("web,data".into()), ..ApiParams::default() }.query_for(&lead);
        assert_eq!(other.expect_err("outside").status, StatusCode::FORBIDDEN);

        let finance = principal(Role::Finance { per_person: false });
        let by_person = ApiParams { cut: Some("person".into()), ..ApiParams::default() };
        assert_eq!(by_person.query_for(&finance).expect_err("no people").status, StatusCode::FORBIDDEN);
        assert!(by_person.query_for(&principal(Role::Finance { per_person: true })).is_ok());
        let me = principal(Role::Engineer { person: "ana".into() });
        let mine = ApiParams::default().query_for(&me).expect("allowed");
        assert_eq!(mine.scope.people, Some(["ana".to_string()].into()));
        assert!(ApiParams { person: Some("bo".into()), ..ApiParams::default() }.query_for(&me).is_err());
        assert!(ApiParams::default().query_for(&principal(Role::Ingest)).is_err());
        let bad_cut = ApiParams { cut: Some("planet".into()), ..ApiParams::default() };
        assert_eq!(bad_cut.query_for(&principal(Role::Admin)).expect_err("bad").status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn unknown_parameters_are_refused_by_name() {
        let error = parse_params(Some("since=2026-01-01&colour=red")).expect_err("unknown");
        assert!(error.contains("colour"), "{error}");
        assert_eq!(parse_params(Some("team=a,b")).expect("reads").team.as_deref(), Some("a,b"));
    }
}
