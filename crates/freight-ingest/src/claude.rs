//! Claude Code session logs (`projects/<project>/<session>.jsonl`): one JSON object per line;
//! assistant lines carry `message.usage`. This module reads one line into a [`ClaudeLine`].

use crate::scan::{ScanResult, Scanner};
use crate::time::parse_millis;
use crate::tools::{self, ToolCall};
use freight_core::{Actions, Speed, TokenCounts};
use memchr::memmem;
use std::borrow::Cow;
use std::sync::LazyLock;

/// A content block that calls a tool, as Claude Code writes it.
static TOOL_USE: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(br#""type":"tool_use""#));

/// How the content of a line that carries a tool call starts (Claude Code writes one content
/// block per line, its type first): such a content is read block by block in one pass.
const TOOL_USE_FIRST: &[u8] = br#"[{"type":"tool_use""#;

/// How Claude Code's result of a tool call the user rejected begins.
pub const REJECTION_TEXT: &str = "The user doesn't want to proceed with this tool use";

/// [`REJECTION_TEXT`] anywhere in a line: the cheap test before a user line is read in full.
pub static REJECTION: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(REJECTION_TEXT.as_bytes()));

/// The fields of one Claude Code line that usage reports need.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClaudeLine<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub session_id: Option<Cow<'a, str>>,
    pub request_id: Option<Cow<'a, str>>,
    pub message_id: Option<Cow<'a, str>>,
    pub model: Option<Cow<'a, str>>,
    pub cwd: Option<Cow<'a, str>>,
    pub git_branch: Option<Cow<'a, str>>,
    pub version: Option<Cow<'a, str>>,
    pub is_sidechain: bool,
    pub is_api_error: bool,
    pub cost_usd: Option<f64>,
    pub usage: Option<ClaudeUsage>,
    /// The message's content holds a `tool_use` block.
    pub tool_use: bool,
    /// The `tool_use` blocks that could be read (a malformed block ends the list).
    pub tool_calls: Vec<ToolCall<'a>>,
    /// The content holds the result of a tool call the user rejected (read by
    /// [`parse_user_line`] only).
    pub rejection: bool,
    /// Where the values that differ between a session's assistant lines sit.
    pub varying: Varying,
}

/// The assistant lines of a session differ mostly in a few values: `parentUuid`, `uuid`,
/// `timestamp`, and the message's `id`, `model`, `content` and `usage` and the `requestId`
/// (a call with several content blocks is several lines, whose output count grows as the
/// blocks stream). A line records where those values sit, so that the next line can be
/// checked against it byte for byte outside them ([`parse_repeat`]) instead of being read
/// key by key.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Varying {
    /// Byte ranges of the values, by [`VaryingValue`].
    spans: [Option<(usize, usize)>; VaryingValue::ALL.len()],
    /// A key came twice, or the fields came from a wrapped message: the line is no pattern.
    unusable: bool,
}

/// The values [`Varying`] locates. A usage's counts are located one by one, so that a repeat
/// compares the keys around them instead of reading the usage key by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VaryingValue {
    ParentUuid = 0,
    Uuid = 1,
    Timestamp = 2,
    Content = 3,
    /// The whole `usage` object: a pattern needs one, but its counts are what vary.
    Usage = 4,
    MessageId = 5,
    RequestId = 6,
    Model = 7,
    InputTokens = 8,
    OutputTokens = 9,
    CacheCreationTokens = 10,
    CacheReadTokens = 11,
    Ephemeral5mTokens = 12,
    Ephemeral1hTokens = 13,
}

impl VaryingValue {
    const ALL: [VaryingValue; 14] = [
        VaryingValue::ParentUuid,
        VaryingValue::Uuid,
        VaryingValue::Timestamp,
        VaryingValue::Content,
        VaryingValue::Usage,
        VaryingValue::MessageId,
        VaryingValue::RequestId,
        VaryingValue::Model,
        VaryingValue::InputTokens,
        VaryingValue::OutputTokens,
        VaryingValue::CacheCreationTokens,
        VaryingValue::CacheReadTokens,
        VaryingValue::Ephemeral5mTokens,
        VaryingValue::Ephemeral1hTokens,
    ];

    /// The usage count this value is, if it is one.
    fn count(self, usage: &mut ClaudeUsage) -> Option<&mut Option<u64>> {
        match self {
            VaryingValue::InputTokens => Some(&mut usage.input_tokens),
            VaryingValue::OutputTokens => Some(&mut usage.output_tokens),
            VaryingValue::CacheCreationTokens => Some(&mut usage.cache_creation_input_tokens),
            VaryingValue::CacheReadTokens => Some(&mut usage.cache_read_input_tokens),
            VaryingValue::Ephemeral5mTokens => Some(&mut usage.ephemeral_5m),
            VaryingValue::Ephemeral1hTokens => Some(&mut usage.ephemeral_1h),
            _ => None,
        }
    }
}

