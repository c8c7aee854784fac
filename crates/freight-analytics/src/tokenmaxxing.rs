//! Tokenmaxxing detection: usage gamed as a target. Six detectors, each flag with its evidence
//! (the figures that crossed a mark, and the marks), a severity and the sessions to look at:
//! idle or looping agents, machine-like cadence, high spend with no outcome over weeks,
//! frontier models on trivial work at volume, output counts inflated by split pull requests or
//! trivial tickets, and one account used from many machines at once. Flags sit in their own
//! report section; they never change a ranking.

use crate::attribution::{Attribution, Outcomes};
use crate::behaviours::SessionHabits;
use crate::grain::Grain;
use crate::optimizable::Portfolio;
use crate::routing::TaskClass;
use crate::timeline::{Call, Timeline, Timelines};
use foldhash::HashMap;
use freight_core::org::Directory;
use freight_core::{Money, PriceCatalog, Speed};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// Long runs of calls with no edit or commit, the same tool call over and over.
    IdleLoop,
    /// Requests too regular to be a person at work, or activity around the clock.
    MachineCadence,
    /// Usage among the highest, and nothing shipped over weeks.
    SpendNoOutcome,
    /// Frontier models on one-line questions, at volume.
    FrontierTrivial,
    /// Many tiny merged pull requests, or many minimal tickets, inflating output counts.
    OutputInflation,
    /// One account used from several machines at once.
    SharedAccount,
}

impl FlagKind {
    pub const ALL: [FlagKind; 6] = [
        FlagKind::IdleLoop,
        FlagKind::MachineCadence,
        FlagKind::SpendNoOutcome,
        FlagKind::FrontierTrivial,
        FlagKind::OutputInflation,
        FlagKind::SharedAccount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::IdleLoop => "idle_loop",
            FlagKind::MachineCadence => "machine_cadence",
            FlagKind::SpendNoOutcome => "spend_no_outcome",
            FlagKind::FrontierTrivial => "frontier_trivial",
            FlagKind::OutputInflation => "output_inflation",
            FlagKind::SharedAccount => "shared_account",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// By how far the evidence passed its mark: three times over is high, half again medium.
    fn of(ratio: f64) -> Severity {
        if ratio >= 3.0 {
            Severity::High
        } else if ratio >= 1.5 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// One figure of a flag's evidence, beside the mark it crossed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub measure: &'static str,
    pub value: f64,
    /// The mark (`>=` or `<=` it, as `direction` says); None for context figures.
    pub mark: Option<f64>,
    pub direction: &'static str,
}

fn over(measure: &'static str, value: f64, mark: f64) -> Evidence {
    Evidence { measure, value, mark: Some(mark), direction: ">=" }
}

fn under(measure: &'static str, value: f64, mark: f64) -> Evidence {
    Evidence { measure, value, mark: Some(mark), direction: "<=" }
}

fn context(measure: &'static str, value: f64) -> Evidence {
    Evidence { measure, value, mark: None, direction: "" }
}

/// One flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub severity: Severity,
    /// The person (directory id) the flag is about.
    pub person: String,
    pub team: String,
    /// The account (identity in the logs) where the flag is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Spend of the calls the evidence covers.
    pub cost: Money,
    pub evidence: Vec<Evidence>,
    /// The sessions that show it (at most ten; `sessions_total` counts them all).
    pub sessions: Vec<String>,
    pub sessions_total: u64,
    pub summary: String,
}

/// The marks the detectors use.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Marks {
    /// A loop: a run of calls with no edit or commit in which at least this many calls repeat a
    /// tool call of the previous `loop_lookback` calls...
    pub loop_calls: u64,
    /// ...and make at least this share of the run.
    pub loop_repeat_share: f64,
    pub loop_lookback: usize,
    /// Cadence: sessions of at least this many calls whose gaps vary less than this (coefficient
    /// of variation)...
    pub cadence_min_calls: usize,
    pub cadence_max_variation: f64,
    /// ...at least this many of them; or days with calls in at least `clock_hours` distinct hours.
    pub cadence_sessions: u64,
    pub clock_hours: u32,
    pub clock_days: u64,
    /// Spend with no outcome: among the top `usage_top_share` of people by tokens, active in at least
    /// `idle_weeks` weeks with nothing shipped, and at most `ship_share` of settled sessions shipped.
    pub usage_top_share: f64,
    pub idle_weeks: u64,
    pub ship_share: f64,
    /// Frontier on trivial work: at least this many frontier question sessions with at most
    /// `trivial_output` output tokens, making at least `trivial_share` of the person's frontier sessions.
    pub trivial_sessions: u64,
    pub trivial_output: u64,
    pub trivial_share: f64,
    /// Output inflation: at least this many merged pull requests with a median size (lines
    /// added + removed) at most `tiny_pull_lines` and at most a third of the organisation's...
    pub inflation_count: u64,
    pub tiny_pull_lines: u64,
    /// ...or at least `inflation_count` tickets, at least this share of them of the smallest
    /// weight, and twice everyone else's share.
    pub minimal_ticket_share: f64,
    /// Sharing: sessions from at least this many machines (home folders) with at least
    /// `shared_concurrency` running at once.
    pub shared_machines: usize,
    pub shared_concurrency: usize,
}

