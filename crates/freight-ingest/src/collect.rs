//! Reads many log files in parallel into compact rows, de-duplicates them across files the
//! way the agents' own duplicates require, and counts everything it skipped, with file and line.

use crate::claude;
use crate::codex::{self, CodexSession};
use crate::discover::SourceFile;
use crate::intern::{Interner, NONE, StringId};
use crate::lines::for_each_line;
use freight_core::{Actions, Speed, TokenCounts, Tool, TurnFingerprint};
use memchr::memmem;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, mpsc};

/// How many problem lines are kept as examples (all are counted).
const KEPT_EXAMPLES: usize = 20;

/// A line that could not be read, where it is and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineProblem {
    pub path: PathBuf,
    pub line: u64,
    pub problem: String,
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.problem)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("malformed line (strict mode): {0}")]
    Malformed(LineProblem),
    #[cfg(feature = "arrow")]
    #[error("building the usage table: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
}

/// What an ingest read, kept, and passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    pub files: u64,
    pub bytes: u64,
    pub lines: u64,
    /// Lines that were not JSON objects (truncated, corrupt).
    pub malformed_lines: u64,
    pub malformed_examples: Vec<LineProblem>,
    /// Lines with usage that were passed over, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Copies of a call already counted (Claude Code repeats usage on every content block).
    pub duplicates: u64,
    /// Calls kept.
    pub events: u64,
}

impl IngestReport {
    fn merge(&mut self, other: IngestReport) {
        self.files += other.files;
        self.bytes += other.bytes;
        self.lines += other.lines;
        self.malformed_lines += other.malformed_lines;
        let room = KEPT_EXAMPLES.saturating_sub(self.malformed_examples.len());
        self.malformed_examples.extend(other.malformed_examples.into_iter().take(room));
        for (reason, count) in other.skipped {
            *self.skipped.entry(reason).or_default() += count;
        }
        self.duplicates += other.duplicates;
        self.events += other.events;
    }

    fn skip(&mut self, reason: &str) {
        *self.skipped.entry(reason.to_string()).or_default() += 1;
    }
}

/// One call, compactly: strings are ids into the collection's per-column interners.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub ts_ms: i64,
    pub tokens: TokenCounts,
    pub file: u32,
    /// The session the line names (`sessionId`), else the file's session: the scope in which
    /// copies without a request id, and sidechain replays, are recognised.
    pub session: StringId,
    pub model: StringId,
    pub cwd: StringId,
    pub branch: StringId,
    pub speed: Speed,
    pub is_sidechain: bool,
    /// The call asked for a tool (any copy of it had a `tool_use` block).
    pub tool_use: bool,
    /// What the call's tool calls did (all copies together), with [`Actions::REJECTED`] when
    /// it answered a rejected tool call.
    pub actions: Actions,
    /// The fingerprint of the call's tool calls (0: none).
    pub turn: u32,
    pub reported_cost: Option<f64>,
    pub message_id: Option<Box<str>>,
    pub request_id: Option<Box<str>>,
    /// Hashes of the keys that copies of one call share, computed while reading (in
    /// parallel) so the ordered merge only probes: for Claude Code, `primary` is
    /// (`message.id`, `requestId`) and `scoped` is (session, `message.id`); for Codex,
    /// `primary` is (time, model, tokens).
    pub primary_key: Option<u64>,
    pub scoped_key: Option<u64>,
}

/// The distinct strings of each string column; rows hold ids into them.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    pub sessions: Interner,
    pub models: Interner,
    pub cwds: Interner,
    pub branches: Interner,
}

/// Ids of one file's strings in the collection's [`Strings`].
struct Remap {
    sessions: Vec<StringId>,
    models: Vec<StringId>,
    cwds: Vec<StringId>,
    branches: Vec<StringId>,
}

impl Strings {
    fn absorb(&mut self, other: &Strings) -> Remap {
        Remap {
            sessions: self.sessions.absorb(&other.sessions),
            models: self.models.absorb(&other.models),
            cwds: self.cwds.absorb(&other.cwds),
            branches: self.branches.absorb(&other.branches),
        }
    }
}

impl Remap {
    fn apply(&self, row: &mut Row) {
        let id = |map: &[StringId], local: StringId| if local == NONE { NONE } else { map[local as usize] };
        row.session = id(&self.sessions, row.session);
        row.model = id(&self.models, row.model);
        row.cwd = id(&self.cwds, row.cwd);
        row.branch = id(&self.branches, row.branch);
    }
}

