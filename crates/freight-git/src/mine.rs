//! Reads one repository's main-branch history into [`Commit`]s: author and times, lines
//! added/removed against the first parent, agent and session trailers, reverts, git-ai notes;
//! and, for AI-assisted commits, how many of their added lines survive at the as-of tip (blame).

use crate::notes::read_ai_notes;
use crate::{GitError, Result};
use freight_core::outcome::{Commit, Millis, SessionTrailer, Survival, parse_trailers};
use gix::bstr::{BString, ByteSlice};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What to read.
#[derive(Debug, Clone)]
pub struct MineOptions {
    /// The branch whose history counts as shipped; default: `main`, `master`, then the
    /// remote's, then `HEAD`.
    pub branch: Option<String>,
    /// Commits after this time are not seen (a report as of a past date reads the past).
    pub as_of: Option<Millis>,
    /// Blame the files AI-assisted commits touched, to count their surviving lines.
    pub survival: bool,
    /// The repository's name in reports; default: its folder's name.
    pub name: Option<String>,
    /// With `survival`: lines of an AI-assisted commit rewritten within this long count as rework.
    pub rework_window_ms: i64,
}

impl MineOptions {
    pub const REWORK_WINDOW_MS: i64 = 14 * 86_400_000;
}

impl Default for MineOptions {
    fn default() -> MineOptions {
        MineOptions {
            branch: None,
            as_of: None,
            survival: false,
            name: None,
            rework_window_ms: MineOptions::REWORK_WINDOW_MS,
        }
    }
}

/// One repository's outcomes.
#[derive(Debug, Clone)]
pub struct MinedRepo {
    pub name: String,
    /// The work tree, for matching agent sessions' `cwd` (None for a bare repository).
    pub workdir: Option<PathBuf>,
    /// The ref the history was read from.
    pub branch: String,
    /// `user.email` from the repository's configuration: whose local agent logs these are.
    pub user_email: Option<String>,
    /// Newest first.
    pub commits: Vec<Commit>,
    /// By commit sha, for AI-assisted commits (only with `survival`).
    pub survival: HashMap<String, Survival>,
    /// The commit the survival was measured at.
    pub tip: Option<String>,
    /// The first-parent line of the branch as of the report, newest first.
    pub main_line: Vec<String>,
    /// For each commit, the position in `main_line` where it entered (itself, or the merge
    /// that brought it in): a deploy of `main_line[p]` ships every commit entered at `p` or later.
    pub entered: HashMap<String, usize>,
}

