//! `freight bench api`: the report API over a store of N events. Generates the scale dataset
//! (as `bench report` does), loads its calls into an event store through the store's own
//! append path, starts `freight serve` on it (outcomes from the dataset, teams from its org
//! directory), and times from a client on loopback: the first report (the server reads the
//! store), reports for queries not asked before (computed), the same again (served from the
//! cache), and the dashboard's first load.

use crate::cli::BenchApiArgs;
use anyhow::{Context, bail};
use comfy_table::Table;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const AS_OF: &str = "2026-11-20T00:00:00Z";

/// One GET on a fresh connection: status, body length, seconds.
fn get(port: u16, path: &str) -> anyhow::Result<(u16, usize, f64)> {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let seconds = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&answer[..answer.len().min(64)]).to_string();
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    if status != 200 {
        bail!("GET {path} answered {status}: {}", String::from_utf8_lossy(&answer));
    }
    Ok((status, answer.len(), seconds))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(serde::Serialize)]
struct Measured {
    what: String,
    requests: usize,
    p50_ms: f64,
    p95_ms: f64,
    max_ms: f64,
}

fn measure(what: &str, mut latencies: Vec<f64>) -> Measured {
    latencies.sort_by(f64::total_cmp);
    Measured {
        what: what.into(),
        requests: latencies.len(),
        p50_ms: percentile(&latencies, 50.0) * 1000.0,
        p95_ms: percentile(&latencies, 95.0) * 1000.0,
        max_ms: latencies.last().copied().unwrap_or(f64::NAN) * 1000.0,
    }
}

