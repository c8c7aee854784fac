//! From spend to outcomes: each session's cost by model (one SQL reduction), its links to the
//! commits and pull requests it helped produce, the exact split of its cost across them (by
//! lines changed), and the fate of every share as of the report time — shipped, reverted,
//! rejected, never shipped, or still pending.

use crate::engine::Engine;
use crate::grain::{Grain, GrainRules, grain_sql};
use crate::pricing::{priced_rows_sql, prompt_bucket_sql};
use crate::usage::{Filters, ModelUsage};
use freight_core::allocate::split;
use freight_core::link::{
    Candidate, Link, LinkInputs, LinkRules, Linker, OutcomeRef, RepoIndex, RepoPlace, SessionWindow,
};
use freight_core::org::{Directory, Member};
use freight_core::outcome::{
    Commit, Deploy, Incident, Millis, OutcomeEvent, PullRequest, PullState, RevertState, Survival, Ticket,
    settle_reverts,
};
use freight_core::{Money, PriceCatalog, TokenCounts};
use serde::Serialize;
use std::collections::HashMap;

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
    /// The marks of the tokenmaxxing detectors.
    pub marks: crate::tokenmaxxing::Marks,
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

impl Share {
    /// The repository the share counts under in the facts and their cuts: its outcome's,
    /// else its session's (`sessions` is the attribution's), else [`crate::pillars::NO_REPO`].
    pub fn repo<'a>(&'a self, sessions: &'a [SessionSpend]) -> &'a str {
        match &self.outcome {
            Some(outcome) => outcome.repo(),
            None => sessions[self.session].repo.as_deref().unwrap_or(crate::pillars::NO_REPO),
        }
    }
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

impl Rules {
    /// What the grain needs to know of these rules.
    pub fn grain(&self) -> GrainRules {
        GrainRules {
            as_of: self.as_of,
            small_output: self.portfolio.small_output,
            min_cacheable_input: self.portfolio.min_cacheable_input,
        }
    }
}

/// The reductions of `usage` a report starts from, in SQL, by name: the grain with each row's
/// cost (`session_grain`) and the working directories and branches of each session
/// (`session_places`). freight computes both in one pass (`grain::scan`); these are what
/// another engine runs to do the same work (docs/DATASET.md).
pub fn session_queries(engine: &Engine, filters: &Filters, rules: &Rules) -> [(&'static str, String); 2] {
    let filter = crate::grain::filter_sql(filters, rules.as_of);
    let grain = grain_sql(filters, rules.grain(), &prompt_bucket_sql(&engine.band_floors));
    let places = format!(
        "SELECT CAST(session_id AS VARCHAR) AS session, CAST(cwd AS VARCHAR) AS cwd,
                CAST(git_branch AS VARCHAR) AS branch, COUNT(*) AS calls
         FROM usage WHERE {filter} GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3"
    );
    [("session_grain", priced_rows_sql(&grain)), ("session_places", places)]
}

/// Each grain row's cost (None when its model has no price).
pub fn grain_costs(grain: &Grain, catalog: &PriceCatalog) -> Vec<Option<Money>> {
    use rayon::prelude::*;
    let prices: Vec<_> = grain.models.iter().map(|model| catalog.resolve(model)).collect();
    grain
        .rows
        .par_iter()
        .map(|row| prices[row.model as usize].map(|price| price.cost_in_band(&row.tokens, row.speed, row.bucket)))
        .collect()
}

/// Sessions' spend by model and whose it was (not yet where it ran: `repo` is None), in the
/// grain's session order.
pub fn session_costs(grain: &Grain, catalog: &PriceCatalog, directory: &Directory, rules: &Rules) -> Vec<SessionSpend> {
    let costs = grain_costs(grain, catalog);
    // Thousands of people run hundreds of thousands of sessions: each identity is resolved once.
    let mut members: foldhash::HashMap<&str, Member> = Default::default();
    let mut sessions: Vec<SessionSpend> = grain
        .sessions
        .iter()
        .map(|session| {
            let identity = session.user.as_deref().or(rules.default_identity.as_deref()).unwrap_or("(unknown)");
            SessionSpend {
                session: session.id.clone(),
                tool: session.tool.clone(),
                member: members.entry(identity).or_insert_with(|| directory.resolve(identity)).clone(),
                repo: None,
                first_ts: i64::MAX,
                last_ts: i64::MIN,
                models: Vec::new(),
            }
        })
        .collect();
    for (row, cost) in grain.rows.iter().zip(costs) {
        let session = &mut sessions[row.session as usize];
        session.first_ts = session.first_ts.min(row.first_ts);
        session.last_ts = session.last_ts.max(row.last_ts);
        let model = &grain.models[row.model as usize];
        if session.models.last().is_none_or(|last| &last.model != model) {
            session.models.push(ModelUsage {
                model: model.clone(),
                tokens: TokenCounts::default(),
                cost: Money::ZERO,
                calls: 0,
                unpriced_calls: 0,
            });
        }
        let usage = session.models.last_mut().expect("pushed above");
        usage.tokens += row.tokens;
        usage.calls += row.calls;
        match cost {
            Some(cost) => usage.cost += cost,
            None => usage.unpriced_calls += row.calls,
        }
    }
    sessions
}

/// Sessions' spend by model, with whose it was and where it ran.
fn session_spend(
    grain: &Grain,
    catalog: &PriceCatalog,
    directory: &Directory,
    outcomes: &Outcomes,
    rules: &Rules,
) -> (Vec<SessionSpend>, Vec<SessionWindow>) {
    let mut sessions = session_costs(grain, catalog, directory, rules);
    let repos = RepoIndex::new(&outcomes.repos);
    use rayon::prelude::*;
    let windows = sessions
        .par_iter_mut()
        .zip(grain.sessions.par_iter())
        .map(|(session, places)| {
            let mut cwds: Vec<String> = Vec::new();
            let mut branches: Vec<String> = Vec::new();
            for (cwd, branch, _) in &places.places {
                for (value, list) in [(cwd, &mut cwds), (branch, &mut branches)] {
                    if let Some(value) = value.as_ref().filter(|v| !v.is_empty())
                        && !list.contains(value)
                    {
                        list.push(value.clone());
                    }
                }
            }
            session.repo = cwds.iter().find_map(|cwd| repos.find(cwd)).map(|(repo, _)| repo.name.clone());
            SessionWindow {
                session: session.session.clone(),
                tool: session.tool.clone(),
                person: session.member.known.then(|| session.member.person.clone()),
                cwds,
                branches,
                first_ts: session.first_ts,
                last_ts: session.last_ts,
            }
        })
        .collect();
    (sessions, windows)
}

/// The person the directory resolves an identity to, when it knows them.
fn known_person(directory: &Directory, identity: &str) -> Option<String> {
    let member = directory.resolve(identity);
    member.known.then_some(member.person)
}

/// What attribution needs of the outcomes at one as-of time, whatever the period: the commits
/// and pull requests that exist by then with their people, the linker's indexes, each
/// commit's revert state. A server keeps one per gathered outcomes and as-of time, and with
/// it each session's link candidates, so a new period links a session it has seen before
/// without looking at the commits again.
pub struct AttributionBase {
    as_of: Millis,
    link: LinkRules,
    /// The commits and pull requests as of the time, when some are later (else the outcomes').
    commits: Option<Vec<Commit>>,
    commit_people: Vec<Option<String>>,
    pulls: Option<Vec<PullRequest>>,
    pull_people: Vec<Option<String>>,
    linker: Linker,
    /// Of every commit in the outcomes (not only those as of the time), as of the time.
    reverts: Vec<RevertState>,
    /// Each commit's index by repository and sha.
    commit_index: foldhash::HashMap<String, foldhash::HashMap<String, usize>>,
    /// Each session's candidates with the window they were found for, when kept.
    candidates: Option<std::sync::Mutex<foldhash::HashMap<String, KeptCandidates>>>,
}

type KeptCandidates = std::sync::Arc<(SessionWindow, Vec<Candidate>)>;

impl AttributionBase {
    /// The base of `outcomes` and `directory` at `rules`' time; `keep_candidates` for a caller
    /// that will attribute many periods with it.
    pub fn new(outcomes: &Outcomes, directory: &Directory, rules: &Rules, keep_candidates: bool) -> AttributionBase {
        let mut people_of: HashMap<String, Option<String>> = HashMap::new();
        let mut person_of = |identity: &str| match people_of.get(identity) {
            Some(person) => person.clone(),
            None => people_of.entry(identity.to_string()).or_insert_with(|| known_person(directory, identity)).clone(),
        };
        let commits = (!outcomes.commits.iter().all(|c| c.committed_at <= rules.as_of))
            .then(|| outcomes.commits.iter().filter(|c| c.committed_at <= rules.as_of).cloned().collect::<Vec<_>>());
        let commit_people: Vec<Option<String>> =
            commits.as_deref().unwrap_or(&outcomes.commits).iter().map(|c| person_of(&c.author_email)).collect();
        let pulls = (!outcomes.pulls.iter().all(|p| p.opened_at <= rules.as_of))
            .then(|| outcomes.pulls.iter().filter(|p| p.opened_at <= rules.as_of).cloned().collect::<Vec<_>>());
        let pull_people: Vec<Option<String>> =
            pulls.as_deref().unwrap_or(&outcomes.pulls).iter().map(|p| person_of(&p.author)).collect();
        let inputs = LinkInputs {
            commits: commits.as_deref().unwrap_or(&outcomes.commits),
            commit_people: &commit_people,
            pulls: pulls.as_deref().unwrap_or(&outcomes.pulls),
            pull_people: &pull_people,
            repos: &outcomes.repos,
        };
        let linker = Linker::new(inputs, rules.link);
        AttributionBase {
            as_of: rules.as_of,
            link: rules.link,
            linker,
            reverts: settle_reverts(&outcomes.commits, rules.as_of),
            commit_index: outcomes.commits.iter().enumerate().fold(
                foldhash::HashMap::default(),
                |mut index: foldhash::HashMap<String, foldhash::HashMap<String, usize>>, (i, c)| {
                    index.entry(c.repo.clone()).or_default().insert(c.sha.clone(), i);
                    index
                },
            ),
            commits,
            commit_people,
            pulls,
            pull_people,
            candidates: keep_candidates.then(Default::default),
        }
    }

    /// Whether this base answers reports by `rules` (its time and link rules).
    pub fn fits(&self, rules: &Rules) -> bool {
        self.as_of == rules.as_of && self.link == rules.link
    }

    fn inputs<'a>(&'a self, outcomes: &'a Outcomes) -> LinkInputs<'a> {
        LinkInputs {
            commits: self.commits.as_deref().unwrap_or(&outcomes.commits),
            commit_people: &self.commit_people,
            pulls: self.pulls.as_deref().unwrap_or(&outcomes.pulls),
            pull_people: &self.pull_people,
            repos: &outcomes.repos,
        }
    }

    /// The links of `windows`: exact ones first, then each session's heuristic ones in
    /// session order, as [`freight_core::link::link_sessions`] makes them.
    fn link(&self, windows: &[SessionWindow], outcomes: &Outcomes) -> Vec<Link> {
        use rayon::prelude::*;
        let inputs = self.inputs(outcomes);
        let Some(kept) = &self.candidates else {
            return self.linker.link(windows, inputs);
        };
        let mut exact = self.linker.exact(windows, inputs);
        let repos = RepoIndex::new(&outcomes.repos);
        let found = |window: &SessionWindow| self.linker.candidates(window, inputs, &repos);
        let mut links = std::mem::take(&mut exact.links);
        // A session's candidates depend only on its window: those kept for the same window stand.
        let known: Vec<Option<KeptCandidates>> = {
            let kept = kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            windows.iter().map(|w| kept.get(&w.session).filter(|k| k.0 == *w).cloned()).collect()
        };
        let (heuristic, new): (Vec<Vec<Link>>, Vec<Option<KeptCandidates>>) = windows
            .par_iter()
            .zip(known)
            .enumerate()
            .map(|(position, (window, known))| {
                let (candidates, new) = match known {
                    Some(candidates) => (candidates, None),
                    None => {
                        let candidates = std::sync::Arc::new((window.clone(), found(window)));
                        (candidates.clone(), Some(candidates))
                    }
                };
                let links = match exact.has_session(position) {
                    true => Vec::new(),
                    false => candidates.1.iter().filter(|c| exact.admits(c)).map(|c| c.link.clone()).collect(),
                };
                (links, new)
            })
            .unzip();
        let mut kept = kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for candidates in new.into_iter().flatten() {
            kept.insert(candidates.0.session.clone(), candidates);
        }
        links.extend(heuristic.into_iter().flatten());
        links
    }
}

/// Joins spend to outcomes as of `rules.as_of`.
pub fn attribute(
    grain: &Grain,
    catalog: &PriceCatalog,
    directory: &Directory,
    outcomes: &Outcomes,
    rules: &Rules,
) -> Attribution {
    let started = std::time::Instant::now();
    let base = AttributionBase::new(outcomes, directory, rules, false);
    crate::engine::note_time("attribution: the outcomes as of the time", started);
    attribute_with(&base, grain, catalog, directory, outcomes, rules)
}

/// [`attribute`] with the outcomes' `base` at `rules`' time (kept by a caller that answers many
/// periods).
pub fn attribute_with(
    base: &AttributionBase,
    grain: &Grain,
    catalog: &PriceCatalog,
    directory: &Directory,
    outcomes: &Outcomes,
    rules: &Rules,
) -> Attribution {
    if !base.fits(rules) {
        return attribute(grain, catalog, directory, outcomes, rules);
    }
    let mut started = std::time::Instant::now();
    let mut step = |name: &str| {
        crate::engine::note_time(name, started);
        started = std::time::Instant::now();
    };
    let (sessions, windows) = session_spend(grain, catalog, directory, outcomes, rules);
    step("attribution: sessions' spend");
    let links = base.link(&windows, outcomes);
    step("attribution: links");
    let reverts_all = &base.reverts;
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
    let commit_of = |repo: &str, sha: &str| base.commit_index.get(repo).and_then(|shas| shas.get(sha)).copied();
    // Sorted shas, for abbreviated merge shas only: built the first time one is met.
    let by_sha: std::sync::OnceLock<Vec<(&str, &str, usize)>> = std::sync::OnceLock::new();
    let sorted_shas = || {
        by_sha.get_or_init(|| {
            let mut list: Vec<(&str, &str, usize)> =
                outcomes.commits.iter().enumerate().map(|(i, c)| (c.repo.as_str(), c.sha.as_str(), i)).collect();
            list.sort_unstable();
            list
        })
    };
    let pulls = base.inputs(outcomes).pulls;
    let pull_index: foldhash::HashMap<(&str, u64), &PullRequest> =
        pulls.iter().map(|p| ((p.repo.as_str(), p.number), p)).collect();
    let fate_of = |outcome: &OutcomeRef| -> (Fate, u64) {
        match outcome {
            OutcomeRef::Commit { repo, sha } => match commit_of(repo, sha) {
                Some(i) => (commit_fate(i), outcomes.commits[i].lines_changed()),
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
                                commit_of(repo, sha).or_else(|| {
                                    // An abbreviated sha: the first commit of the repository it begins.
                                    let by_sha = sorted_shas();
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

    let mut by_session: foldhash::HashMap<&str, Vec<&Link>> = Default::default();
    for link in &links {
        by_session.entry(link.session.as_str()).or_default().push(link);
    }
    // Each session's shares on its own, on every core, in session order.
    use rayon::prelude::*;
    let shares: Vec<Share> = sessions
        .par_iter()
        .enumerate()
        .flat_map_iter(|(index, session)| {
            let mut shares = Vec::new();
            let linked = by_session.get(session.session.as_str()).map(Vec::as_slice).unwrap_or_default();
            if linked.is_empty() {
                let fate = if session.last_ts + rules.ship_grace_ms < rules.as_of {
                    Fate::NeverShipped
                } else {
                    Fate::Pending
                };
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
                return shares;
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
            shares
        })
        .collect();
    step("attribution: reverts and shares");
    Attribution { sessions, links, shares, reverts: reverts_all.clone() }
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
        let positions: HashMap<&str, foldhash::HashMap<&str, usize>> = outcomes
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

#[cfg(test)]
mod tests {
    use super::*;
    use freight_core::link::link_sessions;
    use freight_core::org::PersonEntry;
    use freight_core::outcome::SessionTrailer;

    const HOUR: Millis = 3_600_000;

    fn window(id: &str, from: Millis, to: Millis) -> SessionWindow {
        SessionWindow {
            session: id.into(),
            tool: "claude-code".into(),
            person: Some("ana".into()),
            cwds: vec!["/src/api".into()],
            branches: vec!["feature".into()],
            first_ts: from,
            last_ts: to,
        }
    }

    fn commit(sha: &str, at: Millis, named: &[&str]) -> Commit {
        Commit {
            repo: "api".into(),
            sha: sha.into(),
            author_name: "Ana".into(),
            author_email: "ana@example.com".into(),
            authored_at: at,
            committed_at: at,
            summary: String::new(),
            parents: 1,
            lines_added: 5,
            lines_removed: 1,
            files_changed: 1,
            agents: Vec::new(),
            sessions: named
                .iter()
                .map(|s| SessionTrailer { trailer: "Freight-Session".into(), session: (*s).into() })
                .collect(),
            reverts: None,
        }
    }

    fn rules() -> Rules {
        Rules {
            as_of: 100 * HOUR,
            link: LinkRules::default(),
            revert_window_ms: 14 * 24 * HOUR,
            ship_grace_ms: 7 * 24 * HOUR,
            default_identity: None,
            min_team_size: 3,
            portfolio: crate::optimizable::Portfolio::default(),
            marks: crate::tokenmaxxing::Marks::default(),
            review_rate: None,
            default_review_minutes: 30,
        }
    }

    #[test]
    fn kept_candidates_link_each_period_as_linking_it_afresh_does() {
        let ana = PersonEntry {
            id: "ana".into(),
            name: None,
            emails: vec!["ana@example.com".into()],
            accounts: Vec::new(),
            team: Some("web".into()),
            cost_centre: None,
        };
        let directory = Directory::new(vec![ana], Vec::new()).expect("directory");
        let outcomes = Outcomes {
            commits: vec![
                // Named by `early`: a heuristic candidate of `late` only in periods without `early`.
                commit("c1", 10 * HOUR, &["early"]),
                commit("c2", 11 * HOUR, &[]),
                // Named by `late` itself: its exact link, and no heuristic ones for it.
                commit("c3", 30 * HOUR, &["late"]),
                commit("c4", 31 * HOUR, &[]),
                // After the as-of time: not seen.
                commit("c5", 200 * HOUR, &[]),
            ],
            repos: vec![RepoPlace { name: "api".into(), workdir: Some("/src/api".into()) }],
            ..Outcomes::default()
        };
        let rules = rules();
        let base = AttributionBase::new(&outcomes, &directory, &rules, true);
        let early = window("early", 9 * HOUR, 10 * HOUR);
        let overlapping = window("overlapping", 9 * HOUR, 12 * HOUR);
        let late = window("late", 29 * HOUR, 32 * HOUR);
        let periods = [
            vec![early.clone(), overlapping.clone(), late.clone()],
            // Without `early`, its commit is a candidate of `overlapping` again.
            vec![overlapping.clone(), late.clone()],
            // A session cut by the period has another window: its candidates are found again.
            vec![early.clone(), window("overlapping", 11 * HOUR, 12 * HOUR)],
            vec![early, overlapping, late],
        ];
        let commits: Vec<Commit> = outcomes.commits.iter().filter(|c| c.committed_at <= rules.as_of).cloned().collect();
        let people: Vec<Option<String>> = commits.iter().map(|_| Some("ana".to_string())).collect();
        let inputs = LinkInputs {
            commits: &commits,
            commit_people: &people,
            pulls: &[],
            pull_people: &[],
            repos: &outcomes.repos,
        };
        let sha = |link: &Link| match &link.outcome {
            OutcomeRef::Commit { sha, .. } => format!("{}:{sha}:{}", link.session, link.evidence.level()),
            OutcomeRef::PullRequest { number, .. } => format!("{}:#{number}", link.session),
        };
        let mut seen = Vec::new();
        for windows in &periods {
            let kept = base.link(windows, &outcomes);
            assert_eq!(kept, link_sessions(windows, inputs, rules.link));
            seen.push(kept.iter().map(sha).collect::<Vec<_>>());
        }
        assert_eq!(seen[0], ["early:c1:exact", "late:c3:exact", "overlapping:c2:heuristic"]);
        assert_eq!(seen[1], ["late:c3:exact", "overlapping:c1:heuristic", "overlapping:c2:heuristic"]);
        assert_eq!(seen[2], ["early:c1:exact", "overlapping:c2:heuristic"]);
        let kept = base.candidates.as_ref().expect("kept").lock().expect("lock");
        assert_eq!(kept.get("overlapping").map(|k| k.0.first_ts), Some(9 * HOUR), "the last window asked for");
    }
}
