//! The four pillars — tokens consumed, wasted cost, optimizable cost, actual output — per cut
//! (person, team, cost centre, repo, tool, model). The attribution becomes three plain fact
//! tables (`spend`, `session_usage`, `outputs`), and one SQL text ([`PILLARS_SQL`]) reduces them:
//! standard SQL that DataFusion runs here and DuckDB runs unchanged over the same files.

use crate::attribution::{Attribution, Fate, Outcomes, Rules};
use crate::columns;
use crate::dataset::table;
use crate::engine::{AnalyticsError, Engine};
use crate::grain::Grain;
use datafusion::arrow::array::{
    ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use freight_core::link::OutcomeRef;
use freight_core::org::Directory;
use freight_core::outcome::{Millis, PullState};
use freight_core::{Money, TokenCounts};
use serde::Serialize;
use std::sync::Arc;

/// What a report's rows are cut by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    Team,
    Person,
    CostCentre,
    Repo,
    Tool,
    Model,
}

impl Cut {
    pub fn column(self) -> &'static str {
        match self {
            Cut::Team => "team",
            Cut::Person => "person",
            Cut::CostCentre => "cost_centre",
            Cut::Repo => "repo",
            Cut::Tool => "tool",
            Cut::Model => "model",
        }
    }
}

/// Placeholders for a dimension a fact does not have, so every join key is a plain string.
pub const NO_REPO: &str = "(no repo)";
pub const NO_TOOL: &str = "(no agent)";
pub const NO_MODEL: &str = "(no model)";
pub const NO_COST_CENTRE: &str = "(none)";

/// The one SQL text of the pillars. `{cut}` is a column of the three fact tables (or, for the
/// total, an expression that is `'all'` on every row). Kept engine-neutral: plain GROUP BY,
/// aggregates with the standard `FILTER (WHERE …)` clause (a fifth faster than `SUM(CASE …)` in
/// DataFusion: the condition is passed as a mask, no CASE array is built) and joins on non-null keys.
pub const PILLARS_SQL: &str = "
WITH s AS (
  SELECT {cut} AS k,
         SUM(amount) AS cost,
         COALESCE(SUM(amount) FILTER (WHERE fate = 'shipped'), 0) AS shipped,
         COALESCE(SUM(amount) FILTER (WHERE fate = 'reverted'), 0) AS reverted,
         COALESCE(SUM(amount) FILTER (WHERE fate = 'rejected'), 0) AS rejected,
         COALESCE(SUM(amount) FILTER (WHERE fate = 'never_shipped'), 0) AS never_shipped,
         COALESCE(SUM(amount) FILTER (WHERE fate = 'pending'), 0) AS pending,
         COALESCE(SUM(amount) FILTER (WHERE evidence = 'exact'), 0) AS exact_linked,
         COALESCE(SUM(amount) FILTER (WHERE evidence = 'heuristic'), 0) AS heuristic_linked
  FROM spend GROUP BY {cut}
), u AS (
  SELECT {cut} AS k,
         SUM(input_tokens) AS input, SUM(output_tokens) AS output, SUM(cache_read_tokens) AS cache_read,
         SUM(cache_write_5m_tokens) AS cache_write_5m, SUM(cache_write_1h_tokens) AS cache_write_1h,
         SUM(reasoning_tokens) AS reasoning, SUM(calls) AS calls, SUM(unpriced_calls) AS unpriced,
         COUNT(DISTINCT session) AS sessions, COUNT(DISTINCT person) AS people,
         SUM(optimizable) AS optimizable
  FROM session_usage GROUP BY {cut}
), o AS (
  SELECT {cut} AS k,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'commit'), 0) AS commits,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'commit' AND ai), 0) AS ai_commits,
         COALESCE(SUM(lines_added) FILTER (WHERE kind = 'commit'), 0) AS lines_added,
         COALESCE(SUM(lines_added) FILTER (WHERE kind = 'commit' AND ai), 0) AS ai_lines_added,
         COALESCE(SUM(surviving_lines) FILTER (WHERE kind = 'commit' AND ai), 0) AS surviving_ai_lines,
         COALESCE(SUM(reworked_lines) FILTER (WHERE kind = 'commit' AND ai), 0) AS reworked_ai_lines,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'commit' AND ai AND deployed), 0) AS deployed_ai_commits,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'merged_pr'), 0) AS merged_prs,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'rejected_pr'), 0) AS rejected_prs,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'ticket'), 0) AS tickets,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'deploy'), 0) AS deploys,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'failed_deploy'), 0) AS failed_deploys,
         COALESCE(SUM(quantity) FILTER (WHERE kind = 'incident'), 0) AS incidents,
         COUNT(*) FILTER (WHERE kind = 'event') AS events
  FROM outputs GROUP BY {cut}
), keys AS (
  SELECT k FROM s UNION SELECT k FROM u UNION SELECT k FROM o
)
SELECT keys.k AS k,
       s.cost, s.shipped, s.reverted, s.rejected, s.never_shipped, s.pending, s.exact_linked, s.heuristic_linked,
       u.input, u.output, u.cache_read, u.cache_write_5m, u.cache_write_1h, u.reasoning, u.calls, u.unpriced,
       u.sessions, u.people, u.optimizable,
       o.commits, o.ai_commits, o.lines_added, o.ai_lines_added, o.surviving_ai_lines, o.reworked_ai_lines, o.deployed_ai_commits, o.merged_prs,
       o.rejected_prs, o.tickets, o.deploys, o.failed_deploys, o.incidents, o.events
FROM keys
LEFT JOIN s ON s.k = keys.k
LEFT JOIN u ON u.k = keys.k
LEFT JOIN o ON o.k = keys.k
ORDER BY keys.k
";

/// Scale of the money columns in the fact tables.
pub(crate) const AMOUNT_SCALE: i8 = 18;

/// A sum of amounts as the fact tables hold and SQL sums them: each at 18 places, added as
/// the scaled integers of a Decimal128 (a tenth of the time of adding decimals).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct FactSum(i128);

/// 10^0 to 10^18, for scaling a mantissa up to the facts' places without a loop.
const POWERS_OF_TEN: [i128; AMOUNT_SCALE as usize + 1] = {
    let mut powers = [1i128; AMOUNT_SCALE as usize + 1];
    let mut index = 1;
    while index < powers.len() {
        powers[index] = powers[index - 1] * 10;
        index += 1;
    }
    powers
};

