//! An organisation at benchmark scale (up to hundreds of millions of calls and millions of
//! outcomes), written straight to a freight dataset: usage Parquet files built as Arrow batches
//! in parallel, outcome files, and the org directory. Sessions, commits and pull requests are
//! derived from one seed, so commits land inside their sessions' windows (heuristic links),
//! half of them carry the session's trailer (exact links), and pull requests sit on the
//! sessions' branches.

use anyhow::Context;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, DictionaryArray, Int32Array, RecordBatch, StringArray,
    TimestampMillisecondArray, UInt16Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::datatypes::Int32Type;
use freight_analytics::attribution::Outcomes;
use freight_analytics::dataset;
use freight_core::Actions;
use freight_core::link::RepoPlace;
use freight_core::outcome::{
    AiAgent, Commit, Deploy, Incident, Millis, OutcomeEvent, PullRequest, SessionTrailer, Survival, Ticket,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;
/// Days of activity, ending a day before `end`.
const DAYS: Millis = 90;
/// Seconds between a session's calls.
const CALL_SPACING_MS: Millis = 20_000;
const MODELS: [&str; 3] = ["claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalePlan {
    pub events: u64,
    pub outcomes: u64,
    pub seed: u64,
    /// The report's as-of time; activity ends a day before.
    pub end: Millis,
}

impl ScalePlan {
    pub fn people(&self) -> u64 {
        (self.events / 20_000).clamp(12, 5_000)
    }

    pub fn teams(&self) -> u64 {
        (self.people() / 100).clamp(3, 50)
    }

    pub fn repos(&self) -> u64 {
        (self.people() / 10).clamp(3, 500)
    }

    pub fn sessions(&self) -> u64 {
        (self.events / 200).max(1)
    }

    pub fn fingerprint(&self) -> String {
        format!("scale v2 {self:?}")
    }
}

/// A small, fast, seeded hash (splitmix64) for everything derived from indices.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn hash(seed: u64, a: u64, b: u64) -> u64 {
    mix(seed ^ mix(a ^ mix(b)))
}

fn person_email(person: u64) -> String {
    format!("p{person}@bench.example")
}

fn repo_name(repo: u64) -> String {
    format!("repo-{repo:03}")
}

/// One session, derived from its index.
struct Session {
    person: u64,
    repo: u64,
    start: Millis,
    calls: u64,
    model: usize,
}

impl Session {
    fn end(&self) -> Millis {
        self.start + (self.calls.max(1) as Millis - 1) * CALL_SPACING_MS
    }
}

fn session(plan: &ScalePlan, index: u64) -> Session {
    let sessions = plan.sessions();
    let base = plan.events / sessions;
    // Calls vary by ±50% in mirrored pairs, so they still add up to `events`.
    let pair = index.min(sessions - 1 - index);
    let swing = if base >= 2 { hash(plan.seed, 1, pair) % (base / 2 + 1) } else { 0 };
    let mut calls = if index == pair { base + swing } else { base - swing };
    if sessions % 2 == 1 && index == sessions / 2 {
        calls = base;
    }
    if index < plan.events % sessions {
        calls += 1;
    }
    let person = hash(plan.seed, 2, index) % plan.people();
    let repo = (person * 7 + hash(plan.seed, 3, index) % 3 * 131) % plan.repos();
    let start = plan.end - (DAYS + 1) * DAY + (hash(plan.seed, 4, index) % (DAYS * DAY) as u64) as Millis;
    let model = match hash(plan.seed, 5, index) % 10 {
        0..=2 => 0,
        3..=8 => 1,
        _ => 2,
    };
    Session { person, repo, start, calls, model }
}

/// What a call that used tools did, by share of such calls: edits, reads, tests, builds,
/// commits, and other shell commands for the rest (of 100).
const ACTION_SHARES: [(u64, Actions); 5] =
    [(35, Actions::EDIT), (25, Actions::READ), (8, Actions::TEST), (5, Actions::BUILD), (2, Actions::COMMIT)];

/// A tool-using call's actions from its hash, and its kind's index.
fn call_actions(h: u64) -> (Actions, u64) {
    let mut pick = (h >> 44) % 100;
    for (kind, (share, actions)) in ACTION_SHARES.into_iter().enumerate() {
        if pick < share {
            return (actions, kind as u64);
        }
        pick -= share;
    }
    (Actions::SHELL, ACTION_SHARES.len() as u64)
}

fn dictionary(keys: &Int32Array, values: Vec<String>) -> anyhow::Result<ArrayRef> {
    Ok(Arc::new(DictionaryArray::<Int32Type>::try_new(keys.clone(), Arc::new(StringArray::from(values)))?))
}

