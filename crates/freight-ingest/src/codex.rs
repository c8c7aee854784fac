//! Codex CLI session logs (`sessions/YYYY/MM/DD/rollout-….jsonl`): `turn_context` lines set
//! the model, `event_msg` lines of type `token_count` carry running and per-turn usage. Usage
//! is a delta: `last_token_usage`, else the growth of `total_token_usage`. The tool calls a
//! response made (`response_item` lines) come before its `token_count` and are credited to it.

use crate::scan::{ScanResult, Scanner};
use crate::time::parse_millis;
use crate::tools::{ToolCall, command_line};
use freight_core::{Actions, Speed, TokenCounts, TurnFingerprint};
use std::borrow::Cow;

/// Codex's tools that run a command line (`shell` and `container.exec` take an argument
/// vector, `shell_command` a string, `exec_command` a string in `cmd`).
const SHELL_TOOLS: [&str; 5] = ["shell", "container.exec", "shell_command", "exec_command", "local_shell"];

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
    /// A `response_item` that calls a tool (`function_call`, `custom_tool_call`,
    /// `local_shell_call`, `web_search_call`), as far as it could be read.
    pub tool_call: Option<ToolCall<'a>>,
}

/// The values of a payload that may be a tool call, as written: read only once the payload's
/// type says it is one.
#[derive(Default)]
struct ToolFields<'a> {
    name: Option<&'a [u8]>,
    arguments: Option<&'a [u8]>,
    input: Option<&'a [u8]>,
    action: Option<&'a [u8]>,
}

/// Skips a value and returns its bytes.
fn raw<'a>(scanner: &mut Scanner<'a>) -> ScanResult<&'a [u8]> {
    scanner.peek()?;
    let start = scanner.position();
    scanner.skip()?;
    Ok(&scanner.bytes()[start..scanner.position()])
}

/// A JSON string's text, or `None` when the bytes are not one.
fn string_in(raw: Option<&[u8]>) -> Option<Cow<'_, str>> {
    let raw = raw?;
    let mut scanner = Scanner::new(raw);
    if scanner.peek().ok()? != b'"' {
        return None;
    }
    scanner.string().ok().flatten()
}

/// The command line in a shell tool's arguments (`command` or `cmd`: a string, or an
/// argument vector).
fn command_in(arguments: &[u8]) -> Option<String> {
    let mut command = None;
    let mut scanner = Scanner::new(arguments);
    let _ = scanner.object(|s, key| match key {
        b"command" | b"cmd" if command.is_none() => match s.peek()? {
            b'"' => s.string().map(|v| command = v.map(Cow::into_owned)),
            b'[' => {
                let mut words = Vec::new();
                s.array(|s| if s.peek()? == b'"' { s.string().map(|word| words.extend(word)) } else { s.skip() })?;
                command = Some(command_line(&words));
                Ok(())
            }
            _ => s.skip(),
        },
        _ => s.skip(),
    });
    command
}

fn into_bytes(text: Cow<'_, str>) -> Cow<'_, [u8]> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    }
}

fn shell_actions(name: &str, command: Option<&str>) -> Actions {
    let name = if SHELL_TOOLS.contains(&name) { "shell" } else { name };
    Actions::of_tool(name, command)
}

/// The tool call a `response_item` payload of type `kind` makes, if any.
fn tool_call<'a>(kind: &str, fields: &ToolFields<'a>) -> Option<ToolCall<'a>> {
    match kind {
        "function_call" => {
            let name = string_in(fields.name)?;
            let arguments = string_in(fields.arguments).unwrap_or_default();
            let command = SHELL_TOOLS.contains(&name.as_ref()).then(|| command_in(arguments.as_bytes())).flatten();
            let actions = shell_actions(&name, command.as_deref());
            Some(ToolCall { name, input: into_bytes(arguments), actions })
        }
        "custom_tool_call" => {
            let name = string_in(fields.name)?;
            let input = string_in(fields.input).unwrap_or_default();
            let actions = shell_actions(&name, None);
            Some(ToolCall { name, input: into_bytes(input), actions })
        }
        "local_shell_call" => {
            let action = fields.action.unwrap_or_default();
            let command = command_in(action);
            let actions = shell_actions("local_shell", command.as_deref());
            Some(ToolCall { name: Cow::Borrowed("local_shell"), input: Cow::Borrowed(action), actions })
        }
        "web_search_call" => Some(ToolCall {
            name: Cow::Borrowed("web_search"),
            input: Cow::Borrowed(fields.action.unwrap_or_default()),
            actions: Actions::READ,
        }),
        _ => None,
    }
}

