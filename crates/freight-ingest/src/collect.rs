//! Reads many log files in parallel into compact rows, de-duplicates them across files the
//! way the agents' own duplicates require, and counts everything it skipped, with file and line.

use crate::claude;
use crate::codex::{self, CodexSession};
use crate::discover::SourceFile;
use crate::intern::{Interner, NONE, StringId};
use crate::lines::for_each_line;
use crate::merge::{self, FileIds, FileRow, IdArena, IdRef, MAX_ID_BYTES, Merged, Rows, TooManyCalls};
use crate::tools::{self, ToolCall};
use freight_core::{Actions, Speed, TokenCounts, Tool, TurnFingerprint};
use memchr::memmem;
use std::collections::BTreeMap;
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
    #[error(transparent)]
    TooManyCalls(#[from] TooManyCalls),
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
    /// `message.id` and `requestId`, in the file's [`FileIds`] while read, then in the
    /// collection's [`IdArena`].
    pub ids: IdRef,
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
    rows: Vec<FileRow>,
    ids: FileIds,
    strings: Strings,
    report: IngestReport,
    /// The tool calls of the last row so far: Claude Code writes a call's content blocks on
    /// consecutive lines, and the call's fingerprint covers them all.
    last_turn: TurnFingerprint,
    /// Sessions whose last tool call the user rejected: their next call answers the rejection.
    rejected: Vec<StringId>,
}

/// How much of each call an ingest reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// What usage reports show: times, tokens, models, and the session, project and branch.
    /// Contents are skipped unread, and the table's id columns are left null.
    Usage,
    /// Also what each call's tool calls did, which calls answered a rejection, and the
    /// message and request ids: what the outcome reports link and judge calls by.
    Full,
}

impl Detail {
    fn content(self) -> claude::Content {
        match self {
            Detail::Usage => claude::Content::Skip,
            Detail::Full => claude::Content::ToolCalls,
        }
    }
}

/// Options for one ingest run.
pub struct IngestOptions<'a> {
    /// Fail on the first malformed line instead of counting it.
    pub strict: bool,
    /// How much of each call to read.
    pub detail: Detail,
    /// Told how many bytes were consumed, from any thread.
    pub progress: &'a (dyn Fn(u64) + Sync),
}

/// All calls found, de-duplicated, ready to become Arrow batches.
pub struct Collected {
    pub(crate) detail: Detail,
    pub(crate) files: Vec<SourceFile>,
    pub(crate) rows: Rows,
    pub(crate) ids: IdArena,
    pub(crate) strings: Strings,
    pub report: IngestReport,
}

fn read_file(index: u32, file: &SourceFile, options: &IngestOptions<'_>) -> Result<FileRows, IngestError> {
    let mut out = FileRows {
        rows: Vec::new(),
        ids: FileIds::default(),
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
    // The last line read in full that had a call: the next lines may repeat it.
    let mut pattern = Pattern::default();
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
                } else if options.detail == Detail::Full && claude::REJECTION.find(bytes).is_some() {
                    note_rejection(file, bytes, &mut out);
                }
            }
            None => {
                let content = options.detail.content();
                if let Some(repeat) = claude::parse_repeat(bytes, &pattern.line, &pattern.plan, content) {
                    if let Some(call) = claude_call(file, index, &pattern.fields(&repeat), &mut out) {
                        add_call(call, repeat.tool_use, &repeat.tool_calls, &mut out);
                    }
                    return;
                }
                match claude::parse_line_reading(bytes, content) {
                    Ok(line) => {
                        let fields = CallFields::of_line(&line);
                        if let Some(call) = claude_call(file, index, &fields, &mut out) {
                            add_call(call, line.tool_use, &line.tool_calls, &mut out);
                            pattern.keep(bytes, &line, &fields);
                        }
                    }
                    Err(error) => malformed(&mut out, line_number, error.to_string()),
                }
            }
            Some(session) => match codex::parse_line(bytes) {
                Ok(line) => {
                    if let Some(call) = session.feed(&line) {
                        let primary_key = Some(hash_of((call.timestamp_ms, call.model.as_deref(), call.tokens)));
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
                            ids: IdRef::default(),
                        };
                        out.rows.push(FileRow { row, primary_key, scoped_key: None });
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

/// The fields of a line with usage that its call is made of, from a line read in full or
/// from a repeat and the line it repeats.
#[derive(Debug, Clone, Copy)]
struct CallFields<'l> {
    session_id: Option<&'l str>,
    message_id: Option<&'l str>,
    request_id: Option<&'l str>,
    model: Option<&'l str>,
    cwd: Option<&'l str>,
    git_branch: Option<&'l str>,
    /// `None` for a repeat: its version is its pattern's, already checked.
    version: Option<&'l str>,
    is_sidechain: bool,
    cost_usd: Option<f64>,
    timestamp_ms: Option<i64>,
    usage: Option<&'l claude::ClaudeUsage>,
}

impl<'l> CallFields<'l> {
    fn of_line(line: &'l claude::ClaudeLine<'_>) -> CallFields<'l> {
        CallFields {
            session_id: line.session_id.as_deref(),
            message_id: line.message_id.as_deref(),
            request_id: line.request_id.as_deref(),
            model: line.model.as_deref(),
            cwd: line.cwd.as_deref(),
            git_branch: line.git_branch.as_deref(),
            version: line.version.as_deref(),
            is_sidechain: line.is_sidechain,
            cost_usd: line.cost_usd,
            timestamp_ms: line.timestamp_millis(),
            usage: line.usage.as_ref(),
        }
    }
}

