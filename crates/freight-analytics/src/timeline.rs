//! Session timelines: every call of every session a report covers, in time order, reduced to
//! the few numbers the behaviour metrics, the tokenmaxxing detectors and outcome-backed routing
//! read (context size, cache use, output, what its tools did, a fingerprint of its tool calls).
//!
//! The grain sums calls; these passes need their order (context growth, runs of repeated
//! turns, the rhythm of requests), so each session keeps its calls. One call takes 32 bytes.

use crate::engine::{AnalyticsError, Engine};
use crate::grain::{DictionaryIds, NULL, Names, UNKNOWN_MODEL, row_ids, u64s};
use crate::usage::Filters;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, UInt16Type, UInt32Type, UInt64Type};
use freight_core::{Actions, TokenCounts};
use futures::StreamExt;

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
    /// In time order.
    pub calls: Vec<Call>,
}

impl Timeline {
    pub fn first_ts(&self) -> i64 {
        self.calls.first().map_or(0, |call| call.ts)
    }

    pub fn last_ts(&self) -> i64 {
        self.calls.last().map_or(0, |call| call.ts)
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
    /// The timeline of session `id`.
    pub fn get(&self, id: &str) -> Option<&Timeline> {
        self.sessions.binary_search_by(|timeline| timeline.id.as_str().cmp(id)).ok().map(|index| &self.sessions[index])
    }

    pub fn calls(&self) -> usize {
        self.sessions.iter().map(|session| session.calls.len()).sum()
    }
}

const COLUMNS: &str = "session_id, tool, \"user\", model, ts, input_tokens, output_tokens, cache_read_tokens, \
                       cache_write_5m_tokens, cache_write_1h_tokens, actions, turn";

/// Reads the calls `filters` select up to `as_of` into timelines.
pub async fn scan(engine: &Engine, filters: &Filters, as_of: i64) -> Result<Timelines, AnalyticsError> {
    let started = std::time::Instant::now();
    let sql = format!("SELECT {COLUMNS} FROM usage WHERE {}", crate::grain::filter_sql(filters, as_of));
    let streams = engine.ctx.sql(&sql).await?.execute_stream_partitioned().await?;
    let mut tasks = Vec::new();
    for mut stream in streams {
        tasks.push(tokio::spawn(async move {
            let mut partial = Partial::default();
            while let Some(batch) = stream.next().await {
                partial.add(&batch?)?;
            }
            Ok::<Partial, AnalyticsError>(partial)
        }));
    }
    let mut partials = Vec::with_capacity(tasks.len());
    for task in tasks {
        partials.push(task.await.map_err(|error| AnalyticsError::Task(error.to_string()))??);
    }
    let timelines = merge(partials);
    crate::engine::note_time(
        &format!("timelines ({} sessions, {} calls)", timelines.sessions.len(), timelines.calls()),
        started,
    );
    Ok(timelines)
}

/// One partition's calls, in its own numbering.
#[derive(Default)]
struct Partial {
    sessions: Names,
    models: Names,
    strings: Names,
    dictionaries: [DictionaryIds; 4],
    /// Per session: (tool, user) ids, the smallest seen.
    owners: Vec<(u32, u32)>,
    calls: Vec<Vec<Call>>,
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

impl Partial {
    fn add(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError> {
        let column = |name: &'static str| batch.column_by_name(name).ok_or(AnalyticsError::Column(name));
        let [session_cache, model_cache, tool_cache, user_cache] = &mut self.dictionaries;
        let sessions = row_ids(column("session_id")?, &mut self.sessions, session_cache)?;
        let models = row_ids(column("model")?, &mut self.models, model_cache)?;
        let tools = row_ids(column("tool")?, &mut self.strings, tool_cache)?;
        let users = row_ids(column("user")?, &mut self.strings, user_cache)?;
        let ts = cast(column("ts")?, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
        let ts = cast(&ts, &DataType::Int64)?;
        let ts = ts.as_primitive::<Int64Type>().values();
        let counts = [
            u64s(batch, "input_tokens")?,
            u64s(batch, "output_tokens")?,
            u64s(batch, "cache_read_tokens")?,
            u64s(batch, "cache_write_5m_tokens")?,
            u64s(batch, "cache_write_1h_tokens")?,
        ];
        let [input, output, cache_read, write_5m, write_1h] =
            counts.each_ref().map(|c| &c.as_primitive::<UInt64Type>().values()[..]);
        let actions = cast(column("actions")?, &DataType::UInt16)?;
        let actions = actions.as_primitive::<UInt16Type>();
        let turns = cast(column("turn")?, &DataType::UInt32)?;
        let turns = turns.as_primitive::<UInt32Type>();
        let unknown_model = self.models.id(UNKNOWN_MODEL);
        self.calls.resize_with(self.sessions.names.len(), Vec::new);
        self.owners.resize(self.sessions.names.len(), (NULL, NULL));
        let mut last_owner = None;
        for row in 0..batch.num_rows() {
            let session = sessions[row];
            if session == NULL {
                continue;
            }
            let model = if models[row] == NULL { unknown_model } else { models[row] };
            self.calls[session as usize].push(Call {
                ts: ts[row],
                model: u16::try_from(model).unwrap_or(u16::MAX),
                actions: if actions.is_valid(row) { actions.value(row) } else { Call::UNKNOWN_ACTIONS },
                uncached: saturate(input[row]),
                cache_read: saturate(cache_read[row]),
                cache_write: saturate(write_5m[row] + write_1h[row]),
                output: saturate(output[row]),
                turn: if turns.is_valid(row) { turns.value(row) } else { 0 },
            });
            let owner = (session, tools[row], users[row]);
            if last_owner != Some(owner) {
                last_owner = Some(owner);
                let names = &self.strings.names;
                let smaller = |candidate: u32, current: u32| {
                    candidate != NULL && (current == NULL || names[candidate as usize] < names[current as usize])
                };
                let (tool, user) = &mut self.owners[session as usize];
                if smaller(owner.1, *tool) {
                    *tool = owner.1;
                }
                if smaller(owner.2, *user) {
                    *user = owner.2;
                }
            }
        }
        Ok(())
    }
}

/// The partitions' calls in one numbering, each session's calls in time order.
fn merge(partials: Vec<Partial>) -> Timelines {
    let mut models: Vec<String> =
        partials.iter().flat_map(|p| p.models.names.iter().map(|name| name.to_string())).collect();
    models.sort_unstable();
    models.dedup();
    let mut by_id: std::collections::BTreeMap<String, Timeline> = Default::default();
    for mut partial in partials {
        let model_ids: Vec<u16> = partial
            .models
            .names
            .iter()
            .map(|name| models.binary_search_by(|m| m.as_str().cmp(name)).map_or(u16::MAX, |i| i as u16))
            .collect();
        for (local, name) in partial.sessions.names.iter().enumerate() {
            let Some(mut calls) = partial.calls.get_mut(local).map(std::mem::take) else { continue };
            if calls.is_empty() {
                continue;
            }
            for call in &mut calls {
                call.model = model_ids.get(call.model as usize).copied().unwrap_or(u16::MAX);
            }
            let (tool, user) = partial.owners[local];
            let text = |id: u32| (id != NULL).then(|| partial.strings.names[id as usize].to_string());
            let timeline = by_id
                .entry(name.to_string())
                .or_insert_with(|| Timeline { id: name.to_string(), ..Timeline::default() });
            if let Some(tool) = text(tool).filter(|tool| timeline.tool.is_empty() || *tool < timeline.tool) {
                timeline.tool = tool;
            }
            if let Some(user) = text(user).filter(|user| timeline.user.as_ref().is_none_or(|current| user < current)) {
                timeline.user = Some(user);
            }
            timeline.calls.append(&mut calls);
        }
    }
    let mut sessions: Vec<Timeline> = by_id.into_values().collect();
    for session in &mut sessions {
        session.calls.sort_by_key(|call| call.ts);
    }
    Timelines { sessions, models }
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
        Timeline { id: id.into(), tool: "claude-code".into(), user: Some(user.into()), calls }
    }
}
