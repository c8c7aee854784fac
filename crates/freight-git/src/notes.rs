//! git-ai authorship notes (`refs/notes/ai`): which agent, session and model wrote which lines
//! of a commit. A note is an attestation section (a file path, then indented `<key> <ranges>`
//! lines), a `---` line, and JSON metadata whose prompts carry `agent_id.{tool,id,model}`.

use freight_core::outcome::AiAgent;
use gix::bstr::ByteSlice;
use std::collections::HashMap;

pub const AI_NOTES_REF: &str = "refs/notes/ai";

/// What one commit's note says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiNote {
    pub agents: Vec<AiAgent>,
    pub sessions: Vec<String>,
    pub models: Vec<String>,
    /// Lines the attestation section gives to agents.
    pub ai_lines: u64,
}

/// Every commit's note under `refs/notes/ai`, by commit sha; empty when the ref is absent.
pub fn read_ai_notes(repo: &gix::Repository) -> Result<HashMap<String, AiNote>, String> {
    let Ok(mut reference) = repo.find_reference(AI_NOTES_REF) else {
        return Ok(HashMap::new());
    };
    let tree = reference.peel_to_tree().map_err(|e| e.to_string())?;
    let files = tree.traverse().breadthfirst.files().map_err(|e| e.to_string())?;
    let mut notes = HashMap::new();
    for entry in files.into_iter().filter(|entry| entry.mode.is_blob()) {
        // Fan-out paths (`ab/cdef…`) spell the annotated commit's sha.
        let sha: String = entry.filepath.to_str_lossy().chars().filter(|c| *c != '/').collect();
        if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let blob = repo.find_blob(entry.oid).map_err(|e| e.to_string())?;
        notes.insert(sha.to_lowercase(), parse_note(&blob.data.to_str_lossy()));
    }
    Ok(notes)
}

fn agent_of_tool(tool: &str) -> AiAgent {
    let tool = tool.to_ascii_lowercase();
    if tool.contains("claude") {
        AiAgent::ClaudeCode
    } else if tool.contains("codex") {
        AiAgent::Codex
    } else if tool.contains("cursor") {
        AiAgent::Cursor
    } else if tool.contains("copilot") {
        AiAgent::Copilot
    } else {
        AiAgent::Other
    }
}

/// Lines in a range list such as `1-10,15,20-21`.
fn count_ranges(ranges: &str) -> u64 {
    ranges
        .split(',')
        .filter_map(|range| {
            let range = range.trim();
            match range.split_once('-') {
                Some((from, to)) => Some(to.trim().parse::<u64>().ok()?.saturating_sub(from.trim().parse().ok()?) + 1),
                None => range.parse::<u64>().ok().map(|_| 1),
            }
        })
        .sum()
}

/// Reads one note; what it cannot read it leaves out (a note is advisory metadata).
pub fn parse_note(text: &str) -> AiNote {
    let mut note = AiNote::default();
    let (attestation, metadata) = match text.split_once("\n---\n") {
        Some((head, tail)) => (head, tail),
        None if text.trim_start().starts_with('{') => ("", text),
        None => (text, ""),
    };
    for line in attestation.lines() {
        if line.starts_with([' ', '\t'])
            && let Some((_, ranges)) = line.trim().split_once(' ')
        {
            note.ai_lines += count_ranges(ranges);
        }
    }
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(metadata.trim()) {
        collect_agents(&json, &mut note);
    }
    note
}

fn collect_agents(value: &serde_json::Value, note: &mut AiNote) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(agent) = map.get("agent_id").and_then(|v| v.as_object()) {
                let text = |key: &str| agent.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
                if let Some(tool) = text("tool") {
                    let agent = agent_of_tool(tool);
                    if !note.agents.contains(&agent) {
                        note.agents.push(agent);
                    }
                }
                for (key, list) in [("id", &mut note.sessions), ("model", &mut note.models)] {
                    if let Some(value) = text(key)
                        && !list.iter().any(|known| known == value)
                    {
                        list.push(value.to_string());
                    }
                }
            }
            map.values().for_each(|v| collect_agents(v, note));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_agents(v, note)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_attested_lines_and_agents() {
        let note = "src/main.rs\n  s_abc 1-10,15\nsrc/lib.rs\n  s_abc 3-4\n---\n{\"schema_version\":\"authorship/3.0.0\",\"prompts\":{\"s_abc\":{\"agent_id\":{\"tool\":\"claude\",\"id\":\"2ff46cd5\",\"model\":\"claude-sonnet-4-5\"}}}}";
        let parsed = parse_note(note);
        assert_eq!(parsed.ai_lines, 13);
        assert_eq!(parsed.agents, vec![AiAgent::ClaudeCode]);
        assert_eq!(parsed.sessions, vec!["2ff46cd5".to_string()]);
        assert_eq!(parse_note("not a note"), AiNote::default());
    }
}