/// A call as a row without tool calls or strings (interned only when the call becomes a row,
/// so a copy adds no string), with its strings and the keys its copies share.
#[derive(Debug, Clone)]
struct Call<'l> {
    row: Row,
    session: &'l str,
    model: Option<&'l str>,
    cwd: Option<&'l str>,
    branch: Option<&'l str>,
    primary_key: Option<u64>,
    scoped_key: Option<u64>,
}

/// The last line read in full that had a call: the fields its repeats share with it.
#[derive(Debug, Default)]
struct Pattern {
    line: Vec<u8>,
    /// Empty when the line cannot serve as a pattern.
    plan: claude::RepeatPlan,
    session_id: Option<String>,
    cwd: Option<String>,
    git_branch: Option<String>,
    is_sidechain: bool,
    cost_usd: Option<f64>,
}

impl Pattern {
    /// Keeps `bytes`, read to `line` and `fields`, reusing the last pattern's buffers.
    fn keep(&mut self, bytes: &[u8], line: &claude::ClaudeLine<'_>, fields: &CallFields<'_>) {
        let copy = |kept: &mut Option<String>, text: Option<&str>| match text {
            Some(text) => {
                let kept = kept.get_or_insert_default();
                kept.clear();
                kept.push_str(text);
            }
            None => *kept = None,
        };
        self.line.clear();
        self.line.extend_from_slice(bytes);
        line.plan(&mut self.plan);
        copy(&mut self.session_id, fields.session_id);
        copy(&mut self.cwd, fields.cwd);
        copy(&mut self.git_branch, fields.git_branch);
        (self.is_sidechain, self.cost_usd) = (fields.is_sidechain, fields.cost_usd);
    }

    /// A repeat's fields: its own values, and the kept line's for the rest.
    fn fields<'l>(&'l self, repeat: &'l claude::Repeat<'_>) -> CallFields<'l> {
        CallFields {
            session_id: self.session_id.as_deref(),
            message_id: repeat.message_id.as_deref(),
            request_id: repeat.request_id.as_deref(),
            model: repeat.model.as_deref(),
            cwd: self.cwd.as_deref(),
            git_branch: self.git_branch.as_deref(),
            version: None,
            is_sidechain: self.is_sidechain,
            cost_usd: self.cost_usd,
            timestamp_ms: repeat.timestamp_millis(),
            usage: repeat.usage.as_ref(),
        }
    }
}

