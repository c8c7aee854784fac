//! Level 2, behaviours: how well people use their agents, per person and team, with weekly
//! trends and the spread of each habit across a team's people (how widely a good habit has
//! spread, not only its mean). Each habit is read from session timelines and the attribution:
//! cache reuse, context per turn and its growth, restarting a bloated conversation versus
//! dragging it on, frontier models on routine calls, verifying (tests or builds) before the
//! linked commit, rejected edits, and sessions that end in an outcome.

use crate::attribution::{Attribution, Fate, Outcomes};
use crate::optimizable::Portfolio;
use crate::timeline::{Call, Timeline, Timelines};
use chrono::{Datelike, NaiveDate};
use foldhash::HashMap;
use freight_core::Actions;
use freight_core::link::OutcomeRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// What one session shows of each habit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionHabits {
    pub calls: u64,
    pub prompt_tokens: u64,
    pub cache_read_tokens: u64,
    /// Last call's prompt over the first's.
    pub growth: f64,
    /// The call (index) at which the prompt first reached the bloat threshold.
    pub bloated_at: Option<usize>,
    /// Calls after the bloat point beyond the grace calls (0 when it restarted in time).
    pub dragged_calls: u64,
    pub frontier_calls: u64,
    pub frontier_routine_calls: u64,
    /// Linked to a commit, with actions known: whether tests or a build ran before it.
    pub verified: Option<bool>,
    pub edit_calls: u64,
    pub rejected_calls: u64,
    /// Settled sessions: whether any of its spend shipped (None while pending).
    pub shipped: Option<bool>,
}

/// A call on `model` is routine when its output is small and its tools only read (or, where the
/// source does not say, it has no more than a small output).
pub fn routine(call: &Call, portfolio: &Portfolio) -> bool {
    u64::from(call.output) <= portfolio.small_output
        && call.actions().is_none_or(|actions| actions.0 & !(Actions::READ.0 | Actions::REJECTED.0) == 0)
}

/// The habits of one session. `frontier` says which of the timelines' models are frontier;
/// `commit_times` are the times of the commits the session is linked to; `fate` what became of it.
pub fn session_habits(
    timeline: &Timeline,
    frontier: &[bool],
    portfolio: &Portfolio,
    commit_times: &[i64],
    shipped: Option<bool>,
) -> SessionHabits {
    let from_calls = timeline.call_habits(frontier, portfolio);
    let mut habits = SessionHabits { shipped, ..from_calls.habits.clone() };
    if from_calls.actions_known
        && let Some(&last_commit) = commit_times.iter().max()
    {
        habits.verified = Some(from_calls.first_verified.is_some_and(|at| at <= last_commit));
    }
    habits
}

/// What a session's habits read from its calls alone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallHabits {
    /// Without `verified` and `shipped`, which need its links.
    habits: SessionHabits,
    /// Whether the source says what any of its calls did.
    actions_known: bool,
    /// When a test or build command first ran.
    first_verified: Option<i64>,
}

/// The settings [`CallHabits`] were read with: frontier models, bloat mark, routine output,
/// restart grace.
#[derive(Debug, Clone, PartialEq)]
pub struct CallHabitMarks {
    frontier: Vec<bool>,
    bloat_context: u64,
    small_output: u64,
    restart_grace_calls: u64,
}

impl CallHabitMarks {
    pub fn of(frontier: &[bool], portfolio: &Portfolio) -> CallHabitMarks {
        CallHabitMarks {
            frontier: frontier.to_vec(),
            bloat_context: portfolio.bloat_context,
            small_output: portfolio.small_output,
            restart_grace_calls: portfolio.restart_grace_calls,
        }
    }

    pub fn is(&self, frontier: &[bool], portfolio: &Portfolio) -> bool {
        self.frontier == frontier
            && self.bloat_context == portfolio.bloat_context
            && self.small_output == portfolio.small_output
            && self.restart_grace_calls == portfolio.restart_grace_calls
    }
}

