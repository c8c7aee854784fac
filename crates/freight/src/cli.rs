//! Command-line arguments as typed (clap); `commands/` turns them into validated settings.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "freight",
    version,
    about = "What your AI spend bought: usage and cost from agent logs, joined with outcomes."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The four pillars: tokens and cost, wasted cost, actual output and unit economics, per
    /// team (or person, cost centre, repo, tool, model), from agent logs joined with git history
    /// and delivery events.
    Report(Box<PillarArgs>),
    /// Token usage and cost from local agent logs (Claude Code, Codex CLI), ccusage-style.
    Usage(UsageArgs),
    /// Generate a demo company (people, agent logs, git repositories, pull requests, tickets)
    /// and show its four-pillar report.
    Demo(DemoArgs),
    /// Score the behaviour passes: generate a labelled organisation (honest people, heavy users
    /// who ship, and each tokenmaxxing behaviour injected), report on it, and print each flag's
    /// precision and recall and the error of the optimizable and wasted figures.
    Eval(EvalArgs),
    /// Generate realistic agent log sets (for tests, benchmarks, demos).
    Generate(GenerateArgs),
    /// Benchmarks that time freight beside its peers on the same data.
    Bench(BenchArgs),
    /// Agent and git hooks that write the session id into commits (exact links).
    Hook(HookArgs),
    /// Run the server: the OTLP/HTTP receiver and GitHub webhooks in front of the event store.
    Serve(ServeArgs),
    /// Look into an event store (a server's data dir).
    Store(StoreArgs),
    /// API tokens of a server's data dir: create (shown once, kept hashed), list, revoke.
    Token(TokenArgs),
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub kind: TokenKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Everything.
    Admin,
    /// Every team's figures; per-person figures only with --per-person.
    Finance,
    /// The figures of the teams named with --team, people within them included.
    TeamLead,
    /// The figures of the person named with --person.
    Engineer,
    /// Sends telemetry, webhooks and outcome files; reads nothing.
    Ingest,
}

