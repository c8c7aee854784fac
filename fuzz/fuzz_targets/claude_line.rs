//! Any bytes as one Claude Code line: the parser returns a record or an error, never panics,
//! and what it returns (tokens, tool calls, a rejection) can be turned into a call.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = freight_ingest::claude::parse_line(data) {
        let _ = line.timestamp_millis();
        if let Some(usage) = &line.usage {
            let _ = usage.tokens();
            let _ = usage.speed();
        }
        let _ = (line.actions(), line.turn());
    }
    let _ = freight_ingest::claude::parse_user_line(data).map(|line| line.rejection);
});