/// Rows of one file, before the cross-file merge.
struct FileRows {
    rows: Vec<Row>,
    strings: Strings,
    report: IngestReport,
    /// The tool calls of the last row so far: Claude Code writes a call's content blocks on
    /// consecutive lines, and the call's fingerprint covers them all.
    last_turn: TurnFingerprint,
    /// Sessions whose last tool call the user rejected: their next call answers the rejection.
    rejected: Vec<StringId>,
}

/// Options for one ingest run.
pub struct IngestOptions<'a> {
    /// Fail on the first malformed line instead of counting it.
    pub strict: bool,
    /// Told how many bytes were consumed, from any thread.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// All calls found, de-duplicated, ready to become Arrow batches.
pub struct Collected {
    pub(crate) files: Vec<SourceFile>,
    pub(crate) rows: Vec<Row>,
    pub(crate) strings: Strings,
    pub report: IngestReport,
}

fn read_file(index: u32, file: &SourceFile, options: &IngestOptions<'_>) -> Result<FileRows, IngestError> {
    let mut out = FileRows {
        rows: Vec::new(),
        strings: Strings::default(),
        report: IngestReport::default(),
        last_turn: TurnFingerprint::default(),
        rejected: Vec::new(),
    };
    out.report.files = 1;
    out.report.bytes = file.bytes;
    let mut strict_failure: Option<LineProblem> = None;
    let mut codex_session = match file.tool {
        Tool::Codex => Some(CodexSession::new(codex_file_is_fork(&file.path))),
        Tool::ClaudeCode | Tool::GeminiCli | Tool::GenAi => None,
    };
    let mut malformed = |out: &mut FileRows, line: u64, problem: String| {
        let problem = LineProblem { path: file.path.clone(), line, problem };
        out.report.malformed_lines += 1;
        if out.report.malformed_examples.len() < KEPT_EXAMPLES {
            out.report.malformed_examples.push(problem.clone());
        }
        if options.strict && strict_failure.is_none() {
            strict_failure = Some(problem);
        }
    };
    let result = for_each_line(&file.path, options.progress, |line_number, bytes| {
        out.report.lines += 1;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match &mut codex_session {
            // Only lines that mention "usage" can carry tokens and are read in full; the rest
            // (prompts, tool results: most of the bytes) are checked for truncation only, and
            // read only when they contain the text of a rejected tool call.
            None if !mentions_usage(bytes) => {
                if !looks_whole(bytes) {
                    malformed(&mut out, line_number, "truncated line (not a whole JSON object)".into());
                } else if claude::REJECTION.find(bytes).is_some() {
                    note_rejection(file, bytes, &mut out);
                }
            }
            None => match claude::parse_line(bytes) {
                Ok(line) => claude_row(file, index, &line, &mut out),
                Err(error) => malformed(&mut out, line_number, error.to_string()),
            },
            Some(session) => match codex::parse_line(bytes) {
                Ok(line) => {
                    if let Some(call) = session.feed(&line) {
                        let row = Row {
                            ts_ms: call.timestamp_ms,
                            tokens: call.tokens,
                            file: index,
                            session: out.strings.sessions.intern(&file.session),
                            model: out.strings.models.intern_option(call.model.as_deref()),
                            cwd: out.strings.cwds.intern_option(call.cwd.as_deref()),
                            branch: NONE,
                            speed: call.speed,
                            is_sidechain: false,
                            tool_use: false,
                            actions: call.actions,
                            turn: call.turn,
                            reported_cost: None,
                            message_id: None,
                            request_id: None,
                            primary_key: Some(hash_of((call.timestamp_ms, call.model.as_deref(), call.tokens))),
                            scoped_key: None,
                        };
                        out.rows.push(row);
                    }
                }
                Err(error) => malformed(&mut out, line_number, error.to_string()),
            },
        }
    });
    result.map_err(|source| IngestError::Io { path: file.path.clone(), source })?;
    if let Some(problem) = strict_failure {
        return Err(IngestError::Malformed(problem));
    }
    Ok(out)
}

static USAGE_KEY: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\"usage\""));

