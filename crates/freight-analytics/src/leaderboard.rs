//! The team outcome leaderboard: teams ranked by outcomes per dollar, each with its sample
//! size and a 95% confidence interval; teams smaller than a minimum are shown but not ranked,
//! and people are never ranked here.

use crate::pillars::PillarRow;
use freight_core::org::{Directory, UNASSIGNED_TEAM};
use serde::Serialize;

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

/// Ranks the per-team pillar rows.
pub fn leaderboard(teams: &[PillarRow], directory: &Directory, min_team_size: u64) -> Vec<LeaderboardEntry> {
    let sizes = directory.team_sizes();
    let mut entries: Vec<LeaderboardEntry> = teams
        .iter()
        .map(|row| {
            let people = sizes.iter().find(|(team, _)| *team == row.key).map_or(row.people, |(_, size)| *size as u64);
            let dollars = freight_core::money::to_f64(row.cost);
            let outcomes = row.unit.outcomes;
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
    use crate::pillars::{Output, UnitEconomics};
    use freight_core::Money;

    fn team(key: &str, people: u64, cost: i64, outcomes: f64) -> PillarRow {
        PillarRow {
            key: key.into(),
            people,
            cost: Money::from(cost),
            output: Output { commits: outcomes, ..Output::default() },
            unit: UnitEconomics { outcomes, ..UnitEconomics::default() },
            ..PillarRow::default()
        }
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

    #[test]
    fn poisson_bounds_are_close_to_the_exact_ones() {
        // Exact 95% bounds for n = 10: 4.795 and 18.390; for n = 0: 0 and 3.689.
        let (low, high) = poisson_interval(10.0);
        assert!((low - 4.795).abs() < 0.05 && (high - 18.39).abs() < 0.05, "{low} {high}");
        let (low, high) = poisson_interval(0.0);
        assert!(low == 0.0 && (high - 3.689).abs() < 0.05, "{high}");
    }
}
