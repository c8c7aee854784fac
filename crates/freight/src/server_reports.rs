//! The server's reports: `freight report --store` and `freight usage --store` run for API
//! queries, with the server's org directory and price overrides, so an API answer is the JSON
//! the CLI prints for the same inputs and as-of time.

use crate::cli::{OutcomeArgs, ReportArgs, UsageView, WeekStart};
use crate::commands::report::{Prepared, compute_prepared, directory_of, leaderboard_prepared, prepare};
use crate::commands::usage::{ReportSettings, build_report, load_catalog};
use datafusion::arrow::array::{BooleanArray, RecordBatch};
use freight_analytics::Scope;
use freight_analytics::pillars::Cut;
use freight_core::org::Directory;
use freight_ingest::UsageTable;
use freight_server::api::{ReportError, ReportQuery, Reports};
use freight_store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

pub struct StoreReports {
    data_dir: PathBuf,
    /// The org directory (`[org] directory`).
    org: Option<PathBuf>,
    /// Outcomes in bulk (`[org] outcomes_dataset`).
    outcomes_dataset: Option<PathBuf>,
    /// The model portfolio and tokenmaxxing marks (`[org] portfolio`).
    portfolio: Option<PathBuf>,
    /// The pinned catalog with the price overrides (`[org] prices`), read at start.
    catalog: freight_core::PriceCatalog,
    /// The server's store: its counters say when the last read of it is out of date.
    store: Arc<Store>,
    last_read: Mutex<Option<(StoreVersion, Arc<StoreRead>)>>,
    /// What reports of the last store read share, per as-of time and time zone, newest first.
    prepared: Mutex<Vec<Kept>>,
    /// How long a preparation made "now" answers queries that name no as-of time (the API
    /// cache's `cache_secs`: a report that old is what the cache serves anyway).
    now_lasts: std::time::Duration,
}

/// One preparation and what it answers.
struct Kept {
    version: StoreVersion,
    /// Made for queries naming no as-of time.
    for_now: bool,
    made: std::time::Instant,
    prepared: Arc<Prepared>,
}

/// Preparations kept at once (each holds every call's timeline: 32 bytes a call).
const PREPARED_KEPT: usize = 2;

/// What the store held at one read: its events and the people its telemetry placed.
struct StoreRead {
    usage: UsageTable,
    people: Vec<freight_core::org::PersonEntry>,
}

/// Changes whenever the store's contents do: events stored, flushes (which apply
/// retention) and compactions.
type StoreVersion = (u64, u64, u64);

fn failed(error: anyhow::Error) -> ReportError {
    ReportError::Failed(format!("{error:#}"))
}

fn cut_of(name: &str) -> Result<Cut, ReportError> {
    Ok(match name {
        "team" => Cut::Team,
        "person" => Cut::Person,
        "cost_centre" => Cut::CostCentre,
        "repo" => Cut::Repo,
        "tool" => Cut::Tool,
        "model" => Cut::Model,
        other => return Err(ReportError::Query(format!("cut={other}: no such cut"))),
    })
}

impl StoreReports {
    pub fn new(
        config: &freight_server::Config,
        org: Option<PathBuf>,
        store: Arc<Store>,
    ) -> anyhow::Result<StoreReports> {
        // A portfolio file that does not parse is a configuration error at start, not at the
        // first report.
        OutcomeArgs { portfolio: config.org.portfolio.clone(), ..OutcomeArgs::default() }.portfolio_file()?;
        Ok(StoreReports {
            data_dir: config.data_dir.clone(),
            org,
            outcomes_dataset: config.org.outcomes_dataset.clone(),
            portfolio: config.org.portfolio.clone(),
            catalog: load_catalog(config.org.prices.as_ref())?,
            store,
            last_read: Mutex::new(None),
            prepared: Mutex::new(Vec::new()),
            now_lasts: std::time::Duration::from_secs(config.api.cache_secs),
        })
    }

