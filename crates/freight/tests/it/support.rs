//! Running the built binary and reading its JSON.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

pub fn freight(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freight"))
        .args(args)
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CODEX_HOME")
        .env_remove("FREIGHT_PRICES")
        .env_remove("FREIGHT_TIMEZONE")
        .output()
        .expect("the freight binary runs")
}

/// Runs freight, requires success, and parses stdout as JSON.
pub fn freight_json(args: &[&str]) -> Value {
    let output = freight(args);
    assert!(output.status.success(), "freight {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

/// Generates an organisation's logs into `dir`.
pub fn generate(dir: &Path, lines: u64, seed: u64, variants: bool) {
    let lines = lines.to_string();
    let seed = seed.to_string();
    let mut args = vec!["generate", "--out", dir.to_str().expect("utf-8 path"), "--lines", &lines, "--seed", &seed];
    if variants {
        args.push("--variants");
    }
    let output = freight(&args);
    assert!(output.status.success(), "generate failed: {}", String::from_utf8_lossy(&output.stderr));
}

pub fn u64_at(value: &Value, path: &[&str]) -> u64 {
    let mut current = value;
    for key in path {
        current = &current[*key];
    }
    current.as_u64().unwrap_or_else(|| panic!("{path:?} is not an integer in {value}"))
}

pub fn f64_at(value: &Value, path: &[&str]) -> f64 {
    let mut current = value;
    for key in path {
        current = &current[*key];
    }
    current.as_f64().unwrap_or_else(|| panic!("{path:?} is not a number in {value}"))
}

/// Writes `lines` as a JSONL file at `path`, creating its folders.
pub fn write_lines(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, lines.join("\n") + "\n").expect("write fixture");
}
