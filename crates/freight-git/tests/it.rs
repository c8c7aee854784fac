//! freight-git against real repositories written with its own writer.

use freight_core::outcome::{AiAgent, settle_reverts};
use freight_git::write::{Change, RepoWriter, Stamp};
use freight_git::{MineOptions, mine};

const DAY: i64 = 86_400;
const T0: i64 = 1_788_000_000;

fn alice(seconds: i64) -> Stamp<'static> {
    Stamp { name: "Alice", email: "alice@acme.dev", seconds, offset: 3600 }
}

fn file(path: &str, content: &str) -> Change<'static> {
    Change {
        path: Box::leak(path.to_string().into_boxed_str()),
        content: Some(Box::leak(content.to_string().into_boxed_str())),
    }
}

fn lines(n: usize, tag: &str) -> String {
    (0..n).map(|i| format!("{tag} line {i}\n")).collect()
}

const AI: &str = "\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nFreight-Session: s-1\n";

fn options() -> MineOptions {
    MineOptions { survival: true, ..MineOptions::default() }
}

#[test]
fn commits_lines_trailers_merges_and_empty_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    repo.set_user_email("alice@acme.dev").expect("config");
    let base = repo.commit("main", alice(T0), "Initial", &[file("README.md", &lines(3, "readme"))]).expect("commit");
    repo.branch_from("feature", "main").expect("branch");
    let ai = repo
        .commit("feature", alice(T0 + 60), &format!("Add parser{AI}"), &[file("src/parse.rs", &lines(10, "parse"))])
        .expect("commit");
    let merge = repo.merge("main", "feature", alice(T0 + 120), "Merge branch 'feature'").expect("merge");
    let empty = repo.commit("main", alice(T0 + 180), "Empty: retrigger CI", &[]).expect("commit");

    let mined = mine(dir.path(), &options()).expect("mines");
    assert_eq!(mined.branch, "refs/heads/main");
    assert_eq!(mined.user_email.as_deref(), Some("alice@acme.dev"));
    let shas: Vec<&str> = mined.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, vec![empty.as_str(), merge.as_str(), ai.as_str(), base.as_str()], "newest first");
    let by_sha = |sha: &str| mined.commits.iter().find(|c| c.sha == sha).expect("present");
    let ai_commit = by_sha(&ai);
    assert_eq!((ai_commit.lines_added, ai_commit.lines_removed, ai_commit.files_changed), (10, 0, 1));
    assert_eq!(ai_commit.agents, vec![AiAgent::ClaudeCode]);
    assert_eq!(ai_commit.sessions[0].session, "s-1");
    assert_eq!(ai_commit.authored_at, (T0 + 60) * 1000, "UTC millis, whatever the offset");
    let merge_commit = by_sha(&merge);
    assert!(merge_commit.is_merge());
    assert_eq!(merge_commit.lines_changed(), 0, "a merge's lines belong to the commits it brings in");
    assert_eq!(by_sha(&empty).files_changed, 0);
    assert_eq!(mined.survival[&ai].surviving, 10);
}

#[test]
fn reverts_and_reverts_of_reverts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    let original = repo.commit("main", alice(T0), &format!("Feature{AI}"), &[file("a.rs", &lines(4, "a"))]).expect("c");
    let revert = repo
        .commit(
            "main",
            alice(T0 + DAY),
            &format!("Revert \"Feature\"\n\nThis reverts commit {original}."),
            &[Change { path: "a.rs", content: None }],
        )
        .expect("c");
    let reapply = repo
        .commit(
            "main",
            alice(T0 + 2 * DAY),
            &format!("Reapply \"Feature\"\n\nThis reverts commit {}.", &revert[..10]),
            &[file("a.rs", &lines(4, "a"))],
        )
        .expect("c");
    let mined = mine(dir.path(), &options()).expect("mines");
    let states = settle_reverts(&mined.commits, i64::MAX);
    let state_of = |sha: &str| states[mined.commits.iter().position(|c| c.sha == sha).expect("present")];
    assert!(!state_of(&original).reverted, "the revert was itself reverted");
    assert!(state_of(&revert).reverted);
    assert!(!state_of(&reapply).reverted);
    let as_of_day_one = settle_reverts(&mined.commits, (T0 + DAY) * 1000);
    assert!(as_of_day_one[mined.commits.iter().position(|c| c.sha == original).expect("present")].reverted);
}