/// [`CallHabits`] of `calls` ([`Timeline::call_habits`] keeps them with the timeline).
pub fn call_habits(calls: &[Call], frontier: &[bool], portfolio: &Portfolio) -> CallHabits {
    let mut habits = SessionHabits { calls: calls.len() as u64, ..SessionHabits::default() };
    let (mut actions_known, mut first_verified) = (false, None::<i64>);
    for (index, call) in calls.iter().enumerate() {
        habits.prompt_tokens += call.context();
        habits.cache_read_tokens += u64::from(call.cache_read);
        if habits.bloated_at.is_none() && call.context() >= portfolio.bloat_context {
            habits.bloated_at = Some(index);
        }
        if frontier.get(call.model as usize).copied().unwrap_or(false) {
            habits.frontier_calls += 1;
            habits.frontier_routine_calls += u64::from(routine(call, portfolio));
        }
        if let Some(actions) = call.actions() {
            actions_known = true;
            habits.edit_calls += u64::from(actions.contains(Actions::EDIT));
            habits.rejected_calls += u64::from(actions.contains(Actions::REJECTED));
            if actions.verified() {
                first_verified = Some(first_verified.map_or(call.ts, |at| at.min(call.ts)));
            }
        }
    }
    if let (Some(first), Some(last)) = (calls.first(), calls.last()) {
        habits.growth = last.context() as f64 / first.context().max(1) as f64;
    }
    if let Some(at) = habits.bloated_at {
        let after = (calls.len() - at - 1) as u64;
        habits.dragged_calls = after.saturating_sub(portfolio.restart_grace_calls);
    }
    CallHabits { habits, actions_known, first_verified }
}

/// Buckets of prompt sizes: 16 to each doubling, evenly spaced within it, so a bucket's
/// middle is within 3.2% of any size in it.
const SUB_BUCKETS: u32 = 16;
const CONTEXT_BUCKETS: usize = 16 * 40;

fn context_bucket(context: u64) -> usize {
    let x = context + 1;
    let octave = 63 - x.leading_zeros();
    // The four bits after the leading one.
    let sub = if octave >= 4 { (x >> (octave - 4)) & 0xF } else { (x << (4 - octave)) & 0xF };
    (octave * SUB_BUCKETS + sub as u32) as usize
}

/// How many of `calls` sent a prompt in each size bucket ([`context_bucket`]), by bucket: a
/// session's few sizes, added to a group's tally instead of each of its calls.
pub fn context_histogram(calls: &[Call]) -> Vec<(u16, u32)> {
    let mut buckets: Vec<u16> = calls.iter().map(|call| context_bucket(call.context()) as u16).collect();
    buckets.sort_unstable();
    let mut histogram: Vec<(u16, u32)> = Vec::new();
    for bucket in buckets {
        match histogram.last_mut() {
            Some((last, count)) if *last == bucket => *count += 1,
            _ => histogram.push((bucket, 1)),
        }
    }
    histogram
}

fn bucket_value(bucket: usize) -> u64 {
    let (octave, sub) = (bucket as u32 / SUB_BUCKETS, bucket as u32 % SUB_BUCKETS);
    let low = 2f64.powi(octave as i32) * (1.0 + f64::from(sub) / 16.0);
    let high = 2f64.powi(octave as i32) * (1.0 + f64::from(sub + 1) / 16.0);
    ((low + high) / 2.0 - 1.0).round() as u64
}

/// Sums of the habits of a group of sessions (a person, a team, a week).
/// People are counted by name, borrowed from the attribution.
#[derive(Debug, Clone)]
struct Tally<'a> {
    people: foldhash::HashSet<&'a str>,
    sessions: u64,
    calls: u64,
    prompt_tokens: u64,
    cache_read_tokens: u64,
    contexts: Vec<u64>,
    growths: Vec<f64>,
    bloated: u64,
    restarted: u64,
    frontier_calls: u64,
    frontier_routine_calls: u64,
    linked: u64,
    verified: u64,
    edit_calls: u64,
    rejected_calls: u64,
    settled: u64,
    shipped: u64,
}

