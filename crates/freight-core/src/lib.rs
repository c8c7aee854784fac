//! freight's domain: usage events with raw token counts, money, the price catalog that turns
//! tokens into cost, outcomes, the org directory and exact cost
//! allocation. No I/O here beyond parsing text handed in by the caller.

pub mod actions;
pub mod allocate;
pub mod catalog;
pub mod event;
pub mod link;
pub mod money;
pub mod org;
pub mod outcome;
pub mod tokens;

pub use actions::{Actions, TurnFingerprint};
pub use catalog::{ModelPrice, PriceCatalog, Rates};
pub use event::{Speed, Tool, UsageEvent};
pub use money::Money;
pub use tokens::TokenCounts;