impl Varying {
    fn record(&mut self, value: VaryingValue, start: usize, end: usize) {
        let slot = &mut self.spans[value as usize];
        self.unusable |= slot.is_some();
        *slot = Some((start, end));
    }
}

/// A pattern line's varying values in line order: what [`parse_repeat`] reads a line by.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RepeatPlan {
    values: Vec<(usize, usize, VaryingValue)>,
    /// The pattern's usage says `"speed":"fast"` (compared, so the repeat's says it too).
    fast: bool,
}

/// What a repeat of an earlier line reads to: the values of its own.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Repeat<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub message_id: Option<Cow<'a, str>>,
    pub request_id: Option<Cow<'a, str>>,
    pub model: Option<Cow<'a, str>>,
    pub usage: Option<ClaudeUsage>,
    pub tool_use: bool,
    pub tool_calls: Vec<ToolCall<'a>>,
}

impl Repeat<'_> {
    pub fn timestamp_millis(&self) -> Option<i64> {
        self.timestamp.as_deref().and_then(parse_millis)
    }

    /// What the content's tool calls did.
    pub fn actions(&self) -> Actions {
        tools::actions_of(&self.tool_calls)
    }
}

/// Reads `bytes` as a repeat of `pattern` (a line read with [`parse_line`], whose
/// [`ClaudeLine::plan`] is `plan`), taking `reading` from its content: `None` unless the two
/// are equal byte for byte outside the varying values and those values read (or the plan is
/// empty). Equal bytes read to equal fields, so a repeat has the pattern's other fields
/// (session, cwd, branch, version, sidechain, the usage's other keys and the rest).
pub fn parse_repeat<'a>(bytes: &'a [u8], pattern: &[u8], plan: &RepeatPlan, reading: Content) -> Option<Repeat<'a>> {
    if plan.values.is_empty() {
        return None;
    }
    let mut repeat = Repeat::default();
    let mut usage = ClaudeUsage { fast: plan.fast, ..ClaudeUsage::default() };
    let mut scanner = Scanner::new(bytes);
    let mut in_pattern = 0usize;
    for &(start, end, value) in &plan.values {
        let same = pattern.get(in_pattern..start)?;
        if !bytes.get(scanner.position()..)?.starts_with(same) {
            return None;
        }
        scanner.skip_to(scanner.position() + same.len());
        match value {
            VaryingValue::Content => {
                let mut line = ClaudeLine::default();
                content(&mut scanner, &mut line, reading).ok()?;
                (repeat.tool_use, repeat.tool_calls) = (line.tool_use, line.tool_calls);
            }
            VaryingValue::Timestamp => repeat.timestamp = scanner.string().ok()?,
            VaryingValue::MessageId => repeat.message_id = scanner.string().ok()?,
            VaryingValue::RequestId => repeat.request_id = scanner.string().ok()?,
            VaryingValue::Model => repeat.model = scanner.string().ok()?,
            VaryingValue::ParentUuid | VaryingValue::Uuid => scanner.skip().ok()?,
            // A count; no plan holds the whole usage, which would read as no repeat.
            count => *count.count(&mut usage)? = scanner.count().ok()?,
        }
        in_pattern = end;
    }
    repeat.usage = Some(usage);
    (bytes.get(scanner.position()..)? == pattern.get(in_pattern..)?).then_some(repeat)
}

/// `message.usage` as written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ClaudeUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
    pub ephemeral_5m: Option<u64>,
    pub ephemeral_1h: Option<u64>,
    pub fast: bool,
}

impl ClaudeUsage {
    /// Token counts in freight's convention. When `cache_creation` splits the writes by
    /// duration, the split replaces the flat `cache_creation_input_tokens`.
    pub fn tokens(&self) -> TokenCounts {
        let (cache_write_5m, cache_write_1h) = if self.ephemeral_5m.is_some() || self.ephemeral_1h.is_some() {
            (self.ephemeral_5m.unwrap_or(0), self.ephemeral_1h.unwrap_or(0))
        } else {
            (self.cache_creation_input_tokens.unwrap_or(0), 0)
        };
        TokenCounts {
            input: self.input_tokens.unwrap_or(0),
            output: self.output_tokens.unwrap_or(0),
            cache_read: self.cache_read_input_tokens.unwrap_or(0),
            cache_write_5m,
            cache_write_1h,
            reasoning: 0,
        }
    }

