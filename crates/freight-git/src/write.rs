//! Writes real git repositories without a git CLI: commits with given authors, times and
//! messages on named branches, merges, notes and `user.email`. The demo organisation and the
//! tests build their histories with it.

use crate::{GitError, Result};
use gix::objs::tree::EntryKind;
use std::path::{Path, PathBuf};

/// One file's new content in a commit; `None` deletes it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub path: &'a str,
    pub content: Option<&'a str>,
}

/// Who made a commit, and when (seconds since the epoch, UTC offset in seconds).
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub seconds: i64,
    pub offset: i32,
}

pub struct RepoWriter {
    repo: gix::Repository,
    path: PathBuf,
}

fn failed(path: &Path) -> impl Fn(&dyn std::fmt::Display) -> GitError + '_ {
    move |error| GitError::Write { repo: path.to_path_buf(), message: error.to_string() }
}

impl RepoWriter {
    /// A new repository with a work tree at `path` (its files are not checked out: history only).
    pub fn init(path: &Path) -> Result<RepoWriter> {
        let repo = gix::init(path).map_err(|e| failed(path)(&e))?;
        Ok(RepoWriter { repo, path: path.to_path_buf() })
    }

    fn tip(&self, branch: &str) -> Option<gix::ObjectId> {
        let mut reference = self.repo.find_reference(&format!("refs/heads/{branch}")).ok()?;
        reference.peel_to_id().ok().map(|id| id.detach())
    }

    /// Commits `changes` on `branch` (created at the first commit), authored and committed by
    /// `stamp`. Returns the new commit's sha.
    pub fn commit(&self, branch: &str, stamp: Stamp<'_>, message: &str, changes: &[Change<'_>]) -> Result<String> {
        let error = failed(&self.path);
        let parent = self.tip(branch);
        let base = match parent {
            Some(id) => self.repo.find_commit(id).and_then(|c| c.tree_id()).map_err(|e| error(&e))?.detach(),
            None => gix::ObjectId::empty_tree(self.repo.object_hash()),
        };
        let mut editor = self.repo.edit_tree(base).map_err(|e| error(&e))?;
        for change in changes {
            match change.content {
                Some(text) => {
                    let blob = self.repo.write_blob(text.as_bytes()).map_err(|e| error(&e))?.detach();
                    editor.upsert(change.path, EntryKind::Blob, blob).map_err(|e| error(&e))?;
                }
                None => {
                    editor.remove(change.path).map_err(|e| error(&e))?;
                }
            }
        }
        let tree = editor.write().map_err(|e| error(&e))?.detach();
        self.write_commit(&format!("refs/heads/{branch}"), stamp, message, tree, parent.into_iter().collect())
    }

    /// Points `branch` at `from`'s tip (a feature branch cut from main).
    pub fn branch_from(&self, branch: &str, from: &str) -> Result<()> {
        let error = failed(&self.path);
        let tip = self.tip(from).ok_or_else(|| error(&format!("no branch {from}")))?;
        self.repo
            .reference(format!("refs/heads/{branch}"), tip, gix::refs::transaction::PreviousValue::Any, "branch")
            .map_err(|e| error(&e))?;
        Ok(())
    }

    /// A merge commit on `into` with `from` as second parent, whose tree is `from`'s (the
    /// result of merging a branch cut from `into`'s tip, the way the demo cuts them).
    pub fn merge(&self, into: &str, from: &str, stamp: Stamp<'_>, message: &str) -> Result<String> {
        let error = failed(&self.path);
        let ours = self.tip(into).ok_or_else(|| error(&format!("no branch {into}")))?;
        let theirs = self.tip(from).ok_or_else(|| error(&format!("no branch {from}")))?;
        let tree = self.repo.find_commit(theirs).and_then(|c| c.tree_id()).map_err(|e| error(&e))?.detach();
        self.write_commit(&format!("refs/heads/{into}"), stamp, message, tree, vec![ours, theirs])
    }

    /// Writes a commit of `tree` with `parents`, authored and committed by `stamp`, and moves
    /// `reference` to it (its current value must be the first parent, as git requires).
    fn write_commit(
        &self,
        reference: &str,
        stamp: Stamp<'_>,
        message: &str,
        tree: gix::ObjectId,
        parents: Vec<gix::ObjectId>,
    ) -> Result<String> {
        let signature = gix::actor::Signature {
            name: stamp.name.into(),
            email: stamp.email.into(),
            time: gix::date::Time::new(stamp.seconds, stamp.offset),
        };
        let (mut author_time, mut committer_time) =
            (gix::date::parse::TimeBuf::default(), gix::date::parse::TimeBuf::default());
        let id = self
            .repo
            .commit_as(
                signature.to_ref(&mut committer_time),
                signature.to_ref(&mut author_time),
                reference,
                message,
                tree,
                parents,
            )
            .map_err(|e| failed(&self.path)(&e))?;
        Ok(id.to_string())
    }

    /// Sets `user.email` in the repository's own config (whose laptop this is).
    pub fn set_user_email(&self, email: &str) -> Result<()> {
        use std::io::Write;
        let config = self.repo.path().join("config");
        let mut file = std::fs::OpenOptions::new().append(true).open(&config).map_err(|e| failed(&self.path)(&e))?;
        writeln!(file, "[user]\n\temail = {email}").map_err(|e| failed(&self.path)(&e))
    }

    /// Adds (or replaces) `text` as the note of `sha` under `notes_ref`.
    pub fn add_note(&self, notes_ref: &str, sha: &str, text: &str, stamp: Stamp<'_>) -> Result<()> {
        let error = failed(&self.path);
        let target = gix::ObjectId::from_hex(sha.as_bytes()).map_err(|e| error(&e))?;
        let previous =
            self.repo.find_reference(notes_ref).ok().and_then(|mut r| r.peel_to_id().ok()).map(|id| id.detach());
        let base = match previous {
            Some(id) => self.repo.find_commit(id).and_then(|c| c.tree_id()).map_err(|e| error(&e))?.detach(),
            None => gix::ObjectId::empty_tree(self.repo.object_hash()),
        };
        let mut editor = self.repo.edit_tree(base).map_err(|e| error(&e))?;
        let blob = self.repo.write_blob(text.as_bytes()).map_err(|e| error(&e))?.detach();
        editor.upsert(target.to_string(), EntryKind::Blob, blob).map_err(|e| error(&e))?;
        let tree = editor.write().map_err(|e| error(&e))?.detach();
        self.write_commit(notes_ref, stamp, "Notes added", tree, previous.into_iter().collect()).map(drop)
    }
}
