//! From spend to outcomes: each session's cost by model (one SQL reduction), its links to the
//! commits and pull requests it helped produce, the exact split of its cost across them (by
//! lines changed), and the fate of every share as of the report time — shipped, reverted,
//! rejected, never shipped, or still pending.

use crate::columns;
use crate::engine::{AnalyticsError, Engine};
use crate::pricing::priced_groups_sql;
use crate::usage::{Filters, ModelUsage, where_sql};
use freight_core::Money;
use freight_core::allocate::split;
use freight_core::link::{
    Link, LinkInputs, LinkRules, OutcomeRef, RepoPlace, SessionWindow, link_sessions, repo_of_cwd,
};
use freight_core::org::{Directory, Member};
use freight_core::outcome::{
    Commit, Deploy, Incident, Millis, OutcomeEvent, PullRequest, PullState, RevertState, Survival, Ticket,
    settle_reverts,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Everything that happened besides the spend.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    pub commits: Vec<Commit>,
    /// Surviving lines of AI-assisted commits, by (repo, sha).
    pub survival: HashMap<(String, String), Survival>,
    pub pulls: Vec<PullRequest>,
    pub tickets: Vec<Ticket>,
    pub events: Vec<OutcomeEvent>,
    pub deploys: Vec<Deploy>,
    pub incidents: Vec<Incident>,
    /// Each repository's main line (newest first) and where each commit entered it, to tell
    /// which commits a deploy shipped.
    pub main_lines: HashMap<String, (Vec<String>, HashMap<String, usize>)>,
    pub repos: Vec<RepoPlace>,
}

/// The rules a report states.
#[derive(Debug, Clone)]
pub struct Rules {
    /// The report's time: nothing later is seen, and fates are settled as of it.
    pub as_of: Millis,
    pub link: LinkRules,
    /// A commit reverted within this long after it was made counts as wasted work.
    pub revert_window_ms: Millis,
    /// A session with no outcome this long after its last call was never shipped (before
    /// that, it is pending).
    pub ship_grace_ms: Millis,
    /// Whose the logs are when a file does not say (on a laptop: the repository's user.email).
    pub default_identity: Option<String>,
    /// Teams with fewer people are not ranked on the leaderboard.
    pub min_team_size: u64,
    /// The tiers optimizable cost is measured against.
    pub portfolio: crate::optimizable::Portfolio,
    /// People's time reviewing AI work that was then rejected, costed per hour (off when None).
    pub review_rate: Option<Money>,
    /// Review time of a rejected pull request whose source does not give it.
    pub default_review_minutes: u64,
}

/// One agent session's spend and whose it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSpend {
    pub session: String,
    pub tool: String,
    pub member: Member,
    /// The repository its working directory is in, when one is known.
    pub repo: Option<String>,
    pub first_ts: Millis,
    pub last_ts: Millis,
    pub models: Vec<ModelUsage>,
}

impl SessionSpend {
    pub fn cost(&self) -> Money {
        self.models.iter().map(|m| m.cost).sum()
    }
}

/// What became of a share of spend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Its outcome is on main (or merged) and stands.
    Shipped,
    /// Its commit was reverted within the revert window.
    Reverted,
    /// Its pull request was closed unmerged.
    Rejected,
    /// No outcome, and the grace period is over.
    NeverShipped,
    /// No outcome yet, or its pull request is still open.
    Pending,
}

impl Fate {
    pub const ALL: [Fate; 5] = [Fate::Shipped, Fate::Reverted, Fate::Rejected, Fate::NeverShipped, Fate::Pending];

    pub fn as_str(self) -> &'static str {
        match self {
            Fate::Shipped => "shipped",
            Fate::Reverted => "reverted",
            Fate::Rejected => "rejected",
            Fate::NeverShipped => "never_shipped",
            Fate::Pending => "pending",
        }
    }

    pub fn is_waste(self) -> bool {
        matches!(self, Fate::Reverted | Fate::Rejected | Fate::NeverShipped)
    }
}

/// A share of one session's spend on one model, allocated to one outcome (or to none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    /// Index into [`Attribution::sessions`].
    pub session: usize,
    pub model: String,
    pub outcome: Option<OutcomeRef>,
    pub fate: Fate,
    /// `exact` or `heuristic` (None for unallocated spend).
    pub evidence: Option<&'static str>,
    pub amount: Money,
}