    /// The store's events and telemetry people, read again only when the store changed since
    /// the last read (reading ten million events takes seconds; a report over them, less).
    fn read(&self) -> anyhow::Result<(StoreVersion, Arc<StoreRead>)> {
        let stats = self.store.stats();
        let version = (
            stats.events_stored.load(Ordering::Acquire),
            stats.flushes.load(Ordering::Acquire),
            stats.compactions.load(Ordering::Acquire),
        );
        let mut last = self.last_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((seen, read)) = last.as_ref()
            && *seen == version
        {
            return Ok((version, read.clone()));
        }
        let snapshot = freight_store::read_snapshot(&self.data_dir)?;
        let read = Arc::new(StoreRead {
            usage: crate::commands::store::usage_of(&snapshot)?,
            people: crate::commands::store::telemetry_people(&snapshot)?,
        });
        *last = Some((version, read.clone()));
        Ok((version, read))
    }

    /// The preparation for this store read, as-of time and time zone: kept, or made now. A
    /// query naming no as-of time takes that of a preparation made for such queries within
    /// `now_lasts` (its answer states it), so it is not prepared again for every second.
    fn prepared(
        &self,
        version: StoreVersion,
        read: &StoreRead,
        settings: &mut ReportSettings,
        for_now: bool,
        outcomes: &OutcomeArgs,
    ) -> anyhow::Result<Arc<Prepared>> {
        let mut kept = self.prepared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.retain(|entry| entry.version == version);
        let found = kept.iter().position(|entry| {
            entry.prepared.timezone == settings.filters.timezone
                && match for_now {
                    true => entry.for_now && entry.made.elapsed() < self.now_lasts,
                    false => entry.prepared.as_of == settings.as_of,
                }
        });
        if let Some(index) = found {
            let entry = kept.remove(index);
            settings.as_of = entry.prepared.as_of;
            let prepared = entry.prepared.clone();
            kept.insert(0, entry);
            return Ok(prepared);
        }
        let prepared = Arc::new(prepare(&read.usage, &self.catalog, settings, outcomes)?);
        kept.insert(0, Kept { version, for_now, made: std::time::Instant::now(), prepared: prepared.clone() });
        kept.truncate(PREPARED_KEPT);
        Ok(prepared)
    }

    /// The settings `freight report` would take from the same flags; a wrong date, time zone or
    /// as-of time is the caller's error.
    fn settings(query: &ReportQuery, view: UsageView) -> Result<ReportSettings, ReportError> {
        let args = ReportArgs {
            since: query.since.clone(),
            until: query.until.clone(),
            project: None,
            timezone: query.timezone.clone().unwrap_or_else(|| "UTC".into()),
            breakdown: false,
            json: true,
            csv: false,
            parquet: None,
            table: None,
            start_of_week: WeekStart::Sunday,
            as_of: query.as_of.clone(),
            offline: false,
        };
        ReportSettings::from_args(&args, view).map_err(|error| ReportError::Query(format!("{error:#}")))
    }

    /// What a four-pillar query is computed from: the store's read, the query's settings (its
    /// as-of time that of the preparation), the outcome inputs and the preparation.
    fn four_pillar_inputs(
        &self,
        query: &ReportQuery,
    ) -> Result<(Arc<StoreRead>, ReportSettings, OutcomeArgs, Arc<Prepared>), ReportError> {
        let mut settings = Self::settings(query, UsageView::Daily)?;
        let (version, read) = self.read().map_err(failed)?;
        let outcomes = self.outcome_args(&read).map_err(failed)?;
        let prepared =
            self.prepared(version, &read, &mut settings, query.as_of.is_none(), &outcomes).map_err(failed)?;
        Ok((read, settings, outcomes, prepared))
    }

    fn outcome_args(&self, read: &StoreRead) -> anyhow::Result<OutcomeArgs> {
        let args = OutcomeArgs {
            org: self.org.clone(),
            dataset: self.outcomes_dataset.clone(),
            portfolio: self.portfolio.clone(),
            ..OutcomeArgs::default()
        };
        crate::commands::store::with_store_files(&args, &self.data_dir, read.people.clone())
    }
}