impl Default for Marks {
    fn default() -> Marks {
        Marks {
            loop_calls: 40,
            loop_repeat_share: 0.6,
            loop_lookback: 8,
            cadence_min_calls: 30,
            cadence_max_variation: 0.15,
            cadence_sessions: 3,
            clock_hours: 20,
            clock_days: 2,
            usage_top_share: 0.25,
            idle_weeks: 3,
            ship_share: 0.05,
            trivial_sessions: 30,
            trivial_output: 1_000,
            trivial_share: 0.5,
            inflation_count: 15,
            tiny_pull_lines: 12,
            minimal_ticket_share: 0.8,
            shared_machines: 3,
            shared_concurrency: 3,
        }
    }
}

/// The longest loop in a timeline: (first call, calls, repeated calls) of the run of calls
/// with no edit or commit holding the most calls that repeat a tool call of the few before it,
/// when those repeats reach `loop_calls` and `loop_repeat_share` of the run.
pub fn longest_loop(timeline: &Timeline, marks: &Marks) -> Option<(usize, usize, usize)> {
    let calls = &timeline.calls;
    let mut best: Option<(usize, usize, usize)> = None;
    let mut start = 0;
    let mut repeats = 0;
    let close = |start: usize, end: usize, repeats: usize, best: &mut Option<(usize, usize, usize)>| {
        let length = end - start;
        if repeats as u64 >= marks.loop_calls
            && repeats as f64 >= marks.loop_repeat_share * length as f64
            && best.is_none_or(|(_, _, most)| repeats > most)
        {
            *best = Some((start, length, repeats));
        }
    };
    for (index, call) in calls.iter().enumerate() {
        if call.actions().is_none() || call.changed() {
            close(start, index, repeats, &mut best);
            start = index + 1;
            repeats = 0;
            continue;
        }
        let window = &calls[index.saturating_sub(marks.loop_lookback).max(start)..index];
        if call.turn != 0 && window.iter().any(|earlier| earlier.turn == call.turn) {
            repeats += 1;
        }
    }
    close(start, calls.len(), repeats, &mut best);
    best
}

