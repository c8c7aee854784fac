//! `freight bench local`: times freight's daily report beside ccusage, DuckDB and plain `cat`
//! on the same generated Claude Code logs, several runs each, and prints wall time, throughput
//! and peak memory side by side (peak memory through `/usr/bin/time` when it is installed).

use crate::cli::{BenchArgs, BenchKind, BenchLocalArgs, BenchReportArgs};
use crate::demo::{Plan, generate};
use crate::render::bytes;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.which {
        BenchKind::Local(local) => local_bench(local),
        BenchKind::Report(report) => report_bench(report),
        BenchKind::Ingest(ingest) => crate::commands::bench_ingest::run(ingest),
        BenchKind::Api(api) => crate::commands::bench_api::run(api),
    }
}

/// One contender: a command line, and the environment it needs.
struct Contender {
    name: String,
    program: PathBuf,
    arguments: Vec<String>,
    environment: Vec<(String, PathBuf)>,
    /// What the figures cover, shown under the table.
    note: &'static str,
}

struct Timing {
    name: String,
    seconds: Vec<f64>,
    peak_rss_kib: Option<u64>,
    output: Vec<u8>,
    /// What the last run wrote to stderr (freight's step times, with FREIGHT_TIMINGS=1).
    errors: Vec<u8>,
    note: &'static str,
}

const DUCKDB_SCRIPT: &str = r#"
import duckdb, json, sys
root = sys.argv[1]
con = duckdb.connect()
rows = con.execute(f"""
WITH calls AS (
  SELECT substr(timestamp, 1, 10) AS day, message.model AS model,
         message.usage.input_tokens AS i, message.usage.output_tokens AS o,
         message.usage.cache_creation_input_tokens AS w, message.usage.cache_read_input_tokens AS r,
         row_number() OVER (PARTITION BY message.id, requestId ORDER BY isSidechain, message.usage.output_tokens DESC) AS copy
  FROM read_json('{root}/**/*.jsonl', format = 'newline_delimited', ignore_errors = true,
       columns = {{timestamp: 'VARCHAR', requestId: 'VARCHAR', isSidechain: 'BOOLEAN',
                  message: 'STRUCT(id VARCHAR, model VARCHAR, usage STRUCT(input_tokens BIGINT, output_tokens BIGINT, cache_creation_input_tokens BIGINT, cache_read_input_tokens BIGINT))'}})
  WHERE message.usage IS NOT NULL
)
SELECT day, model, sum(i), sum(o), sum(w), sum(r) FROM calls WHERE copy = 1 GROUP BY 1, 2 ORDER BY 1, 2
""").fetchall()
json.dump([list(row) for row in rows], sys.stdout)
"#;