/// Spend joined to outcomes.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub sessions: Vec<SessionSpend>,
    pub links: Vec<Link>,
    pub shares: Vec<Share>,
    /// Revert state of each commit in `Outcomes::commits`, as of the report time.
    pub reverts: Vec<RevertState>,
}

/// The two reductions of `usage` a report starts from, by name: each session's spend by model
/// (`session_spend`) and the working directories and branches it ran in (`session_places`).
pub fn session_queries(engine: &Engine, filters: &Filters, rules: &Rules) -> [(&'static str, String); 2] {
    let filter = format!("{} AND CAST(ts AS BIGINT) <= {}", where_sql(filters), rules.as_of);
    // Keys are cast to plain strings before grouping: grouping on the dictionary-encoded
    // columns as stored was faster at ten million calls but grew much worse than linearly in
    // DataFusion 55 (9 s against 5.7 s at thirty million, minutes at a hundred million; the
    // cause inside its dictionary grouping is not traced yet).
    let keys = ["CAST(session_id AS VARCHAR)", "CAST(tool AS VARCHAR)", "CAST(\"user\" AS VARCHAR)"].map(String::from);
    let spend = format!("{} ORDER BY k0, model", priced_groups_sql(&keys, &filter, &engine.band_floors, false));
    let places = format!(
        "SELECT CAST(session_id AS VARCHAR) AS session, CAST(cwd AS VARCHAR) AS cwd,
                CAST(git_branch AS VARCHAR) AS branch, COUNT(*) AS calls
         FROM usage WHERE {filter} GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3"
    );
    [("session_spend", spend), ("session_places", places)]
}

/// Sessions' spend by model, with whose it was and where it ran.
async fn session_spend(
    engine: &Engine,
    filters: &Filters,
    directory: &Directory,
    outcomes: &Outcomes,
    rules: &Rules,
) -> Result<(Vec<SessionSpend>, Vec<SessionWindow>), AnalyticsError> {
    let [(_, sql), (_, places_sql)] = session_queries(engine, filters, rules);
    let mut sessions: BTreeMap<String, SessionSpend> = BTreeMap::new();
    for batch in engine.query(&sql).await? {
        let (ids, tools, users, models) = (
            columns::strings(&batch, "k0")?,
            columns::strings(&batch, "k1")?,
            columns::strings(&batch, "k2")?,
            columns::strings(&batch, "model")?,
        );
        let (tokens, costs, calls, unpriced) = (
            columns::tokens(&batch)?,
            columns::decimals(&batch, "cost")?,
            columns::counts(&batch, "calls")?,
            columns::counts(&batch, "unpriced")?,
        );
        let (firsts, lasts) = (columns::millis(&batch, "first_ts")?, columns::millis(&batch, "last_ts")?);
        for row in 0..batch.num_rows() {
            let id = ids[row].clone().unwrap_or_default();
            let identity = users[row].clone().or_else(|| rules.default_identity.clone());
            let session = sessions.entry(id.clone()).or_insert_with(|| SessionSpend {
                session: id,
                tool: tools[row].clone().unwrap_or_default(),
                member: match &identity {
                    Some(identity) => directory.resolve(identity),
                    None => directory.resolve("(unknown)"),
                },
                repo: None,
                first_ts: i64::MAX,
                last_ts: i64::MIN,
                models: Vec::new(),
            });
            session.first_ts = session.first_ts.min(firsts[row].unwrap_or(i64::MAX));
            session.last_ts = session.last_ts.max(lasts[row].unwrap_or(i64::MIN));
            session.models.push(ModelUsage {
                model: models[row].clone().unwrap_or_default(),
                tokens: tokens[row],
                cost: costs[row].unwrap_or_default(),
                calls: calls[row],
                unpriced_calls: unpriced[row],
            });
        }
    }
    // Where each session worked: its working directories and branches.
    let mut places: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for batch in engine.query(&places_sql).await? {
        let (ids, cwds, branches) = (
            columns::strings(&batch, "session")?,
            columns::strings(&batch, "cwd")?,
            columns::strings(&batch, "branch")?,
        );
        for row in 0..batch.num_rows() {
            let entry = places.entry(ids[row].clone().unwrap_or_default()).or_default();
            for (value, list) in [(&cwds[row], &mut entry.0), (&branches[row], &mut entry.1)] {
                if let Some(value) = value.as_ref().filter(|v| !v.is_empty())
                    && !list.contains(value)
                {
                    list.push(value.clone());
                }
            }
        }
    }
    let mut windows = Vec::with_capacity(sessions.len());
    let sessions: Vec<SessionSpend> = sessions
        .into_values()
        .map(|mut session| {
            let (cwds, branches) = places.remove(&session.session).unwrap_or_default();
            session.repo =
                cwds.iter().find_map(|cwd| repo_of_cwd(cwd, &outcomes.repos)).map(|(repo, _)| repo.name.clone());
            windows.push(SessionWindow {
                session: session.session.clone(),
                tool: session.tool.clone(),
                person: session.member.known.then(|| session.member.person.clone()),
                cwds,
                branches,
                first_ts: session.first_ts,
                last_ts: session.last_ts,
            });
            session
        })
        .collect();
    Ok((sessions, windows))
}

/// The person the directory resolves an identity to, when it knows them.
fn known_person(directory: &Directory, identity: &str) -> Option<String> {
    let member = directory.resolve(identity);
    member.known.then_some(member.person)
}

/// Joins spend to outcomes as of `rules.as_of`.
pub async fn attribute(
    engine: &Engine,
    filters: &Filters,
    directory: &Directory,
    outcomes: &Outcomes,
    rules: &Rules,
) -> Result<Attribution, AnalyticsError> {
    let (sessions, windows) = session_spend(engine, filters, directory, outcomes, rules).await?;
    let commit_people: Vec<Option<String>> =
        outcomes.commits.iter().map(|c| known_person(directory, &c.author_email)).collect();
    let pull_people: Vec<Option<String>> = outcomes.pulls.iter().map(|p| known_person(directory, &p.author)).collect();
    let visible_commits: Vec<bool> = outcomes.commits.iter().map(|c| c.committed_at <= rules.as_of).collect();
    let commits: Vec<Commit> =
        outcomes.commits.iter().zip(&visible_commits).filter(|(_, v)| **v).map(|(c, _)| c.clone()).collect();
    let people: Vec<Option<String>> =
        commit_people.into_iter().zip(&visible_commits).filter(|(_, v)| **v).map(|(p, _)| p).collect();
    let pulls: Vec<PullRequest> = outcomes.pulls.iter().filter(|p| p.opened_at <= rules.as_of).cloned().collect();
    let pull_people: Vec<Option<String>> = outcomes
        .pulls
        .iter()
        .zip(pull_people)
        .filter(|(p, _)| p.opened_at <= rules.as_of)
        .map(|(_, person)| person)
        .collect();
    let inputs = LinkInputs {
        commits: &commits,
        commit_people: &people,
        pulls: &pulls,
        pull_people: &pull_people,
        repos: &outcomes.repos,
    };
    let links = link_sessions(&windows, inputs, rules.link);

    let reverts_all = settle_reverts(&outcomes.commits, rules.as_of);
    let commit_index: HashMap<(&str, &str), usize> =
        outcomes.commits.iter().enumerate().map(|(i, c)| ((c.repo.as_str(), c.sha.as_str()), i)).collect();
    let commit_fate = |index: usize| -> Fate {
        let commit = &outcomes.commits[index];
        match reverts_all[index] {
            RevertState { reverted: true, reverted_at: Some(at) }
                if at - commit.committed_at <= rules.revert_window_ms =>
            {
                Fate::Reverted
            }
            _ => Fate::Shipped,
        }
    };
    let mut by_sha: Vec<(&str, &str, usize)> =
        outcomes.commits.iter().enumerate().map(|(i, c)| (c.repo.as_str(), c.sha.as_str(), i)).collect();
    by_sha.sort_unstable();
    let pull_index: HashMap<(&str, u64), &PullRequest> =
        pulls.iter().map(|p| ((p.repo.as_str(), p.number), p)).collect();
    let fate_of = |outcome: &OutcomeRef| -> (Fate, u64) {
        match outcome {
            OutcomeRef::Commit { repo, sha } => match commit_index.get(&(repo.as_str(), sha.as_str())) {
                Some(&i) => (commit_fate(i), outcomes.commits[i].lines_changed()),
                None => (Fate::Pending, 0),
            },
            OutcomeRef::PullRequest { repo, number } => match pull_index.get(&(repo.as_str(), *number)) {
                Some(pull) => {
                    let lines = pull.lines_added + pull.lines_removed;
                    let fate = match pull.state_as_of(rules.as_of) {
                        PullState::ClosedUnmerged => Fate::Rejected,
                        PullState::Open => Fate::Pending,
                        PullState::Merged => pull
                            .merge_sha
                            .as_deref()
                            .and_then(|sha| {
                                commit_index.get(&(repo.as_str(), sha)).copied().or_else(|| {
                                    // An abbreviated sha: the first commit of the repository it begins.
                                    let from = by_sha.partition_point(|&(r, s, _)| (r, s) < (repo.as_str(), sha));
                                    by_sha[from..]
                                        .first()
                                        .filter(|&&(r, s, _)| r == repo && s.starts_with(sha))
                                        .map(|&(_, _, index)| index)
                                })
                            })
                            .map_or(Fate::Shipped, commit_fate),
                    };
                    (fate, lines)
                }
                None => (Fate::Pending, 0),
            },
        }
    };

    let mut by_session: HashMap<&str, Vec<&Link>> = HashMap::new();
    for link in &links {
        by_session.entry(link.session.as_str()).or_default().push(link);
    }
    let mut shares = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        let linked = by_session.get(session.session.as_str()).map(Vec::as_slice).unwrap_or_default();
        if linked.is_empty() {
            let fate =
                if session.last_ts + rules.ship_grace_ms < rules.as_of { Fate::NeverShipped } else { Fate::Pending };
            for model in &session.models {
                shares.push(Share {
                    session: index,
                    model: model.model.clone(),
                    outcome: None,
                    fate,
                    evidence: None,
                    amount: model.cost,
                });
            }
            continue;
        }
        let fates: Vec<(Fate, u64)> = linked.iter().map(|link| fate_of(&link.outcome)).collect();
        let weights: Vec<u64> = fates.iter().map(|(_, lines)| *lines).collect();
        for model in &session.models {
            for ((link, (fate, _)), amount) in linked.iter().zip(&fates).zip(split(model.cost, &weights)) {
                shares.push(Share {
                    session: index,
                    model: model.model.clone(),
                    outcome: Some(link.outcome.clone()),
                    fate: *fate,
                    evidence: Some(link.evidence.level()),
                    amount,
                });
            }
        }
    }
    Ok(Attribution { sessions, links, shares, reverts: reverts_all })
}

