//! Usage reports (daily, weekly, monthly, by session): tokens by kind and derived cost per
//! period and model, as one GROUP BY over `priced_usage`; periods are cut in the caller's
//! time zone.

use crate::columns;
use crate::engine::{AnalyticsError, Engine};
use crate::pricing::priced_groups_sql;
use chrono::{NaiveDate, Weekday};
use freight_core::{Money, TokenCounts};
use serde::Serialize;
use std::collections::BTreeMap;

/// How rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    Daily,
    /// Weeks that start on the given day, keyed by their first date.
    Weekly(Weekday),
    Monthly,
    Session,
}

/// Which calls a report covers.
#[derive(Debug, Clone)]
pub struct Filters {
    /// IANA time zone the periods and `since`/`until` are read in.
    pub timezone: String,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub project: Option<String>,
    pub tool: Option<String>,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters { timezone: "UTC".into(), since: None, until: None, project: None, tool: None }
    }
}

/// Tokens and cost of one model within a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelUsage {
    pub model: String,
    pub tokens: TokenCounts,
    /// Cost of the priced calls.
    pub cost: Money,
    pub calls: u64,
    /// Calls whose model has no price: their cost is unknown, not zero.
    pub unpriced_calls: u64,
}

/// One group (a day, week, month or session).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageGroup {
    pub key: String,
    pub tokens: TokenCounts,
    pub cost: Money,
    pub calls: u64,
    pub unpriced_calls: u64,
    pub models: Vec<ModelUsage>,
    /// Session groups only: the project and tool, and the first and last call (ms).
    pub project: Option<String>,
    pub tool: Option<String>,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The call's wall-clock time in `timezone`, as a naive timestamp.
pub(crate) fn local_time_sql(timezone: &str) -> String {
    let arrow_type = format!("Timestamp(Millisecond, Some(\"{}\"))", timezone.replace('"', ""));
    format!("to_local_time(arrow_cast(ts, {}))", quote(&arrow_type))
}

/// The period a call falls in, as a SQL expression over `usage`: the local start of its day,
/// week or month (a timestamp, cheap to group on; formatted after the reduction), or its session.
fn period_sql(grouping: Grouping, timezone: &str) -> String {
    let local = local_time_sql(timezone);
    match grouping {
        Grouping::Daily => format!("date_trunc('day', {local})"),
        Grouping::Monthly => format!("date_trunc('month', {local})"),
        Grouping::Weekly(start) => {
            // date_trunc('week') starts on Monday; shift so the week starts on `start`.
            let shift = i64::from(start.days_since(Weekday::Mon));
            format!("date_trunc('week', {local} - INTERVAL '{shift} days') + INTERVAL '{shift} days'")
        }
        Grouping::Session => "session_id".into(),
    }
}

/// How a period key reads in the report (`k0` is the key column of `priced_groups_sql`).
fn period_label_sql(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::Daily | Grouping::Weekly(_) => "to_char(k0, '%Y-%m-%d')",
        Grouping::Monthly => "to_char(k0, '%Y-%m')",
        Grouping::Session => "CAST(k0 AS VARCHAR)",
    }
}

fn timestamp_literal(day: NaiveDate) -> String {
    format!("CAST('{}T00:00:00' AS TIMESTAMP)", day.format("%Y-%m-%d"))
}

/// The WHERE clause for `filters` (always true when empty). Days are compared as local times.
pub(crate) fn where_sql(filters: &Filters) -> String {
    let local = local_time_sql(&filters.timezone);
    let mut clauses = vec!["TRUE".to_string()];
    if let Some(since) = filters.since {
        clauses.push(format!("{local} >= {}", timestamp_literal(since)));
    }
    if let Some(until) = filters.until.and_then(|until| until.succ_opt()) {
        clauses.push(format!("{local} < {}", timestamp_literal(until)));
    }
    if let Some(project) = &filters.project {
        clauses.push(format!("CAST(project AS VARCHAR) = {}", quote(project)));
    }
    if let Some(tool) = &filters.tool {
        clauses.push(format!("CAST(tool AS VARCHAR) = {}", quote(tool)));
    }
    clauses.join(" AND ")
}

/// Checks the time zone before it reaches SQL, so a typo is a clear error.
pub fn check_timezone(timezone: &str) -> Result<(), AnalyticsError> {
    timezone.parse::<chrono_tz::Tz>().map(drop).map_err(|_| AnalyticsError::TimeZone(timezone.to_string()))
}

/// Aggregates usage into groups with per-model lines, ordered by key.
pub async fn usage_report(
    engine: &Engine,
    grouping: Grouping,
    filters: &Filters,
) -> Result<Vec<UsageGroup>, AnalyticsError> {
    check_timezone(&filters.timezone)?;
    let groups_sql = priced_groups_sql(
        &[period_sql(grouping, &filters.timezone)],
        &where_sql(filters),
        &engine.band_floors,
        grouping == Grouping::Session,
    );
    let sql = format!("SELECT {} AS grp, * FROM ({groups_sql})", period_label_sql(grouping));
    let batches = engine.query(&sql).await?;
    let mut groups: BTreeMap<String, UsageGroup> = BTreeMap::new();
    for batch in &batches {
        let keys = columns::strings(batch, "grp")?;
        let models = columns::strings(batch, "model")?;
        let projects = columns::strings(batch, "project")?;
        let tools = columns::strings(batch, "tool")?;
        let tokens = columns::tokens(batch)?;
        let calls = columns::counts(batch, "calls")?;
        let unpriced = columns::counts(batch, "unpriced")?;
        let costs = columns::decimals(batch, "cost")?;
        let firsts = columns::millis(batch, "first_ts")?;
        let lasts = columns::millis(batch, "last_ts")?;
        for row in 0..batch.num_rows() {
            let key = keys[row].clone().unwrap_or_default();
            let line = ModelUsage {
                model: models[row].clone().unwrap_or_default(),
                tokens: tokens[row],
                cost: costs[row].unwrap_or_default().normalize(),
                calls: calls[row],
                unpriced_calls: unpriced[row],
            };
            let group = groups.entry(key.clone()).or_insert_with(|| UsageGroup {
                key,
                tokens: TokenCounts::default(),
                cost: Money::ZERO,
                calls: 0,
                unpriced_calls: 0,
                models: Vec::new(),
                project: None,
                tool: None,
                first_ms: None,
                last_ms: None,
            });
            group.tokens += line.tokens;
            group.cost += line.cost;
            group.calls += line.calls;
            group.unpriced_calls += line.unpriced_calls;
            group.models.push(line);
            if grouping == Grouping::Session {
                group.project = group.project.take().or_else(|| projects[row].clone());
                group.tool = group.tool.take().or_else(|| tools[row].clone());
                group.first_ms = match (group.first_ms, firsts[row]) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                group.last_ms = group.last_ms.max(lasts[row]);
            }
        }
    }
    let mut groups: Vec<UsageGroup> = groups.into_values().collect();
    for group in &mut groups {
        group.models.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.model.cmp(&b.model)));
    }
    if grouping == Grouping::Session {
        groups.sort_by(|a, b| a.last_ms.cmp(&b.last_ms).then_with(|| a.key.cmp(&b.key)));
    }
    Ok(groups)
}