fn find_ccusage(explicit: Option<&PathBuf>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(path) => vec![path.clone()],
        None => vec![PathBuf::from("node_modules/.bin/ccusage"), PathBuf::from("ccusage")],
    };
    candidates.into_iter().find(|path| {
        Command::new(path)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn python_has_duckdb(python: &str) -> bool {
    Command::new(python)
        .args(["-c", "import duckdb"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn has_gnu_time() -> bool {
    Command::new("/usr/bin/time")
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// One run: wall seconds, peak RSS (KiB) when measurable, stdout and stderr.
type Run = (f64, Option<u64>, Vec<u8>, Vec<u8>);

/// Runs once.
fn run_once(contender: &Contender, scratch: &Path, measure_rss: bool) -> anyhow::Result<Run> {
    let rss_file = scratch.join("rss.txt");
    let mut command = if measure_rss {
        let mut command = Command::new("/usr/bin/time");
        command.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(&contender.program);
        command
    } else {
        Command::new(&contender.program)
    };
    command.args(&contender.arguments).stdin(Stdio::null()).stderr(Stdio::piped()).stdout(Stdio::piped());
    for (key, value) in &contender.environment {
        command.env(key, value);
    }
    let started = Instant::now();
    let output = command.output().with_context(|| format!("running {}", contender.name))?;
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!("{} failed ({}): {}", contender.name, output.status, String::from_utf8_lossy(&output.stderr));
    }
    let rss = if measure_rss {
        fs_err::read_to_string(&rss_file)?.lines().last().and_then(|line| line.trim().parse().ok())
    } else {
        None
    };
    Ok((seconds, rss, output.stdout, output.stderr))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Total tokens in a report, read from each tool's own JSON, to show the tools agree.
fn total_tokens(name: &str, output: &[u8]) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_slice(output).ok()?;
    if name.starts_with("freight") {
        return value["totals"]["tokens"]["total"].as_u64();
    }
    if name.starts_with("ccusage") {
        return value["totals"]["totalTokens"].as_u64();
    }
    if name.starts_with("duckdb") {
        let rows = value.as_array()?;
        return Some(rows.iter().map(|row| (2..6).filter_map(|column| row[column].as_u64()).sum::<u64>()).sum());
    }
    None
}

fn local_bench(args: &BenchLocalArgs) -> anyhow::Result<()> {
    let plan = Plan {
        claude_lines: args.lines,
        claude_sessions: args.sessions,
        codex_lines: 0,
        codex_sessions: 0,
        seed: 1,
        end: NaiveDate::from_ymd_opt(2026, 11, 20).context("bench end date")?,
        variants: false,
    };
    let data = args.dir.join("data");
    let marker = data.join(".freight-bench-complete");
    if fs_err::read_to_string(&marker).ok().as_deref() != Some(plan.fingerprint().as_str()) {
        eprintln!("bench: generating {} lines in {} sessions into {}", args.lines, args.sessions, data.display());
        let summary = generate(&plan, &data)?;
        fs_err::write(&marker, plan.fingerprint())?;
        eprintln!("bench: wrote {} files, {}", summary.claude_files, bytes(summary.bytes));
    }
    let claude = data.join("claude");
    let projects = claude.join("projects");
    let data_bytes: u64 = walk_bytes(&projects);
    let empty_home = args.dir.join("empty-home");
    fs_err::create_dir_all(&empty_home)?;
    let scratch = args.dir.join("scratch");
    fs_err::create_dir_all(&scratch)?;
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());

    let mut contenders = vec![Contender {
        name: "cat (read only)".into(),
        program: "sh".into(),
        arguments: vec![
            "-c".into(),
            format!("find '{}' -name '*.jsonl' -print0 | xargs -0 cat > /dev/null", projects.display()),
        ],
        environment: vec![],
        note: "reads every byte and does nothing else: the floor",
    }];
    contenders.push(Contender {
        name: "freight usage daily".into(),
        program: std::env::current_exe()?,
        arguments: ["usage", "daily", "--json", "--tool", "claude", "--timezone", "UTC", "--claude-dir"]
            .iter()
            .map(ToString::to_string)
            .chain([absolute(&claude).display().to_string()])
            .collect(),
        environment: vec![],
        note: "daily tokens and cost by model, de-duplicated",
    });
    match find_ccusage(args.ccusage.as_ref()) {
        Some(program) => contenders.push(Contender {
            name: "ccusage claude daily".into(),
            program,
            arguments: ["claude", "daily", "--json", "--offline", "--timezone", "UTC"]
                .iter()
                .map(ToString::to_string)
                .collect(),
            environment: vec![("CLAUDE_CONFIG_DIR".into(), absolute(&claude)), ("HOME".into(), absolute(&empty_home))],
            note: "the same report",
        }),
        None => eprintln!("bench: ccusage not found (npm install ccusage@20.0.24, or --ccusage PATH); skipping it"),
    }
    if python_has_duckdb(&args.python) {
        let script = scratch.join("duckdb_daily.py");
        fs_err::write(&script, DUCKDB_SCRIPT)?;
        contenders.push(Contender {
            name: "duckdb (python)".into(),
            program: args.python.clone().into(),
            arguments: vec![script.display().to_string(), absolute(&projects).display().to_string()],
            environment: vec![],
            note: "tokens by day and model, de-duplicated; no pricing",
        });
    } else {
        eprintln!("bench: {} cannot import duckdb (pip install duckdb); skipping it", args.python);
    }

    let measure_rss = has_gnu_time();
    let mut timings = Vec::new();
    for contender in &contenders {
        timings.push(time_runs(contender, args.runs, &scratch, measure_rss)?);
    }

    let table = timings_table(
        &timings,
        ("MiB/s", &|seconds| format!("{:.0}", data_bytes as f64 / 1_048_576.0 / seconds)),
        ("Total tokens", &|timing| total_tokens(&timing.name, &timing.output).map_or("-".into(), |t| t.to_string())),
    );
    let mut stdout = std::io::stdout().lock();
    use std::io::Write;
    writeln!(
        stdout,
        "freight bench local: {} lines, {} files, {} on {} cores; {} runs each (median shown)",
        args.lines,
        args.sessions,
        bytes(data_bytes),
        std::thread::available_parallelism().map_or(1, usize::from),
        args.runs.max(1)
    )?;
    writeln!(stdout, "{table}")?;
    Ok(())
}

fn walk_bytes(root: &Path) -> u64 {
    fn walk(dir: &Path, total: &mut u64) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, total);
            } else if let Ok(meta) = entry.metadata() {
                *total += meta.len();
            }
        }
    }
    let mut total = 0;
    walk(root, &mut total);
    total
}

