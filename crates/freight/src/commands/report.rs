//! `freight report`: agent logs joined with git history and delivery events into the four
//! pillars — tokens and cost, wasted cost, actual output, unit economics — per cut.

use crate::cli::{CutArg, OutcomeArgs, PillarArgs, UsageView};
use crate::commands::usage::{ReportSettings, find_files, load_catalog, read_logs};
use anyhow::{Context, bail};
use datafusion::arrow::record_batch::RecordBatch;
use freight_analytics::attribution::{Outcomes, Rules};
use freight_analytics::pillars::{Cut, PillarsReport, pillars_report};
use freight_analytics::{Engine, Filters, Scope};
use freight_core::PriceCatalog;
use freight_core::link::LinkRules;
use freight_core::org::Directory;
use freight_core::outcome::Millis;
use freight_git::{MineOptions, MinedRepo};
use freight_ingest::{IngestReport, SourceFile, UsageTable, discover_people};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One repository as read, for the report's header.
#[derive(Debug, Clone, Serialize)]
pub struct RepoSummary {
    pub name: String,
    pub path: String,
    pub branch: String,
    pub commits: usize,
    pub tip: Option<String>,
}

/// Everything besides the logs, read and checked.
pub struct Gathered {
    pub directory: Directory,
    pub outcomes: Outcomes,
    pub repos: Vec<RepoSummary>,
    pub default_identity: Option<String>,
    /// The outcomes as `outputs` rows at one as-of time, built by the first report that asks
    /// (a server answers many periods from the same gathered outcomes).
    outputs: std::sync::Mutex<Option<(Millis, RecordBatch)>>,
    /// What attribution needs of the outcomes at one as-of time, likewise.
    attribution: std::sync::Mutex<Option<std::sync::Arc<freight_analytics::attribution::AttributionBase>>>,
}

impl Gathered {
    /// The `outputs` table of every time up to `as_of` (`pillars::outputs_as_of`).
    fn outputs_as_of(&self, as_of: Millis) -> anyhow::Result<RecordBatch> {
        let mut kept = self.outputs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((kept_as_of, outputs)) = kept.as_ref()
            && *kept_as_of == as_of
        {
            return Ok(outputs.clone());
        }
        let outputs = freight_analytics::pillars::outputs_as_of(&self.outcomes, &self.directory, as_of)?;
        *kept = Some((as_of, outputs.clone()));
        Ok(outputs)
    }

    /// The outcomes' attribution base at `rules`' time (`attribution::AttributionBase`), kept
    /// with each session's link candidates when `keep` (a server answering many periods).
    fn attribution_base(
        &self,
        rules: &Rules,
        keep: bool,
    ) -> std::sync::Arc<freight_analytics::attribution::AttributionBase> {
        let mut kept = self.attribution.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(base) = kept.as_ref().filter(|base| base.fits(rules)) {
            return base.clone();
        }
        let started = std::time::Instant::now();
        let base = std::sync::Arc::new(freight_analytics::attribution::AttributionBase::new(
            &self.outcomes,
            &self.directory,
            rules,
            keep,
        ));
        freight_analytics::engine::note_time("attribution: the outcomes as of the time", started);
        if keep {
            *kept = Some(base.clone());
        }
        base
    }
}

/// The report with what it was computed from.
#[derive(Debug, Clone, Serialize)]
pub struct PillarsOutput {
    #[serde(flatten)]
    pub header: ReportHeader,
    #[serde(flatten)]
    pub report: PillarsReport,
    pub repos: Vec<RepoSummary>,
    pub unpriced_models: Vec<String>,
    pub ingest: IngestReport,
}

/// Where the report's usage comes from.
pub enum UsageSource {
    /// Agent logs, read into memory.
    Logs(UsageTable),
    /// A dataset (its usage Parquet files are scanned as queried).
    Dataset(PathBuf),
}

