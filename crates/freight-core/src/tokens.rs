//! Token counts by kind, in one convention for every source.
//!
//! `input` is uncached input only (Anthropic's convention). Sources that count cached tokens
//! inside input (OpenAI, Codex, GenAI `gen_ai.usage.input_tokens`) are converted at ingest, so
//! cached input is never counted twice. `output` includes reasoning; `reasoning` is the part of
//! `output` that was reasoning, kept so it can be priced apart when a model has its own rate.

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    pub reasoning: u64,
}

impl TokenCounts {
    /// Each kind's count, in the order the `usage` table's token columns have.
    pub const KINDS: [fn(&TokenCounts) -> u64; 6] = [
        |tokens| tokens.input,
        |tokens| tokens.output,
        |tokens| tokens.cache_read,
        |tokens| tokens.cache_write_5m,
        |tokens| tokens.cache_write_1h,
        |tokens| tokens.reasoning,
    ];

    /// Tokens written to the cache, both durations.
    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m + self.cache_write_1h
    }

    /// The prompt as the provider sized it: uncached input plus everything read from or
    /// written to the cache. Price tiers (`*_above_200k_tokens`) are chosen on this.
    pub fn prompt(&self) -> u64 {
        self.input + self.cache_read + self.cache_write()
    }

    /// All tokens, as ccusage's `totalTokens` counts them (reasoning is inside output).
    pub fn total(&self) -> u64 {
        self.prompt() + self.output
    }

    pub fn is_zero(&self) -> bool {
        self.total() == 0 && self.reasoning == 0
    }
}

impl Add for TokenCounts {
    type Output = TokenCounts;
    fn add(self, other: TokenCounts) -> TokenCounts {
        TokenCounts {
            input: self.input + other.input,
            output: self.output + other.output,
            cache_read: self.cache_read + other.cache_read,
            cache_write_5m: self.cache_write_5m + other.cache_write_5m,
            cache_write_1h: self.cache_write_1h + other.cache_write_1h,
            reasoning: self.reasoning + other.reasoning,
        }
    }
}

impl AddAssign for TokenCounts {
    fn add_assign(&mut self, other: TokenCounts) {
        *self = *self + other;
    }
}