impl Default for Tally<'_> {
    fn default() -> Self {
        Tally {
            people: Default::default(),
            sessions: 0,
            calls: 0,
            prompt_tokens: 0,
            cache_read_tokens: 0,
            contexts: vec![0; CONTEXT_BUCKETS],
            growths: Vec::new(),
            bloated: 0,
            restarted: 0,
            frontier_calls: 0,
            frontier_routine_calls: 0,
            linked: 0,
            verified: 0,
            edit_calls: 0,
            rejected_calls: 0,
            settled: 0,
            shipped: 0,
        }
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl<'a> Tally<'a> {
    fn add(&mut self, person: &'a str, habits: &SessionHabits, contexts: &[(u16, u32)]) {
        self.people.insert(person);
        self.sessions += 1;
        self.calls += habits.calls;
        self.prompt_tokens += habits.prompt_tokens;
        self.cache_read_tokens += habits.cache_read_tokens;
        for &(bucket, calls) in contexts {
            self.contexts[bucket as usize] += u64::from(calls);
        }
        if habits.calls > 0 {
            self.growths.push(habits.growth);
        }
        if habits.bloated_at.is_some() {
            self.bloated += 1;
            self.restarted += u64::from(habits.dragged_calls == 0);
        }
        self.frontier_calls += habits.frontier_calls;
        self.frontier_routine_calls += habits.frontier_routine_calls;
        if let Some(verified) = habits.verified {
            self.linked += 1;
            self.verified += u64::from(verified);
        }
        self.edit_calls += habits.edit_calls;
        self.rejected_calls += habits.rejected_calls;
        if let Some(shipped) = habits.shipped {
            self.settled += 1;
            self.shipped += u64::from(shipped);
        }
    }

    fn quantile(&self, q: f64) -> Option<u64> {
        let total: u64 = self.contexts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        self.contexts
            .iter()
            .position(|count| {
                seen += count;
                seen >= rank
            })
            .map(bucket_value)
    }

    fn figures(&self, key: &str) -> HabitFigures {
        let mut growths = self.growths.clone();
        growths.sort_by(f64::total_cmp);
        HabitFigures {
            key: key.to_string(),
            people: self.people.len() as u64,
            sessions: self.sessions,
            calls: self.calls,
            cache_read_share: ratio(self.cache_read_tokens, self.prompt_tokens),
            context_median: self.quantile(0.5),
            context_p90: self.quantile(0.9),
            context_growth_median: (!growths.is_empty()).then(|| growths[(growths.len() - 1) / 2]),
            bloated_sessions: self.bloated,
            restart_clean_share: ratio(self.restarted, self.bloated),
            frontier_calls: self.frontier_calls,
            frontier_routine_share: ratio(self.frontier_routine_calls, self.frontier_calls),
            linked_sessions: self.linked,
            verified_share: ratio(self.verified, self.linked),
            edit_calls: self.edit_calls,
            edit_rejection_rate: ratio(self.rejected_calls, self.edit_calls + self.rejected_calls),
            settled_sessions: self.settled,
            outcome_share: ratio(self.shipped, self.settled),
        }
    }
}

/// One group's habits (a person, a team, a week or everyone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HabitFigures {
    pub key: String,
    pub people: u64,
    pub sessions: u64,
    pub calls: u64,
    /// Cache reads over all prompt tokens (higher is better).
    pub cache_read_share: Option<f64>,
    /// Prompt tokens per call: median and 90th percentile (within 3.2%).
    pub context_median: Option<u64>,
    pub context_p90: Option<u64>,
    /// Median over sessions of the last call's prompt over the first's.
    pub context_growth_median: Option<f64>,
    /// Sessions whose prompt reached the bloat threshold, and the share of them restarted within
    /// the grace calls rather than dragged on (higher is better).
    pub bloated_sessions: u64,
    pub restart_clean_share: Option<f64>,
    /// Calls on frontier models, and the share of them that were routine (lower is better).
    pub frontier_calls: u64,
    pub frontier_routine_share: Option<f64>,
    /// Sessions linked to a commit (with tool calls recorded), and the share that ran tests or
    /// a build before it (higher is better).
    pub linked_sessions: u64,
    pub verified_share: Option<f64>,
    /// Calls that edited files, and the share of edit attempts the person rejected.
    pub edit_calls: u64,
    pub edit_rejection_rate: Option<f64>,
    /// Sessions settled (shipped or wasted, not pending), and the share that shipped.
    pub settled_sessions: u64,
    pub outcome_share: Option<f64>,
}

/// How widely one habit has spread among a team's people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HabitSpread {
    pub habit: &'static str,
    /// A team, or `all`.
    pub team: String,
    /// People with a value for the habit.
    pub people: u64,
    /// People whose own figure meets the habit's mark, and their share.
    pub practising: u64,
    pub share: f64,
    /// Quartiles of the people's own figures.
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
}

/// A habit, its mark and which way is better.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HabitDefinition {
    pub habit: &'static str,
    pub description: &'static str,
    /// `higher` or `lower` is better.
    pub better: &'static str,
    /// A person practises the habit when their figure is at or past this mark.
    pub mark: f64,
}

