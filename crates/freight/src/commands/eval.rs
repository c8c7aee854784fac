//! `freight eval`: generates a labelled organisation (demo::labelled), reports on it through
//! the same pipeline as `freight report --dataset`, and scores what freight found against what
//! the generator put there: precision and recall of each tokenmaxxing flag, honest heavy users
//! flagged, and the error of the optimizable and wasted figures.

use crate::cli::{EvalArgs, OutcomeArgs, ReportArgs, UsageView, WeekStart};
use crate::commands::report::{PillarsOutput, UsageSource, compute};
use crate::commands::usage::ReportSettings;
use crate::demo::labelled::{self, Labelled, LabelledPlan, Profile};
use crate::render::table::dollars;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use freight_analytics::Scope;
use freight_analytics::pillars::Cut;
use freight_analytics::tokenmaxxing::FlagKind;
use freight_core::{Money, PriceCatalog};
use freight_ingest::{EventRow, events_batch};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The labelled organisation's report time: fixed, so an evaluation is reproducible.
pub const EVAL_AS_OF: &str = "2026-10-01T00:00:00Z";

/// One flag's score.
#[derive(Debug, Clone, Serialize)]
pub struct FlagScore {
    pub flag: &'static str,
    pub labelled: u64,
    pub flagged: u64,
    pub true_positives: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// A figure beside its truth.
#[derive(Debug, Clone, Serialize)]
pub struct FigureError {
    pub figure: &'static str,
    pub truth: Money,
    pub freight: Money,
    /// |freight - truth| / truth.
    pub error: Option<f64>,
}

/// One (task class, tier): the truth's move and freight's.
#[derive(Debug, Clone, Serialize)]
pub struct CellScore {
    pub class: String,
    pub tier: String,
    pub sessions: u64,
    pub true_rate: f64,
    pub measured_rate: Option<f64>,
    pub true_move: Option<String>,
    pub freight_move: Option<String>,
    pub true_saving: Money,
    pub freight_saving: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub seed: u64,
    pub people: u64,
    pub sessions: u64,
    pub calls: u64,
    pub flags: Vec<FlagScore>,
    pub honest_heavy_people: u64,
    pub honest_heavy_flagged: u64,
    pub honest_people_flagged: u64,
    pub figures: Vec<FigureError>,
    pub cells: Vec<CellScore>,
}

/// Writes a labelled organisation as a freight dataset (usage, outcomes) with its org
/// directory and truth.
pub fn write_dataset(labelled: &Labelled, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        // Only an earlier evaluation's folder (or an empty one) is replaced.
        let empty = fs_err::read_dir(dir)?.next().is_none();
        if !empty && !dir.join("truth.json").exists() {
            anyhow::bail!(
                "{}: not empty and not an earlier `freight eval --out` folder; choose another",
                dir.display()
            );
        }
        fs_err::remove_dir_all(dir)?;
    }
    fs_err::create_dir_all(dir)?;
    let mut batches = Vec::new();
    for chunk in labelled.events.chunks(65_536) {
        let rows: Vec<EventRow<'_>> = chunk
            .iter()
            .map(|(event, actions, turn)| EventRow {
                event,
                tool_use: actions.any_tool(),
                actions: Some(*actions),
                turn: *turn,
            })
            .collect();
        batches.push(events_batch(&rows)?);
    }
    freight_analytics::dataset::write_usage(dir, freight_ingest::usage_schema(), &batches)?;
    freight_analytics::dataset::write_outcomes(dir, &labelled.outcomes)?;
    fs_err::write(dir.join("org.toml"), &labelled.org_toml)?;
    fs_err::write(dir.join("truth.json"), serde_json::to_vec_pretty(&labelled.truth)?)?;
    Ok(())
}

fn relative(truth: Money, freight: Money) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    (!truth.is_zero()).then(|| ((freight - truth).abs() / truth).to_f64().unwrap_or(f64::INFINITY))
}

