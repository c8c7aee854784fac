//! Delivery-event files: pull requests (GitHub `pull_request` webhook payloads as NDJSON, or a
//! plain CSV), tickets resolved (CSV) and generic outcome events for work that is not code (CSV).
//! A bad row is an error naming the file, line and field: outcome files are small and written
//! on purpose, so a wrong one is better refused than half-read.

use crate::time::parse_millis;
use freight_core::outcome::{Deploy, Incident, Millis, OutcomeEvent, PullRequest, Ticket};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {problem}")]
    Row { path: PathBuf, line: u64, problem: String },
}

fn row_error(path: &Path, line: u64, problem: impl Into<String>) -> EventsError {
    EventsError::Row { path: path.to_path_buf(), line, problem: problem.into() }
}

fn read(path: &Path) -> Result<String, EventsError> {
    fs_err::read_to_string(path).map_err(|source| EventsError::Io { path: path.to_path_buf(), source })
}

/// One CSV row: its line number, and its non-empty values by lower-cased header.
type CsvRow = (u64, BTreeMap<String, String>);

/// A CSV file's rows.
fn csv_rows(path: &Path) -> Result<Vec<CsvRow>, EventsError> {
    let text = read(path)?;
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| row_error(path, 1, error.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            let line = error.position().map_or(0, |p| p.line());
            row_error(path, line, error.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row = header
            .iter()
            .zip(record.iter())
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| (key.clone(), value.to_string()))
            .collect();
        rows.push((line, row));
    }
    Ok(rows)
}

struct Fields<'a> {
    path: &'a Path,
    line: u64,
    row: &'a BTreeMap<String, String>,
}

impl Fields<'_> {
    fn get(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|name| self.row.get(*name)).map(String::as_str)
    }

    fn required(&self, names: &[&str]) -> Result<&str, EventsError> {
        self.get(names).ok_or_else(|| row_error(self.path, self.line, format!("missing `{}`", names[0])))
    }

    fn time(&self, names: &[&str]) -> Result<Option<Millis>, EventsError> {
        self.get(names)
            .map(|text| {
                time_millis(text).ok_or_else(|| {
                    row_error(self.path, self.line, format!("`{}` is not a date or RFC 3339 time: {text:?}", names[0]))
                })
            })
            .transpose()
    }

    fn number<T: std::str::FromStr>(&self, names: &[&str]) -> Result<Option<T>, EventsError> {
        self.get(names)
            .map(|text| {
                text.parse::<T>()
                    .map_err(|_| row_error(self.path, self.line, format!("`{}` is not a number: {text:?}", names[0])))
            })
            .transpose()
    }
}

/// An RFC 3339 time, or a bare `YYYY-MM-DD` date (midnight UTC).
fn time_millis(text: &str) -> Option<Millis> {
    parse_millis(text).or_else(|| {
        let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
    })
}

/// Pull requests from a CSV (`repo`, `number`, `author`, `head_branch`, `opened_at`,
/// `merged_at`, `closed_at`, `merge_sha`, `additions`, `deletions`, and optionally
/// `review_hours` or `review_minutes`) or from GitHub
/// `pull_request` webhook payloads, one per line (`.ndjson`/`.jsonl`). A PR seen several times
/// keeps its latest state.
pub fn read_pull_requests(path: &Path) -> Result<Vec<PullRequest>, EventsError> {
    let is_json = path.extension().is_some_and(|ext| ext == "ndjson" || ext == "jsonl" || ext == "json");
    let pulls = if is_json { github_pulls(path)? } else { csv_pulls(path)? };
    let mut latest: BTreeMap<(String, u64), PullRequest> = BTreeMap::new();
    for pull in pulls {
        latest.insert((pull.repo.clone(), pull.number), pull);
    }
    Ok(latest.into_values().collect())
}