pub const DEFINITIONS: [(&str, &str, &str, f64); 7] = [
    ("cache_read_share", "share of prompt tokens read from the provider's cache", "higher", 0.5),
    ("context_median", "median prompt tokens per call (curated context)", "lower", 60_000.0),
    (
        "restart_clean_share",
        "of conversations that grew bloated, the share restarted rather than dragged on",
        "higher",
        0.5,
    ),
    (
        "frontier_routine_share",
        "share of frontier-model calls that were routine (small output, no edits or commands)",
        "lower",
        0.2,
    ),
    ("verified_share", "share of sessions linked to a commit that ran tests or a build before it", "higher", 0.5),
    ("edit_rejection_rate", "share of edit attempts the person rejected", "lower", 0.2),
    ("outcome_share", "share of settled sessions whose work shipped", "higher", 0.5),
];

impl HabitFigures {
    /// The figure for a habit of [`DEFINITIONS`].
    pub fn value(&self, habit: &str) -> Option<f64> {
        match habit {
            "cache_read_share" => self.cache_read_share,
            "context_median" => self.context_median.map(|v| v as f64),
            "restart_clean_share" => self.restart_clean_share,
            "frontier_routine_share" => self.frontier_routine_share,
            "verified_share" => self.verified_share,
            "edit_rejection_rate" => self.edit_rejection_rate,
            "outcome_share" => self.outcome_share,
            _ => None,
        }
    }
}

/// One week's habits, everyone together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HabitWeek {
    /// The Monday (UTC) of the week the sessions began in.
    pub week: NaiveDate,
    #[serde(flatten)]
    pub figures: HabitFigures,
}

/// The behaviours section of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Behaviours {
    pub definitions: Vec<HabitDefinition>,
    pub total: HabitFigures,
    pub by_team: Vec<HabitFigures>,
    /// Only in reports by person.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_person: Vec<HabitFigures>,
    pub spread: Vec<HabitSpread>,
    pub trend: Vec<HabitWeek>,
    pub assumptions: Vec<String>,
}

/// The times of the commits each session is linked to, by session id.
pub fn linked_commit_times<'a>(attribution: &'a Attribution, outcomes: &Outcomes) -> HashMap<&'a str, Vec<i64>> {
    let commit_time: HashMap<(&str, &str), i64> =
        outcomes.commits.iter().map(|c| ((c.repo.as_str(), c.sha.as_str()), c.committed_at)).collect();
    let mut times: HashMap<&str, Vec<i64>> = HashMap::default();
    for link in &attribution.links {
        if let OutcomeRef::Commit { repo, sha } = &link.outcome
            && let Some(&at) = commit_time.get(&(repo.as_str(), sha.as_str()))
        {
            times.entry(link.session.as_str()).or_default().push(at);
        }
    }
    times
}

/// Per attribution session: Some(shipped) once settled, None while pending.
pub fn session_fates(attribution: &Attribution) -> Vec<Option<bool>> {
    let mut fates: Vec<(bool, bool)> = vec![(false, false); attribution.sessions.len()];
    for share in &attribution.shares {
        let (shipped, pending) = &mut fates[share.session];
        *shipped |= share.fate == Fate::Shipped;
        *pending |= share.fate == Fate::Pending;
    }
    fates
        .into_iter()
        .map(|(shipped, pending)| {
            if shipped {
                Some(true)
            } else if pending {
                None
            } else {
                Some(false)
            }
        })
        .collect()
}

/// Every session's habits, beside its index in the attribution's sessions.
pub fn all_session_habits(
    timelines: &Timelines,
    attribution: &Attribution,
    outcomes: &Outcomes,
    portfolio: &Portfolio,
) -> Vec<(usize, SessionHabits)> {
    use rayon::prelude::*;
    let frontier: Vec<bool> = timelines.models.iter().map(|model| portfolio.is_frontier(model)).collect();
    let commit_times = linked_commit_times(attribution, outcomes);
    let fates = session_fates(attribution);
    attribution
        .sessions
        .par_iter()
        .enumerate()
        .filter_map(|(index, spend)| {
            let timeline = timelines.session(index, &spend.session)?;
            let times = commit_times.get(spend.session.as_str()).map_or(&[][..], Vec::as_slice);
            Some((index, session_habits(timeline, &frontier, portfolio, times, fates[index])))
        })
        .collect()
}

fn monday(millis: i64) -> NaiveDate {
    let day = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default().date_naive();
    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()))
}

