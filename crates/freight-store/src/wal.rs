//! The write-ahead log: numbered records in segment files, each checked by a CRC, written and
//! fsync'd in groups before any of their events is acknowledged.
//!
//! ```text
//! wal/<first sequence number, 20 digits>.wal
//! record = payload length (u32 LE) | CRC-32 of sequence and payload (u32 LE)
//!        | sequence number (u64 LE) | payload (stored events, `codec`'s encoding)
//! ```
//! A crash can leave the last segment's last record half written; replay stops there and the
//! tail is cut off (it was never acknowledged). A bad record anywhere else is corruption and
//! is refused with its segment and offset named.

use crate::StoreError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

const HEADER: usize = 16;
/// A record larger than this is corrupt (a request body is limited far below it).
const MAX_PAYLOAD: u32 = 1 << 30;

/// One record read back.
#[derive(Debug)]
pub struct Record {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// A segment's records, and where its readable part ends when a torn record follows.
#[derive(Debug)]
pub struct SegmentRead {
    pub records: Vec<Record>,
    pub torn_at: Option<(u64, String)>,
}

pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// The WAL's segments, oldest first, with the first sequence number each holds.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(source) => return Err(StoreError::io(dir, source)),
    };
    for entry in entries {
        let path = entry.map_err(|source| StoreError::io(dir, source))?.path();
        let first = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_suffix(".wal"))
            .and_then(|digits| digits.parse::<u64>().ok());
        if let Some(first) = first {
            found.push((first, path));
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes the segments whose records are all at or below `flushed_seq`. The writer starts a
/// segment right after each flushed sequence, so a segment is wholly flushed exactly when the
/// next one starts at or before `flushed_seq + 1`. Returns the segments kept.
pub fn remove_flushed(dir: &Path, flushed_seq: u64) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let found = segments(dir)?;
    let mut kept = Vec::new();
    for (index, (first, path)) in found.iter().enumerate() {
        if found.get(index + 1).is_some_and(|(next_first, _)| *next_first <= flushed_seq + 1) {
            std::fs::remove_file(path).map_err(|source| StoreError::io(path, source))?;
        } else {
            kept.push((*first, path.clone()));
        }
    }
    Ok(kept)
}

/// Reads a segment's records; a short or mismatching record ends the read (`torn_at`).
pub fn read_segment(path: &Path) -> Result<SegmentRead, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::io(path, source))?;
    Ok(parse_segment(&bytes))
}

pub fn parse_segment(bytes: &[u8]) -> SegmentRead {
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let torn = |reason: &str| Some((at as u64, reason.to_string()));
        let Some(header) = bytes.get(at..at + HEADER) else {
            return SegmentRead { records, torn_at: torn("record header cut short") };
        };
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let seq_bytes = &header[8..16];
        if length > MAX_PAYLOAD {
            return SegmentRead { records, torn_at: torn("record length out of range") };
        }
        let Some(payload) = bytes.get(at + HEADER..at + HEADER + length as usize) else {
            return SegmentRead { records, torn_at: torn("record payload cut short") };
        };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(seq_bytes);
        hasher.update(payload);
        if hasher.finalize() != crc {
            return SegmentRead { records, torn_at: torn("record checksum mismatch") };
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(seq_bytes);
        records.push(Record { seq: u64::from_le_bytes(seq), payload: payload.to_vec() });
        at += HEADER + length as usize;
    }
    SegmentRead { records, torn_at: None }
}

/// Appends one encoded record to `buffer`.
#[cfg(test)]
pub fn encode_record(buffer: &mut Vec<u8>, seq: u64, payload: &[u8]) {
    let start = begin_record(buffer);
    buffer.extend_from_slice(payload);
    finish_record(buffer, start, seq);
}

/// Starts a record in `buffer` (its header left blank); the payload is written after it.
pub fn begin_record(buffer: &mut Vec<u8>) -> usize {
    let start = buffer.len();
    buffer.extend_from_slice(&[0; HEADER]);
    start
}

