//! Mined repositories kept beside the event store. The server mines its registered
//! repositories on a schedule (and when a push or a registration says one changed); a report
//! over the store reads the kept result whenever it is exactly what mining now would give — the
//! same branch tip, the same options, and an as-of time after the newest commit — and mines
//! the repository itself otherwise.

use anyhow::Context;
use freight_analytics::attribution::Outcomes;
use freight_core::link::RepoPlace;
use freight_git::{MineOptions, MinedRepo};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where kept mining results live in a store's folder.
pub const MINED_DIR: &str = "outcomes/mined";
const RECORD_FILE: &str = "mined.json";
const FORMAT: u32 = 1;

/// What a mining result depends on besides the as-of time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MinedKey {
    path: PathBuf,
    branch: Option<String>,
    name: Option<String>,
    survival: bool,
    rework_window_ms: i64,
    /// The commit the branch pointed at.
    tip_id: String,
}

/// A kept result's description (written last: a folder without it is not a result).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MinedRecord {
    format: u32,
    key: MinedKey,
    /// Reports as of this time or later see every commit the result holds.
    newest_commit_ms: i64,
    mined_at_ms: i64,
    name: String,
    workdir: Option<PathBuf>,
    branch: String,
    user_email: Option<String>,
    tip: Option<String>,
    commits: usize,
}

impl MinedKey {
    fn of(path: &Path, options: &MineOptions) -> anyhow::Result<MinedKey> {
        let (_, tip_id) = freight_git::branch_tip(path, options.branch.as_deref())?;
        Ok(MinedKey {
            path: path.to_path_buf(),
            branch: options.branch.clone(),
            name: options.name.clone(),
            survival: options.survival,
            rework_window_ms: options.rework_window_ms,
            tip_id,
        })
    }

    fn folder(&self, store_dir: &Path) -> anyhow::Result<PathBuf> {
        let name = freight_store::content_name(&serde_json::to_vec(self)?);
        Ok(store_dir.join(MINED_DIR).join(name))
    }
}

/// Adds one mined repository to the report's outcomes.
pub fn add_mined(outcomes: &mut Outcomes, mined: MinedRepo) {
    outcomes.repos.push(RepoPlace {
        name: mined.name.clone(),
        workdir: mined.workdir.as_ref().map(|dir| dir.display().to_string()),
    });
    for (sha, survival) in mined.survival {
        outcomes.survival.insert((mined.name.clone(), sha), survival);
    }
    outcomes.main_lines.insert(mined.name.clone(), (mined.main_line, mined.entered));
    outcomes.commits.extend(mined.commits);
}

/// The repository as `freight_git::mine` would read it with `options`, from the kept result
/// when that is current (true) or by mining it (false).
pub fn mine_cached(store_dir: &Path, path: &Path, options: &MineOptions) -> anyhow::Result<(MinedRepo, bool)> {
    let kept = MinedKey::of(path, options).ok().and_then(|key| read_kept(store_dir, &key).ok().flatten());
    if let Some((record, mined)) = kept
        && options.as_of.is_none_or(|as_of| as_of >= record.newest_commit_ms)
    {
        return Ok((mined, true));
    }
    Ok((freight_git::mine(path, options)?, false))
}