pub fn run(args: &PillarArgs) -> anyhow::Result<()> {
    let settings = ReportSettings::from_args(&args.report, UsageView::Daily)?;
    let catalog = load_catalog(args.sources.prices.as_ref())?;
    let usage = match &args.outcomes.dataset {
        Some(dir) => {
            let files = freight_analytics::dataset::usage_files(dir)
                .with_context(|| format!("{} is not a freight dataset (no usage/ folder)", dir.display()))?;
            if files.is_empty() {
                bail!("the dataset {} has no usage files (usage/*.parquet)", dir.display());
            }
            UsageSource::Dataset(dir.clone())
        }
        None if let Some(store) = &args.sources.store => UsageSource::Logs(crate::commands::store::usage_table(store)?),
        None => {
            let files = log_files(&args.sources, &args.outcomes)?;
            if files.is_empty() {
                bail!(
                    "no agent logs found; point --claude-dir, --codex-dir or --people-dir at them, or try `freight demo`"
                );
            }
            UsageSource::Logs(read_logs(files, args.sources.strict, freight_ingest::Detail::Full)?)
        }
    };
    let outcomes = match &args.sources.store {
        Some(store) => crate::commands::store::with_store_outcomes(&args.outcomes, store)?,
        None => args.outcomes.clone(),
    };
    let output = compute(usage, &catalog, &settings, &outcomes, Some(cut(args.cut)), &args.scope.scope())?;
    let started = std::time::Instant::now();
    crate::render::pillars::print(&output, settings.json, settings.export.as_ref())?;
    freight_analytics::engine::note_time("printing", started);
    Ok(())
}

pub fn cut(arg: CutArg) -> Cut {
    match arg {
        CutArg::Team => Cut::Team,
        CutArg::Person => Cut::Person,
        CutArg::CostCentre => Cut::CostCentre,
        CutArg::Repo => Cut::Repo,
        CutArg::Tool => Cut::Tool,
        CutArg::Model => Cut::Model,
    }
}

/// The log files: a folder per person, or the usual places.
pub fn log_files(sources: &crate::cli::SourceArgs, outcomes: &OutcomeArgs) -> anyhow::Result<Vec<SourceFile>> {
    match &outcomes.people_dir {
        Some(dir) => {
            let files = discover_people(dir).with_context(|| format!("reading the people folder {}", dir.display()))?;
            Ok(files)
        }
        None => Ok(find_files(sources)),
    }
}

fn read_directory(path: &Path) -> anyhow::Result<Directory> {
    let text = fs_err::read_to_string(path)?;
    let is_csv = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
    Directory::parse(&text, is_csv).with_context(|| format!("in {}", path.display()))
}

/// The org directory (`--org`), with the people only telemetry names added.
pub fn directory_of(args: &OutcomeArgs) -> anyhow::Result<Directory> {
    Ok(match &args.org {
        Some(path) => read_directory(path)?,
        None => Directory::default(),
    }
    .with_unlisted(args.telemetry_people.iter().cloned()))
}

/// The repositories a report mines. A dataset brings its own outcomes, and a store its
/// registered repositories: the repository around the current directory is only read when
/// nothing else says where the work is (a server must not mine whatever folder it was started
/// in).
fn repo_paths(args: &OutcomeArgs) -> Vec<PathBuf> {
    if args.repos.is_empty() && args.dataset.is_none() && args.mined_in.is_none() {
        std::env::current_dir().ok().and_then(|dir| freight_git::discover_workdir(&dir)).into_iter().collect()
    } else {
        args.repos.clone()
    }
}