/// Checks the fields of a line with usage and reads its call; `None` (counted when it is a
/// skip) for a line that is not one.
fn claude_call<'l>(file: &'l SourceFile, index: u32, fields: &CallFields<'l>, out: &mut FileRows) -> Option<Call<'l>> {
    let usage = fields.usage?;
    if fields.version.is_some_and(|version| !plausible_version(version)) {
        out.report.skip("version is not a Claude Code version (n.n.n)");
        return None;
    }
    let empty = |field: Option<&str>| field.is_some_and(str::is_empty);
    if empty(fields.session_id) || empty(fields.request_id) || empty(fields.message_id) || empty(fields.model) {
        out.report.skip("empty sessionId, requestId, message.id or model");
        return None;
    }
    let (message_id, request_id) = (fields.message_id, fields.request_id);
    if message_id.is_some_and(|id| id.len() > MAX_ID_BYTES) || request_id.is_some_and(|id| id.len() > MAX_ID_BYTES) {
        out.report.skip("message.id or requestId longer than 64 KiB");
        return None;
    }
    if usage.input_tokens.is_none() || usage.output_tokens.is_none() {
        out.report.skip("usage without input_tokens/output_tokens");
        return None;
    }
    let Some(ts_ms) = fields.timestamp_ms else {
        out.report.skip("usage without a valid timestamp");
        return None;
    };
    let session = fields.session_id.unwrap_or(&file.session);
    // The content blocks of one call share the last row's ids.
    let ids = match out.rows.last() {
        Some(last) if out.ids.get(last.row.ids) == (merge::Ids { message: message_id, request: request_id }) => {
            last.row.ids
        }
        _ => out.ids.push(message_id, request_id),
    };
    let row = Row {
        ts_ms,
        tokens: usage.tokens(),
        file: index,
        session: NONE,
        model: NONE,
        cwd: NONE,
        branch: NONE,
        speed: usage.speed(),
        is_sidechain: fields.is_sidechain,
        tool_use: false,
        actions: Actions::NONE,
        turn: 0,
        reported_cost: fields.cost_usd,
        ids,
    };
    Some(Call {
        row,
        session,
        // `<synthetic>` (Claude Code's own API-error messages) stays a model: the catalog
        // prices it at $0.
        model: fields.model,
        cwd: fields.cwd,
        branch: fields.git_branch,
        primary_key: message_id.zip(request_id).map(hash_of),
        scoped_key: message_id.map(|message_id| hash_of((session, message_id))),
    })
}

/// Adds a call with its line's tool calls to the file's rows. Claude Code writes one line per
/// content block, each with the call's usage: a copy of the last row's call is merged into
/// it here, with the cross-file rule for which copy's fields to keep.
fn add_call(call: Call<'_>, tool_use: bool, tool_calls: &[ToolCall<'_>], out: &mut FileRows) {
    let mut row = call.row;
    row.tool_use = tool_use;
    row.actions = tools::actions_of(tool_calls);
    let copy = match out.rows.last_mut() {
        Some(FileRow { row: last, .. }) if last.ids == row.ids && row.ids.has_message_and_request() => {
            out.report.duplicates += 1;
            for tool_call in tool_calls {
                tool_call.add_to(&mut out.last_turn);
            }
            if !merge::replaces(last, &row) {
                last.tool_use |= row.tool_use;
                last.actions |= row.actions;
                last.turn = out.last_turn.finish();
                return;
            }
            row.tool_use |= last.tool_use;
            row.actions |= last.actions;
            out.rows.pop();
            true
        }
        _ => {
            out.last_turn = TurnFingerprint::default();
            for tool_call in tool_calls {
                tool_call.add_to(&mut out.last_turn);
            }
            false
        }
    };
    row.session = out.strings.sessions.intern(call.session);
    row.model = out.strings.models.intern_option(call.model);
    row.cwd = out.strings.cwds.intern_option(call.cwd);
    row.branch = out.strings.branches.intern_option(call.branch);
    // A better copy of the call before is not the call after a rejection.
    if !copy && let Some(at) = out.rejected.iter().position(|&rejected| rejected == row.session) {
        out.rejected.swap_remove(at);
        row.actions |= Actions::REJECTED;
    }
    row.turn = out.last_turn.finish();
    out.rows.push(FileRow { row, primary_key: call.primary_key, scoped_key: call.scoped_key });
}

fn hash_of(value: impl std::hash::Hash) -> u64 {
    foldhash::fast::FixedState::default().hash_one(value)
}

/// Reads `files` on one worker thread per core and merges their rows in path order as they
/// arrive, so the result does not depend on thread timing and a file's rows are dropped once
/// merged (memory follows the calls kept, not the files read).
pub fn collect(files: Vec<SourceFile>, options: &IngestOptions<'_>) -> Result<Collected, IngestError> {
    let workers = std::thread::available_parallelism().map_or(2, usize::from).clamp(1, files.len().max(1));
    let next_file = AtomicUsize::new(0);
    let mut merging = Merging::default();
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
            while let Some(rows) = waiting.remove(&merging.files) {
                merging.add(files[merging.files].tool, rows?)?;
            }
        }
        Ok::<(), IngestError>(())
    })?;
    let Merging { merged: Merged { rows, ids, .. }, strings, mut report, .. } = merging;
    report.events = rows.len() as u64;
    Ok(Collected { detail: options.detail, files, rows, ids, strings, report })
}