/// A kept result for `key`, if there is a complete one.
fn read_kept(store_dir: &Path, key: &MinedKey) -> anyhow::Result<Option<(MinedRecord, MinedRepo)>> {
    let folder = key.folder(store_dir)?;
    let record: MinedRecord = match std::fs::read(folder.join(RECORD_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    if record.format != FORMAT || &record.key != key {
        return Ok(None);
    }
    let outcomes = freight_analytics::dataset::read_outcomes(&folder)?;
    let (main_line, entered) = outcomes.main_lines.get(&record.name).cloned().unwrap_or_default();
    let mined = MinedRepo {
        name: record.name.clone(),
        workdir: record.workdir.clone(),
        branch: record.branch.clone(),
        user_email: record.user_email.clone(),
        survival: outcomes.survival.into_iter().map(|((_, sha), survival)| (sha, survival)).collect(),
        commits: outcomes.commits,
        tip: record.tip.clone(),
        main_line,
        entered,
    };
    Ok(Some((record, mined)))
}

/// What one refresh did to one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The kept result was current.
    Current,
    /// Mined again and kept.
    Mined { commits: usize, millis: u128 },
}

/// The options the server mines with: those of a report with no mining flags.
pub fn server_options() -> MineOptions {
    MineOptions { survival: true, ..MineOptions::default() }
}

/// Mines `path` again unless its kept result is current for a report made now; keeps the new
/// result and removes the repository's older ones.
pub fn refresh(store_dir: &Path, path: &Path, options: &MineOptions) -> anyhow::Result<Refreshed> {
    let key = MinedKey::of(path, options)?;
    let now = chrono::Utc::now().timestamp_millis();
    if let Some((record, _)) = read_kept(store_dir, &key).ok().flatten()
        && now >= record.newest_commit_ms
    {
        return Ok(Refreshed::Current);
    }
    let started = std::time::Instant::now();
    let mined = freight_git::mine(path, &MineOptions { as_of: None, ..options.clone() })?;
    let folder = key.folder(store_dir)?;
    // Half-written results from a run that stopped are replaced whole.
    if folder.exists() {
        fs_err::remove_dir_all(&folder)?;
    }
    let record = MinedRecord {
        format: FORMAT,
        key: key.clone(),
        newest_commit_ms: mined.commits.iter().map(|commit| commit.committed_at).max().unwrap_or(i64::MIN),
        mined_at_ms: now,
        name: mined.name.clone(),
        workdir: mined.workdir.clone(),
        branch: mined.branch.clone(),
        user_email: mined.user_email.clone(),
        tip: mined.tip.clone(),
        commits: mined.commits.len(),
    };
    let mut outcomes = Outcomes::default();
    add_mined(&mut outcomes, mined);
    freight_analytics::dataset::write_outcomes(&folder, &outcomes)
        .with_context(|| format!("keeping the mined history of {}", path.display()))?;
    freight_store::write_atomic(&folder.join(RECORD_FILE), &serde_json::to_vec_pretty(&record)?)?;
    remove_older(store_dir, &key)?;
    Ok(Refreshed::Mined { commits: record.commits, millis: started.elapsed().as_millis() })
}

/// Removes the kept results for the same repository and options made at other tips.
fn remove_older(store_dir: &Path, current: &MinedKey) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(store_dir.join(MINED_DIR)) else { return Ok(()) };
    for entry in entries.flatten() {
        let Ok(bytes) = std::fs::read(entry.path().join(RECORD_FILE)) else { continue };
        let Ok(record) = serde_json::from_slice::<MinedRecord>(&bytes) else { continue };
        let same_repository = MinedKey { tip_id: current.tip_id.clone(), ..record.key.clone() } == *current;
        if same_repository && record.key != *current {
            fs_err::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Mines every registered repository whose kept result is not current, until `wake` is
/// dropped; wakes early when sent to (a registration or a push). Failures are reported and
/// retried at the next round.
pub fn mine_on_schedule(store_dir: &Path, every: std::time::Duration, wake: std::sync::mpsc::Receiver<()>) {
    let options = server_options();
    loop {
        match freight_store::repos(store_dir) {
            Ok(repos) => {
                for repo in repos {
                    match refresh(store_dir, &repo, &options) {
                        Ok(Refreshed::Current) => {}
                        Ok(Refreshed::Mined { commits, millis }) => {
                            eprintln!("freight serve: mined {} ({commits} commits, {millis} ms)", repo.display())
                        }
                        Err(error) => eprintln!("freight serve: mining {} failed: {error:#}", repo.display()),
                    }
                }
            }
            Err(error) => eprintln!("freight serve: reading the registered repositories failed: {error}"),
        }
        match wake.recv_timeout(every) {
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                // A burst of pushes is one round.
                while wake.try_recv().is_ok() {}
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freight_git::write::{Change, RepoWriter, Stamp};

    const DAY: i64 = 1_700_000_000;

    fn commit(writer: &RepoWriter, seconds: i64, message: &str, content: &str) {
        let stamp = Stamp { name: "Ann", email: "a@x.org", seconds, offset: 0 };
        writer.commit("main", stamp, message, &[Change { path: "a.rs", content: Some(content) }]).expect("commits");
    }

    /// Everything a report reads from a mined repository, in a comparable order.
    fn comparable(mined: &MinedRepo) -> String {
        let mut survival: Vec<_> = mined.survival.iter().collect();
        survival.sort_by(|a, b| a.0.cmp(b.0));
        let mut entered: Vec<_> = mined.entered.iter().collect();
        entered.sort();
        format!(
            "{} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
            mined.name,
            mined.workdir,
            mined.branch,
            mined.user_email,
            mined.commits,
            survival,
            mined.tip,
            mined.main_line,
            entered
        )
    }

    #[test]
    fn a_kept_result_reads_back_equal_while_current_and_is_mined_again_after_a_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, repo) = (dir.path().join("store"), dir.path().join("api"));
        let writer = RepoWriter::init(&repo).expect("init");
        commit(
            &writer,
            DAY,
            "feat: one\n\nFreight-Session: s1\nCo-Authored-By: Claude <noreply@anthropic.com>",
            "1\n2\n3\n",
        );
        let options = server_options();
        assert!(matches!(refresh(&store, &repo, &options).expect("mines"), Refreshed::Mined { commits: 1, .. }));
        assert_eq!(refresh(&store, &repo, &options).expect("current"), Refreshed::Current);

        let as_of = MineOptions { as_of: Some(DAY * 1000 + 60_000), ..options.clone() };
        let (kept, from_cache) = mine_cached(&store, &repo, &as_of).expect("reads");
        assert!(from_cache);
        let live = freight_git::mine(&repo, &as_of).expect("mines");
        assert!(!live.survival.is_empty(), "the fixture has an AI-assisted commit");
        assert_eq!(comparable(&kept), comparable(&live));

        // Before the newest commit, or with other options, the repository is mined again.
        let earlier = MineOptions { as_of: Some(DAY * 1000 - 1), ..options.clone() };
        assert!(!mine_cached(&store, &repo, &earlier).expect("mines").1);
        assert!(!mine_cached(&store, &repo, &MineOptions { survival: false, ..as_of.clone() }).expect("mines").1);

        commit(&writer, DAY + 60, "fix", "1\n2\n");
        assert!(!mine_cached(&store, &repo, &as_of).expect("mines").1, "a new tip is not served from the old result");
        assert!(matches!(refresh(&store, &repo, &options).expect("mines"), Refreshed::Mined { commits: 2, .. }));
        let kept_results = std::fs::read_dir(store.join(MINED_DIR)).expect("lists").count();
        assert_eq!(kept_results, 1, "the older result is removed");
    }
}
