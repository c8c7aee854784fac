//! Outcome deliveries (GitHub webhooks): each payload appended as one line of its event's
//! NDJSON file and fsync'd before it is acknowledged, tagged with its delivery id so a
//! redelivery is recognised, even across restarts.
//!
//! ```text
//! outcomes/github/<event>.ndjson   {"freight_delivery":"<id>", ...the payload's own fields}
//! ```
//! The files are what `freight report --prs` / `--deploys` read (the tag is one more field).

use crate::StoreError;
use crate::wal::sync_dir;
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
            let bytes = std::fs::read(&path).map_err(|source| StoreError::io(&path, source))?;
            let complete = bytes.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
            if complete < bytes.len() {
                crate::wal::truncate(&path, complete as u64)?;
            }
            for line in bytes[..complete].split(|&byte| byte == b'\n').filter(|line| !line.is_empty()) {
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
