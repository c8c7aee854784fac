//! The cross-file merge's storage: calls kept in fixed-size chunks (a call never moves once
//! written, so growth copies nothing), their ids in a chunked text arena, and the
//! de-duplication index over both.
//!
//! Reallocating one growing vector of calls, and boxing two ids per call, had the merging
//! thread spend most of its time copying and faulting in fresh pages.

use crate::collect::Row;
use freight_core::Tool;
use hashbrown::HashTable;

/// Calls per chunk: one Arrow batch each.
pub(crate) const ROWS_PER_CHUNK: usize = 64 * 1024;

/// Bytes per id-arena chunk; one call's ids never span two.
const ID_CHUNK_BYTES: usize = 1 << 20;

/// The longest id kept (`message.id`, `requestId`); a line with a longer one is skipped.
pub(crate) const MAX_ID_BYTES: usize = u16::MAX as usize;

/// Where a call's `message.id` and `requestId` sit in an id arena, one after the other. A
/// length of 0 means the id is absent (empty ids are skipped on reading).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IdRef {
    start: u32,
    message_len: u16,
    request_len: u16,
}

impl IdRef {
    /// Both ids are present: the pair names one call.
    pub fn has_message_and_request(self) -> bool {
        self.message_len > 0 && self.request_len > 0
    }
}

/// A call's ids, read from an arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ids<'a> {
    pub message: Option<&'a str>,
    pub request: Option<&'a str>,
}

fn split<'a>(text: &'a str, at: IdRef) -> Ids<'a> {
    let start = at.start as usize;
    let middle = start + usize::from(at.message_len);
    let end = middle + usize::from(at.request_len);
    let part = |from: usize, to: usize| (to > from).then(|| &text[from..to]);
    Ids { message: part(start, middle), request: part(middle, end) }
}

/// One file's ids: a single string, as a file's calls are few (its offsets stay far below
/// 4 GiB: that would take tens of millions of calls in one file).
#[derive(Debug, Default)]
pub(crate) struct FileIds {
    text: String,
}

impl FileIds {
    /// Adds a call's ids; each must be at most [`MAX_ID_BYTES`] long (the reader checks).
    pub fn push(&mut self, message: Option<&str>, request: Option<&str>) -> IdRef {
        let (message, request) = (message.unwrap_or_default(), request.unwrap_or_default());
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(message);
        self.text.push_str(request);
        IdRef { start, message_len: id_len(message), request_len: id_len(request) }
    }

    pub fn get(&self, at: IdRef) -> Ids<'_> {
        split(&self.text, at)
    }
}

fn id_len(id: &str) -> u16 {
    u16::try_from(id.len()).unwrap_or(u16::MAX)
}

/// The ids of every call kept, in chunks that are never reallocated.
#[derive(Debug, Default)]
pub(crate) struct IdArena {
    chunks: Vec<String>,
}

impl IdArena {
    /// Adds ids read from a file's [`FileIds`]; fails when the arena would pass 4 GiB.
    fn push(&mut self, ids: Ids<'_>) -> Result<IdRef, TooManyCalls> {
        let (message, request) = (ids.message.unwrap_or_default(), ids.request.unwrap_or_default());
        let needed = message.len() + request.len();
        if self.chunks.last().is_none_or(|chunk| chunk.len() + needed > ID_CHUNK_BYTES) {
            self.chunks.push(String::with_capacity(ID_CHUNK_BYTES));
        }
        let index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[index];
        let start = index * ID_CHUNK_BYTES + chunk.len();
        chunk.push_str(message);
        chunk.push_str(request);
        Ok(IdRef {
            start: u32::try_from(start).map_err(|_| TooManyCalls)?,
            message_len: id_len(message),
            request_len: id_len(request),
        })
    }

    pub fn get(&self, at: IdRef) -> Ids<'_> {
        let start = at.start as usize;
        let chunk = &self.chunks[start / ID_CHUNK_BYTES];
        split(chunk, IdRef { start: (start % ID_CHUNK_BYTES) as u32, ..at })
    }
}

/// More calls than one ingest can index (their ids pass 4 GiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than 4 GiB of message and request ids: too many calls for one ingest")]
pub struct TooManyCalls;

/// Calls kept, addressed by a `u32` slot, in chunks of [`ROWS_PER_CHUNK`].
#[derive(Debug, Default)]
pub(crate) struct Rows {
    chunks: Vec<Vec<Row>>,
}