/// The calls of sessions `from..to` as one record batch of the usage table's schema.
fn usage_batch(plan: &ScalePlan, from: u64, to: u64) -> anyhow::Result<RecordBatch> {
    let mut ts = Vec::new();
    // Every per-session column (user, project, id, directory, branch) has one dictionary
    // entry per session of the batch, so they share one key array.
    let (mut session_of_row, mut model) = (Vec::new(), Vec::new());
    let (mut tool_use, mut actions, mut turns) = (Vec::new(), Vec::new(), Vec::new());
    let mut tokens: [Vec<u64>; 6] = Default::default();
    let (mut users, mut projects, mut ids, mut cwds, mut branches) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for index in from..to {
        let s = session(plan, index);
        let local = (index - from) as i32;
        users.push(person_email(s.person));
        projects.push(format!("-home-p{}-src-{}", s.person, repo_name(s.repo)));
        ids.push(format!("{:08x}-bench-{index:012}", hash(plan.seed, 6, index) as u32));
        cwds.push(format!("/home/p{}/src/{}", s.person, repo_name(s.repo)));
        branches.push(format!("feat/s{index}"));
        let mut context = 8_000 + hash(plan.seed, 7, index) % 20_000;
        for call in 0..s.calls {
            let h = hash(plan.seed, index, call);
            ts.push(s.start + call as Millis * CALL_SPACING_MS);
            session_of_row.push(local);
            model.push(if h.is_multiple_of(10) { 2 } else { s.model as i32 });
            tool_use.push(h % 10 < 7);
            if h % 10 < 7 {
                // A session repeats a few tool calls of each kind: a fingerprint per (session,
                // kind, one of four variants).
                let (bits, kind) = call_actions(h);
                actions.push(bits.0);
                turns.push((hash(plan.seed, 8 + kind, index * 4 + (h >> 52) % 4) as u32).max(1));
            } else {
                actions.push(0);
                turns.push(0);
            }
            let uncached = 1 + (h >> 8) % 3_000;
            let written = if call == 0 { context } else { (h >> 20) % 4_000 };
            tokens[0].push(uncached);
            tokens[1].push(40 + (h >> 32) % 1_500);
            tokens[2].push(if call == 0 { 0 } else { context });
            tokens[3].push(written);
            tokens[4].push(0);
            tokens[5].push(0);
            context = (context + written).min(180_000);
        }
    }
    let rows = ts.len();
    let schema = freight_ingest::usage_schema();
    let (zeros, keys) = (Int32Array::from(vec![0; rows]), Int32Array::from(session_of_row));
    let constant = |value: &str| dictionary(&zeros, vec![value.to_string()]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
        constant("claude-code")?,
        dictionary(&keys, users)?,
        dictionary(&keys, projects)?,
        dictionary(&keys, ids)?,
        dictionary(&keys, cwds)?,
        dictionary(&keys, branches)?,
        dictionary(&Int32Array::from(model), MODELS.iter().map(|m| m.to_string()).collect())?,
        constant("standard")?,
        Arc::new(BooleanArray::from(vec![false; rows])),
        Arc::new(BooleanArray::from(tool_use)),
        Arc::new(UInt16Array::from(actions)),
        Arc::new(UInt32Array::from(turns)),
        Arc::new(StringArray::new_null(rows)),
        Arc::new(StringArray::new_null(rows)),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[0]))),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[1]))),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[2]))),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[3]))),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[4]))),
        Arc::new(UInt64Array::from(std::mem::take(&mut tokens[5]))),
        Arc::new(
            Decimal128Array::new_null(rows)
                .with_precision_and_scale(38, freight_ingest::table::REPORTED_COST_SCALE)
                .context("reported_cost type")?,
        ),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Writes the usage files: sessions split evenly over `files` Parquet files, in parallel.
fn write_usage(plan: &ScalePlan, dir: &Path, files: u64, progress: &indicatif::ProgressBar) -> anyhow::Result<()> {
    let usage = dir.join(dataset::USAGE_DIR);
    fs_err::create_dir_all(&usage)?;
    let sessions = plan.sessions();
    let per_batch = 300;
    (0..files).into_par_iter().try_for_each(|file| -> anyhow::Result<()> {
        let (from, to) = (sessions * file / files, sessions * (file + 1) / files);
        let path = usage.join(format!("part-{file:04}.parquet"));
        let mut writer = dataset::parquet_writer(&path, freight_ingest::usage_schema())?;
        let mut start = from;
        while start < to {
            let end = (start + per_batch).min(to);
            let batch = usage_batch(plan, start, end)?;
            progress.inc(batch.num_rows() as u64);
            writer.write(&batch)?;
            start = end;
        }
        writer.close()?;
        Ok(())
    })
}