/// A throughput column: its header and its figure from the median seconds.
type Throughput<'a> = (&'a str, &'a dyn Fn(f64) -> String);
/// A column of what each tool found: its header and its text.
type Finding<'a> = (&'a str, &'a dyn Fn(&Timing) -> String);

/// The side-by-side table of a benchmark: median and best time, throughput, peak memory, what
/// each tool found, and what it does.
fn timings_table(timings: &[Timing], throughput: Throughput<'_>, finding: Finding<'_>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Tool",
        "Median s",
        "Best s",
        throughput.0,
        "Peak RSS MiB",
        finding.0,
        "What it does",
    ]);
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    for timing in timings {
        let median_seconds = median(&timing.seconds);
        let best = timing.seconds.iter().copied().fold(f64::INFINITY, f64::min);
        table.add_row(vec![
            Cell::new(&timing.name),
            right(format!("{median_seconds:.2}")),
            right(format!("{best:.2}")),
            right((throughput.1)(median_seconds)),
            right(timing.peak_rss_kib.map_or("n/a".into(), |kib| format!("{:.0}", kib as f64 / 1024.0))),
            Cell::new((finding.1)(timing)),
            Cell::new(timing.note),
        ]);
    }
    table
}

/// The DuckDB side of `bench report`: the repository's script, built into the binary.
const PILLARS_DUCKDB_SCRIPT: &str = include_str!("../../../../scripts/pillars_duckdb.py");

/// Times one contender `runs` times.
fn time_runs(contender: &Contender, runs: usize, scratch: &Path, measure_rss: bool) -> anyhow::Result<Timing> {
    let mut timing = Timing {
        name: contender.name.clone(),
        seconds: Vec::new(),
        peak_rss_kib: None,
        output: Vec::new(),
        errors: Vec::new(),
        note: contender.note,
    };
    for run in 0..runs.max(1) {
        eprintln!("bench: {} run {}/{}", contender.name, run + 1, runs.max(1));
        let (seconds, rss, output, errors) = run_once(contender, scratch, measure_rss)?;
        timing.seconds.push(seconds);
        timing.peak_rss_kib = timing.peak_rss_kib.max(rss);
        timing.output = output;
        timing.errors = errors;
    }
    Ok(timing)
}