impl Rows {
    fn push(&mut self, row: Row) -> u32 {
        if self.chunks.last().is_none_or(|chunk| chunk.len() == ROWS_PER_CHUNK) {
            self.chunks.push(Vec::with_capacity(ROWS_PER_CHUNK));
        }
        let index = self.chunks.len() - 1;
        let chunk = &mut self.chunks[index];
        chunk.push(row);
        u32::try_from(index * ROWS_PER_CHUNK + chunk.len() - 1).unwrap_or(u32::MAX)
    }

    fn get(&self, slot: u32) -> &Row {
        let slot = slot as usize;
        &self.chunks[slot / ROWS_PER_CHUNK][slot % ROWS_PER_CHUNK]
    }

    fn get_mut(&mut self, slot: u32) -> &mut Row {
        let slot = slot as usize;
        &mut self.chunks[slot / ROWS_PER_CHUNK][slot % ROWS_PER_CHUNK]
    }

    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// The calls in the order they were first kept, one batch's worth per chunk.
    pub fn into_chunks(self) -> Vec<Vec<Row>> {
        self.chunks
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &Row> {
        self.chunks.iter().flatten()
    }
}

/// A call read from a file, with the hashes of the keys its copies share (computed in the
/// reading threads, so the ordered merge only probes): for Claude Code, `primary` is
/// (`message.id`, `requestId`) and `scoped` is (session, `message.id`); for Codex, `primary`
/// is (time, model, tokens).
#[derive(Debug, Clone)]
pub(crate) struct FileRow {
    pub row: Row,
    pub primary_key: Option<u64>,
    pub scoped_key: Option<u64>,
}

/// Slots filed under their key's hash: a key names one call, but a hash may name several.
/// An entry is the hash's high half beside the slot, in 8 bytes (see [`entry`]).
type SlotIndex = HashTable<u64>;

const HIGH_HALF: u64 = !(u32::MAX as u64);

/// The index entry of `slot` under `key`.
fn entry(key: u64, slot: u32) -> u64 {
    (key & HIGH_HALF) | u64::from(slot)
}

/// The hash an entry is filed by: its high half in both halves, so that the table's bucket
/// (low bits) and tag (top bits) both come from what the entry keeps.
fn filed_by(entry: u64) -> u64 {
    (entry & HIGH_HALF) | (entry >> 32)
}

fn find(index: &SlotIndex, key: u64, same: impl Fn(u32) -> bool) -> Option<u32> {
    let high = key & HIGH_HALF;
    index
        .iter_hash(filed_by(key))
        .filter(|&&entry| entry & HIGH_HALF == high)
        .map(|&entry| entry as u32)
        .filter(|&slot| same(slot))
        .min()
}

fn register(index: &mut SlotIndex, key: Option<u64>, slot: u32) {
    let Some(key) = key else { return };
    let new = entry(key, slot);
    if !index.iter_hash(filed_by(key)).any(|&kept| kept == new) {
        index.insert_unique(filed_by(key), new, |&kept| filed_by(kept));
    }
}

/// Cross-file de-duplication, with ccusage's rules:
/// - Claude Code lines with `message.id` and `requestId`: one call per pair, across all files
///   (resumed sessions copy earlier messages into the new file);
/// - with `message.id` but no `requestId`: one call per (session, `message.id`);
/// - a sidechain replay (same `message.id`, new `requestId`, one copy `isSidechain`) in the
///   same session is the same call;
/// - Codex: one call per (time, model, token counts), as Codex repeats `token_count` events.
///
/// A hit on a hash is confirmed on the real fields, so a hash collision can never merge two
/// different calls. When several kept calls match, the first kept wins.
#[derive(Default)]
pub(crate) struct Merged {
    pub rows: Rows,
    pub ids: IdArena,
    by_request: SlotIndex,
    by_message: SlotIndex,
    by_codex_call: SlotIndex,
}

/// Which of two copies of the same call to keep: the main-chain copy over a sidechain
/// replay, then the one with more tokens, then the first seen.
pub(crate) fn replaces(kept: &Row, candidate: &Row) -> bool {
    if kept.is_sidechain != candidate.is_sidechain {
        return kept.is_sidechain;
    }
    candidate.tokens.total() > kept.tokens.total()
}

impl Merged {
    /// The kept call that `row` (with its ids `ids`) is a copy of.
    fn copy_of(&self, tool: Tool, candidate: &FileRow, ids: Ids<'_>) -> Option<u32> {
        let row = &candidate.row;
        match (tool, candidate.primary_key, candidate.scoped_key) {
            (Tool::Codex, Some(key), _) => find(&self.by_codex_call, key, |slot| {
                let kept = self.rows.get(slot);
                kept.ts_ms == row.ts_ms && kept.model == row.model && kept.tokens == row.tokens
            }),
            (Tool::Codex, None, _) | (Tool::ClaudeCode, _, None) | (Tool::GeminiCli | Tool::GenAi, ..) => None,
            (Tool::ClaudeCode, primary, Some(scoped)) => {
                let same_message = |slot: u32| {
                    let kept = self.rows.get(slot);
                    kept.session == row.session
                        && ids.message.is_some()
                        && self.ids.get(kept.ids).message == ids.message
                };
                match primary {
                    Some(primary) => {
                        find(&self.by_request, primary, |slot| self.ids.get(self.rows.get(slot).ids) == ids).or_else(
                            || {
                                find(&self.by_message, scoped, |slot| {
                                    same_message(slot) && (self.rows.get(slot).is_sidechain || row.is_sidechain)
                                })
                            },
                        )
                    }
                    None => find(&self.by_message, scoped, same_message),
                }
            }
        }
    }

