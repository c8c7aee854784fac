//! Session timelines: every call of every session a report covers, in time order, reduced to
//! the few numbers the behaviour metrics, the tokenmaxxing detectors and outcome-backed routing
//! read (context size, cache use, output, what its tools did, a fingerprint of its tool calls).
//!
//! The grain sums calls; these passes need their order (context growth, runs of repeated
//! turns, the rhythm of requests), so each session keeps its calls. They are kept by the
//! grain's own pass over the calls (`grain::scan_with_timelines`): one read of the usage
//! serves both. One call takes 32 bytes.

use freight_core::{Actions, Money, TokenCounts};

/// One call, as the behaviour passes read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Call {
    pub ts: i64,
    /// Index into [`Timelines::models`].
    pub model: u16,
    /// `Actions` bits, or [`Call::UNKNOWN_ACTIONS`] where the source does not say.
    pub actions: u16,
    /// Uncached input tokens.
    pub uncached: u32,
    pub cache_read: u32,
    /// Cache writes of either duration.
    pub cache_write: u32,
    pub output: u32,
    /// Fingerprint of the call's tool calls (0: none).
    pub turn: u32,
}

impl Call {
    pub const UNKNOWN_ACTIONS: u16 = u16::MAX;

    /// The prompt the call sent: uncached input, cache reads and cache writes.
    pub fn context(&self) -> u64 {
        u64::from(self.uncached) + u64::from(self.cache_read) + u64::from(self.cache_write)
    }

    pub fn actions(&self) -> Option<Actions> {
        (self.actions != Call::UNKNOWN_ACTIONS).then_some(Actions(self.actions))
    }

    /// Edited files or committed: the call changed something.
    pub fn changed(&self) -> bool {
        self.actions().is_some_and(|actions| actions.intersects(Actions(Actions::EDIT.0 | Actions::COMMIT.0)))
    }

    pub fn tokens(&self) -> TokenCounts {
        TokenCounts {
            input: self.uncached.into(),
            output: self.output.into(),
            cache_read: self.cache_read.into(),
            cache_write_5m: self.cache_write.into(),
            ..TokenCounts::default()
        }
    }
}

/// One session's calls.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    pub id: String,
    pub tool: String,
    pub user: Option<String>,
    /// In time order; shared between the timelines of periods cut from the same days.
    pub calls: std::sync::Arc<Vec<Call>>,
    /// What is read from the calls alone, shared with `calls`: a period that holds a whole
    /// session reuses what an earlier period found.
    pub memo: std::sync::Arc<Memo>,
}

/// Results that depend on a timeline's calls only, each computed once.
#[derive(Debug, Default)]
pub struct Memo {
    class: std::sync::OnceLock<crate::routing::TaskClass>,
    /// The longest loop, with the marks it was looked for with.
    longest_loop: std::sync::OnceLock<(LoopMarks, Option<Loop>)>,
    gap_variation: std::sync::OnceLock<Option<f64>>,
    context_histogram: std::sync::OnceLock<Vec<(u16, u32)>>,
    hours_by_day: std::sync::OnceLock<Vec<(i64, u32)>>,
    call_habits: std::sync::OnceLock<(crate::behaviours::CallHabitMarks, crate::behaviours::CallHabits)>,
    /// Restart savings by model, with the (interned) marks they were worked out with.
    restart_savings: std::sync::OnceLock<(std::sync::Arc<crate::optimizable::RestartMarks>, RestartSavings)>,
}

/// A session's restart savings: (model, saving, tokens) for each model it saved on.
type RestartSavings = Vec<(u16, Money, u64)>;

/// The marks a loop is looked for with: lookback, calls, repeated share (its bits).
type LoopMarks = (usize, u64, u64);

/// A loop: its first call, calls and repeated calls.
type Loop = (usize, usize, usize);

/// Results kept aside are not part of what a timeline is.
impl PartialEq for Memo {
    fn eq(&self, _: &Memo) -> bool {
        true
    }
}

impl Timeline {
    pub fn new(id: String, tool: String, user: Option<String>, calls: std::sync::Arc<Vec<Call>>) -> Timeline {
        Timeline { id, tool, user, calls, memo: Default::default() }
    }

    pub fn first_ts(&self) -> i64 {
        self.calls.first().map_or(0, |call| call.ts)
    }

    /// The session's task class ([`crate::routing::classify`]).
    pub fn class(&self) -> crate::routing::TaskClass {
        *self.memo.class.get_or_init(|| crate::routing::classify(self))
    }