/// What [`gather`] would read, as it stands now: each file's size and modification time (a
/// dataset's files among them), each repository's branch tip and the people telemetry placed.
/// While it is unchanged, so is what `gather` returns.
pub fn gather_inputs(args: &OutcomeArgs) -> String {
    use std::fmt::Write;
    let mut inputs = String::new();
    let file = |inputs: &mut String, path: &Path| {
        let meta = std::fs::metadata(path).map(|m| (m.len(), m.modified().ok()));
        let _ = writeln!(inputs, "{} {meta:?}", path.display());
    };
    let files = [&args.pull_files, &args.ticket_files, &args.deploy_files, &args.incident_files, &args.outcome_files];
    for path in args.org.iter().chain(files.into_iter().flatten()) {
        file(&mut inputs, path);
    }
    if let Some(dataset) = &args.dataset {
        let mut pending = vec![dataset.clone()];
        while let Some(dir) = pending.pop() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(&dir) {
                Ok(entries) => entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect(),
                Err(error) => {
                    let _ = writeln!(inputs, "{} {error}", dir.display());
                    continue;
                }
            };
            entries.sort();
            for path in entries {
                if path.is_dir() { pending.push(path) } else { file(&mut inputs, &path) }
            }
        }
    }
    for path in repo_paths(args) {
        let tip = freight_git::branch_tip(&path, args.branch.as_deref()).map_err(|error| error.to_string());
        let _ = writeln!(inputs, "{} {tip:?}", path.display());
    }
    let _ = writeln!(inputs, "{:?}", args.telemetry_people);
    inputs
}

/// Reads the org directory, mines the repositories and reads the event files.
pub fn gather(args: &OutcomeArgs, as_of: i64) -> anyhow::Result<Gathered> {
    let directory = directory_of(args)?;
    let repo_paths = repo_paths(args);
    let options = MineOptions {
        branch: args.branch.clone(),
        as_of: Some(as_of),
        survival: !args.no_survival,
        name: None,
        rework_window_ms: (args.rework_days * 86_400_000.0).round() as i64,
    };
    let mut outcomes = match &args.dataset {
        Some(dir) => {
            eprintln!("freight: reading the outcomes of the dataset {}", dir.display());
            let started = std::time::Instant::now();
            let outcomes = freight_analytics::dataset::read_outcomes(dir)?;
            freight_analytics::engine::note_time("outcomes read", started);
            outcomes
        }
        None => Outcomes::default(),
    };
    let mut repos = Vec::new();
    let mut default_identity = None;
    for path in &repo_paths {
        let mined: MinedRepo = match &args.mined_in {
            Some(store) => {
                let (mined, kept) = crate::mined::mine_cached(store, path, &options)?;
                let how = if kept { "kept by the server" } else { "read now" };
                eprintln!("freight: git history of {} ({how})", path.display());
                mined
            }
            None => {
                eprintln!("freight: reading git history of {}", path.display());
                freight_git::mine(path, &options)?
            }
        };
        if repos.iter().any(|r: &RepoSummary| r.name == mined.name) {
            bail!("two repositories are both named {:?} ({}); names must differ", mined.name, path.display());
        }
        if default_identity.is_none() {
            default_identity = mined.user_email.clone();
        }
        repos.push(RepoSummary {
            name: mined.name.clone(),
            path: path.display().to_string(),
            branch: mined.branch.clone(),
            commits: mined.commits.len(),
            tip: mined.tip.clone(),
        });
        crate::mined::add_mined(&mut outcomes, mined);
    }
    for path in &args.pull_files {
        outcomes.pulls.extend(freight_ingest::events::read_pull_requests(path)?);
    }
    for path in &args.ticket_files {
        outcomes.tickets.extend(freight_ingest::events::read_tickets(path)?);
    }
    for path in &args.deploy_files {
        outcomes.deploys.extend(freight_ingest::events::read_deploys(path)?);
    }
    for path in &args.incident_files {
        outcomes.incidents.extend(freight_ingest::events::read_incidents(path)?);
    }
    for path in &args.outcome_files {
        outcomes.events.extend(freight_ingest::events::read_outcome_events(path)?);
    }
    Ok(Gathered {
        directory,
        outcomes,
        repos,
        default_identity: if args.people_dir.is_some() { None } else { default_identity },
        outputs: std::sync::Mutex::new(None),
        attribution: std::sync::Mutex::new(None),
    })
}