/// Names the repository and the step when a gix call fails.
trait At<T> {
    fn at(self, repo: &Path, what: &'static str) -> Result<T>;
}

impl<T, E: std::fmt::Display> At<T> for std::result::Result<T, E> {
    fn at(self, repo: &Path, what: &'static str) -> Result<T> {
        self.map_err(|error| GitError::Read { repo: repo.to_path_buf(), what, message: error.to_string() })
    }
}

/// Finds the branch to read: the one asked for, else the usual names.
fn main_tip(repo: &gix::Repository, path: &Path, branch: Option<&str>) -> Result<(String, gix::ObjectId)> {
    let candidates: Vec<String> = match branch {
        Some(name) => vec![name.to_string(), format!("refs/heads/{name}"), format!("refs/remotes/origin/{name}")],
        None => {
            ["refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master", "HEAD"]
                .map(String::from)
                .to_vec()
        }
    };
    for name in &candidates {
        if let Ok(id) = repo.rev_parse_single(name.as_str()) {
            return Ok((name.clone(), id.detach()));
        }
    }
    Err(GitError::NoBranch { repo: path.to_path_buf(), tried: candidates })
}

fn millis(seconds: i64) -> Millis {
    seconds.saturating_mul(1000)
}

/// The branch `mine` would read and the commit at its tip, without reading any history: cheap
/// enough to ask before every report whether a kept mining result is still current.
pub fn branch_tip(path: &Path, branch: Option<&str>) -> Result<(String, String)> {
    let repo = gix::open(path).at(path, "opening the repository")?;
    let (name, tip) = main_tip(&repo, path, branch)?;
    Ok((name, tip.to_string()))
}

/// Reads a repository (a work tree or a bare repository at `path`).
pub fn mine(path: &Path, options: &MineOptions) -> Result<MinedRepo> {
    let mut repo = gix::open(path).at(path, "opening the repository")?;
    repo.object_cache_size_if_unset(32 * 1024 * 1024);
    let name = options.name.clone().unwrap_or_else(|| repo_name(&repo, path));
    let workdir = repo.workdir().map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
    let user_email = repo.config_snapshot().string("user.email").map(|email| email.to_str_lossy().into_owned());
    let (branch, tip) = main_tip(&repo, path, options.branch.as_deref())?;
    let notes = read_ai_notes(&repo).map_err(|message| GitError::Read {
        repo: path.to_path_buf(),
        what: "refs/notes/ai",
        message,
    })?;

    let mut cache = repo.diff_resource_cache_for_tree_diff().at(path, "setting up diffs")?;
    let walk = repo
        .rev_walk([tip])
        .sorting(gix::revision::walk::Sorting::ByCommitTime(Default::default()))
        .all()
        .at(path, "walking history")?;
    let mut commits = Vec::new();
    let mut touched: HashMap<String, BTreeSet<BString>> = HashMap::new();
    let mut parent_map: HashMap<String, Vec<String>> = HashMap::new();
    for info in walk {
        let info = info.at(path, "walking history")?;
        let object = info.object().at(path, "reading a commit")?;
        let committed_at = millis(object.time().at(path, "reading a commit time")?.seconds);
        let sha = info.id.to_string();
        let parents: Vec<gix::ObjectId> = info.parent_ids().map(|id| id.detach()).collect();
        // Kept for every commit, so the main line can be followed past those after `as_of`.
        parent_map.insert(sha.clone(), parents.iter().map(ToString::to_string).collect());
        if options.as_of.is_some_and(|as_of| committed_at > as_of) {
            continue;
        }
        let author = object.author().at(path, "reading an author")?;
        let authored_at = millis(author.time().at(path, "reading an author time")?.seconds);
        let (author_name, author_email) =
            (author.name.to_str_lossy().into_owned(), author.email.to_str_lossy().into_owned());
        let message = object.message_raw().at(path, "reading a message")?.to_str_lossy().into_owned();
        let (mut agents, mut sessions, reverts) = parse_trailers(&message);
        let note = notes.get(&sha);
        if let Some(note) = note {
            for agent in &note.agents {
                if !agents.contains(agent) {
                    agents.push(*agent);
                }
            }
            for session in &note.sessions {
                let mark = SessionTrailer { trailer: crate::notes::AI_NOTES_REF.into(), session: session.clone() };
                if !sessions.contains(&mark) {
                    sessions.push(mark);
                }
            }
        }
        let (mut lines_added, mut lines_removed, mut files_changed) = (0, 0, 0);
        // A merge's lines are those of the commits it brings in, counted on them.
        if parents.len() <= 1 {
            let new_tree = object.tree().at(path, "reading a tree")?;
            let old_tree = match parents.first() {
                Some(parent) => {
                    repo.find_commit(*parent).at(path, "reading a parent")?.tree().at(path, "reading a tree")?
                }
                None => repo.empty_tree(),
            };
            let mut changes = old_tree.changes().at(path, "diffing trees")?;
            changes.options(|opts| {
                opts.track_rewrites(None);
            });
            changes
                .for_each_to_obtain_tree(&new_tree, |change| -> gix::Result<_> {
                    if change.entry_mode().is_blob_or_symlink() {
                        files_changed += 1;
                        if let Some((added, removed)) = line_counts(change.diff(&mut cache)?)? {
                            lines_added += u64::from(added);
                            lines_removed += u64::from(removed);
                        }
                        touched.entry(sha.clone()).or_default().insert(change.location().to_owned());
                    }
                    cache.clear_resource_cache_keep_allocation();
                    Ok(std::ops::ControlFlow::Continue(()))
                })
                .at(path, "diffing trees")?;
        }
        commits.push(Commit {
            repo: name.clone(),
            sha,
            author_name,
            author_email,
            authored_at,
            committed_at,
            summary: message.lines().next().unwrap_or_default().to_string(),
            parents: parents.len(),
            lines_added,
            lines_removed,
            files_changed,
            agents,
            sessions,
            reverts,
        });
    }
    let chain = main_line(&tip.to_string(), &parent_map, &commits);
    let entered = entry_points(&chain, &commits, &parent_map);
    let tip_sha = chain.first().map(|&i| commits[i].sha.clone());
    let survival = match options.survival && !chain.is_empty() {
        true => {
            let mut blamer = Blamer { repo: &repo, path, cache: HashMap::new() };
            surviving_lines(&mut blamer, &commits, &touched, &chain, &entered, options.rework_window_ms)?
        }
        false => HashMap::new(),
    };
    let main_line = chain.iter().map(|&i| commits[i].sha.clone()).collect();
    Ok(MinedRepo { name, workdir, branch, user_email, commits, survival, tip: tip_sha, main_line, entered })
}

/// Lines added and removed in one file, counted as `git diff --numstat` counts them (line
/// endings kept, so a file gaining its last newline changes a line); None for binary files.
fn line_counts(platform: gix::object::blob::diff::Platform<'_>) -> gix::Result<Option<(u32, u32)>> {
    use gix::diff::blob::{Diff, InternedInput, platform::prepare_diff::Operation};
    platform.resource_cache.options.skip_internal_diff_if_external_is_configured = false;
    let prepared = platform.resource_cache.prepare_diff()?;
    Ok(match prepared.operation {
        Operation::InternalDiff { algorithm } => {
            let input = InternedInput::new(prepared.old.intern_source(), prepared.new.intern_source());
            let diff = Diff::compute(algorithm, &input);
            Some((diff.count_additions(), diff.count_removals()))
        }
        Operation::SourceOrDestinationIsBinary | Operation::ExternalCommand { .. } => None,
    })
}

fn repo_name(repo: &gix::Repository, path: &Path) -> String {
    let dir = repo.workdir().map_or_else(|| repo.path().to_path_buf(), Path::to_path_buf);
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    name.strip_suffix(".git").map(str::to_string).unwrap_or(name)
}

/// The main line as of the report: the first-parent chain from the branch tip, newest first,
/// as indexes into `commits` (commits after the as-of time were left out of `commits`, so the
/// chain starts at the newest one that was kept).
fn main_line(tip: &str, parents: &HashMap<String, Vec<String>>, commits: &[Commit]) -> Vec<usize> {
    let index: HashMap<&str, usize> = commits.iter().enumerate().map(|(i, c)| (c.sha.as_str(), i)).collect();
    let mut chain = Vec::new();
    let mut at = Some(tip.to_string());
    while let Some(sha) = at {
        if let Some(&i) = index.get(sha.as_str()) {
            chain.push(i);
        }
        at = parents.get(&sha).and_then(|list| list.first().cloned());
    }
    chain
}

/// Where each commit entered the main line: its position in `chain` (itself, or the merge
/// that brought it in).
fn entry_points(chain: &[usize], commits: &[Commit], parents: &HashMap<String, Vec<String>>) -> HashMap<String, usize> {
    let mut entry: HashMap<String, usize> = HashMap::new();
    for (position, &i) in chain.iter().enumerate() {
        entry.insert(commits[i].sha.clone(), position);
    }
    // Oldest merge first, so a commit belongs to the first merge that brought it in.
    for (position, &i) in chain.iter().enumerate().rev() {
        let mut stack: Vec<String> =
            parents.get(&commits[i].sha).map(|list| list.iter().skip(1).cloned().collect()).unwrap_or_default();
        while let Some(sha) = stack.pop() {
            if entry.contains_key(&sha) {
                continue;
            }
            entry.insert(sha.clone(), position);
            stack.extend(parents.get(&sha).into_iter().flatten().cloned());
        }
    }
    entry
}

/// Blame results per (commit, file): lines attributed to each commit.
struct Blamer<'r> {
    repo: &'r gix::Repository,
    path: &'r Path,
    cache: HashMap<(String, BString), HashMap<String, u64>>,
}