/// The coefficient of variation of the gaps between a timeline's calls.
pub fn gap_variation(calls: &[Call]) -> Option<f64> {
    if calls.len() < 3 {
        return None;
    }
    let gaps: Vec<f64> = calls.windows(2).map(|pair| (pair[1].ts - pair[0].ts) as f64).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    if mean <= 0.0 {
        return None;
    }
    let variance = gaps.iter().map(|gap| (gap - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    Some(variance.sqrt() / mean)
}

/// The highest number of intervals that overlap at one moment.
pub fn peak_concurrency(intervals: &mut [(i64, i64)]) -> usize {
    let mut edges: Vec<(i64, i32)> = intervals.iter().flat_map(|&(from, to)| [(from, 1), (to, -1)]).collect();
    // Ends before starts at the same instant: back-to-back sessions do not overlap.
    edges.sort_by_key(|&(at, change)| (at, change));
    let (mut current, mut peak) = (0i32, 0i32);
    for (_, change) in edges {
        current += change;
        peak = peak.max(current);
    }
    peak as usize
}

/// Per UTC day (days since the epoch) with calls, the hours that had calls, as 24 bits.
pub fn hours_by_day(calls: &[Call]) -> Vec<(i64, u32)> {
    let mut days: Vec<(i64, u32)> = Vec::new();
    let mut last_hour = i64::MIN;
    for call in calls {
        let hour = call.ts.div_euclid(3_600_000);
        if hour != last_hour {
            last_hour = hour;
            let (day, bit) = (hour.div_euclid(24), 1u32 << hour.rem_euclid(24));
            match days.iter_mut().find(|(known, _)| *known == day) {
                Some((_, hours)) => *hours |= bit,
                None => days.push((day, bit)),
            }
        }
    }
    days
}

/// The machine a working directory is on, as far as a path tells: its home folder
/// (`/home/ana`, `/Users/ana`, `C:\Users\ana`), else its first two components.
pub fn machine_of(cwd: &str) -> String {
    let parts: Vec<&str> = cwd.split(['/', '\\']).filter(|part| !part.is_empty()).collect();
    let end = parts.iter().position(|part| matches!(*part, "home" | "Users")).map_or(2, |home| home + 2);
    parts[..end.min(parts.len())].join("/")
}

/// Everything the detectors read, per session (attribution order).
pub struct Inputs<'a> {
    pub grain: &'a Grain,
    pub timelines: &'a Timelines,
    pub attribution: &'a Attribution,
    pub outcomes: &'a Outcomes,
    pub directory: &'a Directory,
    pub habits: &'a [(usize, SessionHabits)],
    pub classes: &'a [Option<(TaskClass, usize)>],
    pub catalog: &'a PriceCatalog,
    pub portfolio: &'a Portfolio,
}

fn week_of(millis: i64) -> i64 {
    // Weeks from the Monday 1970-01-05.
    (millis - 4 * 86_400_000).div_euclid(7 * 86_400_000)
}

fn examples(sessions: &[&str]) -> (Vec<String>, u64) {
    (sessions.iter().take(10).map(|s| s.to_string()).collect(), sessions.len() as u64)
}

/// Runs every detector.
pub fn detect(inputs: &Inputs<'_>, marks: &Marks) -> Vec<Flag> {
    let started = std::time::Instant::now();
    let attribution = inputs.attribution;
    let prices: Vec<_> = inputs.timelines.models.iter().map(|model| inputs.catalog.resolve(model)).collect();
    let call_cost = |call: &Call| {
        prices
            .get(call.model as usize)
            .copied()
            .flatten()
            .map_or(Money::ZERO, |price| price.cost_in_band(&call.tokens(), Speed::Standard, call.context()))
    };
    // Each session's habits by its index (`inputs.habits` lists some sessions, in order).
    let mut habits: Vec<Option<&SessionHabits>> = vec![None; attribution.sessions.len()];
    for (index, session_habits) in inputs.habits {
        if let Some(slot) = habits.get_mut(*index) {
            *slot = Some(session_habits);
        }
    }
    let habits_of = |index: usize| habits.get(index).copied().flatten();
    let by_person: BTreeMap<&str, Vec<usize>> = crate::grouping::sorted_groups(
        attribution.sessions.iter().enumerate().map(|(index, spend)| (spend.member.person.as_str(), index)),
    );
    let member_of = |index: usize| &attribution.sessions[index].member;
    let mut flags = Vec::new();

    // Idle or looping agents: one flag per person, over their looping sessions.
    let looping_flags: Vec<Flag> = by_person
        .par_iter()
        .filter_map(|(person, sessions)| {
            let mut looping: Vec<(&str, usize, usize, i64, Money)> = Vec::new();
            for &index in sessions {
                let spend = &attribution.sessions[index];
                let Some(timeline) = inputs.timelines.session(index, &spend.session) else { continue };
                if let Some((start, length, repeats)) = timeline.longest_loop(marks) {
                    let run = &timeline.calls[start..start + length];
                    let minutes = (run[length - 1].ts - run[0].ts) / 60_000;
                    looping.push((spend.session.as_str(), length, repeats, minutes, run.iter().map(call_cost).sum()));
                }
            }
            if looping.is_empty() {
                return None;
            }
            let longest = looping.iter().map(|l| l.1).max().unwrap_or(0);
            let most = looping.iter().map(|l| l.2).max().unwrap_or(0);
            let repeated: usize = looping.iter().map(|l| l.2).sum();
            let calls: usize = looping.iter().map(|l| l.1).sum();
            let minutes: i64 = looping.iter().map(|l| l.3).sum();
            let member = member_of(sessions[0]);
            let (examples, total) = examples(&looping.iter().map(|l| l.0).collect::<Vec<_>>());
            Some(Flag {
                kind: FlagKind::IdleLoop,
                severity: Severity::of(most as f64 / marks.loop_calls as f64),
                person: person.to_string(),
                team: member.team.clone(),
                account: None,
                cost: looping.iter().map(|l| l.4).sum(),
                evidence: vec![
                    over("most_repeated_calls_in_a_run", most as f64, marks.loop_calls as f64),
                    over("repeated_share", repeated as f64 / calls.max(1) as f64, marks.loop_repeat_share),
                    context("longest_run_calls", longest as f64),
                    context("looping_sessions", looping.len() as f64),
                    context("loop_minutes", minutes as f64),
                ],
                sessions: examples,
                sessions_total: total,
                summary: format!(
                    "{} session(s) ran loops of up to {longest} calls with no edit or commit \
                     (up to {most} repeating an earlier tool call; {:.0}% in all)",
                    looping.len(),
                    100.0 * repeated as f64 / calls.max(1) as f64
                ),
            })
        })
        .collect();
    flags.extend(looping_flags);

    crate::engine::note_time("detector: idle loops", started);
    let started = std::time::Instant::now();
    // Machine-like cadence: regular sessions, or days around the clock.
    let cadence_flags: Vec<Flag> = by_person
        .par_iter()
        .filter_map(|(person, sessions)| {
            let mut regular: Vec<(&str, f64, usize)> = Vec::new();
            let mut is_regular: foldhash::HashSet<usize> = Default::default();
            // Per UTC day, the hours with calls as 24 bits.
            let mut hours_by_day: HashMap<i64, u32> = HashMap::default();
            let mut cost = Money::ZERO;
            for &index in sessions {
                let spend = &attribution.sessions[index];
                let Some(timeline) = inputs.timelines.session(index, &spend.session) else { continue };
                for &(day, hours) in timeline.hours_by_day() {
                    *hours_by_day.entry(day).or_default() |= hours;
                }
                if timeline.calls.len() >= marks.cadence_min_calls
                    && let Some(variation) = timeline.gap_variation()
                    && variation <= marks.cadence_max_variation
                {
                    regular.push((spend.session.as_str(), variation, timeline.calls.len()));
                    is_regular.insert(index);
                    cost += spend.cost();
                }
            }
            let clock_days =
                hours_by_day.values().filter(|hours| hours.count_ones() >= marks.clock_hours).count() as u64;
            // The spend of sessions that began on a day around the clock, beside the regular ones.
            for &index in sessions {
                let spend = &attribution.sessions[index];
                let on_clock_day = hours_by_day
                    .get(&spend.first_ts.div_euclid(86_400_000))
                    .is_some_and(|hours| hours.count_ones() >= marks.clock_hours);
                if on_clock_day && !is_regular.contains(&index) {
                    cost += spend.cost();
                }
            }
            let regular_hit = regular.len() as u64 >= marks.cadence_sessions;
            let clock_hit = clock_days >= marks.clock_days;
            if !regular_hit && !clock_hit {
                return None;
            }
            let lowest = regular.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
            let max_hours = hours_by_day.values().map(|hours| hours.count_ones()).max().unwrap_or(0);
            let ratio =
                (regular.len() as f64 / marks.cadence_sessions as f64).max(clock_days as f64 / marks.clock_days as f64);
            let member = member_of(sessions[0]);
            let (examples, total) = examples(&regular.iter().map(|r| r.0).collect::<Vec<_>>());
            let mut evidence = vec![
                over("regular_sessions", regular.len() as f64, marks.cadence_sessions as f64),
                over("around_the_clock_days", clock_days as f64, marks.clock_days as f64),
                context("most_hours_active_in_a_day", max_hours as f64),
            ];
            if lowest.is_finite() {
                evidence.push(under("lowest_gap_variation", lowest, marks.cadence_max_variation));
            }
            Some(Flag {
                kind: FlagKind::MachineCadence,
                severity: Severity::of(ratio),
                person: person.to_string(),
                team: member.team.clone(),
                account: None,
                cost,
                evidence,
                sessions: examples,
                sessions_total: total,
                summary: match (regular_hit, clock_hit) {
                    (true, true) => format!(
                        "{} session(s) sent requests at near-fixed intervals, \
                         and {clock_days} day(s) had calls in {}+ distinct hours",
                        regular.len(),
                        marks.clock_hours
                    ),
                    (true, false) => format!("{} session(s) sent requests at near-fixed intervals", regular.len()),
                    _ => format!("{clock_days} day(s) had calls in {}+ distinct hours of the day", marks.clock_hours),
                },
            })
        })
        .collect();
    flags.extend(cadence_flags);

    crate::engine::note_time("detector: cadence", started);
    let started = std::time::Instant::now();
    // High usage, nothing shipped over weeks. Usage ranks by tokens, as the token
    // leaderboards being gamed do.
    let tokens_of = |index: usize| attribution.sessions[index].models.iter().map(|m| m.tokens.total()).sum::<u64>();
    let mut ranked: Vec<(&str, u64, Money)> = by_person
        .iter()
        .map(|(person, sessions)| {
            let tokens = sessions.iter().map(|&i| tokens_of(i)).sum();
            (*person, tokens, sessions.iter().map(|&i| attribution.sessions[i].cost()).sum())
        })
        .collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let top = ((ranked.len() as f64 * marks.usage_top_share).ceil() as usize).max(1);
    let merged_by: BTreeMap<String, u64> =
        inputs.outcomes.pulls.iter().filter(|p| p.merged_at.is_some()).fold(BTreeMap::new(), |mut counts, pull| {
            *counts.entry(inputs.directory.resolve(&pull.author).person).or_default() += 1;
            counts
        });
    for (rank, (person, tokens, spend)) in ranked.iter().enumerate().take(top) {
        let sessions = &by_person[person];
        let mut weeks: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        let (mut settled, mut shipped) = (0u64, 0u64);
        for &index in sessions {
            let week = week_of(attribution.sessions[index].first_ts);
            let entry = weeks.entry(week).or_default();
            if let Some(Some(ship)) = habits_of(index).map(|h| h.shipped) {
                settled += 1;
                shipped += u64::from(ship);
                entry.0 += 1;
                entry.1 += u64::from(ship);
            }
        }
        let idle_weeks = weeks.values().filter(|(settled, shipped)| *settled > 0 && *shipped == 0).count() as u64;
        let share = if settled == 0 { 0.0 } else { shipped as f64 / settled as f64 };
        let merged = merged_by.get(*person).copied().unwrap_or(0);
        if idle_weeks < marks.idle_weeks || share > marks.ship_share || settled == 0 {
            continue;
        }
        let member = member_of(sessions[0]);
        let unshipped: Vec<&str> = sessions
            .iter()
            .filter(|&&i| habits_of(i).is_some_and(|h| h.shipped == Some(false)))
            .map(|&i| attribution.sessions[i].session.as_str())
            .collect();
        let (examples, total) = examples(&unshipped);
        flags.push(Flag {
            kind: FlagKind::SpendNoOutcome,
            severity: Severity::of(idle_weeks as f64 / marks.idle_weeks as f64),
            person: person.to_string(),
            team: member.team.clone(),
            account: None,
            cost: *spend,
            evidence: vec![
                under("token_rank", (rank + 1) as f64, top as f64),
                context("tokens", *tokens as f64),
                over("weeks_with_nothing_shipped", idle_weeks as f64, marks.idle_weeks as f64),
                under("shipped_share", share, marks.ship_share),
                context("settled_sessions", settled as f64),
                context("merged_pull_requests", merged as f64),
            ],
            sessions: examples,
            sessions_total: total,
            summary: format!(
                "usage rank {} of {} by tokens; {idle_weeks} week(s) of sessions with nothing shipped \
                 ({shipped} of {settled} settled sessions shipped)",
                rank + 1,
                ranked.len()
            ),
        });
    }

    crate::engine::note_time("detector: spend with no outcome", started);
    let started = std::time::Instant::now();
    // Frontier models on trivial work, at volume.
    for (person, sessions) in &by_person {
        let mut frontier_sessions = 0u64;
        let mut trivial: Vec<&str> = Vec::new();
        let mut cost = Money::ZERO;
        for &index in sessions {
            let Some(Some((class, tier))) = inputs.classes.get(index) else { continue };
            if *tier != 0 {
                continue;
            }
            frontier_sessions += 1;
            let spend = &attribution.sessions[index];
            let output: u64 = spend.models.iter().map(|m| m.tokens.output).sum();
            if *class == TaskClass::Question && output <= marks.trivial_output {
                trivial.push(spend.session.as_str());
                cost += spend.cost();
            }
        }
        let share = trivial.len() as f64 / frontier_sessions.max(1) as f64;
        if (trivial.len() as u64) < marks.trivial_sessions || share < marks.trivial_share {
            continue;
        }
        let member = member_of(sessions[0]);
        let count = trivial.len();
        let (examples, total) = examples(&trivial);
        flags.push(Flag {
            kind: FlagKind::FrontierTrivial,
            severity: Severity::of(count as f64 / marks.trivial_sessions as f64),
            person: person.to_string(),
            team: member.team.clone(),
            account: None,
            cost,
            evidence: vec![
                over("trivial_frontier_sessions", count as f64, marks.trivial_sessions as f64),
                over("share_of_frontier_sessions", share, marks.trivial_share),
            ],
            sessions: examples,
            sessions_total: total,
            summary: format!(
                "{count} frontier-model sessions were short questions with at most {} output tokens \
                 ({:.0}% of their frontier sessions)",
                marks.trivial_output,
                share * 100.0
            ),
        });
    }

    crate::engine::note_time("detector: frontier on trivial work", started);
    let started = std::time::Instant::now();
    // Output inflation: split pull requests, trivial tickets.
    let size = |pull: &freight_core::outcome::PullRequest| pull.lines_added + pull.lines_removed;
    let median = |values: &mut Vec<u64>| {
        values.sort_unstable();
        values.get(values.len().saturating_sub(1) / 2).copied()
    };
    let mut org_sizes: Vec<u64> = inputs.outcomes.pulls.iter().filter(|p| p.merged_at.is_some()).map(size).collect();
    let org_median = median(&mut org_sizes).unwrap_or(0);
    let mut pulls_by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for pull in inputs.outcomes.pulls.iter().filter(|p| p.merged_at.is_some()) {
        pulls_by.entry(inputs.directory.resolve(&pull.author).person).or_default().push(size(pull));
    }
    let smallest_weight = inputs.outcomes.tickets.iter().map(|t| t.weight).fold(f64::INFINITY, f64::min);
    let mut tickets_by: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for ticket in &inputs.outcomes.tickets {
        let Some(person) = &ticket.person else { continue };
        let entry = tickets_by.entry(inputs.directory.resolve(person).person).or_default();
        entry.0 += 1;
        entry.1 += u64::from(ticket.weight <= smallest_weight);
    }
    // Everyone's tickets together, so each person is compared with everyone else.
    let (all_tickets, all_minimal) =
        tickets_by.values().fold((0u64, 0u64), |(a, m), (all, minimal)| (a + all, m + minimal));
    let people: BTreeSet<String> = pulls_by.keys().chain(tickets_by.keys()).cloned().collect();
    for person in people {
        let mut sizes = pulls_by.get(&person).cloned().unwrap_or_default();
        let pulls = sizes.len() as u64;
        let person_median = median(&mut sizes).unwrap_or(0);
        let split =
            pulls >= marks.inflation_count && person_median <= marks.tiny_pull_lines && person_median * 3 <= org_median;
        let (tickets, minimal) = tickets_by.get(&person).copied().unwrap_or_default();
        let minimal_share = minimal as f64 / tickets.max(1) as f64;
        let others_share = (all_minimal - minimal) as f64 / (all_tickets - tickets).max(1) as f64;
        let trivial_tickets = tickets >= marks.inflation_count
            && minimal_share >= marks.minimal_ticket_share
            && minimal_share >= 2.0 * others_share;
        if !split && !trivial_tickets {
            continue;
        }
        let member = inputs.directory.resolve(&person);
        let sessions: Vec<&str> = by_person
            .get(person.as_str())
            .map(|s| s.iter().map(|&i| attribution.sessions[i].session.as_str()).collect())
            .unwrap_or_default();
        let (examples, total) = examples(&sessions);
        let ratio = if split {
            pulls as f64 / marks.inflation_count as f64
        } else {
            tickets as f64 / marks.inflation_count as f64
        };
        flags.push(Flag {
            kind: FlagKind::OutputInflation,
            severity: Severity::of(ratio),
            person: person.clone(),
            team: by_person.get(person.as_str()).map_or(member.team, |s| member_of(s[0]).team.clone()),
            account: None,
            cost: by_person
                .get(person.as_str())
                .map_or(Money::ZERO, |s| s.iter().map(|&i| attribution.sessions[i].cost()).sum()),
            evidence: vec![
                over("merged_pull_requests", pulls as f64, marks.inflation_count as f64),
                under("median_pull_request_lines", person_median as f64, marks.tiny_pull_lines as f64),
                context("organisation_median_pull_request_lines", org_median as f64),
                over("tickets", tickets as f64, marks.inflation_count as f64),
                over("minimal_ticket_share", minimal_share, marks.minimal_ticket_share),
                context("others_minimal_ticket_share", others_share),
            ],
            sessions: examples,
            sessions_total: total,
            summary: match (split, trivial_tickets) {
                (true, true) => format!(
                    "{pulls} merged pull requests of median {person_median} lines (organisation: {org_median}), \
                     and {minimal} of {tickets} tickets of the smallest size"
                ),
                (true, false) => {
                    format!("{pulls} merged pull requests of median {person_median} lines (organisation: {org_median})")
                }
                _ => format!("{minimal} of {tickets} resolved tickets of the smallest size"),
            },
        });
    }

    crate::engine::note_time("detector: output inflation", started);
    let started = std::time::Instant::now();
    // One account from several machines at once.
    let by_account: BTreeMap<&str, Vec<usize>> =
        crate::grouping::sorted_groups(attribution.sessions.iter().enumerate().filter_map(|(index, spend)| {
            let user = inputs.grain.session(index, &spend.session)?.user.as_deref()?;
            Some((user, index))
        }));
    let shared: Vec<(&str, Vec<usize>, BTreeSet<String>, usize)> = by_account
        .into_par_iter()
        .filter_map(|(account, sessions)| {
            // An account's sessions mostly run in a few directories: each is read once.
            let mut directories: foldhash::HashSet<&str> = Default::default();
            let mut intervals: Vec<(i64, i64)> = Vec::new();
            for &index in &sessions {
                let spend = &attribution.sessions[index];
                intervals.push((spend.first_ts, spend.last_ts));
                if let Some(session) = inputs.grain.session(index, &spend.session) {
                    directories.extend(session.places.iter().filter_map(|place| place.0.as_deref()));
                }
            }
            let machines: BTreeSet<String> = directories.into_iter().map(machine_of).collect();
            let concurrency = peak_concurrency(&mut intervals);
            (machines.len() >= marks.shared_machines && concurrency >= marks.shared_concurrency).then_some((
                account,
                sessions,
                machines,
                concurrency,
            ))
        })
        .collect();
    for (account, sessions, machines, concurrency) in shared {
        let member = member_of(sessions[0]);
        let ids: Vec<&str> = sessions.iter().map(|&i| attribution.sessions[i].session.as_str()).collect();
        let (examples, total) = examples(&ids);
        flags.push(Flag {
            kind: FlagKind::SharedAccount,
            severity: Severity::of(
                (machines.len() as f64 / marks.shared_machines as f64)
                    .min(concurrency as f64 / marks.shared_concurrency as f64),
            ),
            person: member.person.clone(),
            team: member.team.clone(),
            account: Some(account.to_string()),
            cost: sessions.iter().map(|&i| attribution.sessions[i].cost()).sum(),
            evidence: vec![
                over("machines", machines.len() as f64, marks.shared_machines as f64),
                over("peak_concurrent_sessions", concurrency as f64, marks.shared_concurrency as f64),
            ],
            sessions: examples,
            sessions_total: total,
            summary: format!(
                "one account used from {} machines, with up to {concurrency} sessions at once",
                machines.len()
            ),
        });
    }
    crate::engine::note_time("detector: shared accounts", started);
    flags.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.kind.cmp(&b.kind)).then_with(|| a.person.cmp(&b.person))
    });
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::build::{call, timeline};
    use freight_core::Actions;

    #[test]
    fn a_loop_is_a_long_run_of_repeated_calls_without_edits() {
        let marks = Marks::default();
        // 60 polls of the same command, then an edit.
        let mut calls: Vec<Call> = (0..60).map(|i| call(i, 5_000, 50, Actions::SHELL, 77)).collect();
        calls.push(call(61, 5_000, 300, Actions::EDIT, 5));
        let found = longest_loop(&timeline("s", "p", calls.clone()), &marks).expect("a loop");
        assert_eq!((found.0, found.1), (0, 60));
        assert!(found.2 >= 59);
        // Waiting on CI: twelve reads, then thirty polls; under the mark though the run is long.
        let mut waits: Vec<Call> = (0..12).map(|i| call(i, 5_000, 50, Actions::READ, 500 + i as u32)).collect();
        waits.extend((12..42).map(|i| call(i, 5_000, 50, Actions::SHELL, 42)));
        assert_eq!(longest_loop(&timeline("s", "p", waits), &marks), None);
        // Kept with the timeline for the marks it was found with, found again for others.
        let looping = timeline("s", "p", calls.clone());
        assert_eq!(looping.longest_loop(&marks), Some(found));
        let stricter = Marks { loop_calls: found.2 as u64 + 1, ..marks.clone() };
        assert_eq!(looping.longest_loop(&stricter), None);
        assert_eq!(looping.longest_loop(&marks), Some(found));
        // Sixty reads of different files: busy, not looping.
        let reads: Vec<Call> = (0..60).map(|i| call(i, 5_000, 50, Actions::READ, 1_000 + i as u32)).collect();
        assert_eq!(longest_loop(&timeline("s", "p", reads), &marks), None);
        // The same command, but an edit every ten calls: a test-fix cycle.
        let cycle: Vec<Call> =
            (0..100)
                .map(|i| {
                    if i % 10 == 9 {
                        call(i, 5_000, 300, Actions::EDIT, 5)
                    } else {
                        call(i, 5_000, 50, Actions::TEST, 9)
                    }
                })
                .collect();
        assert_eq!(longest_loop(&timeline("s", "p", cycle), &marks), None);
    }

    #[test]
    fn hours_are_marked_per_utc_day() {
        let hour = 3_600_000;
        let at = |ts: i64| Call { ts, ..Call::default() };
        // 23:10 and 23:50 on day 0, 00:30 and 05:00 on day 1.
        let calls = [at(23 * hour + 600_000), at(23 * hour + 3_000_000), at(24 * hour + 1_800_000), at(29 * hour)];
        assert_eq!(hours_by_day(&calls), vec![(0, 1 << 23), (1, 1 | 1 << 5)]);
        assert!(hours_by_day(&[]).is_empty());
    }

    #[test]
    fn cadence_variation_and_concurrency() {
        let regular: Vec<Call> = (0..40).map(|i| call(i, 1, 1, Actions::SHELL, 0)).collect();
        assert!(gap_variation(&regular).expect("gaps") < 1e-9);
        let mut human = regular.clone();
        for (i, c) in human.iter_mut().enumerate() {
            c.ts += ((i * i * 7919) % 50_000) as i64;
        }
        assert!(gap_variation(&human).expect("gaps") > 0.3);
        assert_eq!(peak_concurrency(&mut [(0, 10), (5, 15), (10, 20), (12, 13)]), 3);
        assert_eq!(peak_concurrency(&mut [(0, 10), (10, 20)]), 1);
        assert_eq!(machine_of("/home/ana/src/app"), "home/ana");
        assert_eq!(machine_of("C:\\Users\\bo\\x"), "C:/Users/bo");
        assert_eq!(machine_of("/srv/build/app"), "srv/build");
    }
}