impl Reports for StoreReports {
    fn pillars(&self, query: &ReportQuery) -> Result<Vec<u8>, ReportError> {
        let cut = cut_of(query.cut.as_deref().unwrap_or("team"))?;
        let (read, settings, outcomes, prepared) = self.four_pillar_inputs(query)?;
        let mut output =
            compute_prepared(&prepared, &read.usage, &self.catalog, &settings, &outcomes, Some(cut), &query.scope)
                .map_err(failed)?;
        let started = std::time::Instant::now();
        // Every session's links are three quarters of a large report's JSON: they are written
        // on every core beside the rest.
        let links = std::mem::take(&mut output.report.session_links);
        let json = crate::render::compact::with_list(&output, "session_links", &links)
            .map_err(|error| ReportError::Failed(error.to_string()));
        freight_analytics::engine::note_time("the report as JSON", started);
        // Millions of small strings: freed aside, not before the answer goes out.
        rayon::spawn(move || drop((output, links)));
        json
    }

    fn leaderboard(&self, query: &ReportQuery) -> Result<Vec<u8>, ReportError> {
        let (read, settings, outcomes, prepared) = self.four_pillar_inputs(query)?;
        let output = leaderboard_prepared(&prepared, &read.usage, &self.catalog, &settings, &outcomes, &query.scope)
            .map_err(failed)?;
        serde_json::to_vec(&output).map_err(|error| ReportError::Failed(error.to_string()))
    }

    fn usage(&self, view: &str, query: &ReportQuery) -> Result<Vec<u8>, ReportError> {
        let view = match view {
            "daily" => UsageView::Daily,
            "weekly" => UsageView::Weekly,
            "monthly" => UsageView::Monthly,
            "session" => UsageView::Session,
            "blocks" => UsageView::Blocks,
            other => return Err(ReportError::Query(format!("usage/{other}: no such view"))),
        };
        let settings = Self::settings(query, view)?;
        let (_, read) = self.read().map_err(failed)?;
        let mut usage = read.usage.clone();
        if !query.scope.is_everything() {
            let directory = directory_of(&self.outcome_args(&read).map_err(failed)?).map_err(failed)?;
            usage = scoped_usage(usage, &query.scope, &directory).map_err(failed)?;
        }
        let report = build_report(usage, &self.catalog, &settings).map_err(failed)?;
        serde_json::to_vec(&crate::render::usage_json(&report)).map_err(|error| ReportError::Failed(error.to_string()))
    }
}

/// The calls of the people, tools and models a scope admits (people are placed in teams and
/// cost centres through the directory, as the four-pillar report places them).
fn scoped_usage(table: UsageTable, scope: &Scope, directory: &Directory) -> anyhow::Result<UsageTable> {
    use freight_analytics::columns::strings;
    let mut admitted_users: HashMap<Option<String>, bool> = HashMap::new();
    let mut batches = Vec::with_capacity(table.batches.len());
    for batch in &table.batches {
        let (users, tools, models) = (strings(batch, "user")?, strings(batch, "tool")?, strings(batch, "model")?);
        let keep: Vec<bool> = (0..batch.num_rows())
            .map(|row| {
                let person = *admitted_users
                    .entry(users[row].clone())
                    .or_insert_with(|| scope.admits_member(&directory.resolve(users[row].as_deref().unwrap_or(""))));
                let tool = tools[row].as_deref().unwrap_or("");
                let model = models[row].as_deref().unwrap_or("");
                person
                    && scope.tools.as_ref().is_none_or(|set| set.contains(tool))
                    && scope.models.as_ref().is_none_or(|set| set.contains(model))
            })
            .collect();
        let filtered: RecordBatch = datafusion::arrow::compute::filter_record_batch(batch, &BooleanArray::from(keep))?;
        batches.push(filtered);
    }
    Ok(UsageTable { schema: table.schema, batches, report: table.report })
}
