//! The session grain: the calls a report covers, read once and reduced to one row per
//! (session, model, speed, price band, local day) holding everything the report's later steps
//! ask of them — tokens and calls, first and last call, the session's first call, its cacheable
//! and routine calls — plus each session's tool, user, directories and branches.
//!
//! DataFusion scans and filters the usage table; the reduction itself is this module's pass
//! over the scanned batches, one task per partition, keyed on the dictionary ids the batches
//! already carry. As a hash aggregate in SQL the same reduction (`grain_sql`, which DuckDB runs
//! in the benchmark and a test holds this pass equal to) took 20 s over 100M calls here, most
//! of it hashing and comparing the session strings of every call.

use crate::engine::{AnalyticsError, Engine};
use crate::usage::{Filters, where_sql};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, TimeUnit, UInt64Type};
use freight_core::{ModelPrice, PriceCatalog, Speed, TokenCounts};
use futures::StreamExt;
use std::collections::HashMap;

const DAY_MS: i64 = 86_400_000;

/// One (session, model, speed, price band, local day) of calls.
#[derive(Debug, Clone, PartialEq)]
pub struct GrainRow {
    /// Index into [`Grain::sessions`].
    pub session: u32,
    /// Index into [`Grain::models`].
    pub model: u32,
    pub speed: Speed,
    /// The price band the calls fall in, as a prompt size inside it (0 for the base band;
    /// else the band's floor + 1): each row lies inside one band of its model and of the
    /// model routing would send it to, so pricing the row's sums prices each call exactly.
    pub bucket: u64,
    /// Local date, as days since 1970-01-01.
    pub day: i32,
    pub tokens: TokenCounts,
    pub calls: u64,
    pub first_ts: i64,
    pub last_ts: i64,
    /// The earliest call: its time and uncached input (the smaller input on a tie).
    pub first_call: (i64, u64),
    /// Uncached input of the calls with at least `min_cacheable_input` of it, and their count.
    pub cacheable_input: u64,
    pub cacheable_calls: u64,
    /// Tokens of the calls with a small output and no tool call, and their count.
    pub routine: TokenCounts,
    pub routine_calls: u64,
}

/// A session's identity and where it ran.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GrainSession {
    pub id: String,
    /// The smallest tool and user named by its calls (a session has one of each in practice).
    pub tool: String,
    pub user: Option<String>,
    /// (working directory, git branch, calls), most calls first.
    pub places: Vec<(Option<String>, Option<String>, u64)>,
}

/// What the report reads from usage.
#[derive(Debug, Clone, Default)]
pub struct Grain {
    /// Sorted by id.
    pub sessions: Vec<GrainSession>,
    /// Model names as written (`<unknown>` where a call named none), sorted.
    pub models: Vec<String>,
    /// Sorted by (session, model, speed, bucket, day).
    pub rows: Vec<GrainRow>,
}

impl Grain {
    /// Session `id`, expected at `index` (the attribution's sessions are in the same order);
    /// found by search otherwise.
    pub fn session(&self, index: usize, id: &str) -> Option<&GrainSession> {
        match self.sessions.get(index) {
            Some(session) if session.id == id => Some(session),
            _ => self
                .sessions
                .binary_search_by(|session| session.id.as_str().cmp(id))
                .ok()
                .map(|found| &self.sessions[found]),
        }
    }
}

/// What makes a call routine or cacheable.
#[derive(Debug, Clone, Copy)]
pub struct GrainRules {
    pub as_of: i64,
    pub small_output: u64,
    pub min_cacheable_input: u64,
}

/// The columns the pass reads (and `grain_sql` groups).
const COLUMNS: &str = "session_id, tool, \"user\", cwd, git_branch, model, speed, ts, input_tokens, output_tokens, \
                       cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, tool_use";

/// The name a call without a model is grouped under (as `priced_groups_sql` names it).
pub const UNKNOWN_MODEL: &str = "<unknown>";

/// The calls a report covers: the filters' and those made by the report's time.
pub(crate) fn filter_sql(filters: &Filters, as_of: i64) -> String {
    format!("{} AND CAST(ts AS BIGINT) <= {as_of}", where_sql(filters))
}

/// The prompt sizes above which a model's rates (or those of the model routing would send it
/// to) change.
pub type BandFloors = std::sync::Arc<dyn Fn(&str) -> Vec<u64> + Send + Sync>;

/// Reads the calls `filters` select up to `rules.as_of` and reduces them to the grain.
pub async fn scan(
    engine: &Engine,
    filters: &Filters,
    rules: GrainRules,
    band_floors: BandFloors,
) -> Result<Grain, AnalyticsError> {
    Ok(scan_calls(engine, filters, rules, band_floors, false).await?.grain)
}

/// The grain and, from the same read of the calls, every session's timeline (the timelines'
/// sessions and models are the grain's, in its order).
pub async fn scan_with_timelines(
    engine: &Engine,
    filters: &Filters,
    rules: GrainRules,
    band_floors: BandFloors,
) -> Result<(Grain, crate::timeline::Timelines), AnalyticsError> {
    let days = scan_calls(engine, filters, rules, band_floors, true).await?;
    Ok((days.grain, days.timelines))
}

/// The grain and timelines of every day `filters` admit, kept so that the grain of any
/// period within them can be cut from it ([`DayGrain::period`]) without reading the calls
/// again. A server answering queries over many periods keeps one per read of its store.
pub async fn scan_days(
    engine: &Engine,
    filters: &Filters,
    rules: GrainRules,
    band_floors: BandFloors,
) -> Result<DayGrain, AnalyticsError> {
    scan_calls(engine, filters, rules, band_floors, true).await
}

