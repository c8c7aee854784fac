//! Claude Code session files as Claude Code writes them: a user line, then for each API call
//! one assistant line per content block (all with the call's usage), tool results in between;
//! subagent files under `<session>/subagents/`; resumed sessions that replay earlier lines.

use super::org::{CLAUDE_MODELS, Organisation, UNPRICED_MODEL, total_weight, weighted};
use super::text::{base62, hex, timestamp, uuid, words};
use super::{DAYS, FileWriter, Plan, Summary};
use rand::Rng;
use std::path::{Path, PathBuf};

/// Who and where a file's lines say they are.
#[derive(Clone)]
struct Context {
    session_id: String,
    cwd: String,
    version: String,
    branch: String,
    is_sidechain: bool,
}

/// One API call's usage.
#[derive(Clone, Copy)]
struct Usage {
    input: u64,
    cache_write: u64,
    one_hour: bool,
    cache_read: u64,
    output: u64,
}

fn head(context: &Context, parent: &str) -> String {
    format!(
        r#"{{"parentUuid":"{parent}","isSidechain":{},"userType":"external","cwd":"{}","sessionId":"{}","version":"{}","gitBranch":"{}""#,
        context.is_sidechain, context.cwd, context.session_id, context.version, context.branch
    )
}

fn user_prompt(context: &Context, rng: &mut impl Rng, parent: &str, uuid_text: &str, at: i64) -> String {
    let prompt = words(rng, 30..400);
    format!(
        r#"{},"type":"user","message":{{"role":"user","content":"{prompt}"}},"uuid":"{uuid_text}","timestamp":"{}"}}"#,
        head(context, parent),
        timestamp(at)
    )
}

fn tool_result(context: &Context, rng: &mut impl Rng, parent: &str, uuid_text: &str, tool_id: &str, at: i64) -> String {
    // Mostly short results (a grep, a test summary), now and then a whole file.
    let size = if rng.random_bool(0.06) { 2_000..12_000 } else { 100..1_000 };
    let output = words(rng, size);
    format!(
        r#"{},"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"{tool_id}","type":"tool_result","content":"{output}"}}]}},"uuid":"{uuid_text}","timestamp":"{}"}}"#,
        head(context, parent),
        timestamp(at)
    )
}

