//! Codex CLI rollout files (`sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl`): session meta, a
//! turn context naming the model, response items, and `token_count` events carrying both the
//! running total and the last call's usage (sometimes repeated, as Codex does).

use super::org::{CODEX_MODELS, Organisation, total_weight, weighted};
use super::text::{base62, hex, timestamp, uuid, words};
use super::{DAYS, FileWriter, Plan, Summary};
use chrono::DateTime;
use rand::Rng;
use std::path::Path;

#[derive(Clone, Copy, Default)]
struct Usage {
    input: u64,
    cached: u64,
    output: u64,
    reasoning: u64,
}

impl Usage {
    fn add(&mut self, other: Usage) {
        self.input += other.input;
        self.cached += other.cached;
        self.output += other.output;
        self.reasoning += other.reasoning;
    }

    fn json(&self) -> String {
        format!(
            r#"{{"input_tokens":{},"cached_input_tokens":{},"output_tokens":{},"reasoning_output_tokens":{},"total_tokens":{}}}"#,
            self.input,
            self.cached,
            self.output,
            self.reasoning,
            self.input + self.output
        )
    }
}

/// Writes one rollout of about `lines` lines.
pub fn write_session(
    root: &Path,
    organisation: &Organisation,
    plan: &Plan,
    index: u64,
    lines: u64,
    rng: &mut impl Rng,
) -> anyhow::Result<Summary> {
    let (_, repo, cwd) = organisation.pick_checkout(rng);
    let day = plan.end - chrono::Duration::days(rng.random_range(0..DAYS));
    let start =
        day.and_hms_opt(rng.random_range(7..19), rng.random_range(0..60), rng.random_range(0..60)).unwrap_or_default();
    let mut clock = start.and_utc().timestamp_millis() + index as i64 % 1000;
    let id = uuid(rng);
    let started = DateTime::from_timestamp_millis(clock).unwrap_or_default();
    let path = root
        .join(started.format("%Y/%m/%d").to_string())
        .join(format!("rollout-{}-{id}.jsonl", started.format("%Y-%m-%dT%H-%M-%S")));
    let mut out = FileWriter::create(&path)?;
    out.line(&format!(
        r#"{{"timestamp":"{ts}","type":"session_meta","payload":{{"id":"{id}","timestamp":"{ts}","cwd":"{cwd}","originator":"codex_cli_rs","cli_version":"0.{}.0","instructions":null,"git":{{"commit_hash":"{}","branch":"main","repository_url":"git@github.com:example/{}.git"}}}}}}"#,
        rng.random_range(40..60),
        hex(rng, 40),
        organisation.repos[repo],
        ts = timestamp(clock),
    ))?;
    let weight = total_weight(&CODEX_MODELS);
    let model = weighted(&CODEX_MODELS, rng.random_range(0..weight));
    let mut total = Usage::default();
    let mut context: u64 = 0;
    while out.lines < lines {
        out.line(&format!(
            r#"{{"timestamp":"{}","type":"turn_context","payload":{{"cwd":"{cwd}","approval_policy":"on-request","sandbox_policy":{{"mode":"workspace-write"}},"model":"{model}","effort":"medium","summary":"auto"}}}}"#,
            timestamp(clock)
        ))?;
        let prompt = words(rng, 40..500);
        out.line(&format!(
            r#"{{"timestamp":"{}","type":"response_item","payload":{{"type":"message","role":"user","content":[{{"type":"input_text","text":"{prompt}"}}]}}}}"#,
            timestamp(clock)
        ))?;
        for _ in 0..rng.random_range(1..=6) {
            clock += rng.random_range(3_000..45_000);
            let call_id = format!("call_{}", base62(rng, 24));
            let encrypted_length = rng.random_range(200..1_200);
            let base62_text = base62(rng, encrypted_length);
            out.line(&format!(
                r#"{{"timestamp":"{}","type":"response_item","payload":{{"type":"reasoning","summary":[{{"type":"summary_text","text":"{}"}}],"content":null,"encrypted_content":"{}"}}}}"#,
                timestamp(clock),
                words(rng, 40..300),
                base62_text
            ))?;
            out.line(&format!(
                r#"{{"timestamp":"{}","type":"response_item","payload":{{"type":"function_call","name":"shell","arguments":"{{\"command\":[\"rg\",\"-n\",\"{}\"]}}","call_id":"{call_id}"}}}}"#,
                timestamp(clock),
                hex(rng, 6)
            ))?;
            out.line(&format!(
                r#"{{"timestamp":"{}","type":"response_item","payload":{{"type":"function_call_output","call_id":"{call_id}","output":"{}"}}}}"#,
                timestamp(clock + 800),
                words(rng, 200..5_000)
            ))?;
            let fresh = if context == 0 { rng.random_range(8_000..16_000) } else { rng.random_range(200..6_000) };
            let input = context + fresh;
            let output = rng.random_range(40..2_500);
            let last =
                Usage { input, cached: context / 128 * 128, output, reasoning: rng.random_range(0..=output / 2) };
            context = input + output;
            if context > 180_000 {
                context = rng.random_range(15_000..30_000);
            }
            total.add(last);
            let count = format!(
                r#"{{"timestamp":"{}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{},"last_token_usage":{},"model_context_window":272000}},"rate_limits":{{"primary":{{"used_percent":{:.1},"window_minutes":300,"resets_in_seconds":{}}}}}}}}}"#,
                timestamp(clock + 1_000),
                total.json(),
                last.json(),
                rng.random_range(1.0..90.0f64),
                rng.random_range(60..18_000)
            );
            out.line(&count.clone())?;
            if rng.random_bool(0.1) {
                out.line(&count)?;
            }
        }
        clock += rng.random_range(20_000..900_000);
    }
    out.finish_codex()
}