/// The cross-file merge's state: calls kept so far with their strings, and the counts.
#[derive(Default)]
struct Merging {
    /// Files merged so far (the next file to merge is this index).
    files: usize,
    merged: Merged,
    strings: Strings,
    report: IngestReport,
}

impl Merging {
    fn add(&mut self, tool: Tool, file_rows: FileRows) -> Result<(), TooManyCalls> {
        let remap = self.strings.absorb(&file_rows.strings);
        self.report.merge(file_rows.report);
        for mut candidate in file_rows.rows {
            remap.apply(&mut candidate.row);
            if self.merged.add(tool, candidate, &file_rows.ids)? {
                self.report.duplicates += 1;
            }
        }
        self.files += 1;
        Ok(())
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
        collected(files).rows.iter().cloned().collect()
    }

    /// What collecting Claude Code files, each given as its lines, kept.
    fn collected(files: &[&[String]]) -> Collected {
        collected_with(files, Detail::Full)
    }

    fn collected_with(files: &[&[String]], detail: Detail) -> Collected {
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
        collect(sources, &IngestOptions { strict: true, detail, progress: &|_| {} }).expect("collects")
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
    fn streamed_blocks_keep_the_last_count_and_its_time() {
        // Each later block of a streamed call reports more output (read as a repeat of the
        // line before: only the usage, time and content differ).
        let block = |second: u32, blocks: &str, output: u32| {
            assistant("s", "1", second, blocks)
                .replace(r#""output_tokens":10"#, &format!(r#""output_tokens":{output}"#))
        };
        let found = rows(&[&[block(1, TEXT, 10), block(2, BASH, 20), block(3, EDIT, 30), block(4, TEXT, 25)]]);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].tokens.output, found[0].ts_ms % 60_000), (30, 3_000));
        assert_eq!(found[0].actions, Actions::TEST | Actions::EDIT);
        let whole = rows(&[&[block(3, &format!("{TEXT},{BASH},{EDIT},{TEXT}"), 30)]]);
        assert_eq!(found[0].turn, whole[0].turn);
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
        let found = collected(&[&lines]);
        let actions: Vec<(&str, Actions)> =
            found.rows.iter().map(|row| (found.ids.get(row.ids).message.unwrap_or_default(), row.actions)).collect();
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

    #[test]
    fn usage_detail_keeps_the_same_calls_without_what_they_did() {
        let block = |second: u32, blocks: &str, output: u32| {
            assistant("s", "1", second, blocks)
                .replace(r#""output_tokens":10"#, &format!(r#""output_tokens":{output}"#))
        };
        let first: &[String] = &[block(1, TEXT, 10), block(2, BASH, 20), rejection("s"), assistant("s", "2", 40, EDIT)];
        let resumed: &[String] = &[block(1, TEXT, 10), assistant("t", "3", 5, TEXT), block(3, EDIT, 30)];
        let (full, usage) =
            (collected_with(&[first, resumed], Detail::Full), collected_with(&[first, resumed], Detail::Usage));
        fn calls(found: &Collected) -> Vec<(i64, TokenCounts, StringId, StringId, Option<&str>)> {
            let ids = |row: &Row| found.ids.get(row.ids).message;
            found.rows.iter().map(|row| (row.ts_ms, row.tokens, row.session, row.model, ids(row))).collect()
        }
        assert_eq!(calls(&usage), calls(&full));
        assert_eq!((usage.report.duplicates, usage.report.events), (full.report.duplicates, full.report.events));
        assert!(full.rows.iter().any(|row| row.actions.contains(Actions::REJECTED) && row.tool_use));
        assert!(usage.rows.iter().all(|row| (row.actions, row.turn, row.tool_use) == (Actions::NONE, 0, false)));

        #[cfg(feature = "arrow")]
        {
            let nulls = |found: Collected| {
                let table = crate::table::into_table(found).expect("table");
                let batch = &table.batches[0];
                ["message_id", "request_id"].map(|name| batch.column_by_name(name).expect(name).null_count())
            };
            assert_eq!(nulls(full), [0, 0]);
            assert_eq!(nulls(usage), [3, 3]);
        }
    }
}
