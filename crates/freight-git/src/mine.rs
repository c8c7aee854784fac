//! Reads one repository's main-branch history into [`Commit`]s: author and times, lines
//! added/removed against the first parent, agent and session trailers, reverts, git-ai notes;
//! and, for AI-assisted commits, how many of their added lines survive at the as-of tip (blame).

use crate::notes::{AiNote, read_ai_notes};
use crate::{GitError, Result};
use freight_core::outcome::{Commit, Millis, SessionTrailer, Survival, parse_trailers};
use gix::bstr::{BString, ByteSlice};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What to read.
#[derive(Debug, Clone, Default)]
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
    for info in walk {
        let info = info.at(path, "walking history")?;
        let object = info.object().at(path, "reading a commit")?;
        let committed_at = millis(object.time().at(path, "reading a commit time")?.seconds);
        if options.as_of.is_some_and(|as_of| committed_at > as_of) {
            continue;
        }
        let sha = info.id.to_string();
        let author = object.author().at(path, "reading an author")?;
        let authored_at = millis(author.time().at(path, "reading an author time")?.seconds);
        let (author_name, author_email) =
            (author.name.to_str_lossy().into_owned(), author.email.to_str_lossy().into_owned());
        let message = object.message_raw().at(path, "reading a message")?.to_str_lossy().into_owned();
        let parents: Vec<gix::ObjectId> = info.parent_ids().map(|id| id.detach()).collect();
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
    let tip_sha = commits.iter().max_by_key(|c| c.committed_at).map(|c| c.sha.clone());
    let survival = match (&tip_sha, options.survival) {
        (Some(tip), true) => surviving_lines(&repo, path, tip, &commits, &touched)?,
        _ => HashMap::new(),
    };
    Ok(MinedRepo { name, workdir, branch, user_email, commits, survival, tip: tip_sha })
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

/// Blames, at `tip`, every file changed since the first AI-assisted commit (a file an AI
/// commit wrote may live on under another name) and counts, per AI-assisted commit, the lines
/// still attributed to it (renames followed).
fn surviving_lines(
    repo: &gix::Repository,
    path: &Path,
    tip: &str,
    commits: &[Commit],
    touched: &HashMap<String, BTreeSet<BString>>,
) -> Result<HashMap<String, Survival>> {
    let tip_id = gix::ObjectId::from_hex(tip.as_bytes()).at(path, "reading the tip")?;
    let tip_tree = repo.find_commit(tip_id).at(path, "reading the tip")?.tree().at(path, "reading the tip tree")?;
    let ai_commits: Vec<&Commit> = commits.iter().filter(|c| c.ai_assisted() && c.lines_added > 0).collect();
    let Some(since) = ai_commits.iter().map(|c| c.committed_at).min() else {
        return Ok(HashMap::new());
    };
    let files: BTreeSet<&BString> =
        commits.iter().filter(|c| c.committed_at >= since).filter_map(|c| touched.get(&c.sha)).flatten().collect();
    let mut surviving: HashMap<String, u64> = HashMap::new();
    for file in files {
        let Ok(Some(_)) = tip_tree.lookup_entry_by_path(file.to_str_lossy().as_ref()) else { continue };
        let options = gix::repository::blame_file::Options {
            rewrites: Some(gix::diff::Rewrites::default()),
            ..Default::default()
        };
        let outcome = repo.blame_file(file.as_bstr(), tip_id, options).at(path, "blaming a file")?;
        for entry in &outcome.entries {
            *surviving.entry(entry.commit_id.to_string()).or_default() += u64::from(entry.len.get());
        }
    }
    Ok(ai_commits
        .into_iter()
        .map(|commit| {
            let kept = surviving.get(&commit.sha).copied().unwrap_or(0).min(commit.lines_added);
            (commit.sha.clone(), Survival { added: commit.lines_added, surviving: kept })
        })
        .collect())
}

/// The git-ai note of each commit that has one (re-exported for callers that want the detail).
pub type Notes = HashMap<String, AiNote>;
