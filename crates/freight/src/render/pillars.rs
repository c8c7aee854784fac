//! The four-pillar report as tables (rows per cut, then waste line items, links and the rules
//! applied) or as one JSON document.

use super::table::{dollars, money_cell, number, thousands};
use crate::commands::report::PillarsOutput;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use freight_analytics::attribution::Fate;
use freight_analytics::pillars::{PillarRow, WasteItem};
use freight_core::Money;
use freight_core::link::OutcomeRef;
use std::io::Write;

/// How many waste items the table shows (JSON has them all).
const SHOWN_WASTE_ITEMS: usize = 10;

pub fn print(output: &PillarsOutput, as_json: bool, export: Option<&super::Export>) -> anyhow::Result<()> {
    if let Some(export) = export {
        return export.write(&serde_json::to_value(output)?, "rows");
    }
    let mut stdout = std::io::stdout().lock();
    if as_json {
        serde_json::to_writer_pretty(&mut stdout, output)?;
        writeln!(stdout)?;
    } else {
        writeln!(stdout, "{}", render(output))?;
        if !output.unpriced_models.is_empty() {
            eprintln!(
                "note: no price for {}; their calls are left out of cost (add them with --prices)",
                output.unpriced_models.join(", ")
            );
        }
        if output.ingest.malformed_lines > 0 {
            eprintln!("note: {} malformed log lines were skipped", output.ingest.malformed_lines);
        }
    }
    Ok(())
}

fn share(part: Money, whole: Money) -> String {
    if whole.is_zero() {
        return "-".into();
    }
    format!("{:.0}%", (part / whole * Money::from(100)).round_dp(0))
}

fn right(text: String) -> Cell {
    Cell::new(text).set_alignment(CellAlignment::Right)
}

fn count(value: f64) -> Cell {
    if value.fract() == 0.0 { number(value as u64) } else { right(format!("{value:.1}")) }
}

fn optional_money(value: Option<Money>) -> Cell {
    right(value.map_or_else(|| "-".into(), |v| dollars(v, 0)))
}

fn row_cells(row: &PillarRow) -> Vec<Cell> {
    vec![
        Cell::new(&row.key),
        number(row.people),
        number(row.sessions),
        right(format!("{}M", thousands(row.tokens.total() / 1_000_000))),
        money_cell(row.cost, row.unpriced_calls),
        money_cell(row.wasted.total, 0),
        right(share(row.wasted.total, row.cost)),
        money_cell(row.pending_cost, 0),
        money_cell(row.optimizable_cost, 0),
        count(row.output.commits),
        count(row.output.ai_commits),
        count(row.output.merged_prs),
        count(row.output.tickets),
        number(row.output.surviving_ai_lines),
        optional_money(row.unit.cost_per_commit),
        right(row.unit.outcomes_per_dollar.map_or_else(|| "-".into(), |v| format!("{v:.3}"))),
    ]
}

fn outcome_text(item: &WasteItem) -> String {
    match &item.outcome {
        Some(OutcomeRef::Commit { repo, sha }) => {
            let revert = item
                .reverted_by
                .as_deref()
                .map(|r| format!(" (reverted by {})", &r[..r.len().min(10)]))
                .unwrap_or_default();
            format!("{repo}@{}{revert}", &sha[..sha.len().min(10)])
        }
        Some(OutcomeRef::PullRequest { repo, number }) => format!("{repo}#{number}"),
        None => "(no outcome)".into(),
    }
}

fn fate_text(fate: Fate) -> &'static str {
    match fate {
        Fate::Rejected => "rejected PR",
        Fate::Reverted => "reverted commit",
        Fate::NeverShipped => "never shipped",
        Fate::Shipped => "shipped",
        Fate::Pending => "pending",
    }
}

fn share_cell(value: Option<f64>) -> Cell {
    right(value.map_or_else(|| "-".into(), |v| format!("{:.0}%", v * 100.0)))
}

/// Level 2: each team's habits, and how widely each habit has spread.
fn behaviours(behaviours: &freight_analytics::behaviours::Behaviours) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(vec![
        "team",
        "cache reads",
        "context p50",
        "context p90",
        "restarted",
        "frontier routine",
        "verified",
        "edits rejected",
        "shipped",
    ]);
    let rows = if behaviours.by_person.is_empty() { &behaviours.by_team } else { &behaviours.by_person };
    for figures in rows.iter().chain([&behaviours.total]) {
        table.add_row(vec![
            Cell::new(&figures.key),
            share_cell(figures.cache_read_share),
            right(figures.context_median.map_or_else(|| "-".into(), thousands)),
            right(figures.context_p90.map_or_else(|| "-".into(), thousands)),
            share_cell(figures.restart_clean_share),
            share_cell(figures.frontier_routine_share),
            share_cell(figures.verified_share),
            share_cell(figures.edit_rejection_rate),
            share_cell(figures.outcome_share),
        ]);
    }
    let mut text = format!(
        "\nBehaviours: how well people use their agents (--json has definitions, trends and spreads)\n{table}\n"
    );
    let spread: Vec<String> = behaviours
        .spread
        .iter()
        .filter(|spread| spread.team == "all")
        .map(|spread| format!("{} {}/{}", spread.habit, spread.practising, spread.people))
        .collect();
    if !spread.is_empty() {
        text.push_str(&format!("  people practising each habit: {}\n", spread.join(" · ")));
    }
    text
}

