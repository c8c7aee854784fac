//! Filler for generated logs: ids, timestamps, and plain words that look like agent traffic
//! (ASCII without quotes or backslashes, so it needs no JSON escaping).

use chrono::{DateTime, Utc};
use rand::Rng;

const WORDS: [&str; 32] = [
    "the",
    "function",
    "returns",
    "error",
    "when",
    "input",
    "is",
    "empty",
    "refactor",
    "module",
    "test",
    "passes",
    "update",
    "config",
    "handler",
    "request",
    "response",
    "cache",
    "retry",
    "timeout",
    "parse",
    "struct",
    "field",
    "migration",
    "query",
    "index",
    "deploy",
    "build",
    "fix",
    "lint",
    "docs",
    "review",
];

/// Words filling a length drawn from `bytes`.
pub fn words(rng: &mut impl Rng, bytes: std::ops::Range<usize>) -> String {
    let bytes = rng.random_range(bytes);
    let mut out = String::with_capacity(bytes + 12);
    while out.len() < bytes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(WORDS[rng.random_range(0..WORDS.len())]);
    }
    out
}

/// A random hex string of `len` digits.
pub fn hex(rng: &mut impl Rng, len: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..len).map(|_| DIGITS[rng.random_range(0..16)] as char).collect()
}

/// A random UUID-shaped id.
pub fn uuid(rng: &mut impl Rng) -> String {
    format!("{}-{}-4{}-a{}-{}", hex(rng, 8), hex(rng, 4), hex(rng, 3), hex(rng, 3), hex(rng, 12))
}

/// A base62-ish id such as Anthropic's `msg_01…` and `req_011…`.
pub fn base62(rng: &mut impl Rng, len: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len).map(|_| DIGITS[rng.random_range(0..DIGITS.len())] as char).collect()
}

/// RFC 3339 with milliseconds and `Z`, as both agents write it.
pub fn timestamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