pub fn parse_line(bytes: &[u8]) -> ScanResult<CodexLine<'_>> {
    let mut line = CodexLine::default();
    let mut tool = ToolFields::default();
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
                b"name" => raw(s).map(|v| tool.name = Some(v)),
                b"arguments" => raw(s).map(|v| tool.arguments = Some(v)),
                b"input" => raw(s).map(|v| tool.input = Some(v)),
                b"action" => raw(s).map(|v| tool.action = Some(v)),
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
    if line.kind.as_deref() == Some("response_item")
        && let Some(kind) = line.payload_kind.as_deref()
    {
        line.tool_call = tool_call(kind, &tool);
    }
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
    /// What the response's tool calls did ([`Actions::NONE`] without any).
    pub actions: Actions,
    /// The fingerprint of the response's tool calls (0 without any).
    pub turn: u32,
}

/// Walks one file's lines in order, carrying the model and running total between them.
#[derive(Debug, Default)]
pub struct CodexSession {
    model: Option<String>,
    cwd: Option<String>,
    speed: Speed,
    previous_total: Option<CodexUsage>,
    /// Tool calls since the last call recorded: the next `token_count` is the response that made them.
    actions: Actions,
    turn: TurnFingerprint,
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
            (Some("response_item"), _) => {
                if let Some(call) = &line.tool_call {
                    self.actions |= call.actions;
                    call.add_to(&mut self.turn);
                }
                None
            }
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
                // The parent's tool calls, replayed with its usage.
                (self.actions, self.turn) = (Actions::NONE, TurnFingerprint::default());
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
            actions: std::mem::take(&mut self.actions),
            turn: std::mem::take(&mut self.turn).finish(),
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

    fn count_at(seconds: u32, input: u64) -> String {
        format!(
            r#"{{"timestamp":"2026-03-01T10:00:{seconds:02}.000Z","type":"event_msg","payload":{{"type":"token_count","info":{{"last_token_usage":{{"input_tokens":{input},"output_tokens":5}}}}}}}}"#
        )
    }

    fn item(payload: &str) -> String {
        format!(r#"{{"timestamp":"2026-03-01T10:00:02.000Z","type":"response_item","payload":{payload}}}"#)
    }

    #[test]
    fn tool_calls_are_credited_to_the_next_token_count() {
        let shell = item(
            r#"{"type":"function_call","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"cargo test\"],\"workdir\":\"/r\"}","call_id":"call_1"}"#,
        );
        let patch = item(
            r#"{"type":"custom_tool_call","status":"completed","call_id":"call_2","name":"apply_patch","input":"*** Begin Patch\n*** Update File: a.rs\n*** End Patch"}"#,
        );
        let local = item(
            r#"{"type":"local_shell_call","call_id":"call_3","status":"completed","action":{"type":"exec","command":["git","commit","-m","x"],"timeout_ms":1000}}"#,
        );
        let output = item(r#"{"type":"function_call_output","call_id":"call_1","output":"ok"}"#);
        let lines = [
            CONTEXT.to_string(),
            shell.clone(),
            patch,
            output,
            count_at(10, 100),
            count_at(20, 200),
            local,
            count_at(30, 300),
            shell,
            count_at(40, 400),
        ];
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let found = calls(&lines, false);
        let actions: Vec<Actions> = found.iter().map(|call| call.actions).collect();
        assert_eq!(actions, [Actions::TEST | Actions::EDIT, Actions::NONE, Actions::COMMIT, Actions::TEST]);
        assert_eq!(found[1].turn, 0);
        assert!(found.iter().enumerate().all(|(at, call)| at == 1 || call.turn != 0));
        assert_ne!(found[0].turn, found[3].turn, "two calls against one");
    }

    #[test]
    fn shell_commands_in_every_argument_form_are_classified() {
        let function = |name: &str, arguments: &str| {
            let arguments = serde_json::to_string(arguments).expect("json string");
            let line =
                item(&format!(r#"{{"type":"function_call","name":"{name}","arguments":{arguments},"call_id":"c"}}"#));
            parse_line(line.as_bytes()).expect("parses").tool_call.expect("a tool call").actions
        };
        assert_eq!(function("shell", r#"{"command":["bash","-lc","npm test"]}"#), Actions::TEST);
        assert_eq!(function("shell", r#"{"command":["cargo","build"]}"#), Actions::BUILD);
        assert_eq!(function("shell_command", r#"{"command":"git push"}"#), Actions::COMMIT);
        assert_eq!(function("exec_command", r#"{"cmd":"pytest -q"}"#), Actions::TEST);
        assert_eq!(function("shell", "not json"), Actions::SHELL);
        assert_eq!(function("update_plan", r#"{"plan":[]}"#), Actions::OTHER);
        let search = item(r#"{"type":"web_search_call","status":"completed","action":{"type":"search","query":"q"}}"#);
        assert_eq!(parse_line(search.as_bytes()).expect("parses").tool_call.expect("a call").actions, Actions::READ);
        let message = item(r#"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]}"#);
        assert_eq!(parse_line(message.as_bytes()).expect("parses").tool_call, None);
        let nameless = item(r#"{"type":"function_call","name":3,"arguments":"{}"}"#);
        assert_eq!(parse_line(nameless.as_bytes()).expect("parses").tool_call, None);
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
