//! freight's reports as DataFusion SQL over Arrow tables (usage with its derived cost; the
//! spend, usage and output facts of the four pillars), plus the small per-entity Rust that
//! follows a reduction (5-hour billing blocks, links and cost allocation).

pub mod attribution;
pub mod behaviours;
pub mod blocks;
pub mod columns;
pub mod dataset;
pub mod engine;
pub mod export;
pub mod grain;
pub mod grouping;
pub mod leaderboard;
pub mod levels;
pub mod optimizable;
pub mod pillar_tally;
pub mod pillars;
pub mod pricing;
pub mod routing;
pub mod scope;
pub mod timeline;
pub mod tokenmaxxing;
pub mod trend;
pub mod usage;

pub use engine::{AnalyticsError, Engine};
pub use scope::Scope;
pub use usage::{Filters, Grouping, ModelUsage, UsageGroup, usage_report};