/// Loads the dataset's calls into a store at `store_dir` (kept between runs).
fn load_store(dataset: &Path, store_dir: &Path, fingerprint: &str) -> anyhow::Result<u64> {
    let marker = store_dir.join(".freight-bench-store");
    if fs_err::read_to_string(&marker).ok().as_deref() == Some(fingerprint) {
        let manifest = freight_store::Manifest::load(store_dir)?;
        return Ok(manifest.files.iter().map(|file| file.rows).sum());
    }
    if store_dir.exists() {
        fs_err::remove_dir_all(store_dir)?;
    }
    fs_err::create_dir_all(store_dir)?;
    let store = freight_store::Store::open(store_dir, freight_store::StoreOptions::default())?;
    let files = freight_analytics::dataset::usage_files(dataset)?;
    let bar = indicatif::ProgressBar::new(files.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("loading the store {bar:30} {pos}/{len} files ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut stored, mut ordinal) = (0u64, 0u64);
    let started = Instant::now();
    for file in files {
        for batch in freight_analytics::dataset::read_parquet(&file)? {
            for chunk in (0..batch.num_rows()).step_by(50_000) {
                let part = batch.slice(chunk, (batch.num_rows() - chunk).min(50_000));
                let events = crate::commands::store::stored_events(&part, ordinal)?;
                ordinal += part.num_rows() as u64;
                let appended = store
                    .append(events)
                    .blocking_recv()
                    .map_err(|_| anyhow::anyhow!("the store stopped while loading"))??;
                stored += appended.stored as u64;
            }
        }
        bar.inc(1);
    }
    store.close();
    bar.finish_and_clear();
    eprintln!(
        "bench: stored {stored} events in {:.1} s ({:.0} events/s, through the WAL and flushed)",
        started.elapsed().as_secs_f64(),
        stored as f64 / started.elapsed().as_secs_f64()
    );
    fs_err::write(&marker, fingerprint)?;
    Ok(stored)
}

/// Peak resident memory of a process (Linux), in MiB.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn run(args: &BenchApiArgs) -> anyhow::Result<()> {
    let end = chrono::DateTime::parse_from_rfc3339(AS_OF)?.timestamp_millis();
    let plan = crate::demo::scale::ScalePlan { events: args.events, outcomes: args.outcomes, seed: 1, end };
    fs_err::create_dir_all(&args.dir)?;
    let dataset = args.dir.join("dataset");
    let org = args.dir.join("org.toml");
    let marker = args.dir.join(".freight-bench-complete");
    if fs_err::read_to_string(&marker).ok().as_deref() != Some(plan.fingerprint().as_str()) {
        eprintln!("bench: generating {} calls and {} outcomes into {}", plan.events, plan.outcomes, args.dir.display());
        crate::demo::scale::generate(&plan, &args.dir)?;
        fs_err::write(&marker, plan.fingerprint())?;
    }
    let store_dir = args.dir.join("store");
    let events = load_store(&dataset, &store_dir, &plan.fingerprint())?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let config = args.dir.join("freight.toml");
    let absolute = |path: &Path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    fs_err::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ngrpc = false\ndata_dir = {:?}\n[org]\ndirectory = {:?}\noutcomes_dataset = {:?}\nmine_interval_secs = 0\n[api]\ncache_secs = 3600\n",
            absolute(&store_dir),
            absolute(&org),
            absolute(&dataset),
        ),
    )?;
    let mut server = Command::new(std::env::current_exe()?)
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting freight serve")?;
    let result = (|| -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while get(port, "/health").is_err() {
            if Instant::now() > deadline {
                bail!("freight serve did not come up on port {port}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut results = Vec::new();
        let first = get(port, &format!("/api/v1/report?as_of={AS_OF}"))?;
        results.push(measure("first report (reads the store, computes)", vec![first.2]));

        // Queries not asked before: each is computed (the store's read is kept).
        let days: Vec<String> =
            (1..=args.queries).map(|day| format!("2026-{:02}-{:02}", 8 + (day - 1) / 28, 1 + (day - 1) % 28)).collect();
        let mut cold_report = Vec::new();
        let mut cold_board = Vec::new();
        for day in &days {
            cold_report.push(get(port, &format!("/api/v1/report?as_of={AS_OF}&since={day}&cut=person"))?.2);
            cold_board.push(get(port, &format!("/api/v1/leaderboard?as_of={AS_OF}&since={day}&until=2026-11-19"))?.2);
        }
        results.push(measure("report, a query not asked before", cold_report));
        results.push(measure("leaderboard, a query not asked before", cold_board));

        // The same queries again: served from the cache.
        let mut warm_report = Vec::new();
        let mut warm_board = Vec::new();
        for round in 0..args.repeats {
            let day = &days[round % days.len()];
            warm_report.push(get(port, &format!("/api/v1/report?as_of={AS_OF}&since={day}&cut=person"))?.2);
            warm_board.push(get(port, &format!("/api/v1/leaderboard?as_of={AS_OF}&since={day}&until=2026-11-19"))?.2);
        }
        results.push(measure("report, asked before (cache)", warm_report));
        results.push(measure("leaderboard, asked before (cache)", warm_board));

        // The dashboard: its page, script, style and chart library, then the report it asks for.
        let load = |what: &str| -> anyhow::Result<Measured> {
            let started = Instant::now();
            for asset in ["/", "/assets/app.js", "/assets/style.css", "/assets/chart.umd.min.js"] {
                get(port, asset)?;
            }
            get(port, "/api/v1/report?cut=team")?;
            Ok(measure(what, vec![started.elapsed().as_secs_f64()]))
        };
        results.push(load("dashboard first load (its report computed at start)")?);
        results.push(load("dashboard load again (report cached)")?);
        let started = Instant::now();
        get(port, "/api/v1/report?cut=team&since=2026-10-23")?;
        results.push(measure("dashboard, a period not shown before (computed)", vec![started.elapsed().as_secs_f64()]));
        let rss = peak_rss_mib(server.id());

        if args.json {
            let document = serde_json::json!({ "events": events, "outcomes": plan.outcomes, "server_peak_rss_mib": rss, "results": results });
            #[allow(clippy::print_stdout)]
            {
                println!("{}", serde_json::to_string_pretty(&document)?);
            }
        } else {
            let mut table = Table::new();
            table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
            table.set_header(["request", "n", "p50 ms", "p95 ms", "max ms"]);
            for row in &results {
                table.add_row([
                    row.what.clone(),
                    row.requests.to_string(),
                    format!("{:.1}", row.p50_ms),
                    format!("{:.1}", row.p95_ms),
                    format!("{:.1}", row.max_ms),
                ]);
            }
            #[allow(clippy::print_stdout)]
            {
                println!("{table}");
                println!(
                    "{events} stored events, {} outcomes; server peak RSS {}",
                    plan.outcomes,
                    rss.map_or("unknown".into(), |mib| format!("{mib:.0} MiB"))
                );
            }
        }
        Ok(())
    })();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    result
}
