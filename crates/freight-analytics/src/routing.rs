//! Outcome-backed routing: sessions classed by the task their logs show (questions,
//! investigations, small changes, features, large changes), each class's outcome rate on each
//! tier of the portfolio in this organisation's own history (with 95% intervals), and the
//! spend of a class on a dearer tier re-priced on the cheapest tier whose outcome rate came
//! within the portfolio's tolerance — nothing where every cheaper tier did worse.

use crate::attribution::Attribution;
use crate::grain::Grain;
use crate::optimizable::Portfolio;
use crate::timeline::{Timeline, Timelines};
use freight_core::{Actions, Money, PriceCatalog, Speed};
use serde::Serialize;
use std::collections::BTreeMap;

/// The kind of task a session was, from what its calls did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskClass {
    /// No edits, a few calls.
    Question,
    /// No edits, many calls (reading, searching, running commands).
    Investigation,
    /// Edits in a short session with a modest context.
    SmallChange,
    /// Edits over a longer session.
    Feature,
    /// Edits over a very long session.
    LargeChange,
}

impl TaskClass {
    pub const ALL: [TaskClass; 5] = [
        TaskClass::Question,
        TaskClass::Investigation,
        TaskClass::SmallChange,
        TaskClass::Feature,
        TaskClass::LargeChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskClass::Question => "question",
            TaskClass::Investigation => "investigation",
            TaskClass::SmallChange => "small_change",
            TaskClass::Feature => "feature",
            TaskClass::LargeChange => "large_change",
        }
    }
}

/// Calls at most for a question; edits in at most this many calls (and a prompt under
/// `SMALL_CONTEXT`) make a small change; up to `FEATURE_CALLS`, a feature.
const QUESTION_CALLS: usize = 8;
const SMALL_CALLS: usize = 20;
const SMALL_CONTEXT: u64 = 80_000;
const FEATURE_CALLS: usize = 100;
/// Where a source records no tool calls, a session whose calls average this much output wrote code.
const WRITING_OUTPUT: f64 = 600.0;

/// Calls back that a repeated tool call is looked for: a call that repeats one of these (a
/// poll, a re-run) does not make the task longer.
const REPEAT_LOOKBACK: usize = 8;

/// The calls that did new work: all but those repeating a tool call of the few before.
fn working_calls(timeline: &Timeline) -> usize {
    let calls = &timeline.calls;
    (0..calls.len())
        .filter(|&index| {
            let turn = calls[index].turn;
            turn == 0 || !calls[index.saturating_sub(REPEAT_LOOKBACK)..index].iter().any(|earlier| earlier.turn == turn)
        })
        .count()
}

/// The task class of one session: whether it edited, how many calls did new work, how large
/// its prompt grew.
pub fn classify(timeline: &Timeline) -> TaskClass {
    let calls = &timeline.calls;
    let known = calls.iter().any(|call| call.actions().is_some());
    let edits = if known {
        calls.iter().any(|call| call.actions().is_some_and(|a| a.contains(Actions::EDIT)))
    } else {
        let output: u64 = calls.iter().map(|call| u64::from(call.output)).sum();
        output as f64 / calls.len().max(1) as f64 >= WRITING_OUTPUT
    };
    let max_context = calls.iter().map(|call| call.context()).max().unwrap_or(0);
    match (edits, working_calls(timeline)) {
        (false, n) if n <= QUESTION_CALLS => TaskClass::Question,
        (false, _) => TaskClass::Investigation,
        (true, n) if n <= SMALL_CALLS && max_context < SMALL_CONTEXT => TaskClass::SmallChange,
        (true, n) if n <= FEATURE_CALLS => TaskClass::Feature,
        (true, _) => TaskClass::LargeChange,
    }
}

