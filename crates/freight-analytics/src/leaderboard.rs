//! The team outcome leaderboard: teams ranked by outcomes per dollar, each with its sample
//! size and a 95% confidence interval; teams smaller than a minimum are shown but not ranked,
//! and people are never ranked here.

use crate::attribution::{SessionSpend, Share};
use crate::engine::AnalyticsError;
use crate::pillars::FactSum;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;
use freight_core::Money;
use freight_core::org::{Directory, UNASSIGNED_TEAM};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Teams with fewer people than this are not ranked (so no one is singled out).
pub const MIN_TEAM_SIZE: u64 = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderboardEntry {
    /// 1 for the best outcomes per dollar; None when the team is not ranked.
    pub rank: Option<u64>,
    pub team: String,
    /// People in the team (the directory's count, else those with spend or output).
    pub people: u64,
    pub sessions: u64,
    pub cost: freight_core::Money,
    /// Commits on main plus resolved tickets: the sample the rate rests on.
    pub outcomes: f64,
    pub outcomes_per_dollar: Option<f64>,
    /// 95% interval of outcomes per dollar, treating the outcome count as Poisson.
    pub interval: Option<(f64, f64)>,
    /// Why the team is not ranked, when it is not.
    pub not_ranked: Option<String>,
}

/// A 95% interval for a Poisson count `n` (Wilson–Hilferty approximation of the exact
/// chi-square bounds; good to a few percent even for small counts).
pub fn poisson_interval(n: f64) -> (f64, f64) {
    const Z: f64 = 1.959_964;
    let lower = if n <= 0.0 { 0.0 } else { n * (1.0 - 1.0 / (9.0 * n) - Z / (3.0 * n.sqrt())).powi(3) };
    let m = n + 1.0;
    let upper = m * (1.0 - 1.0 / (9.0 * m) + Z / (3.0 * m.sqrt())).powi(3);
    (lower.max(0.0), upper)
}

/// What a team is ranked by: the `cut=team` row of the four pillars, reduced to the columns
/// the leaderboard shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamFigures {
    pub key: String,
    /// Distinct people with agent sessions.
    pub people: u64,
    pub sessions: u64,
    /// Agent spend, summed at the fact tables' scale (zero with no scale when the team has none).
    pub cost: Money,
    /// Commits on main plus resolved tickets in the period.
    pub outcomes: f64,
}

/// Where a team's spend is read from.
pub enum SpendOf<'a> {
    /// Each session's cost on each model it admits: a share of a session never leaves it, so
    /// this is the sum of the shares whenever the scope does not cut sessions by repository.
    Sessions,
    /// These shares (a scope that names repositories keeps the shares of the outcomes in them).
    Shares(&'a [Share]),
}

/// Each team's figures, as the pillar SQL's `cut=team` rows give them, with no SQL and no
/// attribution needed: `sessions` are the period's (in attribution order; `admits` says which
/// of a session's models are in scope, and a session counts when one is), `outputs` the
/// period's `outputs` rows in scope. Teams come out in key order.
pub fn team_figures(
    sessions: &[SessionSpend],
    spend: SpendOf<'_>,
    admits: impl Fn(&SessionSpend, &str) -> bool,
    outputs: &RecordBatch,
) -> Result<Vec<TeamFigures>, AnalyticsError> {
    #[derive(Default)]
    struct Tally<'a> {
        people: BTreeSet<&'a str>,
        sessions: u64,
        /// At the fact tables' 18 places, as SQL sums them.
        cost: Option<FactSum>,
        commits: f64,
        tickets: f64,
    }
    let mut teams: BTreeMap<&str, Tally> = BTreeMap::new();
    for session in sessions {
        let mut admitted = session.models.iter().filter(|usage| admits(session, &usage.model)).peekable();
        if admitted.peek().is_none() {
            continue;
        }
        let tally = teams.entry(session.member.team.as_str()).or_default();
        tally.sessions += 1;
        tally.people.insert(session.member.person.as_str());
        if let SpendOf::Sessions = spend {
            for usage in admitted {
                tally.cost.get_or_insert_default().add(usage.cost);
            }
        }
    }
    if let SpendOf::Shares(shares) = spend {
        for share in shares {
            let tally = teams.entry(sessions[share.session].member.team.as_str()).or_default();
            tally.cost.get_or_insert_default().add(share.amount);
        }
    }
    let column = |name: &'static str| outputs.column_by_name(name).ok_or(AnalyticsError::Column(name));
    let text = |name: &'static str| column(name)?.as_string_opt::<i32>().ok_or(AnalyticsError::Column(name));
    let (team, kind) = (text("team")?, text("kind")?);
    let quantity = column("quantity")?.as_primitive_opt::<Float64Type>().ok_or(AnalyticsError::Column("quantity"))?;
    for row in 0..outputs.num_rows() {
        // Every output names its team as a key, as SQL's union of keys does; SUM skips NULLs.
        let tally = teams.entry(team.value(row)).or_default();
        let counted = match kind.value(row) {
            "commit" => &mut tally.commits,
            "ticket" => &mut tally.tickets,
            _ => continue,
        };
        if quantity.is_valid(row) {
            *counted += quantity.value(row);
        }
    }
    Ok(teams
        .into_iter()
        .map(|(key, tally)| TeamFigures {
            key: key.to_string(),
            people: tally.people.len() as u64,
            sessions: tally.sessions,
            cost: tally.cost.map_or(Money::ZERO, FactSum::money),
            outcomes: tally.commits + tally.tickets,
        })
        .collect())
}