/// Gathers the outcomes and org directory (`gather`) while it reduces the usage to the grain
/// (they are independent, and reading a million outcomes takes seconds), then computes the
/// report.
pub fn compute(
    usage: UsageSource,
    catalog: &PriceCatalog,
    settings: &ReportSettings,
    args: &OutcomeArgs,
    cut: Option<Cut>,
    scope: &Scope,
) -> anyhow::Result<PillarsOutput> {
    std::thread::scope(|threads| {
        let gathering = threads.spawn(|| gather(args, settings.as_of.timestamp_millis()));
        let gathered = || joined(gathering);
        let mut rules = rules_of(args, settings)?;
        let filters: Filters = settings.filters.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async {
            let started = std::time::Instant::now();
            let (mut engine, ingest, priced) = match usage {
                UsageSource::Logs(table) => {
                    if let Some(dir) = &args.export_dataset {
                        freight_analytics::dataset::write_usage(dir, table.schema.clone(), &table.batches)?;
                    }
                    (Engine::new(table.schema, table.batches, catalog).await?, table.report, true)
                }
                UsageSource::Dataset(dir) => {
                    if let Some(target) = &args.export_dataset {
                        freight_analytics::dataset::copy_usage(&dir, target)?;
                    }
                    let usage = dir.join(freight_analytics::dataset::USAGE_DIR);
                    (Engine::over_parquet(&usage, catalog).await?, IngestReport::default(), false)
                }
            };
            let band_floors = freight_analytics::grain::band_floors(catalog, &rules.portfolio);
            let (grain, timelines) =
                freight_analytics::grain::scan_with_timelines(&engine, &filters, rules.grain(), band_floors).await?;
            if !priced {
                let models: Vec<String> =
                    grain.models.iter().filter(|m| *m != freight_analytics::grain::UNKNOWN_MODEL).cloned().collect();
                engine.price(catalog, &models).await?;
            }
            freight_analytics::engine::note_time("engine and grain", started);
            let gathered = gathered()?;
            rules.default_identity = gathered.default_identity.clone();
            if let Some(dir) = &args.export_dataset {
                freight_analytics::dataset::write_outcomes(dir, &gathered.outcomes)?;
            }
            let unpriced_models = engine.unpriced_models.clone();
            let source = Computed {
                keep: false,
                engine: Some(&engine),
                unpriced_models,
                grain: &grain,
                timelines: &timelines,
                ingest,
            };
            finish(source, &gathered, &rules, catalog, settings, args, cut, scope).await
        })
    })
}

/// What the thread reading the outcomes returned.
fn joined<T>(gathering: std::thread::ScopedJoinHandle<'_, anyhow::Result<T>>) -> anyhow::Result<T> {
    gathering.join().unwrap_or_else(|_| Err(anyhow::anyhow!("reading the outcomes failed unexpectedly")))
}

/// What reports over one read of the usage at one as-of time share, whatever their period,
/// cut or scope: the grain of every day, its timelines, and the outcomes and org directory.
/// A server keeps one and answers each query from it ([`compute_prepared`]), so a new period
/// does not read ten million calls again.
pub struct Prepared {
    pub as_of: chrono::DateTime<chrono::Utc>,
    pub timezone: String,
    days: freight_analytics::grain::DayGrain,
    /// The table's models the catalog has no price for (the same for every period).
    unpriced_models: Vec<String>,
    /// The outcomes and directory, with the inputs they were read from ([`gather_inputs`]):
    /// read again when those change (a webhook stored, a commit mined).
    gathered: std::sync::Mutex<(String, std::sync::Arc<Gathered>)>,
}

impl Prepared {
    /// The gathered outcomes and directory, read again if their inputs changed.
    fn gathered(&self, args: &OutcomeArgs) -> anyhow::Result<std::sync::Arc<Gathered>> {
        let inputs = gather_inputs(args);
        let mut kept = self.gathered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if kept.0 != inputs {
            *kept = (inputs, std::sync::Arc::new(gather(args, self.as_of.timestamp_millis())?));
        }
        Ok(kept.1.clone())
    }
}

