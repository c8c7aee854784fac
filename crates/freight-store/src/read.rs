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

/// The team and cost centre each person's events carried (OTLP resource attributes), for
/// people the org directory does not list. Where events disagree, the latest file's word holds.
pub fn org_attributes(
    snapshot: &Snapshot,
) -> Result<std::collections::BTreeMap<String, (String, Option<String>)>, StoreError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    let mut people = std::collections::BTreeMap::new();
    for file in &snapshot.files {
        for batch in read_file(file, Some(&["user", "team", "cost_center"]))? {
            let columns = ["user", "team", "cost_center"]
                .map(|name| batch.column_by_name(name).map(|column| cast(column, &DataType::Utf8)));
            let [Some(users), Some(teams), Some(centres)] = columns else { continue };
            let (users, teams, centres) = (users?, teams?, centres?);
            let (users, teams, centres) =
                (users.as_string::<i32>(), teams.as_string::<i32>(), centres.as_string::<i32>());
            for row in 0..batch.num_rows() {
                if users.is_valid(row) && teams.is_valid(row) {
                    let centre = centres.is_valid(row).then(|| centres.value(row).to_string());
                    people.insert(users.value(row).to_string(), (teams.value(row).to_string(), centre));
                }
            }
        }
    }
    for event in snapshot.unflushed.iter().flat_map(|chunk| chunk.iter()) {
        if let (Some(user), Some(team)) = (&event.event.user, &event.team) {
            people.insert(user.clone(), (team.clone(), event.cost_center.clone()));
        }
    }
    Ok(people)
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
    for (_, path) in segments(&dir.join(WAL_DIR))? {
        // A torn tail here is a write in progress: what is before it is all there is.
        let read = read_segment(&path)?;
        for record in read.records.into_iter().filter(|record| record.seq > manifest.flushed_seq) {
            // The writer checked ids before writing: the WAL holds no duplicate.
            unflushed.push(Arc::from(decode_payload(&path, &record.payload)?));
        }
    }
    Ok(Snapshot { files, unflushed })
}
