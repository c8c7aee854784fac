//! The demo company for `freight demo`: teams of people with different habits (efficient users
//! who ship much, heavy users who ship little), their Claude Code logs in a folder per person,
//! real git repositories whose history their sessions produced — trailers, merges, reverts,
//! human rework, commits by an unknown contractor — pull requests, tickets, an org directory,
//! and the ground truth of every session's fate (`truth.json`) for the tests.

use super::claude::{SessionSpec, write_session_as};
use super::text::{hex, uuid};
use super::{Plan, Summary};
use anyhow::Context;
use chrono::{Datelike, NaiveDate, Weekday};
use freight_git::write::{Change, RepoWriter, Stamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How a person works with agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Habit {
    /// Short, focused sessions that mostly ship.
    Efficient,
    Steady,
    /// Long sessions on frontier models, many a day, little shipped.
    HeavyNoShip,
}

struct Member {
    login: &'static str,
    team: &'static str,
    habit: Habit,
    repos: &'static [&'static str],
}

const TEAMS: [(&str, &str); 4] =
    [("payments", "CC-100"), ("platform", "CC-200"), ("web", "CC-300"), ("data", "CC-400")];

const MEMBERS: [Member; 12] = [
    Member { login: "alice", team: "payments", habit: Habit::Efficient, repos: &["payments", "billing"] },
    Member { login: "bilal", team: "payments", habit: Habit::Steady, repos: &["payments"] },
    Member { login: "ivan", team: "payments", habit: Habit::Steady, repos: &["billing", "payments"] },
    Member { login: "emeka", team: "platform", habit: Habit::Steady, repos: &["platform"] },
    Member { login: "jules", team: "platform", habit: Habit::Efficient, repos: &["platform"] },
    Member { login: "kiri", team: "platform", habit: Habit::HeavyNoShip, repos: &["platform"] },
    Member { login: "chen", team: "web", habit: Habit::Steady, repos: &["web-app"] },
    Member { login: "dana", team: "web", habit: Habit::Efficient, repos: &["web-app"] },
    Member { login: "hana", team: "web", habit: Habit::Steady, repos: &["web-app"] },
    Member { login: "fatima", team: "data", habit: Habit::Efficient, repos: &["data-pipeline"] },
    Member { login: "gustav", team: "data", habit: Habit::HeavyNoShip, repos: &["data-pipeline"] },
    Member { login: "lena", team: "data", habit: Habit::Steady, repos: &["data-pipeline"] },
];

const REPOS: [&str; 5] = ["payments", "billing", "platform", "web-app", "data-pipeline"];

/// Someone the org directory does not know, who commits now and then.
const CONTRACTOR: (&str, &str) = ("Sam Contractor", "sam@agency.example");

/// What became of a session's work, as the generator made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// A commit on main names the session in a `Freight-Session` trailer.
    ExactCommit,
    /// A commit on main inside the session's window, no trailer.
    HeuristicCommit,
    /// A feature branch with a trailer commit, merged through a pull request.
    MergedPullRequest,
    /// A pull request from the session's branch, closed unmerged.
    RejectedPullRequest,
    /// A trailer commit on main, reverted a few days later.
    Reverted,
    /// Nothing.
    Nothing,
}

fn draw_fate(habit: Habit, rng: &mut impl Rng) -> Fate {
    let table: &[(Fate, u32)] = match habit {
        Habit::Efficient => &[
            (Fate::ExactCommit, 45),
            (Fate::HeuristicCommit, 25),
            (Fate::MergedPullRequest, 15),
            (Fate::RejectedPullRequest, 3),
            (Fate::Reverted, 2),
            (Fate::Nothing, 10),
        ],
        Habit::Steady => &[
            (Fate::ExactCommit, 30),
            (Fate::HeuristicCommit, 20),
            (Fate::MergedPullRequest, 10),
            (Fate::RejectedPullRequest, 10),
            (Fate::Reverted, 6),
            (Fate::Nothing, 24),
        ],
        Habit::HeavyNoShip => &[
            (Fate::ExactCommit, 4),
            (Fate::HeuristicCommit, 4),
            (Fate::RejectedPullRequest, 12),
            (Fate::Reverted, 5),
            (Fate::Nothing, 75),
        ],
    };
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    super::org::weighted(table, rng.random_range(0..total))
}

/// One session in the ground truth.
#[derive(Debug, Clone, Serialize)]
pub struct SessionTruth {
    pub session: String,
    pub person: String,
    pub team: String,
    pub repo: String,
    pub fate: Fate,
    /// The commit it produced (for pull requests: the commit on the branch).
    pub commit: Option<String>,
    pub pull_request: Option<u64>,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// What the generator knows that the report must find.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub sessions: Vec<SessionTruth>,
    /// People by habit, to tell heavy users who shipped nothing from efficient ones.
    pub habits: BTreeMap<String, Habit>,
}