impl FactSum {
    pub(crate) fn add(&mut self, amount: Money) {
        let scale = amount.scale();
        self.0 += match scale <= AMOUNT_SCALE as u32 {
            true => amount.mantissa() * POWERS_OF_TEN[(AMOUNT_SCALE as u32 - scale) as usize],
            false => {
                let mut amount = amount;
                amount.rescale(AMOUNT_SCALE as u32);
                amount.mantissa()
            }
        };
    }

    pub(crate) fn money(self) -> Money {
        columns::decimal(self.0, AMOUNT_SCALE)
    }
}

fn amount_column(amounts: impl Iterator<Item = Money>) -> Result<ArrayRef, AnalyticsError> {
    let values: Decimal128Array = amounts
        .map(|amount| {
            let mut amount = amount;
            amount.rescale(AMOUNT_SCALE as u32);
            Some(amount.mantissa())
        })
        .collect();
    Ok(Arc::new(values.with_precision_and_scale(38, AMOUNT_SCALE)?))
}

fn text<S: AsRef<str>>(values: impl IntoIterator<Item = S>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

/// The person, team and cost centre columns of a member.
fn member_columns(members: &[&freight_core::org::Member]) -> Vec<(&'static str, ArrayRef)> {
    vec![
        ("person", text(members.iter().map(|m| m.person.as_str()))),
        ("team", text(members.iter().map(|m| m.team.as_str()))),
        ("cost_centre", text(members.iter().map(|m| m.cost_centre.as_deref().unwrap_or(NO_COST_CENTRE)))),
    ]
}

/// Outputs within the report's period, as rows of the `outputs` table.
pub struct OutputWindow {
    /// Inclusive start and exclusive end, UTC millis; `None` is open.
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub as_of: Millis,
}

impl OutputWindow {
    fn holds(&self, at: Millis) -> bool {
        at <= self.as_of && self.from.is_none_or(|from| at >= from) && self.to.is_none_or(|to| at < to)
    }
}

/// The rows of `outputs_as_of` (an [`outputs_as_of`] table, built with `window`'s as-of time)
/// inside `window`, in their order.
pub(crate) fn outputs_in(outputs_as_of: &RecordBatch, window: &OutputWindow) -> Result<RecordBatch, AnalyticsError> {
    if window.from.is_none() && window.to.is_none() {
        return Ok(outputs_as_of.clone());
    }
    let at = columns::column(outputs_as_of, "at")?;
    let at = at.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
    let inside: BooleanArray = at.iter().map(|at| Some(at.is_some_and(|at| window.holds(at)))).collect();
    Ok(datafusion::arrow::compute::filter_record_batch(outputs_as_of, &inside)?)
}

/// The three fact tables.
pub struct Facts {
    pub spend: RecordBatch,
    pub session_usage: RecordBatch,
    pub outputs: RecordBatch,
}

/// Builds the fact tables from an attribution and the outcomes.
pub fn facts(
    attribution: &Attribution,
    optimizable: &OptimizableBySession,
    outputs_as_of: &RecordBatch,
    window: &OutputWindow,
) -> Result<Facts, AnalyticsError> {
    // The three tables are independent: built side by side.
    let (spend, (usage, outputs)) = rayon::join(
        || spend_table(attribution),
        || rayon::join(|| usage_table(attribution, optimizable), || outputs_in(outputs_as_of, window)),
    );
    Ok(Facts { spend: spend?, session_usage: usage?, outputs: outputs? })
}

/// Optimizable cost by (session index in the attribution, model).
pub type OptimizableBySession<'g> = foldhash::HashMap<(usize, &'g str), Money>;

/// Each (session, model)'s part of the optimizable total, from the grain's rows (the
/// attribution's sessions are the grain's, in its order).
pub fn optimizable_by_session<'g>(
    grain: &'g Grain,
    optimizable: &crate::optimizable::Optimizable,
) -> OptimizableBySession<'g> {
    let mut by_session = OptimizableBySession::default();
    for (row, saving) in grain.rows.iter().zip(&optimizable.by_row) {
        *by_session.entry((row.session as usize, grain.models[row.model as usize].as_str())).or_default() += *saving;
    }
    let model_names: foldhash::HashMap<&str, &'g str> = grain.models.iter().map(|m| (m.as_str(), m.as_str())).collect();
    for (session, model, saving) in &optimizable.restart_by_session {
        if let Some(name) = model_names.get(model.as_str()) {
            *by_session.entry((*session, name)).or_default() += *saving;
        }
    }
    by_session
}

/// `spend`: one row per share.
fn spend_table(attribution: &Attribution) -> Result<RecordBatch, AnalyticsError> {
    let sessions = &attribution.sessions;
    // spend: one row per share.
    let shares = &attribution.shares;
    let share_members: Vec<_> = shares.iter().map(|s| &sessions[s.session].member).collect();
    let mut spend = member_columns(&share_members);
    spend.extend([
        ("repo", text(shares.iter().map(|s| s.repo(sessions)))),
        ("tool", text(shares.iter().map(|s| sessions[s.session].tool.as_str()))),
        ("model", text(shares.iter().map(|s| s.model.as_str()))),
        ("session", text(shares.iter().map(|s| sessions[s.session].session.as_str()))),
        ("fate", text(shares.iter().map(|s| s.fate.as_str()))),
        ("evidence", text(shares.iter().map(|s| s.evidence.unwrap_or("none")))),
        ("amount", amount_column(shares.iter().map(|s| s.amount))?),
    ]);

    table(spend)
}

