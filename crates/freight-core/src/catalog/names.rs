//! Model-name normalisation: the names a source writes (`anthropic/claude-sonnet-4-5`,
//! `claude-sonnet-4-5-20250929`, `us.anthropic.claude-…-v1:0`, `gpt-5-codex`) to the keys a
//! price catalog is likely to hold, most specific first.

/// Providers whose keys LiteLLM also lists under a `provider/` prefix.
const PROVIDER_PREFIXES: [&str; 3] = ["anthropic/", "openai/", "gemini/"];

/// Catalog keys to try for `model`, in order; the first one present wins.
pub fn candidates(model: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    };
    let trimmed = model.trim();
    push(trimmed.to_string());
    let lower = trimmed.to_ascii_lowercase();
    push(lower.clone());

    let bare = strip_vendor(&lower);
    push(bare.to_string());
    let undated = strip_date(bare);
    push(undated.to_string());
    for prefix in PROVIDER_PREFIXES {
        push(format!("{prefix}{bare}"));
        push(format!("{prefix}{undated}"));
    }
    names
}

/// `openrouter/anthropic/claude-x` -> `claude-x`; `us.anthropic.claude-x-v1:0` -> `claude-x`.
pub(super) fn strip_vendor(name: &str) -> &str {
    let mut name = name.rsplit('/').next().unwrap_or(name);
    for vendor in ["anthropic.", "openai."] {
        if let Some(position) = name.find(vendor) {
            name = &name[position + vendor.len()..];
        }
    }
    if let Some(position) = name.rfind("-v") {
        let version = &name[position + 2..];
        if version.split(':').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())) {
            name = &name[..position];
        }
    }
    name
}

/// `claude-sonnet-4-5-20250929` -> `claude-sonnet-4-5`; `gpt-4o-2024-08-06` -> `gpt-4o`;
/// `claude-3-5-haiku@20241022` -> `claude-3-5-haiku`.
pub(super) fn strip_date(name: &str) -> &str {
    let bytes = name.as_bytes();
    let is_digits = |range: &[u8]| range.iter().all(u8::is_ascii_digit);
    if bytes.len() > 9 {
        let (head, tail) = bytes.split_at(bytes.len() - 9);
        if (tail[0] == b'-' || tail[0] == b'@') && is_digits(&tail[1..]) && !head.is_empty() {
            return &name[..name.len() - 9];
        }
    }
    if bytes.len() > 11 {
        let tail = &bytes[bytes.len() - 11..];
        if tail[0] == b'-'
            && is_digits(&tail[1..5])
            && tail[5] == b'-'
            && is_digits(&tail[6..8])
            && tail[8] == b'-'
            && is_digits(&tail[9..11])
        {
            return &name[..name.len() - 11];
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_prefixes_dates_and_bedrock_versions() {
        assert!(candidates("anthropic/claude-sonnet-4-5").contains(&"claude-sonnet-4-5".to_string()));
        assert!(candidates("claude-sonnet-4-5-20250929").contains(&"claude-sonnet-4-5".to_string()));
        assert!(candidates("us.anthropic.claude-opus-4-1-20250805-v1:0").contains(&"claude-opus-4-1".to_string()));
        assert!(candidates("gpt-4o-2024-08-06").contains(&"gpt-4o".to_string()));
        assert!(candidates("claude-3-5-haiku@20241022").contains(&"claude-3-5-haiku".to_string()));
        assert_eq!(candidates("gpt-5-codex")[0], "gpt-5-codex");
        assert!(candidates("GPT-5").contains(&"openai/gpt-5".to_string()));
    }
}