/// Where the company's files are.
pub struct CompanyFiles {
    pub people: PathBuf,
    pub repos: Vec<PathBuf>,
    pub org: PathBuf,
    pub pulls: PathBuf,
    pub tickets: PathBuf,
    pub deploys: PathBuf,
    pub incidents: PathBuf,
    pub truth: PathBuf,
}

impl CompanyFiles {
    pub fn at(out: &Path) -> CompanyFiles {
        CompanyFiles {
            people: out.join("people"),
            repos: REPOS.iter().map(|name| out.join("repos").join(name)).collect(),
            org: out.join("org.toml"),
            pulls: out.join("pull_requests.csv"),
            tickets: out.join("tickets.csv"),
            deploys: out.join("deploys.csv"),
            incidents: out.join("incidents.csv"),
            truth: out.join("truth.json"),
        }
    }
}

/// A change to a repository, to be written in time order.
enum Event {
    Commit {
        repo: usize,
        author: usize,
        seconds: i64,
        message: String,
        path: String,
        content: String,
        key: usize,
    },
    /// A branch, a commit on it, and its merge into main.
    Merged {
        repo: usize,
        author: usize,
        seconds: i64,
        message: String,
        path: String,
        content: String,
        key: usize,
        branch: String,
    },
    Revert {
        repo: usize,
        author: usize,
        seconds: i64,
        of: usize,
        path: String,
    },
}

impl Event {
    fn seconds(&self) -> i64 {
        match self {
            Event::Commit { seconds, .. } | Event::Merged { seconds, .. } | Event::Revert { seconds, .. } => *seconds,
        }
    }
}

struct PullRow {
    repo: &'static str,
    number: u64,
    author: String,
    branch: String,
    opened: i64,
    merged: Option<i64>,
    closed: i64,
    /// Event key of the merged commit (its sha is known once written).
    key: Option<usize>,
    additions: u64,
}