/// `session_usage`: one row per (session, model).
fn usage_table(attribution: &Attribution, optimizable: &OptimizableBySession) -> Result<RecordBatch, AnalyticsError> {
    let sessions = &attribution.sessions;
    // session_usage: one row per (session, model).
    let rows: Vec<(usize, &crate::attribution::SessionSpend, &crate::usage::ModelUsage)> =
        sessions.iter().enumerate().flat_map(|(index, s)| s.models.iter().map(move |m| (index, s, m))).collect();
    let optimizable_cost: Vec<Money> = rows
        .iter()
        .map(|(index, _, m)| optimizable.get(&(*index, m.model.as_str())).copied().unwrap_or_default())
        .collect();
    let rows: Vec<(&crate::attribution::SessionSpend, &crate::usage::ModelUsage)> =
        rows.into_iter().map(|(_, s, m)| (s, m)).collect();
    let usage_members: Vec<_> = rows.iter().map(|(s, _)| &s.member).collect();
    let mut usage = member_columns(&usage_members);
    let count = |pick: fn(&TokenCounts) -> u64| -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(rows.iter().map(|(_, m)| pick(&m.tokens))))
    };
    usage.extend([
        ("repo", text(rows.iter().map(|(s, _)| s.repo.as_deref().unwrap_or(NO_REPO)))),
        ("tool", text(rows.iter().map(|(s, _)| s.tool.as_str()))),
        ("model", text(rows.iter().map(|(_, m)| m.model.as_str()))),
        ("session", text(rows.iter().map(|(s, _)| s.session.as_str()))),
        ("input_tokens", count(|t| t.input)),
        ("output_tokens", count(|t| t.output)),
        ("cache_read_tokens", count(|t| t.cache_read)),
        ("cache_write_5m_tokens", count(|t| t.cache_write_5m)),
        ("cache_write_1h_tokens", count(|t| t.cache_write_1h)),
        ("reasoning_tokens", count(|t| t.reasoning)),
        ("calls", Arc::new(UInt64Array::from_iter_values(rows.iter().map(|(_, m)| m.calls)))),
        ("unpriced_calls", Arc::new(UInt64Array::from_iter_values(rows.iter().map(|(_, m)| m.unpriced_calls)))),
        ("cost", amount_column(rows.iter().map(|(_, m)| m.cost))?),
        ("optimizable", amount_column(optimizable_cost.into_iter())?),
    ]);

    table(usage)
}

/// The `outputs` table of every time up to `as_of`: commits on main, pull requests, tickets,
/// other outcome events. A report's period is cut from it ([`outputs_in`]), so a server builds
/// it once per outcomes, directory and as-of time, not once per query.
pub fn outputs_as_of(outcomes: &Outcomes, directory: &Directory, as_of: Millis) -> Result<RecordBatch, AnalyticsError> {
    let window = OutputWindow { from: None, to: None, as_of };
    struct Output {
        kind: &'static str,
        member: freight_core::org::Member,
        repo: String,
        tool: String,
        at: Millis,
        quantity: f64,
        ai: bool,
        lines_added: u64,
        surviving: u64,
        reworked: u64,
        deployed: bool,
    }
    let mut out: Vec<Output> = Vec::new();
    let deployments = crate::attribution::Deployments::new(outcomes, window.as_of);
    for commit in outcomes.commits.iter().filter(|c| !c.is_merge() && window.holds(c.committed_at)) {
        let tool = commit.agents.first().map_or(NO_TOOL, |agent| agent.as_str()).to_string();
        let survival = outcomes.survival.get(&(commit.repo.clone(), commit.sha.clone()));
        let (surviving, reworked) = survival.map_or((0, 0), |s| (s.surviving, s.reworked.unwrap_or(0)));
        out.push(Output {
            kind: "commit",
            member: directory.resolve(&commit.author_email),
            repo: commit.repo.clone(),
            tool,
            at: commit.committed_at,
            quantity: 1.0,
            ai: commit.ai_assisted(),
            lines_added: commit.lines_added,
            surviving,
            reworked,
            deployed: deployments.first_shipped(commit).is_some(),
        });
    }
    for pull in &outcomes.pulls {
        let (kind, at) = match pull.state_as_of(window.as_of) {
            PullState::Merged => ("merged_pr", pull.merged_at),
            PullState::ClosedUnmerged => ("rejected_pr", pull.closed_at),
            PullState::Open => continue,
        };
        let Some(at) = at.filter(|at| window.holds(*at)) else { continue };
        out.push(Output {
            kind,
            member: directory.resolve(&pull.author),
            repo: pull.repo.clone(),
            tool: NO_TOOL.into(),
            at,
            quantity: 1.0,
            ai: false,
            lines_added: pull.lines_added,
            surviving: 0,
            reworked: 0,
            deployed: false,
        });
    }
    let team_member = |person: &Option<String>, team: &Option<String>| match (person, team) {
        (Some(person), _) => directory.resolve(person),
        (None, team) => freight_core::org::Member {
            person: "(team)".into(),
            team: team.clone().unwrap_or_else(|| freight_core::org::UNASSIGNED_TEAM.into()),
            cost_centre: None,
            known: false,
        },
    };
    for ticket in outcomes.tickets.iter().filter(|t| window.holds(t.resolved_at)) {
        let mut member = team_member(&ticket.person, &ticket.team);
        if let (false, Some(team)) = (member.known, &ticket.team) {
            member.team = team.clone();
        }
        out.push(Output {
            kind: "ticket",
            member,
            repo: NO_REPO.into(),
            tool: NO_TOOL.into(),
            at: ticket.resolved_at,
            quantity: ticket.weight,
            ai: false,
            lines_added: 0,
            surviving: 0,
            reworked: 0,
            deployed: false,
        });
    }
    for deploy in outcomes.deploys.iter().filter(|d| window.holds(d.at)) {
        let member = match &deploy.creator {
            Some(creator) => directory.resolve(creator),
            None => team_member(&None, &None),
        };
        out.push(Output {
            kind: if deploy.succeeded { "deploy" } else { "failed_deploy" },
            member,
            repo: deploy.repo.clone(),
            tool: NO_TOOL.into(),
            at: deploy.at,
            quantity: 1.0,
            ai: false,
            lines_added: 0,
            surviving: 0,
            reworked: 0,
            deployed: false,
        });
    }
    for incident in outcomes.incidents.iter().filter(|i| window.holds(i.opened_at)) {
        out.push(Output {
            kind: "incident",
            member: team_member(&None, &incident.team),
            repo: incident.repo.clone().unwrap_or_else(|| NO_REPO.into()),
            tool: NO_TOOL.into(),
            at: incident.opened_at,
            quantity: 1.0,
            ai: false,
            lines_added: 0,
            surviving: 0,
            reworked: 0,
            deployed: false,
        });
    }
    for event in outcomes.events.iter().filter(|e| window.holds(e.at)) {
        out.push(Output {
            kind: "event",
            member: team_member(&event.person, &event.team),
            repo: NO_REPO.into(),
            tool: NO_TOOL.into(),
            at: event.at,
            quantity: event.value,
            ai: false,
            lines_added: 0,
            surviving: 0,
            reworked: 0,
            deployed: false,
        });
    }
    let output_members: Vec<_> = out.iter().map(|o| &o.member).collect();
    let mut outputs = member_columns(&output_members);
    outputs.extend([
        ("repo", text(out.iter().map(|o| o.repo.as_str()))),
        ("tool", text(out.iter().map(|o| o.tool.as_str()))),
        ("model", text(out.iter().map(|_| NO_MODEL))),
        ("kind", text(out.iter().map(|o| o.kind))),
        ("at", Arc::new(Int64Array::from_iter_values(out.iter().map(|o| o.at))) as ArrayRef),
        ("quantity", Arc::new(Float64Array::from_iter_values(out.iter().map(|o| o.quantity)))),
        ("ai", Arc::new(BooleanArray::from(out.iter().map(|o| o.ai).collect::<Vec<_>>()))),
        ("lines_added", Arc::new(UInt64Array::from_iter_values(out.iter().map(|o| o.lines_added)))),
        ("surviving_lines", Arc::new(UInt64Array::from_iter_values(out.iter().map(|o| o.surviving)))),
        ("reworked_lines", Arc::new(UInt64Array::from_iter_values(out.iter().map(|o| o.reworked)))),
        ("deployed", Arc::new(BooleanArray::from(out.iter().map(|o| o.deployed).collect::<Vec<_>>()))),
    ]);
    table(outputs)
}

