//! Outcomes from git with gix (no git CLI): each repository's main-branch commits with their
//! trailers, reverts, git-ai notes and surviving lines ([`mine`]); and a small writer that
//! builds real repositories for tests and the demo organisation ([`write`]).

pub mod mine;
pub mod notes;
pub mod write;

pub use freight_core::outcome::Survival;
pub use mine::{MineOptions, MinedRepo, branch_tip, mine};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{repo}: {what}: {message}")]
    Read { repo: std::path::PathBuf, what: &'static str, message: String },
    #[error("{repo}: no main branch found (tried {tried:?}); name one with --branch")]
    NoBranch { repo: std::path::PathBuf, tried: Vec<String> },
    #[error("writing a repository at {repo}: {message}")]
    Write { repo: std::path::PathBuf, message: String },
}

pub type Result<T> = std::result::Result<T, GitError>;

/// The work tree of the git repository around `start` (itself or a parent), if there is one.
pub fn discover_workdir(start: &std::path::Path) -> Option<std::path::PathBuf> {
    let repo = gix::discover(start).ok()?;
    repo.workdir().map(std::path::Path::to_path_buf)
}

/// The `.git` directory of the repository around `start`, if there is one (for hooks' records).
pub fn git_dir(start: &std::path::Path) -> Option<std::path::PathBuf> {
    let repo = gix::discover(start).ok()?;
    Some(repo.path().to_path_buf())
}
