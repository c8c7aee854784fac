//! What a model call asked its tools to do, as a few bits (edited files, ran tests, ran a
//! build, committed...) and a short one-way fingerprint of the tool calls: what behaviour
//! metrics and the tokenmaxxing detectors read, without keeping any command or file text.

use serde::{Deserialize, Serialize};

/// The kinds of action one call's tool calls took, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actions(pub u16);

impl Actions {
    pub const NONE: Actions = Actions(0);
    /// Changed files (Claude Code `Edit`, `MultiEdit`, `Write`, `NotebookEdit`; Codex `apply_patch`).
    pub const EDIT: Actions = Actions(1);
    /// Read or searched (`Read`, `Grep`, `Glob`, `LS`, `WebFetch`, `WebSearch`).
    pub const READ: Actions = Actions(1 << 1);
    /// Ran a test suite (`cargo test`, `pytest`, `npm test`, `go test`...).
    pub const TEST: Actions = Actions(1 << 2);
    /// Built, type-checked or linted (`cargo build|check|clippy`, `tsc`, `make`, `eslint`...).
    pub const BUILD: Actions = Actions(1 << 3);
    /// Committed or pushed (`git commit`, `git push`, `gh pr create`).
    pub const COMMIT: Actions = Actions(1 << 4);
    /// Any other shell command.
    pub const SHELL: Actions = Actions(1 << 5);
    /// Started a sub-agent (`Task`).
    pub const AGENT: Actions = Actions(1 << 6);
    /// Any other tool.
    pub const OTHER: Actions = Actions(1 << 7);
    /// The call answered a tool call the user rejected (Claude Code writes the rejection as the
    /// tool's result).
    pub const REJECTED: Actions = Actions(1 << 8);

    pub const NAMES: [(Actions, &'static str); 9] = [
        (Actions::EDIT, "edit"),
        (Actions::READ, "read"),
        (Actions::TEST, "test"),
        (Actions::BUILD, "build"),
        (Actions::COMMIT, "commit"),
        (Actions::SHELL, "shell"),
        (Actions::AGENT, "agent"),
        (Actions::OTHER, "other"),
        (Actions::REJECTED, "rejected"),
    ];

    pub fn contains(self, other: Actions) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    pub fn intersects(self, other: Actions) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Ran tests or a build: the call verified something.
    pub fn verified(self) -> bool {
        self.intersects(Actions(Actions::TEST.0 | Actions::BUILD.0))
    }

    /// Called any tool (the rejection marker is not a tool call).
    pub fn any_tool(self) -> bool {
        self.0 & !Actions::REJECTED.0 != 0
    }

    /// The action bits of one tool call, from the tool's name and, for a shell tool, its command.
    pub fn of_tool(name: &str, command: Option<&str>) -> Actions {
        match name {
            "Edit" | "MultiEdit" | "Write" | "NotebookEdit" | "apply_patch" | "write_file" | "replace" => Actions::EDIT,
            "Read" | "Grep" | "Glob" | "LS" | "WebFetch" | "WebSearch" | "read_file" | "list_directory" | "search"
            | "glob" => Actions::READ,
            "Task" | "Agent" => Actions::AGENT,
            "Bash" | "shell" | "exec_command" | "local_shell" | "run_shell_command" => {
                command.map_or(Actions::SHELL, Actions::of_command)
            }
            _ => Actions::OTHER,
        }
    }

    /// The action bits of a shell command line: each `&&`, `;` or `|` part is looked at.
    pub fn of_command(command: &str) -> Actions {
        let mut actions = Actions::NONE;
        for part in command.split(['&', ';', '|', '\n']) {
            let words: Vec<&str> = part
                .split_whitespace()
                .skip_while(|word| {
                    word.contains('=') || matches!(*word, "sudo" | "time" | "env" | "npx" | "uv" | "poetry")
                })
                .take(3)
                .collect();
            let Some(first) = words.first() else { continue };
            let program = first.rsplit('/').next().unwrap_or(first);
            let second = words.get(1).copied().unwrap_or("");
            let third = words.get(2).copied().unwrap_or("");
            let kind = match (program, second) {
                ("cargo", "test" | "nextest") | ("go", "test") | ("dotnet", "test") | ("mvn" | "./mvnw", "test") => {
                    Actions::TEST
                }
                ("pytest" | "py.test" | "jest" | "vitest" | "rspec" | "ctest" | "tox" | "nox" | "phpunit", _) => {
                    Actions::TEST
                }
                ("python" | "python3", "-m") if matches!(third, "pytest" | "unittest") => Actions::TEST,
                ("npm" | "yarn" | "pnpm" | "bun", "test" | "t") => Actions::TEST,
                ("npm" | "yarn" | "pnpm" | "bun", "run") if third.contains("test") => Actions::TEST,
                ("make" | "just", target) if target.contains("test") || target == "check" => Actions::TEST,
                ("gradle" | "./gradlew", target) if target.contains("test") => Actions::TEST,
                ("cargo", "build" | "check" | "clippy" | "fmt") | ("go", "build" | "vet") | ("dotnet", "build") => {
                    Actions::BUILD
                }
                ("tsc" | "eslint" | "ruff" | "mypy" | "pyright" | "make" | "just" | "cmake" | "ninja" | "bazel", _) => {
                    Actions::BUILD
                }
                ("npm" | "yarn" | "pnpm" | "bun", "run")
                    if ["build", "lint", "typecheck"].iter().any(|t| third.contains(t)) =>
                {
                    Actions::BUILD
                }
                ("npm" | "yarn" | "pnpm", "build" | "lint") | ("mvn" | "./mvnw" | "gradle" | "./gradlew", _) => {
                    Actions::BUILD
                }
                ("git", "commit" | "push") | ("gh", "pr") => Actions::COMMIT,
                _ => Actions::SHELL,
            };
            actions |= kind;
        }
        if actions.is_empty() { Actions::SHELL } else { actions }
    }

    /// The names of the bits set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Actions::NAMES.iter().filter(|(bit, _)| self.contains(*bit)).map(|(_, name)| *name).collect()
    }
}

