//! Claude Code session logs (`projects/<project>/<session>.jsonl`): one JSON object per line;
//! assistant lines carry `message.usage`. This module reads one line into a [`ClaudeLine`].

use crate::scan::{ScanResult, Scanner};
use crate::time::parse_millis;
use freight_core::{Speed, TokenCounts};
use memchr::memmem;
use std::borrow::Cow;
use std::sync::LazyLock;

/// A content block that calls a tool, as Claude Code writes it.
static TOOL_USE: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(br#""type":"tool_use""#));

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
    pub fn timestamp_millis(&self) -> Option<i64> {
        self.timestamp.as_deref().and_then(parse_millis)
    }
}

fn usage(scanner: &mut Scanner<'_>) -> ScanResult<Option<ClaudeUsage>> {
    if scanner.null()? {
        return Ok(None);
    }
    let mut usage = ClaudeUsage::default();
    scanner.object(|s, key| match key {
        b"input_tokens" => s.count().map(|v| usage.input_tokens = v),
        b"output_tokens" => s.count().map(|v| usage.output_tokens = v),
        b"cache_creation_input_tokens" => s.count().map(|v| usage.cache_creation_input_tokens = v),
        b"cache_read_input_tokens" => s.count().map(|v| usage.cache_read_input_tokens = v),
        b"speed" => s.string().map(|v| usage.fast = v.as_deref() == Some("fast")),
        b"cache_creation" => {
            if s.null()? {
                return Ok(());
            }
            s.object(|s, key| match key {
                b"ephemeral_5m_input_tokens" => s.count().map(|v| usage.ephemeral_5m = v),
                b"ephemeral_1h_input_tokens" => s.count().map(|v| usage.ephemeral_1h = v),
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })?;
    Ok(Some(usage))
}

/// Reads one record's fields from an object (a line, or the message an agent-progress line
/// wraps in `data.message`).
fn record<'a>(
    scanner: &mut Scanner<'a>,
    line: &mut ClaudeLine<'a>,
    nested: &mut Option<ClaudeLine<'a>>,
) -> ScanResult<()> {
    scanner.object(|s, key| match key {
        b"timestamp" => s.string().map(|v| line.timestamp = v),
        b"sessionId" => s.string().map(|v| line.session_id = v),
        b"requestId" => s.string().map(|v| line.request_id = v),
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
                b"id" => s.string().map(|v| line.message_id = v),
                b"model" => s.string().map(|v| line.model = v),
                b"usage" => usage(s).map(|v| line.usage = v),
                b"content" => {
                    // Skipped like any value; then the skipped bytes are searched for a tool call.
                    let start = s.position();
                    s.skip()?;
                    line.tool_use = TOOL_USE.find(&s.bytes()[start..s.position()]).is_some();
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
                    record(s, &mut inner, &mut Some(ClaudeLine::default()))?;
                    *nested = Some(inner);
                    Ok(())
                }
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })
}

/// Reads one line. Lines of any type parse; only those with `message.usage` carry tokens.
/// An agent-progress line (`data.message` wrapping a subagent's message) yields the wrapped
/// message's usage, under the line's own session.
pub fn parse_line(bytes: &[u8]) -> ScanResult<ClaudeLine<'_>> {
    let mut line = ClaudeLine::default();
    let mut nested = None;
    let mut scanner = Scanner::new(bytes);
    record(&mut scanner, &mut line, &mut nested)?;
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