    pub fn speed(&self) -> Speed {
        if self.fast { Speed::Fast } else { Speed::Standard }
    }
}

impl ClaudeLine<'_> {
    /// The plan for reading repeats of this line into `plan`; false (and an empty plan) when
    /// the line cannot serve as a pattern: it needs a timestamp, a content and a usage object.
    pub fn plan(&self, plan: &mut RepeatPlan) -> bool {
        plan.values.clear();
        let spans = &self.varying.spans;
        let has = |value: VaryingValue| spans[value as usize].is_some();
        let Some(usage) = &self.usage else { return false };
        if self.varying.unusable
            || !has(VaryingValue::Timestamp)
            || !has(VaryingValue::Content)
            || !has(VaryingValue::Usage)
        {
            return false;
        }
        // The usage's counts are read in place; its other bytes are compared.
        plan.values.extend(
            VaryingValue::ALL
                .into_iter()
                .filter(|&value| value != VaryingValue::Usage)
                .filter_map(|value| spans[value as usize].map(|(start, end)| (start, end, value))),
        );
        plan.values.sort_unstable_by_key(|&(start, ..)| start);
        plan.fast = usage.fast;
        true
    }

    pub fn timestamp_millis(&self) -> Option<i64> {
        self.timestamp.as_deref().and_then(parse_millis)
    }

    /// What the message's tool calls did ([`Actions::NONE`] without any).
    pub fn actions(&self) -> Actions {
        tools::actions_of(&self.tool_calls)
    }

    /// The fingerprint of the message's tool calls (0 without any).
    pub fn turn(&self) -> u32 {
        tools::fingerprint_of(&self.tool_calls)
    }
}

/// A string, or `None` for any other kind of value (skipped).
fn text<'a>(scanner: &mut Scanner<'a>) -> ScanResult<Option<Cow<'a, str>>> {
    if scanner.peek()? == b'"' { scanner.string() } else { scanner.skip().map(|()| None) }
}

/// A tool's `input`: its bytes as written, and `input.command` when that is a string.
fn tool_input<'a>(scanner: &mut Scanner<'a>) -> ScanResult<(&'a [u8], Option<Cow<'a, str>>)> {
    let mut command = None;
    let is_object = scanner.peek()? == b'{';
    let start = scanner.position();
    if is_object {
        scanner.object(|s, key| match key {
            b"command" => text(s).map(|v| command = v),
            _ => s.skip(),
        })?;
    } else {
        scanner.skip()?;
    }
    Ok((&scanner.bytes()[start..scanner.position()], command))
}

/// Reads the `tool_use` blocks of the content array at the cursor into `calls`. A block that
/// does not read ends the reading (an error): the calls before it stay in `calls`.
fn read_tool_calls<'a>(scanner: &mut Scanner<'a>, calls: &mut Vec<ToolCall<'a>>) -> ScanResult<()> {
    scanner.array(|s| {
        if s.peek()? != b'{' {
            return s.skip();
        }
        let (mut tool_use, mut name, mut input, mut command) = (false, None, &b""[..], None);
        s.object(|s, key| match key {
            b"type" => s.is_string(b"tool_use").map(|v| tool_use = v),
            b"name" => text(s).map(|v| name = v),
            b"input" => tool_input(s).map(|(raw, text)| (input, command) = (raw, text)),
            _ => s.skip(),
        })?;
        if tool_use && let Some(name) = name {
            let actions = Actions::of_tool(&name, command.as_deref());
            calls.push(ToolCall { name, input: Cow::Borrowed(input), actions });
        }
        Ok(())
    })
}

/// What a reading takes from a message's content besides where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Nothing: it is skipped (usage reports read no tool call).
    Skip,
    /// Its tool calls.
    ToolCalls,
    /// Its tool calls, and whether it holds the result of a tool call the user rejected.
    ToolCallsAndRejection,
}

/// A message's `content`. Most lines skip it at memchr speed and search the skipped bytes for
/// a tool call, reading the blocks only when there is one; a content that starts with a tool
/// call is read block by block at once instead.
fn content<'a>(scanner: &mut Scanner<'a>, line: &mut ClaudeLine<'a>, reading: Content) -> ScanResult<()> {
    scanner.peek()?;
    let start = scanner.position();
    if reading == Content::Skip {
        return scanner.skip();
    }
    let tool_first = scanner.bytes()[start..].starts_with(TOOL_USE_FIRST);
    let read = tool_first && read_tool_calls(scanner, &mut line.tool_calls).is_ok();
    if !read {
        // A content that did not read block by block is skipped, which tells whether the
        // line is whole; the calls read before the bad block are kept.
        scanner.rewind(start);
        scanner.skip()?;
    }
    let content = &scanner.bytes()[start..scanner.position()];
    line.tool_use = read || TOOL_USE.find(content).is_some();
    if line.tool_use && !tool_first {
        let _ = read_tool_calls(&mut Scanner::new(content), &mut line.tool_calls);
    }
    if reading == Content::ToolCallsAndRejection && REJECTION.find(content).is_some() {
        line.rejection = rejects_tool_use(content);
    }
    Ok(())
}