async fn scan_calls(
    engine: &Engine,
    filters: &Filters,
    rules: GrainRules,
    band_floors: BandFloors,
    keep_calls: bool,
) -> Result<DayGrain, AnalyticsError> {
    let started = std::time::Instant::now();
    let timezone = LocalDays::new(&filters.timezone)?;
    let extra = if keep_calls { ", actions, turn" } else { "" };
    let sql = format!("SELECT {COLUMNS}{extra} FROM usage WHERE {}", filter_sql(filters, rules.as_of));
    let streams = engine.ctx.sql(&sql).await?.execute_stream_partitioned().await?;
    let mut tasks = Vec::new();
    for mut stream in streams {
        let mut partial = Partial::new(rules, timezone.clone(), band_floors.clone(), keep_calls);
        tasks.push(tokio::spawn(async move {
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
    crate::engine::note_time("grain: calls read", started);
    let days = merge(partials, timezone);
    crate::engine::note_time(
        &format!(
            "grain ({} sessions, {} rows, {} calls kept)",
            days.grain.sessions.len(),
            days.grain.rows.len(),
            days.timelines.calls()
        ),
        started,
    );
    Ok(days)
}

/// The same reduction as SQL over `usage` (without the places, which `session_places` gives):
/// what DuckDB runs in the benchmark. `bucket_sql` is the price-band bucket of a call.
pub fn grain_sql(filters: &Filters, rules: GrainRules, bucket_sql: &str) -> String {
    let routine = format!("output_tokens <= {} AND NOT tool_use", rules.small_output);
    let cacheable = format!("input_tokens >= {}", rules.min_cacheable_input);
    let sum_if = |condition: &str, value: &str| format!("SUM(CASE WHEN {condition} THEN {value} ELSE 0 END)");
    let kinds = ["input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning"];
    let totals: Vec<String> = kinds.iter().map(|k| format!("SUM({k}_tokens) AS {k}")).collect();
    let routines: Vec<String> =
        kinds.iter().map(|k| format!("{} AS routine_{k}", sum_if(&routine, &format!("{k}_tokens")))).collect();
    format!(
        "SELECT CAST(session_id AS VARCHAR) AS session, COALESCE(CAST(model AS VARCHAR), '{UNKNOWN_MODEL}') AS model,
                CAST(speed AS VARCHAR) AS speed, {bucket_sql} AS bucket,
                CAST(FLOOR(CAST(ts AS BIGINT) / 86400000.0) AS BIGINT) AS day,
                MIN(CAST(tool AS VARCHAR)) AS tool, MIN(CAST(\"user\" AS VARCHAR)) AS who,
                {totals}, COUNT(*) AS calls, MIN(CAST(ts AS BIGINT)) AS first_ts, MAX(CAST(ts AS BIGINT)) AS last_ts,
                MIN((CAST(ts AS BIGINT) - 1577836800000) * 8388608 + LEAST(input_tokens, 8388607)) AS first_call,
                {cacheable_input} AS cacheable_input, {cacheable_calls} AS cacheable_calls,
                {routines}, {routine_calls} AS routine_calls
         FROM usage WHERE {filter}
         GROUP BY 1, 2, 3, 4, 5",
        totals = totals.join(", "),
        cacheable_input = sum_if(&cacheable, "input_tokens"),
        cacheable_calls = sum_if(&cacheable, "1"),
        routines = routines.join(", "),
        routine_calls = sum_if(&routine, "1"),
        filter = filter_sql(filters, rules.as_of),
    )
}

/// Local dates of UTC times in one time zone, with the zone's offset cached per quarter hour
/// (every offset change since 1970 falls on one).
#[derive(Clone)]
struct LocalDays {
    zone: Option<chrono_tz::Tz>,
    cache: Box<[(i64, i64); 256]>,
}

impl LocalDays {
    fn new(timezone: &str) -> Result<LocalDays, AnalyticsError> {
        let zone: chrono_tz::Tz = timezone.parse().map_err(|_| AnalyticsError::TimeZone(timezone.to_string()))?;
        let zone = (zone != chrono_tz::UTC).then_some(zone);
        Ok(LocalDays { zone, cache: Box::new([(i64::MIN, 0); 256]) })
    }

    fn day(&mut self, ts: i64) -> i32 {
        let Some(zone) = self.zone else { return ts.div_euclid(DAY_MS) as i32 };
        let slot = ts.div_euclid(900_000);
        let entry = &mut self.cache[(slot & 255) as usize];
        if entry.0 != slot {
            use chrono::{Offset, TimeZone};
            let utc = chrono::DateTime::from_timestamp_millis(ts).unwrap_or_default().naive_utc();
            *entry = (slot, i64::from(zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()) * 1000);
        }
        (ts + entry.1).div_euclid(DAY_MS) as i32
    }
}

/// Strings numbered in the order first seen.
#[derive(Default)]
struct Names {
    ids: HashMap<Box<str>, u32, foldhash::fast::RandomState>,
    names: Vec<Box<str>>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }
}

const NULL: u32 = u32::MAX;

/// Ids of one column's dictionary values, resolved as rows use them and kept while the
/// batches share the dictionary (a Parquet column chunk's dictionary spans many batches and
/// can hold far more values than one batch uses).
#[derive(Default)]
struct DictionaryIds {
    /// The dictionary's values buffer: the same buffer means the same dictionary.
    values: Option<ArrayRef>,
    ids: Vec<u32>,
}

const UNRESOLVED: u32 = u32::MAX - 1;

/// Read access to a string array of any of Arrow's string layouts, without converting it.
enum Texts<'a> {
    Plain(&'a datafusion::arrow::array::StringArray),
    Large(&'a datafusion::arrow::array::LargeStringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
}

impl<'a> Texts<'a> {
    fn of(array: &'a ArrayRef) -> Result<Texts<'a>, AnalyticsError> {
        match array.data_type() {
            DataType::Utf8 => Ok(Texts::Plain(array.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Texts::Large(array.as_string::<i64>())),
            DataType::Utf8View => Ok(Texts::View(array.as_string_view())),
            _ => Err(AnalyticsError::Column("a string dictionary")),
        }
    }

    fn value(&self, index: usize) -> Option<&'a str> {
        match self {
            Texts::Plain(array) => array.is_valid(index).then(|| array.value(index)),
            Texts::Large(array) => array.is_valid(index).then(|| array.value(index)),
            Texts::View(array) => array.is_valid(index).then(|| array.value(index)),
        }
    }
}

/// Each row's id for a string column (NULL where the value is null): dictionary columns are
/// resolved once per dictionary value used, plain ones row by row.
fn row_ids(column: &ArrayRef, names: &mut Names, cache: &mut DictionaryIds) -> Result<Vec<u32>, AnalyticsError> {
    if let DataType::Dictionary(_, _) = column.data_type() {
        let dictionary = column.as_any_dictionary();
        let values = dictionary.values();
        if !cache.values.as_ref().is_some_and(|cached| cached.to_data().ptr_eq(&values.to_data())) {
            cache.values = Some(values.clone());
            cache.ids = vec![UNRESOLVED; values.len()];
        }
        let text = Texts::of(values)?;
        let mut resolve = |key: usize| {
            let id = &mut cache.ids[key];
            if *id == UNRESOLVED {
                *id = text.value(key).map_or(NULL, |value| names.id(value));
            }
            *id
        };
        let nulls = column.logical_nulls();
        let valid = |row: usize| nulls.as_ref().is_none_or(|nulls| nulls.is_valid(row));
        if let Some(typed) = column.as_dictionary_opt::<Int32Type>() {
            let keys = typed.keys().values();
            return Ok((0..keys.len())
                .map(|row| if valid(row) { resolve(keys[row] as usize) } else { NULL })
                .collect());
        }
        let keys = cast(dictionary.keys(), &DataType::Int64)?;
        let keys = keys.as_primitive::<Int64Type>();
        return Ok((0..keys.len())
            .map(|row| if valid(row) { resolve(keys.value(row) as usize) } else { NULL })
            .collect());
    }
    let values = cast(column, &DataType::Utf8)?;
    let values = values.as_string::<i32>();
    let mut last: Option<(&str, u32)> = None;
    Ok((0..values.len())
        .map(|row| {
            if !values.is_valid(row) {
                return NULL;
            }
            let value = values.value(row);
            match last {
                Some((text, id)) if text == value => id,
                _ => {
                    let id = names.id(value);
                    last = Some((value, id));
                    id
                }
            }
        })
        .collect())
}

fn u64s(batch: &RecordBatch, name: &'static str) -> Result<ArrayRef, AnalyticsError> {
    let column = batch.column_by_name(name).ok_or(AnalyticsError::Column(name))?;
    Ok(cast(column, &DataType::UInt64)?)
}

type Key = (u32, u32, u8, u64, i32);

/// One partition's reduction, in its own numbering.
struct Partial {
    rules: GrainRules,
    band_floors: BandFloors,
    /// Per model id: its band floors, ascending.
    floors: Vec<Vec<u64>>,
    days: LocalDays,
    sessions: Names,
    models: Names,
    speeds: Names,
    /// Tools, users, directories and branches.
    strings: Names,
    /// Per session: (local day, tool, user) ids, the smallest tool and user of each day.
    owners: Vec<Vec<(i32, u32, u32)>>,
    /// Per string column read: its dictionary's ids.
    dictionaries: [DictionaryIds; 7],
    rows: Vec<GrainRow>,
    /// Per session: its rows' keys (model, speed, bucket, day) and indices. A session has a
    /// handful, found by a short scan where hashing every call's key cost more.
    slots: Vec<Vec<(Variant, u32)>>,
    /// Per session: (directory, branch, local day, calls).
    places: Vec<Vec<(u32, u32, i32, u64)>>,
    /// Per session: its calls, when timelines are kept (model ids this partial's).
    calls: Option<Vec<Vec<crate::timeline::Call>>>,
}

/// A row's key within its session: (model, speed, bucket, day).
type Variant = (u32, u8, u64, i32);

impl Partial {
    fn new(rules: GrainRules, days: LocalDays, band_floors: BandFloors, keep_calls: bool) -> Partial {
        Partial {
            rules,
            band_floors,
            floors: Vec::new(),
            days,
            sessions: Names::default(),
            models: Names::default(),
            speeds: Names::default(),
            strings: Names::default(),
            owners: Vec::new(),
            dictionaries: Default::default(),
            rows: Vec::new(),
            slots: Vec::new(),
            places: Vec::new(),
            calls: keep_calls.then(Vec::new),
        }
    }

    fn add(&mut self, batch: &RecordBatch) -> Result<(), AnalyticsError> {
        let column = |name: &'static str| batch.column_by_name(name).ok_or(AnalyticsError::Column(name));
        let [session_cache, model_cache, speed_cache, tool_cache, user_cache, cwd_cache, branch_cache] =
            &mut self.dictionaries;
        let mut sessions = row_ids(column("session_id")?, &mut self.sessions, session_cache)?;
        let mut models = row_ids(column("model")?, &mut self.models, model_cache)?;
        for (ids, names, null_name) in
            [(&mut sessions, &mut self.sessions, ""), (&mut models, &mut self.models, UNKNOWN_MODEL)]
        {
            if ids.contains(&NULL) {
                let id = names.id(null_name);
                ids.iter_mut().filter(|id| **id == NULL).for_each(|null| *null = id);
            }
        }
        for name in &self.models.names[self.floors.len()..] {
            let mut floors = (self.band_floors)(name);
            floors.sort_unstable();
            floors.dedup();
            self.floors.push(floors);
        }
        let speeds = row_ids(column("speed")?, &mut self.speeds, speed_cache)?;
        let tools = row_ids(column("tool")?, &mut self.strings, tool_cache)?;
        let users = row_ids(column("user")?, &mut self.strings, user_cache)?;
        let cwds = row_ids(column("cwd")?, &mut self.strings, cwd_cache)?;
        let branches = row_ids(column("git_branch")?, &mut self.strings, branch_cache)?;
        let ts = cast(column("ts")?, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
        let ts = cast(&ts, &DataType::Int64)?;
        let ts = ts.as_primitive::<Int64Type>().values();
        let token_columns = [
            u64s(batch, "input_tokens")?,
            u64s(batch, "output_tokens")?,
            u64s(batch, "cache_read_tokens")?,
            u64s(batch, "cache_write_5m_tokens")?,
            u64s(batch, "cache_write_1h_tokens")?,
            u64s(batch, "reasoning_tokens")?,
        ];
        let token_columns: [&[u64]; 6] = token_columns.each_ref().map(|c| &c.as_primitive::<UInt64Type>().values()[..]);
        let tool_use = column("tool_use")?.as_boolean_opt().ok_or(AnalyticsError::Column("tool_use"))?;
        let tool_use_nulls = tool_use.logical_nulls();
        let tool_use = tool_use.values();
        let speed_of: Vec<Speed> = self
            .speeds
            .names
            .iter()
            .map(|name| Speed::ALL.into_iter().find(|speed| speed.as_str() == &**name).unwrap_or_default())
            .collect();
        let sessions_seen = self.sessions.names.len();
        self.slots.resize_with(sessions_seen, Vec::new);
        self.places.resize_with(sessions_seen, Vec::new);
        let actions_and_turns = match &self.calls {
            Some(_) => {
                let actions = cast(column("actions")?, &DataType::UInt16)?;
                let turns = cast(column("turn")?, &DataType::UInt32)?;
                Some((actions, turns))
            }
            None => None,
        };
        let actions_and_turns = actions_and_turns.as_ref().map(|(actions, turns)| {
            (
                actions.as_primitive::<datafusion::arrow::datatypes::UInt16Type>(),
                turns.as_primitive::<datafusion::arrow::datatypes::UInt32Type>(),
            )
        });
        if let Some(calls) = &mut self.calls {
            calls.resize_with(sessions_seen, Vec::new);
        }
        let mut last_row: Option<(Key, u32)> = None;
        let mut last_place: Option<((u32, u32, u32, i32), u64)> = None;
        let mut last_owner: Option<(u32, u32, u32, i32)> = None;
        for row in 0..batch.num_rows() {
            let session = sessions[row];
            let tokens = crate::columns::token_row(token_columns, row);
            let at = ts[row];
            let speed = speeds[row];
            let speed_value = if speed == NULL { Speed::Standard } else { speed_of[speed as usize] };
            let model = models[row];
            let prompt = tokens.input + tokens.cache_read + tokens.cache_write_5m + tokens.cache_write_1h;
            let bucket =
                self.floors[model as usize].iter().rev().find(|&&floor| prompt > floor).map_or(0, |floor| floor + 1);
            let key: Key = (session, model, speed_value as u8, bucket, self.days.day(at));
            let index = match last_row {
                Some((last, index)) if last == key => index,
                _ => {
                    let variant: Variant = (key.1, key.2, key.3, key.4);
                    let slot = &mut self.slots[session as usize];
                    let found = slot.iter().find(|(v, _)| *v == variant).map(|&(_, index)| index);
                    let index = found.unwrap_or(self.rows.len() as u32);
                    if found.is_none() {
                        slot.push((variant, index));
                        self.rows.push(GrainRow {
                            session,
                            model: key.1,
                            speed: speed_value,
                            bucket: key.3,
                            day: key.4,
                            tokens: TokenCounts::default(),
                            calls: 0,
                            first_ts: i64::MAX,
                            last_ts: i64::MIN,
                            first_call: (i64::MAX, u64::MAX),
                            cacheable_input: 0,
                            cacheable_calls: 0,
                            routine: TokenCounts::default(),
                            routine_calls: 0,
                        });
                    }
                    last_row = Some((key, index));
                    index
                }
            };
            if let (Some(calls), Some((actions, turns))) = (&mut self.calls, &actions_and_turns) {
                let saturate = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
                calls[session as usize].push(crate::timeline::Call {
                    ts: at,
                    model: u16::try_from(model).unwrap_or(u16::MAX),
                    actions: if actions.is_valid(row) {
                        actions.value(row)
                    } else {
                        crate::timeline::Call::UNKNOWN_ACTIONS
                    },
                    uncached: saturate(tokens.input),
                    cache_read: saturate(tokens.cache_read),
                    cache_write: saturate(tokens.cache_write_5m + tokens.cache_write_1h),
                    output: saturate(tokens.output),
                    turn: if turns.is_valid(row) { turns.value(row) } else { 0 },
                });
            }
            let grain = &mut self.rows[index as usize];
            grain.tokens += tokens;
            grain.calls += 1;
            grain.first_ts = grain.first_ts.min(at);
            grain.last_ts = grain.last_ts.max(at);
            grain.first_call = grain.first_call.min((at, tokens.input));
            if tokens.input >= self.rules.min_cacheable_input {
                grain.cacheable_input += tokens.input;
                grain.cacheable_calls += 1;
            }
            if tokens.output <= self.rules.small_output
                && !(tool_use.value(row) && tool_use_nulls.as_ref().is_none_or(|nulls| nulls.is_valid(row)))
            {
                grain.routine += tokens;
                grain.routine_calls += 1;
            }
            let place = (session, cwds[row], branches[row], key.4);
            match &mut last_place {
                Some((last, count)) if *last == place => *count += 1,
                _ => {
                    if let Some((last, count)) = last_place.take() {
                        self.count_place(last, count);
                    }
                    last_place = Some((place, 1));
                }
            }
            let owner = (session, tools[row], users[row], key.4);
            if last_owner != Some(owner) {
                self.own(owner);
                last_owner = Some(owner);
            }
        }
        if let Some((last, count)) = last_place {
            self.count_place(last, count);
        }
        Ok(())
    }

    fn count_place(&mut self, (session, cwd, branch, day): (u32, u32, u32, i32), calls: u64) {
        let places = &mut self.places[session as usize];
        match places.iter_mut().find(|place| place.0 == cwd && place.1 == branch && place.2 == day) {
            Some(place) => place.3 += calls,
            None => places.push((cwd, branch, day, calls)),
        }
    }

    /// Keeps the smallest tool and user seen for a session on a day.
    fn own(&mut self, (session, tool, user, day): (u32, u32, u32, i32)) {
        let session = session as usize;
        if self.owners.len() <= session {
            self.owners.resize_with(session + 1, Vec::new);
        }
        let owners = &mut self.owners[session];
        let index = match owners.iter().position(|owner| owner.0 == day) {
            Some(index) => index,
            None => {
                owners.push((day, NULL, NULL));
                owners.len() - 1
            }
        };
        let (_, current_tool, current_user) = &mut owners[index];
        let names = &self.strings.names;
        let smaller = |candidate: u32, current: u32| {
            candidate != NULL && (current == NULL || names[candidate as usize] < names[current as usize])
        };
        if smaller(tool, *current_tool) {
            *current_tool = tool;
        }
        if smaller(user, *current_user) {
            *current_user = user;
        }
    }
}

/// What one session held on one local day: its smallest tool and user, and its places with
/// their calls (ids into [`DayGrain`]'s strings).
#[derive(Debug, Clone)]
struct SessionDay {
    day: i32,
    tool: u32,
    user: u32,
    places: Vec<(u32, u32, u64)>,
}

/// The grain and timelines of a run of days, with what each session held on each day, so
/// that any period's grain can be cut from them ([`DayGrain::period`]).
#[derive(Clone)]
pub struct DayGrain {
    pub grain: Grain,
    pub timelines: crate::timeline::Timelines,
    /// Per session of the grain: its days, ascending.
    days: Vec<Vec<SessionDay>>,
    /// Tools, users, directories and branches.
    strings: Vec<Box<str>>,
    local_days: LocalDays,
}

impl DayGrain {
    fn text(&self, id: u32) -> Option<&str> {
        (id != NULL).then(|| &*self.strings[id as usize])
    }

    /// A session as the days `keep` admits show it: the smallest tool and user named on
    /// them, and its places with their calls, most calls first.
    fn session_of_days(&self, id: &str, days: &[SessionDay], keep: impl Fn(i32) -> bool) -> GrainSession {
        let (mut tool, mut user): (Option<&str>, Option<&str>) = (None, None);
        let mut places: Vec<(u32, u32, u64)> = Vec::new();
        for day in days.iter().filter(|day| keep(day.day)) {
            if let Some(candidate) = self.text(day.tool).filter(|t| tool.is_none_or(|current| *t < current)) {
                tool = Some(candidate);
            }
            if let Some(candidate) = self.text(day.user).filter(|u| user.is_none_or(|current| *u < current)) {
                user = Some(candidate);
            }
            for &(cwd, branch, calls) in &day.places {
                match places.iter_mut().find(|place| place.0 == cwd && place.1 == branch) {
                    Some(place) => place.2 += calls,
                    None => places.push((cwd, branch, calls)),
                }
            }
        }
        let mut places: Vec<(Option<String>, Option<String>, u64)> = places
            .into_iter()
            .map(|(cwd, branch, calls)| {
                (self.text(cwd).map(str::to_string), self.text(branch).map(str::to_string), calls)
            })
            .collect();
        places.sort_unstable_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
        GrainSession {
            id: id.to_string(),
            tool: tool.unwrap_or_default().to_string(),
            user: user.map(str::to_string),
            places,
        }
    }

    /// The grain and timelines of the local days from `since` to `until` (each included; None:
    /// open), exactly as a scan with those days as its filters would reduce the calls.
    pub fn period(
        &self,
        since: Option<chrono::NaiveDate>,
        until: Option<chrono::NaiveDate>,
    ) -> (Grain, crate::timeline::Timelines) {
        self.cut(since, until, true)
    }

    /// The grain of the days from `since` to `until`, without the timelines (a report that
    /// reads no session's calls in order skips building them).
    pub fn period_grain(&self, since: Option<chrono::NaiveDate>, until: Option<chrono::NaiveDate>) -> Grain {
        self.cut(since, until, false).0
    }

    fn cut(
        &self,
        since: Option<chrono::NaiveDate>,
        until: Option<chrono::NaiveDate>,
        with_timelines: bool,
    ) -> (Grain, crate::timeline::Timelines) {
        let started = std::time::Instant::now();
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch");
        let day_of = |date: chrono::NaiveDate| (date - epoch).num_days() as i32;
        let (first, last) = (since.map_or(i32::MIN, day_of), until.map_or(i32::MAX, day_of));
        let keep = |day: i32| first <= day && day <= last;
        let grain = &self.grain;
        // New indices of the sessions and models with calls in the period; whether each
        // session's calls all are.
        let (mut session_ids, mut model_ids) = (vec![NULL; grain.sessions.len()], vec![NULL; grain.models.len()]);
        let mut whole = vec![true; grain.sessions.len()];
        for row in &grain.rows {
            if keep(row.day) {
                session_ids[row.session as usize] = 0;
                model_ids[row.model as usize] = 0;
            } else {
                whole[row.session as usize] = false;
            }
        }
        let number = |ids: &mut Vec<u32>| {
            for (next, id) in ids.iter_mut().filter(|id| **id != NULL).enumerate() {
                *id = next as u32;
            }
        };
        number(&mut session_ids);
        number(&mut model_ids);
        let models: Vec<String> =
            grain.models.iter().zip(&model_ids).filter(|(_, id)| **id != NULL).map(|(m, _)| m.clone()).collect();
        // Rows, sessions and timelines are each cut on every core, in order.
        use rayon::prelude::*;
        let rows: Vec<GrainRow> = grain
            .rows
            .par_iter()
            .filter(|row| keep(row.day))
            .map(|row| GrainRow {
                session: session_ids[row.session as usize],
                model: model_ids[row.model as usize],
                ..row.clone()
            })
            .collect();
        let kept: Vec<usize> = (0..grain.sessions.len()).filter(|&index| session_ids[index] != NULL).collect();
        let sessions: Vec<GrainSession> = kept
            .par_iter()
            .map(|&index| self.session_of_days(&grain.sessions[index].id, &self.days[index], keep))
            .collect();
        let models_renumbered = model_ids.iter().enumerate().any(|(index, &id)| id != NULL && id as usize != index);
        let timelines = crate::timeline::Timelines {
            sessions: match self.timelines.sessions.is_empty() || !with_timelines {
                true => Vec::new(),
                false => kept
                    .par_iter()
                    .zip(&sessions)
                    .map_init(
                        || self.local_days.clone(),
                        |local_days, (&index, session)| {
                            let all = &self.timelines.sessions[index].calls;
                            let calls = match (whole[index], models_renumbered) {
                                (true, false) => all.clone(),
                                _ => std::sync::Arc::new(
                                    all.iter()
                                        .filter(|call| keep(local_days.day(call.ts)))
                                        .map(|call| crate::timeline::Call {
                                            model: model_ids.get(call.model as usize).map_or(u16::MAX, |&id| id as u16),
                                            ..*call
                                        })
                                        .collect(),
                                ),
                            };
                            let mut timeline = crate::timeline::Timeline::new(
                                session.id.clone(),
                                session.tool.clone(),
                                session.user.clone(),
                                calls,
                            );
                            // The same calls: what was read from them holds for this period too.
                            if whole[index] {
                                timeline.memo = self.timelines.sessions[index].memo.clone();
                            }
                            timeline
                        },
                    )
                    .collect(),
            },
            models: models.clone(),
        };
        crate::engine::note_time(&format!("the period's grain ({} sessions)", sessions.len()), started);
        (Grain { sessions, models, rows }, timelines)
    }
}

/// The partitions' reductions in one numbering, sorted. A session's calls are mostly in one
/// partition, so rows are merged by sorting keys, not by hashing every row again.
fn merge(mut partials: Vec<Partial>, local_days: LocalDays) -> DayGrain {
    let partial_calls: Vec<Option<Vec<Vec<crate::timeline::Call>>>> =
        partials.iter_mut().map(|partial| partial.calls.take()).collect();
    let mut session_names: Vec<&str> =
        partials.iter().flat_map(|p| p.sessions.names.iter().map(|name| &**name)).collect();
    session_names.sort_unstable();
    session_names.dedup();
    let mut model_names: Vec<&str> = partials.iter().flat_map(|p| p.models.names.iter().map(|name| &**name)).collect();
    model_names.sort_unstable();
    model_names.dedup();
    let position = |names: &[&str], name: &str| names.binary_search(&name).map_or(NULL, |index| index as u32);
    let mut strings = Names::default();
    let mut days: Vec<Vec<SessionDay>> = vec![Vec::new(); session_names.len()];
    let mut keys: Vec<(Key, u32, u32)> = Vec::with_capacity(partials.iter().map(|p| p.rows.len()).sum());
    let mut global_ids: Vec<(Vec<u32>, Vec<u32>)> = Vec::with_capacity(partials.len());
    for (which, partial) in partials.iter().enumerate() {
        let session_ids: Vec<u32> = partial.sessions.names.iter().map(|name| position(&session_names, name)).collect();
        let model_ids: Vec<u32> = partial.models.names.iter().map(|name| position(&model_names, name)).collect();
        let string_ids: Vec<u32> = partial.strings.names.iter().map(|name| strings.id(name)).collect();
        let global = |id: u32| if id == NULL { NULL } else { string_ids[id as usize] };
        let day_of = |days: &mut Vec<SessionDay>, day: i32| -> usize {
            match days.iter().position(|entry| entry.day == day) {
                Some(index) => index,
                None => {
                    days.push(SessionDay { day, tool: NULL, user: NULL, places: Vec::new() });
                    days.len() - 1
                }
            }
        };
        let names = &strings.names;
        let smaller = |candidate: u32, current: u32| {
            candidate != NULL && (current == NULL || names[candidate as usize] < names[current as usize])
        };
        for (local, owners) in partial.owners.iter().enumerate() {
            let session_days = &mut days[session_ids[local] as usize];
            for &(day, tool, user) in owners {
                let index = day_of(session_days, day);
                let entry = &mut session_days[index];
                let (tool, user) = (global(tool), global(user));
                if smaller(tool, entry.tool) {
                    entry.tool = tool;
                }
                if smaller(user, entry.user) {
                    entry.user = user;
                }
            }
        }
        for (local, places) in partial.places.iter().enumerate() {
            let session_days = &mut days[session_ids[local] as usize];
            for &(cwd, branch, day, calls) in places {
                let index = day_of(session_days, day);
                let entry = &mut session_days[index];
                let (cwd, branch) = (global(cwd), global(branch));
                match entry.places.iter_mut().find(|place| place.0 == cwd && place.1 == branch) {
                    Some(place) => place.2 += calls,
                    None => entry.places.push((cwd, branch, calls)),
                }
            }
        }
        for (index, row) in partial.rows.iter().enumerate() {
            let key = (
                session_ids[row.session as usize],
                model_ids[row.model as usize],
                row.speed as u8,
                row.bucket,
                row.day,
            );
            keys.push((key, which as u32, index as u32));
        }
        global_ids.push((session_ids, model_ids));
    }
    for session_days in &mut days {
        session_days.sort_unstable_by_key(|entry| entry.day);
    }
    keys.sort_unstable_by_key(|&(key, _, _)| key);
    let mut rows: Vec<GrainRow> = Vec::with_capacity(keys.len());
    let mut last: Option<Key> = None;
    for (key, which, index) in keys {
        let row = &partials[which as usize].rows[index as usize];
        if last == Some(key) {
            rows.last_mut().expect("a row with this key").absorb(row);
        } else {
            rows.push(GrainRow { session: key.0, model: key.1, ..row.clone() });
            last = Some(key);
        }
    }
    // Each session's calls in the merged numbering, in time order.
    let mut calls: Vec<Vec<crate::timeline::Call>> = Vec::new();
    let keep_calls = partial_calls.iter().any(Option::is_some);
    if keep_calls {
        calls.resize_with(session_names.len(), Vec::new);
        for (partial, (session_ids, model_ids)) in partial_calls.into_iter().zip(&global_ids) {
            for (local, mut local_calls) in partial.unwrap_or_default().into_iter().enumerate() {
                for call in &mut local_calls {
                    call.model = model_ids.get(call.model as usize).map_or(u16::MAX, |&id| id as u16);
                }
                let global = &mut calls[session_ids[local] as usize];
                if global.is_empty() {
                    *global = local_calls;
                } else {
                    global.append(&mut local_calls);
                }
            }
        }
    }
    let models: Vec<String> = model_names.into_iter().map(str::to_string).collect();
    let session_names: Vec<String> = session_names.into_iter().map(str::to_string).collect();
    drop(partials);
    let mut day_grain = DayGrain {
        grain: Grain { sessions: Vec::new(), models: models.clone(), rows },
        timelines: crate::timeline::Timelines { sessions: Vec::new(), models },
        days,
        strings: strings.names,
        local_days,
    };
    let sessions: Vec<GrainSession> = session_names
        .iter()
        .zip(&day_grain.days)
        .map(|(id, days)| day_grain.session_of_days(id, days, |_| true))
        .collect();
    day_grain.timelines.sessions = sessions
        .iter()
        .take(if keep_calls { usize::MAX } else { 0 })
        .zip(calls.into_iter().chain(std::iter::repeat_with(Vec::new)))
        .map(|(session, mut calls)| {
            calls.sort_by_key(|call| call.ts);
            crate::timeline::Timeline::new(
                session.id.clone(),
                session.tool.clone(),
                session.user.clone(),
                std::sync::Arc::new(calls),
            )
        })
        .collect();
    day_grain.grain.sessions = sessions;
    day_grain
}

impl GrainRow {
    fn absorb(&mut self, other: &GrainRow) {
        self.tokens += other.tokens;
        self.calls += other.calls;
        self.first_ts = self.first_ts.min(other.first_ts);
        self.last_ts = self.last_ts.max(other.last_ts);
        self.first_call = self.first_call.min(other.first_call);
        self.cacheable_input += other.cacheable_input;
        self.cacheable_calls += other.cacheable_calls;
        self.routine += other.routine;
        self.routine_calls += other.routine_calls;
    }
}

/// A model's price and the band floors the grain cuts its calls at: its own tiers and those
/// of every model the portfolio may re-price work on.
pub fn band_floors(catalog: &PriceCatalog, portfolio: &crate::optimizable::Portfolio) -> BandFloors {
    let catalog = catalog.clone();
    let portfolio = portfolio.clone();
    std::sync::Arc::new(move |model: &str| {
        let tiers = |price: Option<&ModelPrice>| {
            price.map(|price| price.tiers.iter().map(|tier| tier.above_prompt_tokens).collect::<Vec<u64>>())
        };
        let mut floors = tiers(catalog.resolve(model)).unwrap_or_default();
        for target in portfolio.targets() {
            floors.extend(tiers(catalog.resolve(target)).unwrap_or_default());
        }
        floors
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns;
    use crate::optimizable::Portfolio;
    use crate::pricing::prompt_bucket_sql;
    use datafusion::arrow::array::{BooleanArray, StringArray, TimestampMillisecondArray, UInt64Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    /// Calls with every variant the grain keys on: three sessions over three days, two models
    /// and a missing one, prompts on both sides of a 200k price band, tool and no tool, a
    /// session with two directories, users missing on some calls.
    fn calls(dictionary: bool) -> (Arc<Schema>, RecordBatch) {
        let mut seed = 7_u64;
        let mut next = |below: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        let n = 400;
        let (mut sessions, mut models, mut speeds, mut users, mut cwds, mut ts) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut tool_use, mut input, mut output, mut cache_read) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let session = next(3);
            sessions.push(format!("s{session}"));
            models.push(
                [Some("anthropic.claude-sonnet-4-5-20250929-v1:0"), Some("claude-opus-4-1"), None][next(3) as usize],
            );
            speeds.push(["standard", "fast"][next(2) as usize]);
            users.push((next(4) != 0).then(|| format!("u{session}@example.com")));
            cwds.push(format!("/work/r{}", next(2)));
            ts.push(1_763_000_000_000 + next(3 * 86_400_000) as i64);
            tool_use.push(next(2) == 0);
            input.push([0, 500, 1_500, 4_000][next(4) as usize]);
            output.push([50, 150, 800][next(3) as usize]);
            cache_read.push([10_000, 150_000, 230_000][next(3) as usize]);
        }
        let text = |values: Vec<Option<String>>| -> ArrayRef {
            let array: ArrayRef = Arc::new(StringArray::from(values));
            if dictionary {
                cast(&array, &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)))
                    .expect("dictionary")
            } else {
                array
            }
        };
        let some = |values: Vec<String>| values.into_iter().map(Some).collect::<Vec<_>>();
        let string_type = if dictionary {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        } else {
            DataType::Utf8
        };
        let tokens = |values: Vec<u64>| -> ArrayRef { Arc::new(UInt64Array::from(values)) };
        let schema = Arc::new(Schema::new(
            vec![
                Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
                Field::new("tool", string_type.clone(), false),
                Field::new("user", string_type.clone(), true),
                Field::new("project", string_type.clone(), true),
                Field::new("session_id", string_type.clone(), false),
                Field::new("cwd", string_type.clone(), true),
                Field::new("git_branch", string_type.clone(), true),
                Field::new("model", string_type.clone(), true),
                Field::new("speed", string_type, false),
                Field::new("tool_use", DataType::Boolean, false),
                Field::new("actions", DataType::UInt16, true),
                Field::new("turn", DataType::UInt32, true),
            ]
            .into_iter()
            .chain(crate::columns::token_fields())
            .collect::<Vec<_>>(),
        ));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
            text(some(vec!["claude-code".into(); n])),
            text(users),
            text(some(vec!["p".into(); n])),
            text(some(sessions)),
            text(some(cwds)),
            text(some(vec!["main".into(); n])),
            text(models.into_iter().map(|m| m.map(str::to_string)).collect()),
            text(some(speeds.into_iter().map(str::to_string).collect())),
            Arc::new(BooleanArray::from(tool_use)),
            Arc::new(datafusion::arrow::array::UInt16Array::from(
                (0..n).map(|i| (i % 5 != 0).then_some((i % 7) as u16)).collect::<Vec<_>>(),
            )),
            Arc::new(datafusion::arrow::array::UInt32Array::from((0..n).map(|i| i as u32 % 3).collect::<Vec<_>>())),
            tokens(input),
            tokens(output),
            tokens(cache_read),
            tokens(vec![0; n]),
            tokens(vec![0; n]),
            tokens(vec![0; n]),
        ];
        (schema.clone(), RecordBatch::try_new(schema, columns).expect("batch"))
    }

    /// (session, model, speed, bucket, day, sums, first, last, first call)
    type Row = (String, String, String, u64, i32, Vec<u64>, i64, i64, (i64, u64));
    type Collapsed = std::collections::BTreeMap<(String, String, String, i32), (Vec<u64>, i64, i64, (i64, u64))>;

    /// Rows merged across price bands (the pass cuts bands per model, the SQL across models).
    fn collapse(rows: Vec<Row>) -> Collapsed {
        let mut collapsed = Collapsed::new();
        for (session, model, speed, _, day, sums, first, last, first_call) in rows {
            let entry = collapsed.entry((session, model, speed, day)).or_insert((
                vec![0; sums.len()],
                i64::MAX,
                i64::MIN,
                (i64::MAX, 0),
            ));
            entry.0.iter_mut().zip(&sums).for_each(|(total, value)| *total += value);
            entry.1 = entry.1.min(first);
            entry.2 = entry.2.max(last);
            entry.3 = entry.3.min(first_call);
        }
        collapsed
    }

    /// The grain as the SQL of `grain_sql` computes it, keyed like the pass's rows.
    fn by_sql(engine: &Engine, rules: GrainRules) -> Vec<Row> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let sql = grain_sql(&Filters::default(), rules, &prompt_bucket_sql(&engine.band_floors));
        let batches = runtime.block_on(engine.query(&format!("{sql} ORDER BY 1, 2, 3, 4, 5"))).expect("query");
        let mut rows = Vec::new();
        for batch in &batches {
            let text = |name| columns::strings(batch, name).expect("strings");
            let count = |name| columns::counts(batch, name).expect("counts");
            let (session, model, speed) = (text("session"), text("model"), text("speed"));
            let (bucket, day, first_call) = (count("bucket"), count("day"), count("first_call"));
            let sums: Vec<Vec<u64>> = [
                "input",
                "output",
                "cache_read",
                "calls",
                "cacheable_input",
                "cacheable_calls",
                "routine_input",
                "routine_output",
                "routine_cache_read",
                "routine_calls",
            ]
            .into_iter()
            .map(count)
            .collect();
            let (first, last) = (count("first_ts"), count("last_ts"));
            for row in 0..batch.num_rows() {
                let packed = first_call[row] as i64;
                rows.push((
                    session[row].clone().expect("session"),
                    model[row].clone().expect("model"),
                    speed[row].clone().expect("speed"),
                    bucket[row],
                    day[row] as i32,
                    sums.iter().map(|column| column[row]).collect(),
                    first[row] as i64,
                    last[row] as i64,
                    ((packed >> 23) + 1_577_836_800_000, (packed & 0x7f_ffff) as u64),
                ));
            }
        }
        rows
    }

    #[test]
    fn the_pass_computes_what_the_grain_sql_computes() {
        let catalog = PriceCatalog::pinned().expect("catalog");
        let portfolio = Portfolio::default();
        let rules = GrainRules { as_of: i64::MAX / 2, small_output: 200, min_cacheable_input: 1024 };
        for dictionary in [false, true] {
            let (schema, batch) = calls(dictionary);
            let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let engine = runtime
                .block_on(Engine::new(schema, vec![batch.slice(0, 150), batch.slice(150, 250)], &catalog))
                .expect("engine");
            let grain = runtime
                .block_on(scan(&engine, &Filters::default(), rules, band_floors(&catalog, &portfolio)))
                .expect("grain");
            let ours: Vec<_> = grain
                .rows
                .iter()
                .map(|row| {
                    let t = row.tokens;
                    let r = row.routine;
                    (
                        grain.sessions[row.session as usize].id.clone(),
                        grain.models[row.model as usize].clone(),
                        row.speed.as_str().to_string(),
                        row.bucket,
                        row.day,
                        vec![
                            t.input,
                            t.output,
                            t.cache_read,
                            row.calls,
                            row.cacheable_input,
                            row.cacheable_calls,
                            r.input,
                            r.output,
                            r.cache_read,
                            row.routine_calls,
                        ],
                        row.first_ts,
                        row.last_ts,
                        row.first_call,
                    )
                })
                .collect();
            let theirs = by_sql(&engine, rules);
            assert!(ours.iter().any(|row| row.3 > 0) && ours.iter().any(|row| row.1 == UNKNOWN_MODEL));
            assert_eq!(collapse(ours), collapse(theirs), "dictionary columns: {dictionary}");
            // Priced in its bands, each session's cost on each model is the SQL's to the digit.
            let mut our_costs: std::collections::BTreeMap<(String, String), Option<freight_core::Money>> =
                Default::default();
            for (row, cost) in grain.rows.iter().zip(crate::attribution::grain_costs(&grain, &catalog)) {
                let key = (grain.sessions[row.session as usize].id.clone(), grain.models[row.model as usize].clone());
                let entry = our_costs.entry(key).or_insert(Some(freight_core::Money::ZERO));
                *entry = entry.zip(cost).map(|(a, b)| a + b);
            }
            let sql = crate::pricing::priced_rows_sql(&grain_sql(
                &Filters::default(),
                rules,
                &prompt_bucket_sql(&engine.band_floors),
            ));
            let batches = runtime
                .block_on(engine.query(&format!("SELECT session, model, SUM(cost) AS cost FROM ({sql}) GROUP BY 1, 2")))
                .expect("priced");
            let mut their_costs = std::collections::BTreeMap::new();
            for batch in &batches {
                let (sessions, models) =
                    (columns::strings(batch, "session").expect("s"), columns::strings(batch, "model").expect("m"));
                let costs = columns::decimals(batch, "cost").expect("cost");
                for row in 0..batch.num_rows() {
                    their_costs.insert(
                        (sessions[row].clone().expect("s"), models[row].clone().expect("m")),
                        costs[row].map(|cost| cost.normalize()),
                    );
                }
            }
            let our_costs: std::collections::BTreeMap<_, _> =
                our_costs.into_iter().map(|(key, cost)| (key, cost.map(|c| c.normalize()))).collect();
            assert_eq!(our_costs, their_costs);
            // Each session's smallest user, and its places with their calls.
            for session in &grain.sessions {
                let index = grain.sessions.iter().position(|s| s.id == session.id).expect("listed");
                let calls: u64 = grain.rows.iter().filter(|r| r.session as usize == index).map(|r| r.calls).sum();
                assert_eq!(session.places.iter().map(|p| p.2).sum::<u64>(), calls);
                assert_eq!(session.places.len(), 2);
                assert_eq!(session.user.as_deref(), Some(format!("u{}@example.com", &session.id[1..]).as_str()));
                assert_eq!(session.tool, "claude-code");
            }
        }
    }

    #[test]
    fn a_period_cut_from_the_days_is_the_scan_of_the_period() {
        let catalog = PriceCatalog::pinned().expect("catalog");
        let floors = band_floors(&catalog, &Portfolio::default());
        let rules = GrainRules { as_of: i64::MAX / 2, small_output: 200, min_cacheable_input: 1024 };
        let (schema, batch) = calls(true);
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let batches = vec![batch.slice(0, 90), batch.slice(90, 160), batch.slice(250, 150)];
        let engine = runtime.block_on(Engine::new(schema, batches, &catalog)).expect("engine");
        let date = |day: u32| chrono::NaiveDate::from_ymd_opt(2025, 11, day);
        for timezone in ["UTC", "America/Los_Angeles"] {
            let whole = Filters { timezone: timezone.into(), ..Filters::default() };
            let days = runtime.block_on(scan_days(&engine, &whole, rules, floors.clone())).expect("days");
            assert!(days.grain.rows.iter().map(|row| row.day).collect::<std::collections::BTreeSet<_>>().len() >= 3);
            for (since, until) in [
                (None, None),
                (date(14), None),
                (None, date(14)),
                (date(13), date(13)),
                (date(14), date(15)),
                (date(20), None),
                (None, date(1)),
            ] {
                let filters = Filters { since, until, ..whole.clone() };
                let (grain, timelines) =
                    runtime.block_on(scan_with_timelines(&engine, &filters, rules, floors.clone())).expect("scan");
                let (cut, cut_timelines) = days.period(since, until);
                let period = format!("{timezone} {since:?}..{until:?}");
                assert_eq!(cut.sessions, grain.sessions, "{period}");
                assert_eq!(cut.models, grain.models, "{period}");
                assert_eq!(cut.rows, grain.rows, "{period}");
                let alone = days.period_grain(since, until);
                assert_eq!(
                    (alone.sessions, alone.models, alone.rows),
                    (cut.sessions.clone(), cut.models.clone(), cut.rows.clone())
                );
                assert_eq!(cut_timelines.sessions, timelines.sessions, "{period}");
                assert_eq!(cut_timelines.models, timelines.models, "{period}");
                // A session wholly in the period shares its calls and what was read from them.
                for timeline in &cut_timelines.sessions {
                    let all = days.timelines.get(&timeline.id).expect("a session of the days");
                    let shared = std::sync::Arc::ptr_eq(&timeline.calls, &all.calls);
                    assert_eq!(shared, std::sync::Arc::ptr_eq(&timeline.memo, &all.memo), "{period}");
                    assert_eq!(timeline.class(), crate::routing::classify(timeline), "{period}");
                }
                // Not everything: some periods leave sessions, days and calls out.
                if since.is_some() {
                    assert!(cut.rows.len() < days.grain.rows.len(), "{period}");
                }
            }
        }
    }

    #[test]
    fn local_days_follow_the_zones_offset_changes() {
        let mut berlin = LocalDays::new("Europe/Berlin").expect("zone");
        // 2026-03-28 23:30 UTC is 00:30 on the 29th in Berlin (UTC+1); on 2026-03-29 after
        // 01:00 UTC Berlin is UTC+2, so 22:30 UTC is already the 30th.
        let day = |date: &str| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
        let epoch = day("1970-01-01");
        let as_days = |date: &str| (day(date) - epoch).num_days() as i32;
        let ms = |text: &str| chrono::DateTime::parse_from_rfc3339(text).expect("time").timestamp_millis();
        assert_eq!(berlin.day(ms("2026-03-28T23:30:00Z")), as_days("2026-03-29"));
        assert_eq!(berlin.day(ms("2026-03-29T21:30:00Z")), as_days("2026-03-29"));
        assert_eq!(berlin.day(ms("2026-03-29T22:30:00Z")), as_days("2026-03-30"));
        let mut utc = LocalDays::new("UTC").expect("zone");
        assert_eq!(utc.day(ms("2026-03-29T23:59:59Z")), as_days("2026-03-29"));
        assert!(LocalDays::new("Mars/Olympus").is_err());
    }
}
