//! `freight usage` and `freight demo`: find the logs, ingest them with progress, price them,
//! and print the chosen view as a table or JSON.

use crate::cli::{ReportArgs, SourceArgs, ToolFilter, UsageArgs, UsageView, WeekStart};
use crate::render::{self, Report};
use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use freight_analytics::{Engine, Filters, Grouping, blocks, usage_report};
use freight_core::{PriceCatalog, Tool};
use freight_ingest::collect::collect;
use freight_ingest::table::into_table;
use freight_ingest::{Detail, IngestOptions, Locations, SourceFile, UsageTable, discover};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

pub fn run(args: &UsageArgs) -> anyhow::Result<()> {
    let settings = ReportSettings::from_args(&args.report, args.view)?;
    if let Some(store) = &args.sources.store {
        let catalog = load_catalog(args.sources.prices.as_ref())?;
        let report = build_report(crate::commands::store::usage_table(store)?, &catalog, &settings)?;
        return render::print(&report, settings.json, settings.export.as_ref());
    }
    let files = find_files(&args.sources);
    if files.is_empty() {
        bail!(
            "no agent logs found (looked in: {}); point --claude-dir or --codex-dir at them, or try `freight demo`",
            searched_places(&args.sources).join(", ")
        );
    }
    // The catalog is read beside the logs: nothing needs it before the report.
    let (catalog, table) = std::thread::scope(|scope| {
        let catalog = scope.spawn(|| {
            let started = std::time::Instant::now();
            let catalog = load_catalog(args.sources.prices.as_ref());
            freight_analytics::engine::note_time("price catalog read", started);
            catalog
        });
        let table = read_logs(files, args.sources.strict, Detail::Usage);
        (catalog.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), table)
    });
    let (catalog, table) = (catalog?, table?);
    let started = std::time::Instant::now();
    let report = build_report(table, &catalog, &settings)?;
    freight_analytics::engine::note_time("report built", started);
    let started = std::time::Instant::now();
    render::print(&report, settings.json, settings.export.as_ref())?;
    freight_analytics::engine::note_time("report printed", started);
    Ok(())
}

/// Validated report options.
pub struct ReportSettings {
    pub view: UsageView,
    pub filters: Filters,
    pub breakdown: bool,
    pub json: bool,
    /// `--csv` / `--parquet`: a table of the report instead of the report.
    pub export: Option<crate::render::Export>,
    pub week_start: Weekday,
    pub as_of: DateTime<Utc>,
}

impl ReportSettings {
    pub fn from_args(args: &ReportArgs, view: UsageView) -> anyhow::Result<ReportSettings> {
        freight_analytics::usage::check_timezone(&args.timezone)?;
        let since = args.since.as_deref().map(|text| parse_day(text, "--since")).transpose()?;
        let until = args.until.as_deref().map(|text| parse_day(text, "--until")).transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            bail!("--since {since} is after --until {until}");
        }
        let as_of = match &args.as_of {
            Some(text) => DateTime::parse_from_rfc3339(text)
                .with_context(|| format!("--as-of `{text}` is not an RFC 3339 time such as 2026-11-22T09:00:00Z"))?
                .with_timezone(&Utc),
            None => Utc::now(),
        };
        Ok(ReportSettings {
            view,
            filters: Filters {
                timezone: args.timezone.clone(),
                since,
                until,
                project: args.project.clone(),
                tool: None,
            },
            breakdown: args.breakdown,
            json: args.json,
            export: crate::render::Export::from_args(args)?,
            week_start: weekday(args.start_of_week),
            as_of,
        })
    }
}

fn weekday(start: WeekStart) -> Weekday {
    match start {
        WeekStart::Sunday => Weekday::Sun,
        WeekStart::Monday => Weekday::Mon,
        WeekStart::Tuesday => Weekday::Tue,
        WeekStart::Wednesday => Weekday::Wed,
        WeekStart::Thursday => Weekday::Thu,
        WeekStart::Friday => Weekday::Fri,
        WeekStart::Saturday => Weekday::Sat,
    }
}