/// Whether a tool result's `content` (a string, or text blocks) starts with [`REJECTION_TEXT`].
/// Only the raw bytes are compared: the text has nothing JSON escapes.
fn rejection_content(scanner: &mut Scanner<'_>) -> ScanResult<bool> {
    match scanner.peek()? {
        b'"' => {
            let rejected = scanner.bytes()[scanner.position() + 1..].starts_with(REJECTION_TEXT.as_bytes());
            scanner.skip().map(|()| rejected)
        }
        b'[' => {
            let mut rejected = false;
            scanner.array(|s| {
                if s.peek()? != b'{' {
                    return s.skip();
                }
                s.object(|s, key| match key {
                    b"text" => rejection_content(s).map(|found| rejected |= found),
                    _ => s.skip(),
                })
            })?;
            Ok(rejected)
        }
        _ => scanner.skip().map(|()| false),
    }
}

/// Whether a message's content holds a `tool_result` with `is_error` whose text is Claude
/// Code's rejection.
fn rejects_tool_use(content: &[u8]) -> bool {
    let mut found = false;
    let mut scanner = Scanner::new(content);
    let _ = scanner.array(|s| {
        if s.peek()? != b'{' {
            return s.skip();
        }
        let (mut tool_result, mut is_error, mut rejected) = (false, false, false);
        s.object(|s, key| match key {
            b"type" => s.is_string(b"tool_result").map(|v| tool_result = v),
            b"is_error" if matches!(s.peek()?, b't' | b'f' | b'n') => s.boolean().map(|v| is_error = v == Some(true)),
            b"content" => rejection_content(s).map(|v| rejected = v),
            _ => s.skip(),
        })?;
        found |= tool_result && is_error && rejected;
        Ok(())
    });
    found
}

