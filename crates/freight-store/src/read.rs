//! Reading a store: the Parquet files its manifest lists plus the events only the WAL holds
//! yet, from inside the server or from another process while the server runs.

use crate::manifest::Manifest;
use crate::partition::{read_file, stored_batch};
use crate::wal::{read_segment, segments};
use crate::{StoreError, StoredEvent, WAL_DIR};
use datafusion::arrow::array::RecordBatch;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a store holds at one moment: flushed files and unflushed events.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub files: Vec<PathBuf>,
    pub unflushed: Vec<Arc<[StoredEvent]>>,
}

impl Snapshot {
    pub fn unflushed_rows(&self) -> usize {
        self.unflushed.iter().map(|chunk| chunk.len()).sum()
    }

    /// The unflushed events as batches in the stored schema.
    pub fn unflushed_batches(&self) -> Result<Vec<RecordBatch>, StoreError> {
        self.unflushed
            .iter()
            .filter(|chunk| !chunk.is_empty())
            .map(|chunk| stored_batch(&chunk.iter().collect::<Vec<_>>()))
            .collect()
    }

    /// Every event, flushed or not, as batches in the stored schema.
    pub fn batches(&self) -> Result<Vec<RecordBatch>, StoreError> {
        let mut batches = Vec::new();
        for file in &self.files {
            batches.extend(read_file(file, None)?);
        }
        batches.extend(self.unflushed_batches()?);
        Ok(batches)
    }
}

/// A WAL record's events.
pub(crate) fn decode_payload(path: &Path, payload: &[u8]) -> Result<Vec<StoredEvent>, StoreError> {
    crate::codec::decode(payload).map_err(|error| StoreError::corrupt(path, format!("WAL record payload: {error}")))
}

/// Reads a store from outside the process that writes it. A flush can delete a WAL segment
/// between listing and reading it; the read then starts over from the new manifest.
pub fn read_snapshot(dir: &Path) -> Result<Snapshot, StoreError> {
    let mut attempts = 0;
    loop {
        match try_read(dir) {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound && attempts < 10 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn try_read(dir: &Path) -> Result<Snapshot, StoreError> {
    if !dir.join(crate::manifest::MANIFEST).exists() && !dir.join(WAL_DIR).exists() {
        return Err(StoreError::corrupt(dir, "not a freight store (no manifest.json or wal/)"));
    }
    let manifest = Manifest::load(dir)?;
    let files = manifest.files.iter().map(|file| dir.join(&file.path)).collect();
    let mut unflushed = Vec::new();
    let mut seen = foldhash::HashSet::default();
    for (_, path) in segments(&dir.join(WAL_DIR))? {
        // A torn tail here is a write in progress: what is before it is all there is.
        let read = read_segment(&path)?;
        for record in read.records.into_iter().filter(|record| record.seq > manifest.flushed_seq) {
            let events: Vec<StoredEvent> = decode_payload(&path, &record.payload)?
                .into_iter()
                .filter(|event| seen.insert(event.id.clone()))
                .collect();
            unflushed.push(Arc::from(events));
        }
    }
    Ok(Snapshot { files, unflushed })
}
