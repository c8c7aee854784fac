//! The WAL's event encoding: a compact binary form of a stored event (JSON was a fifth of the
//! receiver's CPU at 250k events/s). A record's payload is events one after another:
//!
//! ```text
//! event    = id:str | ts:i64 LE (Unix ms) | tool:u8 | speed:u8
//!          | flags:u8 (1 sidechain, 2 tool use, 4 actions present)
//!          [| actions:varint | turn:varint]                  (only with flag 4)
//!          | user | session_id | project | cwd | git_branch | model | provider | message_id
//!          | request_id | team | department | cost_center     (each opt)
//!          | input | output | cache_read | cache_write_5m | cache_write_1h | reasoning (varints)
//!          | cost:u8 (0 none, 1 some) [+ 16 bytes: rust_decimal's serialized form]
//! str      = varint length | UTF-8 bytes
//! opt      = varint 0 for none, or varint (length + 1) | UTF-8 bytes
//! varint   = unsigned LEB128
//! ```
//!
//! Records written before flag 4 existed never set it, and decode with no actions and turn 0.
//! A turn is kept only with actions (sources that know one know the other).

use crate::StoredEvent;
use freight_core::{Actions, Money, Speed, TokenCounts, Tool, UsageEvent};

const SIDECHAIN: u8 = 1;
const TOOL_USE: u8 = 2;
const ACTIONS: u8 = 4;

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn text(out: &mut Vec<u8>, value: &str) {
    varint(out, value.len() as u64);
    out.extend_from_slice(value.as_bytes());
}

fn optional(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => varint(out, 0),
        Some(value) => {
            varint(out, value.len() as u64 + 1);
            out.extend_from_slice(value.as_bytes());
        }
    }
}