/// Successful deploys by repository, each with the main-line position of what it deployed, to
/// tell when each commit was first shipped (built once per report: a deploy list and a line
/// walk per commit would be quadratic).
pub struct Deployments<'o> {
    outcomes: &'o Outcomes,
    /// Per repository: (deploy time, position on the main line, newest = 0), by time.
    by_repo: HashMap<&'o str, Vec<(Millis, usize)>>,
}

impl<'o> Deployments<'o> {
    pub fn new(outcomes: &'o Outcomes, as_of: Millis) -> Deployments<'o> {
        let mut by_repo: HashMap<&str, Vec<(Millis, usize)>> = HashMap::new();
        let positions: HashMap<&str, HashMap<&str, usize>> = outcomes
            .main_lines
            .iter()
            .map(|(repo, (line, _))| {
                (repo.as_str(), line.iter().enumerate().map(|(index, sha)| (sha.as_str(), index)).collect())
            })
            .collect();
        for deploy in outcomes.deploys.iter().filter(|d| d.succeeded && d.at <= as_of) {
            let (Some(sha), Some((line, _))) = (deploy.sha.as_deref(), outcomes.main_lines.get(&deploy.repo)) else {
                continue;
            };
            // A full sha is looked up; an abbreviated one is matched against the line.
            let position = positions
                .get(deploy.repo.as_str())
                .and_then(|by_sha| by_sha.get(sha).copied())
                .or_else(|| line.iter().position(|s| s.starts_with(sha)));
            if let Some(position) = position {
                by_repo.entry(deploy.repo.as_str()).or_default().push((deploy.at, position));
            }
        }
        for deploys in by_repo.values_mut() {
            deploys.sort_unstable();
        }
        Deployments { outcomes, by_repo }
    }

    /// When a commit was first shipped by a successful deploy: a deploy of the main line's
    /// commit at position `p` ships every commit that entered at `p` or later (older).
    pub fn first_shipped(&self, commit: &Commit) -> Option<Millis> {
        let (_, entered) = self.outcomes.main_lines.get(&commit.repo)?;
        let entered_at = *entered.get(&commit.sha)?;
        let deploys = self.by_repo.get(commit.repo.as_str())?;
        let from = deploys.partition_point(|&(at, _)| at < commit.committed_at);
        deploys[from..].iter().find(|&&(_, position)| position <= entered_at).map(|&(at, _)| at)
    }
}
