//! The manifest: which Parquet files make up the store and how much of the WAL they hold,
//! replaced as a whole by an atomic rename so a reader never sees half an update.

use crate::StoreError;
use crate::wal::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;

/// One Parquet file of usage events, all from one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartFile {
    /// Relative to the store's folder, `/`-separated.
    pub path: String,
    /// `YYYY-MM-DD` (UTC) of every event in it.
    pub day: String,
    pub rows: u64,
    pub bytes: u64,
}

/// A file a compaction or retention took out of the store, deleted once readers that listed
/// it before the change are done (`Store` keeps it for a grace period).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obsolete {
    pub path: String,
    /// When it left the manifest (Unix milliseconds).
    pub since_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// Every WAL record numbered up to this is in `files`.
    pub flushed_seq: u64,
    /// Number for the next Parquet file written.
    pub next_file: u64,
    pub files: Vec<PartFile>,
    #[serde(default)]
    pub obsolete: Vec<Obsolete>,
}

impl Default for Manifest {
    fn default() -> Manifest {
        Manifest { format: FORMAT, flushed_seq: 0, next_file: 1, files: Vec::new(), obsolete: Vec::new() }
    }
}

impl Manifest {
    /// The store's manifest, or an empty one for a new store.
    pub fn load(dir: &Path) -> Result<Manifest, StoreError> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(source) => return Err(StoreError::io(&path, source)),
        };
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|error| StoreError::corrupt(&path, error.to_string()))?;
        if manifest.format != FORMAT {
            return Err(StoreError::corrupt(
                &path,
                format!("manifest format {} (this freight reads {FORMAT})", manifest.format),
            ));
        }
        Ok(manifest)
    }

    /// Replaces the manifest on disk, atomically.
    pub fn save(&self, dir: &Path) -> Result<(), StoreError> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_vec_pretty(self).map_err(|error| StoreError::corrupt(&path, error.to_string()))?;
        write_atomic(&path, &text)
    }
}
