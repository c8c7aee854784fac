//! Outcomes: what work produced — commits that reached the main branch (with the trailers that
//! say which agent and session helped), reverts, and pull requests — and the rules that settle
//! them as of a time (a revert of a revert restores the original).

use serde::Serialize;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// An agent named by a commit's `Co-Authored-By` trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AiAgent {
    ClaudeCode,
    Codex,
    Cursor,
    Copilot,
    Other,
}

impl AiAgent {
    pub fn as_str(self) -> &'static str {
        match self {
            AiAgent::ClaudeCode => "claude-code",
            AiAgent::Codex => "codex",
            AiAgent::Cursor => "cursor",
            AiAgent::Copilot => "copilot",
            AiAgent::Other => "other",
        }
    }

    /// The agent [`AiAgent::as_str`] names (anything else is `Other`).
    pub fn from_name(name: &str) -> AiAgent {
        match name {
            "claude-code" => AiAgent::ClaudeCode,
            "codex" => AiAgent::Codex,
            "cursor" => AiAgent::Cursor,
            "copilot" => AiAgent::Copilot,
            _ => AiAgent::Other,
        }
    }
}

/// A session named in a commit: by which trailer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SessionTrailer {
    /// `Freight-Session`, `Claude-Session`, ...
    pub trailer: String,
    pub session: String,
}

/// One commit reachable from a repository's main branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub repo: String,
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_at: Millis,
    pub committed_at: Millis,
    pub summary: String,
    pub parents: usize,
    /// Against the first parent (nothing for a merge commit's own line count: its lines
    /// are counted on the commits it brings in).
    pub lines_added: u64,
    pub lines_removed: u64,
    pub files_changed: u64,
    pub agents: Vec<AiAgent>,
    pub sessions: Vec<SessionTrailer>,
    /// The commit this one reverts (`This reverts commit <sha>.`).
    pub reverts: Option<String>,
}

impl Commit {
    pub fn is_merge(&self) -> bool {
        self.parents > 1
    }

    pub fn lines_changed(&self) -> u64 {
        self.lines_added + self.lines_removed
    }

    /// Written with an agent's help, by the commit's own account (trailers).
    pub fn ai_assisted(&self) -> bool {
        !self.agents.is_empty() || !self.sessions.is_empty()
    }
}

/// Reads the trailers freight cares about from a commit message: the last paragraph's
/// `Key: value` lines, keys compared without case, as git does.
pub fn parse_trailers(message: &str) -> (Vec<AiAgent>, Vec<SessionTrailer>, Option<String>) {
    let mut agents = Vec::new();
    let mut sessions = Vec::new();
    let trimmed = message.trim_end();
    let last_paragraph = trimmed.rsplit("\n\n").next().unwrap_or_default();
    // The subject alone is not a trailer block.
    let paragraph = if trimmed.contains("\n\n") { last_paragraph } else { "" };
    for line in paragraph.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let (key, value) = (key.trim(), value.trim());
        if key.contains(' ') || value.is_empty() {
            continue;
        }
        if key.eq_ignore_ascii_case("co-authored-by") {
            if let Some(agent) = agent_of(value)
                && !agents.contains(&agent)
            {
                agents.push(agent);
            }
        } else if key.eq_ignore_ascii_case("freight-session")
            || key.eq_ignore_ascii_case("claude-session")
            || key.eq_ignore_ascii_case("codex-session")
        {
            let trailer = SessionTrailer { trailer: key.to_string(), session: value.to_string() };
            if !sessions.contains(&trailer) {
                sessions.push(trailer);
            }
        }
    }
    (agents, sessions, reverted_sha(message))
}

/// Which agent a `Co-Authored-By` value names, if any.
fn agent_of(value: &str) -> Option<AiAgent> {
    let lower = value.to_lowercase();
    if lower.contains("noreply@anthropic.com") || lower.starts_with("claude") {
        Some(AiAgent::ClaudeCode)
    } else if lower.contains("cursoragent@cursor.com") || lower.starts_with("cursor") {
        Some(AiAgent::Cursor)
    } else if lower.contains("copilot") {
        Some(AiAgent::Copilot)
    } else if lower.contains("codex") || lower.contains("noreply@openai.com") {
        Some(AiAgent::Codex)
    } else if lower.contains("[bot]") || lower.contains("aider") || lower.contains("devin") {
        Some(AiAgent::Other)
    } else {
        None
    }
}