fn csv_pulls(path: &Path) -> Result<Vec<PullRequest>, EventsError> {
    csv_rows(path)?
        .iter()
        .map(|(line, row)| {
            let f = Fields { path, line: *line, row };
            let opened_at =
                f.time(&["opened_at", "created_at"])?.ok_or_else(|| row_error(path, *line, "missing `opened_at`"))?;
            Ok(PullRequest {
                repo: f.required(&["repo", "repository"])?.to_string(),
                number: f.number(&["number", "pr"])?.ok_or_else(|| row_error(path, *line, "missing `number`"))?,
                author: f.required(&["author", "user", "login"])?.to_string(),
                head_branch: f.get(&["head_branch", "branch", "head"]).map(str::to_string),
                opened_at,
                merged_at: f.time(&["merged_at"])?,
                closed_at: f.time(&["closed_at"])?,
                merge_sha: f.get(&["merge_sha", "merge_commit_sha"]).map(str::to_lowercase),
                lines_added: f.number(&["additions", "lines_added"])?.unwrap_or(0),
                lines_removed: f.number(&["deletions", "lines_removed"])?.unwrap_or(0),
                review_minutes: f
                    .number::<f64>(&["review_hours"])?
                    .map(|hours| (hours * 60.0).round().max(0.0) as u64)
                    .or(f.number(&["review_minutes"])?),
            })
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct GithubPayload {
    pull_request: GithubPull,
    #[serde(default)]
    repository: Option<GithubRepo>,
}

#[derive(serde::Deserialize)]
struct GithubPull {
    number: u64,
    user: GithubUser,
    head: GithubRef,
    created_at: String,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    closed_at: Option<String>,
    #[serde(default)]
    merge_commit_sha: Option<String>,
    #[serde(default)]
    additions: Option<u64>,
    #[serde(default)]
    deletions: Option<u64>,
    base: GithubRef,
}

#[derive(serde::Deserialize)]
struct GithubUser {
    login: String,
}

#[derive(serde::Deserialize)]
struct GithubRef {
    #[serde(rename = "ref")]
    name: String,
    #[serde(default)]
    repo: Option<GithubRepo>,
}

#[derive(serde::Deserialize)]
struct GithubRepo {
    name: String,
}

fn github_pulls(path: &Path) -> Result<Vec<PullRequest>, EventsError> {
    let text = read(path)?;
    let mut pulls = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let payload: GithubPayload = serde_json::from_str(line)
            .map_err(|error| row_error(path, line_number, format!("not a pull_request payload: {error}")))?;
        let pull = payload.pull_request;
        let repo = payload
            .repository
            .or(pull.base.repo)
            .map(|repo| repo.name)
            .ok_or_else(|| row_error(path, line_number, "no `repository.name`"))?;
        let time = |text: &str, field: &str| {
            time_millis(text).ok_or_else(|| row_error(path, line_number, format!("`{field}` is not an RFC 3339 time")))
        };
        pulls.push(PullRequest {
            repo,
            number: pull.number,
            author: pull.user.login,
            head_branch: Some(pull.head.name),
            opened_at: time(&pull.created_at, "created_at")?,
            merged_at: pull.merged_at.as_deref().map(|t| time(t, "merged_at")).transpose()?,
            closed_at: pull.closed_at.as_deref().map(|t| time(t, "closed_at")).transpose()?,
            merge_sha: pull.merge_commit_sha.map(|sha| sha.to_lowercase()),
            lines_added: pull.additions.unwrap_or(0),
            lines_removed: pull.deletions.unwrap_or(0),
            review_minutes: None,
        });
    }
    Ok(pulls)
}

/// Deployments from a CSV (`repo`, `sha`, `environment`, `status`, `at`, `creator`) or from
/// GitHub `deployment_status` webhook payloads, one per line. Only final states count:
/// `success`, `failure`, `error` (`pending`, `queued`, `in_progress` are passed over).
pub fn read_deploys(path: &Path) -> Result<Vec<Deploy>, EventsError> {
    let is_json = path.extension().is_some_and(|ext| ext == "ndjson" || ext == "jsonl" || ext == "json");
    let final_state = |state: &str| match state.to_ascii_lowercase().as_str() {
        "success" => Some(true),
        "failure" | "error" => Some(false),
        _ => None,
    };
    let mut deploys = Vec::new();
    if is_json {
        let text = read(path)?;
        for (index, line) in text.lines().enumerate() {
            let line_number = index as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            let payload: serde_json::Value = serde_json::from_str(line)
                .map_err(|error| row_error(path, line_number, format!("not JSON: {error}")))?;
            let text_at = |pointer: &str| payload.pointer(pointer).and_then(|v| v.as_str());
            let state = text_at("/deployment_status/state").ok_or_else(|| {
                row_error(path, line_number, "not a deployment_status payload (no deployment_status.state)")
            })?;
            let Some(succeeded) = final_state(state) else { continue };
            let at = text_at("/deployment_status/created_at").and_then(time_millis).ok_or_else(|| {
                row_error(path, line_number, "`deployment_status.created_at` is not an RFC 3339 time")
            })?;
            deploys.push(Deploy {
                repo: text_at("/repository/name")
                    .ok_or_else(|| row_error(path, line_number, "no `repository.name`"))?
                    .to_string(),
                sha: text_at("/deployment/sha").map(str::to_lowercase),
                environment: text_at("/deployment_status/environment")
                    .or(text_at("/deployment/environment"))
                    .unwrap_or("production")
                    .to_string(),
                succeeded,
                at,
                creator: text_at("/deployment/creator/login").map(str::to_string),
            });
        }
        return Ok(deploys);
    }
    for (line, row) in &csv_rows(path)? {
        let f = Fields { path, line: *line, row };
        let status = f.required(&["status", "state"])?;
        let Some(succeeded) = final_state(status) else { continue };
        deploys.push(Deploy {
            repo: f.required(&["repo", "repository"])?.to_string(),
            sha: f.get(&["sha", "commit"]).map(str::to_lowercase),
            environment: f.get(&["environment", "env"]).unwrap_or("production").to_string(),
            succeeded,
            at: f.time(&["at", "deployed_at", "created_at"])?.ok_or_else(|| row_error(path, *line, "missing `at`"))?,
            creator: f.get(&["creator", "author", "person"]).map(str::to_string),
        });
    }
    Ok(deploys)
}

/// Incidents from a CSV: `id`, `opened_at`, and optionally `repo`, `team`, `resolved_at`,
/// `caused_by` (the sha of the change it was traced to).
pub fn read_incidents(path: &Path) -> Result<Vec<Incident>, EventsError> {
    csv_rows(path)?
        .iter()
        .map(|(line, row)| {
            let f = Fields { path, line: *line, row };
            Ok(Incident {
                id: f.required(&["id", "key", "incident"])?.to_string(),
                repo: f.get(&["repo", "repository"]).map(str::to_string),
                team: f.get(&["team"]).map(str::to_string),
                opened_at: f
                    .time(&["opened_at", "started_at", "at"])?
                    .ok_or_else(|| row_error(path, *line, "missing `opened_at`"))?,
                resolved_at: f.time(&["resolved_at"])?,
                caused_by: f.get(&["caused_by", "sha"]).map(str::to_lowercase),
            })
        })
        .collect()
}

/// Tickets from a CSV: `id`, `resolved_at`, and optionally `team`, `person`, `weight`.
pub fn read_tickets(path: &Path) -> Result<Vec<Ticket>, EventsError> {
    csv_rows(path)?
        .iter()
        .map(|(line, row)| {
            let f = Fields { path, line: *line, row };
            let weight: f64 = f.number(&["weight", "points"])?.unwrap_or(1.0);
            if !weight.is_finite() || weight < 0.0 {
                return Err(row_error(path, *line, "`weight` must be a non-negative number"));
            }
            Ok(Ticket {
                id: f.required(&["id", "key", "ticket"])?.to_string(),
                team: f.get(&["team"]).map(str::to_string),
                person: f.get(&["person", "assignee", "email"]).map(str::to_string),
                resolved_at: f
                    .time(&["resolved_at", "resolved"])?
                    .ok_or_else(|| row_error(path, *line, "missing `resolved_at`"))?,
                weight,
            })
        })
        .collect()
}

/// Generic outcome events from a CSV: `kind`, `at`, `value`, `unit`, and `person` or `team`.
pub fn read_outcome_events(path: &Path) -> Result<Vec<OutcomeEvent>, EventsError> {
    csv_rows(path)?
        .iter()
        .map(|(line, row)| {
            let f = Fields { path, line: *line, row };
            let (person, team) =
                (f.get(&["person", "email"]).map(str::to_string), f.get(&["team"]).map(str::to_string));
            if person.is_none() && team.is_none() {
                return Err(row_error(path, *line, "an outcome needs a `person` or a `team`"));
            }
            Ok(OutcomeEvent {
                kind: f.required(&["kind"])?.to_string(),
                person,
                team,
                at: f.time(&["at", "time", "date"])?.ok_or_else(|| row_error(path, *line, "missing `at`"))?,
                value: f.number(&["value"])?.unwrap_or(1.0),
                unit: f.get(&["unit"]).unwrap_or("count").to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn pull_requests_from_csv_and_github_payloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = file(
            &dir,
            "prs.csv",
            "repo,number,author,head_branch,opened_at,merged_at,closed_at,merge_sha,additions,deletions,review_hours\n\
             payments,7,alice,feat/x,2026-11-02T10:00:00Z,,2026-11-03T10:00:00Z,,40,2,1.5\n\
             payments,8,bilal,feat/y,2026-11-02,2026-11-04T09:00:00Z,2026-11-04T09:00:00Z,ABC123,5,1,\n",
        );
        let pulls = read_pull_requests(&csv).expect("reads");
        assert_eq!(pulls.len(), 2);
        assert_eq!(pulls[0].closed_at, time_millis("2026-11-03T10:00:00Z"));
        assert_eq!(pulls[1].merge_sha.as_deref(), Some("abc123"));
        assert_eq!((pulls[0].review_minutes, pulls[1].review_minutes), (Some(90), None));

        let opened = r#"{"action":"opened","number":9,"pull_request":{"number":9,"user":{"login":"chen"},"head":{"ref":"chen/fix"},"base":{"ref":"main"},"created_at":"2026-11-05T08:00:00Z","merged_at":null,"closed_at":null,"additions":3,"deletions":1},"repository":{"name":"web-app"}}"#;
        let closed = r#"{"action":"closed","number":9,"pull_request":{"number":9,"user":{"login":"chen"},"head":{"ref":"chen/fix"},"base":{"ref":"main"},"created_at":"2026-11-05T08:00:00Z","merged_at":"2026-11-06T08:00:00Z","closed_at":"2026-11-06T08:00:00Z","merge_commit_sha":"def","additions":3,"deletions":1},"repository":{"name":"web-app"}}"#;
        let ndjson = file(&dir, "prs.ndjson", &format!("{opened}\n{closed}\n"));
        let pulls = read_pull_requests(&ndjson).expect("reads");
        assert_eq!(pulls.len(), 1, "latest state per PR");
        assert_eq!(pulls[0].merged_at, time_millis("2026-11-06T08:00:00Z"));
        assert_eq!(pulls[0].head_branch.as_deref(), Some("chen/fix"));
    }

    #[test]
    fn bad_rows_name_file_line_and_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = file(&dir, "t.csv", "id,resolved_at,weight\nT-1,2026-11-01,2\nT-2,yesterday,1\n");
        let error = read_tickets(&csv).expect_err("bad time").to_string();
        assert!(error.contains("t.csv:3") && error.contains("resolved_at"), "{error}");
        let ndjson = file(&dir, "p.ndjson", "{\"action\":\"opened\"}\n");
        assert!(read_pull_requests(&ndjson).expect_err("no pr").to_string().contains("p.ndjson:1"));
        let events = file(&dir, "o.csv", "kind,at,value\nresolution,2026-11-01,3\n");
        assert!(read_outcome_events(&events).expect_err("no owner").to_string().contains("person"));
    }

    #[test]
    fn deploys_from_csv_and_github_payloads_and_incidents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let csv = file(
            &dir,
            "d.csv",
            "repo,sha,environment,status,at,creator\npayments,ABC,production,success,2026-11-02T10:00:00Z,alice\npayments,DEF,production,failure,2026-11-03,bilal\npayments,123,staging,pending,2026-11-03,bilal\n",
        );
        let deploys = read_deploys(&csv).expect("reads");
        assert_eq!(deploys.len(), 2, "pending is not final");
        assert!(deploys[0].succeeded && !deploys[1].succeeded);
        assert_eq!(deploys[0].sha.as_deref(), Some("abc"));
        let status = r#"{"deployment_status":{"state":"success","created_at":"2026-11-05T08:00:00Z","environment":"production"},"deployment":{"sha":"feed","creator":{"login":"chen"}},"repository":{"name":"web-app"}}"#;
        let queued = r#"{"deployment_status":{"state":"queued","created_at":"2026-11-05T07:00:00Z"},"deployment":{"sha":"feed"},"repository":{"name":"web-app"}}"#;
        let ndjson = file(&dir, "d.ndjson", &format!("{queued}\n{status}\n"));
        let deploys = read_deploys(&ndjson).expect("reads");
        assert_eq!(deploys.len(), 1);
        assert_eq!((deploys[0].repo.as_str(), deploys[0].creator.as_deref()), ("web-app", Some("chen")));
        let bad = file(&dir, "b.ndjson", "{\"action\":\"created\"}\n");
        assert!(read_deploys(&bad).expect_err("not a status").to_string().contains("b.ndjson:1"));
        let incidents = file(
            &dir,
            "i.csv",
            "id,repo,opened_at,resolved_at,caused_by\nINC-1,payments,2026-11-04T01:00:00Z,2026-11-04T03:00:00Z,ABC\n",
        );
        let incidents = read_incidents(&incidents).expect("reads");
        assert_eq!(incidents[0].caused_by.as_deref(), Some("abc"));
    }

    #[test]
    fn tickets_and_generic_outcomes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tickets = file(
            &dir,
            "t.csv",
            "id,team,resolved_at,weight\nT-1,payments,2026-11-01T12:00:00Z,3\nT-2,search,2026-11-02,\n",
        );
        let tickets = read_tickets(&tickets).expect("reads");
        assert_eq!((tickets[0].weight, tickets[1].weight), (3.0, 1.0));
        let events = file(&dir, "o.csv", "kind,team,at,value,unit\ncampaign shipped,marketing,2026-11-01,1,campaign\n");
        let events = read_outcome_events(&events).expect("reads");
        assert_eq!(events[0].team.as_deref(), Some("marketing"));
    }
}
