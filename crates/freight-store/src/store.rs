//! The running store: one writer thread that groups appends into WAL writes with one fsync
//! each, and one flusher thread that turns frozen WAL segments into Parquet files, compacts
//! days with many files and expires old days.

use crate::manifest::{Manifest, Obsolete, PartFile};
use crate::partition::{USAGE_DIR, compact, read_ids, write_events};
use crate::read::{Snapshot, decode_payload};
use crate::wal::{SegmentWriter, begin_record, finish_record, read_segment, remove_flushed, truncate};
use crate::{StoreError, StoredEvent, WAL_DIR};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How the store writes and keeps data.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Unflushed events that trigger a flush into Parquet.
    pub flush_rows: usize,
    /// Unflushed events older than this are flushed even when few.
    pub flush_interval: Duration,
    /// A day with this many files is compacted into one.
    pub compact_at: usize,
    /// Days kept (by event time); `None` keeps everything.
    pub retention_days: Option<u32>,
    /// Replaced files are deleted this long after leaving the manifest (readers that listed
    /// them before may still be reading).
    pub obsolete_grace: Duration,
    /// fsync the WAL before acknowledging. Off only for tests that measure without the disk.
    pub sync: bool,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            flush_rows: 250_000,
            flush_interval: Duration::from_secs(60),
            compact_at: 8,
            retention_days: None,
            obsolete_grace: Duration::from_secs(300),
            sync: true,
        }
    }
}

/// What an append did: events stored now, and events the store already had (retries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    pub stored: usize,
    pub duplicates: usize,
}

/// Counters for health and metrics.
#[derive(Debug, Default)]
pub struct StoreStats {
    pub events_stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub wal_writes: AtomicU64,
    pub wal_bytes: AtomicU64,
    pub flushes: AtomicU64,
    pub compactions: AtomicU64,
    pub flush_errors: AtomicU64,
    pub unflushed: AtomicU64,
}

type IdHash = u128;

/// Events in memory, one chunk per WAL record or group commit.
type Chunks = Vec<Arc<[StoredEvent]>>;

fn id_hash(id: &str) -> IdHash {
    // Two independently seeded 64-bit hashes: at a billion ids a 64-bit hash would collide
    // (and drop a real event as a duplicate) with a few percent probability; 128 bits do not.
    let low = foldhash::quality::FixedState::with_seed(0x5eed_f00d_0001).hash_one(id);
    let high = foldhash::quality::FixedState::with_seed(0x5eed_f00d_0002).hash_one(id);
    (IdHash::from(high) << 64) | IdHash::from(low)
}

type Ack = tokio::sync::oneshot::Sender<Result<Appended, StoreError>>;

struct Append {
    events: Vec<StoredEvent>,
    hashes: Vec<IdHash>,
    /// The events' encoding (`codec`), made on the caller's thread, one after another.
    encoded: Vec<u8>,
    /// Where each event's JSON ends in `encoded`.
    ends: Vec<usize>,
    ack: Ack,
}

enum Command {
    Append(Append),
    Flush(std::sync::mpsc::Sender<()>),
}

struct FlushJob {
    up_to_seq: u64,
    chunks: Vec<Arc<[StoredEvent]>>,
    done: Option<std::sync::mpsc::Sender<()>>,
}

/// What readers see, guarded by one lock.
struct State {
    manifest: Manifest,
    /// Events appended since the last rotation, one chunk per group commit.
    active: Vec<Arc<[StoredEvent]>>,
    /// Rotated out, being written to Parquet.
    frozen: Vec<(u64, Vec<Arc<[StoredEvent]>>)>,
    failed: Option<String>,
}