    /// The session's longest loop ([`crate::tokenmaxxing::longest_loop`]).
    pub fn longest_loop(&self, marks: &crate::tokenmaxxing::Marks) -> Option<Loop> {
        let key = (marks.loop_lookback, marks.loop_calls, marks.loop_repeat_share.to_bits());
        let found = kept_for(
            &self.memo.longest_loop,
            || key,
            |kept| *kept == key,
            || crate::tokenmaxxing::longest_loop(self, marks),
        );
        *found
    }

    /// The variation of the gaps between the session's calls ([`crate::tokenmaxxing::gap_variation`]).
    pub fn gap_variation(&self) -> Option<f64> {
        *self.memo.gap_variation.get_or_init(|| crate::tokenmaxxing::gap_variation(&self.calls))
    }

    /// What the session's habits read from its calls ([`crate::behaviours::call_habits`]).
    pub fn call_habits(
        &self,
        frontier: &[bool],
        portfolio: &crate::optimizable::Portfolio,
    ) -> std::borrow::Cow<'_, crate::behaviours::CallHabits> {
        use crate::behaviours::{CallHabitMarks, call_habits};
        kept_for(
            &self.memo.call_habits,
            || CallHabitMarks::of(frontier, portfolio),
            |kept| kept.is(frontier, portfolio),
            || call_habits(&self.calls, frontier, portfolio),
        )
    }

    /// The session's restart savings by model ([`crate::optimizable::session_restart_savings`]).
    pub fn restart_savings(
        &self,
        marks: &std::sync::Arc<crate::optimizable::RestartMarks>,
    ) -> std::borrow::Cow<'_, RestartSavings> {
        kept_for(
            &self.memo.restart_savings,
            || marks.clone(),
            |kept| std::sync::Arc::ptr_eq(kept, marks),
            || crate::optimizable::session_restart_savings(&self.calls, marks),
        )
    }

    /// The hours of each day the session had calls in ([`crate::tokenmaxxing::hours_by_day`]).
    pub fn hours_by_day(&self) -> &[(i64, u32)] {
        self.memo.hours_by_day.get_or_init(|| crate::tokenmaxxing::hours_by_day(&self.calls))
    }

    /// How many of the session's calls sent a prompt of each size
    /// ([`crate::behaviours::context_histogram`]).
    pub fn context_histogram(&self) -> &[(u16, u32)] {
        self.memo.context_histogram.get_or_init(|| crate::behaviours::context_histogram(&self.calls))
    }
}

/// What `cell` keeps when it was worked out with marks that `matches`, else worked out again
/// (the first marks asked with are the ones kept).
fn kept_for<'a, K, V: Clone>(
    cell: &'a std::sync::OnceLock<(K, V)>,
    marks: impl FnOnce() -> K,
    matches: impl FnOnce(&K) -> bool,
    work: impl Fn() -> V,
) -> std::borrow::Cow<'a, V> {
    let (kept_with, kept) = cell.get_or_init(|| (marks(), work()));
    match matches(kept_with) {
        true => std::borrow::Cow::Borrowed(kept),
        false => std::borrow::Cow::Owned(work()),
    }
}

/// Every session's timeline.
#[derive(Debug, Clone, Default)]
pub struct Timelines {
    /// Sorted by id.
    pub sessions: Vec<Timeline>,
    /// Model names (`<unknown>` where a call named none), sorted.
    pub models: Vec<String>,
}

impl Timelines {
    /// The timeline of session `id`, expected at `index` (the grain's sessions and the
    /// attribution's are in the same order as these); found by search otherwise.
    pub fn session(&self, index: usize, id: &str) -> Option<&Timeline> {
        match self.sessions.get(index) {
            Some(timeline) if timeline.id == id => Some(timeline),
            _ => self.get(id),
        }
    }

    /// The timeline of session `id`.
    pub fn get(&self, id: &str) -> Option<&Timeline> {
        self.sessions.binary_search_by(|timeline| timeline.id.as_str().cmp(id)).ok().map(|index| &self.sessions[index])
    }

    pub fn calls(&self) -> usize {
        self.sessions.iter().map(|session| session.calls.len()).sum()
    }
}

/// Timelines built by hand, for tests of the passes that read them.
#[cfg(test)]
pub mod build {
    use super::*;

    /// A call at `minute` minutes with `context` prompt tokens (cache reads after the first
    /// call), `output` tokens, the given actions and turn fingerprint.
    pub fn call(minute: i64, context: u32, output: u32, actions: Actions, turn: u32) -> Call {
        Call {
            ts: 1_790_000_000_000 + minute * 60_000,
            model: 0,
            actions: actions.0,
            uncached: context.min(2_000),
            cache_read: context.saturating_sub(2_000),
            cache_write: 0,
            output,
            turn,
        }
    }

    pub fn timeline(id: &str, user: &str, calls: Vec<Call>) -> Timeline {
        Timeline::new(id.into(), "claude-code".into(), Some(user.into()), calls.into())
    }
}
