//! Any bytes as a Codex rollout (split on newlines): each line parses or errors, and the
//! session walk (running totals, deltas, forked-file replays) never panics or overflows.
#![no_main]

use freight_ingest::codex::{CodexSession, parse_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let forked = data.first().is_some_and(|byte| byte & 1 == 1);
    let mut session = CodexSession::new(forked);
    for line in data.split(|byte| *byte == b'\n') {
        if let Ok(parsed) = parse_line(line) {
            if let Some(call) = session.feed(&parsed) {
                let _ = call.tokens.total();
            }
        }
    }
});