struct Shared {
    dir: PathBuf,
    state: Mutex<State>,
    stats: StoreStats,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// An open store. Appends from any thread; `close` flushes and stops.
pub struct Store {
    shared: Arc<Shared>,
    commands: Mutex<Option<Sender<Command>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, replaying what the WAL holds beyond the manifest.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let wal_dir = dir.join(WAL_DIR);
        std::fs::create_dir_all(&wal_dir).map_err(|source| StoreError::io(&wal_dir, source))?;
        let mut manifest = Manifest::load(dir)?;
        remove_orphans(dir, &manifest)?;
        expire_obsolete(dir, &mut manifest, Duration::ZERO)?;
        manifest.save(dir)?;

        let mut ids: foldhash::HashSet<IdHash> = foldhash::HashSet::default();
        for file in &manifest.files {
            for id in read_ids(&dir.join(&file.path))? {
                ids.insert(id_hash(&id));
            }
        }
        let (active, next_seq) = replay(&wal_dir, &manifest, &mut ids)?;
        let stats = StoreStats::default();
        stats.unflushed.store(active.iter().map(|chunk| chunk.len() as u64).sum(), Ordering::Relaxed);
        let segment = SegmentWriter::create(&wal_dir, next_seq, options.sync)?;
        let shared = Arc::new(Shared {
            dir: dir.to_path_buf(),
            state: Mutex::new(State { manifest, active, frozen: Vec::new(), failed: None }),
            stats,
        });
        let (commands, receiver) = channel();
        let (jobs, job_receiver) = channel();
        let writer = Writer { shared: shared.clone(), options: options.clone(), ids, segment, next_seq, jobs };
        let flusher = Flusher { shared: shared.clone(), options };
        let threads = vec![
            std::thread::Builder::new()
                .name("freight-wal".into())
                .spawn(move || writer.run(receiver))
                .map_err(|source| StoreError::io(dir, source))?,
            std::thread::Builder::new()
                .name("freight-flush".into())
                .spawn(move || flusher.run(job_receiver))
                .map_err(|source| StoreError::io(dir, source))?,
        ];
        Ok(Store { shared, commands: Mutex::new(Some(commands)), threads: Mutex::new(threads) })
    }

    /// Appends events; the answer comes once they are durable (or known duplicates).
    pub fn append(&self, events: Vec<StoredEvent>) -> tokio::sync::oneshot::Receiver<Result<Appended, StoreError>> {
        let (ack, answer) = tokio::sync::oneshot::channel();
        let mut encoded = Vec::with_capacity(events.len() * 200);
        let mut ends = Vec::with_capacity(events.len());
        for event in &events {
            crate::codec::encode(&mut encoded, event);
            ends.push(encoded.len());
        }
        let hashes = events.iter().map(|event| id_hash(&event.id)).collect();
        let command = Command::Append(Append { events, hashes, encoded, ends, ack });
        let sender = self.commands.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match sender.as_ref() {
            Some(sender) => {
                if let Err(std::sync::mpsc::SendError(Command::Append(append))) = sender.send(command) {
                    let _ = append.ack.send(Err(StoreError::Closed));
                }
            }
            None => {
                if let Command::Append(append) = command {
                    let _ = append.ack.send(Err(StoreError::Closed));
                }
            }
        }
        answer
    }

    /// Flushes everything appended so far into Parquet and waits for it.
    pub fn flush(&self) {
        let (done, wait) = channel();
        let sent = self
            .commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .is_some_and(|sender| sender.send(Command::Flush(done)).is_ok());
        if sent {
            let _ = wait.recv();
        }
    }

    /// The files and unflushed events as of now.
    pub fn snapshot(&self) -> Snapshot {
        let state = self.shared.lock();
        let mut unflushed: Vec<Arc<[StoredEvent]>> =
            state.frozen.iter().flat_map(|(_, chunks)| chunks.iter().cloned()).collect();
        unflushed.extend(state.active.iter().cloned());
        let files = state.manifest.files.iter().map(|file| self.shared.dir.join(&file.path)).collect();
        Snapshot { files, unflushed }
    }

    pub fn manifest(&self) -> Manifest {
        self.shared.lock().manifest.clone()
    }

    pub fn stats(&self) -> &StoreStats {
        &self.shared.stats
    }