/// Appends one event's encoding.
pub fn encode(out: &mut Vec<u8>, stored: &StoredEvent) {
    let event = &stored.event;
    text(out, &stored.id);
    out.extend_from_slice(&event.timestamp.timestamp_millis().to_le_bytes());
    out.push(Tool::ALL.iter().position(|tool| *tool == event.tool).unwrap_or(0) as u8);
    out.push(Speed::ALL.iter().position(|speed| *speed == event.speed).unwrap_or(0) as u8);
    let flag = |set: bool, bit: u8| if set { bit } else { 0 };
    out.push(
        flag(event.is_sidechain, SIDECHAIN) | flag(stored.tool_use, TOOL_USE) | flag(stored.actions.is_some(), ACTIONS),
    );
    if let Some(actions) = stored.actions {
        varint(out, u64::from(actions.0));
        varint(out, u64::from(stored.turn));
    }
    for value in [
        event.user.as_deref(),
        Some(event.session_id.as_str()),
        event.project.as_deref(),
        event.cwd.as_deref(),
        event.git_branch.as_deref(),
        event.model.as_deref(),
        event.provider.as_deref(),
        event.message_id.as_deref(),
        event.request_id.as_deref(),
        stored.team.as_deref(),
        stored.department.as_deref(),
        stored.cost_center.as_deref(),
    ] {
        optional(out, value);
    }
    for count in TokenCounts::KINDS {
        varint(out, count(&event.tokens));
    }
    match event.reported_cost {
        None => out.push(0),
        Some(cost) => {
            out.push(1);
            out.extend_from_slice(&cost.serialize());
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(length).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| format!("event cut short at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("varint too long at byte {}", self.at))
    }

    fn text(&mut self, length: u64) -> Result<String, String> {
        let length = usize::try_from(length).map_err(|_| "string length out of range".to_string())?;
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes).map(str::to_string).map_err(|_| format!("string not UTF-8 before byte {}", self.at))
    }

    fn optional(&mut self) -> Result<Option<String>, String> {
        match self.varint()? {
            0 => Ok(None),
            length => self.text(length - 1).map(Some),
        }
    }
}

/// Every event in a payload.
pub fn decode(payload: &[u8]) -> Result<Vec<StoredEvent>, String> {
    let mut reader = Reader { bytes: payload, at: 0 };
    let mut events = Vec::new();
    while reader.at < payload.len() {
        let id_length = reader.varint()?;
        let id = reader.text(id_length)?;
        let mut millis = [0u8; 8];
        millis.copy_from_slice(reader.take(8)?);
        let millis = i64::from_le_bytes(millis);
        let timestamp =
            chrono::DateTime::from_timestamp_millis(millis).ok_or_else(|| format!("time {millis} out of range"))?;
        let tool = *Tool::ALL.get(usize::from(reader.byte()?)).ok_or("unknown tool")?;
        let speed = *Speed::ALL.get(usize::from(reader.byte()?)).ok_or("unknown speed")?;
        let flags = reader.byte()?;
        let (actions, turn) = if flags & ACTIONS != 0 {
            let actions = u16::try_from(reader.varint()?).map_err(|_| "actions out of range")?;
            let turn = u32::try_from(reader.varint()?).map_err(|_| "turn out of range")?;
            (Some(Actions(actions)), turn)
        } else {
            (None, 0)
        };
        let mut strings = Vec::with_capacity(12);
        for _ in 0..12 {
            strings.push(reader.optional()?);
        }
        let mut strings = strings.into_iter();
        let mut next = || strings.next().flatten();
        let (user, session, project, cwd, branch, model) = (next(), next(), next(), next(), next(), next());
        let (provider, message_id, request_id, team, department, cost_center) =
            (next(), next(), next(), next(), next(), next());
        let mut counts = [0u64; 6];
        for count in &mut counts {
            *count = reader.varint()?;
        }
        let reported_cost = match reader.byte()? {
            0 => None,
            1 => {
                let mut bytes = [0u8; 16];
                bytes.copy_from_slice(reader.take(16)?);
                Some(Money::deserialize(bytes))
            }
            other => return Err(format!("cost tag {other}")),
        };
        events.push(StoredEvent {
            id,
            event: UsageEvent {
                timestamp,
                tool,
                user,
                session_id: session.ok_or("event without a session")?,
                project,
                cwd,
                git_branch: branch,
                model,
                provider,
                message_id,
                request_id,
                is_sidechain: flags & SIDECHAIN != 0,
                speed,
                tokens: TokenCounts {
                    input: counts[0],
                    output: counts[1],
                    cache_read: counts[2],
                    cache_write_5m: counts[3],
                    cache_write_1h: counts[4],
                    reasoning: counts[5],
                },
                reported_cost,
            },
            tool_use: flags & TOOL_USE != 0,
            actions,
            turn,
            team,
            department,
            cost_center,
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_back_as_encoded_and_cut_ones_are_errors() {
        let mut first = StoredEvent {
            id: "claude-code:req_1".into(),
            event: UsageEvent {
                timestamp: chrono::DateTime::from_timestamp_millis(1_795_168_800_250).expect("time"),
                tool: Tool::Codex,
                user: Some("ana@example.com".into()),
                session_id: "s-1".into(),
                project: None,
                cwd: Some("/src/api".into()),
                git_branch: Some("main".into()),
                model: Some("gpt-5-codex".into()),
                provider: None,
                message_id: None,
                request_id: Some("".into()),
                is_sidechain: true,
                speed: Speed::Priority,
                tokens: TokenCounts {
                    input: 1,
                    output: 300,
                    cache_read: u64::MAX,
                    reasoning: 127,
                    ..TokenCounts::default()
                },
                reported_cost: Some("0.0123456789".parse().expect("decimal")),
            },
            tool_use: true,
            actions: Some(Actions::EDIT | Actions::TEST | Actions::REJECTED),
            turn: u32::MAX,
            team: Some("payments".into()),
            department: None,
            cost_center: Some("cc-1".into()),
        };
        let mut payload = Vec::new();
        encode(&mut payload, &first);
        let with_actions = first.clone();
        first.id = "second".into();
        first.event.reported_cost = None;
        (first.actions, first.turn) = (None, 0);
        encode(&mut payload, &first);
        let events = decode(&payload).expect("decodes");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0], with_actions);
        assert_eq!(events[1], first);
        assert_eq!(events[0].event.reported_cost, Some("0.0123456789".parse().expect("decimal")));
        for cut in 1..payload.len() / 2 {
            assert!(decode(&payload[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn no_tool_call_is_known_actions_not_missing_ones() {
        let event = StoredEvent {
            id: "claude-code:m:r".into(),
            event: UsageEvent {
                timestamp: chrono::DateTime::from_timestamp_millis(0).expect("time"),
                tool: Tool::ClaudeCode,
                user: None,
                session_id: "s".into(),
                project: None,
                cwd: None,
                git_branch: None,
                model: None,
                provider: None,
                message_id: None,
                request_id: None,
                is_sidechain: false,
                speed: Speed::Standard,
                tokens: TokenCounts::default(),
                reported_cost: None,
            },
            tool_use: false,
            actions: Some(Actions::NONE),
            turn: 0,
            team: None,
            department: None,
            cost_center: None,
        };
        let mut payload = Vec::new();
        encode(&mut payload, &event);
        assert_eq!(decode(&payload).expect("decodes"), [event]);
    }

    #[test]
    fn a_record_written_before_actions_existed_decodes_without_them() {
        // The layout of the first version: flags without bit 4, nothing after them but strings.
        let mut old = Vec::new();
        text(&mut old, "claude-code:req_9");
        old.extend_from_slice(&1_795_168_800_000i64.to_le_bytes());
        old.extend_from_slice(&[0, 0, 1 | 2]);
        for value in [Some("ana@example.com"), Some("s-9"), None, None, None, Some("claude-sonnet-4-5")]
            .into_iter()
            .chain([None; 6])
        {
            optional(&mut old, value);
        }
        for count in [10, 20, 300, 0, 0, 0] {
            varint(&mut old, count);
        }
        old.push(0);
        let events = decode(&old).expect("decodes");
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!((event.actions, event.turn), (None, 0));
        assert!(event.tool_use && event.event.is_sidechain);
        assert_eq!(event.event.model.as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!((event.event.tokens.input, event.event.tokens.cache_read), (10, 300));
    }
}