/// Tokens, cost and waste of one row of the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Waste {
    pub total: Money,
    pub rejected: Money,
    pub reverted: Money,
    pub never_shipped: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Output {
    pub commits: f64,
    pub ai_commits: f64,
    pub lines_added: u64,
    pub ai_lines_added: u64,
    pub surviving_ai_lines: u64,
    /// AI-added lines rewritten or deleted within the rework window.
    pub reworked_ai_lines: u64,
    /// AI-assisted commits that a successful deploy shipped.
    pub deployed_ai_commits: f64,
    pub merged_prs: f64,
    pub rejected_prs: f64,
    pub tickets: f64,
    /// Successful and failed deployments, and incidents opened.
    pub deploys: f64,
    pub failed_deploys: f64,
    pub incidents: f64,
    pub other_outcomes: u64,
}

/// Cost per unit of output; None where there was no such output.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitEconomics {
    pub cost_per_merged_pr: Option<Money>,
    pub cost_per_commit: Option<Money>,
    pub cost_per_surviving_line: Option<Money>,
    pub cost_per_ticket: Option<Money>,
    /// Commits on the main branch (merged pull requests' commits among them) plus tickets.
    pub outcomes: f64,
    pub outcomes_per_dollar: Option<f64>,
    pub outcomes_per_million_tokens: Option<f64>,
    /// Failed deployments among all that finished (DORA's change failure rate, by deploy status).
    pub change_failure_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PillarRow {
    pub key: String,
    pub people: u64,
    pub sessions: u64,
    pub calls: u64,
    pub unpriced_calls: u64,
    pub tokens: TokenCounts,
    pub cost: Money,
    pub wasted: Waste,
    pub shipped_cost: Money,
    /// Spend whose outcome is not settled yet (open PRs, recent sessions).
    pub pending_cost: Money,
    /// Spend allocated through exact links (trailers, git-ai notes) and heuristic ones.
    pub exact_linked_cost: Money,
    pub heuristic_linked_cost: Money,
    /// This cut's part of the optimizable cost (see `PillarsReport::optimizable`).
    pub optimizable_cost: Money,
    pub output: Output,
    pub unit: UnitEconomics,
}

fn float(batch: &RecordBatch, name: &'static str) -> Result<Vec<f64>, AnalyticsError> {
    use datafusion::arrow::array::Array;
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::Float64Type;
    let column = batch.column_by_name(name).ok_or(AnalyticsError::Column(name))?;
    let array = cast(column, &DataType::Float64)?;
    let values = array.as_primitive::<Float64Type>();
    Ok((0..values.len()).map(|i| if values.is_valid(i) { values.value(i) } else { 0.0 }).collect())
}

fn per(cost: Money, units: f64) -> Option<Money> {
    (units > 0.0).then(|| rust_decimal::Decimal::try_from(units).ok()).flatten().map(|units| (cost / units).round_dp(6))
}

/// What [`PILLARS_SQL`]'s `s` part sums for a key: spend by fate and evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendSums {
    pub cost: Money,
    pub shipped: Money,
    pub reverted: Money,
    pub rejected: Money,
    pub never_shipped: Money,
    pub pending: Money,
    pub exact_linked: Money,
    pub heuristic_linked: Money,
}

/// What [`PILLARS_SQL`]'s `u` part sums for a key: tokens, calls, distinct sessions and people,
/// and the optimizable cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageSums {
    pub tokens: TokenCounts,
    pub calls: u64,
    pub unpriced_calls: u64,
    pub sessions: u64,
    pub people: u64,
    pub optimizable: Money,
}

/// One key's row of [`PILLARS_SQL`]: each part is `None` where the key has no row in that
/// fact table (the NULLs of the outer joins), and its output as the `o` part sums it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PillarSums {
    pub key: String,
    pub spend: Option<SpendSums>,
    pub usage: Option<UsageSums>,
    /// Zero where the key has no outputs (SQL's NULLs read as zero).
    pub output: Output,
}

impl PillarSums {
    /// The report's row: waste, unit economics and the parts a key lacks as zero.
    pub fn into_row(self) -> PillarRow {
        let spend = self.spend.unwrap_or_default();
        let usage = self.usage.unwrap_or_default();
        let output = self.output;
        let cost = spend.cost;
        let outcomes = output.commits + output.tickets;
        let total_tokens = usage.tokens.total() as f64;
        let dollars = freight_core::money::to_f64(cost);
        let unit = UnitEconomics {
            cost_per_merged_pr: per(cost, output.merged_prs),
            cost_per_commit: per(cost, output.commits),
            cost_per_surviving_line: per(cost, output.surviving_ai_lines as f64),
            cost_per_ticket: per(cost, output.tickets),
            outcomes,
            outcomes_per_dollar: (dollars > 0.0).then(|| outcomes / dollars),
            outcomes_per_million_tokens: (total_tokens > 0.0).then(|| outcomes / total_tokens * 1e6),
            change_failure_rate: {
                let finished = output.deploys + output.failed_deploys;
                (finished > 0.0).then(|| output.failed_deploys / finished)
            },
        };
        PillarRow {
            key: self.key,
            people: usage.people,
            sessions: usage.sessions,
            calls: usage.calls,
            unpriced_calls: usage.unpriced_calls,
            tokens: usage.tokens,
            cost,
            wasted: Waste {
                total: spend.rejected + spend.reverted + spend.never_shipped,
                rejected: spend.rejected,
                reverted: spend.reverted,
                never_shipped: spend.never_shipped,
            },
            shipped_cost: spend.shipped,
            pending_cost: spend.pending,
            exact_linked_cost: spend.exact_linked,
            heuristic_linked_cost: spend.heuristic_linked,
            optimizable_cost: usage.optimizable,
            output,
            unit,
        }
    }
}