    /// Why the store stopped accepting writes, if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.lock().failed.clone()
    }

    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Flushes what is unflushed and stops the threads.
    pub fn close(&self) {
        self.commands.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}

/// Deletes files under `usage/` that no manifest lists (a flush or compaction that crashed
/// before its manifest was saved) and temporary files.
fn remove_orphans(dir: &Path, manifest: &Manifest) -> Result<(), StoreError> {
    let listed: std::collections::HashSet<PathBuf> = manifest
        .files
        .iter()
        .map(|file| &file.path)
        .chain(manifest.obsolete.iter().map(|file| &file.path))
        .map(|path| dir.join(path))
        .collect();
    let usage = dir.join(USAGE_DIR);
    let Ok(days) = std::fs::read_dir(&usage) else { return Ok(()) };
    for day in days.flatten() {
        let Ok(files) = std::fs::read_dir(day.path()) else { continue };
        for file in files.flatten() {
            let path = file.path();
            if !listed.contains(&path) {
                std::fs::remove_file(&path).map_err(|source| StoreError::io(&path, source))?;
            }
        }
    }
    let _ = std::fs::remove_file(dir.join(format!("{}.tmp", crate::manifest::MANIFEST)));
    Ok(())
}

/// Deletes replaced files whose grace period is over; true when any was.
fn expire_obsolete(dir: &Path, manifest: &mut Manifest, grace: Duration) -> Result<bool, StoreError> {
    let now = chrono::Utc::now().timestamp_millis();
    let grace = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let before = manifest.obsolete.len();
    let mut kept = Vec::new();
    for file in std::mem::take(&mut manifest.obsolete) {
        if now.saturating_sub(file.since_ms) >= grace {
            let path = dir.join(&file.path);
            match std::fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(StoreError::io(&path, error)),
                _ => {}
            }
        } else {
            kept.push(file);
        }
    }
    manifest.obsolete = kept;
    Ok(manifest.obsolete.len() != before)
}

/// Reads every WAL record beyond the manifest into memory; returns them and the next
/// sequence number. Segments wholly flushed are deleted.
fn replay(
    wal_dir: &Path,
    manifest: &Manifest,
    ids: &mut foldhash::HashSet<IdHash>,
) -> Result<(Chunks, u64), StoreError> {
    let found = remove_flushed(wal_dir, manifest.flushed_seq)?;
    let mut next_seq = manifest.flushed_seq + 1;
    let mut active = Vec::new();
    for (index, (first_seq, path)) in found.iter().enumerate() {
        let is_last = index + 1 == found.len();
        let read = read_segment(path)?;
        if let Some((offset, reason)) = read.torn_at {
            if !is_last {
                return Err(StoreError::corrupt(
                    path,
                    format!("{reason} at byte {offset}, and later segments follow: the WAL is damaged"),
                ));
            }
            truncate(path, offset)?;
        }
        for record in read.records {
            if record.seq < *first_seq {
                return Err(StoreError::corrupt(path, format!("record {} before the segment's first", record.seq)));
            }
            next_seq = next_seq.max(record.seq + 1);
            if record.seq <= manifest.flushed_seq {
                continue;
            }
            let events: Vec<StoredEvent> = decode_payload(path, &record.payload)?
                .into_iter()
                .filter(|event| ids.insert(id_hash(&event.id)))
                .collect();
            active.push(Arc::from(events));
        }
    }
    Ok((active, next_seq))
}

/// Most appends one group commit takes.
const GROUP_APPENDS: usize = 256;
/// Most payload bytes one group commit takes.
const GROUP_BYTES: usize = 16 << 20;

struct Writer {
    shared: Arc<Shared>,
    options: StoreOptions,
    ids: foldhash::HashSet<IdHash>,
    segment: SegmentWriter,
    next_seq: u64,
    jobs: Sender<FlushJob>,
}