fn quartiles(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

/// The behaviours of the sessions (attribution indices) `keep` admits: the report's scope.
pub fn behaviours(
    timelines: &Timelines,
    attribution: &Attribution,
    habits: &[(usize, SessionHabits)],
    portfolio: &Portfolio,
    keep: impl Fn(usize) -> bool + Sync,
    by_person: bool,
) -> Behaviours {
    // Teams and people are hashed while tallying and sorted once after, as `grouping` does.
    let (mut total, mut teams, mut people, mut weeks) = (
        Tally::default(),
        HashMap::<&str, Tally>::default(),
        HashMap::<&str, Tally>::default(),
        BTreeMap::<NaiveDate, Tally>::new(),
    );
    let mut team_people: HashMap<&str, foldhash::HashSet<&str>> = HashMap::default();
    // Each session's context histogram, worked out on every core; the tallies then add them
    // up in session order.
    let sessions = {
        use rayon::prelude::*;
        habits
            .par_iter()
            .filter(|(index, _)| keep(*index))
            .filter_map(|(index, session_habits)| {
                let spend = &attribution.sessions[*index];
                let timeline = timelines.session(*index, &spend.session)?;
                Some((session_habits, timeline, timeline.context_histogram(), &spend.member))
            })
            .collect::<Vec<_>>()
    };
    for (session_habits, timeline, contexts, member) in sessions {
        let (person, team) = (member.person.as_str(), member.team.as_str());
        total.add(person, session_habits, contexts);
        teams.entry(team).or_default().add(person, session_habits, contexts);
        people.entry(person).or_default().add(person, session_habits, contexts);
        weeks.entry(monday(timeline.first_ts())).or_default().add(person, session_habits, contexts);
        team_people.entry(team).or_default().insert(person);
    }
    let (teams, people): (BTreeMap<&str, Tally>, BTreeMap<&str, Tally>) =
        (teams.into_iter().collect(), people.into_iter().collect());
    let team_people: BTreeMap<&str, std::collections::BTreeSet<&str>> =
        team_people.into_iter().map(|(team, members)| (team, members.into_iter().collect())).collect();
    let person_figures: BTreeMap<&str, HabitFigures> =
        people.iter().map(|(&person, tally)| (person, tally.figures(person))).collect();
    let mut spread = Vec::new();
    let groups = std::iter::once(("all", person_figures.keys().copied().collect())).chain(team_people);
    for (team, members) in groups {
        for (habit, _, better, mark) in DEFINITIONS {
            let mut values: Vec<f64> =
                members.iter().filter_map(|person| person_figures.get(person)?.value(habit)).collect();
            if values.is_empty() {
                continue;
            }
            let practising =
                values.iter().filter(|v| if better == "higher" { **v >= mark } else { **v <= mark }).count() as u64;
            let people = values.len() as u64;
            let (p25, p50, p75) = quartiles(&mut values);
            spread.push(HabitSpread {
                habit,
                team: team.to_string(),
                people,
                practising,
                share: practising as f64 / people as f64,
                p25,
                p50,
                p75,
            });
        }
    }
    Behaviours {
        definitions: DEFINITIONS
            .iter()
            .map(|&(habit, description, better, mark)| HabitDefinition { habit, description, better, mark })
            .collect(),
        total: total.figures("total"),
        by_team: teams.iter().map(|(team, tally)| tally.figures(team)).collect(),
        by_person: if by_person { person_figures.into_values().collect() } else { Vec::new() },
        spread,
        trend: weeks.iter().map(|(week, tally)| HabitWeek { week: *week, figures: tally.figures(&week.to_string()) }).collect(),
        assumptions: vec![
            format!(
                "a conversation is bloated once its prompt reaches {} tokens; it is dragged on when it runs more than {} calls after that",
                portfolio.bloat_context, portfolio.restart_grace_calls
            ),
            format!(
                "a frontier call ({} tier) is routine when its output is at most {} tokens and its tools only read",
                portfolio.tiers.first().map_or("first", |tier| tier.name.as_str()),
                portfolio.small_output
            ),
            "verified: a test or build command ran in the session at or before the last commit it is linked to (sessions whose source records no tool calls are left out)".into(),
            "edit rejections are the tool calls Claude Code records as rejected by the user, over edit calls plus rejections".into(),
            "outcome share counts settled sessions only; pending ones (inside the ship grace, or with an open pull request) wait".into(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::build::{call, timeline};

    fn habits_of(calls: Vec<Call>, commits: &[i64]) -> SessionHabits {
        let portfolio = Portfolio::default();
        session_habits(&timeline("s", "p@x", calls), &[true], &portfolio, commits, Some(true))
    }

    const EDIT: Actions = Actions::EDIT;
    const READ: Actions = Actions::READ;

    #[test]
    fn cache_reuse_is_the_share_of_prompt_read_from_cache() {
        // Reuses its context: 2k uncached each call, the rest read from the cache.
        let reuses = habits_of((0..10).map(|i| call(i, 50_000, 500, EDIT, 0)).collect(), &[]);
        assert!((reuses.cache_read_tokens as f64 / reuses.prompt_tokens as f64) > 0.9);
        // Sends everything uncached.
        let mut calls: Vec<Call> = (0..10).map(|i| call(i, 50_000, 500, EDIT, 0)).collect();
        calls.iter_mut().for_each(|c| (c.uncached, c.cache_read) = (50_000, 0));
        let resends = habits_of(calls, &[]);
        assert_eq!(resends.cache_read_tokens, 0);
    }

    #[test]
    fn context_per_turn_median_and_p90() {
        let mut tally = Tally::default();
        let calls: Vec<Call> = (0..100).map(|i| call(i, 1_000 * (i as u32 + 1), 100, EDIT, 0)).collect();
        let contexts = context_histogram(&calls);
        tally.add("p", &habits_of(calls, &[]), &contexts);
        let figures = tally.figures("p");
        let near = |value: u64, want: f64| (value as f64 / want - 1.0).abs() < 0.045;
        assert!(near(figures.context_median.expect("median"), 50_000.0), "{figures:?}");
        assert!(near(figures.context_p90.expect("p90"), 90_000.0), "{figures:?}");
        // Curated context stays small.
        let mut small = Tally::default();
        let calls: Vec<Call> = (0..100).map(|i| call(i, 8_000, 100, EDIT, 0)).collect();
        let contexts = context_histogram(&calls);
        small.add("q", &habits_of(calls, &[]), &contexts);
        assert!(near(small.figures("q").context_p90.expect("p90"), 8_000.0));
    }

    #[test]
    fn a_histogram_counts_each_call_once_by_size() {
        let calls: Vec<Call> =
            [8_000, 8_000, 50_000, 8_000, 200_000].iter().map(|&c| call(0, c, 100, EDIT, 0)).collect();
        let histogram = context_histogram(&calls);
        assert_eq!(histogram.iter().map(|&(_, n)| n).sum::<u32>(), 5);
        assert!(histogram.windows(2).all(|pair| pair[0].0 < pair[1].0), "{histogram:?}");
        assert_eq!(histogram.first(), Some(&(context_bucket(8_000) as u16, 3)));
    }

    #[test]
    fn habits_kept_with_a_timeline_are_read_again_for_other_marks_and_links() {
        // A test at minute 5, commits linked before and after it.
        let mut calls: Vec<Call> = (0..10).map(|i| call(i, 30_000 * (i as u32 + 1), 100, READ, 0)).collect();
        calls[5].actions = Actions::TEST.0;
        let session = timeline("s", "p@x", calls.clone());
        let portfolio = Portfolio::default();
        let at = |minute: i64| calls[0].ts + minute * 60_000;
        let before = session_habits(&session, &[true], &portfolio, &[at(3)], None);
        let after = session_habits(&session, &[true], &portfolio, &[at(3), at(7)], None);
        assert_eq!((before.verified, after.verified), (Some(false), Some(true)));
        assert_eq!(session_habits(&session, &[true], &portfolio, &[], None).verified, None);
        // Another bloat mark or frontier list is not answered from what was kept.
        let kept = session_habits(&session, &[true], &portfolio, &[], None);
        let stricter = Portfolio { bloat_context: portfolio.bloat_context * 2, ..portfolio.clone() };
        let fresh = session_habits(&timeline("s", "p@x", calls.clone()), &[true], &stricter, &[], None);
        assert_eq!(session_habits(&session, &[true], &stricter, &[], None), fresh);
        assert_ne!(fresh.bloated_at, kept.bloated_at);
        assert_eq!(session_habits(&session, &[false], &portfolio, &[], None).frontier_calls, 0);
        assert_eq!(session_habits(&session, &[true], &portfolio, &[], None), kept);
    }

    #[test]
    fn a_bloated_conversation_restarted_or_dragged_on() {
        // Grows past the threshold at call 40, then ends within the grace calls: restarted.
        let restarted = habits_of((0..43).map(|i| call(i, 3_000 * (i as u32 + 1), 300, EDIT, 0)).collect(), &[]);
        assert_eq!(restarted.bloated_at, Some(39));
        assert_eq!(restarted.dragged_calls, 0);
        assert!(restarted.growth > 40.0);
        // Goes on for 60 more calls.
        let dragged = habits_of((0..100).map(|i| call(i, 3_000 * (i as u32 + 1), 300, EDIT, 0)).collect(), &[]);
        assert_eq!(dragged.dragged_calls, 60 - 5);
        // Never bloated.
        let lean = habits_of((0..100).map(|i| call(i, 20_000, 300, EDIT, 0)).collect(), &[]);
        assert_eq!((lean.bloated_at, lean.dragged_calls), (None, 0));
        assert!((lean.growth - 1.0).abs() < 1e-9);
    }

    #[test]
    fn model_task_fit_counts_routine_frontier_calls() {
        // Frontier model answering one-liners and reading: routine.
        let chores = habits_of((0..10).map(|i| call(i, 10_000, 50, READ, 0)).collect(), &[]);
        assert_eq!((chores.frontier_calls, chores.frontier_routine_calls), (10, 10));
        // Frontier model writing code: not routine.
        let work = habits_of((0..10).map(|i| call(i, 10_000, 2_000, EDIT, 0)).collect(), &[]);
        assert_eq!((work.frontier_calls, work.frontier_routine_calls), (10, 0));
        // The same chores on a cheaper model are not frontier calls at all.
        let portfolio = Portfolio::default();
        let cheap = session_habits(
            &timeline("s", "p", (0..10).map(|i| call(i, 10_000, 50, READ, 0)).collect()),
            &[false],
            &portfolio,
            &[],
            None,
        );
        assert_eq!(cheap.frontier_calls, 0);
    }

    #[test]
    fn verify_before_ship_needs_a_test_or_build_before_the_commit() {
        let commit_at = call(10, 0, 0, EDIT, 0).ts;
        let mut calls: Vec<Call> = (0..10).map(|i| call(i, 10_000, 500, EDIT, 0)).collect();
        calls[6].actions = Actions::TEST.0;
        assert_eq!(habits_of(calls, &[commit_at]).verified, Some(true));
        // Tests only after the commit: not verified before shipping.
        let mut late: Vec<Call> = (0..15).map(|i| call(i, 10_000, 500, EDIT, 0)).collect();
        late[12].actions = Actions::TEST.0;
        assert_eq!(habits_of(late, &[commit_at]).verified, Some(false));
        // Not linked to a commit: no verdict.
        assert_eq!(habits_of((0..5).map(|i| call(i, 1, 1, Actions::TEST, 0)).collect(), &[]).verified, None);
        // The source records no tool calls: no verdict.
        let mut unknown: Vec<Call> = (0..5).map(|i| call(i, 1, 1, EDIT, 0)).collect();
        unknown.iter_mut().for_each(|c| c.actions = Call::UNKNOWN_ACTIONS);
        assert_eq!(habits_of(unknown, &[commit_at]).verified, None);
    }

    #[test]
    fn rejected_edits_and_outcomes_are_counted() {
        let mut calls: Vec<Call> = (0..10).map(|i| call(i, 1_000, 300, EDIT, 0)).collect();
        calls[3].actions = (EDIT | Actions::REJECTED).0;
        calls[4].actions = Actions::REJECTED.0;
        let habits = habits_of(calls, &[]);
        assert_eq!((habits.edit_calls, habits.rejected_calls), (9, 2));
        let accepted = habits_of((0..10).map(|i| call(i, 1_000, 300, EDIT, 0)).collect(), &[]);
        assert_eq!(accepted.rejected_calls, 0);
        let mut tally = Tally::default();
        tally.add("p", &habits, &[]);
        tally.add("p", &SessionHabits { shipped: Some(false), ..SessionHabits::default() }, &[]);
        tally.add("p", &SessionHabits { shipped: None, ..SessionHabits::default() }, &[]);
        let figures = tally.figures("p");
        assert_eq!((figures.settled_sessions, figures.outcome_share), (2, Some(0.5)));
        assert_eq!(figures.edit_rejection_rate, Some(2.0 / 11.0));
    }
}