/// Runs [`PILLARS_SQL`] for `cut` (None: one row for everything) over the registered facts.
/// The report tallies the same rows in Rust ([`crate::pillar_tally`]); this is the reference
/// the tests hold the tallies to, and what another engine runs over written facts.
pub async fn pillar_rows(engine: &Engine, cut: Option<Cut>) -> Result<Vec<PillarRow>, AnalyticsError> {
    Ok(pillar_sums(engine, cut).await?.into_iter().map(PillarSums::into_row).collect())
}

/// [`PILLARS_SQL`]'s rows for `cut` over the registered facts, as they come.
pub async fn pillar_sums(engine: &Engine, cut: Option<Cut>) -> Result<Vec<PillarSums>, AnalyticsError> {
    // The total groups by a key derived from a column rather than the literal 'all': DataFusion
    // 55 plans a constant group key into a merge whose sort order its own sanity check then
    // rejects (seen when the outputs table is a single row).
    let column = cut.map_or("COALESCE(NULLIF(team, team), 'all')", Cut::column);
    let sql = PILLARS_SQL.replace("{cut}", column);
    let mut rows = Vec::new();
    for batch in engine.query(&sql).await? {
        let keys = columns::strings(&batch, "k")?;
        let money = |name: &'static str| columns::decimals(&batch, name);
        let optimizable = money("optimizable")?;
        let (cost, shipped, reverted, rejected, never, pending, exact, heuristic) = (
            money("cost")?,
            money("shipped")?,
            money("reverted")?,
            money("rejected")?,
            money("never_shipped")?,
            money("pending")?,
            money("exact_linked")?,
            money("heuristic_linked")?,
        );
        let tokens = columns::tokens(&batch)?;
        let ints = |name: &'static str| columns::counts(&batch, name);
        let (calls, unpriced, sessions, people) =
            (ints("calls")?, ints("unpriced")?, ints("sessions")?, ints("people")?);
        let (lines, ai_lines, surviving, events) =
            (ints("lines_added")?, ints("ai_lines_added")?, ints("surviving_ai_lines")?, ints("events")?);
        let reworked = ints("reworked_ai_lines")?;
        let (commits, ai_commits, merged, rejected_prs, tickets) = (
            float(&batch, "commits")?,
            float(&batch, "ai_commits")?,
            float(&batch, "merged_prs")?,
            float(&batch, "rejected_prs")?,
            float(&batch, "tickets")?,
        );
        let deployed_ai = float(&batch, "deployed_ai_commits")?;
        let (deploys, failed_deploys, incidents) =
            (float(&batch, "deploys")?, float(&batch, "failed_deploys")?, float(&batch, "incidents")?);
        for row in 0..batch.num_rows() {
            let get = |values: &[Option<Money>]| values[row].unwrap_or_default();
            let spend = cost[row].map(|cost| SpendSums {
                cost,
                shipped: get(&shipped),
                reverted: get(&reverted),
                rejected: get(&rejected),
                never_shipped: get(&never),
                pending: get(&pending),
                exact_linked: get(&exact),
                heuristic_linked: get(&heuristic),
            });
            // `optimizable` is a plain SUM: present exactly when the key has usage rows.
            let usage = optimizable[row].map(|optimizable| UsageSums {
                tokens: tokens[row],
                calls: calls[row],
                unpriced_calls: unpriced[row],
                sessions: sessions[row],
                people: people[row],
                optimizable,
            });
            rows.push(PillarSums {
                key: keys[row].clone().unwrap_or_default(),
                spend,
                usage,
                output: Output {
                    commits: commits[row],
                    ai_commits: ai_commits[row],
                    lines_added: lines[row],
                    ai_lines_added: ai_lines[row],
                    surviving_ai_lines: surviving[row],
                    reworked_ai_lines: reworked[row],
                    deployed_ai_commits: deployed_ai[row],
                    merged_prs: merged[row],
                    rejected_prs: rejected_prs[row],
                    tickets: tickets[row],
                    deploys: deploys[row],
                    failed_deploys: failed_deploys[row],
                    incidents: incidents[row],
                    other_outcomes: events[row],
                },
            });
        }
    }
    Ok(rows)
}

/// Writes the fact tables as Parquet files (`spend`, `session_usage`, `outputs`) with the SQL
/// beside them — `pillars.sql` over the facts, and the two reductions of `usage` the facts start
/// from (`session_grain.sql`, `session_places.sql`, over a dataset's usage and the
/// `model_prices.parquet` written here) — so another engine can run the same SQL over the same
/// files (docs/DATASET.md).
pub async fn write_facts(
    engine: &Engine,
    facts: &Facts,
    filters: &crate::usage::Filters,
    rules: &Rules,
    dir: &std::path::Path,
) -> Result<(), AnalyticsError> {
    std::fs::create_dir_all(dir).map_err(crate::dataset::io_error(dir))?;
    // The three files are written side by side (compression is most of the time).
    use rayon::prelude::*;
    [("spend", &facts.spend), ("session_usage", &facts.session_usage), ("outputs", &facts.outputs)]
        .par_iter()
        .try_for_each(|(name, batch)| {
            crate::dataset::write_parquet(
                &dir.join(format!("{name}.parquet")),
                batch.schema(),
                std::slice::from_ref(*batch),
            )
        })?;
    let prices = engine.query("SELECT * FROM model_prices").await?;
    let schema = engine.ctx.table("model_prices").await?.schema().inner().clone();
    crate::dataset::write_parquet(&dir.join("model_prices.parquet"), schema, &prices)?;
    let mut texts = vec![("pillars".to_string(), PILLARS_SQL.to_string())];
    texts
        .extend(crate::attribution::session_queries(engine, filters, rules).map(|(name, sql)| (name.to_string(), sql)));
    for (name, sql) in texts {
        let path = dir.join(format!("{name}.sql"));
        std::fs::write(&path, sql).map_err(crate::dataset::io_error(&path))?;
    }
    Ok(())
}

/// Registers the fact tables in the engine's session (replacing earlier ones).
pub fn register_facts(engine: &Engine, facts: &Facts) -> Result<(), AnalyticsError> {
    for (name, batch) in [("spend", &facts.spend), ("session_usage", &facts.session_usage), ("outputs", &facts.outputs)]
    {
        let _ = engine.ctx.deregister_table(name)?;
        engine.ctx.register_table(name, Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch.clone()]])?))?;
    }
    Ok(())
}