impl Writer {
    fn run(mut self, commands: Receiver<Command>) {
        let mut oldest_unflushed: Option<Instant> = (!self.shared.lock().active.is_empty()).then(Instant::now);
        let tick = self.options.flush_interval.min(Duration::from_secs(1));
        loop {
            let first = match commands.recv_timeout(tick) {
                Ok(command) => Some(command),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut appends = Vec::new();
            let mut flush_waiters = Vec::new();
            let mut bytes = 0usize;
            let mut next = first;
            while let Some(command) = next.take() {
                match command {
                    Command::Append(append) => {
                        bytes += append.encoded.len();
                        appends.push(append);
                    }
                    Command::Flush(done) => flush_waiters.push(done),
                }
                if appends.len() < GROUP_APPENDS && bytes < GROUP_BYTES {
                    next = commands.try_recv().ok();
                }
            }
            if !appends.is_empty() {
                self.commit(appends);
                oldest_unflushed.get_or_insert_with(Instant::now);
            }
            let unflushed = self.shared.stats.unflushed.load(Ordering::Relaxed) as usize;
            let due = oldest_unflushed.is_some_and(|since| since.elapsed() >= self.options.flush_interval);
            if !flush_waiters.is_empty() || unflushed >= self.options.flush_rows || due {
                self.rotate(flush_waiters);
                oldest_unflushed = None;
            }
        }
        self.rotate(Vec::new());
    }

    /// Writes a group of appends as one WAL write and one fsync, then answers them all.
    fn commit(&mut self, appends: Vec<Append>) {
        if let Some(failure) = self.shared.lock().failed.clone() {
            for append in appends {
                let _ = append.ack.send(Err(StoreError::Failed(failure.clone())));
            }
            return;
        }
        let mut buffer = Vec::with_capacity(appends.iter().map(|a| a.encoded.len() + 64).sum());
        let mut pending: foldhash::HashSet<IdHash> = foldhash::HashSet::default();
        let mut kept_per_append = Vec::with_capacity(appends.len());
        let mut seq = self.next_seq;
        for append in &appends {
            let keep: Vec<bool> =
                append.hashes.iter().map(|hash| !self.ids.contains(hash) && pending.insert(*hash)).collect();
            if keep.iter().any(|&kept| kept) {
                let record = begin_record(&mut buffer);
                let starts = std::iter::once(0).chain(append.ends.iter().copied());
                for ((start, end), _) in starts.zip(append.ends.iter().copied()).zip(&keep).filter(|(_, kept)| **kept) {
                    buffer.extend_from_slice(&append.encoded[start..end]);
                }
                finish_record(&mut buffer, record, seq);
                seq += 1;
            }
            kept_per_append.push(keep);
        }
        if !buffer.is_empty() {
            if let Err(error) = self.segment.append(&buffer) {
                // After a failed write or fsync the file's state is unknown: stop taking writes
                // rather than acknowledge anything that may not be on disk.
                let failure = error.to_string();
                self.shared.lock().failed = Some(failure.clone());
                for append in appends {
                    let _ = append.ack.send(Err(StoreError::Failed(failure.clone())));
                }
                return;
            }
            self.shared.stats.wal_writes.fetch_add(1, Ordering::Relaxed);
            self.shared.stats.wal_bytes.fetch_add(buffer.len() as u64, Ordering::Relaxed);
        }
        self.next_seq = seq;
        self.ids.extend(pending);
        let mut chunks = Vec::new();
        let mut answers = Vec::new();
        for (append, keep) in appends.into_iter().zip(kept_per_append) {
            let stored = keep.iter().filter(|&&kept| kept).count();
            let duplicates = keep.len() - stored;
            let events: Vec<StoredEvent> =
                append.events.into_iter().zip(&keep).filter(|(_, kept)| **kept).map(|(event, _)| event).collect();
            if !events.is_empty() {
                chunks.push(Arc::from(events));
            }
            self.shared.stats.events_stored.fetch_add(stored as u64, Ordering::Relaxed);
            self.shared.stats.duplicates.fetch_add(duplicates as u64, Ordering::Relaxed);
            self.shared.stats.unflushed.fetch_add(stored as u64, Ordering::Relaxed);
            answers.push((append.ack, Appended { stored, duplicates }));
        }
        self.shared.lock().active.extend(chunks);
        for (ack, appended) in answers {
            let _ = ack.send(Ok(appended));
        }
    }

    /// Starts a new segment and hands the events so far to the flusher.
    fn rotate(&mut self, done: Vec<std::sync::mpsc::Sender<()>>) {
        let chunks = std::mem::take(&mut self.shared.lock().active);
        if chunks.is_empty() {
            for waiter in done {
                let _ = self.jobs.send(FlushJob { up_to_seq: 0, chunks: Vec::new(), done: Some(waiter) });
            }
            return;
        }
        let up_to_seq = self.next_seq - 1;
        match SegmentWriter::create(&self.shared.dir.join(WAL_DIR), self.next_seq, self.options.sync) {
            Ok(segment) => self.segment = segment,
            Err(error) => {
                // Keep appending to the old segment; the flush below still covers these events.
                self.shared.lock().failed.get_or_insert(error.to_string());
            }
        }
        self.shared.lock().frozen.push((up_to_seq, chunks.clone()));
        self.shared.stats.unflushed.store(0, Ordering::Relaxed);
        let mut done = done.into_iter();
        let _ = self.jobs.send(FlushJob { up_to_seq, chunks, done: done.next() });
        for waiter in done {
            let _ = self.jobs.send(FlushJob { up_to_seq: 0, chunks: Vec::new(), done: Some(waiter) });
        }
    }
}

fn continue_with_done(done: Option<std::sync::mpsc::Sender<()>>) {
    if let Some(done) = done {
        let _ = done.send(());
    }
}

struct Flusher {
    shared: Arc<Shared>,
    options: StoreOptions,
}

impl Flusher {
    fn run(self, jobs: Receiver<FlushJob>) {
        // Events of a failed flush: they stay in memory and in the WAL, and go with the next.
        let mut carried: Vec<Arc<[StoredEvent]>> = Vec::new();
        while let Ok(mut job) = jobs.recv() {
            if !job.chunks.is_empty() {
                carried.append(&mut job.chunks);
                job.chunks = std::mem::take(&mut carried);
                match self.flush(&job) {
                    Ok(()) => {
                        self.shared.stats.flushes.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        self.shared.stats.flush_errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("freight store: flush failed (kept for the next one): {error}");
                        carried = job.chunks;
                        continue_with_done(job.done);
                        continue;
                    }
                }
                if let Err(error) = self.maintain() {
                    eprintln!("freight store: compaction or retention failed: {error}");
                }
            }
            if let Some(done) = job.done {
                let _ = done.send(());
            }
        }
    }