/// Reads `YYYYMMDD` (ccusage's form) or `YYYY-MM-DD`.
pub fn parse_day(text: &str, flag: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .with_context(|| format!("{flag} `{text}` is not a date (use YYYYMMDD or YYYY-MM-DD)"))
}

fn locations(sources: &SourceArgs) -> Locations {
    let defaults = Locations::from_environment();
    Locations {
        claude_dirs: if sources.claude_dirs.is_empty() { defaults.claude_dirs } else { sources.claude_dirs.clone() },
        codex_dirs: if sources.codex_dirs.is_empty() { defaults.codex_dirs } else { sources.codex_dirs.clone() },
    }
}

fn searched_places(sources: &SourceArgs) -> Vec<String> {
    let places = locations(sources);
    let mut shown = Vec::new();
    if sources.tool != ToolFilter::Codex {
        shown.extend(places.claude_dirs.iter().map(|dir| dir.display().to_string()));
    }
    if sources.tool != ToolFilter::Claude {
        shown.extend(places.codex_dirs.iter().map(|dir| dir.display().to_string()));
    }
    shown
}

/// The log files at the chosen locations, for the chosen tools.
pub fn find_files(sources: &SourceArgs) -> Vec<SourceFile> {
    let wanted = |tool: Tool| match sources.tool {
        ToolFilter::All => true,
        ToolFilter::Claude => tool == Tool::ClaudeCode,
        ToolFilter::Codex => tool == Tool::Codex,
    };
    discover(&locations(sources)).into_iter().filter(|file| wanted(file.tool)).collect()
}

/// The pinned catalog, with the user's overrides on top.
pub fn load_catalog(overrides: Option<&PathBuf>) -> anyhow::Result<PriceCatalog> {
    let mut catalog = PriceCatalog::pinned().context("reading the embedded price catalog")?;
    if let Some(path) = overrides {
        let text = fs_err::read_to_string(path)?;
        catalog
            .apply_overrides(&text, &path.display().to_string())
            .with_context(|| format!("price overrides in {}", path.display()))?;
    }
    Ok(catalog)
}

/// Ingests the files, reading `detail` of each call, with a progress bar on stderr (hidden
/// when stderr is not a terminal).
pub fn read_logs(files: Vec<SourceFile>, strict: bool, detail: Detail) -> anyhow::Result<UsageTable> {
    let total: u64 = files.iter().map(|file| file.bytes).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "reading logs {bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = |bytes: u64| bar.inc(bytes);
    let started = std::time::Instant::now();
    let collected = collect(files, &IngestOptions { strict, detail, progress: &progress });
    freight_analytics::engine::note_time("logs read", started);
    let started = std::time::Instant::now();
    let table = collected.and_then(into_table);
    freight_analytics::engine::note_time("usage batches built", started);
    bar.finish_and_clear();
    Ok(table?)
}

/// Prices the table and computes the view.
pub fn build_report(table: UsageTable, catalog: &PriceCatalog, settings: &ReportSettings) -> anyhow::Result<Report> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let ingest = table.report.clone();
        let engine = Engine::new(table.schema, table.batches, catalog).await?;
        let body = match settings.view {
            UsageView::Blocks => {
                let blocks =
                    blocks::blocks_report(&engine, &settings.filters, settings.as_of.timestamp_millis()).await?;
                render::Body::Blocks(blocks)
            }
            view => {
                let grouping = match view {
                    UsageView::Daily => Grouping::Daily,
                    UsageView::Weekly => Grouping::Weekly(settings.week_start),
                    UsageView::Monthly => Grouping::Monthly,
                    _ => Grouping::Session,
                };
                render::Body::Groups(usage_report(&engine, grouping, &settings.filters).await?)
            }
        };
        Ok(Report {
            view: settings.view,
            timezone: settings.filters.timezone.clone(),
            breakdown: settings.breakdown,
            body,
            unpriced_models: engine.unpriced_models.clone(),
            ingest,
            catalog: catalog.sources.iter().map(|source| source.description.clone()).collect(),
        })
    })
}