/// One item of wasted spend, with what it was spent on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WasteItem {
    pub fate: Fate,
    pub outcome: Option<OutcomeRef>,
    pub repo: Option<String>,
    pub amount: Money,
    pub sessions: Vec<String>,
    /// The revert that undid a reverted commit.
    pub reverted_by: Option<String>,
}

/// Wasted spend as line items, largest first: one per rejected PR or reverted commit, and one
/// per session that never shipped.
pub fn waste_items(attribution: &Attribution, outcomes: &Outcomes) -> Vec<WasteItem> {
    // Keyed by (fate, outcome, session for unallocated spend): the amount and its sessions.
    type Key<'a> = (Fate, Option<&'a OutcomeRef>, Option<&'a str>);
    let wasted = attribution.shares.iter().filter(|s| s.fate.is_waste()).map(|share| {
        let session = attribution.sessions[share.session].session.as_str();
        let key: Key = match &share.outcome {
            Some(outcome) => (share.fate, Some(outcome), None),
            None => (share.fate, None, Some(session)),
        };
        (key, (share.amount, session))
    });
    let items = crate::grouping::sorted_folds(wasted, |entry: &mut (Money, Vec<&str>), (amount, session)| {
        entry.0 += amount;
        if !entry.1.contains(&session) {
            entry.1.push(session);
        }
    });
    // Reverts by what they name, looked up once per item (a scan of every commit per item was
    // most of the report's time at a million commits); abbreviated names are matched by prefix.
    let mut reverts_of: foldhash::HashMap<(&str, &str), &str> = Default::default();
    let mut abbreviated: Vec<(&str, &str, &str)> = Vec::new();
    for commit in &outcomes.commits {
        if let Some(named) = commit.reverts.as_deref() {
            reverts_of.entry((commit.repo.as_str(), named)).or_insert(commit.sha.as_str());
            abbreviated.push((commit.repo.as_str(), named, commit.sha.as_str()));
        }
    }
    let reverter = |outcome: &OutcomeRef| -> Option<String> {
        let OutcomeRef::Commit { repo, sha } = outcome else { return None };
        if let Some(found) = reverts_of.get(&(repo.as_str(), sha.as_str())) {
            return Some(found.to_string());
        }
        abbreviated
            .iter()
            .find(|(r, named, _)| *r == repo && named.len() < sha.len() && sha.starts_with(named))
            .map(|(_, _, reverter)| reverter.to_string())
    };
    let mut list: Vec<WasteItem> = items
        .into_iter()
        .map(|((fate, outcome, _), (amount, sessions))| WasteItem {
            fate,
            repo: outcome.map(|o| o.repo().to_string()),
            reverted_by: outcome.and_then(reverter),
            outcome: outcome.cloned(),
            amount,
            sessions: sessions.into_iter().map(str::to_string).collect(),
        })
        .collect();
    list.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| a.sessions.cmp(&b.sessions)));
    list
}

/// People's time reviewing AI work that was rejected: waste paid twice, in tokens and in hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoubleBilled {
    pub hourly_rate: Money,
    pub hours: f64,
    pub amount: Money,
    /// The rejected pull requests that AI sessions are linked to.
    pub pull_requests: Vec<OutcomeRef>,
}

/// Review time of the rejected pull requests that sessions are linked to, at `rate` per hour.
fn double_billed(
    attribution: &Attribution,
    outcomes: &Outcomes,
    rules: &crate::attribution::Rules,
    window: &OutputWindow,
) -> Option<DoubleBilled> {
    let rate = rules.review_rate?;
    let mut pulls: Vec<OutcomeRef> = attribution
        .shares
        .iter()
        .filter(|share| share.fate == Fate::Rejected)
        .filter_map(|share| share.outcome.clone())
        .collect();
    pulls.sort();
    pulls.dedup();
    let mut minutes = 0u64;
    let by_number: foldhash::HashMap<(&str, u64), &freight_core::outcome::PullRequest> =
        outcomes.pulls.iter().map(|p| ((p.repo.as_str(), p.number), p)).collect();
    pulls.retain(|outcome| {
        let OutcomeRef::PullRequest { repo, number } = outcome else { return false };
        let Some(pull) = by_number.get(&(repo.as_str(), *number)) else { return false };
        if !pull.closed_at.is_some_and(|at| window.holds(at)) {
            return false;
        }
        minutes += pull.review_minutes.unwrap_or(rules.default_review_minutes);
        true
    });
    let amount = (rate * Money::from(minutes) / Money::from(60)).round_dp(6);
    Some(DoubleBilled { hourly_rate: rate, hours: minutes as f64 / 60.0, amount, pull_requests: pulls })
}

/// How sessions were linked to outcomes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkSummary {
    pub sessions: u64,
    pub linked_sessions: u64,
    pub exact_links: u64,
    pub heuristic_links: u64,
    /// Mean confidence of the heuristic links.
    pub heuristic_confidence: Option<f64>,
}

/// The rules the report applied, printed with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatedRules {
    pub allocation: &'static str,
    pub revert_window_days: f64,
    pub never_shipped_after_days: f64,
    pub link_grace_hours: f64,
    /// What `outcomes` counts.
    pub outcomes: &'static str,
}

/// The four-pillar report (optimizable cost is its own section; see `optimizable`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PillarsReport {
    pub as_of_ms: Millis,
    pub cut: Option<Cut>,
    pub rules: StatedRules,
    pub total: PillarRow,
    pub rows: Vec<PillarRow>,
    pub waste: Vec<WasteItem>,
    pub links: LinkSummary,
    /// The saving a cheaper model for routine calls and caching of repeated context would have
    /// made (first cut; totals, not per cut).
    pub optimizable: crate::optimizable::Optimizable,
    /// Human review time spent on rejected AI pull requests, costed (with `--review-rate`).
    pub double_billed: Option<DoubleBilled>,
    /// Level 1: who shows up, and where spend is concentrated.
    pub adoption: crate::levels::Adoption,
    /// Teams by outcomes per dollar (never people).
    pub leaderboard: Vec<crate::leaderboard::LeaderboardEntry>,
    /// Every link, with its evidence and confidence.
    pub session_links: Vec<freight_core::link::Link>,
    /// Spend beside output, week by week.
    pub trend: Vec<crate::trend::TrendPoint>,
    /// Level 2: how well people use their agents.
    pub behaviours: crate::behaviours::Behaviours,
    /// Usage gamed as a target, each flag with its evidence (never part of a ranking).
    pub flags: Vec<crate::tokenmaxxing::Flag>,
}

