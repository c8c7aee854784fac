//! Reads LiteLLM's `model_prices_and_context_window.json` as is: per-token USD rates, cache
//! read and write (5-minute and 1-hour) rates, reasoning rates and `*_above_<N>k_tokens` bands.

use super::{ModelPrice, Rates, Tier};
use crate::money::decimal_from_f64;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("price catalog {source_name} is not valid JSON: {error}")]
    Json { source_name: String, error: serde_json::Error },
    #[error("price catalog is not a JSON object of models")]
    NotAnObject,
    #[error("price override file: {0}")]
    OverrideToml(#[from] toml::de::Error),
    #[error("price override for model `{model}`: {problem}")]
    Override { model: String, problem: String },
}

/// The base-rate fields of one band, in LiteLLM's names.
#[derive(Default)]
struct RawRates {
    input: Option<Decimal>,
    output: Option<Decimal>,
    cache_read: Option<Decimal>,
    cache_write_5m: Option<Decimal>,
    cache_write_1h: Option<Decimal>,
    reasoning: Option<Decimal>,
}

impl RawRates {
    fn set(&mut self, field: &str, value: Decimal) -> bool {
        let slot = match field {
            "input_cost_per_token" => &mut self.input,
            "output_cost_per_token" => &mut self.output,
            "cache_read_input_token_cost" => &mut self.cache_read,
            "cache_creation_input_token_cost" => &mut self.cache_write_5m,
            "cache_creation_input_token_cost_above_1hr" => &mut self.cache_write_1h,
            "output_cost_per_reasoning_token" => &mut self.reasoning,
            _ => return false,
        };
        *slot = Some(value);
        true
    }

    /// Fills gaps with Anthropic's published multipliers of the input rate (as ccusage does):
    /// a 5-minute cache write 1.25x, a cache read 0.1x, a 1-hour write 2x.
    fn complete(&self, fallback: Option<&Rates>) -> Rates {
        let input = self.input.or(fallback.map(|rates| rates.input)).unwrap_or_default();
        Rates {
            input,
            output: self.output.or(fallback.map(|rates| rates.output)).unwrap_or_default(),
            cache_read: self
                .cache_read
                .or(fallback.map(|rates| rates.cache_read))
                .unwrap_or(input * Decimal::new(1, 1)),
            cache_write_5m: self
                .cache_write_5m
                .or(fallback.map(|rates| rates.cache_write_5m))
                .unwrap_or(input * Decimal::new(125, 2)),
            cache_write_1h: self.cache_write_1h.unwrap_or(input * Decimal::TWO),
            reasoning: self.reasoning.or(fallback.and_then(|rates| rates.reasoning)),
        }
    }
}

fn number(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => number.as_f64().and_then(decimal_from_f64),
        Value::String(text) => text.trim().parse::<f64>().ok().and_then(decimal_from_f64),
        _ => None,
    }
}

/// Splits `input_cost_per_token_above_200k_tokens` into (`input_cost_per_token`, 200_000).
pub(super) fn split_tier_key(key: &str) -> Option<(&str, u64)> {
    let (field, band) = key.rsplit_once("_above_")?;
    let thousands = band.strip_suffix("k_tokens")?;
    let thousands: u64 = thousands.parse().ok()?;
    Some((field, thousands * 1000))
}

/// One entry's fields into a price; `None` when the entry has no token prices at all.
pub(super) fn price_from_fields<'a>(
    key: &str,
    fields: impl Iterator<Item = (&'a str, Decimal)>,
    provider: Option<String>,
) -> Option<ModelPrice> {
    let mut base = RawRates::default();
    let mut bands: BTreeMap<u64, RawRates> = BTreeMap::new();
    for (field, value) in fields {
        if base.set(field, value) {
            continue;
        }
        if let Some((base_field, threshold)) = split_tier_key(field) {
            bands.entry(threshold).or_default().set(base_field, value);
        }
    }
    if base.input.is_none() && base.output.is_none() {
        return None;
    }
    let base = base.complete(None);
    let tiers = bands
        .into_iter()
        .map(|(threshold, raw)| Tier { above_prompt_tokens: threshold, rates: raw.complete(Some(&base)) })
        .collect();
    Some(ModelPrice { key: key.to_string(), provider, base, tiers, fast_multiplier: None })
}

fn price_from_entry(key: &str, entry: &Map<String, Value>) -> Option<ModelPrice> {
    let provider = entry.get("litellm_provider").and_then(Value::as_str).map(str::to_string);
    let fields = entry.iter().filter_map(|(field, value)| number(value).map(|decimal| (field.as_str(), decimal)));
    let mut price = price_from_fields(key, fields, provider)?;
    price.fast_multiplier = entry.get("provider_specific_entry").and_then(|extra| extra.get("fast")).and_then(number);
    Some(price)
}

pub(super) fn parse(text: &str) -> Result<HashMap<String, ModelPrice>, CatalogError> {
    let root: Value =
        serde_json::from_str(text).map_err(|error| CatalogError::Json { source_name: "LiteLLM JSON".into(), error })?;
    let Value::Object(entries) = root else {
        return Err(CatalogError::NotAnObject);
    };
    Ok(entries
        .iter()
        .filter(|(key, _)| key.as_str() != "sample_spec")
        .filter_map(|(key, value)| value.as_object().and_then(|entry| price_from_entry(key, entry)))
        .map(|price| (price.key.clone(), price))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("decimal literal")
    }

    #[test]
    fn reads_bands_and_cache_durations() {
        let json = r#"{
          "sample_spec": {"input_cost_per_token": 0},
          "m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
                "input_cost_per_token_above_200k_tokens": 6e-06,
                "output_cost_per_token_above_200k_tokens": 2.25e-05,
                "litellm_provider": "anthropic", "mode": "chat"},
          "embedding-only": {"mode": "embedding", "output_vector_size": 3}
        }"#;
        let prices = parse(json).expect("parses");
        assert_eq!(prices.len(), 1);
        let m = &prices["m"];
        assert_eq!(m.base.input, dec("0.000003"));
        assert_eq!(m.base.cache_write_1h, dec("0.000006"));
        assert_eq!(m.tiers.len(), 1);
        assert_eq!(m.tiers[0].above_prompt_tokens, 200_000);
        assert_eq!(m.tiers[0].rates.input, dec("0.000006"));
        // A band without its own cache-read rate keeps the base one.
        assert_eq!(m.tiers[0].rates.cache_read, dec("0.0000003"));
        assert_eq!(m.provider.as_deref(), Some("anthropic"));
    }

    #[test]
    fn tier_keys_split() {
        assert_eq!(split_tier_key("input_cost_per_token_above_200k_tokens"), Some(("input_cost_per_token", 200_000)));
        assert_eq!(split_tier_key("cache_creation_input_token_cost_above_1hr"), None);
    }
}
