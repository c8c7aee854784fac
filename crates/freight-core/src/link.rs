//! Links from agent sessions to the outcomes they helped produce, each with its evidence:
//! exact (the session id written into a commit trailer or by a hook) or heuristic (same person
//! and repository, commit inside the session's window plus a grace period), with a confidence.

use crate::outcome::{AiAgent, Commit, Millis, PullRequest};
use serde::Serialize;
use std::collections::HashMap;

/// What an agent session looked like, as far as linking needs: where and when it worked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionWindow {
    pub session: String,
    pub tool: String,
    /// The person the directory resolved the session's identity to, when it has one.
    pub person: Option<String>,
    /// Working directories the session ran in (Claude Code `cwd`, Codex `cwd`).
    pub cwds: Vec<String>,
    /// Branches the session saw (Claude Code `gitBranch`).
    pub branches: Vec<String>,
    pub first_ts: Millis,
    pub last_ts: Millis,
}

/// A repository as the linker sees it: its name and, when it is local, its work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPlace {
    pub name: String,
    pub workdir: Option<String>,
}

/// What a session is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutcomeRef {
    Commit { repo: String, sha: String },
    PullRequest { repo: String, number: u64 },
}

impl OutcomeRef {
    pub fn repo(&self) -> &str {
        match self {
            OutcomeRef::Commit { repo, .. } | OutcomeRef::PullRequest { repo, .. } => repo,
        }
    }
}

/// How a link was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// The session id in a commit trailer (`Freight-Session`, which `freight hook` writes;
    /// `Claude-Session`, ...) or a git-ai note (`refs/notes/ai`).
    Trailer { trailer: String },
    /// Same person and repository, inside the session's window plus grace; the reasons that held.
    Heuristic { reasons: Vec<&'static str> },
}

impl Evidence {
    pub fn is_exact(&self) -> bool {
        !matches!(self, Evidence::Heuristic { .. })
    }

    pub fn level(&self) -> &'static str {
        if self.is_exact() { "exact" } else { "heuristic" }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub session: String,
    pub outcome: OutcomeRef,
    pub evidence: Evidence,
    /// 1.0 for exact links; below for heuristic ones.
    pub confidence: f64,
}

/// Knobs of the heuristic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkRules {
    /// How long after a session's last call a commit may still be its work.
    pub grace_ms: Millis,
    /// Heuristic links below this confidence are not made.
    pub min_confidence: f64,
}

impl Default for LinkRules {
    fn default() -> LinkRules {
        LinkRules { grace_ms: 2 * 3_600_000, min_confidence: 0.5 }
    }
}

/// Which of `repos` a working directory is in: the deepest local work tree containing it, else
/// a repository whose name is the directory's last component (logs collected from another
/// machine). The flag says whether the match was by path.
pub fn repo_of_cwd<'r>(cwd: &str, repos: &'r [RepoPlace]) -> Option<(&'r RepoPlace, bool)> {
    RepoIndex::new(repos).find(cwd)
}

/// Repositories by work tree and by name, to place many sessions' directories (a lookup per
/// ancestor of the directory, not a comparison with every repository).
pub struct RepoIndex<'r> {
    by_root: HashMap<&'r str, &'r RepoPlace>,
    by_name: HashMap<&'r str, &'r RepoPlace>,
}