#[test]
fn survival_follows_renames_and_counts_rewritten_lines_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    let content = lines(20, "ai");
    let ai = repo.commit("main", alice(T0), &format!("AI work{AI}"), &[file("old/name.rs", &content)]).expect("c");
    // A human renames the file, then rewrites 5 of its 20 lines.
    repo.commit(
        "main",
        alice(T0 + DAY),
        "Move",
        &[Change { path: "old/name.rs", content: None }, file("new/name.rs", &content)],
    )
    .expect("c");
    let rewritten: String = content
        .lines()
        .enumerate()
        .map(|(i, l)| if i < 5 { format!("human {i}\n") } else { format!("{l}\n") })
        .collect();
    repo.commit("main", alice(T0 + 2 * DAY), "Rewrite the head", &[file("new/name.rs", &rewritten)]).expect("c");
    let mined = mine(dir.path(), &options()).expect("mines");
    assert_eq!(mined.survival[&ai], freight_git::Survival { added: 20, surviving: 15, reworked: Some(5) });
    // As of before the rewrite, all 20 survive.
    let past = mine(dir.path(), &MineOptions { as_of: Some((T0 + DAY) * 1000), ..options() }).expect("mines");
    assert_eq!(past.commits.len(), 2);
    assert_eq!(past.survival[&ai].surviving, 20);
}

#[test]
fn rework_counts_only_rewrites_inside_the_window_and_starts_where_a_branch_was_merged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    let content = lines(10, "ai");
    repo.commit("main", alice(T0), "Base", &[file("README", "r\n")]).expect("c");
    // Written on a branch on day 0, merged on day 20: its window runs from the merge.
    repo.branch_from("feature", "main").expect("branch");
    let ai = repo.commit("feature", alice(T0 + 3600), &format!("AI work{AI}"), &[file("a.rs", &content)]).expect("c");
    repo.merge("main", "feature", alice(T0 + 20 * DAY), "Merge branch 'feature'").expect("merge");
    // Three lines rewritten on day 22, inside the window from the merge ...
    let edited: String = content
        .lines()
        .enumerate()
        .map(|(i, l)| if i < 3 { format!("edit {i}\n") } else { format!("{l}\n") })
        .collect();
    repo.commit("main", alice(T0 + 22 * DAY), "Tidy", &[file("a.rs", &edited)]).expect("c");
    // ... and two more on day 60, outside it.
    let later: String = edited
        .lines()
        .enumerate()
        .map(|(i, l)| if (3..5).contains(&i) { format!("late {i}\n") } else { format!("{l}\n") })
        .collect();
    repo.commit("main", alice(T0 + 60 * DAY), "Later", &[file("a.rs", &later)]).expect("c");
    let mined = mine(dir.path(), &options()).expect("mines");
    assert_eq!(mined.survival[&ai], freight_git::Survival { added: 10, surviving: 5, reworked: Some(3) });
}

#[test]
fn force_pushed_history_counts_only_what_main_reaches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    repo.commit("main", alice(T0), "Base", &[file("a", "1\n")]).expect("c");
    repo.branch_from("rewritten", "main").expect("branch");
    let dropped =
        repo.commit("main", alice(T0 + 60), "Pushed, then force-pushed away", &[file("a", "2\n")]).expect("c");
    repo.commit("rewritten", alice(T0 + 120), "The history that stayed", &[file("a", "3\n")]).expect("c");
    let mined = mine(dir.path(), &MineOptions { branch: Some("rewritten".into()), ..options() }).expect("mines");
    assert_eq!(mined.commits.len(), 2);
    assert!(mined.commits.iter().all(|c| c.sha != dropped));
}

#[test]
fn git_ai_notes_mark_commits_and_name_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = RepoWriter::init(dir.path()).expect("init");
    let sha = repo.commit("main", alice(T0), "No trailers here", &[file("x.rs", &lines(5, "x"))]).expect("c");
    let note = "x.rs\n  s_1 1-5\n---\n{\"prompts\":{\"s_1\":{\"agent_id\":{\"tool\":\"cursor\",\"id\":\"sess-9\",\"model\":\"gpt-5\"}}}}";
    repo.add_note("refs/notes/ai", &sha, note, alice(T0 + 1)).expect("note");
    let mined = mine(dir.path(), &options()).expect("mines");
    let commit = &mined.commits[0];
    assert_eq!(commit.agents, vec![AiAgent::Cursor]);
    assert_eq!(commit.sessions[0].session, "sess-9");
    assert_eq!(commit.sessions[0].trailer, "refs/notes/ai");
}

#[test]
fn a_folder_that_is_not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error = mine(dir.path(), &options()).expect_err("not a repo").to_string();
    assert!(error.contains("opening the repository"), "{error}");
}
