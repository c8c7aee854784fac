//! freight's domain: usage events with raw token counts, money, and the price catalog that
//! turns tokens into cost. No I/O here beyond parsing catalog text handed in by the caller.

pub mod catalog;
pub mod event;
pub mod money;
pub mod tokens;

pub use catalog::{ModelPrice, PriceCatalog, Rates};
pub use event::{Speed, Tool, UsageEvent};
pub use money::Money;
pub use tokens::TokenCounts;
