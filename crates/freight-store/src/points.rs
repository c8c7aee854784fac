//! Token-usage metric points (`claude_code.token.usage` and the like), kept as a cross-check
//! of the usage events, never summed into usage: one JSON line each, fsync'd before the
//! metrics request is answered.
//!
//! ```text
//! metrics/token_points.ndjson
//! ```

use crate::StoreError;
use freight_ingest::otlp::TokenPoint;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const POINTS_FILE: &str = "metrics/token_points.ndjson";

/// The append-only file of token points.
pub struct PointLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl PointLog {
    pub fn open(store_dir: &Path) -> Result<PointLog, StoreError> {
        let path = store_dir.join(POINTS_FILE);
        let folder = path.parent().unwrap_or(store_dir);
        std::fs::create_dir_all(folder).map_err(|source| StoreError::io(folder, source))?;
        crate::wal::complete_lines(&path)?;
        let file =
            File::options().create(true).append(true).open(&path).map_err(|source| StoreError::io(&path, source))?;
        Ok(PointLog { path, file: Mutex::new(file) })
    }

    /// Appends points durably.
    pub fn append(&self, points: &[TokenPoint]) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        for point in points {
            serde_json::to_writer(&mut lines, point).map_err(|error| StoreError::Encode(error.to_string()))?;
            lines.push(b'\n');
        }
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        file.write_all(&lines).and_then(|()| file.sync_data()).map_err(|source| StoreError::io(&self.path, source))
    }
}

/// The points a store holds.
pub fn read_points(store_dir: &Path) -> Result<Vec<TokenPoint>, StoreError> {
    let path = store_dir.join(POINTS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(StoreError::io(&path, source)),
    };
    // A last line being written right now is not complete yet.
    let complete = text.rfind('\n').map_or("", |at| &text[..at]);
    complete
        .lines()
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| StoreError::corrupt(&path, format!("line {}: {error}", index + 1)))
        })
        .collect()
}

/// Service, model and token kind.
pub type TotalKey = (String, String, String);

/// Tokens by (service, model, kind) as the metrics count them: delta points summed; for
/// cumulative series (one per attribute set and start time) the latest value.
pub fn metric_totals(points: &[TokenPoint]) -> BTreeMap<TotalKey, f64> {
    let mut totals: BTreeMap<TotalKey, f64> = BTreeMap::new();
    // A cumulative series: the total's key, the session and the start time.
    type Series = (String, String, String, String, u64);
    let mut cumulative: BTreeMap<Series, (u64, f64)> = BTreeMap::new();
    for point in points {
        let key =
            (point.service.clone().unwrap_or_default(), point.model.clone().unwrap_or_default(), point.kind.clone());
        if point.cumulative {
            let series = (key.0, key.1, key.2, point.session.clone().unwrap_or_default(), point.start_unix_nano);
            let latest = cumulative.entry(series).or_insert((0, 0.0));
            if point.time_unix_nano >= latest.0 {
                *latest = (point.time_unix_nano, point.value);
            }
        } else {
            *totals.entry(key).or_default() += point.value;
        }
    }
    for ((service, model, kind, _, _), (_, value)) in cumulative {
        *totals.entry((service, model, kind)).or_default() += value;
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(kind: &str, value: f64, cumulative: bool, start: u64, time: u64) -> TokenPoint {
        TokenPoint {
            metric: "claude_code.token.usage".into(),
            service: Some("claude-code".into()),
            session: Some("s".into()),
            model: Some("m".into()),
            kind: kind.into(),
            start_unix_nano: start,
            time_unix_nano: time,
            value,
            cumulative,
        }
    }

    #[test]
    fn delta_points_add_up_and_cumulative_series_count_their_latest_value() {
        let points = [
            point("input", 10.0, false, 0, 1),
            point("input", 5.0, false, 1, 2),
            point("output", 7.0, true, 100, 150),
            point("output", 9.0, true, 100, 200),
            point("output", 3.0, true, 300, 310),
        ];
        let totals = metric_totals(&points);
        let key = |kind: &str| ("claude-code".to_string(), "m".to_string(), kind.to_string());
        assert_eq!(totals[&key("input")], 15.0);
        assert_eq!(totals[&key("output")], 12.0);
    }

    #[test]
    fn points_survive_a_reopen_and_a_torn_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = PointLog::open(dir.path()).expect("opens");
        log.append(&[point("input", 1.0, false, 0, 1)]).expect("appends");
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(POINTS_FILE))
            .and_then(|mut file| file.write_all(b"{\"metric"))
            .expect("tears");
        assert_eq!(read_points(dir.path()).expect("reads").len(), 1);
        let log = PointLog::open(dir.path()).expect("reopens");
        log.append(&[point("input", 2.0, false, 1, 2)]).expect("appends");
        assert_eq!(read_points(dir.path()).expect("reads").len(), 2);
    }
}
