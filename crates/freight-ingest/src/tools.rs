//! Tool calls as the agents' logs write them, reduced to what freight keeps of them: the
//! [`Actions`] bits and a [`TurnFingerprint`]. No name, input or command text outlives the line.

use freight_core::{Actions, TurnFingerprint};
use std::borrow::Cow;

/// One tool call read from a log line.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall<'a> {
    pub name: Cow<'a, str>,
    /// The call's input as written (JSON text, a patch, a command line): fingerprinted only.
    pub input: Cow<'a, [u8]>,
    pub actions: Actions,
}

impl ToolCall<'_> {
    pub fn add_to(&self, fingerprint: &mut TurnFingerprint) {
        fingerprint.add(&self.name, &self.input);
    }
}

/// The actions of several tool calls together.
pub fn actions_of(calls: &[ToolCall<'_>]) -> Actions {
    calls.iter().fold(Actions::NONE, |all, call| all | call.actions)
}

/// The fingerprint of several tool calls, in order (0 for none).
pub fn fingerprint_of(calls: &[ToolCall<'_>]) -> u32 {
    let mut fingerprint = TurnFingerprint::default();
    for call in calls {
        call.add_to(&mut fingerprint);
    }
    fingerprint.finish()
}

/// A command given as an argument vector, as one line to classify: the script of
/// `bash -lc "cargo test"` (a shell's last argument), else the words joined with spaces.
pub fn command_line(words: &[Cow<'_, str>]) -> String {
    let program = words.first().map(|first| first.rsplit('/').next().unwrap_or(first));
    let shell = program.is_some_and(|program| matches!(program, "bash" | "sh" | "zsh" | "dash" | "fish"));
    match words.last() {
        Some(script) if shell && words.len() > 1 => script.to_string(),
        _ => words.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shell_script_is_its_last_argument_and_other_vectors_are_joined() {
        let words = |list: &[&'static str]| list.iter().map(|word| Cow::Borrowed(*word)).collect::<Vec<_>>();
        assert_eq!(command_line(&words(&["bash", "-lc", "cargo test"])), "cargo test");
        assert_eq!(command_line(&words(&["/bin/zsh", "-c", "git commit -m x"])), "git commit -m x");
        assert_eq!(command_line(&words(&["rg", "-n", "todo"])), "rg -n todo");
        assert_eq!(command_line(&words(&["bash"])), "bash");
        assert_eq!(command_line(&[]), "");
    }
}