#[allow(clippy::too_many_arguments)]
fn assistant(
    context: &Context,
    parent: &str,
    uuid_text: &str,
    model: &str,
    message_id: &str,
    request_id: &str,
    content: &str,
    usage: Usage,
    output: u64,
    speed: Option<&str>,
    at: i64,
) -> String {
    let (write_5m, write_1h) = if usage.one_hour { (0, usage.cache_write) } else { (usage.cache_write, 0) };
    let speed = speed.map(|speed| format!(r#","speed":"{speed}""#)).unwrap_or_default();
    format!(
        r#"{},"message":{{"model":"{model}","id":"{message_id}","type":"message","role":"assistant","content":[{content}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{write_5m},"ephemeral_1h_input_tokens":{write_1h}}},"output_tokens":{output},"service_tier":"standard"{speed}}}}},"requestId":"{request_id}","type":"assistant","uuid":"{uuid_text}","timestamp":"{}"}}"#,
        head(context, parent),
        usage.input,
        usage.cache_write,
        usage.cache_read,
        timestamp(at)
    )
}

fn text_block(rng: &mut impl Rng) -> String {
    format!(r#"{{"type":"text","text":"{}"}}"#, words(rng, 40..600))
}

/// A tool call: mostly edits, then reads and shell commands (tests, builds, git).
fn tool_use_block(rng: &mut impl Rng, cwd: &str, tool_id: &str) -> String {
    let file = format!("{cwd}/src/{}.rs", hex(rng, 6));
    match rng.random_range(0..10) {
        0..=4 => {
            let old = words(rng, 20..200);
            let new = words(rng, 20..320);
            format!(
                r#"{{"type":"tool_use","id":"{tool_id}","name":"Edit","input":{{"file_path":"{file}","old_string":"{old}","new_string":"{new}"}}}}"#
            )
        }
        5..=6 => format!(r#"{{"type":"tool_use","id":"{tool_id}","name":"Read","input":{{"file_path":"{file}"}}}}"#),
        _ => {
            let command =
                ["cargo test --workspace", "cargo build", "cargo clippy --all-targets", "git status", "ls src"]
                    [rng.random_range(0..5)];
            format!(
                r#"{{"type":"tool_use","id":"{tool_id}","name":"Bash","input":{{"command":"{command}","description":"{}"}}}}"#,
                words(rng, 3..12)
            )
        }
    }
}

/// Session-wide choices.
#[derive(Clone, Copy)]
struct Shape {
    model: &'static str,
    one_hour_cache: bool,
    /// Variants only.
    fast: bool,
    unpriced: bool,
    malformed_at: Option<u64>,
    synthetic: bool,
}

/// Writes the calls of one file until `budget` lines; returns the assistant lines written.
#[allow(clippy::too_many_arguments)]
fn write_calls(
    writer: &mut FileWriter,
    context: &Context,
    shape: &Shape,
    rng: &mut impl Rng,
    budget: u64,
    clock: &mut i64,
    context_tokens: &mut u64,
    replayed: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut parent = uuid(rng);
    let mut malformed_at = shape.malformed_at;
    let weight = total_weight(&CLAUDE_MODELS);
    while writer.lines < budget {
        let id = uuid(rng);
        writer.line(&user_prompt(context, rng, &parent, &id, *clock))?;
        parent = id;
        let calls = rng.random_range(1..=8);
        for _ in 0..calls {
            if writer.lines >= budget {
                break;
            }
            *clock += rng.random_range(2_000..40_000);
            let model = if shape.unpriced && rng.random_bool(0.5) {
                UNPRICED_MODEL
            } else if rng.random_bool(0.1) {
                weighted(&CLAUDE_MODELS, rng.random_range(0..weight))
            } else {
                shape.model
            };
            let fresh =
                if *context_tokens == 0 { rng.random_range(12_000..26_000) } else { rng.random_range(150..7_000) };
            let usage = Usage {
                input: rng.random_range(1..12),
                cache_write: fresh,
                one_hour: shape.one_hour_cache,
                cache_read: *context_tokens,
                output: rng.random_range(30..1_800),
            };
            *context_tokens += fresh + usage.output;
            if *context_tokens > 165_000 {
                *context_tokens = rng.random_range(18_000..32_000);
            }
            let message_id = format!("msg_01{}", base62(rng, 22));
            let request_id = format!("req_011{}", base62(rng, 21));
            let blocks = rng.random_range(1..=3u64);
            let speed = (shape.fast && model == "claude-opus-4-6").then_some("fast");
            for block in 0..blocks {
                let is_last = block + 1 == blocks;
                let tool_id = format!("toolu_01{}", base62(rng, 22));
                let content = if is_last && rng.random_bool(0.7) {
                    tool_use_block(rng, &context.cwd, &tool_id)
                } else {
                    text_block(rng)
                };
                // Streaming writes the early blocks before the final output count is known.
                let output = if is_last { usage.output } else { usage.output * (block + 1) / blocks };
                let id = uuid(rng);
                let line = assistant(
                    context,
                    &parent,
                    &id,
                    model,
                    &message_id,
                    &request_id,
                    &content,
                    usage,
                    output,
                    speed,
                    *clock,
                );
                writer.line(&line)?;
                replayed.push(line);
                parent = id;
                *clock += rng.random_range(50..900);
                if is_last && content.starts_with(r#"{"type":"tool_use""#) {
                    let id = uuid(rng);
                    writer.line(&tool_result(context, rng, &parent, &id, &tool_id, *clock))?;
                    parent = id;
                }
            }
            if malformed_at.is_some_and(|at| writer.lines >= at) {
                malformed_at = None;
                // A line cut short, as a crash mid-write leaves it.
                writer.line(&format!(
                    r#"{},"message":{{"model":"{model}","usage":{{"input_tok"#,
                    head(context, &parent)
                ))?;
            }
            if shape.synthetic && rng.random_bool(0.02) {
                let id = uuid(rng);
                let zero = Usage { input: 0, cache_write: 0, one_hour: false, cache_read: 0, output: 0 };
                let message_id = uuid(rng);
                let request_id = format!("req_011{}", base62(rng, 21));
                let content = r#"{"type":"text","text":"API Error: Request timed out"}"#;
                let line = assistant(
                    context,
                    &parent,
                    &id,
                    "<synthetic>",
                    &message_id,
                    &request_id,
                    content,
                    zero,
                    0,
                    None,
                    *clock,
                );
                writer.line(&line)?;
            }
        }
        *clock += rng.random_range(30_000..600_000);
    }
    Ok(())
}

/// The project folder Claude Code derives from a cwd.
fn project_folder(cwd: &str) -> String {
    cwd.replace(['/', '.'], "-")
}

/// Where and when a session ran, and with which model.
pub struct SessionSpec {
    pub session_id: String,
    pub cwd: String,
    pub branch: String,
    pub start_ms: i64,
    /// The session's main model (None: drawn from the usual mix).
    pub model: Option<&'static str>,
    /// May continue in a resumed session (a new file with a new session id).
    pub resumable: bool,
    /// With the plan's variants: certainly write a malformed line (so every variant set has one).
    pub malformed: bool,
}

/// When a written session's calls began and ended.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub first_ms: i64,
    pub last_ms: i64,
}

/// Writes one session (plus its subagent and resumed files) of about `lines` lines, at a
/// random person's checkout on a random day.
pub fn write_session(
    root: &Path,
    organisation: &Organisation,
    plan: &Plan,
    index: u64,
    lines: u64,
    rng: &mut impl Rng,
) -> anyhow::Result<Summary> {
    let (person, _, cwd) = organisation.pick_checkout(rng);
    let branch = if rng.random_bool(0.4) { "main".to_string() } else { format!("{}/{}", person.login, hex(rng, 6)) };
    let session_id = uuid(rng);
    let day = plan.end - chrono::Duration::days(rng.random_range(0..DAYS));
    let start = day.and_hms_opt(rng.random_range(7..19), rng.random_range(0..60), 0).unwrap_or_default();
    let start_ms = start.and_utc().timestamp_millis() + index as i64 % 1000;
    let spec = SessionSpec { session_id, cwd, branch, start_ms, model: None, resumable: true, malformed: index == 0 };
    write_session_as(root, plan, &spec, lines, rng).map(|(summary, _)| summary)
}

/// Writes one session as `spec` says, returning what was written and when its calls ran.
pub fn write_session_as(
    root: &Path,
    plan: &Plan,
    spec: &SessionSpec,
    lines: u64,
    rng: &mut impl Rng,
) -> anyhow::Result<(Summary, Span)> {
    let project = root.join(project_folder(&spec.cwd));
    let context = Context {
        session_id: spec.session_id.clone(),
        cwd: spec.cwd.clone(),
        version: format!("2.0.{}", rng.random_range(10..60)),
        branch: spec.branch.clone(),
        is_sidechain: false,
    };
    let weight = total_weight(&CLAUDE_MODELS);
    let drawn = weighted(&CLAUDE_MODELS, rng.random_range(0..weight));
    let shape = Shape {
        model: spec.model.unwrap_or(drawn),
        one_hour_cache: rng.random_bool(0.3),
        fast: plan.variants && rng.random_bool(0.1),
        unpriced: plan.variants && rng.random_bool(0.02),
        malformed_at: (plan.variants && (rng.random_bool(0.03) || spec.malformed))
            .then(|| rng.random_range(0..lines.max(1))),
        synthetic: plan.variants && rng.random_bool(0.2),
    };
    let mut clock = spec.start_ms;
    let first_ms = clock;

    let subagent_lines = if lines > 40 && rng.random_bool(0.2) { lines / 10 } else { 0 };
    let resumed_lines = if lines > 40 && rng.random_bool(0.1) && spec.resumable { lines / 5 } else { 0 };
    let main_lines = lines - subagent_lines - resumed_lines;

    let mut summary = Summary::default();
    let mut replayed = Vec::new();
    let mut context_tokens = 0;
    let mut writer = FileWriter::create(&project.join(format!("{}.jsonl", context.session_id)))?;
    write_calls(&mut writer, &context, &shape, rng, main_lines, &mut clock, &mut context_tokens, &mut replayed)?;
    summary = summary + writer.finish_claude()?;

    if subagent_lines > 0 {
        let path: PathBuf =
            project.join(&context.session_id).join("subagents").join(format!("agent-{}.jsonl", hex(rng, 8)));
        let sidechain = Context { is_sidechain: true, ..context.clone() };
        let helper = Shape { model: "claude-haiku-4-5-20251001", fast: false, malformed_at: None, ..shape };
        let mut writer = FileWriter::create(&path)?;
        let mut sub_clock = clock - 600_000;
        let mut sub_context = 0;
        let mut ignored = Vec::new();
        write_calls(
            &mut writer,
            &sidechain,
            &helper,
            rng,
            subagent_lines,
            &mut sub_clock,
            &mut sub_context,
            &mut ignored,
        )?;
        summary = summary + writer.finish_claude()?;
    }

    if resumed_lines > 0 {
        // `claude --resume` starts a new file that first replays the earlier conversation.
        let resumed = Context { session_id: uuid(rng), ..context.clone() };
        let mut writer = FileWriter::create(&project.join(format!("{}.jsonl", resumed.session_id)))?;
        let copies = replayed.len().min(resumed_lines as usize / 2);
        for written in &replayed[replayed.len() - copies..] {
            writer.line(&written.replacen(&context.session_id, &resumed.session_id, 1))?;
        }
        clock += 3_600_000;
        write_calls(
            &mut writer,
            &resumed,
            &shape,
            rng,
            resumed_lines,
            &mut clock,
            &mut context_tokens,
            &mut Vec::new(),
        )?;
        summary = summary + writer.finish_claude()?;
    }
    Ok((summary, Span { first_ms, last_ms: clock }))
}
