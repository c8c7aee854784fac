//! The price catalog: per-token USD rates by model, read as is from LiteLLM's
//! `model_prices_and_context_window.json` (a pinned copy ships in the binary), with a user's
//! TOML overrides on top, and the name normalisation that finds a model's entry.

mod cost;
mod litellm;
mod names;
mod overrides;

pub use litellm::CatalogError;

use rust_decimal::Decimal;
use std::collections::HashMap;

/// The pinned LiteLLM price file (see `crates/freight-core/data/README.md`).
pub const PINNED_LITELLM_JSON: &str = include_str!("../../data/model_prices_and_context_window.json");

/// Per-token rates in USD for one price band.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rates {
    pub input: Decimal,
    pub output: Decimal,
    pub cache_read: Decimal,
    pub cache_write_5m: Decimal,
    pub cache_write_1h: Decimal,
    /// Rate for reasoning tokens when the model prices them apart from output.
    pub reasoning: Option<Decimal>,
}

/// A band that applies when the prompt is larger than `above_prompt_tokens`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub above_prompt_tokens: u64,
    pub rates: Rates,
}

/// Everything freight knows about one model's price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    /// The catalog key this price was read under.
    pub key: String,
    pub provider: Option<String>,
    pub base: Rates,
    /// Higher bands, ascending by threshold.
    pub tiers: Vec<Tier>,
    /// Price multiple of the fast / priority service tier, when the catalog or freight's
    /// table of published multipliers knows it (see `cost.rs`).
    pub fast_multiplier: Option<Decimal>,
}

impl ModelPrice {
    /// The rates for a call whose prompt (input + cache read + cache write) has `prompt` tokens.
    pub fn rates_for_prompt(&self, prompt: u64) -> &Rates {
        self.tiers.iter().rev().find(|tier| prompt > tier.above_prompt_tokens).map_or(&self.base, |tier| &tier.rates)
    }
}

/// Claude Code's name for messages it made itself (no API call): never billed.
pub const SYNTHETIC_MODEL: &str = "<synthetic>";

impl ModelPrice {
    /// A price of zero for everything.
    pub fn free(key: &str) -> ModelPrice {
        ModelPrice {
            key: key.to_string(),
            provider: None,
            base: Rates::default(),
            tiers: Vec::new(),
            fast_multiplier: None,
        }
    }
}

/// Where the catalog came from, shown in reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSource {
    pub description: String,
    pub entries: usize,
}

/// Model prices by catalog key, plus a memo of how raw model names resolved.
#[derive(Debug, Clone)]
pub struct PriceCatalog {
    prices: HashMap<String, ModelPrice>,
    pub sources: Vec<CatalogSource>,
}

impl PriceCatalog {
    /// The pinned LiteLLM catalog that ships with freight.
    pub fn pinned() -> Result<PriceCatalog, CatalogError> {
        PriceCatalog::from_litellm_json(
            PINNED_LITELLM_JSON,
            "LiteLLM model_prices_and_context_window.json 1.109.1 (pinned)",
        )
    }

    /// A catalog read from LiteLLM's JSON format.
    pub fn from_litellm_json(text: &str, description: &str) -> Result<PriceCatalog, CatalogError> {
        let mut prices = litellm::parse(text)?;
        for price in prices.values_mut() {
            price.fast_multiplier = price.fast_multiplier.or_else(|| cost::published_fast_multiplier(&price.key));
        }
        prices.insert(SYNTHETIC_MODEL.to_string(), ModelPrice::free(SYNTHETIC_MODEL));
        let entries = prices.len();
        Ok(PriceCatalog { prices, sources: vec![CatalogSource { description: description.to_string(), entries }] })
    }

    /// Adds or replaces prices from a TOML override file (see `overrides.rs` for the format).
    pub fn apply_overrides(&mut self, toml_text: &str, description: &str) -> Result<(), CatalogError> {
        let added = overrides::parse(toml_text, &self.prices)?;
        let entries = added.len();
        self.prices.extend(added.into_iter().map(|price| (price.key.clone(), price)));
        self.sources.push(CatalogSource { description: description.to_string(), entries });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.prices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    pub fn get_exact(&self, key: &str) -> Option<&ModelPrice> {
        self.prices.get(key)
    }

    /// Finds the price for a model name as a source wrote it: exact, then normalised
    /// (provider prefixes, dated snapshots, case). `None` means the cost is unknown.
    pub fn resolve(&self, model: &str) -> Option<&ModelPrice> {
        names::candidates(model).into_iter().find_map(|candidate| self.prices.get(&candidate))
    }
}