fn report_bench(args: &BenchReportArgs) -> anyhow::Result<()> {
    let end = chrono::DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z")?.timestamp_millis();
    let plan = crate::demo::scale::ScalePlan { events: args.events, outcomes: args.outcomes, seed: 1, end };
    fs_err::create_dir_all(&args.dir)?;
    let marker = args.dir.join(".freight-bench-complete");
    let files = crate::demo::scale::ScaleFiles { dataset: args.dir.join("dataset"), org: args.dir.join("org.toml") };
    if fs_err::read_to_string(&marker).ok().as_deref() != Some(plan.fingerprint().as_str()) {
        eprintln!(
            "bench: generating {} calls of {} people in {} sessions, and {} outcomes, into {}",
            plan.events,
            plan.people(),
            plan.sessions(),
            plan.outcomes,
            args.dir.display()
        );
        let started = Instant::now();
        crate::demo::scale::generate(&plan, &args.dir)?;
        fs_err::write(&marker, plan.fingerprint())?;
        eprintln!("bench: generated in {:.1} s", started.elapsed().as_secs_f64());
    }
    let data_bytes = walk_bytes(&files.dataset);
    let scratch = args.dir.join("scratch");
    let facts = args.dir.join("facts");
    fs_err::create_dir_all(&scratch)?;
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string();
    let freight = Contender {
        name: "freight report".into(),
        program: std::env::current_exe()?,
        arguments: vec![
            "report".into(),
            "--dataset".into(),
            absolute(&files.dataset),
            "--org".into(),
            absolute(&files.org),
            "--as-of".into(),
            "2026-11-20T00:00:00Z".into(),
            "--facts-dir".into(),
            absolute(&facts),
        ],
        environment: vec![("FREIGHT_TIMINGS".into(), "1".into())],
        note: "the whole report: usage reductions and timelines, links, allocation, every pillar, adoption, behaviours, outcome-backed optimizable, tokenmaxxing detectors; writes its facts",
    };
    let measure_rss = has_gnu_time();
    let mut timings = vec![time_runs(&freight, args.runs, &scratch, measure_rss)?];
    if python_has_duckdb(&args.python) {
        let script = scratch.join("pillars_duckdb.py");
        fs_err::write(&script, PILLARS_DUCKDB_SCRIPT)?;
        let duckdb = Contender {
            name: "duckdb (python), same SQL".into(),
            program: args.python.clone().into(),
            arguments: vec![
                script.display().to_string(),
                absolute(&facts),
                "team".into(),
                "--dataset".into(),
                absolute(&files.dataset),
                "--timing".into(),
            ],
            environment: vec![],
            note: "freight's SQL: the session grain and places over the usage files, pillars over freight's facts",
        };
        timings.push(time_runs(&duckdb, args.runs, &scratch, measure_rss)?);
    } else {
        eprintln!("bench: {} cannot import duckdb (pip install duckdb); skipping it", args.python);
    }

    // What each found, to show they agree: sessions and cost from freight's facts and from DuckDB.
    let (freight_sessions, freight_cost) =
        freight_analytics::dataset::sessions_and_cost(&facts.join("session_usage.parquet"))?;
    let found = |timing: &Timing| -> String {
        if timing.name.starts_with("freight") {
            return format!("{freight_sessions} sessions, ${}", freight_cost.round_dp(2));
        }
        let value: serde_json::Value = serde_json::from_slice(&timing.output).unwrap_or_default();
        let cost: rust_decimal::Decimal =
            value["sessions"]["cost"].as_str().and_then(|c| c.parse().ok()).unwrap_or_default();
        format!("{} sessions, ${}", value["sessions"]["count"], cost.round_dp(2))
    };

    let table = timings_table(
        &timings,
        ("Calls/s (M)", &|seconds| format!("{:.1}", args.events as f64 / 1e6 / seconds)),
        ("Found", &found),
    );
    let mut stdout = std::io::stdout().lock();
    use std::io::Write;
    writeln!(
        stdout,
        "freight bench report: {} calls, {} outcomes ({} of Parquet) on {} cores; {} runs each (median shown)",
        args.events,
        args.outcomes,
        bytes(data_bytes),
        std::thread::available_parallelism().map_or(1, usize::from),
        args.runs.max(1)
    )?;
    writeln!(stdout, "{table}")?;
    if let Some(duck) = timings.get(1) {
        let value: serde_json::Value = serde_json::from_slice(&duck.output).unwrap_or_default();
        writeln!(stdout, "DuckDB's own timing of its queries (s): {}", value["seconds"])?;
    }
    writeln!(stdout, "Where freight's last run went (its FREIGHT_TIMINGS steps):")?;
    for line in String::from_utf8_lossy(&timings[0].errors).lines() {
        if let Some(step) = line.strip_prefix("freight: ") {
            writeln!(stdout, "  {step}")?;
        }
    }
    Ok(())
}
