//! `freight hook`: the agent's hook records the session at work, git's hook writes it into the
//! commit message as a trailer, and the report's trailer reader finds it.

use freight_git::write::{Change, RepoWriter, Stamp};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn hook(args: &[&str], dir: &Path, stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_freight"))
        .arg("hook")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("freight runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("freight finishes")
}

#[test]
fn an_agent_hook_and_a_git_hook_write_the_session_into_the_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo_path = dir.path().join("repo");
    let repo = RepoWriter::init(&repo_path).expect("init");
    let stamp = Stamp { name: "A", email: "a@x", seconds: 1_790_000_000, offset: 0 };
    repo.commit("main", stamp, "Initial", &[Change { path: "a", content: Some("1\n") }]).expect("commit");

    let message = dir.path().join("COMMIT_EDITMSG");
    std::fs::write(&message, "Fix the retry loop\n").expect("message");
    // No session recorded yet: the message is left alone.
    assert!(hook(&["prepare-commit-msg", message.to_str().expect("utf-8")], &repo_path, "").status.success());
    assert_eq!(std::fs::read_to_string(&message).expect("read"), "Fix the retry loop\n");

    let payload =
        format!(r#"{{"session_id":"5f2c-11","cwd":"{}","hook_event_name":"PostToolUse"}}"#, repo_path.display());
    let output = hook(&["claude"], dir.path(), &payload);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    assert!(
        hook(&["prepare-commit-msg", message.to_str().expect("utf-8"), "message"], &repo_path, "").status.success()
    );
    let written = std::fs::read_to_string(&message).expect("read");
    assert_eq!(written, "Fix the retry loop\n\nFreight-Session: 5f2c-11\n");
    let (_, sessions, _) = freight_core::outcome::parse_trailers(&written);
    assert_eq!(sessions[0].session, "5f2c-11");

    // Merge commits are left alone.
    std::fs::write(&message, "Merge branch 'x'\n").expect("message");
    hook(&["prepare-commit-msg", message.to_str().expect("utf-8"), "merge"], &repo_path, "");
    assert_eq!(std::fs::read_to_string(&message).expect("read"), "Merge branch 'x'\n");

    // A stale record is not written into later commits.
    std::fs::write(&message, "Later work\n").expect("message");
    hook(&["prepare-commit-msg", message.to_str().expect("utf-8"), "--max-age-hours", "0"], &repo_path, "");
    assert_eq!(std::fs::read_to_string(&message).expect("read"), "Later work\n");

    // A bad payload is reported but never fails the agent's hook.
    let output = hook(&["claude"], dir.path(), "not json");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a Claude Code hook payload"));
}