/// The sha in `This reverts commit <sha>.` (git's own revert message).
pub fn reverted_sha(message: &str) -> Option<String> {
    const MARK: &str = "This reverts commit ";
    let start = message.find(MARK)? + MARK.len();
    let sha: String = message[start..].chars().take_while(char::is_ascii_hexdigit).collect();
    (sha.len() >= 7).then(|| sha.to_lowercase())
}

/// How a commit stands as of a time, once reverts (and reverts of reverts) are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RevertState {
    /// Reverted by a revert that is itself in effect.
    pub reverted: bool,
    /// When the revert in effect was committed.
    pub reverted_at: Option<Millis>,
}

/// Settles reverts among `commits` as of `as_of`: a commit is reverted when a revert of it,
/// committed by then, is not itself reverted. Revert shas may be abbreviated.
pub fn settle_reverts(commits: &[Commit], as_of: Millis) -> Vec<RevertState> {
    let by_sha: foldhash::HashMap<(&str, &str), usize> =
        commits.iter().enumerate().map(|(i, commit)| ((commit.repo.as_str(), commit.sha.as_str()), i)).collect();
    let resolve = |repo: &str, sha: &str| -> Option<usize> {
        if let Some(&i) = by_sha.get(&(repo, sha)) {
            return Some(i);
        }
        // An abbreviated sha: unique prefix within the repository.
        let mut found = commits.iter().enumerate().filter(|(_, c)| c.repo == repo && c.sha.starts_with(sha));
        let first = found.next()?;
        found.next().is_none().then_some(first.0)
    };
    // reverters[i]: the commits that revert commit i, in time order.
    let mut reverters: Vec<Vec<usize>> = vec![Vec::new(); commits.len()];
    for (i, commit) in commits.iter().enumerate() {
        if commit.committed_at > as_of {
            continue;
        }
        if let Some(target) = commit.reverts.as_deref().and_then(|sha| resolve(&commit.repo, sha))
            && target != i
        {
            reverters[target].push(i);
        }
    }
    for list in &mut reverters {
        list.sort_by_key(|&i| (commits[i].committed_at, i));
    }
    let mut memo: Vec<Option<RevertState>> = vec![None; commits.len()];
    (0..commits.len()).map(|i| settle(i, &reverters, commits, &mut memo, 0)).collect()
}

fn settle(
    i: usize,
    reverters: &[Vec<usize>],
    commits: &[Commit],
    memo: &mut Vec<Option<RevertState>>,
    depth: usize,
) -> RevertState {
    if let Some(state) = memo[i] {
        return state;
    }
    // Reverts point at earlier commits, so chains end; the bound guards corrupt histories.
    let mut state = RevertState { reverted: false, reverted_at: None };
    if depth < 10_000 {
        for &reverter in &reverters[i] {
            if !settle(reverter, reverters, commits, memo, depth + 1).reverted {
                state = RevertState { reverted: true, reverted_at: Some(commits[reverter].committed_at) };
                break;
            }
        }
    }
    memo[i] = Some(state);
    state
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PullState {
    Open,
    Merged,
    /// Closed without merging: rejected work.
    ClosedUnmerged,
}

/// One pull request, as of the latest event seen for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullRequest {
    pub repo: String,
    pub number: u64,
    pub author: String,
    pub head_branch: Option<String>,
    pub opened_at: Millis,
    pub merged_at: Option<Millis>,
    pub closed_at: Option<Millis>,
    pub merge_sha: Option<String>,
    pub lines_added: u64,
    pub lines_removed: u64,
    /// Human review time the pull request took, when the source says.
    pub review_minutes: Option<u64>,
}

impl PullRequest {
    /// The state as of a time (a PR merged after `as_of` is still open then).
    pub fn state_as_of(&self, as_of: Millis) -> PullState {
        match (self.merged_at, self.closed_at) {
            (Some(merged), _) if merged <= as_of => PullState::Merged,
            (None, Some(closed)) if closed <= as_of => PullState::ClosedUnmerged,
            _ => PullState::Open,
        }
    }
}

/// A ticket that was resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: String,
    pub team: Option<String>,
    pub person: Option<String>,
    pub resolved_at: Millis,
    /// Story points or any size; 1 when not given.
    pub weight: f64,
}