/// Reads `message.usage`, noting where its counts sit in `varying`.
fn usage(scanner: &mut Scanner<'_>, varying: &mut Varying) -> ScanResult<Option<ClaudeUsage>> {
    if scanner.null()? {
        return Ok(None);
    }
    let mut usage = ClaudeUsage::default();
    let mut count = |s: &mut Scanner<'_>, value: VaryingValue, usage: &mut ClaudeUsage| {
        let read = spanned(s, varying, value, Scanner::count)?;
        if let Some(field) = value.count(usage) {
            *field = read;
        }
        Ok(())
    };
    scanner.object(|s, key| match key {
        b"input_tokens" => count(s, VaryingValue::InputTokens, &mut usage),
        b"output_tokens" => count(s, VaryingValue::OutputTokens, &mut usage),
        b"cache_creation_input_tokens" => count(s, VaryingValue::CacheCreationTokens, &mut usage),
        b"cache_read_input_tokens" => count(s, VaryingValue::CacheReadTokens, &mut usage),
        b"speed" => s.string().map(|v| usage.fast = v.as_deref() == Some("fast")),
        b"cache_creation" => {
            if s.null()? {
                return Ok(());
            }
            s.object(|s, key| match key {
                b"ephemeral_5m_input_tokens" => count(s, VaryingValue::Ephemeral5mTokens, &mut usage),
                b"ephemeral_1h_input_tokens" => count(s, VaryingValue::Ephemeral1hTokens, &mut usage),
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })?;
    Ok(Some(usage))
}

/// Reads a value with `read`, noting where it sits as `value` in `varying`.
fn spanned<'a, T>(
    scanner: &mut Scanner<'a>,
    varying: &mut Varying,
    value: VaryingValue,
    read: impl FnOnce(&mut Scanner<'a>) -> ScanResult<T>,
) -> ScanResult<T> {
    scanner.peek()?;
    let start = scanner.position();
    let read = read(scanner)?;
    varying.record(value, start, scanner.position());
    Ok(read)
}

/// Reads one record's fields from an object (a line, or the message an agent-progress line
/// wraps in `data.message`).
fn record<'a>(
    scanner: &mut Scanner<'a>,
    line: &mut ClaudeLine<'a>,
    nested: &mut Option<ClaudeLine<'a>>,
    reading: Content,
) -> ScanResult<()> {
    scanner.object(|s, key| match key {
        b"timestamp" => {
            spanned(s, &mut line.varying, VaryingValue::Timestamp, Scanner::string).map(|v| line.timestamp = v)
        }
        b"parentUuid" => spanned(s, &mut line.varying, VaryingValue::ParentUuid, Scanner::skip),
        b"uuid" => spanned(s, &mut line.varying, VaryingValue::Uuid, Scanner::skip),
        b"sessionId" => s.string().map(|v| line.session_id = v),
        b"requestId" => {
            spanned(s, &mut line.varying, VaryingValue::RequestId, Scanner::string).map(|v| line.request_id = v)
        }
        b"cwd" => s.string().map(|v| line.cwd = v),
        b"gitBranch" => s.string().map(|v| line.git_branch = v),
        b"version" => s.string().map(|v| line.version = v),
        b"isSidechain" => s.boolean().map(|v| line.is_sidechain = v.unwrap_or(false)),
        b"isApiErrorMessage" => s.boolean().map(|v| line.is_api_error = v.unwrap_or(false)),
        b"costUSD" => s.float().map(|v| line.cost_usd = v),
        b"message" => {
            if s.null()? {
                return Ok(());
            }
            if s.peek()? != b'{' {
                return s.skip();
            }
            s.object(|s, key| match key {
                b"id" => {
                    spanned(s, &mut line.varying, VaryingValue::MessageId, Scanner::string).map(|v| line.message_id = v)
                }
                b"model" => spanned(s, &mut line.varying, VaryingValue::Model, Scanner::string).map(|v| line.model = v),
                b"usage" => {
                    s.peek()?;
                    let start = s.position();
                    line.usage = usage(s, &mut line.varying)?;
                    line.varying.record(VaryingValue::Usage, start, s.position());
                    Ok(())
                }
                b"content" => {
                    s.peek()?;
                    let start = s.position();
                    content(s, line, reading)?;
                    line.varying.record(VaryingValue::Content, start, s.position());
                    Ok(())
                }
                _ => s.skip(),
            })
        }
        b"data" if nested.is_none() => {
            if s.null()? {
                return Ok(());
            }
            if s.peek()? != b'{' {
                return s.skip();
            }
            s.object(|s, key| match key {
                b"message" if s.peek()? == b'{' => {
                    let mut inner = ClaudeLine::default();
                    record(s, &mut inner, &mut Some(ClaudeLine::default()), reading)?;
                    *nested = Some(inner);
                    Ok(())
                }
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })
}

/// Reads one line with its tool calls. Lines of any type parse; only those with
/// `message.usage` carry tokens. An agent-progress line (`data.message` wrapping a subagent's
/// message) yields the wrapped message's usage, under the line's own session.
pub fn parse_line(bytes: &[u8]) -> ScanResult<ClaudeLine<'_>> {
    parse_line_reading(bytes, Content::ToolCalls)
}

/// [`parse_line`] that also looks for a rejected tool call's result (`rejection`): for the
/// user lines that contain [`REJECTION_TEXT`], so assistant lines never pay for the search.
pub fn parse_user_line(bytes: &[u8]) -> ScanResult<ClaudeLine<'_>> {
    parse_line_reading(bytes, Content::ToolCallsAndRejection)
}

/// [`parse_line`], taking `reading` from the message's content.
pub fn parse_line_reading(bytes: &[u8], reading: Content) -> ScanResult<ClaudeLine<'_>> {
    let mut line = ClaudeLine::default();
    let mut nested = None;
    let mut scanner = Scanner::new(bytes);
    record(&mut scanner, &mut line, &mut nested, reading)?;
    scanner.finish()?;
    if line.usage.is_none()
        && let Some(inner) = nested.filter(|inner| inner.usage.is_some())
    {
        let session_id = line.session_id.take();
        let (cwd, git_branch) = (line.cwd.take(), line.git_branch.take());
        line = ClaudeLine {
            session_id,
            cwd: inner.cwd.clone().or(cwd),
            git_branch: inner.git_branch.clone().or(git_branch),
            varying: Varying { unusable: true, ..Varying::default() },
            ..inner
        };
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"parentUuid":"4d21","isSidechain":false,"userType":"external","cwd":"/home/dev/repo","sessionId":"2ff46cd5","version":"2.0.14","gitBranch":"main","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"a \"quoted\" {brace"}],"stop_reason":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":1331,"cache_read_input_tokens":14874,"cache_creation":{"ephemeral_5m_input_tokens":331,"ephemeral_1h_input_tokens":1000},"output_tokens":172,"service_tier":"standard"}},"requestId":"req_01","type":"assistant","uuid":"6648","timestamp":"2025-09-03T00:52:34.495Z"}"#;

    #[test]
    fn reads_an_assistant_line() {
        let line = parse_line(LINE.as_bytes()).expect("parses");
        assert_eq!(line.message_id.as_deref(), Some("msg_01"));
        assert_eq!(line.request_id.as_deref(), Some("req_01"));
        assert_eq!(line.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        assert_eq!(line.git_branch.as_deref(), Some("main"));
        let tokens = line.usage.expect("usage").tokens();
        assert_eq!(
            tokens,
            TokenCounts {
                input: 3,
                output: 172,
                cache_read: 14874,
                cache_write_5m: 331,
                cache_write_1h: 1000,
                reasoning: 0
            }
        );
    }

    #[test]
    fn a_tool_use_block_marks_the_call() {
        assert!(!parse_line(LINE.as_bytes()).expect("parses").tool_use, "a text block");
        let tool = LINE.replace(
            r#"{"type":"text","text":"a \"quoted\" {brace"}"#,
            r#"{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"cargo test"}}"#,
        );
        assert_ne!(tool, LINE);
        assert!(parse_line(tool.as_bytes()).expect("parses").tool_use);
        // Text that mentions a tool call is not one: its quotes are escaped.
        let quoted = LINE.replace(r#"a \"quoted\" {brace"#, r#"\"type\":\"tool_use\""#);
        assert!(!parse_line(quoted.as_bytes()).expect("parses").tool_use);
    }

    #[test]
    fn a_repeat_differs_only_in_its_own_values() {
        let pattern = parse_line(LINE.as_bytes()).expect("parses");
        let mut plan = RepeatPlan::default();
        assert!(pattern.plan(&mut plan));
        let bash = r#"{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"cargo test"}}"#;
        let next_block = with_content(bash)
            .replace(r#""parentUuid":"4d21""#, r#""parentUuid":"6648""#)
            .replace(r#""uuid":"6648""#, r#""uuid":"77a0""#)
            .replace("00:52:34.495Z", "00:52:35.001Z");
        let next_block = next_block.replace(r#""output_tokens":172"#, r#""output_tokens":1720"#);
        let repeat = parse_repeat(next_block.as_bytes(), LINE.as_bytes(), &plan, Content::ToolCalls).expect("a repeat");
        let full = parse_line(next_block.as_bytes()).expect("parses");
        assert_eq!(repeat.timestamp_millis(), full.timestamp_millis());
        assert_eq!(repeat.usage, full.usage);
        assert_eq!(repeat.usage.as_ref().map(|usage| usage.tokens().output), Some(1720));
        assert_eq!((repeat.tool_use, &repeat.tool_calls), (full.tool_use, &full.tool_calls));
        assert_eq!(repeat.actions(), Actions::TEST);
        assert_eq!((repeat.message_id.as_deref(), repeat.request_id.as_deref()), (Some("msg_01"), Some("req_01")));
        // Read without its tool calls, a repeat has the same usage and no actions.
        let skipped = parse_repeat(next_block.as_bytes(), LINE.as_bytes(), &plan, Content::Skip).expect("a repeat");
        assert_eq!((&skipped.usage, skipped.tool_use, skipped.actions()), (&full.usage, false, Actions::NONE));

        // Every count is read in place, whatever its length or a null.
        let counts = LINE
            .replace(r#""input_tokens":3,"#, r#""input_tokens":null,"#)
            .replace(r#""cache_read_input_tokens":14874"#, r#""cache_read_input_tokens":7"#)
            .replace(r#""ephemeral_1h_input_tokens":1000"#, r#""ephemeral_1h_input_tokens":123456789"#);
        let repeat = parse_repeat(counts.as_bytes(), LINE.as_bytes(), &plan, Content::ToolCalls).expect("a repeat");
        assert_eq!(repeat.usage, parse_line(counts.as_bytes()).expect("parses").usage);
        assert_eq!(repeat.usage.as_ref().map(|usage| (usage.input_tokens, usage.tokens().cache_read)), Some((None, 7)));
        // `"speed":"fast"` in the pattern is compared, and so fast in the repeat.
        let fast = LINE.replace(r#""service_tier":"standard""#, r#""service_tier":"standard","speed":"fast""#);
        let fast_plan = {
            let mut plan = RepeatPlan::default();
            assert!(parse_line(fast.as_bytes()).expect("parses").plan(&mut plan));
            plan
        };
        let fast_repeat = fast.replace(r#""output_tokens":172"#, r#""output_tokens":9"#);
        let repeat =
            parse_repeat(fast_repeat.as_bytes(), fast.as_bytes(), &fast_plan, Content::Skip).expect("a repeat");
        assert_eq!(repeat.usage.as_ref().map(ClaudeUsage::speed), Some(Speed::Fast));
        assert!(parse_repeat(LINE.as_bytes(), fast.as_bytes(), &fast_plan, Content::Skip).is_none());

        // The next call of the session: new ids and model, read as values of their own.
        let next_call = LINE
            .replace(r#""id":"msg_01""#, r#""id":"msg_02""#)
            .replace(r#""requestId":"req_01""#, r#""requestId":"req_02""#)
            .replace("claude-sonnet-4-5-20250929", "claude-opus-4-5");
        let repeat = parse_repeat(next_call.as_bytes(), LINE.as_bytes(), &plan, Content::ToolCalls).expect("a repeat");
        assert_eq!(
            (repeat.message_id.as_deref(), repeat.request_id.as_deref(), repeat.model.as_deref()),
            (Some("msg_02"), Some("req_02"), Some("claude-opus-4-5"))
        );

        // Anything else that differs is read in full.
        for changed in [
            LINE.replace(r#""cwd":"/home/dev/repo""#, r#""cwd":"/home/dev/other""#),
            LINE.replace(r#""sessionId":"2ff46cd5""#, r#""sessionId":"2ff46cd6""#),
            LINE.replace(r#""isSidechain":false"#, r#""isSidechain":true"#),
            LINE.replace(r#""type":"assistant","uuid""#, r#""type": "assistant","uuid""#),
            LINE.replace("6648\",\"timestamp", "6648\",\"timestamp\":1,\"timestamp"),
            LINE.replace(r#""service_tier":"standard""#, r#""service_tier":"priority""#),
            LINE.replace(r#""output_tokens":172"#, r#""output_tokens":"172""#),
            LINE.replace(r#""input_tokens":3,"#, r#""input_tokens":3,"input_tokens":4,"#),
            format!("{LINE} "),
            LINE[..LINE.len() - 1].to_string(),
        ] {
            assert_ne!(changed, LINE);
            assert!(
                parse_repeat(changed.as_bytes(), LINE.as_bytes(), &plan, Content::ToolCalls).is_none(),
                "{changed}"
            );
        }
        // A line whose keys repeat is no pattern.
        let twice = LINE.replace(r#""uuid":"6648""#, r#""uuid":"6648","uuid":"6649""#);
        let twice_read = parse_line(twice.as_bytes()).expect("parses");
        assert!(!twice_read.plan(&mut plan));
        assert!(parse_repeat(twice.as_bytes(), twice.as_bytes(), &plan, Content::ToolCalls).is_none());
        let twice = LINE.replace(r#""input_tokens":3,"#, r#""input_tokens":3,"input_tokens":4,"#);
        assert!(!parse_line(twice.as_bytes()).expect("parses").plan(&mut plan));
    }

    fn with_content(blocks: &str) -> String {
        let line = LINE.replace(r#"{"type":"text","text":"a \"quoted\" {brace"}"#, blocks);
        assert_ne!(line, LINE);
        line
    }

    #[test]
    fn tool_calls_give_actions_and_a_fingerprint() {
        let line = parse_line(LINE.as_bytes()).expect("parses");
        assert_eq!((line.actions(), line.turn()), (Actions::NONE, 0), "no tool call");

        let bash = r#"{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"cargo test -p x","description":"Run the tests"}}"#;
        let test = with_content(bash);
        let line = parse_line(test.as_bytes()).expect("parses");
        assert_eq!(line.actions(), Actions::TEST);
        assert_ne!(line.turn(), 0);
        assert_eq!(
            line.tool_calls[0].input.as_ref(),
            &br#"{"command":"cargo test -p x","description":"Run the tests"}"#[..]
        );

        let edit = r#"{"type":"tool_use","id":"toolu_2","name":"Edit","input":{"file_path":"/a.rs","old_string":"x","new_string":"y"}}"#;
        let line = with_content(edit);
        assert_eq!(parse_line(line.as_bytes()).expect("parses").actions(), Actions::EDIT);

        let both = with_content(&format!(r#"{{"type":"text","text":"first"}},{bash},{edit}"#));
        let line = parse_line(both.as_bytes()).expect("parses");
        assert_eq!(line.actions(), Actions::TEST | Actions::EDIT);
        assert_eq!(line.tool_calls.len(), 2);
        assert_ne!(line.turn(), parse_line(test.as_bytes()).expect("parses").turn());

        // Numbers do not count: a poll that counts its attempts is the same turn.
        let attempt = |n: u32| {
            let line = with_content(&format!(
                r#"{{"type":"tool_use","id":"toolu_{n}","name":"Bash","input":{{"command":"sleep {n} && ./check --try {n}"}}}}"#
            ));
            parse_line(line.as_bytes()).expect("parses").turn()
        };
        assert_eq!(attempt(1), attempt(27));
    }

    #[test]
    fn a_tool_call_first_or_after_text_reads_the_same() {
        let bash = r#"{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"git push"}}"#;
        let first = with_content(bash);
        let after = with_content(&format!(r#"{{"type":"text","text":"pushing"}},{bash}"#));
        let read = |line: &str| {
            let line = parse_line(line.as_bytes()).expect("parses");
            (line.tool_use, line.actions(), line.turn())
        };
        assert_eq!(read(&first), (true, Actions::COMMIT, read(&after).2));
        assert_eq!(read(&first), read(&after));
    }

    #[test]
    fn a_malformed_tool_block_keeps_the_usage_and_the_blocks_before_it() {
        let good = r#"{"type":"tool_use","id":"toolu_1","name":"Read","input":{"file_path":"/a"}}"#;
        for bad in [
            r#"{"type":"tool_use","id":"toolu_2","name":"Bash","input":{"command":"ls" "x":1}}"#,
            r#"{"type":"tool_use","name":7,"input":{"command":["ls"]}}"#,
            r#"{"type":"tool_use","name":"Bash","input":"not an object"}"#,
            r#"["type","tool_use"]"#,
        ] {
            let line = with_content(&format!("{good},{bad}"));
            let line = parse_line(line.as_bytes()).expect("parses");
            assert_eq!(line.usage.as_ref().expect("usage").tokens().output, 172, "{bad}");
            assert!(line.actions().contains(Actions::READ), "{bad}");
            assert!(!line.actions().contains(Actions::EDIT), "{bad}");
        }
        // A shell call without a readable command is a shell call.
        let line = with_content(r#"{"type":"tool_use","name":"Bash","input":{"command":["ls"]}}"#);
        assert_eq!(parse_line(line.as_bytes()).expect("parses").actions(), Actions::SHELL);
    }

    #[test]
    fn a_rejected_tool_result_is_found_in_user_lines_only_when_asked() {
        let string = r#"{"parentUuid":"a","sessionId":"s-1","type":"user","message":{"role":"user","content":[{"type":"tool_result","content":"The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.","is_error":true,"tool_use_id":"toolu_1"}]},"timestamp":"2025-09-03T00:52:40.000Z"}"#;
        let blocks = string.replace(
            r#""content":"The user doesn't want to proceed with this tool use. The tool use"#,
            r#""content":[{"type":"text","text":"The user doesn't want to proceed with this tool use. The tool use"#,
        );
        let blocks = blocks.replace(r#"to proceed.","is_error""#, r#"to proceed."}],"is_error""#);
        for line in [string, &blocks] {
            assert!(REJECTION.find(line.as_bytes()).is_some());
            let read = parse_user_line(line.as_bytes()).expect("parses");
            assert!(read.rejection, "{line}");
            assert_eq!(read.session_id.as_deref(), Some("s-1"));
            assert!(!parse_line(line.as_bytes()).expect("parses").rejection);
        }
        let not_an_error = string.replace(r#""is_error":true"#, r#""is_error":false"#);
        assert!(!parse_user_line(not_an_error.as_bytes()).expect("parses").rejection);
        let quoted = string.replace(r#""content":"The user"#, r#""content":"Said: The user"#);
        assert!(!parse_user_line(quoted.as_bytes()).expect("parses").rejection);
    }

    #[test]
    fn flat_cache_creation_counts_as_five_minute_writes() {
        let line =
            LINE.replace(r#""cache_creation":{"ephemeral_5m_input_tokens":331,"ephemeral_1h_input_tokens":1000},"#, "");
        let tokens = parse_line(line.as_bytes()).expect("parses").usage.expect("usage").tokens();
        assert_eq!((tokens.cache_write_5m, tokens.cache_write_1h), (1331, 0));
    }

    #[test]
    fn agent_progress_lines_yield_the_wrapped_usage() {
        let progress = format!(r#"{{"type":"progress","sessionId":"parent","data":{{"message":{}}}}}"#, LINE);
        let line = parse_line(progress.as_bytes()).expect("parses");
        assert_eq!(line.session_id.as_deref(), Some("parent"));
        assert_eq!(line.message_id.as_deref(), Some("msg_01"));
        assert_eq!(line.usage.expect("usage").tokens().output, 172);
    }

    #[test]
    fn spaced_json_reads_the_same() {
        let spaced = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(LINE).expect("json"))
            .expect("pretty")
            .replace('\n', " ");
        assert_eq!(
            parse_line(spaced.as_bytes()).expect("parses").usage,
            parse_line(LINE.as_bytes()).expect("parses").usage
        );
    }
}