fn code(lines: usize, rng: &mut impl Rng) -> String {
    let mut text = String::new();
    for i in 0..lines {
        let _ = writeln!(text, "fn step_{i}_{}() -> u32 {{ {} }}", hex(rng, 4), rng.random_range(0..1000));
    }
    text
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn email(login: &str) -> String {
    format!("{login}@acme.example")
}

/// Writes the company under `out`; `lines` scales how long sessions are.
pub fn generate(plan: &Plan, out: &Path) -> anyhow::Result<(Summary, Truth)> {
    let files = CompanyFiles::at(out);
    // The rare log shapes (malformed lines, unpriced models) belong to the parity data, not here.
    let plan = &Plan { variants: false, ..plan.clone() };
    for dir in [&files.people, &out.join("repos")] {
        if dir.exists() {
            fs_err::remove_dir_all(dir)?;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed ^ 0xC0FF_EE00);
    let scale = (plan.claude_lines as f64 / 200_000.0).max(0.02);
    let start_day = plan.end - chrono::Duration::days(super::DAYS);
    let mut truth = Truth::default();
    let mut summary = Summary::default();
    let mut events: Vec<Event> = Vec::new();
    let mut pulls: Vec<PullRow> = Vec::new();
    let mut next_key = 0usize;
    let mut key = || {
        next_key += 1;
        next_key
    };

    for (person_index, member) in MEMBERS.iter().enumerate() {
        truth.habits.insert(member.login.to_string(), member.habit);
        let root = files.people.join(member.login).join("claude").join("projects");
        // Slots a day, far enough apart that a session and its grace period end before the next.
        let (slots, chance, lines_range, model): (&[u32], f64, (u64, u64), Option<&'static str>) = match member.habit {
            Habit::Efficient => (&[9, 14], 0.55, (120, 360), None),
            Habit::Steady => (&[9, 14], 0.6, (200, 520), None),
            Habit::HeavyNoShip => (&[7, 12, 17], 0.95, (700, 1100), Some("claude-opus-4-6")),
        };
        let mut day = start_day;
        while day <= plan.end {
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            for &hour in slots {
                if weekend || !rng.random_bool(chance) {
                    continue;
                }
                let repo_name = member.repos[rng.random_range(0..member.repos.len())];
                let repo = REPOS.iter().position(|r| *r == repo_name).unwrap_or(0);
                let fate = draw_fate(member.habit, &mut rng);
                let on_branch = matches!(fate, Fate::MergedPullRequest | Fate::RejectedPullRequest);
                let branch = if on_branch { format!("{}/{}", member.login, hex(&mut rng, 6)) } else { "main".into() };
                let start =
                    day.and_hms_opt(hour, rng.random_range(0..30), 0).unwrap_or_default().and_utc().timestamp_millis();
                let spec = SessionSpec {
                    session_id: uuid(&mut rng),
                    cwd: format!("/home/{}/src/{repo_name}", member.login),
                    branch: branch.clone(),
                    start_ms: start,
                    model,
                    resumable: false,
                    malformed: false,
                };
                let lines = ((rng.random_range(lines_range.0..=lines_range.1) as f64) * scale).max(12.0) as u64;
                let mut session_rng = ChaCha8Rng::seed_from_u64(rng.random());
                let (written, span) = write_session_as(&root, plan, &spec, lines, &mut session_rng)?;
                summary = summary + written;
                let added = rng.random_range(8..90usize);
                let path = format!("src/{}_{}.rs", repo_name.replace('-', "_"), hex(&mut rng, 8));
                let content = code(added, &mut rng);
                let trailer =
                    format!("\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nFreight-Session: {}", spec.session_id);
                let subject =
                    format!("{} {}", ["Add", "Fix", "Refactor", "Speed up"][rng.random_range(0..4)], hex(&mut rng, 5));
                // Commit a few minutes before the session's last call (inside its window).
                let commit_at = span.last_ms / 1000 - rng.random_range(30..300);
                let mut entry = SessionTruth {
                    session: spec.session_id.clone(),
                    person: member.login.into(),
                    team: member.team.into(),
                    repo: repo_name.into(),
                    fate,
                    commit: None,
                    pull_request: None,
                    first_ms: span.first_ms,
                    last_ms: span.last_ms,
                };
                match fate {
                    Fate::ExactCommit | Fate::Reverted => {
                        let k = key();
                        events.push(Event::Commit {
                            repo,
                            author: person_index,
                            seconds: commit_at,
                            message: format!("{subject}{trailer}"),
                            path: path.clone(),
                            content: content.clone(),
                            key: k,
                        });
                        entry.commit = Some(format!("#{k}"));
                        if fate == Fate::ExactCommit && rng.random_bool(0.25) {
                            // A person reworks the first third of it a few days later (early in
                            // the morning, outside every session's window).
                            let day_start = commit_at - commit_at.rem_euclid(86_400);
                            let at = day_start + rng.random_range(1..6) * 86_400 + 5 * 3600 + rng.random_range(0..3000);
                            let reworked: String = content
                                .lines()
                                .enumerate()
                                .map(
                                    |(i, line)| {
                                        if i < added / 3 { format!("// reworked {i}\n") } else { format!("{line}\n") }
                                    },
                                )
                                .collect();
                            events.push(Event::Commit {
                                repo,
                                author: person_index,
                                seconds: at,
                                message: format!("Rework {}", hex(&mut rng, 5)),
                                path: path.clone(),
                                content: reworked,
                                key: 0,
                            });
                        }
                        if fate == Fate::Reverted {
                            // Early in the morning, before anyone's sessions, so no window holds it.
                            let day_start = commit_at - commit_at.rem_euclid(86_400);
                            let at = day_start + rng.random_range(1..5) * 86_400 + 6 * 3600 + rng.random_range(0..2400);
                            events.push(Event::Revert { repo, author: person_index, seconds: at, of: k, path });
                        }
                    }
                    Fate::HeuristicCommit => {
                        let k = key();
                        events.push(Event::Commit {
                            repo,
                            author: person_index,
                            seconds: commit_at,
                            message: subject,
                            path,
                            content,
                            key: k,
                        });
                        entry.commit = Some(format!("#{k}"));
                    }
                    Fate::MergedPullRequest | Fate::RejectedPullRequest => {
                        let number = pulls.len() as u64 + 100;
                        let opened = span.last_ms + 600_000;
                        let decided = opened + rng.random_range(2..30) * 3_600_000;
                        let merged = fate == Fate::MergedPullRequest;
                        let k = merged.then(&mut key);
                        if let Some(k) = k {
                            events.push(Event::Merged {
                                repo,
                                author: person_index,
                                seconds: commit_at,
                                message: format!("{subject}{trailer}"),
                                path,
                                content,
                                key: k,
                                branch: branch.clone(),
                            });
                            entry.commit = Some(format!("#{k}"));
                        }
                        pulls.push(PullRow {
                            repo: REPOS[repo],
                            number,
                            author: email(member.login),
                            branch,
                            opened,
                            merged: merged.then_some(decided),
                            closed: decided,
                            key: k,
                            additions: added as u64,
                        });
                        entry.pull_request = Some(number);
                    }
                    Fate::Nothing => {}
                }
                truth.sessions.push(entry);
            }
            day = day.succ_opt().context("date overflow")?;
        }
    }
    // Human work without agents (early mornings, outside every session's window), including
    // the unknown contractor's.
    for repo in 0..REPOS.len() {
        for _ in 0..rng.random_range(6..14) {
            let day = start_day + chrono::Duration::days(rng.random_range(0..super::DAYS));
            let seconds = day
                .and_hms_opt(rng.random_range(4..6), rng.random_range(0..60), 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp();
            let author = if rng.random_bool(0.2) { usize::MAX } else { rng.random_range(0..MEMBERS.len()) };
            let lines = rng.random_range(3..40);
            events.push(Event::Commit {
                repo,
                author,
                seconds,
                message: format!("Docs: {}", hex(&mut rng, 6)),
                path: format!("docs/{}.md", hex(&mut rng, 8)),
                content: code(lines, &mut rng),
                key: 0,
            });
        }
    }

    let (shas, main_history) = write_repos(&files, &mut events)?;
    for entry in &mut truth.sessions {
        if let Some(k) = entry.commit.as_deref().and_then(|c| c.strip_prefix('#')).and_then(|k| k.parse::<usize>().ok())
        {
            entry.commit = shas.get(&k).cloned();
        }
    }
    write_org(&files)?;
    write_pulls(&files, &pulls, &shas)?;
    write_tickets(&files, &mut rng, start_day)?;
    write_deploys(&files, &mut rng, start_day, &main_history)?;
    fs_err::write(&files.truth, serde_json::to_string_pretty(&truth)?)?;
    Ok((summary, truth))
}

/// Writes every repository's history in time order; returns the sha of each keyed commit
/// (for merges, the merge commit's sha is keyed as `key + 1_000_000`).
fn write_repos(files: &CompanyFiles, events: &mut [Event]) -> anyhow::Result<(BTreeMap<usize, String>, MainHistory)> {
    events.sort_by_key(Event::seconds);
    let writers: Vec<RepoWriter> = files
        .repos
        .iter()
        .map(|path| RepoWriter::init(path))
        .collect::<Result<_, _>>()
        .context("creating the demo repositories")?;
    let mut history: MainHistory = vec![Vec::new(); REPOS.len()];
    for ((writer, name), main) in writers.iter().zip(REPOS).zip(&mut history) {
        let first = events.first().map_or(0, Event::seconds) - 86_400;
        let stamp = Stamp { name: "Alice", email: &email("alice"), seconds: first, offset: 0 };
        let sha = writer.commit(
            "main",
            stamp,
            "Initial commit",
            &[Change { path: "README.md", content: Some(&format!("# {name}\n")) }],
        )?;
        main.push((first, sha));
    }
    let mut shas: BTreeMap<usize, String> = BTreeMap::new();
    let author = |index: usize| -> (String, String) {
        match MEMBERS.get(index) {
            Some(member) => (member.login.to_string(), email(member.login)),
            None => (CONTRACTOR.0.to_string(), CONTRACTOR.1.to_string()),
        }
    };
    for event in events.iter() {
        match event {
            Event::Commit { repo, author: who, seconds, message, path, content, key } => {
                let (name, mail) = author(*who);
                let stamp = Stamp { name: &name, email: &mail, seconds: *seconds, offset: 0 };
                let sha = writers[*repo].commit("main", stamp, message, &[Change { path, content: Some(content) }])?;
                history[*repo].push((*seconds, sha.clone()));
                if *key > 0 {
                    shas.insert(*key, sha);
                }
            }
            Event::Merged { repo, author: who, seconds, message, path, content, key, branch } => {
                let (name, mail) = author(*who);
                let writer = &writers[*repo];
                writer.branch_from(branch, "main")?;
                let stamp = Stamp { name: &name, email: &mail, seconds: *seconds, offset: 0 };
                let sha = writer.commit(branch, stamp, message, &[Change { path, content: Some(content) }])?;
                let merge_stamp = Stamp { seconds: seconds + 3600, ..stamp };
                let merge = writer.merge("main", branch, merge_stamp, &format!("Merge branch '{branch}'"))?;
                shas.insert(*key, sha);
                history[*repo].push((seconds + 3600, merge.clone()));
                shas.insert(key + 1_000_000, merge);
            }
            Event::Revert { repo, author: who, seconds, of, path } => {
                let (name, mail) = author(*who);
                let Some(original) = shas.get(of).cloned() else { continue };
                let stamp = Stamp { name: &name, email: &mail, seconds: *seconds, offset: 0 };
                let message = format!("Revert change\n\nThis reverts commit {original}.");
                let sha = writers[*repo].commit("main", stamp, &message, &[Change { path, content: None }])?;
                history[*repo].push((*seconds, sha));
            }
        }
    }
    Ok((shas, history))
}

/// Each repository's main-branch commits in time order: (seconds, sha).
type MainHistory = Vec<Vec<(i64, String)>>;

fn write_org(files: &CompanyFiles) -> anyhow::Result<()> {
    let mut text = String::from("# The demo company's org directory (freight report --org).\n");
    for member in &MEMBERS {
        let _ = write!(
            text,
            "\n[[person]]\nid = \"{}\"\nemails = [\"{}\"]\nteam = \"{}\"\n",
            member.login,
            email(member.login),
            member.team
        );
    }
    for (team, cost_centre) in TEAMS {
        let _ = write!(text, "\n[[team]]\nname = \"{team}\"\ncost_centre = \"{cost_centre}\"\n");
    }
    fs_err::write(&files.org, text)?;
    Ok(())
}

fn write_pulls(files: &CompanyFiles, pulls: &[PullRow], shas: &BTreeMap<usize, String>) -> anyhow::Result<()> {
    let mut text =
        String::from("repo,number,author,head_branch,opened_at,merged_at,closed_at,merge_sha,additions,deletions\n");
    for pull in pulls {
        let merge_sha = pull.key.and_then(|k| shas.get(&(k + 1_000_000))).cloned().unwrap_or_default();
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{},0",
            pull.repo,
            pull.number,
            pull.author,
            pull.branch,
            iso(pull.opened),
            pull.merged.map(iso).unwrap_or_default(),
            iso(pull.closed),
            merge_sha,
            pull.additions
        );
    }
    fs_err::write(&files.pulls, text)?;
    Ok(())
}

/// Weekday deploys of each repository (a few fail) and the odd incident.
fn write_deploys(
    files: &CompanyFiles,
    rng: &mut impl Rng,
    start: NaiveDate,
    history: &MainHistory,
) -> anyhow::Result<()> {
    let mut deploys = String::from("repo,sha,environment,status,at,creator\n");
    let mut incidents = String::from("id,repo,team,opened_at,resolved_at\n");
    let mut number = 0;
    for (repo, main) in REPOS.iter().zip(history) {
        let team = MEMBERS.iter().find(|m| m.repos.contains(repo)).map_or("platform", |m| m.team);
        let crew: Vec<&Member> = MEMBERS.iter().filter(|m| m.team == team).collect();
        for day in 0..super::DAYS {
            let date = start + chrono::Duration::days(day);
            if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) || !rng.random_bool(0.7) {
                continue;
            }
            let at = date.and_hms_opt(16, rng.random_range(0..60), 0).unwrap_or_default().and_utc().timestamp_millis();
            let status = if rng.random_bool(0.1) { "failure" } else { "success" };
            let creator = email(crew[rng.random_range(0..crew.len())].login);
            // The main branch's tip at the time.
            let tip = main.iter().rev().find(|(seconds, _)| seconds * 1000 <= at).map_or("", |(_, sha)| sha.as_str());
            let _ = writeln!(deploys, "{repo},{tip},production,{status},{},{creator}", iso(at));
            if rng.random_bool(0.05) {
                number += 1;
                let _ =
                    writeln!(incidents, "INC-{number},{repo},{team},{},{}", iso(at + 3_600_000), iso(at + 7_200_000));
            }
        }
    }
    fs_err::write(&files.deploys, deploys)?;
    fs_err::write(&files.incidents, incidents)?;
    Ok(())
}

fn write_tickets(files: &CompanyFiles, rng: &mut impl Rng, start: NaiveDate) -> anyhow::Result<()> {
    let mut text = String::from("id,team,resolved_at,weight\n");
    let mut number = 1000;
    for (team, _) in TEAMS {
        for _ in 0..rng.random_range(8..20) {
            number += 1;
            let day = start + chrono::Duration::days(rng.random_range(0..super::DAYS));
            let at = day.and_hms_opt(rng.random_range(9..18), 0, 0).unwrap_or_default().and_utc().timestamp_millis();
            let _ = writeln!(text, "T-{number},{team},{},{}", iso(at), [1, 2, 3, 5][rng.random_range(0..4)]);
        }
    }
    fs_err::write(&files.tickets, text)?;
    Ok(())
}