impl Blamer<'_> {
    /// Lines attributed to each commit, over `files` as they are at `at` (files absent there
    /// count nothing).
    fn lines_by_commit<'f>(
        &mut self,
        at: &str,
        files: impl IntoIterator<Item = &'f BString>,
    ) -> Result<HashMap<String, u64>> {
        let at_id = gix::ObjectId::from_hex(at.as_bytes()).at(self.path, "reading a commit id")?;
        let tree =
            self.repo.find_commit(at_id).at(self.path, "reading a commit")?.tree().at(self.path, "reading a tree")?;
        let mut totals: HashMap<String, u64> = HashMap::new();
        for file in files {
            let key = (at.to_string(), file.clone());
            if !self.cache.contains_key(&key) {
                let mut counts: HashMap<String, u64> = HashMap::new();
                if let Ok(Some(_)) = tree.lookup_entry_by_path(file.to_str_lossy().as_ref()) {
                    let options = gix::repository::blame_file::Options {
                        rewrites: Some(gix::diff::Rewrites::default()),
                        ..Default::default()
                    };
                    let outcome =
                        self.repo.blame_file(file.as_bstr(), at_id, options).at(self.path, "blaming a file")?;
                    for entry in &outcome.entries {
                        *counts.entry(entry.commit_id.to_string()).or_default() += u64::from(entry.len.get());
                    }
                }
                self.cache.insert(key.clone(), counts);
            }
            for (commit, lines) in &self.cache[&key] {
                *totals.entry(commit.clone()).or_default() += lines;
            }
        }
        Ok(totals)
    }
}