/// Fills in the header of the record begun at `start`, whose payload is the rest of `buffer`.
pub fn finish_record(buffer: &mut [u8], start: usize, seq: u64) {
    let seq_bytes = seq.to_le_bytes();
    let payload_length = buffer.len() - start - HEADER;
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&seq_bytes);
    hasher.update(&buffer[start + HEADER..]);
    let header = &mut buffer[start..start + HEADER];
    header[0..4].copy_from_slice(&(payload_length as u32).to_le_bytes());
    header[4..8].copy_from_slice(&hasher.finalize().to_le_bytes());
    header[8..16].copy_from_slice(&seq_bytes);
}

/// The segment being appended to.
pub struct SegmentWriter {
    pub path: PathBuf,
    file: File,
    pub bytes: u64,
    sync: bool,
}

impl SegmentWriter {
    /// Creates a new segment (its directory entry made durable too).
    pub fn create(dir: &Path, first_seq: u64, sync: bool) -> Result<SegmentWriter, StoreError> {
        let path = dir.join(segment_name(first_seq));
        let file = File::options()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|source| StoreError::io(&path, source))?;
        if sync {
            sync_dir(dir)?;
        }
        Ok(SegmentWriter { path, file, bytes: 0, sync })
    }

    /// Writes the encoded records and waits until they are on disk.
    pub fn append(&mut self, encoded: &[u8]) -> Result<(), StoreError> {
        self.file.write_all(encoded).map_err(|source| StoreError::io(&self.path, source))?;
        if self.sync {
            self.file.sync_data().map_err(|source| StoreError::io(&self.path, source))?;
        }
        self.bytes += encoded.len() as u64;
        Ok(())
    }
}

/// Cuts a segment back to its readable part (the torn tail was never acknowledged).
pub fn truncate(path: &Path, length: u64) -> Result<(), StoreError> {
    let file = File::options().write(true).open(path).map_err(|source| StoreError::io(path, source))?;
    file.set_len(length).map_err(|source| StoreError::io(path, source))?;
    file.sync_all().map_err(|source| StoreError::io(path, source))
}

/// Replaces `path` with `bytes` atomically and durably: written beside it, synced, renamed
/// over it, the folder synced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|source| StoreError::io(folder, source))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|source| StoreError::io(path, source))?;
    sync_dir(folder)
}

/// The complete lines of an append-only NDJSON file; a torn last line (an append that crashed,
/// never acknowledged) is cut off the file. A missing file has none.
pub fn complete_lines(path: &Path) -> Result<Vec<u8>, StoreError> {
    let mut bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(StoreError::io(path, source)),
    };
    let complete = bytes.iter().rposition(|&byte| byte == b'\n').map_or(0, |at| at + 1);
    if complete < bytes.len() {
        truncate(path, complete as u64)?;
        bytes.truncate(complete);
    }
    Ok(bytes)
}

/// Makes a directory's entries (files created, renamed, removed) durable.
pub fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|file| file.sync_all()).map_err(|source| StoreError::io(dir, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_found() {
        let mut bytes = Vec::new();
        encode_record(&mut bytes, 7, b"[1]");
        encode_record(&mut bytes, 8, b"[2,3]");
        let whole = parse_segment(&bytes);
        assert_eq!(whole.records.len(), 2);
        assert_eq!((whole.records[1].seq, whole.records[1].payload.as_slice()), (8, b"[2,3]".as_slice()));
        assert!(whole.torn_at.is_none());

        let first_length = (HEADER + 3) as u64;
        for cut in [bytes.len() - 1, bytes.len() - 6, first_length as usize + 3] {
            let torn = parse_segment(&bytes[..cut]);
            assert_eq!(torn.records.len(), 1, "cut at {cut}");
            assert_eq!(torn.torn_at.as_ref().map(|t| t.0), Some(first_length));
        }
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let bad = parse_segment(&flipped);
        assert_eq!(bad.records.len(), 1);
        assert_eq!(bad.torn_at.map(|t| t.1), Some("record checksum mismatch".to_string()));
    }
}