/// Wilson's 95% interval for `successes` of `trials`.
pub fn wilson(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    const Z: f64 = 1.959_964;
    let (n, p) = (trials as f64, successes as f64 / trials as f64);
    let centre = (p + Z * Z / (2.0 * n)) / (1.0 + Z * Z / n);
    let half = Z * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt() / (1.0 + Z * Z / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// One task class on one tier: its record and, where a cheaper tier did as well, the move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassTier {
    pub class: TaskClass,
    pub tier: String,
    pub sessions: u64,
    /// Settled sessions (not pending), and those whose work shipped.
    pub settled: u64,
    pub shipped: u64,
    pub outcome_rate: Option<f64>,
    /// 95% interval of the outcome rate (Wilson).
    pub interval: (f64, f64),
    pub cost: Money,
    /// The cheaper tier this class's work here could have run on, and what that saves.
    pub moved_to: Option<String>,
    pub saving: Money,
}

/// The routing part of optimizable cost.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Routing {
    /// Per grain row: its saving.
    pub by_row: Vec<Money>,
    pub classes: Vec<ClassTier>,
    /// Per attribution session: its class and tier (None for a model outside the portfolio).
    pub session_class: Vec<Option<(TaskClass, usize)>>,
}

/// Each session's class and the tier of the model it spent most on.
pub fn session_classes(
    timelines: &Timelines,
    attribution: &Attribution,
    portfolio: &Portfolio,
) -> Vec<Option<(TaskClass, usize)>> {
    use rayon::prelude::*;
    let mut tiers: std::collections::HashMap<&str, Option<usize>> = Default::default();
    for spend in &attribution.sessions {
        for usage in &spend.models {
            tiers.entry(usage.model.as_str()).or_insert_with(|| portfolio.tier_of(&usage.model));
        }
    }
    attribution
        .sessions
        .par_iter()
        .enumerate()
        .map(|(index, spend)| {
            let timeline = timelines.session(index, &spend.session)?;
            let main = spend.models.iter().max_by(|a, b| a.cost.cmp(&b.cost).then_with(|| a.calls.cmp(&b.calls)))?;
            Some((timeline.class(), tiers.get(main.model.as_str()).copied().flatten()?))
        })
        .collect()
}
/// Outcome rates per (class, tier) and the saving of moving each class's work down.
pub fn routing(
    grain: &Grain,
    timelines: &Timelines,
    attribution: &Attribution,
    fates: &[Option<bool>],
    catalog: &PriceCatalog,
    portfolio: &Portfolio,
) -> Routing {
    let session_class = session_classes(timelines, attribution, portfolio);
    let mut cells: BTreeMap<(TaskClass, usize), ClassTier> = BTreeMap::new();
    for (index, class) in session_class.iter().enumerate() {
        let Some((class, tier)) = *class else { continue };
        let cell = cells.entry((class, tier)).or_insert_with(|| ClassTier {
            class,
            tier: portfolio.tiers[tier].name.clone(),
            sessions: 0,
            settled: 0,
            shipped: 0,
            outcome_rate: None,
            interval: (0.0, 1.0),
            cost: Money::ZERO,
            moved_to: None,
            saving: Money::ZERO,
        });
        cell.sessions += 1;
        cell.cost += attribution.sessions[index].cost();
        if let Some(shipped) = fates[index] {
            cell.settled += 1;
            cell.shipped += u64::from(shipped);
        }
    }
    for cell in cells.values_mut() {
        cell.outcome_rate = (cell.settled > 0).then(|| cell.shipped as f64 / cell.settled as f64);
        cell.interval = wilson(cell.shipped, cell.settled);
    }
    // Each (class, tier)'s destination: the cheapest tier with enough settled sessions whose
    // rate is within the tolerance of this tier's.
    let trusted = |cell: &ClassTier| cell.settled >= portfolio.min_sessions;
    let mut moves: BTreeMap<(TaskClass, usize), usize> = BTreeMap::new();
    for (&(class, tier), cell) in &cells {
        let (true, Some(rate)) = (trusted(cell), cell.outcome_rate) else { continue };
        let destination = (tier + 1..portfolio.tiers.len()).rev().find(|&cheaper| {
            cells.get(&(class, cheaper)).is_some_and(|other| {
                trusted(other) && other.outcome_rate.is_some_and(|r| r >= rate - portfolio.tolerance)
            })
        });
        if let Some(destination) = destination {
            moves.insert((class, tier), destination);
        }
    }
    let prices: Vec<_> = grain.models.iter().map(|model| catalog.resolve(model)).collect();
    let model_tiers: Vec<Option<usize>> = grain.models.iter().map(|model| portfolio.tier_of(model)).collect();
    // Per (grain model, destination tier): the price work moved there is re-priced at.
    let targets: Vec<Vec<Option<&freight_core::ModelPrice>>> = grain
        .models
        .iter()
        .map(|model| {
            (0..portfolio.tiers.len())
                .map(|tier| portfolio.target(tier, model, catalog).and_then(|target| catalog.resolve(target)))
                .collect()
        })
        .collect();
    let mut by_row = vec![Money::ZERO; grain.rows.len()];
    for (row, saving) in grain.rows.iter().zip(&mut by_row) {
        let Some(Some((class, tier))) = session_class.get(row.session as usize) else { continue };
        let Some(&destination) = moves.get(&(*class, *tier)) else { continue };
        let model = row.model as usize;
        // Calls already on the destination tier or cheaper stay where they are.
        if model_tiers[model].is_none_or(|own| own >= destination) {
            continue;
        }
        let (Some(actual), Some(target)) = (prices[model], targets[model][destination]) else { continue };
        let difference = actual.cost_in_band(&row.tokens, row.speed, row.bucket)
            - target.cost_in_band(&row.tokens, Speed::Standard, row.bucket);
        *saving = difference.max(Money::ZERO);
        if let Some(cell) = cells.get_mut(&(*class, *tier)) {
            cell.saving += *saving;
        }
    }
    for (key, destination) in &moves {
        if let Some(cell) = cells.get_mut(key) {
            cell.moved_to = Some(portfolio.tiers[*destination].name.clone());
        }
    }
    Routing { by_row, classes: cells.into_values().collect(), session_class }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::build::{call, timeline};

    #[test]
    fn sessions_are_classed_by_what_their_calls_did() {
        let of = |calls: usize, actions: Actions, context: u32| {
            classify(&timeline("s", "p", (0..calls as i64).map(|i| call(i, context, 300, actions, 0)).collect()))
        };
        assert_eq!(of(3, Actions::READ, 5_000), TaskClass::Question);
        assert_eq!(of(30, Actions::READ | Actions::SHELL, 5_000), TaskClass::Investigation);
        assert_eq!(of(12, Actions::EDIT, 20_000), TaskClass::SmallChange);
        assert_eq!(of(12, Actions::EDIT, 150_000), TaskClass::Feature);
        assert_eq!(of(60, Actions::EDIT, 20_000), TaskClass::Feature);
        assert_eq!(of(300, Actions::EDIT, 20_000), TaskClass::LargeChange);
        // A question whose agent then polled the same command 200 times is still a question.
        let mut polled: Vec<_> = (0..3).map(|i| call(i, 5_000, 300, Actions::READ, 1 + i as u32)).collect();
        polled.extend((3..203).map(|i| call(i, 5_000, 40, Actions::SHELL, 99)));
        assert_eq!(classify(&timeline("s", "p", polled)), TaskClass::Question);
    }

    #[test]
    fn wilson_interval_brackets_the_rate() {
        let (low, high) = wilson(40, 100);
        assert!(low < 0.4 && 0.4 < high && low > 0.3 && high < 0.5, "{low} {high}");
        assert_eq!(wilson(0, 0), (0.0, 1.0));
        let (low, high) = wilson(0, 10);
        assert_eq!(low, 0.0);
        assert!(high > 0.2 && high < 0.35);
    }
}