    fn flush(&self, job: &FlushJob) -> Result<(), StoreError> {
        let dir = &self.shared.dir;
        let events: Vec<&StoredEvent> = job.chunks.iter().flat_map(|chunk| chunk.iter()).collect();
        let mut manifest = self.shared.lock().manifest.clone();
        let written = write_events(dir, &events, &mut manifest.next_file)?;
        manifest.files.extend(written);
        manifest.flushed_seq = job.up_to_seq;
        manifest.save(dir)?;
        {
            let mut state = self.shared.lock();
            state.manifest = manifest;
            state.frozen.retain(|(up_to, _)| *up_to > job.up_to_seq);
        }
        remove_flushed(&dir.join(WAL_DIR), job.up_to_seq)?;
        Ok(())
    }

    /// Compacts days with many files, expires days past retention, deletes replaced files.
    fn maintain(&self) -> Result<(), StoreError> {
        let dir = &self.shared.dir;
        let mut manifest = self.shared.lock().manifest.clone();
        let mut changed = false;
        let now = chrono::Utc::now().timestamp_millis();
        if let Some(days) = self.options.retention_days {
            let oldest = (chrono::Utc::now() - chrono::Duration::days(i64::from(days))).format("%Y-%m-%d").to_string();
            let (expired, kept): (Vec<PartFile>, Vec<PartFile>) =
                manifest.files.drain(..).partition(|file| file.day < oldest);
            manifest.files = kept;
            changed |= !expired.is_empty();
            manifest.obsolete.extend(expired.into_iter().map(|file| Obsolete { path: file.path, since_ms: now }));
        }
        let mut by_day: std::collections::BTreeMap<String, Vec<PartFile>> = std::collections::BTreeMap::new();
        for file in &manifest.files {
            by_day.entry(file.day.clone()).or_default().push(file.clone());
        }
        for (day, files) in by_day.into_iter().filter(|(_, files)| files.len() >= self.options.compact_at.max(2)) {
            let paths: Vec<PathBuf> = files.iter().map(|file| dir.join(&file.path)).collect();
            let merged = compact(dir, &day, &paths, manifest.next_file)?;
            manifest.next_file += 1;
            manifest.files.retain(|file| !files.contains(file));
            manifest.files.push(merged);
            manifest.obsolete.extend(files.into_iter().map(|file| Obsolete { path: file.path, since_ms: now }));
            self.shared.stats.compactions.fetch_add(1, Ordering::Relaxed);
            changed = true;
        }
        // The manifest that no longer lists a file is saved before the file is deleted.
        if changed {
            manifest.save(dir)?;
        }
        if expire_obsolete(dir, &mut manifest, self.options.obsolete_grace)? {
            manifest.save(dir)?;
            changed = true;
        }
        if changed {
            self.shared.lock().manifest = manifest;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::segments;
    use freight_core::{Speed, TokenCounts, Tool, UsageEvent};

    fn event(id: &str, day: u32, input: u64) -> StoredEvent {
        let timestamp = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-{day:02}T10:00:00Z"))
            .expect("time")
            .with_timezone(&chrono::Utc);
        StoredEvent {
            id: id.to_string(),
            event: UsageEvent {
                timestamp,
                tool: Tool::ClaudeCode,
                user: Some("ana@example.com".into()),
                session_id: "s1".into(),
                project: None,
                cwd: None,
                git_branch: None,
                model: Some("claude-sonnet-4-5".into()),
                provider: None,
                message_id: None,
                request_id: Some(id.into()),
                is_sidechain: false,
                speed: Speed::Standard,
                tokens: TokenCounts { input, output: 10, ..TokenCounts::default() },
                reported_cost: Some("0.0123".parse().expect("decimal")),
            },
            tool_use: false,
            actions: None,
            turn: 0,
            team: Some("payments".into()),
            department: None,
            cost_center: None,
        }
    }

    fn append(store: &Store, events: Vec<StoredEvent>) -> Appended {
        store.append(events).blocking_recv().expect("answered").expect("appended")
    }

    fn ids(snapshot: &Snapshot) -> Vec<String> {
        let mut ids: Vec<String> = snapshot
            .batches()
            .expect("reads")
            .iter()
            .flat_map(|batch| crate::rows_as_json(batch).expect("rows"))
            .map(|row| row["id"].as_str().expect("id").to_string())
            .collect();
        ids.sort();
        ids
    }

    fn slow_flush() -> StoreOptions {
        StoreOptions { flush_interval: Duration::from_secs(3600), ..StoreOptions::default() }
    }

    #[test]
    fn retries_are_stored_once_and_survive_a_restart_and_a_crash() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), slow_flush()).expect("opens");
        assert_eq!(append(&store, vec![event("a", 1, 5), event("b", 2, 6)]), Appended { stored: 2, duplicates: 0 });
        assert_eq!(
            append(&store, vec![event("b", 2, 6), event("c", 2, 7), event("c", 2, 7)]),
            Appended { stored: 1, duplicates: 2 }
        );
        assert_eq!(ids(&store.snapshot()), ["a", "b", "c"]);
        // Another process sees the unflushed events too.
        assert_eq!(ids(&read_snapshot_for_test(dir.path())), ["a", "b", "c"]);
        // A crash: the store is never closed, its threads never flush.
        std::mem::forget(store);

