//! Two lines, the first the pattern for the second: reading the second as a repeat of the
//! first never panics, and when it succeeds, it agrees with reading the second in full.
#![no_main]

use freight_ingest::claude::{Content, RepeatPlan, parse_line, parse_repeat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&byte| byte == b'\n') else { return };
    let (pattern, line) = (&data[..split], &data[split + 1..]);
    let Ok(read) = parse_line(pattern) else { return };
    let mut plan = RepeatPlan::default();
    if !read.plan(&mut plan) {
        return;
    }
    let Some(repeat) = parse_repeat(line, pattern, &plan, Content::ToolCalls) else { return };
    let full = parse_line(line).expect("a repeat reads in full too");
    assert_eq!(
        (&repeat.timestamp, &repeat.message_id, &repeat.request_id, &repeat.model, &repeat.usage),
        (&full.timestamp, &full.message_id, &full.request_id, &full.model, &full.usage)
    );
    assert_eq!((repeat.tool_use, &repeat.tool_calls), (full.tool_use, &full.tool_calls));
    // Skipping the content reads the same repeat, without its tool calls.
    let skipped = parse_repeat(line, pattern, &plan, Content::Skip).expect("a repeat without its content read");
    assert_eq!((&skipped.timestamp, &skipped.usage, skipped.tool_use), (&repeat.timestamp, &repeat.usage, false));
    assert_eq!(
        (&full.session_id, &full.cwd, &full.git_branch, &full.version, full.is_sidechain, full.cost_usd),
        (&read.session_id, &read.cwd, &read.git_branch, &read.version, read.is_sidechain, read.cost_usd)
    );
});
