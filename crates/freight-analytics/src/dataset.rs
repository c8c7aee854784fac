//! A freight dataset on disk: usage calls and outcomes as Parquet files in one folder, the
//! layout docs/DATASET.md describes, so a report can be run again over them, at any scale, and
//! other engines (DuckDB, Spark, pandas) can read the same files.
//!
//! ```text
//! DIR/usage/*.parquet        one row per model call (the `usage` table's schema)
//! DIR/outcomes/repos.parquet, commits.parquet, pulls.parquet, deploys.parquet,
//!              incidents.parquet, tickets.parquet, events.parquet
//! ```

use crate::attribution::Outcomes;
use crate::columns;
use crate::engine::AnalyticsError;
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use freight_core::link::RepoPlace;
use freight_core::outcome::{
    AiAgent, Commit, Deploy, Incident, OutcomeEvent, PullRequest, SessionTrailer, Survival, Ticket,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The usage files' folder inside a dataset.
pub const USAGE_DIR: &str = "usage";
/// The outcome files' folder inside a dataset.
pub const OUTCOMES_DIR: &str = "outcomes";

/// An I/O error, with the path it happened on.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> AnalyticsError + '_ {
    move |source| AnalyticsError::Io { path: path.to_path_buf(), source }
}

fn dataset_error(path: &Path, reason: impl std::fmt::Display) -> AnalyticsError {
    AnalyticsError::Dataset { path: path.to_path_buf(), reason: reason.to_string() }
}

/// A Parquet writer with freight's settings: Snappy pages (fast to read back), 1M-row groups.
pub fn parquet_writer(path: &Path, schema: SchemaRef) -> Result<ArrowWriter<std::fs::File>, AnalyticsError> {
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1024 * 1024))
        .build();
    ArrowWriter::try_new(file, schema, Some(properties)).map_err(|e| dataset_error(path, e))
}

/// Writes record batches to one Parquet file.
pub fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<(), AnalyticsError> {
    let mut writer = parquet_writer(path, schema)?;
    for batch in batches {
        writer.write(batch).map_err(|e| dataset_error(path, e))?;
    }
    writer.close().map_err(|e| dataset_error(path, e))?;
    Ok(())
}

/// Reads a whole Parquet file as record batches.
pub fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, AnalyticsError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.with_batch_size(64 * 1024).build())
        .map_err(|e| dataset_error(path, e))?;
    reader.map(|batch| batch.map_err(|e| dataset_error(path, e))).collect()
}

/// The usage Parquet files of a dataset, in name order.
pub fn usage_files(dir: &Path) -> Result<Vec<PathBuf>, AnalyticsError> {
    let usage = dir.join(USAGE_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&usage)
        .map_err(io_error(&usage))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "parquet"))
        .collect();
    files.sort();
    Ok(files)
}

/// Writes usage batches as a dataset's usage file (`usage/part-0.parquet`).
pub fn write_usage(dir: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<PathBuf, AnalyticsError> {
    let usage = dir.join(USAGE_DIR);
    std::fs::create_dir_all(&usage).map_err(io_error(&usage))?;
    let path = usage.join("part-0.parquet");
    write_parquet(&path, schema, batches)?;
    Ok(path)
}

/// Copies a dataset's usage files into another dataset's usage folder.
pub fn copy_usage(from: &Path, to: &Path) -> Result<(), AnalyticsError> {
    let usage = to.join(USAGE_DIR);
    std::fs::create_dir_all(&usage).map_err(io_error(&usage))?;
    for file in usage_files(from)? {
        let target = usage.join(file.file_name().unwrap_or_default());
        std::fs::copy(&file, &target).map_err(io_error(&target))?;
    }
    Ok(())
}

/// The distinct sessions and the total cost in a `session_usage` fact file.
pub fn sessions_and_cost(session_usage: &Path) -> Result<(usize, freight_core::Money), AnalyticsError> {
    let mut sessions = std::collections::HashSet::new();
    let mut cost = freight_core::Money::ZERO;
    for batch in read_parquet(session_usage)? {
        sessions.extend(in_file(session_usage, columns::strings(&batch, "session"))?.into_iter().flatten());
        cost += in_file(session_usage, columns::decimals(&batch, "cost"))?
            .into_iter()
            .flatten()
            .sum::<freight_core::Money>();
    }
    Ok((sessions.len(), cost))
}

fn text(values: impl IntoIterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<StringArray>())
}

