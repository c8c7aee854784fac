//! Codex CLI session logs (`sessions/YYYY/MM/DD/rollout-….jsonl`): `turn_context` lines set
//! the model, `event_msg` lines of type `token_count` carry running and per-turn usage. Usage
//! is a delta: `last_token_usage`, else the growth of `total_token_usage`.

use crate::scan::{ScanResult, Scanner};
use crate::time::parse_millis;
use freight_core::{Speed, TokenCounts};
use std::borrow::Cow;

/// Codex's token usage object, with the aliases different versions used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CodexUsage {
    /// Input including cached input.
    pub input: u64,
    pub cached_input: u64,
    /// Output including reasoning.
    pub output: u64,
    pub reasoning: u64,
}

impl CodexUsage {
    fn minus(&self, previous: &CodexUsage) -> CodexUsage {
        CodexUsage {
            input: self.input.saturating_sub(previous.input),
            cached_input: self.cached_input.saturating_sub(previous.cached_input),
            output: self.output.saturating_sub(previous.output),
            reasoning: self.reasoning.saturating_sub(previous.reasoning),
        }
    }

    fn is_zero(&self) -> bool {
        self.input == 0 && self.cached_input == 0 && self.output == 0 && self.reasoning == 0
    }

    /// In freight's convention: uncached input apart from cache reads.
    pub fn tokens(&self) -> TokenCounts {
        let cached = self.cached_input.min(self.input);
        TokenCounts {
            input: self.input - cached,
            output: self.output,
            cache_read: cached,
            reasoning: self.reasoning.min(self.output),
            ..TokenCounts::default()
        }
    }
}

fn usage_object(scanner: &mut Scanner<'_>) -> ScanResult<Option<CodexUsage>> {
    if scanner.null()? {
        return Ok(None);
    }
    let mut usage = CodexUsage::default();
    scanner.object(|s, key| match key {
        b"input_tokens" | b"prompt_tokens" | b"input" => s.count().map(|v| usage.input = v.unwrap_or(0)),
        b"cached_input_tokens" | b"cache_read_input_tokens" | b"cached_tokens" => {
            s.count().map(|v| usage.cached_input = v.unwrap_or(0))
        }
        b"output_tokens" | b"completion_tokens" | b"output" => s.count().map(|v| usage.output = v.unwrap_or(0)),
        b"reasoning_output_tokens" | b"reasoning_tokens" => s.count().map(|v| usage.reasoning = v.unwrap_or(0)),
        _ => s.skip(),
    })?;
    Ok(Some(usage))
}

/// One Codex line, reduced to what usage needs.
#[derive(Debug, Default, PartialEq)]
pub struct CodexLine<'a> {
    pub timestamp: Option<Cow<'a, str>>,
    pub kind: Option<Cow<'a, str>>,
    pub payload_kind: Option<Cow<'a, str>>,
    pub model: Option<Cow<'a, str>>,
    pub cwd: Option<Cow<'a, str>>,
    pub service_tier: Option<Cow<'a, str>>,
    /// `payload.info` was present and not null.
    pub has_info: bool,
    pub total: Option<CodexUsage>,
    pub last: Option<CodexUsage>,
}

pub fn parse_line(bytes: &[u8]) -> ScanResult<CodexLine<'_>> {
    let mut line = CodexLine::default();
    let mut scanner = Scanner::new(bytes);
    scanner.object(|s, key| match key {
        b"timestamp" => s.string().map(|v| line.timestamp = v),
        b"type" => s.string().map(|v| line.kind = v),
        b"payload" => {
            if s.null()? {
                return Ok(());
            }
            if s.peek()? != b'{' {
                return s.skip();
            }
            s.object(|s, key| match key {
                b"type" => s.string().map(|v| line.payload_kind = v),
                b"model" => s.string().map(|v| line.model = v),
                b"cwd" => s.string().map(|v| line.cwd = v),
                b"service_tier" => s.string().map(|v| line.service_tier = v),
                b"info" => {
                    if s.null()? {
                        return Ok(());
                    }
                    if s.peek()? != b'{' {
                        return s.skip();
                    }
                    line.has_info = true;
                    s.object(|s, key| match key {
                        b"total_token_usage" => usage_object(s).map(|v| line.total = v),
                        b"last_token_usage" => usage_object(s).map(|v| line.last = v),
                        b"model" | b"model_name" => s.string().map(|v| line.model = v),
                        _ => s.skip(),
                    })
                }
                _ => s.skip(),
            })
        }
        _ => s.skip(),
    })?;
    scanner.finish()?;
    Ok(line)
}

/// One priced call found in a Codex file.
#[derive(Debug, Clone, PartialEq)]
pub struct CodexCall {
    pub timestamp_ms: i64,
    pub model: Option<String>,
    pub cwd: Option<String>,
    pub speed: Speed,
    pub tokens: TokenCounts,
}

/// Walks one file's lines in order, carrying the model and running total between them.
#[derive(Debug, Default)]
pub struct CodexSession {
    model: Option<String>,
    cwd: Option<String>,
    speed: Speed,
    previous_total: Option<CodexUsage>,
    /// Forked sessions replay their parent's `token_count` lines first, all stamped within the
    /// first one's second; these are skipped so the parent's usage is not counted twice.
    skip_replay_second: Option<Option<i64>>,
}

impl CodexSession {
    /// A session for a file; `forked` when its head mentions `thread_spawn`.
    pub fn new(forked: bool) -> CodexSession {
        CodexSession { skip_replay_second: forked.then_some(None), ..CodexSession::default() }
    }

    pub fn cwd(&self) -> Option<&str> {
        self.cwd.as_deref()
    }