        let store = Store::open(dir.path(), slow_flush()).expect("replays");
        assert_eq!(ids(&store.snapshot()), ["a", "b", "c"]);
        assert_eq!(append(&store, vec![event("a", 1, 5), event("d", 3, 1)]).stored, 1);
        store.flush();
        let manifest = store.manifest();
        assert_eq!(
            manifest.files.iter().map(|file| file.day.as_str()).collect::<Vec<_>>(),
            ["2026-11-01", "2026-11-02", "2026-11-03"]
        );
        assert_eq!(store.snapshot().unflushed_rows(), 0);
        store.close();
        drop(store);

        // After the flush the WAL is gone but the ids are still known.
        let store = Store::open(dir.path(), slow_flush()).expect("reopens");
        assert_eq!(append(&store, vec![event("a", 1, 5), event("e", 3, 1)]).stored, 1);
        assert_eq!(ids(&store.snapshot()), ["a", "b", "c", "d", "e"]);
        assert_eq!(ids(&read_snapshot_for_test(dir.path())), ["a", "b", "c", "d", "e"]);
    }

    fn read_snapshot_for_test(dir: &Path) -> Snapshot {
        crate::read_snapshot(dir).expect("reads")
    }

    #[test]
    fn a_torn_tail_is_cut_and_damage_before_the_end_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path(), slow_flush()).expect("opens");
        append(&store, vec![event("a", 1, 5)]);
        append(&store, vec![event("b", 1, 5)]);
        std::mem::forget(store);
        let (_, segment) = segments(&dir.path().join(WAL_DIR)).expect("lists").pop().expect("a segment");
        let length = std::fs::metadata(&segment).expect("stat").len();
        truncate(&segment, length - 3).expect("cuts");
        let store = Store::open(dir.path(), slow_flush()).expect("replays up to the torn record");
        assert_eq!(ids(&store.snapshot()), ["a"]);
        append(&store, vec![event("c", 1, 5)]);
        std::mem::forget(store);

        // Damage in a segment that is not the last one is corruption, named.
        let found = segments(&dir.path().join(WAL_DIR)).expect("lists");
        let first = &found[0].1;
        let mut bytes = std::fs::read(first).expect("reads");
        bytes[20] ^= 0xff;
        std::fs::write(first, bytes).expect("writes");
        let error = Store::open(dir.path(), slow_flush()).err().expect("refused").to_string();
        assert!(error.contains("checksum mismatch") && error.contains(".wal"), "{error}");
    }

    #[test]
    fn many_files_of_a_day_are_compacted_and_old_days_expire() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = StoreOptions { compact_at: 3, obsolete_grace: Duration::ZERO, ..slow_flush() };
        let store = Store::open(dir.path(), options.clone()).expect("opens");
        for index in 0..3 {
            append(&store, vec![event(&format!("x{index}"), 2, index)]);
            store.flush();
        }
        let manifest = store.manifest();
        assert_eq!(manifest.files.len(), 1, "{manifest:?}");
        assert_eq!(manifest.files[0].rows, 3);
        assert_eq!(ids(&store.snapshot()), ["x0", "x1", "x2"]);
        store.close();
        drop(store);

        let retention = StoreOptions { retention_days: Some(1), ..options };
        let store = Store::open(dir.path(), retention).expect("opens");
        let mut today = event("today", 1, 1);
        today.event.timestamp = chrono::Utc::now();
        append(&store, vec![today]);
        store.flush();
        assert_eq!(ids(&store.snapshot()), ["today"]);
        let usage = dir.path().join(USAGE_DIR).join("day=2026-11-02");
        assert_eq!(std::fs::read_dir(usage).expect("lists").count(), 0);
    }
}