/// The UTC bounds of `filters`' days in its time zone.
pub fn output_window(filters: &crate::usage::Filters, as_of: Millis) -> Result<OutputWindow, AnalyticsError> {
    let zone: chrono_tz::Tz =
        filters.timezone.parse().map_err(|_| AnalyticsError::TimeZone(filters.timezone.clone()))?;
    let start_of = |day: chrono::NaiveDate| -> Option<Millis> {
        use chrono::TimeZone;
        let midnight = day.and_hms_opt(0, 0, 0)?;
        zone.from_local_datetime(&midnight).earliest().map(|t| t.timestamp_millis())
    };
    Ok(OutputWindow {
        from: filters.since.and_then(start_of),
        to: filters.until.and_then(|day| day.succ_opt()).and_then(start_of),
        as_of,
    })
}

/// A report with what a caller may show or write beside it.
pub struct MadeReport {
    pub report: PillarsReport,
    /// The fact tables the report's rows sum, when asked for (`--facts-dir`).
    pub facts: Option<Facts>,
    /// The repositories a scoped report's figures come from (None for the whole organisation).
    pub repos_in_scope: Option<std::collections::BTreeSet<String>>,
}

/// Attribution and the pillars, for one cut; the facts are built too when `keep_facts` (for
/// export). `base` is the outcomes' [`crate::attribution::AttributionBase`] at the rules'
/// as-of time, and `outputs_as_of` is the [`outputs_as_of`] table of `outcomes` and `directory` at
/// the rules' as-of time (kept by a caller that answers many periods).
#[allow(clippy::too_many_arguments)]
pub fn pillars_report(
    base: &crate::attribution::AttributionBase,
    grain: &Grain,
    filters: &crate::usage::Filters,
    directory: &Directory,
    outcomes: &Outcomes,
    outputs_as_of: &RecordBatch,
    rules: &crate::attribution::Rules,
    catalog: &freight_core::PriceCatalog,
    cut: Option<Cut>,
    scope: &crate::Scope,
    timelines: &crate::timeline::Timelines,
    keep_facts: bool,
) -> Result<MadeReport, AnalyticsError> {
    let mut started = std::time::Instant::now();
    let mut step = |name: &str| {
        crate::engine::note_time(name, started);
        started = std::time::Instant::now();
    };
    // Attribution sees everything (a session's links do not depend on who asks); the scope
    // then keeps its part of every figure.
    let mut whole = crate::attribution::attribute_with(base, grain, catalog, directory, outcomes, rules);
    let whole_grain = grain;
    let mut scoped: Option<(Attribution, Grain)> =
        (!scope.is_everything()).then(|| (scope.attribution(&whole), scope.grain(grain, &whole)));
    let (attribution, grain) = match &scoped {
        None => (&whole, grain),
        Some((attribution, grain)) => (attribution, grain),
    };
    step("attribution");
    // Outcome rates, habits and flags read the whole organisation's sessions (a class's
    // record on a tier is the organisation's); the scope then keeps its sessions' part.
    let admitted: Option<foldhash::HashSet<usize>> = (!scope.is_everything()).then(|| scope.sessions(&whole).collect());
    let keeps = |index: usize| admitted.as_ref().is_none_or(|admitted| admitted.contains(&index));
    let portfolio = &rules.portfolio;
    let window = output_window(filters, rules.as_of)?;
    // The steps below read the attribution and write nothing shared; on two cores, the
    // branches of each join run side by side.
    // What reads only the attribution and the period's outputs (outputs, trend, the
    // leaderboard, the link summary) is a third branch beside the first two.
    let side = || -> Result<_, AnalyticsError> {
        let started = std::time::Instant::now();
        let outputs = match scope.is_everything() {
            true => outputs_in(outputs_as_of, &window)?,
            false => scope.rows(&outputs_in(outputs_as_of, &window)?)?,
        };
        let trend = crate::trend::weekly_trend(grain, catalog, attribution, &outputs, &filters.timezone)?;
        // A ranking of teams has no place in one person's figures: it would show their share
        // under their team's name.
        let leaderboard = match scope.people {
            Some(_) => Vec::new(),
            None => {
                let teams = crate::leaderboard::scoped_team_figures(
                    &attribution.sessions,
                    &attribution.shares,
                    scope,
                    &outputs,
                )?;
                crate::leaderboard::leaderboard(&teams, directory, rules.min_team_size)
            }
        };
        let links = link_summary(attribution, scope);
        crate::engine::note_time("outputs, trend, leaderboard, links", started);
        Ok((outputs, trend, leaderboard, links))
    };
    let (((mut routing, restart), (habits, (waste, double_billed))), side) = rayon::join(
        || {
            rayon::join(
                || {
                    let started = std::time::Instant::now();
                    let fates = crate::behaviours::session_fates(&whole);
                    let routing = crate::routing::routing(grain, timelines, &whole, &fates, catalog, portfolio);
                    crate::engine::note_time("routing", started);
                    let started = std::time::Instant::now();
                    let restart =
                        crate::optimizable::restart_savings(timelines, &whole, catalog, portfolio, |index, model| {
                            keeps(index) && scope.models.as_ref().is_none_or(|models| models.contains(model))
                        });
                    crate::engine::note_time("restarts", started);
                    (routing, restart)
                },
                || {
                    let started = std::time::Instant::now();
                    let habits = crate::behaviours::all_session_habits(timelines, &whole, outcomes, portfolio);
                    crate::engine::note_time("habits", started);
                    let started = std::time::Instant::now();
                    let waste = waste_items(attribution, outcomes);
                    let double_billed = double_billed(attribution, outcomes, rules, &window);
                    crate::engine::note_time("waste items, double-billed", started);
                    (habits, (waste, double_billed))
                },
            )
        },
        side,
    );
    let (outputs, trend, leaderboard, links) = side?;
    step("routing, restarts, habits, waste, outputs, trend");
    // The detectors read each session's class; optimizable takes the routing's savings and
    // classes by value but never the per-session classes, so those move out first.
    let session_class = std::mem::take(&mut routing.session_class);
    let (flags, (behaviours, optimizable)) = rayon::join(
        || {
            let started = std::time::Instant::now();
            let members: foldhash::HashMap<&str, &freight_core::org::Member> =
                whole.sessions.iter().map(|s| (s.member.person.as_str(), &s.member)).collect();
            let flags: Vec<crate::tokenmaxxing::Flag> = crate::tokenmaxxing::detect(
                &crate::tokenmaxxing::Inputs {
                    grain: whole_grain,
                    timelines,
                    attribution: &whole,
                    outcomes,
                    directory,
                    habits: &habits,
                    classes: &session_class,
                    catalog,
                    portfolio,
                },
                &rules.marks,
            )
            .into_iter()
            .filter(|flag| {
                scope.is_everything() || members.get(flag.person.as_str()).is_some_and(|m| scope.admits_member(m))
            })
            .collect();
            crate::engine::note_time("tokenmaxxing detectors", started);
            flags
        },
        || {
            let started = std::time::Instant::now();
            let behaviours =
                crate::behaviours::behaviours(timelines, &whole, &habits, portfolio, keeps, cut == Some(Cut::Person));
            crate::engine::note_time("behaviours", started);
            let started = std::time::Instant::now();
            let optimizable = crate::optimizable::optimizable(grain, catalog, portfolio, routing, restart);
            crate::engine::note_time("optimizable", started);
            (behaviours, optimizable)
        },
    );
    step("detectors, behaviours, optimizable");
    let optimizable_by = optimizable_by_session(grain, &optimizable);
    let facts = match keep_facts {
        true => Some(scope.facts(facts(attribution, &optimizable_by, outputs_as_of, &window)?)?),
        false => None,
    };
    // The total, the cut asked for and people (adoption), tallied side by side.
    let tally = |cut: Option<Cut>| -> Result<Vec<PillarRow>, AnalyticsError> {
        let sums = crate::pillar_tally::pillar_sums(attribution, &optimizable_by, &outputs, scope, cut)?;
        Ok(sums.into_iter().map(PillarSums::into_row).collect())
    };
    let (total, (rows, people)) = rayon::join(
        || tally(None),
        || {
            rayon::join(
                || match cut {
                    Some(cut) => tally(Some(cut)),
                    None => Ok(Vec::new()),
                },
                || if cut == Some(Cut::Person) { Ok(None) } else { tally(Some(Cut::Person)).map(Some) },
            )
        },
    );
    let (total, rows) = (total?, rows?);
    let total = total.into_iter().next().unwrap_or_default();
    let people = people?.unwrap_or_else(|| rows.clone());
    let mut adoption = crate::levels::adoption(grain, directory, rules.default_identity.as_deref(), &people);
    if !scope.is_everything() {
        adoption.scope_seats(directory, scope, &people);
    }
    step("pillars, adoption");
    let repos_in_scope = (!scope.is_everything()).then(|| scope.repos_of(attribution, &outputs)).transpose()?;
    // Every link goes into the report as it is; the rest is freed aside (the caller does not
    // wait for it).
    let session_links = std::mem::take(match scoped.as_mut() {
        Some((attribution, _)) => &mut attribution.links,
        None => &mut whole.links,
    });
    rayon::spawn(move || drop((whole, scoped, habits, outputs)));
    let day = 86_400_000.0;
    let report = PillarsReport {
        as_of_ms: rules.as_of,
        cut,
        rules: StatedRules {
            allocation: "a session's cost is split across the commits and pull requests it is linked to, by lines changed (evenly when none changed lines); exact links (trailers, including those freight hook writes, and git-ai notes) replace heuristic ones",
            revert_window_days: rules.revert_window_ms as f64 / day,
            never_shipped_after_days: rules.ship_grace_ms as f64 / day,
            link_grace_hours: rules.link.grace_ms as f64 / 3_600_000.0,
            outcomes: "commits on the main branch (a merged pull request's commits among them) plus resolved tickets",
        },
        total: PillarRow { key: "total".into(), ..total },
        rows,
        waste,
        links,
        optimizable,
        double_billed,
        adoption,
        leaderboard,
        session_links,
        trend,
        behaviours,
        flags,
    };
    Ok(MadeReport { report, facts, repos_in_scope })
}