/// Whether a line contains `"usage"`. An assistant line's usage sits after its content, a
/// few hundred bytes from the end, so the tail is searched first and the rest only when the
/// tail lacks it (memchr's reverse search has no SIMD path and was slower than both).
fn mentions_usage(line: &[u8]) -> bool {
    const TAIL: usize = 640;
    let tail_start = line.len().saturating_sub(TAIL);
    USAGE_KEY.find(&line[tail_start..]).is_some()
        || USAGE_KEY.find(&line[..(tail_start + USAGE_KEY.needle().len()).min(line.len())]).is_some()
}

/// A line that starts with `{` and ends with `}`: what a cut-short write never leaves.
fn looks_whole(bytes: &[u8]) -> bool {
    let trimmed = bytes.trim_ascii();
    trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}')
}

/// Forked or subagent Codex files say `thread_spawn` near their start.
fn codex_file_is_fork(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = Vec::with_capacity(16 * 1024);
    let Ok(file) = fs_err::File::open(path) else {
        return false;
    };
    if file.take(16 * 1024).read_to_end(&mut head).is_err() {
        return false;
    }
    memchr::memmem::find(&head, b"thread_spawn").is_some()
}

/// `2.0.14` and the like; anything else in `version` marks a line that is not Claude Code's.
fn plausible_version(version: &str) -> bool {
    let mut parts = version.splitn(3, '.');
    let numeric =
        |part: Option<&str>| part.is_some_and(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    let (major, minor) = (parts.next(), parts.next());
    let patch_starts_with_digit =
        parts.next().is_some_and(|patch| patch.bytes().next().is_some_and(|b| b.is_ascii_digit()));
    numeric(major) && numeric(minor) && patch_starts_with_digit
}

/// A user line that may hold a rejected tool call's result: when it does, its session's next
/// call is marked. A line that does not read is left alone (its truncation was checked).
fn note_rejection(file: &SourceFile, bytes: &[u8], out: &mut FileRows) {
    let Ok(line) = claude::parse_user_line(bytes) else { return };
    if line.rejection {
        let session = out.strings.sessions.intern(line.session_id.as_deref().unwrap_or(&file.session));
        if !out.rejected.contains(&session) {
            out.rejected.push(session);
        }
    }
}

fn claude_row(file: &SourceFile, index: u32, line: &claude::ClaudeLine<'_>, out: &mut FileRows) {
    let Some(usage) = &line.usage else { return };
    if line.version.as_deref().is_some_and(|version| !plausible_version(version)) {
        out.report.skip("version is not a Claude Code version (n.n.n)");
        return;
    }
    let empty = |field: &Option<std::borrow::Cow<'_, str>>| field.as_deref().is_some_and(str::is_empty);
    if empty(&line.session_id) || empty(&line.request_id) || empty(&line.message_id) || empty(&line.model) {
        out.report.skip("empty sessionId, requestId, message.id or model");
        return;
    }
    if usage.input_tokens.is_none() || usage.output_tokens.is_none() {
        out.report.skip("usage without input_tokens/output_tokens");
        return;
    }
    let Some(ts_ms) = line.timestamp_millis() else {
        out.report.skip("usage without a valid timestamp");
        return;
    };
    let tokens = usage.tokens();
    let mut tool_use = line.tool_use;
    let mut actions = line.actions();
    // Claude Code writes one line per content block, each with the call's usage: merge a copy
    // of the previous line's call here, before allocating, with the cross-file rule.
    let copy = if let (Some(last), Some(message_id), Some(request_id)) =
        (out.rows.last_mut(), line.message_id.as_deref(), line.request_id.as_deref())
        && last.message_id.as_deref() == Some(message_id)
        && last.request_id.as_deref() == Some(request_id)
    {
        out.report.duplicates += 1;
        for call in &line.tool_calls {
            call.add_to(&mut out.last_turn);
        }
        let better = if last.is_sidechain != line.is_sidechain {
            last.is_sidechain
        } else {
            tokens.total() > last.tokens.total()
        };
        if !better {
            last.tool_use |= line.tool_use;
            last.actions |= actions;
            last.turn = out.last_turn.finish();
            return;
        }
        tool_use |= last.tool_use;
        actions |= last.actions;
        out.rows.pop();
        true
    } else {
        out.last_turn = TurnFingerprint::default();
        for call in &line.tool_calls {
            call.add_to(&mut out.last_turn);
        }
        false
    };
    // `<synthetic>` (Claude Code's own API-error messages) stays a model: the catalog prices it at $0.
    let model = line.model.as_deref();
    let session = line.session_id.as_deref().unwrap_or(&file.session);
    let message_id = line.message_id.as_deref();
    let request_id = line.request_id.as_deref();
    let session_id = out.strings.sessions.intern(session);
    // A better copy of the call before is not the call after a rejection.
    if !copy && let Some(at) = out.rejected.iter().position(|&rejected| rejected == session_id) {
        out.rejected.swap_remove(at);
        actions |= Actions::REJECTED;
    }
    let row = Row {
        ts_ms,
        tokens,
        file: index,
        session: session_id,
        model: out.strings.models.intern_option(model),
        cwd: out.strings.cwds.intern_option(line.cwd.as_deref()),
        branch: out.strings.branches.intern_option(line.git_branch.as_deref()),
        speed: usage.speed(),
        is_sidechain: line.is_sidechain,
        tool_use,
        actions,
        turn: out.last_turn.finish(),
        reported_cost: line.cost_usd,
        message_id: message_id.map(Box::from),
        request_id: request_id.map(Box::from),
        primary_key: message_id.zip(request_id).map(hash_of),
        scoped_key: message_id.map(|message_id| hash_of((session, message_id))),
    };
    out.rows.push(row);
}

/// Which of two copies of the same call to keep: the main-chain copy over a sidechain
/// replay, then the one with more tokens, then the first seen.
fn replaces(kept: &Row, candidate: &Row) -> bool {
    if kept.is_sidechain != candidate.is_sidechain {
        return kept.is_sidechain;
    }
    candidate.tokens.total() > kept.tokens.total()
}

fn hash_of(value: impl std::hash::Hash) -> u64 {
    foldhash::fast::FixedState::default().hash_one(value)
}

/// Rows filed under one key hash: almost always one, several only on a hash collision or when
/// one key names several calls (the same message id in two sessions).
#[derive(Debug)]
enum Slots {
    One(u32),
    Many(Vec<u32>),
}

impl Slots {
    fn as_slice(&self) -> &[u32] {
        match self {
            Slots::One(slot) => std::slice::from_ref(slot),
            Slots::Many(slots) => slots,
        }
    }

    fn add(&mut self, slot: u32) {
        match self {
            Slots::One(existing) if *existing == slot => {}
            Slots::One(existing) => *self = Slots::Many(vec![*existing, slot]),
            Slots::Many(slots) if !slots.contains(&slot) => slots.push(slot),
            Slots::Many(_) => {}
        }
    }
}

type SlotIndex = HashMap<u64, Slots, foldhash::fast::FixedState>;

/// Cross-file de-duplication, with ccusage's rules:
/// - Claude Code lines with `message.id` and `requestId`: one call per pair, across all files
///   (resumed sessions copy earlier messages into the new file);
/// - with `message.id` but no `requestId`: one call per (session, `message.id`);
/// - a sidechain replay (same `message.id`, new `requestId`, one copy `isSidechain`) in the
///   same session is the same call;
/// - Codex: one call per (time, model, token counts), as Codex repeats `token_count` events.
///
/// Keys are 64-bit hashes; a hit is confirmed on the real fields, so a hash collision can
/// never merge two different calls.
#[derive(Default)]
struct Dedup {
    by_request: SlotIndex,
    by_message: SlotIndex,
    by_codex_call: SlotIndex,
}

impl Dedup {
    fn find(index: &SlotIndex, key: u64, rows: &[Row], same: impl Fn(&Row) -> bool) -> Option<u32> {
        index.get(&key)?.as_slice().iter().copied().find(|&slot| same(&rows[slot as usize]))
    }

    /// Adds `row`; returns true when it was a copy of a call already present.
    fn add(&mut self, rows: &mut Vec<Row>, tool: Tool, row: Row) -> bool {
        let existing = match (tool, row.primary_key, row.scoped_key) {
            (Tool::Codex, Some(key), _) => Dedup::find(&self.by_codex_call, key, rows, |kept| {
                kept.ts_ms == row.ts_ms && kept.model == row.model && kept.tokens == row.tokens
            }),
            (Tool::Codex, None, _) | (Tool::ClaudeCode, _, None) | (Tool::GeminiCli | Tool::GenAi, ..) => None,
            (Tool::ClaudeCode, primary, Some(scoped)) => {
                let same_message = |kept: &Row| {
                    kept.session == row.session && kept.message_id.is_some() && kept.message_id == row.message_id
                };
                match primary {
                    Some(primary) => Dedup::find(&self.by_request, primary, rows, |kept| {
                        kept.message_id == row.message_id && kept.request_id == row.request_id
                    })
                    .or_else(|| {
                        Dedup::find(&self.by_message, scoped, rows, |kept| {
                            same_message(kept) && (kept.is_sidechain || row.is_sidechain)
                        })
                    }),
                    None => Dedup::find(&self.by_message, scoped, rows, same_message),
                }
            }
        };
        let (primary, scoped) = (row.primary_key, row.scoped_key);
        let slot = match existing {
            Some(slot) => {
                let kept = &mut rows[slot as usize];
                let (tool_use, actions) = (kept.tool_use || row.tool_use, kept.actions | row.actions);
                // The kept copy's fingerprint, or the other's when the kept one has none.
                let mut turn = kept.turn;
                if replaces(kept, &row) {
                    *kept = row;
                    turn = if kept.turn != 0 { kept.turn } else { turn };
                } else if turn == 0 {
                    turn = row.turn;
                }
                (kept.tool_use, kept.actions, kept.turn) = (tool_use, actions, turn);
                slot
            }
            None => {
                rows.push(row);
                u32::try_from(rows.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let register = |index: &mut SlotIndex, key: Option<u64>| {
            if let Some(key) = key {
                match index.entry(key) {
                    Entry::Vacant(vacant) => {
                        vacant.insert(Slots::One(slot));
                    }
                    Entry::Occupied(mut occupied) => occupied.get_mut().add(slot),
                }
            }
        };
        match tool {
            Tool::Codex => register(&mut self.by_codex_call, primary),
            Tool::ClaudeCode => {
                register(&mut self.by_request, primary);
                register(&mut self.by_message, scoped);
            }
            // Only read from OTLP, never from log files.
            Tool::GeminiCli | Tool::GenAi => {}
        }
        existing.is_some()
    }
}

/// Reads `files` on one worker thread per core and merges their rows in path order as they
/// arrive, so the result does not depend on thread timing and a file's rows are dropped once
/// merged (memory follows the calls kept, not the files read).
pub fn collect(files: Vec<SourceFile>, options: &IngestOptions<'_>) -> Result<Collected, IngestError> {
    let workers = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, files.len().max(1));
    let next_file = AtomicUsize::new(0);
    let mut merged = Merged::default();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<(usize, Result<FileRows, IngestError>)>(workers * 2);
        for _ in 0..workers {
            let (sender, files, next_file) = (sender.clone(), &files, &next_file);
            scope.spawn(move || {
                loop {
                    let index = next_file.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(index) else { break };
                    let rows = read_file(u32::try_from(index).unwrap_or(u32::MAX), file, options);
                    if sender.send((index, rows)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Files finish out of order; each waits here until the files before it are merged.
        let mut waiting: BTreeMap<usize, Result<FileRows, IngestError>> = BTreeMap::new();
        for (index, rows) in receiver {
            waiting.insert(index, rows);
            while let Some(rows) = waiting.remove(&merged.files) {
                merged.add(files[merged.files].tool, rows?);
            }
        }
        Ok::<(), IngestError>(())
    })?;
    let Merged { rows, strings, mut report, .. } = merged;
    report.events = rows.len() as u64;
    Ok(Collected { files, rows, strings, report })
}

/// The cross-file merge's state: calls kept so far, their strings, and the de-duplication index.
#[derive(Default)]
struct Merged {
    /// Files merged so far (the next file to merge is this index).
    files: usize,
    rows: Vec<Row>,
    strings: Strings,
    report: IngestReport,
    dedup: Dedup,
}

impl Merged {
    fn add(&mut self, tool: Tool, file_rows: FileRows) {
        let remap = self.strings.absorb(&file_rows.strings);
        self.report.merge(file_rows.report);
        for mut row in file_rows.rows {
            remap.apply(&mut row);
            if self.dedup.add(&mut self.rows, tool, row) {
                self.report.duplicates += 1;
            }
        }
        self.files += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::REJECTION_TEXT;

    fn assistant(session: &str, message: &str, second: u32, blocks: &str) -> String {
        format!(
            r#"{{"sessionId":"{session}","version":"2.0.14","type":"assistant","requestId":"req_{message}","timestamp":"2026-03-01T10:00:{second:02}.000Z","message":{{"id":"msg_{message}","model":"claude-sonnet-4-5","role":"assistant","content":[{blocks}],"usage":{{"input_tokens":3,"output_tokens":10}}}}}}"#
        )
    }

    fn rejection(session: &str) -> String {
        format!(
            r#"{{"sessionId":"{session}","type":"user","message":{{"role":"user","content":[{{"type":"tool_result","content":"{REJECTION_TEXT}. STOP what you are doing.","is_error":true,"tool_use_id":"toolu_1"}}]}},"timestamp":"2026-03-01T10:00:30.000Z"}}"#
        )
    }

    const BASH: &str = r#"{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"cargo test"}}"#;
    const EDIT: &str = r#"{"type":"tool_use","id":"toolu_2","name":"Edit","input":{"file_path":"/a","old_string":"x","new_string":"y"}}"#;
    const TEXT: &str = r#"{"type":"text","text":"ok"}"#;

    /// The rows of Claude Code files, each given as its lines.
    fn rows(files: &[&[String]]) -> Vec<Row> {
        let dir = tempfile::tempdir().expect("tempdir");
        let sources = files
            .iter()
            .enumerate()
            .map(|(index, lines)| {
                let path = dir.path().join(format!("{index}.jsonl"));
                std::fs::write(&path, lines.join("\n")).expect("write");
                SourceFile {
                    tool: Tool::ClaudeCode,
                    bytes: std::fs::metadata(&path).expect("metadata").len(),
                    path,
                    project: None,
                    session: format!("file-{index}"),
                    user: None,
                }
            })
            .collect();
        collect(sources, &IngestOptions { strict: true, progress: &|_| {} }).expect("collects").rows
    }

    #[test]
    fn a_calls_blocks_on_several_lines_add_up_to_the_one_line_form() {
        let split =
            rows(&[&[assistant("s", "1", 1, TEXT), assistant("s", "1", 1, BASH), assistant("s", "1", 1, EDIT)]]);
        let whole = rows(&[&[assistant("s", "1", 1, &format!("{TEXT},{BASH},{EDIT}"))]]);
        assert_eq!(split.len(), 1);
        assert_eq!(split[0].actions, Actions::TEST | Actions::EDIT);
        assert!(split[0].tool_use);
        assert_eq!((split[0].actions, split[0].turn), (whole[0].actions, whole[0].turn));
        assert_ne!(split[0].turn, 0);

        let plain = rows(&[&[assistant("s", "1", 1, TEXT)]]);
        assert_eq!((plain[0].actions, plain[0].turn, plain[0].tool_use), (Actions::NONE, 0, false));
    }

    #[test]
    fn a_rejection_marks_the_sessions_next_call_only() {
        let lines = [
            assistant("s", "1", 1, EDIT),
            assistant("other", "9", 2, TEXT),
            rejection("s"),
            assistant("other", "8", 3, TEXT),
            assistant("s", "2", 40, TEXT),
            assistant("s", "2", 40, BASH),
            assistant("s", "3", 50, TEXT),
        ];
        let found = rows(&[&lines]);
        let actions: Vec<(&str, Actions)> =
            found.iter().map(|row| (row.message_id.as_deref().unwrap_or_default(), row.actions)).collect();
        assert_eq!(
            actions,
            [
                ("msg_1", Actions::EDIT),
                ("msg_9", Actions::NONE),
                ("msg_8", Actions::NONE),
                ("msg_2", Actions::REJECTED | Actions::TEST),
                ("msg_3", Actions::NONE),
            ]
        );
    }

    #[test]
    fn copies_in_other_files_merge_their_actions_and_keep_a_fingerprint() {
        let first: &[String] = &[assistant("s", "1", 1, TEXT)];
        let resumed: &[String] = &[assistant("s", "1", 1, TEXT), assistant("s", "1", 1, BASH)];
        let found = rows(&[first, resumed]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].actions, Actions::TEST);
        assert_eq!(found[0].turn, rows(&[resumed])[0].turn);
        assert!(found[0].tool_use);
    }
}