/// Work that is not code: a support team's resolutions, a marketing team's campaigns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeEvent {
    pub kind: String,
    pub person: Option<String>,
    pub team: Option<String>,
    pub at: Millis,
    pub value: f64,
    pub unit: String,
}

/// A deployment of a repository's commit, as its last status said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deploy {
    pub repo: String,
    pub sha: Option<String>,
    pub environment: String,
    /// True for `success`; false for `failure` or `error`.
    pub succeeded: bool,
    pub at: Millis,
    pub creator: Option<String>,
}

/// An incident, and the change it was traced to when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub id: String,
    pub repo: Option<String>,
    pub team: Option<String>,
    pub opened_at: Millis,
    pub resolved_at: Option<Millis>,
    pub caused_by: Option<String>,
}

/// Of the lines a commit added, how many are still there at the as-of tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Survival {
    pub added: u64,
    pub surviving: u64,
    /// Of the added lines, how many were rewritten or deleted within the rework window after
    /// the commit (None when the commit's path to main could not be followed).
    pub reworked: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str, at: Millis, reverts: Option<&str>) -> Commit {
        Commit {
            repo: "r".into(),
            sha: sha.into(),
            author_name: "a".into(),
            author_email: "a@x".into(),
            authored_at: at,
            committed_at: at,
            summary: String::new(),
            parents: 1,
            lines_added: 1,
            lines_removed: 0,
            files_changed: 1,
            agents: vec![],
            sessions: vec![],
            reverts: reverts.map(str::to_string),
        }
    }

    #[test]
    fn reads_agent_and_session_trailers_from_the_last_paragraph() {
        let message = "Fix the retry loop\n\nBody text: not a trailer.\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nFreight-Session: 2ff46cd5-aa\nclaude-session: s2\nCo-authored-by: Dana <dana@acme.dev>\n";
        let (agents, sessions, reverts) = parse_trailers(message);
        assert_eq!(agents, vec![AiAgent::ClaudeCode]);
        assert_eq!(sessions.iter().map(|s| s.session.as_str()).collect::<Vec<_>>(), vec!["2ff46cd5-aa", "s2"]);
        assert_eq!(reverts, None);
        let (agents, ..) = parse_trailers("Subject only: Co-Authored-By: Claude");
        assert!(agents.is_empty(), "a subject is not a trailer block");
        let (agents, ..) = parse_trailers(
            "x\n\nCo-authored-by: Cursor <cursoragent@cursor.com>\nCo-authored-by: Copilot <1+Copilot@users.noreply.github.com>",
        );
        assert_eq!(agents, vec![AiAgent::Cursor, AiAgent::Copilot]);
    }

    #[test]
    fn reverts_of_reverts_restore_the_original() {
        let commits = vec![
            commit("aaaaaaa1", 10, None),
            commit("bbbbbbb2", 20, Some("aaaaaaa1")),
            commit("ccccccc3", 30, Some("bbbbbbb")), // abbreviated
        ];
        let states = settle_reverts(&commits, 100);
        assert_eq!(states[0], RevertState { reverted: false, reverted_at: None }, "revert was reverted");
        assert_eq!(states[1], RevertState { reverted: true, reverted_at: Some(30) });
        // Before the second revert, the first one stands.
        let states = settle_reverts(&commits, 25);
        assert_eq!(states[0], RevertState { reverted: true, reverted_at: Some(20) });
        assert!(!states[1].reverted);
    }

    #[test]
    fn reverted_sha_reads_gits_message() {
        assert_eq!(
            reverted_sha("Revert \"x\"\n\nThis reverts commit 0123456789ABCDEF0123456789abcdef01234567."),
            Some("0123456789abcdef0123456789abcdef01234567".into())
        );
        assert_eq!(reverted_sha("This reverts commit zz."), None);
    }

    #[test]
    fn pull_state_depends_on_as_of() {
        let pr = PullRequest {
            repo: "r".into(),
            number: 1,
            author: "a".into(),
            head_branch: None,
            opened_at: 0,
            merged_at: None,
            closed_at: Some(50),
            merge_sha: None,
            lines_added: 0,
            lines_removed: 0,
            review_minutes: None,
        };
        assert_eq!(pr.state_as_of(40), PullState::Open);
        assert_eq!(pr.state_as_of(50), PullState::ClosedUnmerged);
    }
}