/// [`Prepared`] for `table` at `settings`' as-of time and time zone (its period is ignored:
/// every day is kept).
pub fn prepare(
    table: &UsageTable,
    catalog: &PriceCatalog,
    settings: &ReportSettings,
    args: &OutcomeArgs,
) -> anyhow::Result<Prepared> {
    let rules = rules_of(args, settings)?;
    let filters = Filters { since: None, until: None, ..settings.filters.clone() };
    std::thread::scope(|threads| {
        let gathering = threads.spawn(|| {
            let inputs = gather_inputs(args);
            Ok::<_, anyhow::Error>((inputs, std::sync::Arc::new(gather(args, settings.as_of.timestamp_millis())?)))
        });
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        let (days, unpriced_models) = runtime.block_on(async {
            let engine = Engine::new(table.schema.clone(), table.batches.clone(), catalog).await?;
            let band_floors = freight_analytics::grain::band_floors(catalog, &rules.portfolio);
            let days = freight_analytics::grain::scan_days(&engine, &filters, rules.grain(), band_floors).await?;
            Ok::<_, anyhow::Error>((days, engine.unpriced_models))
        })?;
        let gathered = joined(gathering)?;
        Ok(Prepared {
            as_of: settings.as_of,
            timezone: filters.timezone.clone(),
            days,
            unpriced_models,
            gathered: std::sync::Mutex::new(gathered),
        })
    })
}