impl std::ops::BitOr for Actions {
    type Output = Actions;
    fn bitor(self, other: Actions) -> Actions {
        Actions(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Actions {
    fn bitor_assign(&mut self, other: Actions) {
        self.0 |= other.0;
    }
}

/// A 32-bit fingerprint of a call's tool calls, equal for calls that asked for the same tools
/// with the same inputs up to numbers (a poll that counts its attempts still matches itself).
/// 0 means the call asked for no tool. One-way and short: it tells repetition inside a session
/// apart, and cannot be turned back into the command.
#[derive(Debug, Default)]
pub struct TurnFingerprint {
    lanes: [u64; 4],
    calls: u32,
}

/// The bytes of one tool call on their way into a [`TurnFingerprint`], eight to a word. Words
/// go into four lanes in turn, so that a long input is not one long chain of dependent
/// multiplications.
struct Words {
    /// The next word goes into the first.
    lanes: [u64; 4],
    pending: u64,
    filled: u32,
    length: u64,
}

impl Words {
    const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

    fn mix(&mut self, word: u64) {
        let mixed = (self.lanes[0] ^ word).wrapping_mul(Self::MULTIPLIER);
        self.lanes = [self.lanes[1], self.lanes[2], self.lanes[3], mixed ^ (mixed >> 29)];
    }

    fn byte(&mut self, byte: u8) {
        self.pending |= u64::from(byte) << (8 * self.filled);
        self.filled += 1;
        self.length += 1;
        if self.filled == 8 {
            self.mix(self.pending);
            (self.pending, self.filled) = (0, 0);
        }
    }

    /// Eight bytes at once, none of them a digit.
    fn word(&mut self, word: u64) {
        self.length += 8;
        if self.filled == 0 {
            self.mix(word);
        } else {
            self.mix(self.pending | (word << (8 * self.filled)));
            self.pending = word >> (64 - 8 * self.filled);
        }
    }

    fn end(mut self) -> [u64; 4] {
        self.mix(self.pending);
        self.mix(self.length | (1 << 63));
        self.lanes
    }
}

/// Whether any byte of a little-endian word is an ASCII digit.
fn has_digit(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Digits become 0..=9 and nothing else does; then the test for a byte below 10.
    let shifted = word ^ (ONES * u64::from(b'0'));
    shifted.wrapping_sub(ONES * 10) & !shifted & HIGHS != 0
}

impl TurnFingerprint {
    const SEEDS: [u64; 4] =
        [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4, 0x9ce4_8422_2325_cbf2, 0x2325_cbf2_9ce4_8422];

    /// Adds one tool call: its name and its input as written (JSON text or a command line),
    /// without the input's digits. Inputs can be whole files: they are taken eight bytes at a
    /// time where no digit is among them.
    pub fn add(&mut self, name: &str, input: &[u8]) {
        if self.calls == 0 {
            self.lanes = Self::SEEDS;
        }
        self.calls += 1;
        let mut words = Words { lanes: self.lanes, pending: 0, filled: 0, length: 0 };
        for byte in name.bytes().chain([0]) {
            words.byte(byte);
        }
        let mut chunks = input.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            if has_digit(word) {
                chunk.iter().filter(|byte| !byte.is_ascii_digit()).for_each(|&byte| words.byte(byte));
            } else {
                words.word(word);
            }
        }
        chunks.remainder().iter().filter(|byte| !byte.is_ascii_digit()).for_each(|&byte| words.byte(byte));
        self.lanes = words.end();
    }

    pub fn finish(&self) -> u32 {
        if self.calls == 0 {
            return 0;
        }
        // The lanes in order, splitmix64's finaliser, then the halves folded.
        let mut state = self.lanes.iter().fold(u64::from(self.calls), |state, &lane| {
            let mixed = (state ^ lane).wrapping_mul(Words::MULTIPLIER);
            mixed ^ (mixed >> 29)
        });
        state = (state ^ (state >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        state = (state ^ (state >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        state ^= state >> 31;
        let folded = (state ^ (state >> 32)) as u32;
        folded.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_classified_by_program_and_subcommand() {
        assert_eq!(Actions::of_command("cargo test -p freight"), Actions::TEST);
        assert_eq!(Actions::of_command("RUST_LOG=debug cargo nextest run"), Actions::TEST);
        assert_eq!(Actions::of_command("python -m pytest tests/"), Actions::TEST);
        assert_eq!(Actions::of_command("npm run test:unit"), Actions::TEST);
        assert_eq!(Actions::of_command("cargo clippy --all-targets"), Actions::BUILD);
        assert_eq!(Actions::of_command("npx tsc --noEmit"), Actions::BUILD);
        assert_eq!(Actions::of_command("git add -A && git commit -m x"), Actions::SHELL | Actions::COMMIT);
        assert_eq!(Actions::of_command("cargo build && cargo test"), Actions::BUILD | Actions::TEST);
        assert_eq!(Actions::of_command("ls -la"), Actions::SHELL);
        assert_eq!(Actions::of_command(""), Actions::SHELL);
        assert!(Actions::of_command("cargo test").verified());
        assert!(!Actions::of_command("sleep 30").verified());
    }

    #[test]
    fn tools_are_classified_by_name() {
        assert_eq!(Actions::of_tool("Edit", None), Actions::EDIT);
        assert_eq!(Actions::of_tool("apply_patch", None), Actions::EDIT);
        assert_eq!(Actions::of_tool("Grep", None), Actions::READ);
        assert_eq!(Actions::of_tool("Bash", Some("pytest -q")), Actions::TEST);
        assert_eq!(Actions::of_tool("Bash", None), Actions::SHELL);
        assert_eq!(Actions::of_tool("mcp__jira__search", None), Actions::OTHER);
        assert_eq!((Actions::EDIT | Actions::REJECTED).names(), ["edit", "rejected"]);
        assert!(!Actions::REJECTED.any_tool());
    }

    #[test]
    fn fingerprints_see_the_same_bytes_whatever_their_alignment() {
        let of = |name: &str, input: &[u8]| {
            let mut print = TurnFingerprint::default();
            print.add(name, input);
            print.finish()
        };
        let text = b"{\"command\":\"cargo test -p freight --lib 2>&1 | tail -20\",\"description\":\"Run tests\"}";
        let stripped: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_digit()).collect();
        for name in ["", "B", "Bash", "mcp__jira__search"] {
            assert_eq!(of(name, text), of(name, &stripped), "{name}");
            for cut in (0..text.len()).filter(|&cut| !text[cut].is_ascii_digit()) {
                assert_ne!(of(name, &text[..cut]), of(name, &text[..cut + 1]), "{name} {cut}");
            }
        }
        let digits: Vec<u8> = (0..40u8).map(|i| b'0' + i % 10).collect();
        assert_eq!(of("x", &digits), of("x", b""));
        assert_ne!(of("x", b"a"), of("x", b"a\0"));
        assert!((0..=255u8).all(|b| has_digit(u64::from(b)) == b.is_ascii_digit()));
        assert!(!has_digit(u64::from_le_bytes(*b"/:abcXYZ")) && has_digit(u64::from_le_bytes(*b"abcdefg9")));
    }

    #[test]
    fn fingerprints_ignore_numbers_and_tell_inputs_apart() {
        let of = |calls: &[(&str, &str)]| {
            let mut print = TurnFingerprint::default();
            for (name, input) in calls {
                print.add(name, input.as_bytes());
            }
            print.finish()
        };
        assert_eq!(of(&[]), 0);
        assert_eq!(of(&[("Bash", "sleep 30 && check --attempt 4")]), of(&[("Bash", "sleep 60 && check --attempt 5")]));
        assert_ne!(of(&[("Bash", "check a")]), of(&[("Bash", "check b")]));
        assert_ne!(of(&[("Bash", "x")]), of(&[("Read", "x")]));
        assert_ne!(of(&[("Bash", "x")]), 0);
    }
}
