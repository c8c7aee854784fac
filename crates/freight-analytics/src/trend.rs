//! Spend beside output, week by week: the picture of spend rising while output stays flat.
//! Spend is counted in the week of its calls (the grain's local days); wasted spend in the week
//! its session ended; outputs in the week they happened (commit on main, PR merged, ticket
//! resolved), from the same `outputs` facts the pillars sum.

use crate::attribution::Attribution;
use crate::columns;
use crate::engine::AnalyticsError;
use crate::grain::Grain;
use chrono::{Datelike, NaiveDate};
use freight_core::{Money, PriceCatalog};
use serde::Serialize;
use std::collections::BTreeMap;

/// One week (Monday to Sunday, in the report's time zone).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The Monday the week starts on.
    pub week: NaiveDate,
    pub cost: Money,
    pub wasted: Money,
    pub calls: u64,
    pub commits: f64,
    pub ai_commits: f64,
    pub merged_prs: f64,
    pub tickets: f64,
    /// Commits on main plus resolved tickets, as the leaderboard counts them.
    pub outcomes: f64,
    pub outcomes_per_dollar: Option<f64>,
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// The weekly series. `outputs` is the (scoped) `outputs` fact table.
pub fn weekly_trend(
    grain: &Grain,
    catalog: &PriceCatalog,
    attribution: &Attribution,
    outputs: &datafusion::arrow::array::RecordBatch,
    timezone: &str,
) -> Result<Vec<TrendPoint>, AnalyticsError> {
    let zone: chrono_tz::Tz = timezone.parse().map_err(|_| AnalyticsError::TimeZone(timezone.to_string()))?;
    let local_day =
        |millis: i64| chrono::DateTime::from_timestamp_millis(millis).map(|utc| utc.with_timezone(&zone).date_naive());
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut weeks: BTreeMap<NaiveDate, TrendPoint> = BTreeMap::new();
    fn week(weeks: &mut BTreeMap<NaiveDate, TrendPoint>, day: NaiveDate) -> &mut TrendPoint {
        let monday = monday_of(day);
        weeks.entry(monday).or_insert_with(|| TrendPoint { week: monday, ..TrendPoint::default() })
    }
    for (row, cost) in grain.rows.iter().zip(crate::attribution::grain_costs(grain, catalog)) {
        let day = epoch + chrono::Duration::days(i64::from(row.day));
        let point = week(&mut weeks, day);
        point.cost += cost.unwrap_or_default();
        point.calls += row.calls;
    }
    for share in attribution.shares.iter().filter(|share| share.fate.is_waste()) {
        if let Some(day) = local_day(attribution.sessions[share.session].last_ts) {
            week(&mut weeks, day).wasted += share.amount;
        }
    }
    let (kinds, times) = (columns::strings(outputs, "kind")?, columns::millis(outputs, "at")?);
    let quantities = columns::floats(outputs, "quantity")?;
    let ai = columns::bools(outputs, "ai")?;
    for row in 0..outputs.num_rows() {
        let (Some(kind), Some(at)) = (kinds[row].as_deref(), times[row]) else { continue };
        let Some(day) = local_day(at) else { continue };
        let quantity = quantities[row].unwrap_or(0.0);
        let point = week(&mut weeks, day);
        match kind {
            "commit" => {
                point.commits += quantity;
                if ai[row] {
                    point.ai_commits += quantity;
                }
            }
            "merged_pr" => point.merged_prs += quantity,
            "ticket" => point.tickets += quantity,
            _ => {}
        }
    }
    Ok(weeks
        .into_values()
        .map(|mut point| {
            point.outcomes = point.commits + point.tickets;
            let dollars = freight_core::money::to_f64(point.cost);
            point.outcomes_per_dollar = (dollars > 0.0).then(|| point.outcomes / dollars);
            point
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
        assert_eq!(monday_of(day(23)), day(23), "a Monday is its own week");
        assert_eq!(monday_of(day(29)), day(23), "Sunday belongs to the week before it");
        assert_eq!(monday_of(day(30)), day(30));
    }
}