fn sha(seed: u64, repo: u64, index: u64) -> String {
    format!(
        "{:016x}{:016x}{:08x}",
        hash(seed, repo, index),
        hash(seed, index, repo),
        hash(seed, 9, repo ^ index) as u32
    )
}

/// The outcomes: commits (half made in sessions, half of those with the session's trailer),
/// pull requests on sessions' branches, deploys, tickets, incidents and other events.
fn outcomes(plan: &ScalePlan) -> Outcomes {
    let seed = plan.seed;
    let total = plan.outcomes;
    let (commits_n, pulls_n, deploys_n, tickets_n, incidents_n) =
        (total * 60 / 100, total * 25 / 100, total * 5 / 100, total * 8 / 100, total / 200);
    let events_n = total - commits_n - pulls_n - deploys_n - tickets_n - incidents_n;
    let sessions = plan.sessions();
    let start = plan.end - (DAYS + 1) * DAY;
    let mut by_repo: HashMap<u64, Vec<Commit>> = HashMap::new();
    for index in 0..commits_n {
        let h = hash(seed, 10, index);
        let (repo, person, at, agents, trailers) = if h.is_multiple_of(2) {
            let id = h / 2 % sessions;
            let s = session(plan, id);
            let at = s.start + ((h >> 16) % (s.end() - s.start + HOUR) as u64) as Millis;
            let trailers = if (h >> 8).is_multiple_of(2) {
                vec![SessionTrailer {
                    trailer: "Freight-Session".into(),
                    session: format!("{:08x}-bench-{id:012}", hash(seed, 6, id) as u32),
                }]
            } else {
                Vec::new()
            };
            (s.repo, s.person, at, vec![AiAgent::ClaudeCode], trailers)
        } else {
            let person = (h >> 4) % plan.people();
            (person % plan.repos(), person, start + ((h >> 12) % (DAYS * DAY) as u64) as Millis, Vec::new(), Vec::new())
        };
        by_repo.entry(repo).or_default().push(Commit {
            repo: repo_name(repo),
            sha: String::new(),
            author_name: format!("Person {person}"),
            author_email: person_email(person),
            authored_at: at,
            committed_at: at,
            summary: format!("change {index}"),
            parents: 1,
            lines_added: 1 + (h >> 24) % 200,
            lines_removed: (h >> 40) % 60,
            files_changed: 1 + (h >> 50) % 8,
            agents,
            sessions: trailers,
            reverts: None,
        });
    }
    let mut result = Outcomes::default();
    let mut repos: Vec<u64> = by_repo.keys().copied().collect();
    repos.sort_unstable();
    for repo in 0..plan.repos() {
        result.repos.push(RepoPlace { name: repo_name(repo), workdir: None });
    }
    for repo in repos {
        let mut commits = by_repo.remove(&repo).unwrap_or_default();
        commits.sort_by_key(|c| c.committed_at);
        for (ordinal, commit) in commits.iter_mut().enumerate() {
            commit.sha = sha(seed, repo, ordinal as u64);
        }
        // One commit in a hundred reverts the one before it in the same repository.
        for ordinal in 1..commits.len() {
            if hash(seed, 11, repo * 1_000_003 + ordinal as u64).is_multiple_of(100) {
                commits[ordinal].reverts = Some(commits[ordinal - 1].sha.clone());
                commits[ordinal].agents.clear();
                commits[ordinal].sessions.clear();
            }
        }
        let line: Vec<String> = commits.iter().rev().map(|c| c.sha.clone()).collect();
        let entered: HashMap<String, usize> = line.iter().enumerate().map(|(i, sha)| (sha.clone(), i)).collect();
        for commit in &commits {
            if commit.ai_assisted() {
                let surviving = commit.lines_added * (60 + hash(seed, 12, commit.committed_at as u64) % 40) / 100;
                result.survival.insert(
                    (commit.repo.clone(), commit.sha.clone()),
                    Survival { added: commit.lines_added, surviving, reworked: Some(commit.lines_added / 10) },
                );
            }
        }
        // Deploys of this repository: each ships a commit an hour after it was made.
        let deploys = deploys_n * (commits.len() as u64) / commits_n.max(1);
        for index in 0..deploys {
            let h = hash(seed, 13, repo * 1_000_003 + index);
            let commit = &commits[(h % commits.len() as u64) as usize];
            result.deploys.push(Deploy {
                repo: commit.repo.clone(),
                sha: Some(commit.sha.clone()),
                environment: "production".into(),
                succeeded: !h.is_multiple_of(20),
                at: commit.committed_at + HOUR,
                creator: Some(commit.author_email.clone()),
            });
        }
        result.main_lines.insert(repo_name(repo), (line, entered));
        result.commits.extend(commits);
    }
    for number in 0..pulls_n {
        let h = hash(seed, 14, number);
        let id = h % sessions;
        let s = session(plan, id);
        let opened = s.end() + HOUR;
        let (merged_at, closed_at) = match (h >> 8) % 20 {
            0..=15 => (Some(opened + ((h >> 16) % 48) as Millis * HOUR), None),
            16..=18 => (None, Some(opened + 24 * HOUR)),
            _ => (None, None),
        };
        result.pulls.push(PullRequest {
            repo: repo_name(s.repo),
            number: number + 1,
            author: person_email(s.person),
            head_branch: Some(format!("feat/s{id}")),
            opened_at: opened,
            merged_at,
            closed_at: merged_at.or(closed_at),
            merge_sha: None,
            lines_added: 10 + (h >> 24) % 400,
            lines_removed: (h >> 40) % 100,
            review_minutes: Some(15 + (h >> 50) % 90),
        });
    }
    let team = |h: u64| format!("team-{:02}", h % plan.teams());
    for index in 0..tickets_n {
        let h = hash(seed, 15, index);
        result.tickets.push(Ticket {
            id: format!("T-{index}"),
            team: Some(team(h)),
            person: None,
            resolved_at: start + ((h >> 8) % (DAYS * DAY) as u64) as Millis,
            weight: (1 + (h >> 40) % 5) as f64,
        });
    }
    for index in 0..incidents_n {
        let h = hash(seed, 16, index);
        let opened_at = start + ((h >> 8) % (DAYS * DAY) as u64) as Millis;
        result.incidents.push(Incident {
            id: format!("INC-{index}"),
            repo: Some(repo_name(h % plan.repos())),
            team: Some(team(h >> 3)),
            opened_at,
            resolved_at: Some(opened_at + 3 * HOUR),
            caused_by: None,
        });
    }
    for index in 0..events_n {
        let h = hash(seed, 17, index);
        result.events.push(OutcomeEvent {
            kind: "support_resolution".into(),
            person: None,
            team: Some(team(h)),
            at: start + ((h >> 8) % (DAYS * DAY) as u64) as Millis,
            value: 1.0,
            unit: "case".into(),
        });
    }
    result
}