/// Scores a report of the labelled organisation against its truth.
pub fn score(output: &PillarsOutput, labelled: &Labelled, plan: &LabelledPlan) -> Evaluation {
    let truth = &labelled.truth;
    let report = &output.report;
    let profile_of: BTreeMap<&str, Profile> = truth.people.iter().map(|p| (p.person.as_str(), p.profile)).collect();
    let mut flagged: BTreeMap<FlagKind, BTreeSet<&str>> = BTreeMap::new();
    for flag in &report.flags {
        flagged.entry(flag.kind).or_default().insert(flag.person.as_str());
    }
    let flags = FlagKind::ALL
        .iter()
        .map(|&kind| {
            let labelled: BTreeSet<&str> =
                truth.people.iter().filter(|p| p.profile.flag() == Some(kind)).map(|p| p.person.as_str()).collect();
            let found = flagged.get(&kind).cloned().unwrap_or_default();
            let hits = found.intersection(&labelled).count() as u64;
            FlagScore {
                flag: kind.as_str(),
                labelled: labelled.len() as u64,
                flagged: found.len() as u64,
                true_positives: hits,
                precision: (!found.is_empty()).then(|| hits as f64 / found.len() as f64),
                recall: (!labelled.is_empty()).then(|| hits as f64 / labelled.len() as f64),
            }
        })
        .collect();
    let anyone_flagged: BTreeSet<&str> = report.flags.iter().map(|f| f.person.as_str()).collect();
    let count_flagged = |profile: Profile| {
        anyone_flagged.iter().filter(|person| profile_of.get(*person) == Some(&profile)).count() as u64
    };
    let optimizable = &report.optimizable;
    let figures = vec![
        FigureError {
            figure: "optimizable",
            truth: truth.routing + truth.caching + truth.restart,
            freight: optimizable.total,
            error: relative(truth.routing + truth.caching + truth.restart, optimizable.total),
        },
        FigureError {
            figure: "optimizable_routing",
            truth: truth.routing,
            freight: optimizable.routing,
            error: relative(truth.routing, optimizable.routing),
        },
        FigureError {
            figure: "optimizable_caching",
            truth: truth.caching,
            freight: optimizable.caching,
            error: relative(truth.caching, optimizable.caching),
        },
        FigureError {
            figure: "optimizable_restart",
            truth: truth.restart,
            freight: optimizable.restart,
            error: relative(truth.restart, optimizable.restart),
        },
        FigureError {
            figure: "wasted",
            truth: truth.wasted,
            freight: report.total.wasted.total,
            error: relative(truth.wasted, report.total.wasted.total),
        },
        FigureError {
            figure: "cost",
            truth: truth.cost,
            freight: report.total.cost,
            error: relative(truth.cost, report.total.cost),
        },
    ];
    let tier_names = ["frontier", "standard", "economy"];
    let class_name = |class: labelled::Class| {
        serde_json::to_value(class).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    };
    let cells = truth
        .cells
        .iter()
        .map(|cell| {
            let class = class_name(cell.class);
            let measured =
                optimizable.classes.iter().find(|c| c.class.as_str() == class && c.tier == tier_names[cell.tier]);
            CellScore {
                class: class.clone(),
                tier: tier_names[cell.tier].to_string(),
                sessions: cell.sessions,
                true_rate: cell.rate,
                measured_rate: measured.and_then(|m| m.outcome_rate),
                true_move: cell.moved_to.map(|t| tier_names[t].to_string()),
                freight_move: measured.and_then(|m| m.moved_to.clone()),
                true_saving: cell.saving,
                freight_saving: measured.map_or(Money::ZERO, |m| m.saving),
            }
        })
        .collect();
    Evaluation {
        seed: plan.seed,
        people: plan.people,
        sessions: truth.sessions,
        calls: truth.calls,
        flags,
        honest_heavy_people: truth.people.iter().filter(|p| p.profile == Profile::HonestHeavy).count() as u64,
        honest_heavy_flagged: count_flagged(Profile::HonestHeavy),
        honest_people_flagged: count_flagged(Profile::Honest),
        figures,
        cells,
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn table(header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header(header);
    table
}

/// The evaluation as text: the flags' scores, the figures beside their truth, the routing cells.
fn render(evaluation: &Evaluation) -> String {
    let right = |text: String| Cell::new(text).set_alignment(CellAlignment::Right);
    let mut flags = table(vec!["flag", "labelled", "flagged", "correct", "precision", "recall"]);
    for flag in &evaluation.flags {
        flags.add_row(vec![
            Cell::new(flag.flag),
            right(flag.labelled.to_string()),
            right(flag.flagged.to_string()),
            right(flag.true_positives.to_string()),
            right(percent(flag.precision)),
            right(percent(flag.recall)),
        ]);
    }
    let mut figures = table(vec!["figure", "truth", "freight", "error"]);
    for figure in &evaluation.figures {
        figures.add_row(vec![
            Cell::new(figure.figure),
            right(dollars(figure.truth, 0)),
            right(dollars(figure.freight, 0)),
            right(percent(figure.error)),
        ]);
    }
    let mut cells = table(vec![
        "class",
        "tier",
        "sessions",
        "true rate",
        "measured",
        "true move",
        "freight's move",
        "true saving",
        "freight's",
    ]);
    for cell in &evaluation.cells {
        cells.add_row(vec![
            Cell::new(&cell.class),
            Cell::new(&cell.tier),
            right(cell.sessions.to_string()),
            right(format!("{:.3}", cell.true_rate)),
            right(cell.measured_rate.map_or("-".into(), |rate| format!("{rate:.3}"))),
            Cell::new(cell.true_move.as_deref().unwrap_or("-")),
            Cell::new(cell.freight_move.as_deref().unwrap_or("-")),
            right(dollars(cell.true_saving, 0)),
            right(dollars(cell.freight_saving, 0)),
        ]);
    }
    format!(
        "Labelled organisation: seed {}, {} people, {} sessions, {} calls\n{flags}\nHonest heavy users flagged: {} of {}; other honest people flagged: {}\n\nFigures against the generator's truth\n{figures}\n\nRouting: each task class's outcome rate per tier, and where its work moves\n{cells}\n",
        evaluation.seed,
        evaluation.people,
        evaluation.sessions,
        evaluation.calls,
        evaluation.honest_heavy_flagged,
        evaluation.honest_heavy_people,
        evaluation.honest_people_flagged
    )
}

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let catalog = PriceCatalog::pinned()?;
    let end = chrono::DateTime::parse_from_rfc3339(EVAL_AS_OF)?.timestamp_millis();
    let plan = LabelledPlan { seed: args.seed, people: args.people, weeks: args.weeks, end };
    let started = std::time::Instant::now();
    let labelled = labelled::generate(plan, &catalog);
    let dir = match &args.out {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("freight-eval-{}-{}", args.seed, std::process::id())),
    };
    write_dataset(&labelled, &dir)?;
    eprintln!(
        "generated {} calls of {} people in {:.1} s into {}",
        labelled.events.len(),
        plan.people,
        started.elapsed().as_secs_f64(),
        dir.display()
    );
    let report_args = ReportArgs {
        since: None,
        until: None,
        project: None,
        timezone: "UTC".into(),
        breakdown: false,
        json: true,
        csv: false,
        parquet: None,
        table: None,
        start_of_week: WeekStart::Monday,
        as_of: Some(EVAL_AS_OF.into()),
        offline: true,
    };
    let settings = ReportSettings::from_args(&report_args, UsageView::Daily)?;
    let outcome_args = OutcomeArgs {
        dataset: Some(dir.clone()),
        org: Some(dir.join("org.toml")),
        portfolio: args.portfolio.clone(),
        no_survival: true,
        ..OutcomeArgs::default()
    };
    let started = std::time::Instant::now();
    let output = compute(
        UsageSource::Dataset(dir.clone()),
        &catalog,
        &settings,
        &outcome_args,
        Some(Cut::Team),
        &Scope::everything(),
    )?;
    eprintln!("reported in {:.1} s", started.elapsed().as_secs_f64());
    let evaluation = score(&output, &labelled, &plan);
    if args.out.is_none() {
        fs_err::remove_dir_all(&dir)?;
    }
    let text = match args.json {
        true => serde_json::to_string_pretty(&evaluation)? + "\n",
        false => render(&evaluation),
    };
    std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
    Ok(())
}
