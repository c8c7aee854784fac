//! `freight hook`: exact session→commit links at the moment of work. A Claude Code hook
//! (`PostToolUse`, `Stop`) records which session is at work in a repository; git's
//! `prepare-commit-msg` hook then appends `Freight-Session: <id>` to the commit message, so
//! the report links the commit to the session exactly. Hooks never block the agent or the
//! commit: problems are reported on stderr and the exit status stays 0.

use crate::cli::{HookArgs, HookKind};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The trailer freight writes and reads.
pub const TRAILER: &str = "Freight-Session";

/// The session at work in a repository, as the agent's hook last saw it.
#[derive(Debug, Serialize, Deserialize)]
struct ActiveSession {
    session: String,
    tool: String,
    at_ms: i64,
}

fn marker(git_dir: &Path) -> PathBuf {
    git_dir.join("freight").join("active-session.json")
}

pub fn run(args: &HookArgs) -> anyhow::Result<()> {
    let result = match &args.kind {
        HookKind::Claude => record_claude(),
        // A merge's message is git's own and the merge adds no work of its own to link.
        HookKind::PrepareCommitMsg { source: Some(source), .. } if source == "merge" => Ok(()),
        HookKind::PrepareCommitMsg { message_file, .. } => {
            prepare_commit_msg(message_file, args.max_age_hours).map(drop)
        }
        HookKind::Install { repo, force } => return install(repo.as_deref(), *force),
    };
    if let Err(error) = result {
        eprintln!("freight hook: {error:#}");
    }
    Ok(())
}

/// Reads a Claude Code hook payload on stdin (`session_id`, `cwd`) and records the session
/// as active in the repository around `cwd`.
fn record_claude() -> anyhow::Result<()> {
    #[derive(Deserialize)]
    struct Payload {
        session_id: String,
        cwd: PathBuf,
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let payload: Payload =
        serde_json::from_str(&input).context("stdin is not a Claude Code hook payload (session_id, cwd)")?;
    let Some(git_dir) = freight_git::git_dir(&payload.cwd) else {
        return Ok(()); // not in a repository: nothing to link
    };
    let record = ActiveSession {
        session: payload.session_id,
        tool: "claude-code".into(),
        at_ms: chrono::Utc::now().timestamp_millis(),
    };
    let path = marker(&git_dir);
    fs_err::create_dir_all(path.parent().context("marker folder")?)?;
    fs_err::write(&path, serde_json::to_string(&record)?)?;
    Ok(())
}

/// Appends the active session's trailer to a commit message; returns whether it did.
fn prepare_commit_msg(message_file: &Path, max_age_hours: f64) -> anyhow::Result<bool> {
    let here = std::env::current_dir()?;
    let Some(git_dir) = freight_git::git_dir(&here) else {
        bail!("not inside a git repository ({})", here.display());
    };
    let Ok(text) = fs_err::read_to_string(marker(&git_dir)) else {
        return Ok(false);
    };
    let active: ActiveSession = serde_json::from_str(&text).context("the active-session record is damaged")?;
    let age_ms = chrono::Utc::now().timestamp_millis() - active.at_ms;
    if age_ms > (max_age_hours * 3_600_000.0) as i64 {
        return Ok(false);
    }
    let message = fs_err::read_to_string(message_file)?;
    let updated = with_trailer(&message, TRAILER, &active.session);
    if updated == message {
        return Ok(false);
    }
    fs_err::write(message_file, updated)?;
    Ok(true)
}

fn is_trailer_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(key, value)| {
        !key.is_empty() && !value.trim().is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The message with `key: value` added to its trailer block (created if the last paragraph is
/// not one), before git's trailing comment lines; unchanged if the trailer is already there.
pub fn with_trailer(message: &str, key: &str, value: &str) -> String {
    let trailer = format!("{key}: {value}");
    let lines: Vec<&str> = message.lines().collect();
    if lines.iter().any(|line| line.trim() == trailer) {
        return message.to_string();
    }
    // Content ends at the last line that is neither a comment nor blank.
    let content_end =
        lines.iter().rposition(|line| !line.starts_with('#') && !line.trim().is_empty()).map_or(0, |i| i + 1);
    let (content, rest) = lines.split_at(content_end);
    let last_paragraph_start = content.iter().rposition(|line| line.trim().is_empty()).map_or(0, |i| i + 1);
    let in_trailer_block =
        last_paragraph_start > 0 && content[last_paragraph_start..].iter().all(|line| is_trailer_line(line));
    let mut out: Vec<String> = content.iter().map(|line| (*line).to_string()).collect();
    if !content.is_empty() && !in_trailer_block {
        out.push(String::new());
    }
    out.push(trailer);
    out.extend(rest.iter().map(|line| (*line).to_string()));
    out.join("\n") + "\n"
}

/// Writes the git hook into a repository and prints the Claude Code settings that call the
/// other half.
fn install(repo: Option<&Path>, force: bool) -> anyhow::Result<()> {
    let start = match repo {
        Some(path) => path.to_path_buf(),
        None => std::env::current_dir()?,
    };
    let git_dir =
        freight_git::git_dir(&start).with_context(|| format!("{} is not in a git repository", start.display()))?;
    let hook = git_dir.join("hooks").join("prepare-commit-msg");
    if hook.exists() && !force {
        bail!("{} already exists; add `freight hook prepare-commit-msg \"$@\"` to it, or pass --force", hook.display());
    }
    let exe = std::env::current_exe()?;
    fs_err::create_dir_all(hook.parent().context("hooks folder")?)?;
    fs_err::write(&hook, format!("#!/bin/sh\nexec '{}' hook prepare-commit-msg \"$@\"\n", exe.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    eprintln!("freight: wrote {}", hook.display());
    eprintln!(
        "Add this to ~/.claude/settings.json (or the project's .claude/settings.json) so Claude Code says which session is at work:\n{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "hooks": {
                "PostToolUse": [{"matcher": "", "hooks": [{"type": "command", "command": format!("{} hook claude", exe.display())}]}],
                "Stop": [{"hooks": [{"type": "command", "command": format!("{} hook claude", exe.display())}]}]
            }
        }))?
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_join_the_trailer_block_before_comments() {
        assert_eq!(with_trailer("Fix it\n", "Freight-Session", "s1"), "Fix it\n\nFreight-Session: s1\n");
        assert_eq!(
            with_trailer(
                "Fix it\n\nBody.\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n",
                "Freight-Session",
                "s1"
            ),
            "Fix it\n\nBody.\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nFreight-Session: s1\n"
        );
        assert_eq!(
            with_trailer(
                "Fix it\n\n# Please enter the commit message\n# Lines starting with '#'\n",
                "Freight-Session",
                "s1"
            ),
            "Fix it\n\nFreight-Session: s1\n\n# Please enter the commit message\n# Lines starting with '#'\n"
        );
        let once = with_trailer("Fix it\n", "Freight-Session", "s1");
        assert_eq!(with_trailer(&once, "Freight-Session", "s1"), once, "idempotent");
        assert_eq!(with_trailer("", "Freight-Session", "s1"), "Freight-Session: s1\n");
    }
}