/// The report `compute` would give for `table` with these settings, from what `prepared`
/// kept of the same table, as-of time and time zone.
pub fn compute_prepared(
    prepared: &Prepared,
    table: &UsageTable,
    catalog: &PriceCatalog,
    settings: &ReportSettings,
    args: &OutcomeArgs,
    cut: Option<Cut>,
    scope: &Scope,
) -> anyhow::Result<PillarsOutput> {
    if prepared.as_of != settings.as_of || prepared.timezone != settings.filters.timezone {
        bail!(
            "a report prepared as of {} in {} cannot answer one as of {} in {}",
            prepared.as_of,
            prepared.timezone,
            settings.as_of,
            settings.filters.timezone
        );
    }
    // A query engine over the table only for writing facts: the report itself reads the kept
    // days, and the unpriced models were found when they were prepared.
    let runtime = match args.facts_dir {
        Some(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        None => tokio::runtime::Builder::new_current_thread().build()?,
    };
    runtime.block_on(async {
        let engine = match args.facts_dir {
            Some(_) => Some(Engine::new(table.schema.clone(), table.batches.clone(), catalog).await?),
            None => None,
        };
        let started = std::time::Instant::now();
        let (grain, timelines) = prepared.days.period(settings.filters.since, settings.filters.until);
        freight_analytics::engine::note_time("the period's grain", started);
        let gathered = prepared.gathered(args)?;
        let mut rules = rules_of(args, settings)?;
        rules.default_identity = gathered.default_identity.clone();
        let source = Computed {
            keep: true,
            engine: engine.as_ref(),
            unpriced_models: prepared.unpriced_models.clone(),
            grain: &grain,
            timelines: &timelines,
            ingest: table.report.clone(),
        };
        let output = finish(source, &gathered, &rules, catalog, settings, args, cut, scope).await;
        // The period's grain and timelines are freed aside: the answer does not wait for it.
        rayon::spawn(move || drop((grain, timelines)));
        output
    })
}

/// What a report and each of its parts say they cover: when, in which time zone, which days
/// and which part of the organisation.
#[derive(Debug, Clone, Serialize)]
pub struct ReportHeader {
    pub as_of: String,
    pub timezone: String,
    pub since: Option<String>,
    pub until: Option<String>,
    /// The part of the organisation covered, when not all of it.
    #[serde(skip_serializing_if = "Scope::is_everything")]
    pub scope: Scope,
}

impl ReportHeader {
    fn new(settings: &ReportSettings, scope: &Scope) -> ReportHeader {
        let filters = &settings.filters;
        ReportHeader {
            as_of: settings.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            timezone: filters.timezone.clone(),
            since: filters.since.map(|d| d.to_string()),
            until: filters.until.map(|d| d.to_string()),
            scope: scope.clone(),
        }
    }
}

/// The leaderboard part of a report (`GET /api/v1/leaderboard`): the report's header and its
/// ranking of teams, exactly as in [`PillarsOutput`].
#[derive(Debug, Clone, Serialize)]
pub struct LeaderboardOutput {
    #[serde(flatten)]
    pub header: ReportHeader,
    pub leaderboard: Vec<freight_analytics::leaderboard::LeaderboardEntry>,
}

/// The leaderboard of the report `compute_prepared` would give, computed alone (the period's
/// grain, each session's cost and the period's outputs: no links, no detectors, no SQL); the
/// whole report is computed for a scope that names repositories.
pub fn leaderboard_prepared(
    prepared: &Prepared,
    table: &UsageTable,
    catalog: &PriceCatalog,
    settings: &ReportSettings,
    args: &OutcomeArgs,
    scope: &Scope,
) -> anyhow::Result<LeaderboardOutput> {
    let grain = prepared.days.period_grain(settings.filters.since, settings.filters.until);
    let gathered = prepared.gathered(args)?;
    let mut rules = rules_of(args, settings)?;
    rules.default_identity = gathered.default_identity.clone();
    let outputs = gathered.outputs_as_of(rules.as_of)?;
    let window = freight_analytics::pillars::output_window(&settings.filters, rules.as_of)?;
    let started = std::time::Instant::now();
    let alone = freight_analytics::leaderboard::period_leaderboard(
        &grain,
        catalog,
        &gathered.directory,
        &outputs,
        &window,
        &rules,
        scope,
    )?;
    freight_analytics::engine::note_time("the leaderboard alone", started);
    let leaderboard = match alone {
        Some(leaderboard) => leaderboard,
        None => compute_prepared(prepared, table, catalog, settings, args, None, scope)?.report.leaderboard,
    };
    Ok(LeaderboardOutput { header: ReportHeader::new(settings, scope), leaderboard })
}

/// The rules a report runs by, from its flags (the default identity comes with the outcomes).
fn rules_of(args: &OutcomeArgs, settings: &ReportSettings) -> anyhow::Result<Rules> {
    let hours = |h: f64| (h * 3_600_000.0).round() as i64;
    let portfolio = args.portfolio_file()?;
    Ok(Rules {
        as_of: settings.as_of.timestamp_millis(),
        link: LinkRules { grace_ms: hours(args.link_grace_hours), ..LinkRules::default() },
        revert_window_ms: hours(args.revert_window_days * 24.0),
        ship_grace_ms: hours(args.never_shipped_after_days * 24.0),
        default_identity: None,
        min_team_size: args.min_team_size,
        portfolio: portfolio.portfolio,
        marks: portfolio.marks,
        review_rate: args.review_rate,
        default_review_minutes: args.review_minutes,
    })
}

/// The usage side of a report, reduced.
struct Computed<'a> {
    /// Whether what is worked out of the outcomes is kept for later reports (a server's).
    keep: bool,
    /// The query engine over the usage table, for writing the facts (`--facts-dir`).
    engine: Option<&'a Engine>,
    unpriced_models: Vec<String>,
    grain: &'a freight_analytics::grain::Grain,
    timelines: &'a freight_analytics::timeline::Timelines,
    ingest: IngestReport,
}