impl<'r> RepoIndex<'r> {
    pub fn new(repos: &'r [RepoPlace]) -> RepoIndex<'r> {
        let mut by_root = HashMap::new();
        let mut by_name = HashMap::new();
        for repo in repos {
            if let Some(root) = repo.workdir.as_deref() {
                by_root.entry(root.trim_end_matches('/')).or_insert(repo);
            }
            by_name.entry(repo.name.as_str()).or_insert(repo);
        }
        RepoIndex { by_root, by_name }
    }

    /// See [`repo_of_cwd`].
    pub fn find(&self, cwd: &str) -> Option<(&'r RepoPlace, bool)> {
        let cwd = cwd.trim_end_matches('/');
        let mut path = cwd;
        loop {
            if let Some(repo) = self.by_root.get(path) {
                return Some((repo, true));
            }
            match path.rfind('/') {
                Some(cut) if cut > 0 => path = &path[..cut],
                Some(_) => {
                    if let Some(repo) = self.by_root.get("") {
                        return Some((repo, true));
                    }
                    break;
                }
                None => break,
            }
        }
        let leaf = cwd.rsplit('/').next()?;
        self.by_name.get(leaf).map(|repo| (*repo, false))
    }
}

fn agent_matches(tool: &str, agents: &[AiAgent]) -> bool {
    agents.iter().any(|agent| match agent {
        AiAgent::ClaudeCode => tool == "claude-code",
        AiAgent::Codex => tool == "codex",
        _ => false,
    })
}

/// The outcomes sessions can be linked to, and where they happened.
#[derive(Debug, Clone, Copy)]
pub struct LinkInputs<'a> {
    pub commits: &'a [Commit],
    /// The person the directory resolved each commit's author to (None when unknown).
    pub commit_people: &'a [Option<String>],
    pub pulls: &'a [PullRequest],
    pub pull_people: &'a [Option<String>],
    pub repos: &'a [RepoPlace],
}

/// Links sessions to commits and pull requests. Exact links (trailers, notes) come first; a
/// session or commit with an exact link gets no heuristic ones.
pub fn link_sessions(sessions: &[SessionWindow], inputs: LinkInputs<'_>, rules: LinkRules) -> Vec<Link> {
    Linker::new(inputs, rules).link(sessions, inputs)
}

/// A heuristic link a session could have, before the exact links of the sessions it is
/// linked with are known: a commit that one of those names in a trailer is theirs, not a
/// candidate of anyone else's.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The commit's index in the inputs (None for a pull request).
    pub commit: Option<usize>,
    pub link: Link,
}

/// The exact links of a set of sessions, and what they take out of the heuristic ones.
#[derive(Debug, Default)]
pub struct ExactLinks {
    /// In commit order, each commit's trailers in order.
    pub links: Vec<Link>,
    /// Commits that name one of the sessions.
    commits: foldhash::HashSet<usize>,
    /// By the sessions' positions: whether some commit names the session.
    named: Vec<bool>,
}

impl ExactLinks {
    /// Whether the session at `position` of those linked has exact links (and so gets no
    /// heuristic ones).
    pub fn has_session(&self, position: usize) -> bool {
        self.named.get(position).copied().unwrap_or(false)
    }

    /// Whether a candidate stands beside these exact links (its commit names none of the sessions).
    pub fn admits(&self, candidate: &Candidate) -> bool {
        candidate.commit.is_none_or(|commit| !self.commits.contains(&commit))
    }
}

/// The outcomes indexed for linking: commits by repository and time, pull requests by
/// (repository, branch), and every trailer. Built once for a set of inputs; a caller that
/// links many sets of sessions against the same outcomes (a server answering periods) keeps
/// one, with each session's candidates.
#[derive(Debug)]
pub struct Linker {
    rules: LinkRules,
    /// Per repository: non-merge commits by authored and by committed time, as (time, index).
    by_repo: foldhash::HashMap<String, [Vec<(Millis, usize)>; 2]>,
    /// Pull requests by repository and head branch.
    pulls_by_branch: foldhash::HashMap<String, foldhash::HashMap<String, Vec<usize>>>,
    /// (commit index, trailer position) of each session a commit names, the first time it does.
    trailers: Vec<(usize, usize)>,
}

