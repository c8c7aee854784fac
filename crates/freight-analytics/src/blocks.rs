//! Five-hour billing blocks, as Claude's usage limits count them: a block starts at the hour
//! of its first call and holds every call until five hours have passed since that hour or
//! since the previous call; a silence longer than a block shows as a gap.

use crate::columns;
use crate::engine::{AnalyticsError, Engine};
use crate::usage::{Filters, check_timezone, where_sql};
use freight_core::{Money, TokenCounts};
use serde::Serialize;

pub const BLOCK_MILLIS: i64 = 5 * 60 * 60 * 1000;
const HOUR_MILLIS: i64 = 60 * 60 * 1000;

/// One block, or one gap between blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Block {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Time of the last call in the block (the gap's end for a gap).
    pub last_call_ms: i64,
    pub is_gap: bool,
    /// The block is still open at the as-of time.
    pub is_active: bool,
    pub calls: u64,
    pub tokens: TokenCounts,
    pub cost: Money,
    pub unpriced_calls: u64,
    pub models: Vec<String>,
}

/// One call, as the block cutter needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedCall {
    pub ts_ms: i64,
    pub model: Option<String>,
    pub tokens: TokenCounts,
    pub cost: Option<Money>,
}

fn open_block(start_ms: i64) -> Block {
    Block {
        start_ms,
        end_ms: start_ms + BLOCK_MILLIS,
        last_call_ms: start_ms,
        is_gap: false,
        is_active: false,
        calls: 0,
        tokens: TokenCounts::default(),
        cost: Money::ZERO,
        unpriced_calls: 0,
        models: Vec::new(),
    }
}

fn add_call(block: &mut Block, call: &TimedCall) {
    block.calls += 1;
    block.last_call_ms = call.ts_ms;
    block.tokens += call.tokens;
    match call.cost {
        Some(cost) => block.cost += cost,
        None => block.unpriced_calls += 1,
    }
    if let Some(model) = &call.model
        && !block.models.contains(model)
    {
        block.models.push(model.clone());
    }
}

fn close(mut block: Block, as_of_ms: i64) -> Block {
    block.is_active = as_of_ms - block.last_call_ms < BLOCK_MILLIS && as_of_ms < block.end_ms;
    block
}

/// Cuts calls (sorted by time) into blocks; `as_of_ms` decides which block is still active.
pub fn cut_blocks(calls: &[TimedCall], as_of_ms: i64) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    for call in calls {
        if let Some(block) = current.as_mut() {
            let since_start = call.ts_ms - block.start_ms;
            let since_last = call.ts_ms - block.last_call_ms;
            if since_start <= BLOCK_MILLIS && since_last <= BLOCK_MILLIS {
                add_call(block, call);
                continue;
            }
            let last_call_ms = block.last_call_ms;
            blocks.extend(current.take().map(|block| close(block, as_of_ms)));
            if since_last > BLOCK_MILLIS {
                let mut gap = open_block(last_call_ms + BLOCK_MILLIS);
                gap.is_gap = true;
                gap.end_ms = call.ts_ms;
                gap.last_call_ms = call.ts_ms;
                blocks.push(gap);
            }
        }
        let mut block = open_block(call.ts_ms.div_euclid(HOUR_MILLIS) * HOUR_MILLIS);
        add_call(&mut block, call);
        current = Some(block);
    }
    blocks.extend(current.map(|block| close(block, as_of_ms)));
    blocks
}

/// Blocks over the filtered usage.
pub async fn blocks_report(engine: &Engine, filters: &Filters, as_of_ms: i64) -> Result<Vec<Block>, AnalyticsError> {
    check_timezone(&filters.timezone)?;
    let sql = format!(
        "SELECT ts, CAST(model AS VARCHAR) AS model, input_tokens AS input, output_tokens AS output,
                cache_read_tokens AS cache_read, cache_write_5m_tokens AS cache_write_5m,
                cache_write_1h_tokens AS cache_write_1h, reasoning_tokens AS reasoning, cost
         FROM priced_usage WHERE {} ORDER BY ts",
        where_sql(filters)
    );
    let mut calls = Vec::new();
    for batch in engine.query(&sql).await? {
        let ts = columns::millis(&batch, "ts")?;
        let models = columns::strings(&batch, "model")?;
        let tokens = columns::tokens(&batch)?;
        let costs = columns::decimals(&batch, "cost")?;
        for row in 0..batch.num_rows() {
            calls.push(TimedCall {
                ts_ms: ts[row].unwrap_or_default(),
                model: models[row].clone(),
                tokens: tokens[row],
                cost: costs[row],
            });
        }
    }
    Ok(cut_blocks(&calls, as_of_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(minutes: i64) -> TimedCall {
        TimedCall {
            ts_ms: minutes * 60_000,
            model: Some("m".into()),
            tokens: TokenCounts { input: 1, ..TokenCounts::default() },
            cost: Some(Money::ONE),
        }
    }

    #[test]
    fn blocks_start_on_the_hour_and_gaps_show() {
        // 00:30 and 04:59 share a block started at 00:00; 05:10 is past 00:00 + 5h; 12:00 follows a gap.
        let calls = [call(30), call(299), call(310), call(720)];
        let blocks = cut_blocks(&calls, i64::MAX / 2);
        let shape: Vec<(i64, bool, u64)> = blocks.iter().map(|b| (b.start_ms / 60_000, b.is_gap, b.calls)).collect();
        assert_eq!(shape, vec![(0, false, 2), (300, false, 1), (610, true, 0), (720, false, 1)]);
        assert!(blocks.iter().all(|b| !b.is_active));
    }

    #[test]
    fn the_last_block_is_active_while_it_is_open() {
        let blocks = cut_blocks(&[call(30)], 60 * 60_000);
        assert!(blocks[0].is_active);
        let blocks = cut_blocks(&[call(30)], 301 * 60_000);
        assert!(!blocks[0].is_active);
    }
}