/// Each team's figures within `scope`, as the scoped facts' `cut=team` rows give them: a
/// session's models admitted by the scope, and its spend from `shares` (the scoped
/// attribution's) only when the scope names repositories; otherwise `shares` is not read.
pub fn scoped_team_figures(
    sessions: &[SessionSpend],
    shares: &[Share],
    scope: &crate::Scope,
    outputs: &RecordBatch,
) -> Result<Vec<TeamFigures>, AnalyticsError> {
    let spend = match scope.repos {
        None => SpendOf::Sessions,
        Some(_) => SpendOf::Shares(shares),
    };
    let admits = |session: &SessionSpend, model: &str| {
        let repo = session.repo.as_deref().unwrap_or(crate::pillars::NO_REPO);
        scope.admits(&session.member, repo, &session.tool, model)
    };
    team_figures(sessions, spend, admits, outputs)
}

/// The leaderboard alone for a period's grain, as [`crate::pillars::pillars_report`] ranks it,
/// without the attribution or the pillar SQL: how much a team spent does not depend on where
/// its links send the spend. None when the scope names repositories, which split a session's
/// spend by the repositories of its outcomes (the links decide that).
pub fn period_leaderboard(
    grain: &crate::grain::Grain,
    catalog: &freight_core::PriceCatalog,
    directory: &Directory,
    outputs_as_of: &RecordBatch,
    window: &crate::pillars::OutputWindow,
    rules: &crate::attribution::Rules,
    scope: &crate::Scope,
) -> Result<Option<Vec<LeaderboardEntry>>, AnalyticsError> {
    if scope.repos.is_some() {
        return Ok(None);
    }
    if scope.people.is_some() {
        return Ok(Some(Vec::new()));
    }
    let sessions = crate::attribution::session_costs(grain, catalog, directory, rules);
    let outputs = scope.rows(&crate::pillars::outputs_in(outputs_as_of, window)?)?;
    // No shares: a scope without repositories reads each session's cost.
    let teams = scoped_team_figures(&sessions, &[], scope, &outputs)?;
    Ok(Some(leaderboard(&teams, directory, rules.min_team_size)))
}