impl Linker {
    pub fn new(inputs: LinkInputs<'_>, rules: LinkRules) -> Linker {
        let LinkInputs { commits, pulls, .. } = inputs;
        let mut by_repo: foldhash::HashMap<String, [Vec<(Millis, usize)>; 2]> = Default::default();
        let mut trailers = Vec::new();
        for (index, commit) in commits.iter().enumerate() {
            for (position, trailer) in commit.sessions.iter().enumerate() {
                if !commit.sessions[..position].iter().any(|earlier| earlier.session == trailer.session) {
                    trailers.push((index, position));
                }
            }
            if commit.is_merge() {
                continue;
            }
            let lists = match by_repo.get_mut(commit.repo.as_str()) {
                Some(lists) => lists,
                None => by_repo.entry(commit.repo.clone()).or_default(),
            };
            lists[0].push((commit.authored_at, index));
            lists[1].push((commit.committed_at, index));
        }
        for lists in by_repo.values_mut() {
            lists[0].sort_unstable();
            lists[1].sort_unstable();
        }
        let mut pulls_by_branch: foldhash::HashMap<String, foldhash::HashMap<String, Vec<usize>>> = Default::default();
        for (index, pull) in pulls.iter().enumerate() {
            if let Some(branch) = pull.head_branch.as_deref() {
                let branches = pulls_by_branch.entry(pull.repo.clone()).or_default();
                branches.entry(branch.to_string()).or_default().push(index);
            }
        }
        Linker { rules, by_repo, pulls_by_branch, trailers }
    }

    /// The links of `sessions` against the inputs this linker indexes: exact ones first, then
    /// each session's heuristic ones, in session order.
    pub fn link(&self, sessions: &[SessionWindow], inputs: LinkInputs<'_>) -> Vec<Link> {
        use rayon::prelude::*;
        let mut exact = self.exact(sessions, inputs);
        let repos = RepoIndex::new(inputs.repos);
        let mut links = std::mem::take(&mut exact.links);
        let heuristic: Vec<Link> = sessions
            .par_iter()
            .enumerate()
            .filter(|(position, _)| !exact.has_session(*position))
            .flat_map_iter(|(_, session)| {
                self.candidates(session, inputs, &repos).into_iter().filter(|c| exact.admits(c)).map(|c| c.link)
            })
            .collect();
        links.extend(heuristic);
        links
    }

    /// The exact links of `sessions`: each (session, commit) a trailer names, once.
    pub fn exact(&self, sessions: &[SessionWindow], inputs: LinkInputs<'_>) -> ExactLinks {
        let known: foldhash::HashSet<&str> = sessions.iter().map(|s| s.session.as_str()).collect();
        let mut named: foldhash::HashSet<&str> = Default::default();
        let mut exact = ExactLinks::default();
        for &(index, position) in &self.trailers {
            let commit = &inputs.commits[index];
            let trailer = &commit.sessions[position];
            let Some(&session) = known.get(trailer.session.as_str()) else {
                continue;
            };
            exact.commits.insert(index);
            named.insert(session);
            exact.links.push(Link {
                session: trailer.session.clone(),
                outcome: OutcomeRef::Commit { repo: commit.repo.clone(), sha: commit.sha.clone() },
                evidence: Evidence::Trailer { trailer: trailer.trailer.clone() },
                confidence: 1.0,
            });
        }
        exact.named = sessions.iter().map(|s| named.contains(s.session.as_str())).collect();
        exact
    }