/// The four pillars from the reduced usage and the gathered outcomes.
#[allow(clippy::too_many_arguments)]
async fn finish(
    usage: Computed<'_>,
    gathered: &Gathered,
    rules: &Rules,
    catalog: &PriceCatalog,
    settings: &ReportSettings,
    args: &OutcomeArgs,
    cut: Option<Cut>,
    scope: &Scope,
) -> anyhow::Result<PillarsOutput> {
    let filters = &settings.filters;
    let outputs = gathered.outputs_as_of(rules.as_of)?;
    let base = gathered.attribution_base(rules, usage.keep);
    let made = pillars_report(
        &base,
        usage.grain,
        filters,
        &gathered.directory,
        &gathered.outcomes,
        &outputs,
        rules,
        catalog,
        cut,
        scope,
        usage.timelines,
        args.facts_dir.is_some(),
    )?;
    if let (Some(dir), Some(facts)) = (&args.facts_dir, &made.facts) {
        let started = std::time::Instant::now();
        let engine = usage.engine.context("writing facts needs the query engine over the usage table")?;
        freight_analytics::pillars::write_facts(engine, facts, filters, rules, dir).await?;
        freight_analytics::engine::note_time("facts written", started);
    }
    let (report, in_scope) = (made.report, made.repos_in_scope);
    Ok(PillarsOutput {
        header: ReportHeader::new(settings, scope),
        report,
        repos: gathered
            .repos
            .iter()
            .filter(|repo| in_scope.as_ref().is_none_or(|names| names.contains(&repo.name)))
            .cloned()
            .collect(),
        unpriced_models: usage.unpriced_models,
        ingest: usage.ingest,
    })
}

/// Generates the demo company (or reuses it) and prints its four-pillar report.
pub fn demo(args: &crate::cli::DemoArgs) -> anyhow::Result<()> {
    let settings = ReportSettings::from_args(&args.report, UsageView::Daily)?;
    let out = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("freight-demo-{}-{}", args.seed, args.lines)),
    };
    let outcome_args = OutcomeArgs {
        facts_dir: args.facts_dir.clone(),
        export_dataset: args.export_dataset.clone(),
        ..demo_company(&out, args.lines, args.seed)?
    };
    let catalog = load_catalog(None)?;
    let table =
        read_logs(log_files(&crate::cli::SourceArgs::default(), &outcome_args)?, false, freight_ingest::Detail::Full)?;
    let output = compute(
        UsageSource::Logs(table),
        &catalog,
        &settings,
        &outcome_args,
        Some(cut(args.cut)),
        &args.scope.scope(),
    )?;
    crate::render::pillars::print(&output, settings.json, settings.export.as_ref())?;
    if !settings.json {
        eprintln!(
            "\nThis was a generated company (its files: {}). On your own work: `freight report` in a git repository (add --by person|repo|model, --json).",
            out.display()
        );
    }
    Ok(())
}

/// Generates the demo company in `out` (or reuses it when current); returns where its logs,
/// repositories, org directory and delivery files are.
pub fn demo_company(out: &Path, lines: u64, seed: u64) -> anyhow::Result<OutcomeArgs> {
    // The company's sessions end a week ago: their follow-up commits, merges and reverts come up
    // to six days later, and a repository has no commits from the future (a report as of now
    // would leave them out, and the server's kept mining would never be current).
    let end = (chrono::Utc::now() - chrono::Duration::days(7)).date_naive();
    let plan = crate::demo::Plan::demo(lines, seed, end);
    let fingerprint = format!("company v6 {}", plan.fingerprint());
    let marker = out.join(".freight-demo-complete");
    if fs_err::read_to_string(&marker).is_ok_and(|text| text == fingerprint) {
        eprintln!("freight: reusing the demo company in {}", out.display());
    } else {
        eprintln!(
            "freight: generating a demo company (agent logs, git repositories, pull requests, tickets) in {}",
            out.display()
        );
        let (summary, truth) = crate::demo::company::generate(&plan, out)?;
        fs_err::write(&marker, &fingerprint)?;
        eprintln!(
            "freight: wrote {} sessions of {} people ({} log lines, {})",
            truth.sessions.len(),
            truth.habits.len(),
            summary.lines,
            crate::render::bytes(summary.bytes)
        );
    }
    let files = crate::demo::company::CompanyFiles::at(out);
    Ok(OutcomeArgs {
        people_dir: Some(files.people.clone()),
        repos: files.repos.clone(),
        org: Some(files.org.clone()),
        pull_files: vec![files.pulls.clone()],
        ticket_files: vec![files.tickets.clone()],
        deploy_files: vec![files.deploys.clone()],
        incident_files: vec![files.incidents.clone()],
        ..OutcomeArgs::default()
    })
}