fn ints(values: impl IntoIterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<Int64Array>())
}

fn uints(values: impl IntoIterator<Item = Option<u64>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<UInt64Array>())
}

fn floats(values: impl IntoIterator<Item = f64>) -> ArrayRef {
    Arc::new(values.into_iter().map(Some).collect::<Float64Array>())
}

/// A record batch of named columns, every field nullable.
pub(crate) fn table(columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch, AnalyticsError> {
    let schema = Schema::new(
        columns.iter().map(|(name, array)| Field::new(*name, array.data_type().clone(), true)).collect::<Vec<_>>(),
    );
    Ok(RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, array)| array).collect())?)
}

/// Trailers as one string: `Trailer: session` lines.
fn trailers_text(trailers: &[SessionTrailer]) -> String {
    trailers.iter().map(|t| format!("{}: {}", t.trailer, t.session)).collect::<Vec<_>>().join("\n")
}

fn parse_trailers_text(text: &str) -> Vec<SessionTrailer> {
    text.lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(trailer, session)| SessionTrailer { trailer: trailer.to_string(), session: session.to_string() })
        .collect()
}

/// Where each commit sits on its repository's first-parent line, oldest = 0: its own place (a
/// commit on the line) and the place of the line commit that brought it in.
fn ordinals(outcomes: &Outcomes, commit: &Commit) -> (Option<i64>, Option<i64>) {
    let Some((line, entered)) = outcomes.main_lines.get(&commit.repo) else { return (None, None) };
    let from_newest = |index: usize| (line.len() - 1 - index) as i64;
    let own =
        entered.get(&commit.sha).and_then(|&index| (line.get(index) == Some(&commit.sha)).then(|| from_newest(index)));
    (own, entered.get(&commit.sha).map(|&index| from_newest(index)))
}