/// For each AI-assisted commit: of its added lines, how many survive at the main line's tip,
/// and how many were rewritten within `window` of reaching the main line (measured at the
/// newest main-line commit inside the window). Files changed after the
/// commit are blamed too, since its lines may live on under another name (renames followed).
fn surviving_lines(
    blamer: &mut Blamer<'_>,
    commits: &[Commit],
    touched: &HashMap<String, BTreeSet<BString>>,
    chain: &[usize],
    entry: &HashMap<String, usize>,
    window: i64,
) -> Result<HashMap<String, Survival>> {
    let ai_commits: Vec<&Commit> = commits.iter().filter(|c| c.ai_assisted() && c.lines_added > 0).collect();
    let Some(since) = ai_commits.iter().map(|c| c.committed_at).min() else {
        return Ok(HashMap::new());
    };
    let files_between = |from: i64, to: i64| -> BTreeSet<&BString> {
        commits
            .iter()
            .filter(|c| c.committed_at >= from && c.committed_at <= to)
            .filter_map(|c| touched.get(&c.sha))
            .flatten()
            .collect()
    };
    let tip = &commits[chain[0]];
    let at_tip = blamer.lines_by_commit(&tip.sha, files_between(since, tip.committed_at))?;
    let mut survival = HashMap::new();
    for commit in ai_commits {
        let surviving = at_tip.get(&commit.sha).copied().unwrap_or(0).min(commit.lines_added);
        let reworked = match entry.get(&commit.sha) {
            Some(&entered) => {
                // The window opens when the commit reached the main line (a branch merged later
                // ships its lines then).
                let limit = commits[chain[entered]].committed_at.max(commit.committed_at) + window;
                // The newest main-line commit within the window, from the entry point on.
                let position = (0..=entered)
                    .rev()
                    .take_while(|&p| commits[chain[p]].committed_at <= limit)
                    .last()
                    .unwrap_or(entered);
                let then = &commits[chain[position]];
                let kept = blamer
                    .lines_by_commit(&then.sha, files_between(commit.committed_at, then.committed_at))?
                    .get(&commit.sha)
                    .copied()
                    .unwrap_or(0)
                    .min(commit.lines_added);
                Some(commit.lines_added - kept)
            }
            None => None,
        };
        survival.insert(commit.sha.clone(), Survival { added: commit.lines_added, surviving, reworked });
    }
    Ok(survival)
}
