//! The table form of a usage report (comfy-table), with a totals row; numbers right-aligned,
//! thousands separated, costs in dollars to the cent.

use super::{Body, Report};
use crate::cli::UsageView;
use chrono::DateTime;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use freight_analytics::UsageGroup;
use freight_analytics::blocks::Block;
use freight_core::{Money, TokenCounts};

/// 1234567 → "1,234,567".
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Dollars to the cent; "+" marks a cost that leaves out calls with no price.
pub fn dollars(cost: Money, unpriced_calls: u64) -> String {
    let rounded = cost.round_dp(2);
    let text = format!("${rounded:.2}");
    if unpriced_calls > 0 { format!("{text} +?") } else { text }
}

pub fn number(value: u64) -> Cell {
    Cell::new(thousands(value)).set_alignment(CellAlignment::Right)
}

pub fn money_cell(cost: Money, unpriced_calls: u64) -> Cell {
    Cell::new(dollars(cost, unpriced_calls)).set_alignment(CellAlignment::Right)
}

fn token_cells(tokens: &TokenCounts) -> Vec<Cell> {
    vec![
        number(tokens.input),
        number(tokens.output),
        number(tokens.cache_write()),
        number(tokens.cache_read),
        number(tokens.total()),
    ]
}

fn new_table(header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    table
}

fn short_model(model: &str) -> String {
    model.strip_prefix("claude-").unwrap_or(model).to_string()
}

fn groups_table(report: &Report, groups: &[UsageGroup]) -> Table {
    let first = match report.view {
        UsageView::Daily => "Date",
        UsageView::Weekly => "Week of",
        UsageView::Monthly => "Month",
        _ => "Session",
    };
    let mut header = vec![first];
    if report.view == UsageView::Session {
        header.extend(["Project", "Last activity"]);
    }
    header.extend(["Models", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost (USD)"]);
    let mut table = new_table(header);
    let mut total = TokenCounts::default();
    let mut total_cost = Money::ZERO;
    let mut total_unpriced = 0;
    for group in groups {
        let mut row = vec![Cell::new(&group.key)];
        if report.view == UsageView::Session {
            row.push(Cell::new(group.project.as_deref().unwrap_or("-")));
            row.push(Cell::new(local_time(group.last_ms, &report.timezone)));
        }
        let models: Vec<String> = group.models.iter().map(|line| short_model(&line.model)).collect();
        row.push(Cell::new(models.join("\n")));
        row.extend(token_cells(&group.tokens));
        row.push(money_cell(group.cost, group.unpriced_calls));
        table.add_row(row);
        if report.breakdown {
            for line in &group.models {
                let mut row = vec![Cell::new(format!("  └ {}", short_model(&line.model)))];
                if report.view == UsageView::Session {
                    row.extend([Cell::new(""), Cell::new("")]);
                }
                row.push(Cell::new(""));
                row.extend(token_cells(&line.tokens));
                row.push(money_cell(line.cost, line.unpriced_calls));
                table.add_row(row);
            }
        }
        total += group.tokens;
        total_cost += group.cost;
        total_unpriced += group.unpriced_calls;
    }
    let mut row = vec![Cell::new("Total")];
    if report.view == UsageView::Session {
        row.extend([Cell::new(""), Cell::new("")]);
    }
    row.push(Cell::new(""));
    row.extend(token_cells(&total));
    row.push(money_cell(total_cost, total_unpriced));
    table.add_row(row);
    table
}

fn local_time(millis: Option<i64>, timezone: &str) -> String {
    let Some(at) = millis.and_then(DateTime::from_timestamp_millis) else {
        return "-".into();
    };
    match timezone.parse::<chrono_tz::Tz>() {
        Ok(zone) => at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn blocks_table(report: &Report, blocks: &[Block]) -> Table {
    let mut table = new_table(vec!["Block start", "Status", "Models", "Calls", "Total tokens", "Cost (USD)"]);
    for block in blocks {
        let status = if block.is_gap {
            format!("gap {}h", (block.end_ms - block.start_ms) / 3_600_000)
        } else if block.is_active {
            "ACTIVE".to_string()
        } else {
            let minutes = (block.last_call_ms - block.start_ms) / 60_000;
            format!("{}h {:02}m", minutes / 60, minutes % 60)
        };
        let models: Vec<String> = block.models.iter().map(|model| short_model(model)).collect();
        table.add_row(vec![
            Cell::new(local_time(Some(block.start_ms), &report.timezone)),
            Cell::new(status),
            Cell::new(models.join("\n")),
            number(block.calls),
            number(block.tokens.total()),
            money_cell(block.cost, block.unpriced_calls),
        ]);
    }
    table
}

pub fn report(report: &Report) -> String {
    let (title, table) = match &report.body {
        Body::Groups(groups) => {
            let title = match report.view {
                UsageView::Daily => "daily",
                UsageView::Weekly => "weekly",
                UsageView::Monthly => "monthly",
                _ => "by session",
            };
            (title, groups_table(report, groups))
        }
        Body::Blocks(blocks) => ("5-hour blocks", blocks_table(report, blocks)),
    };
    let ingest = &report.ingest;
    format!(
        "Token usage and cost, {title} ({}; {} calls from {} files)\n{table}",
        report.timezone,
        thousands(ingest.events),
        thousands(ingest.files)
    )
}