/// Ranks the teams.
pub fn leaderboard(teams: &[TeamFigures], directory: &Directory, min_team_size: u64) -> Vec<LeaderboardEntry> {
    let sizes = directory.team_sizes();
    let mut entries: Vec<LeaderboardEntry> = teams
        .iter()
        .map(|row| {
            let people = sizes.iter().find(|(team, _)| *team == row.key).map_or(row.people, |(_, size)| *size as u64);
            let dollars = freight_core::money::to_f64(row.cost);
            let outcomes = row.outcomes;
            let per_dollar = (dollars > 0.0).then(|| outcomes / dollars);
            let interval = per_dollar.map(|_| {
                let (low, high) = poisson_interval(outcomes);
                (low / dollars, high / dollars)
            });
            let not_ranked = if row.key == UNASSIGNED_TEAM {
                Some("people the org directory does not know".to_string())
            } else if people < min_team_size {
                Some(format!("{people} people, fewer than {min_team_size}"))
            } else if per_dollar.is_none() {
                Some("no agent spend".to_string())
            } else {
                None
            };
            LeaderboardEntry {
                rank: None,
                team: row.key.clone(),
                people,
                sessions: row.sessions,
                cost: row.cost,
                outcomes,
                outcomes_per_dollar: per_dollar,
                interval,
                not_ranked,
            }
        })
        .collect();
    entries.sort_by(|a, b| {
        let key = |e: &LeaderboardEntry| (e.not_ranked.is_some(), -e.outcomes_per_dollar.unwrap_or(0.0));
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then_with(|| a.team.cmp(&b.team))
    });
    let mut rank = 0;
    for entry in entries.iter_mut().filter(|e| e.not_ranked.is_none()) {
        rank += 1;
        entry.rank = Some(rank);
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(key: &str, people: u64, cost: i64, outcomes: f64) -> TeamFigures {
        TeamFigures { key: key.into(), people, cost: Money::from(cost), outcomes, ..TeamFigures::default() }
    }

    #[test]
    fn ranks_by_outcomes_per_dollar_and_leaves_small_teams_unranked() {
        let rows = [
            team("big-spender", 5, 1000, 20.0),
            team("frugal", 4, 100, 10.0),
            team("duo", 2, 10, 50.0),
            team(UNASSIGNED_TEAM, 1, 0, 3.0),
        ];
        let board = leaderboard(&rows, &Directory::default(), MIN_TEAM_SIZE);
        let order: Vec<(&str, Option<u64>)> = board.iter().map(|e| (e.team.as_str(), e.rank)).collect();
        assert_eq!(order, vec![("frugal", Some(1)), ("big-spender", Some(2)), ("duo", None), (UNASSIGNED_TEAM, None)]);
        let (low, high) = board[0].interval.expect("interval");
        assert!(low < 0.1 && 0.1 < high, "{low} < 0.1 < {high}");
    }

    fn session(id: &str, person: &str, team: &str, models: &[(&str, &str)]) -> SessionSpend {
        SessionSpend {
            session: id.into(),
            tool: "claude-code".into(),
            member: freight_core::org::Member {
                person: person.into(),
                team: team.into(),
                cost_centre: None,
                known: true,
            },
            repo: None,
            first_ts: 0,
            last_ts: 0,
            models: models
                .iter()
                .map(|(model, cost)| crate::usage::ModelUsage {
                    model: (*model).into(),
                    tokens: Default::default(),
                    cost: cost.parse().expect("decimal"),
                    calls: 1,
                    unpriced_calls: 0,
                })
                .collect(),
        }
    }

    fn outputs(rows: &[(&str, &str, f64)]) -> RecordBatch {
        use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
        let (teams, kinds): (Vec<&str>, Vec<&str>) = rows.iter().map(|row| (row.0, row.1)).unzip();
        RecordBatch::try_from_iter([
            ("team", std::sync::Arc::new(StringArray::from(teams)) as ArrayRef),
            ("kind", std::sync::Arc::new(StringArray::from(kinds))),
            ("quantity", std::sync::Arc::new(Float64Array::from_iter_values(rows.iter().map(|row| row.2))) as ArrayRef),
        ])
        .expect("batch")
    }

    #[test]
    fn team_figures_sum_what_the_pillar_sql_sums() {
        let sessions = [
            session("s1", "ana", "web", &[("opus", "1.25"), ("haiku", "0.5")]),
            session("s2", "ana", "web", &[("haiku", "0")]),
            session("s3", "bo", "data", &[("haiku", "2")]),
        ];
        let outputs =
            outputs(&[("web", "commit", 1.0), ("web", "ticket", 0.5), ("web", "deploy", 1.0), ("ops", "event", 1.0)]);
        let all = team_figures(&sessions, SpendOf::Sessions, |_, _| true, &outputs).expect("figures");
        let keys: Vec<&str> = all.iter().map(|team| team.key.as_str()).collect();
        assert_eq!(keys, ["data", "ops", "web"], "every team with spend or output, in key order");
        let web = &all[2];
        assert_eq!((web.people, web.sessions, web.outcomes), (1, 2, 1.5));
        assert_eq!(web.cost.to_string(), "1.750000000000000000", "summed at the facts' 18 places");
        assert_eq!(all[1].cost.to_string(), "0", "no spend at all is a plain zero, as SQL's NULL reads");

        // Only opus admitted: s2 and s3 have no admitted model and are not counted.
        let opus = team_figures(&sessions, SpendOf::Sessions, |_, model| model == "opus", &outputs).expect("figures");
        let web = opus.iter().find(|team| team.key == "web").expect("web");
        assert_eq!((web.sessions, web.cost.to_string().as_str()), (1, "1.250000000000000000"));
        assert_eq!(opus.iter().find(|team| team.key == "data").map(|team| team.sessions), None);

        // Spend from shares: a share names its session, whose team it counts for.
        let share = |session: usize, amount: &str| Share {
            session,
            model: "haiku".into(),
            outcome: None,
            fate: crate::attribution::Fate::Pending,
            evidence: None,
            amount: amount.parse().expect("decimal"),
        };
        let shares = [share(0, "0.25"), share(2, "1")];
        let by_shares = team_figures(&sessions, SpendOf::Shares(&shares), |_, _| true, &outputs).expect("figures");
        let costs: Vec<String> = by_shares.iter().map(|team| team.cost.to_string()).collect();
        assert_eq!(costs, ["1.000000000000000000", "0", "0.250000000000000000"]);
    }

    #[test]
    fn poisson_bounds_are_close_to_the_exact_ones() {
        // Exact 95% bounds for n = 10: 4.795 and 18.390; for n = 0: 0 and 3.689.
        let (low, high) = poisson_interval(10.0);
        assert!((low - 4.795).abs() < 0.05 && (high - 18.39).abs() < 0.05, "{low} {high}");
        let (low, high) = poisson_interval(0.0);
        assert!(low == 0.0 && (high - 3.689).abs() < 0.05, "{high}");
    }
}