    /// Feeds one parsed line; returns the call it records, if any.
    pub fn feed(&mut self, line: &CodexLine<'_>) -> Option<CodexCall> {
        match (line.kind.as_deref(), line.payload_kind.as_deref()) {
            (Some("turn_context"), _) => {
                if let Some(model) = &line.model {
                    self.model = Some(model.to_string());
                }
                if let Some(cwd) = &line.cwd {
                    self.cwd = Some(cwd.to_string());
                }
                if let Some(tier) = &line.service_tier {
                    self.speed =
                        if matches!(tier.as_ref(), "priority" | "fast") { Speed::Priority } else { Speed::Standard };
                }
                None
            }
            (Some("session_meta"), _) => {
                if let Some(cwd) = &line.cwd {
                    self.cwd.get_or_insert_with(|| cwd.to_string());
                }
                None
            }
            (Some("event_msg"), Some("token_count")) if line.has_info => self.token_count(line),
            _ => None,
        }
    }

    fn token_count(&mut self, line: &CodexLine<'_>) -> Option<CodexCall> {
        let timestamp_ms = line.timestamp.as_deref().and_then(parse_millis)?;
        if let Some(replay) = self.skip_replay_second.as_mut() {
            let second = timestamp_ms.div_euclid(1000);
            let first_second = *replay.get_or_insert(second);
            if first_second == second {
                if let Some(total) = line.total {
                    self.previous_total = Some(total);
                }
                return None;
            }
            self.skip_replay_second = None;
        }
        if let Some(model) = &line.model {
            self.model = Some(model.to_string());
        }
        // Codex re-emits the last token_count (same running total) on some events; a total
        // that did not move is not a new call.
        if let (Some(total), Some(previous)) = (line.total, self.previous_total)
            && total == previous
        {
            return None;
        }
        let delta = match (line.last, line.total) {
            (Some(last), _) => last,
            (None, Some(total)) => total.minus(&self.previous_total.unwrap_or_default()),
            (None, None) => return None,
        };
        if let Some(total) = line.total {
            self.previous_total = Some(total);
        }
        if delta.is_zero() {
            return None;
        }
        Some(CodexCall {
            timestamp_ms,
            model: self.model.clone(),
            cwd: self.cwd.clone(),
            speed: self.speed,
            tokens: delta.tokens(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(lines: &[&str], forked: bool) -> Vec<CodexCall> {
        let mut session = CodexSession::new(forked);
        lines.iter().filter_map(|line| session.feed(&parse_line(line.as_bytes()).expect("parses"))).collect()
    }

    const CONTEXT: &str = r#"{"timestamp":"2026-03-01T10:00:01.000Z","type":"turn_context","payload":{"cwd":"/home/dev/repo","model":"gpt-5-codex","effort":"medium"}}"#;

    #[test]
    fn last_usage_is_the_delta_and_cached_input_is_split_out() {
        let count = r#"{"timestamp":"2026-03-01T10:00:20.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":30000,"cached_input_tokens":20000,"output_tokens":1500,"reasoning_output_tokens":700,"total_tokens":31500},"last_token_usage":{"input_tokens":18000,"cached_input_tokens":12000,"output_tokens":600,"reasoning_output_tokens":188,"total_tokens":18600}}}}"#;
        let found = calls(&[CONTEXT, count], false);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].model.as_deref(), Some("gpt-5-codex"));
        assert_eq!(
            found[0].tokens,
            TokenCounts { input: 6000, cache_read: 12000, output: 600, reasoning: 188, ..TokenCounts::default() }
        );
    }

    #[test]
    fn totals_alone_give_deltas_and_zero_deltas_and_null_info_are_skipped() {
        let total = |seconds: u32, input: u64| {
            format!(
                r#"{{"timestamp":"2026-03-01T10:00:{seconds:02}.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"prompt_tokens":{input},"completion_tokens":10}}}}}}}}"#
            )
        };
        let null_info = r#"{"timestamp":"2026-03-01T10:00:30.000Z","type":"event_msg","payload":{"type":"token_count","info":null}}"#;
        let lines = [CONTEXT.to_string(), total(10, 100), total(11, 100), null_info.to_string(), total(12, 250)];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let found = calls(&lines, false);
        assert_eq!(found.iter().map(|call| call.tokens.input).collect::<Vec<_>>(), vec![100, 150]);
        assert_eq!(found[1].tokens.output, 0, "output did not grow between the totals");
    }

    #[test]
    fn a_repeated_running_total_is_not_a_second_call() {
        let count = r#"{"timestamp":"2026-03-01T10:00:20.000Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":300,"cached_input_tokens":0,"output_tokens":15,"reasoning_output_tokens":0,"total_tokens":315},"last_token_usage":{"input_tokens":300,"cached_input_tokens":0,"output_tokens":15,"reasoning_output_tokens":0,"total_tokens":315}}}}"#;
        assert_eq!(calls(&[CONTEXT, count, count], false).len(), 1);
    }

    #[test]
    fn a_forked_file_skips_the_replayed_burst() {
        let count = |time: &str, input: u64| {
            format!(
                r#"{{"timestamp":"{time}","type":"event_msg","payload":{{"type":"token_count","info":{{"last_token_usage":{{"input_tokens":{input},"output_tokens":1}}}}}}}}"#
            )
        };
        let lines = [
            CONTEXT.to_string(),
            count("2026-03-01T10:00:05.100Z", 500),
            count("2026-03-01T10:00:05.900Z", 700),
            count("2026-03-01T10:01:00.000Z", 42),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert_eq!(calls(&lines, true).iter().map(|c| c.tokens.input).collect::<Vec<_>>(), vec![42]);
        assert_eq!(calls(&lines, false).len(), 3);
    }
}