/// The org directory: every person, their team and cost centre.
fn org_toml(plan: &ScalePlan) -> String {
    let mut text = String::new();
    for person in 0..plan.people() {
        let team = person % plan.teams();
        text.push_str(&format!(
            "[[person]]\nid = \"p{person}\"\nemails = [\"{}\"]\nteam = \"team-{team:02}\"\ncost_centre = \"cc-{}\"\n\n",
            person_email(person),
            team % 10
        ));
    }
    text
}

/// Where a generated dataset's parts are.
pub struct ScaleFiles {
    pub dataset: PathBuf,
    pub org: PathBuf,
}

/// Generates the dataset into `dir` (usage, outcomes, org.toml).
pub fn generate(plan: &ScalePlan, dir: &Path) -> anyhow::Result<ScaleFiles> {
    let dataset_dir = dir.join("dataset");
    if dataset_dir.exists() {
        fs_err::remove_dir_all(&dataset_dir)?;
    }
    fs_err::create_dir_all(&dataset_dir)?;
    let progress = indicatif::ProgressBar::new(plan.events);
    progress.set_style(
        indicatif::ProgressStyle::with_template("generating calls {bar:30} {human_pos}/{human_len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let files = (plan.events / 4_000_000).clamp(1, 64);
    write_usage(plan, &dataset_dir, files, &progress)?;
    progress.finish_and_clear();
    let outcomes = outcomes(plan);
    dataset::write_outcomes(&dataset_dir, &outcomes)?;
    let org = dir.join("org.toml");
    fs_err::write(&org, org_toml(plan))?;
    Ok(ScaleFiles { dataset: dataset_dir, org })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_add_up_to_the_planned_calls() {
        for events in [1_000, 12_345, 99_999] {
            let plan = ScalePlan { events, outcomes: 100, seed: 3, end: 1_795_000_000_000 };
            let calls: u64 = (0..plan.sessions()).map(|index| session(&plan, index).calls).sum();
            assert_eq!(calls, events);
        }
    }
}
