//! freight's event store: usage events appended to a write-ahead log and fsync'd in groups
//! before they are acknowledged, kept in memory until flushed into Parquet files by day under
//! an atomically replaced manifest, compacted and expired there; idempotent on each event's
//! source id. docs/STORE.md describes the files for other engines.

mod codec;
mod manifest;
mod outcomes;
mod partition;
mod points;
mod read;
mod store;
mod wal;

pub use manifest::{Manifest, PartFile};
pub use outcomes::{
    GITHUB_DIR, OutcomeLog, REPOS_FILE, UPLOAD_KINDS, UPLOADS_DIR, content_name, keep_upload, register_repo, repos,
    upload_path, uploads,
};
pub use partition::{rows_as_json, stored_batch, stored_schema};
pub use points::{POINTS_FILE, PointLog, metric_totals, read_points};
pub use read::{Snapshot, org_attributes, read_snapshot};
pub use store::{Appended, Store, StoreOptions, StoreStats};
pub use wal::write_atomic;

use freight_core::{Actions, UsageEvent};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One usage event as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// The source's own id for the call (e.g. `claude-code:<request_id>`); a second event with
    /// the same id is a retry and is not stored again.
    pub id: String,
    pub event: UsageEvent,
    #[serde(default)]
    pub tool_use: bool,
    /// What the call's tool calls did; `None` when the source does not say (OTLP events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Actions>,
    /// The fingerprint of the call's tool calls (0: none, or not known).
    #[serde(default)]
    pub turn: u32,
    /// Org attributes the source sent with the event (OTLP resource `team.id`, `department`,
    /// `cost_center`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("{path}: parquet: {reason}")]
    Parquet { path: PathBuf, reason: String },
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error("the store stopped accepting writes after a failed write: {0}")]
    Failed(String),
    #[error("the store is shut down")]
    Closed,
    #[error("event encoding: {0}")]
    Encode(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io { path: path.to_path_buf(), source }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
    }

    pub(crate) fn parquet(path: &Path, error: impl std::fmt::Display) -> StoreError {
        StoreError::Parquet { path: path.to_path_buf(), reason: error.to_string() }
    }
}

/// The WAL's folder inside a store.
pub const WAL_DIR: &str = "wal";
