//! The usage event: one model call, with who, where and when, and its raw token counts.
//!
//! Cost is not a field: it is derived from the tokens and a price catalog at query time. A cost
//! the source reported itself is kept as `reported_cost` for reconciliation, never summed into
//! freight's own cost.

use crate::{Money, TokenCounts};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The agent or client that made the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    ClaudeCode,
    Codex,
    /// Gemini CLI (over OTLP).
    GeminiCli,
    /// Any other client instrumented with OpenTelemetry's GenAI conventions (over OTLP).
    #[serde(rename = "genai")]
    GenAi,
}

impl Tool {
    pub const ALL: [Tool; 4] = [Tool::ClaudeCode, Tool::Codex, Tool::GeminiCli, Tool::GenAi];

    pub fn as_str(self) -> &'static str {
        match self {
            Tool::ClaudeCode => "claude-code",
            Tool::Codex => "codex",
            Tool::GeminiCli => "gemini-cli",
            Tool::GenAi => "genai",
        }
    }

    pub fn parse(text: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|tool| tool.as_str() == text)
    }
}

/// The service tier a call ran on, where it changes the price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Speed {
    #[default]
    Standard,
    /// Claude Code's fast mode (`message.usage.speed: "fast"`).
    Fast,
    /// OpenAI's priority processing (Codex `service_tier: "priority"` or `"fast"`).
    Priority,
}

impl Speed {
    pub const ALL: [Speed; 3] = [Speed::Standard, Speed::Fast, Speed::Priority];

    pub fn as_str(self) -> &'static str {
        match self {
            Speed::Standard => "standard",
            Speed::Fast => "fast",
            Speed::Priority => "priority",
        }
    }
}

/// One model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub timestamp: DateTime<Utc>,
    pub tool: Tool,
    /// Person the call belongs to (email or account id), when the source says.
    pub user: Option<String>,
    pub session_id: String,
    /// Project as the source names it (Claude Code: the folder under `projects/`).
    pub project: Option<String>,
    pub cwd: Option<String>,
    pub git_branch: Option<String>,
    /// Model as the source wrote it; `None` when the source named none.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub message_id: Option<String>,
    pub request_id: Option<String>,
    pub is_sidechain: bool,
    pub speed: Speed,
    pub tokens: TokenCounts,
    /// The source's own cost figure (Claude Code `costUSD`, OTLP `cost_usd`), if any.
    pub reported_cost: Option<Money>,
}