/// Writes the outcomes as the dataset's outcome files.
pub fn write_outcomes(dir: &Path, outcomes: &Outcomes) -> Result<(), AnalyticsError> {
    let folder = dir.join(OUTCOMES_DIR);
    std::fs::create_dir_all(&folder).map_err(io_error(&folder))?;
    let repos = table(vec![
        ("name", text(outcomes.repos.iter().map(|r| Some(r.name.clone())))),
        ("workdir", text(outcomes.repos.iter().map(|r| r.workdir.clone()))),
    ])?;
    let c = &outcomes.commits;
    let places: Vec<(Option<i64>, Option<i64>)> = c.iter().map(|commit| ordinals(outcomes, commit)).collect();
    let survival: Vec<Option<&Survival>> =
        c.iter().map(|commit| outcomes.survival.get(&(commit.repo.clone(), commit.sha.clone()))).collect();
    let commits = table(vec![
        ("repo", text(c.iter().map(|x| Some(x.repo.clone())))),
        ("sha", text(c.iter().map(|x| Some(x.sha.clone())))),
        ("author_name", text(c.iter().map(|x| Some(x.author_name.clone())))),
        ("author_email", text(c.iter().map(|x| Some(x.author_email.clone())))),
        ("authored_at", ints(c.iter().map(|x| Some(x.authored_at)))),
        ("committed_at", ints(c.iter().map(|x| Some(x.committed_at)))),
        ("summary", text(c.iter().map(|x| Some(x.summary.clone())))),
        ("parents", uints(c.iter().map(|x| Some(x.parents as u64)))),
        ("lines_added", uints(c.iter().map(|x| Some(x.lines_added)))),
        ("lines_removed", uints(c.iter().map(|x| Some(x.lines_removed)))),
        ("files_changed", uints(c.iter().map(|x| Some(x.files_changed)))),
        ("agents", text(c.iter().map(|x| Some(x.agents.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","))))),
        ("session_trailers", text(c.iter().map(|x| Some(trailers_text(&x.sessions))))),
        ("reverts", text(c.iter().map(|x| x.reverts.clone()))),
        ("main_ordinal", ints(places.iter().map(|p| p.0))),
        ("entered_ordinal", ints(places.iter().map(|p| p.1))),
        ("survival_added", uints(survival.iter().map(|s| s.map(|s| s.added)))),
        ("surviving_lines", uints(survival.iter().map(|s| s.map(|s| s.surviving)))),
        ("reworked_lines", uints(survival.iter().map(|s| s.and_then(|s| s.reworked)))),
    ])?;
    let p = &outcomes.pulls;
    let pulls = table(vec![
        ("repo", text(p.iter().map(|x| Some(x.repo.clone())))),
        ("number", uints(p.iter().map(|x| Some(x.number)))),
        ("author", text(p.iter().map(|x| Some(x.author.clone())))),
        ("head_branch", text(p.iter().map(|x| x.head_branch.clone()))),
        ("opened_at", ints(p.iter().map(|x| Some(x.opened_at)))),
        ("merged_at", ints(p.iter().map(|x| x.merged_at))),
        ("closed_at", ints(p.iter().map(|x| x.closed_at))),
        ("merge_sha", text(p.iter().map(|x| x.merge_sha.clone()))),
        ("lines_added", uints(p.iter().map(|x| Some(x.lines_added)))),
        ("lines_removed", uints(p.iter().map(|x| Some(x.lines_removed)))),
        ("review_minutes", uints(p.iter().map(|x| x.review_minutes))),
    ])?;
    let d = &outcomes.deploys;
    let deploys = table(vec![
        ("repo", text(d.iter().map(|x| Some(x.repo.clone())))),
        ("sha", text(d.iter().map(|x| x.sha.clone()))),
        ("environment", text(d.iter().map(|x| Some(x.environment.clone())))),
        ("succeeded", Arc::new(d.iter().map(|x| Some(x.succeeded)).collect::<BooleanArray>())),
        ("at", ints(d.iter().map(|x| Some(x.at)))),
        ("creator", text(d.iter().map(|x| x.creator.clone()))),
    ])?;
    let i = &outcomes.incidents;
    let incidents = table(vec![
        ("id", text(i.iter().map(|x| Some(x.id.clone())))),
        ("repo", text(i.iter().map(|x| x.repo.clone()))),
        ("team", text(i.iter().map(|x| x.team.clone()))),
        ("opened_at", ints(i.iter().map(|x| Some(x.opened_at)))),
        ("resolved_at", ints(i.iter().map(|x| x.resolved_at))),
        ("caused_by", text(i.iter().map(|x| x.caused_by.clone()))),
    ])?;
    let t = &outcomes.tickets;
    let tickets = table(vec![
        ("id", text(t.iter().map(|x| Some(x.id.clone())))),
        ("team", text(t.iter().map(|x| x.team.clone()))),
        ("person", text(t.iter().map(|x| x.person.clone()))),
        ("resolved_at", ints(t.iter().map(|x| Some(x.resolved_at)))),
        ("weight", floats(t.iter().map(|x| x.weight))),
    ])?;
    let e = &outcomes.events;
    let events = table(vec![
        ("kind", text(e.iter().map(|x| Some(x.kind.clone())))),
        ("person", text(e.iter().map(|x| x.person.clone()))),
        ("team", text(e.iter().map(|x| x.team.clone()))),
        ("at", ints(e.iter().map(|x| Some(x.at)))),
        ("value", floats(e.iter().map(|x| x.value))),
        ("unit", text(e.iter().map(|x| Some(x.unit.clone())))),
    ])?;
    for (name, batch) in [
        ("repos", repos),
        ("commits", commits),
        ("pulls", pulls),
        ("deploys", deploys),
        ("incidents", incidents),
        ("tickets", tickets),
        ("events", events),
    ] {
        write_parquet(&folder.join(format!("{name}.parquet")), batch.schema(), &[batch])?;
    }
    Ok(())
}

/// A required value of row `row` of a column, or an error naming the file, row and column.
fn required<T: Clone>(values: &[Option<T>], row: usize, path: &Path, column: &str) -> Result<T, AnalyticsError> {
    values[row].clone().ok_or_else(|| dataset_error(path, format!("row {}: `{column}` is empty", row + 1)))
}

/// The batches of an outcome file, or none when the dataset has no such file.
fn outcome_batches(dir: &Path, name: &str) -> Result<(PathBuf, Vec<RecordBatch>), AnalyticsError> {
    let path = dir.join(OUTCOMES_DIR).join(format!("{name}.parquet"));
    if !path.exists() {
        return Ok((path, Vec::new()));
    }
    let batches = read_parquet(&path)?;
    Ok((path, batches))
}