    /// The heuristic links `session` could have, whatever other sessions are linked beside it:
    /// commits by commit order, then pull requests. [`ExactLinks::admits`] says which stand.
    /// `repos` indexes the inputs' repositories.
    pub fn candidates(&self, session: &SessionWindow, inputs: LinkInputs<'_>, repos: &RepoIndex<'_>) -> Vec<Candidate> {
        let LinkInputs { commits, commit_people, pulls, pull_people, .. } = inputs;
        let rules = self.rules;
        let mut links = Vec::new();
        let places: Vec<(&RepoPlace, bool)> = session.cwds.iter().filter_map(|cwd| repos.find(cwd)).collect();
        if places.is_empty() {
            return links;
        }
        let window_end = session.last_ts + rules.grace_ms;
        let mut candidates: Vec<usize> = Vec::new();
        for (position, (repo, _)) in places.iter().enumerate() {
            if places[..position].iter().any(|(earlier, _)| earlier.name == repo.name) {
                continue;
            }
            let Some(lists) = self.by_repo.get(repo.name.as_str()) else { continue };
            for list in lists {
                let from = list.partition_point(|&(t, _)| t < session.first_ts);
                let to = list.partition_point(|&(t, _)| t <= window_end);
                candidates.extend(list[from..to].iter().map(|&(_, index)| index));
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for index in candidates {
            let (commit, person) = (&commits[index], &commit_people[index]);
            let Some(&(_, by_path)) = places.iter().find(|(repo, _)| repo.name == commit.repo) else { continue };
            let in_window = |t: Millis| t >= session.first_ts && t <= window_end;
            if !in_window(commit.authored_at) && !in_window(commit.committed_at) {
                continue;
            }
            let mut reasons = vec![if by_path { "same checkout" } else { "same repository name" }];
            let mut confidence = if by_path { 0.6 } else { 0.5 };
            match (&session.person, person) {
                (Some(a), Some(b)) if a == b => {
                    reasons.push("same person");
                    confidence += 0.2;
                }
                (Some(_), Some(_)) => continue,
                _ => {}
            }
            if agent_matches(&session.tool, &commit.agents) {
                reasons.push("agent co-author trailer");
                confidence += 0.15;
            }
            if commit.authored_at <= session.last_ts || commit.committed_at <= session.last_ts {
                reasons.push("during the session");
                confidence += 0.05;
            }
            if confidence < rules.min_confidence {
                continue;
            }
            links.push(Candidate {
                commit: Some(index),
                link: Link {
                    session: session.session.clone(),
                    outcome: OutcomeRef::Commit { repo: commit.repo.clone(), sha: commit.sha.clone() },
                    evidence: Evidence::Heuristic { reasons },
                    confidence: confidence.min(0.95),
                },
            });
        }
        // Pull requests: the session worked on the PR's head branch in its repository.
        let mut on_branches: Vec<usize> = Vec::new();
        for branch in &session.branches {
            for (position, (repo, _)) in places.iter().enumerate() {
                if places[..position].iter().any(|(earlier, _)| earlier.name == repo.name) {
                    continue;
                }
                if let Some(found) = self.pulls_by_branch.get(repo.name.as_str()).and_then(|b| b.get(branch.as_str())) {
                    on_branches.extend(found);
                }
            }
        }
        on_branches.sort_unstable();
        on_branches.dedup();
        for index in on_branches {
            let (pull, person) = (&pulls[index], &pull_people[index]);
            let mut reasons = vec!["session on the pull request's branch"];
            let mut confidence = 0.75;
            match (&session.person, person) {
                (Some(a), Some(b)) if a == b => {
                    reasons.push("same person");
                    confidence += 0.15;
                }
                (Some(_), Some(_)) => continue,
                _ => {}
            }
            links.push(Candidate {
                commit: None,
                link: Link {
                    session: session.session.clone(),
                    outcome: OutcomeRef::PullRequest { repo: pull.repo.clone(), number: pull.number },
                    evidence: Evidence::Heuristic { reasons },
                    confidence,
                },
            });
        }
        links
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::SessionTrailer;

    const HOUR: Millis = 3_600_000;

    fn session(id: &str, person: Option<&str>, cwd: &str, from: Millis, to: Millis) -> SessionWindow {
        SessionWindow {
            session: id.into(),
            tool: "claude-code".into(),
            person: person.map(str::to_string),
            cwds: vec![cwd.into()],
            branches: vec!["feature/x".into()],
            first_ts: from,
            last_ts: to,
        }
    }

    fn commit(sha: &str, at: Millis, sessions: &[&str]) -> Commit {
        Commit {
            repo: "payments".into(),
            sha: sha.into(),
            author_name: "A".into(),
            author_email: "a@x".into(),
            authored_at: at,
            committed_at: at,
            summary: String::new(),
            parents: 1,
            lines_added: 10,
            lines_removed: 2,
            files_changed: 1,
            agents: vec![],
            sessions: sessions
                .iter()
                .map(|s| SessionTrailer { trailer: "Freight-Session".into(), session: (*s).into() })
                .collect(),
            reverts: None,
        }
    }

    fn repos() -> Vec<RepoPlace> {
        vec![RepoPlace { name: "payments".into(), workdir: Some("/home/alice/src/payments".into()) }]
    }

    fn run(sessions: &[SessionWindow], commits: &[Commit], people: &[Option<String>]) -> Vec<Link> {
        let repos = repos();
        let inputs = LinkInputs { commits, commit_people: people, pulls: &[], pull_people: &[], repos: &repos };
        link_sessions(sessions, inputs, LinkRules::default())
    }

    #[test]
    fn a_trailer_links_exactly_and_suppresses_guesses() {
        let sessions = [session("s1", Some("alice"), "/home/alice/src/payments", 0, HOUR)];
        let commits = [commit("c1", HOUR / 2, &["s1"]), commit("c2", HOUR / 2, &[])];
        let links = run(&sessions, &commits, &[Some("alice".into()), Some("alice".into())]);
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].evidence, Evidence::Trailer { trailer: "Freight-Session".into() });
        assert_eq!(links[0].confidence, 1.0);
    }

    #[test]
    fn heuristic_needs_same_person_repo_and_window() {
        let sessions = [session("s1", Some("alice"), "/home/alice/src/payments/src", 0, HOUR)];
        let commits = [
            commit("inside", HOUR / 2, &[]),
            commit("grace", HOUR + HOUR, &[]),
            commit("late", HOUR + 3 * HOUR, &[]),
            commit("other-person", HOUR / 2, &[]),
            commit("unknown-author", HOUR / 2, &[]),
        ];
        let people = [Some("alice".into()), Some("alice".into()), Some("alice".into()), Some("bilal".into()), None];
        let links = run(&sessions, &commits, &people);
        let linked: Vec<&str> = links
            .iter()
            .map(|link| match &link.outcome {
                OutcomeRef::Commit { sha, .. } => sha.as_str(),
                OutcomeRef::PullRequest { .. } => "pr",
            })
            .collect();
        assert_eq!(linked, vec!["inside", "grace", "unknown-author"]);
        assert!(links[0].confidence > links[1].confidence, "during the session beats grace");
        assert!(links[2].confidence < links[0].confidence, "unknown author is less sure");
    }

    #[test]
    fn a_session_across_midnight_links_a_commit_made_after_it() {
        // 2026-11-20T23:30Z to 2026-11-21T00:40Z. Windows are UTC instants, so neither the
        // date change nor the author's zone matters: a commit at 09:10+09:00 on the 21st is
        // 00:10Z, inside the window.
        let start = 1_795_217_400_000; // 2026-11-20T23:30:00Z
        let sessions = [session("night", Some("alice"), "/home/alice/src/payments", start, start + 70 * 60_000)];
        let commits = [commit("tokyo", start + 40 * 60_000, &[])];
        let links = run(&sessions, &commits, &[Some("alice".into())]);
        assert_eq!(links.len(), 1, "{links:?}");
        assert!(
            matches!(&links[0].evidence, Evidence::Heuristic { reasons } if reasons.contains(&"during the session"))
        );
    }

    #[test]
    fn collected_logs_match_repositories_by_name() {
        let repos = repos();
        assert_eq!(
            repo_of_cwd("/home/lena/src/payments", &repos).map(|(r, by_path)| (r.name.as_str(), by_path)),
            Some(("payments", false))
        );
        assert_eq!(repo_of_cwd("/home/alice/src/payments/api", &repos).map(|(_, by_path)| by_path), Some(true));
        assert!(repo_of_cwd("/home/alice/src/payments-old", &repos).is_none());
    }

    #[test]
    fn sessions_on_a_pull_requests_branch_link_to_it() {
        let sessions = [session("s1", Some("alice"), "/home/alice/src/payments", 0, HOUR)];
        let pull = PullRequest {
            repo: "payments".into(),
            number: 7,
            author: "alice".into(),
            head_branch: Some("feature/x".into()),
            opened_at: HOUR,
            merged_at: None,
            closed_at: Some(5 * HOUR),
            merge_sha: None,
            lines_added: 40,
            lines_removed: 0,
            review_minutes: None,
        };
        let repos = repos();
        let inputs = LinkInputs {
            commits: &[],
            commit_people: &[],
            pulls: std::slice::from_ref(&pull),
            pull_people: &[Some("alice".into())],
            repos: &repos,
        };
        let links = link_sessions(&sessions, inputs, LinkRules::default());
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].outcome, OutcomeRef::PullRequest { repo: "payments".into(), number: 7 });
    }
}