/// How the sessions of `attribution` that `scope` admits were linked.
fn link_summary(attribution: &Attribution, scope: &crate::Scope) -> LinkSummary {
    let heuristic: Vec<f64> =
        attribution.links.iter().filter(|l| !l.evidence.is_exact()).map(|l| l.confidence).collect();
    let linked: foldhash::HashSet<&str> = attribution.links.iter().map(|l| l.session.as_str()).collect();
    LinkSummary {
        sessions: if scope.is_everything() { attribution.sessions.len() } else { scope.sessions(attribution).count() }
            as u64,
        linked_sessions: linked.len() as u64,
        exact_links: attribution.links.iter().filter(|l| l.evidence.is_exact()).count() as u64,
        heuristic_links: heuristic.len() as u64,
        heuristic_confidence: (!heuristic.is_empty()).then(|| heuristic.iter().sum::<f64>() / heuristic.len() as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freight_core::outcome::Ticket;

    fn ticket(id: &str, resolved_at: Millis) -> Ticket {
        Ticket { id: id.into(), team: Some("web".into()), person: None, resolved_at, weight: 1.0 }
    }

    #[test]
    fn a_period_is_cut_from_the_kept_outputs_in_order() {
        let outcomes = Outcomes {
            tickets: vec![ticket("a", 10), ticket("b", 20), ticket("c", 30), ticket("d", 40), ticket("late", 60)],
            ..Outcomes::default()
        };
        let as_of = 50;
        let kept = outputs_as_of(&outcomes, &Directory::default(), as_of).expect("outputs");
        // Nothing after the as-of time is kept at all.
        assert_eq!(kept.num_rows(), 4);
        let at_of = |batch: &RecordBatch| -> Vec<i64> {
            batch
                .column_by_name("at")
                .expect("at")
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .values()
                .to_vec()
        };
        let period = OutputWindow { from: Some(20), to: Some(40), as_of };
        let cut = outputs_in(&kept, &period).expect("cut");
        // Inclusive start, exclusive end, in the kept order, every column cut alike.
        assert_eq!(at_of(&cut), vec![20, 30]);
        assert_eq!(cut.num_columns(), kept.num_columns());
        let everything = OutputWindow { from: None, to: None, as_of };
        assert_eq!(at_of(&outputs_in(&kept, &everything).expect("all")), vec![10, 20, 30, 40]);
        let open_start = OutputWindow { from: None, to: Some(30), as_of };
        assert_eq!(at_of(&outputs_in(&kept, &open_start).expect("open")), vec![10, 20]);
    }
}
