//! Level 1, usage done right: who shows up (active people per day and week, seats in use) and
//! where spend is concentrated (the top 1% and 10% of spenders' share of spend, beside their
//! share of output) — shares only, never a list of names.

use crate::grain::Grain;
use crate::pillars::PillarRow;
use freight_core::Money;
use freight_core::org::Directory;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many people were active in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivePeople {
    /// A day (`2026-11-20`) or a week's Monday.
    pub period: String,
    pub people: u64,
}

/// The top spenders' share of spend and of output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concentration {
    /// 0.01 or 0.10.
    pub fraction: f64,
    pub people: u64,
    pub spend_share: f64,
    /// Their share of commits on main and resolved tickets.
    pub output_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adoption {
    pub active_by_day: Vec<ActivePeople>,
    pub active_by_week: Vec<ActivePeople>,
    pub people_with_spend: u64,
    /// People in the org directory (None without one).
    pub seats: Option<u64>,
    /// Of the seats, the share with any agent spend in the period.
    pub seats_in_use: Option<f64>,
    pub concentration: Vec<Concentration>,
}

/// Active people per day and per week (weeks start on Monday), in the filters' time zone: a
/// person is active on a day when a call of one of their sessions falls on it.
fn active_people(
    grain: &Grain,
    directory: &Directory,
    default_identity: Option<&str>,
) -> (Vec<ActivePeople>, Vec<ActivePeople>) {
    // People as numbers (a session's person, resolved once per identity), so a million rows
    // are counted into sets of integers.
    let mut person_ids: foldhash::HashMap<String, u32> = Default::default();
    let mut identities: foldhash::HashMap<&str, u32> = Default::default();
    let people: Vec<u32> = grain
        .sessions
        .iter()
        .map(|session| {
            let identity = session.user.as_deref().or(default_identity).unwrap_or("(unknown)");
            *identities.entry(identity).or_insert_with(|| {
                let person = directory.resolve(identity).person;
                let next = person_ids.len() as u32;
                *person_ids.entry(person).or_insert(next)
            })
        })
        .collect();
    let mut by_day: BTreeMap<i32, foldhash::HashSet<u32>> = BTreeMap::new();
    for row in &grain.rows {
        by_day.entry(row.day).or_default().insert(people[row.session as usize]);
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let mut weeks: BTreeMap<chrono::NaiveDate, foldhash::HashSet<u32>> = BTreeMap::new();
    let mut days = Vec::with_capacity(by_day.len());
    for (day, people) in by_day {
        let date = epoch + chrono::Duration::days(i64::from(day));
        let monday = date - chrono::Duration::days(i64::from(chrono::Datelike::weekday(&date).num_days_from_monday()));
        days.push(ActivePeople { period: date.to_string(), people: people.len() as u64 });
        weeks.entry(monday).or_default().extend(people);
    }
    let weeks = weeks
        .into_iter()
        .map(|(monday, people)| ActivePeople { period: monday.to_string(), people: people.len() as u64 });
    (days, weeks.collect())
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// The top `fraction` of people by spend (at least one), their share of spend and of output.
/// `people` are per-person pillar rows.
pub fn concentration(people: &[PillarRow], fraction: f64) -> Concentration {
    let mut spenders: Vec<&PillarRow> = people.iter().filter(|row| row.cost > Money::ZERO).collect();
    spenders.sort_by(|a, b| b.cost.cmp(&a.cost).then_with(|| a.key.cmp(&b.key)));
    let count =
        ((spenders.len() as f64 * fraction).ceil() as usize).clamp(usize::from(!spenders.is_empty()), spenders.len());
    let dollars = |row: &PillarRow| freight_core::money::to_f64(row.cost);
    let output = |row: &PillarRow| row.output.commits + row.output.tickets;
    let total_spend: f64 = spenders.iter().map(|r| dollars(r)).sum();
    let total_output: f64 = people.iter().map(output).sum();
    let top = &spenders[..count];
    Concentration {
        fraction,
        people: count as u64,
        spend_share: ratio(top.iter().map(|r| dollars(r)).sum(), total_spend),
        output_share: ratio(top.iter().map(|r| output(r)).sum(), total_output),
    }
}

/// Level 1 for the report's period. `people` are the per-person pillar rows.
pub fn adoption(
    grain: &Grain,
    directory: &Directory,
    default_identity: Option<&str>,
    people: &[PillarRow],
) -> Adoption {
    let (active_by_day, active_by_week) = active_people(grain, directory, default_identity);
    let with_spend = people.iter().filter(|row| row.calls > 0).count() as u64;
    let seats = (!directory.is_empty()).then(|| directory.people().len() as u64);
    let known_with_spend = people
        .iter()
        .filter(|row| row.calls > 0 && directory.people().iter().any(|person| person.id == row.key))
        .count() as f64;
    Adoption {
        active_by_day,
        active_by_week,
        people_with_spend: with_spend,
        seats,
        seats_in_use: seats.map(|seats| ratio(known_with_spend, seats as f64)),
        concentration: vec![concentration(people, 0.01), concentration(people, 0.10)],
    }
}

impl Adoption {
    /// Seats counted within a scope: the directory's people it admits.
    pub fn scope_seats(&mut self, directory: &Directory, scope: &crate::Scope, people: &[PillarRow]) {
        if directory.is_empty() {
            return;
        }
        let admitted: Vec<&str> = directory
            .people()
            .iter()
            .filter(|person| scope.admits_member(&directory.resolve(&person.id)))
            .map(|person| person.id.as_str())
            .collect();
        let in_use = people.iter().filter(|row| row.calls > 0 && admitted.contains(&row.key.as_str())).count();
        self.seats = Some(admitted.len() as u64);
        self.seats_in_use = Some(ratio(in_use as f64, admitted.len() as f64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pillars::Output;

    fn person(key: &str, cost: i64, commits: f64) -> PillarRow {
        PillarRow {
            key: key.into(),
            cost: Money::from(cost),
            calls: 1,
            output: Output { commits, ..Output::default() },
            ..PillarRow::default()
        }
    }

    #[test]
    fn the_top_spenders_share_is_set_beside_their_output() {
        let mut people: Vec<PillarRow> = (0..18).map(|i| person(&format!("p{i:02}"), 10, 5.0)).collect();
        people.push(person("heavy-a", 500, 0.0));
        people.push(person("heavy-b", 400, 1.0));
        let top = concentration(&people, 0.10);
        assert_eq!(top.people, 2);
        assert!((top.spend_share - 900.0 / 1080.0).abs() < 1e-9);
        assert!((top.output_share - 1.0 / 91.0).abs() < 1e-9);
        let one = concentration(&people, 0.01);
        assert_eq!(one.people, 1, "at least one person");
        assert!(concentration(&[], 0.1).spend_share == 0.0);
    }
}
