//! Outcome deliveries (GitHub webhooks): each payload appended as one line of its event's
//! NDJSON file and fsync'd before it is acknowledged, tagged with its delivery id so a
//! redelivery is recognised, even across restarts.
//!
//! ```text
//! outcomes/github/<event>.ndjson   {"freight_delivery":"<id>", ...the payload's own fields}
//! ```
//! The files are what `freight report --prs` / `--deploys` read (the tag is one more field).

use crate::StoreError;
use crate::wal::{complete_lines, sync_dir, write_atomic};
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const GITHUB_DIR: &str = "outcomes/github";

#[derive(serde::Deserialize)]
struct Tag {
    freight_delivery: Option<String>,
}

/// The delivery log of one source.
pub struct OutcomeLog {
    dir: PathBuf,
    seen: Mutex<HashSet<String>>,
}

impl OutcomeLog {
    /// Opens the log, reading the delivery ids already kept; a torn last line (a crash while
    /// appending, never acknowledged) is cut off.
    pub fn open(store_dir: &Path) -> Result<OutcomeLog, StoreError> {
        let dir = store_dir.join(GITHUB_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::io(&dir, source))?;
        let mut seen = HashSet::new();
        for entry in std::fs::read_dir(&dir).map_err(|source| StoreError::io(&dir, source))? {
            let path = entry.map_err(|source| StoreError::io(&dir, source))?.path();
            if path.extension().is_none_or(|ext| ext != "ndjson") {
                continue;
            }
            let bytes = complete_lines(&path)?;
            for line in bytes.split(|&byte| byte == b'\n').filter(|line| !line.is_empty()) {
                let tag: Tag = serde_json::from_slice(line)
                    .map_err(|error| StoreError::corrupt(&path, format!("a line is not JSON: {error}")))?;
                seen.extend(tag.freight_delivery);
            }
        }
        Ok(OutcomeLog { dir, seen: Mutex::new(seen) })
    }

    /// The file an event's payloads go to.
    pub fn file(&self, event: &str) -> PathBuf {
        self.dir.join(format!("{event}.ndjson"))
    }

    /// Appends a payload (a JSON object) unless its delivery was kept before; true when new.
    pub fn append(&self, event: &str, delivery: &str, payload: &serde_json::Value) -> Result<bool, StoreError> {
        let path = self.file(event);
        let Some(fields) = payload.as_object() else {
            return Err(StoreError::Encode(format!("the {event} payload is not a JSON object")));
        };
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.contains(delivery) {
            return Ok(false);
        }
        let mut tagged = serde_json::Map::with_capacity(fields.len() + 1);
        tagged.insert("freight_delivery".into(), delivery.into());
        tagged.extend(fields.iter().map(|(key, value)| (key.clone(), value.clone())));
        let mut line = serde_json::to_vec(&tagged).map_err(|error| StoreError::Encode(error.to_string()))?;
        line.push(b'\n');
        let created = !path.exists();
        let mut file =
            File::options().create(true).append(true).open(&path).map_err(|source| StoreError::io(&path, source))?;
        file.write_all(&line).and_then(|()| file.sync_data()).map_err(|source| StoreError::io(&path, source))?;
        if created {
            sync_dir(&self.dir)?;
        }
        seen.insert(delivery.to_string());
        Ok(true)
    }
}

/// Uploaded outcome files, by kind, named after a hash of their content.
pub const UPLOADS_DIR: &str = "outcomes/uploads";
/// Registered git repositories.
pub const REPOS_FILE: &str = "outcomes/repos.json";

/// The kinds of outcome file an upload can be, as the report reads them.
pub const UPLOAD_KINDS: [&str; 5] = ["pulls", "deploys", "tickets", "incidents", "events"];

/// Writes a file durably (`write_atomic`) unless it exists; false when it was already there.
fn write_once(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    if path.exists() {
        return Ok(false);
    }
    write_atomic(path, bytes)?;
    Ok(true)
}

/// A 128-bit hash of `bytes` as 32 hex digits, stable across runs and builds (file names).
pub fn content_name(bytes: &[u8]) -> String {
    use std::hash::BuildHasher;
    let low = foldhash::quality::FixedState::with_seed(0x0c0f_fee1).hash_one(bytes);
    let high = foldhash::quality::FixedState::with_seed(0x0c0f_fee2).hash_one(bytes);
    format!("{high:016x}{low:016x}")
}

/// Where an upload of `kind` with this content is kept.
pub fn upload_path(store_dir: &Path, kind: &str, extension: &str, bytes: &[u8]) -> PathBuf {
    store_dir.join(UPLOADS_DIR).join(kind).join(format!("{}.{extension}", content_name(bytes)))
}

/// Keeps an uploaded outcome file (already checked by the caller); the same content uploaded
/// again is kept once. True when new.
pub fn keep_upload(path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
    write_once(path, bytes)
}

/// The uploaded files of one kind, in name order.
pub fn uploads(store_dir: &Path, kind: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(store_dir.join(UPLOADS_DIR).join(kind)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        // Hidden names are files being checked by the server, not kept yet.
        .filter(|path| !path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.')))
        .filter(|path| path.extension().is_some_and(|ext| ext == "csv" || ext == "ndjson"))
        .collect();
    files.sort();
    files
}

/// The registered repositories.
pub fn repos(store_dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let path = store_dir.join(REPOS_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| StoreError::corrupt(&path, error.to_string())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(StoreError::io(&path, source)),
    }
}

static REPOS_LOCK: Mutex<()> = Mutex::new(());

/// Registers a repository (kept in `outcomes/repos.json`, replaced atomically); false when it
/// was registered already.
pub fn register_repo(store_dir: &Path, repo: &Path) -> Result<bool, StoreError> {
    let _guard = REPOS_LOCK.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut known = repos(store_dir)?;
    if known.iter().any(|path| path == repo) {
        return Ok(false);
    }
    known.push(repo.to_path_buf());
    let path = store_dir.join(REPOS_FILE);
    let bytes = serde_json::to_vec_pretty(&known).map_err(|error| StoreError::Encode(error.to_string()))?;
    write_atomic(&path, &bytes)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redelivery_is_kept_once_across_restarts_and_a_torn_line_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = OutcomeLog::open(dir.path()).expect("opens");
        let payload = serde_json::json!({"action": "closed", "number": 3});
        assert!(log.append("pull_request", "d-1", &payload).expect("appends"));
        assert!(!log.append("pull_request", "d-1", &payload).expect("appends"));
        let file = log.file("pull_request");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(b"{\"freight_del"))
            .expect("tears");
        let log = OutcomeLog::open(dir.path()).expect("reopens");
        assert!(!log.append("pull_request", "d-1", &payload).expect("appends"));
        assert!(log.append("pull_request", "d-2", &payload).expect("appends"));
        let text = std::fs::read_to_string(&file).expect("reads");
        assert_eq!(text.lines().count(), 2);
        assert!(text.lines().next().is_some_and(|line| line.contains("\"freight_delivery\":\"d-1\"")), "{text}");
    }
}