#[derive(Debug, Subcommand)]
pub enum TokenKind {
    /// Makes a token and prints it (once: only its hash is kept).
    Create {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Who or what it is for (shown by `list`).
        #[arg(long, default_value = "")]
        name: String,
        /// With --role team-lead: a team it may read (repeatable).
        #[arg(long = "team", value_name = "TEAM")]
        teams: Vec<String>,
        /// With --role engineer: whose figures it reads (the org directory's person id).
        #[arg(long)]
        person: Option<String>,
        /// With --role finance: per-person figures too.
        #[arg(long)]
        per_person: bool,
    },
    /// The tokens (ids, names, roles; never the secrets).
    List {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Removes a token; requests with it are refused from then on.
    Revoke {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server's TOML config (docs/SERVER.md); without one, defaults: 127.0.0.1:4318, ./freight-data.
    #[arg(long, value_name = "FILE", env = crate::env::FREIGHT_CONFIG)]
    pub config: Option<PathBuf>,
    /// Where the event store lives (overrides the config's `data_dir`).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// OTLP/HTTP listen address (overrides the config's `listen`).
    #[arg(long, value_name = "ADDR")]
    pub otlp_http: Option<std::net::SocketAddr>,
    /// OTLP/gRPC listen address (overrides the config's `grpc_listen`).
    #[arg(long, value_name = "ADDR", conflicts_with = "no_grpc")]
    pub otlp_grpc: Option<std::net::SocketAddr>,
    /// No OTLP/gRPC listener.
    #[arg(long)]
    pub no_grpc: bool,
    /// Load the demo company's usage into the store first (generated on first use).
    #[arg(long)]
    pub demo: bool,
    /// With --demo: about how many log lines the company has (tests use small ones).
    #[arg(long, default_value_t = 200_000, hide = true)]
    pub demo_lines: u64,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub kind: StoreKind,
}

#[derive(Debug, Subcommand)]
pub enum StoreKind {
    /// Every stored usage event, flushed or not, as NDJSON (works while the server runs).
    Dump {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// The token-usage metrics the agents sent beside their events, compared with the events,
    /// per tool, model and token kind: where the two disagree, events were lost or doubled
    /// upstream (or a client sends one and not the other).
    Check {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Relative difference above which a row is flagged.
        #[arg(long, default_value_t = 0.01)]
        tolerance: f64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub kind: HookKind,
    /// A recorded session older than this is not written into commits.
    #[arg(long, default_value_t = 2.0, global = true)]
    pub max_age_hours: f64,
}

#[derive(Debug, Subcommand)]
pub enum HookKind {
    /// Called by a Claude Code hook (PostToolUse, Stop) with its JSON on stdin: records the
    /// session as the one at work in the repository around its cwd.
    Claude,
    /// Called by git's prepare-commit-msg hook: appends `Freight-Session: <id>` for the
    /// session at work.
    PrepareCommitMsg { message_file: PathBuf, source: Option<String>, sha: Option<String> },
    /// Writes the git hook into a repository and prints the Claude Code settings to add.
    Install {
        #[arg(long)]
        repo: Option<PathBuf>,
        /// Replace an existing prepare-commit-msg hook.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageView {
    Daily,
    Weekly,
    Monthly,
    Session,
    Blocks,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ToolFilter {
    #[default]
    All,
    Claude,
    Codex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeekStart {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    /// daily, weekly, monthly, session or blocks (5-hour billing windows).
    #[arg(value_enum, default_value = "daily")]
    pub view: UsageView,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Where the logs are.
#[derive(Debug, Args, Clone, Default)]
pub struct SourceArgs {
    /// Claude Code config dir (holding `projects/`) or a `projects/` dir; repeatable.
    /// Default: $CLAUDE_CONFIG_DIR (comma-separated), else ~/.config/claude and ~/.claude.
    #[arg(long = "claude-dir", value_name = "DIR")]
    pub claude_dirs: Vec<PathBuf>,
    /// Codex home (holding `sessions/`); repeatable. Default: $CODEX_HOME, else ~/.codex.
    #[arg(long = "codex-dir", value_name = "DIR")]
    pub codex_dirs: Vec<PathBuf>,
    /// Which agents' logs to read.
    #[arg(long, value_enum, default_value = "all")]
    pub tool: ToolFilter,
    /// Fail on the first malformed line instead of counting and reporting it.
    #[arg(long)]
    pub strict: bool,
    /// TOML file of price overrides (LiteLLM field names; see docs/PRICING.md).
    #[arg(long, value_name = "FILE", env = crate::env::FREIGHT_PRICES)]
    pub prices: Option<PathBuf>,
    /// Read usage from a server's event store (its data dir, flushed and unflushed events)
    /// instead of agent logs.
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
}

/// What to show and how.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// First day to include (YYYYMMDD or YYYY-MM-DD, in --timezone).
    #[arg(long, short = 's', value_name = "DATE")]
    pub since: Option<String>,
    /// Last day to include (YYYYMMDD or YYYY-MM-DD, in --timezone).
    #[arg(long, short = 'u', value_name = "DATE")]
    pub until: Option<String>,
    /// Only this project (Claude Code's folder name under projects/).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// IANA time zone for days, weeks and months.
    #[arg(long, short = 'z', default_value = "UTC", env = crate::env::FREIGHT_TIMEZONE)]
    pub timezone: String,
    /// Per-model lines under each period.
    #[arg(long, short = 'b')]
    pub breakdown: bool,
    /// JSON instead of tables (schema: docs/JSON.md).
    #[arg(long, short = 'j')]
    pub json: bool,
    /// One of the report's tables as CSV on stdout (see --table).
    #[arg(long, conflicts_with_all = ["json", "parquet"])]
    pub csv: bool,
    /// One of the report's tables written to FILE as Parquet (see --table).
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    pub parquet: Option<PathBuf>,
    /// Which table --csv and --parquet write: rows, unit, leaderboard, waste, links or
    /// optimizable for `report`; periods, sessions or blocks for `usage` (default: the main one).
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// First day of a week for `weekly`.
    #[arg(long, value_enum, default_value = "sunday")]
    pub start_of_week: WeekStart,
    /// The time the report is computed as of (RFC 3339); decides which block is active.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Accepted for ccusage compatibility: freight never fetches prices.
    #[arg(long, short = 'O', hide = true)]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CutArg {
    Team,
    Person,
    CostCentre,
    Repo,
    Tool,
    Model,
}

/// Where outcomes and people come from, and the rules that settle them.
#[derive(Debug, Args, Clone)]
pub struct OutcomeArgs {
    /// People known from a store's telemetry (their OTLP team), added where the org directory
    /// does not list them.
    #[arg(skip)]
    pub telemetry_people: Vec<freight_core::org::PersonEntry>,
    /// Set from `--store`: the store whose kept mining results are read when current.
    #[arg(skip)]
    pub mined_in: Option<PathBuf>,
    /// Logs collected from several people: a folder per person, each holding `claude/` (or
    /// `.claude/`) and `codex/` (or `.codex/`). Their files are tagged with the folder's name.
    #[arg(long, value_name = "DIR")]
    pub people_dir: Option<PathBuf>,
    /// A git repository whose main branch holds the shipped work; repeatable. Default: the
    /// repository around the current directory, if any.
    #[arg(long = "repo", value_name = "PATH")]
    pub repos: Vec<PathBuf>,
    /// The branch that counts as shipped (default: main, master, then the remote's).
    #[arg(long)]
    pub branch: Option<String>,
    /// Org directory (TOML with [[person]] tables, or CSV person,email,team,cost_centre).
    #[arg(long, value_name = "FILE", env = crate::env::FREIGHT_ORG)]
    pub org: Option<PathBuf>,
    /// Pull requests: CSV, or GitHub `pull_request` webhook payloads as NDJSON; repeatable.
    #[arg(long = "prs", value_name = "FILE")]
    pub pull_files: Vec<PathBuf>,
    /// Resolved tickets (CSV: id, team, resolved_at, weight); repeatable.
    #[arg(long = "tickets", value_name = "FILE")]
    pub ticket_files: Vec<PathBuf>,
    /// Deployments: CSV (repo, sha, environment, status, at, creator), or GitHub
    /// `deployment_status` payloads as NDJSON; repeatable.
    #[arg(long = "deploys", value_name = "FILE")]
    pub deploy_files: Vec<PathBuf>,
    /// Incidents (CSV: id, repo, team, opened_at, resolved_at, caused_by); repeatable.
    #[arg(long = "incidents", value_name = "FILE")]
    pub incident_files: Vec<PathBuf>,
    /// Other outcome events (CSV: kind, person or team, at, value, unit); repeatable.
    #[arg(long = "outcomes", value_name = "FILE")]
    pub outcome_files: Vec<PathBuf>,
    /// A commit reverted within this many days counts as wasted spend.
    #[arg(long, default_value_t = OutcomeArgs::REVERT_WINDOW_DAYS)]
    pub revert_window_days: f64,
    /// A session with no outcome this many days after its last call never shipped.
    #[arg(long, default_value_t = OutcomeArgs::NEVER_SHIPPED_AFTER_DAYS)]
    pub never_shipped_after_days: f64,
    /// A commit this many hours after a session's last call may still be its work.
    #[arg(long, default_value_t = OutcomeArgs::LINK_GRACE_HOURS)]
    pub link_grace_hours: f64,
    /// Lines of an AI-assisted commit rewritten or deleted within this many days are rework.
    #[arg(long, default_value_t = OutcomeArgs::REWORK_DAYS)]
    pub rework_days: f64,
    /// Skip blaming files for surviving lines (faster on large histories).
    #[arg(long)]
    pub no_survival: bool,
    /// Read a freight dataset (usage and outcomes as Parquet files, docs/DATASET.md) instead of
    /// agent logs; outcomes from the other options are added to its own.
    #[arg(long, value_name = "DIR")]
    pub dataset: Option<PathBuf>,
    /// Also write what the report read (usage and outcomes) as a freight dataset here.
    #[arg(long, value_name = "DIR")]
    pub export_dataset: Option<PathBuf>,
    /// Also write the report's fact tables (Parquet) and its SQL here, for other engines.
    #[arg(long, value_name = "DIR")]
    pub facts_dir: Option<PathBuf>,
    /// Cost people's time reviewing rejected AI pull requests at this rate (USD per hour).
    #[arg(long, value_name = "USD")]
    pub review_rate: Option<rust_decimal::Decimal>,
    /// Review time of a rejected pull request when its file gives none.
    #[arg(long, default_value_t = 60)]
    pub review_minutes: u64,
    /// Teams with fewer people are shown on the leaderboard but not ranked.
    #[arg(long, default_value_t = freight_analytics::leaderboard::MIN_TEAM_SIZE)]
    pub min_team_size: u64,
    /// The model portfolio (tiers, tolerance) and the tokenmaxxing detectors' marks: TOML with
    /// `[portfolio]`, `[[portfolio.tiers]]` and `[marks]` (docs/BEHAVIOURS.md).
    #[arg(long, value_name = "FILE")]
    pub portfolio: Option<PathBuf>,
}

impl OutcomeArgs {
    pub const REVERT_WINDOW_DAYS: f64 = 14.0;
    pub const NEVER_SHIPPED_AFTER_DAYS: f64 = 7.0;
    pub const LINK_GRACE_HOURS: f64 = 2.0;
    pub const REWORK_DAYS: f64 = 14.0;
}

impl Default for OutcomeArgs {
    fn default() -> OutcomeArgs {
        OutcomeArgs {
            telemetry_people: Vec::new(),
            mined_in: None,
            people_dir: None,
            repos: Vec::new(),
            branch: None,
            org: None,
            pull_files: Vec::new(),
            ticket_files: Vec::new(),
            outcome_files: Vec::new(),
            deploy_files: Vec::new(),
            incident_files: Vec::new(),
            revert_window_days: OutcomeArgs::REVERT_WINDOW_DAYS,
            never_shipped_after_days: OutcomeArgs::NEVER_SHIPPED_AFTER_DAYS,
            link_grace_hours: OutcomeArgs::LINK_GRACE_HOURS,
            no_survival: false,
            rework_days: OutcomeArgs::REWORK_DAYS,
            dataset: None,
            export_dataset: None,
            facts_dir: None,
            review_rate: None,
            review_minutes: 60,
            min_team_size: freight_analytics::leaderboard::MIN_TEAM_SIZE,
            portfolio: None,
        }
    }
}

impl OutcomeArgs {
    /// The portfolio and marks `--portfolio` names, or the defaults.
    pub fn portfolio_file(&self) -> anyhow::Result<freight_analytics::optimizable::PortfolioFile> {
        let Some(path) = &self.portfolio else { return Ok(Default::default()) };
        let text = fs_err::read_to_string(path)?;
        freight_analytics::optimizable::PortfolioFile::parse(&text, &path.display().to_string())
            .map_err(anyhow::Error::msg)
    }
}

#[derive(Debug, Args)]
pub struct PillarArgs {
    /// What the rows are: team, person, cost-centre, repo, tool or model.
    #[arg(long = "by", value_enum, default_value = "team")]
    pub cut: CutArg,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub sources: SourceArgs,
    #[command(flatten)]
    pub outcomes: OutcomeArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Which part of the organisation the report covers (each flag repeatable; none: all of it).
/// Applied after attribution, so a filtered report's figures equal the matching rows of the
/// whole report.
#[derive(Debug, Args, Clone, Default)]
pub struct ScopeArgs {
    /// Only these teams (as the org directory names them).
    #[arg(long = "team", value_name = "TEAM")]
    pub teams: Vec<String>,
    /// Only these people (directory ids, or identities the directory does not list).
    #[arg(long = "person", value_name = "PERSON")]
    pub people: Vec<String>,
    /// Only these cost centres.
    #[arg(long = "cost-centre", value_name = "CENTRE")]
    pub cost_centres: Vec<String>,
    /// Only work in these repositories (by name, as the report names them).
    #[arg(long = "repo-name", value_name = "NAME")]
    pub repo_names: Vec<String>,
    /// Only these agents (claude-code, codex, gemini-cli, genai).
    #[arg(long = "agent", value_name = "TOOL")]
    pub tools: Vec<String>,
    /// Only these models (outputs, which have no model, are then left out).
    #[arg(long = "model", value_name = "MODEL")]
    pub models: Vec<String>,
}

impl ScopeArgs {
    pub fn scope(&self) -> freight_analytics::Scope {
        let set = |values: &Vec<String>| (!values.is_empty()).then(|| values.iter().cloned().collect());
        freight_analytics::Scope {
            teams: set(&self.teams),
            people: set(&self.people),
            cost_centres: set(&self.cost_centres),
            repos: set(&self.repo_names),
            tools: set(&self.tools),
            models: set(&self.models),
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the demo company (default: a folder under the system temp dir).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// About how many lines of Claude Code logs to generate (sessions scale with it).
    #[arg(long, default_value_t = 200_000)]
    pub lines: u64,
    /// What the rows are: team, person, cost-centre, repo, tool or model.
    #[arg(long = "by", value_enum, default_value = "team")]
    pub cut: CutArg,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Also write the report's fact tables (Parquet) and its SQL here, for other engines.
    #[arg(long, value_name = "DIR")]
    pub facts_dir: Option<PathBuf>,
    /// Also write the company's usage and outcomes as a freight dataset (Parquet) here.
    #[arg(long, value_name = "DIR")]
    pub export_dataset: Option<PathBuf>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Seed of the generated organisation (7 is the one the detectors were developed on).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(long, default_value_t = 160)]
    pub people: u64,
    /// Weeks of activity.
    #[arg(long, default_value_t = 8)]
    pub weeks: u64,
    /// Keep the generated dataset (usage, outcomes, org.toml, truth.json) here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Portfolio and detector marks to evaluate (see `report --portfolio`).
    #[arg(long, value_name = "FILE")]
    pub portfolio: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Claude,
    Codex,
    Both,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder: Claude logs go to OUT/claude/projects, Codex logs to OUT/codex/sessions.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Claude Code lines to write (Codex gets a fifth as many with --format both).
    #[arg(long, default_value_t = 100_000)]
    pub lines: u64,
    /// Number of Claude Code session files.
    #[arg(long)]
    pub sessions: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "both")]
    pub format: GenerateFormat,
    /// Include the rare variants too: malformed lines, unpriced models, API errors, fast mode.
    #[arg(long)]
    pub variants: bool,
    /// Last day of activity (YYYY-MM-DD); sessions spread over the 30 days before it.
    #[arg(long, default_value = "2026-11-20")]
    pub end: String,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: BenchKind,
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// freight vs ccusage vs DuckDB vs `cat` on the same generated Claude Code logs.
    Local(BenchLocalArgs),
    /// freight report vs DuckDB running the same SQL over a generated dataset (Parquet) of
    /// many calls and outcomes.
    Report(BenchReportArgs),
    /// OTLP/HTTP ingest into `freight serve` with durability on: events/s and ack latency.
    Ingest(BenchIngestArgs),
    /// The report API over a store of many events: latency of reports computed and cached,
    /// and the dashboard's first load.
    Api(BenchApiArgs),
}

#[derive(Debug, Args)]
pub struct BenchApiArgs {
    /// Where the dataset and the store go (kept between runs; rebuilt when the plan changes).
    #[arg(long, default_value = "target/bench-api")]
    pub dir: PathBuf,
    /// Events in the store.
    #[arg(long, default_value_t = 10_000_000)]
    pub events: u64,
    /// Commits, pull requests, deploys, tickets, incidents and other outcome events together.
    #[arg(long, default_value_t = 100_000)]
    pub outcomes: u64,
    /// Distinct queries of each endpoint (each computed once).
    #[arg(long, default_value_t = 10)]
    pub queries: u64,
    /// Requests of each endpoint answered from the cache.
    #[arg(long, default_value_t = 200)]
    pub repeats: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Events to send in all.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: u64,
    /// Log records per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// OTLP JSON instead of protobuf.
    #[arg(long)]
    pub json: bool,
    /// The server's data dir (default: a fresh folder under the temp dir, removed after).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchReportArgs {
    /// Where the dataset goes (kept between runs; regenerated when the plan changes).
    #[arg(long, default_value = "target/bench-report")]
    pub dir: PathBuf,
    /// Model calls in the usage files.
    #[arg(long, default_value_t = 100_000_000)]
    pub events: u64,
    /// Commits, pull requests, deploys, tickets, incidents and other outcome events together.
    #[arg(long, default_value_t = 1_000_000)]
    pub outcomes: u64,
    /// Timed runs of each contender (the median is reported).
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Python with the duckdb package (default: python3).
    #[arg(long, default_value = "python3")]
    pub python: String,
}

#[derive(Debug, Args)]
pub struct BenchLocalArgs {
    /// Where the data set goes (kept between runs; regenerated if missing).
    #[arg(long, default_value = "target/bench-local")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    #[arg(long, default_value_t = 200)]
    pub sessions: u64,
    /// Timed runs of each tool (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// ccusage binary (default: node_modules/.bin/ccusage, then `ccusage` on PATH).
    #[arg(long)]
    pub ccusage: Option<PathBuf>,
    /// Python with the duckdb package (default: python3).
    #[arg(long, default_value = "python3")]
    pub python: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_and_flag_is_well_formed() {
        // Clap checks names, ids and conflicts only when a command is parsed in a debug build;
        // this parses none and checks them all.
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