/// Tokenmaxxing flags, most severe first.
fn flags(flags: &[freight_analytics::tokenmaxxing::Flag]) -> String {
    if flags.is_empty() {
        return "\nTokenmaxxing flags: none\n".into();
    }
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(vec!["flag", "severity", "person", "team", "cost", "evidence"]);
    for flag in flags.iter().take(SHOWN_WASTE_ITEMS) {
        table.add_row(vec![
            Cell::new(flag.kind.as_str()),
            Cell::new(format!("{:?}", flag.severity).to_lowercase()),
            Cell::new(&flag.person),
            Cell::new(&flag.team),
            money_cell(flag.cost, 0),
            Cell::new(&flag.summary),
        ]);
    }
    format!(
        "\nTokenmaxxing flags ({} of {}; evidence in --json; never part of a ranking)\n{table}\n",
        flags.len().min(SHOWN_WASTE_ITEMS),
        flags.len()
    )
}

pub fn render(output: &PillarsOutput) -> String {
    let report = &output.report;
    let mut text = String::new();
    let period = match (&output.header.since, &output.header.until) {
        (None, None) => "all time".to_string(),
        (since, until) => format!("{} to {}", since.as_deref().unwrap_or("start"), until.as_deref().unwrap_or("now")),
    };
    text.push_str(&format!("Four pillars, {period}, as of {} ({})\n", output.header.as_of, output.header.timezone));
    let total = &report.total;
    text.push_str(&format!(
        "  tokens consumed {} ({} calls, {} sessions) · cost {} · wasted {} ({}) · shipped {} · pending {}\n",
        thousands(total.tokens.total()),
        thousands(total.calls),
        thousands(total.sessions),
        dollars(total.cost, total.unpriced_calls),
        dollars(total.wasted.total, 0),
        share(total.wasted.total, total.cost),
        dollars(total.shipped_cost, 0),
        dollars(total.pending_cost, 0),
    ));
    text.push_str(&format!(
        "  wasted: rejected PRs {} · reverted commits {} · never shipped {}\n",
        dollars(total.wasted.rejected, 0),
        dollars(total.wasted.reverted, 0),
        dollars(total.wasted.never_shipped, 0),
    ));
    if let Some(double) = &report.double_billed {
        text.push_str(&format!(
            "  double-billed: {} of review time ({:.1} h at {}/h) on {} rejected AI pull requests, on top of their tokens\n",
            dollars(double.amount, 0),
            double.hours,
            dollars(double.hourly_rate, 0),
            double.pull_requests.len()
        ));
    }
    let optimizable = &report.optimizable;
    text.push_str(&format!(
        "  optimizable: {} (routing to a cheaper tier that ships as well {} · caching repeated context {} · restarting bloated conversations {}; assumptions below)\n",
        dollars(optimizable.total, 0),
        dollars(optimizable.routing, 0),
        dollars(optimizable.caching, 0),
        dollars(optimizable.restart, 0),
    ));
    let out = &total.output;
    text.push_str(&format!(
        "  output: {} commits on main ({} AI-assisted, {} of their {} lines surviving, {} reworked within the window, {} deployed) · {} merged PRs · {} tickets · {} deploys ({} failed) · {} incidents · {} other outcomes\n",
        out.commits,
        out.ai_commits,
        thousands(out.surviving_ai_lines),
        thousands(out.ai_lines_added),
        thousands(out.reworked_ai_lines),
        out.deployed_ai_commits,
        out.merged_prs,
        out.tickets,
        out.deploys,
        out.failed_deploys,
        out.incidents,
        out.other_outcomes
    ));
    let unit = &total.unit;
    let each = |value: Option<Money>| value.map_or_else(|| "-".into(), |v| dollars(v, 0));
    text.push_str(&format!(
        "  unit economics: {} per merged PR · {} per commit · {} per surviving line · {} per ticket · {} outcomes per $\n\n",
        each(unit.cost_per_merged_pr),
        each(unit.cost_per_commit),
        each(unit.cost_per_surviving_line),
        each(unit.cost_per_ticket),
        unit.outcomes_per_dollar.map_or_else(|| "-".into(), |v| format!("{v:.3}")),
    ));

    if let Some(cut) = report.cut {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header(vec![
            cut.column(),
            "people",
            "sessions",
            "tokens",
            "cost",
            "wasted",
            "waste %",
            "pending",
            "optimizable",
            "commits",
            "AI commits",
            "merged PRs",
            "tickets",
            "surviving AI lines",
            "cost/commit",
            "outcomes/$",
        ]);
        for row in &report.rows {
            table.add_row(row_cells(row));
        }
        table.add_row(row_cells(total));
        text.push_str(&format!("{table}\n"));
    }

    if !report.waste.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header(vec!["wasted on", "what", "cost", "sessions"]);
        for item in report.waste.iter().take(SHOWN_WASTE_ITEMS) {
            let sessions = item.sessions.iter().map(|s| &s[..s.len().min(12)]).collect::<Vec<_>>().join(", ");
            table.add_row(vec![
                Cell::new(fate_text(item.fate)),
                Cell::new(outcome_text(item)),
                money_cell(item.amount, 0),
                Cell::new(sessions),
            ]);
        }
        text.push_str(&format!(
            "\nLargest waste items ({} of {}; all in --json)\n{table}\n",
            report.waste.len().min(SHOWN_WASTE_ITEMS),
            report.waste.len()
        ));
    }
    if !report.leaderboard.is_empty() {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header(vec![
            "rank",
            "team",
            "people",
            "sessions",
            "cost",
            "outcomes",
            "outcomes/$",
            "95% interval",
            "note",
        ]);
        for entry in &report.leaderboard {
            table.add_row(vec![
                right(entry.rank.map_or_else(|| "-".into(), |rank| rank.to_string())),
                Cell::new(&entry.team),
                number(entry.people),
                number(entry.sessions),
                money_cell(entry.cost, 0),
                count(entry.outcomes),
                right(entry.outcomes_per_dollar.map_or_else(|| "-".into(), |v| format!("{v:.3}"))),
                right(entry.interval.map_or_else(|| "-".into(), |(low, high)| format!("{low:.3}–{high:.3}"))),
                Cell::new(entry.not_ranked.as_deref().unwrap_or("")),
            ]);
        }
        text.push_str(&format!(
            "\nTeam leaderboard: outcomes (commits on main + tickets) per dollar of agent spend\n{table}\n"
        ));
    }
    let adoption = &report.adoption;
    let seats = match (adoption.seats, adoption.seats_in_use) {
        (Some(seats), Some(in_use)) => format!(" of {seats} seats ({:.0}% in use)", in_use * 100.0),
        _ => String::new(),
    };
    let weeks: Vec<String> = adoption.active_by_week.iter().map(|w| format!("{} {}", w.period, w.people)).collect();
    text.push_str(&format!(
        "\nUsage: {} people with agent spend{seats}; active people by week (from Monday): {}\n",
        adoption.people_with_spend,
        if weeks.is_empty() { "-".into() } else { weeks.join(", ") }
    ));
    for top in &adoption.concentration {
        text.push_str(&format!(
            "  the top {:.0}% of spenders ({} {}) spent {:.0}% and produced {:.0}% of the output\n",
            top.fraction * 100.0,
            top.people,
            if top.people == 1 { "person" } else { "people" },
            top.spend_share * 100.0,
            top.output_share * 100.0
        ));
    }
    text.push_str(&behaviours(&report.behaviours));
    text.push_str(&flags(&report.flags));
    let links = &report.links;
    text.push_str(&format!(
        "\nLinks: {} of {} sessions linked to outcomes ({} exact links, {} heuristic{})\n",
        links.linked_sessions,
        links.sessions,
        links.exact_links,
        links.heuristic_links,
        links.heuristic_confidence.map_or_else(String::new, |c| format!(", mean confidence {c:.2}")),
    ));
    let rules = &report.rules;
    text.push_str(&format!(
        "Rules: {}. Reverted within {} days is waste; no outcome {} days after the last call is never shipped; commits up to {} h after a session may be its work. Outcomes are {}.\n",
        rules.allocation, rules.revert_window_days, rules.never_shipped_after_days, rules.link_grace_hours, rules.outcomes
    ));
    for assumption in &report.optimizable.assumptions {
        text.push_str(&format!("Optimizable, assumed: {assumption}.\n"));
    }
    for repo in &output.repos {
        text.push_str(&format!(
            "Repository {}: {} commits on {} ({})\n",
            repo.name, repo.commits, repo.branch, repo.path
        ));
    }
    text
}