    /// Adds a call read from a file whose ids are in `file_ids`; returns true when it was a
    /// copy of a call already kept.
    pub fn add(&mut self, tool: Tool, candidate: FileRow, file_ids: &FileIds) -> Result<bool, TooManyCalls> {
        let ids = file_ids.get(candidate.row.ids);
        let existing = self.copy_of(tool, &candidate, ids);
        let FileRow { mut row, primary_key, scoped_key } = candidate;
        let slot = match existing {
            Some(slot) => {
                let kept_ids = self.rows.get(slot).ids;
                let kept = self.rows.get_mut(slot);
                let (tool_use, actions) = (kept.tool_use || row.tool_use, kept.actions | row.actions);
                // The kept copy's fingerprint, or the other's when the kept one has none.
                let mut turn = kept.turn;
                if replaces(kept, &row) {
                    turn = if row.turn != 0 { row.turn } else { turn };
                    row.ids = kept_ids;
                    *kept = row;
                    // A sidechain replay carries its own request id.
                    if self.ids.get(kept_ids) != ids {
                        let at = self.ids.push(ids)?;
                        self.rows.get_mut(slot).ids = at;
                    }
                } else if turn == 0 {
                    turn = row.turn;
                }
                let kept = self.rows.get_mut(slot);
                (kept.tool_use, kept.actions, kept.turn) = (tool_use, actions, turn);
                slot
            }
            None => {
                row.ids = self.ids.push(ids)?;
                self.rows.push(row)
            }
        };
        match tool {
            Tool::Codex => register(&mut self.by_codex_call, primary_key, slot),
            Tool::ClaudeCode => {
                register(&mut self.by_request, primary_key, slot);
                register(&mut self.by_message, scoped_key, slot);
            }
            // Only read from OTLP, never from log files.
            Tool::GeminiCli | Tool::GenAi => {}
        }
        Ok(existing.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn the_index_finds_slots_by_key_and_lets_the_fields_decide() {
        let mut index = SlotIndex::default();
        let key = 0x1234_5678_9abc_def0;
        register(&mut index, Some(key), 7);
        register(&mut index, Some(key), 7);
        assert_eq!(index.len(), 1, "a slot is filed once under a key");
        // A key that differs only in the low half keeps the same entry bits: the fields tell.
        register(&mut index, Some(key ^ 1), 3);
        assert_eq!(find(&index, key, |_| true), Some(3), "the lowest slot whose fields match");
        assert_eq!(find(&index, key, |slot| slot == 7), Some(7));
        assert_eq!(find(&index, key ^ (1 << 40), |_| true), None);
        for slot in 10..10_000 {
            register(&mut index, Some(foldhash::fast::FixedState::default().hash_one(slot)), slot);
        }
        let probe = foldhash::fast::FixedState::default().hash_one(4_321u32);
        assert_eq!(find(&index, probe, |_| true), Some(4_321), "found after the table grew");
    }
}