/// A column error names the file.
fn in_file<T>(path: &Path, result: Result<T, AnalyticsError>) -> Result<T, AnalyticsError> {
    result.map_err(|error| dataset_error(path, error))
}

/// Reads one column of a batch as optional values.
type ColumnReader<T> = fn(&RecordBatch, &'static str) -> Result<Vec<Option<T>>, AnalyticsError>;

/// A column of an outcome file; a column the file does not have reads as all empty (a required
/// one is then reported by [`required`]).
fn col<T: Clone>(
    path: &Path,
    batch: &RecordBatch,
    name: &'static str,
    read: ColumnReader<T>,
) -> Result<Vec<Option<T>>, AnalyticsError> {
    if batch.column_by_name(name).is_none() {
        return Ok(vec![None; batch.num_rows()]);
    }
    in_file(path, read(batch, name))
}

/// Reads a dataset's outcome files (a missing file is an empty table).
pub fn read_outcomes(dir: &Path) -> Result<Outcomes, AnalyticsError> {
    let mut outcomes = Outcomes::default();
    let (path, batches) = outcome_batches(dir, "repos")?;
    for batch in &batches {
        let names = col(&path, batch, "name", columns::strings)?;
        let workdirs = col(&path, batch, "workdir", columns::strings)?;
        for (row, workdir) in workdirs.into_iter().enumerate() {
            outcomes.repos.push(RepoPlace { name: required(&names, row, &path, "name")?, workdir });
        }
    }

    let (path, batches) = outcome_batches(dir, "commits")?;
    let mut lines: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut entered: Vec<(String, String, i64)> = Vec::new();
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (repos, shas, names, emails, summaries, agents, trailers, reverts) = (
            get("repo")?,
            get("sha")?,
            get("author_name")?,
            get("author_email")?,
            get("summary")?,
            get("agents")?,
            get("session_trailers")?,
            get("reverts")?,
        );
        let int = |name: &'static str| col(&path, batch, name, columns::millis);
        let (authored, committed, own, enters) =
            (int("authored_at")?, int("committed_at")?, int("main_ordinal")?, int("entered_ordinal")?);
        let count = |name: &'static str| col(&path, batch, name, columns::optional_counts);
        let (parents, added, removed, files) =
            (count("parents")?, count("lines_added")?, count("lines_removed")?, count("files_changed")?);
        let (survival_added, surviving, reworked) =
            (count("survival_added")?, count("surviving_lines")?, count("reworked_lines")?);
        for row in 0..batch.num_rows() {
            let repo = required(&repos, row, &path, "repo")?;
            let sha = required(&shas, row, &path, "sha")?;
            let committed_at = required(&committed, row, &path, "committed_at")?;
            if let Some(ordinal) = own[row] {
                lines.entry(repo.clone()).or_default().push((ordinal, sha.clone()));
            }
            if let Some(ordinal) = enters[row] {
                entered.push((repo.clone(), sha.clone(), ordinal));
            }
            if let (Some(added), Some(surviving)) = (survival_added[row], surviving[row]) {
                outcomes
                    .survival
                    .insert((repo.clone(), sha.clone()), Survival { added, surviving, reworked: reworked[row] });
            }
            outcomes.commits.push(Commit {
                repo,
                sha,
                author_name: names[row].clone().unwrap_or_default(),
                author_email: emails[row].clone().unwrap_or_default(),
                authored_at: authored[row].unwrap_or(committed_at),
                committed_at,
                summary: summaries[row].clone().unwrap_or_default(),
                parents: parents[row].unwrap_or(1) as usize,
                lines_added: added[row].unwrap_or(0),
                lines_removed: removed[row].unwrap_or(0),
                files_changed: files[row].unwrap_or(0),
                agents: agents[row]
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|name| !name.is_empty())
                    .map(AiAgent::from_name)
                    .collect(),
                sessions: parse_trailers_text(trailers[row].as_deref().unwrap_or_default()),
                reverts: reverts[row].clone().filter(|sha| !sha.is_empty()),
            });
        }
    }
    // Main lines back to newest-first positions.
    for (repo, mut line) in lines {
        line.sort_unstable_by_key(|&(ordinal, _)| std::cmp::Reverse(ordinal));
        outcomes.main_lines.insert(repo, (line.into_iter().map(|(_, sha)| sha).collect(), HashMap::new()));
    }
    for (repo, sha, ordinal) in entered {
        if let Some((line, positions)) = outcomes.main_lines.get_mut(&repo) {
            let index = line.len() as i64 - 1 - ordinal;
            if index < 0 {
                return Err(dataset_error(
                    &path,
                    format!("commit {sha}: entered_ordinal {ordinal} is past the main line"),
                ));
            }
            positions.insert(sha, index as usize);
        }
    }

    let (path, batches) = outcome_batches(dir, "pulls")?;
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (repos, authors, branches, merge_shas) =
            (get("repo")?, get("author")?, get("head_branch")?, get("merge_sha")?);
        let int = |name: &'static str| col(&path, batch, name, columns::millis);
        let (opened, merged, closed) = (int("opened_at")?, int("merged_at")?, int("closed_at")?);
        let count = |name: &'static str| col(&path, batch, name, columns::optional_counts);
        let (numbers, added, removed, review) =
            (count("number")?, count("lines_added")?, count("lines_removed")?, count("review_minutes")?);
        for row in 0..batch.num_rows() {
            outcomes.pulls.push(PullRequest {
                repo: required(&repos, row, &path, "repo")?,
                number: required(&numbers, row, &path, "number")?,
                author: authors[row].clone().unwrap_or_default(),
                head_branch: branches[row].clone(),
                opened_at: required(&opened, row, &path, "opened_at")?,
                merged_at: merged[row],
                closed_at: closed[row],
                merge_sha: merge_shas[row].clone(),
                lines_added: added[row].unwrap_or(0),
                lines_removed: removed[row].unwrap_or(0),
                review_minutes: review[row],
            });
        }
    }

    let (path, batches) = outcome_batches(dir, "deploys")?;
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (repos, shas, environments, creators) = (get("repo")?, get("sha")?, get("environment")?, get("creator")?);
        let succeeded = in_file(&path, columns::bools(batch, "succeeded"))?;
        let at = col(&path, batch, "at", columns::millis)?;
        for row in 0..batch.num_rows() {
            outcomes.deploys.push(Deploy {
                repo: required(&repos, row, &path, "repo")?,
                sha: shas[row].clone(),
                environment: environments[row].clone().unwrap_or_default(),
                succeeded: succeeded[row],
                at: required(&at, row, &path, "at")?,
                creator: creators[row].clone(),
            });
        }
    }

    let (path, batches) = outcome_batches(dir, "incidents")?;
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (ids, repos, teams, causes) = (get("id")?, get("repo")?, get("team")?, get("caused_by")?);
        let int = |name: &'static str| col(&path, batch, name, columns::millis);
        let (opened, resolved) = (int("opened_at")?, int("resolved_at")?);
        for row in 0..batch.num_rows() {
            outcomes.incidents.push(Incident {
                id: required(&ids, row, &path, "id")?,
                repo: repos[row].clone(),
                team: teams[row].clone(),
                opened_at: required(&opened, row, &path, "opened_at")?,
                resolved_at: resolved[row],
                caused_by: causes[row].clone(),
            });
        }
    }

    let (path, batches) = outcome_batches(dir, "tickets")?;
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (ids, teams, people) = (get("id")?, get("team")?, get("person")?);
        let resolved = col(&path, batch, "resolved_at", columns::millis)?;
        let weights = col(&path, batch, "weight", columns::floats)?;
        for row in 0..batch.num_rows() {
            outcomes.tickets.push(Ticket {
                id: required(&ids, row, &path, "id")?,
                team: teams[row].clone(),
                person: people[row].clone(),
                resolved_at: required(&resolved, row, &path, "resolved_at")?,
                weight: weights[row].unwrap_or(1.0),
            });
        }
    }

    let (path, batches) = outcome_batches(dir, "events")?;
    for batch in &batches {
        let get = |name: &'static str| col(&path, batch, name, columns::strings);
        let (kinds, people, teams, units) = (get("kind")?, get("person")?, get("team")?, get("unit")?);
        let at = col(&path, batch, "at", columns::millis)?;
        let values = col(&path, batch, "value", columns::floats)?;
        for row in 0..batch.num_rows() {
            outcomes.events.push(OutcomeEvent {
                kind: required(&kinds, row, &path, "kind")?,
                person: people[row].clone(),
                team: teams[row].clone(),
                at: required(&at, row, &path, "at")?,
                value: values[row].unwrap_or(1.0),
                unit: units[row].clone().unwrap_or_default(),
            });
        }
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(sha: &str, at: i64, parents: usize) -> Commit {
        Commit {
            repo: "api".into(),
            sha: sha.into(),
            author_name: "Ana".into(),
            author_email: "ana@x".into(),
            authored_at: at - 5,
            committed_at: at,
            summary: format!("change {sha}"),
            parents,
            lines_added: 7,
            lines_removed: 2,
            files_changed: 1,
            agents: vec![AiAgent::ClaudeCode, AiAgent::Other],
            sessions: vec![SessionTrailer { trailer: "Freight-Session".into(), session: "s-1".into() }],
            reverts: (sha == "c3").then(|| "c1".into()),
        }
    }

    fn outcomes() -> Outcomes {
        let mut outcomes = Outcomes {
            commits: vec![commit("c1", 10, 1), commit("side", 15, 1), commit("c2", 20, 2), commit("c3", 30, 1)],
            repos: vec![RepoPlace { name: "api".into(), workdir: Some("/src/api".into()) }],
            pulls: vec![PullRequest {
                repo: "api".into(),
                number: 4,
                author: "ana@x".into(),
                head_branch: Some("feat".into()),
                opened_at: 1,
                merged_at: Some(20),
                closed_at: Some(20),
                merge_sha: Some("c2".into()),
                lines_added: 9,
                lines_removed: 0,
                review_minutes: None,
            }],
            deploys: vec![Deploy {
                repo: "api".into(),
                sha: Some("c2".into()),
                environment: "prod".into(),
                succeeded: true,
                at: 25,
                creator: None,
            }],
            incidents: vec![Incident {
                id: "I-1".into(),
                repo: None,
                team: Some("core".into()),
                opened_at: 40,
                resolved_at: None,
                caused_by: Some("c3".into()),
            }],
            tickets: vec![Ticket {
                id: "T-1".into(),
                team: Some("core".into()),
                person: None,
                resolved_at: 50,
                weight: 3.0,
            }],
            events: vec![OutcomeEvent {
                kind: "case".into(),
                person: Some("ana".into()),
                team: None,
                at: 60,
                value: 2.5,
                unit: "cases".into(),
            }],
            ..Outcomes::default()
        };
        // The first-parent line newest first: c3, c2 (the merge that brought `side` in), c1.
        let line: Vec<String> = ["c3", "c2", "c1"].map(String::from).to_vec();
        let entered = [("c3", 0), ("c2", 1), ("side", 1), ("c1", 2)].map(|(sha, at)| (sha.to_string(), at)).into();
        outcomes.main_lines.insert("api".into(), (line, entered));
        outcomes.survival.insert(("api".into(), "c1".into()), Survival { added: 7, surviving: 5, reworked: None });
        outcomes
    }

    #[test]
    fn outcomes_come_back_as_written() {
        let dir = std::env::temp_dir().join(format!("freight-dataset-{}", std::process::id()));
        let written = outcomes();
        write_outcomes(&dir, &written).expect("write");
        let read = read_outcomes(&dir).expect("read");
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(read.commits, written.commits);
        assert_eq!(read.pulls, written.pulls);
        assert_eq!(read.deploys, written.deploys);
        assert_eq!(read.incidents, written.incidents);
        assert_eq!(read.tickets, written.tickets);
        assert_eq!(read.events, written.events);
        assert_eq!(read.repos, written.repos);
        assert_eq!(read.survival, written.survival);
        assert_eq!(read.main_lines, written.main_lines);
    }

    #[test]
    fn an_empty_required_value_names_the_file_row_and_column() {
        let dir = std::env::temp_dir().join(format!("freight-dataset-bad-{}", std::process::id()));
        let mut bad = outcomes();
        bad.pulls.clear();
        write_outcomes(&dir, &bad).expect("write");
        let pulls = table(vec![
            ("repo", text([Some("api".to_string())])),
            ("number", uints([None])),
            ("opened_at", ints([Some(1)])),
        ])
        .expect("batch");
        write_parquet(&dir.join(OUTCOMES_DIR).join("pulls.parquet"), pulls.schema(), &[pulls]).expect("write");
        let error = read_outcomes(&dir).expect_err("number is required").to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(error.contains("pulls.parquet") && error.contains("row 1") && error.contains("`number`"), "{error}");
    }
}
