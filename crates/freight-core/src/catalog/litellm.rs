//! Reads LiteLLM's `model_prices_and_context_window.json` as is: per-token USD rates, cache
//! read and write (5-minute and 1-hour) rates, reasoning rates and `*_above_<N>k_tokens` bands.

use super::{ModelPrice, Rates, Tier};
use crate::money::decimal_from_f64;
use rust_decimal::Decimal;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
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

/// Whether a field of an entry can set a rate: a base rate's name or a `*_above_<N>k_tokens`
/// band of any field (a band named only by fields freight does not price still exists, with
/// the base rates).
fn is_rate_field(field: &str) -> bool {
    RATE_FIELDS.contains(&field) || split_tier_key(field).is_some()
}

/// The names of the base rates, as LiteLLM spells them.
pub(super) const RATE_FIELDS: [&str; 6] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_1hr",
    "output_cost_per_reasoning_token",
];

/// Reads the catalog in one pass over the text, building values only for the fields a price
/// uses and skipping the rest (context sizes, capability flags, documentation links: most of
/// the 3 MB). A tree of the whole file took 20-50 ms of every command's start.
pub(super) fn parse(text: &str) -> Result<HashMap<String, ModelPrice>, CatalogError> {
    let json_error = |error| CatalogError::Json { source_name: "LiteLLM JSON".into(), error };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let prices = match Catalog::deserialize(&mut deserializer) {
        Ok(Catalog(prices)) => prices,
        Err(error) if error.classify() == serde_json::error::Category::Data => return Err(CatalogError::NotAnObject),
        Err(error) => return Err(json_error(error)),
    };
    deserializer.end().map_err(json_error)?;
    Ok(prices)
}

/// The catalog's entries that have token prices, by key; a key that comes twice keeps its last
/// entry, as a JSON object read into a map does.
struct Catalog(HashMap<String, ModelPrice>);

impl<'de> Deserialize<'de> for Catalog {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Catalog, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Catalog;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object of models")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Catalog, A::Error> {
                let mut prices = HashMap::new();
                while let Some(Key(key)) = map.next_key()? {
                    if key == "sample_spec" {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    match map.next_value::<Entry>()?.price(&key) {
                        Some(price) => prices.insert(key.into_owned(), price),
                        None => prices.remove(key.as_ref()),
                    };
                }
                Ok(Catalog(prices))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// A key, borrowed from the text unless it holds escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// What one entry says about price: its rate fields that hold numbers, its provider and its
/// fast-tier multiple. Anything but an object is an entry without prices.
#[derive(Default)]
struct Entry<'de> {
    rates: BTreeMap<Cow<'de, str>, Decimal>,
    provider: Option<String>,
    fast_multiplier: Option<Decimal>,
}

impl<'de> Entry<'de> {
    fn price(self, key: &str) -> Option<ModelPrice> {
        let fields = self.rates.iter().map(|(field, value)| (field.as_ref(), *value));
        let mut price = price_from_fields(key, fields, self.provider)?;
        price.fast_multiplier = self.fast_multiplier;
        Some(price)
    }
}

impl<'de> Deserialize<'de> for Entry<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entry<'de>, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = Entry<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a model entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry<'de>, A::Error> {
                let mut entry = Entry::default();
                while let Some(Key(field)) = map.next_key()? {
                    match field.as_ref() {
                        "litellm_provider" => {
                            entry.provider = map.next_value::<Value>()?.as_str().map(str::to_string);
                        }
                        "provider_specific_entry" => {
                            entry.fast_multiplier = map.next_value::<Value>()?.get("fast").and_then(number);
                        }
                        name if is_rate_field(name) => match number(&map.next_value::<Value>()?) {
                            Some(value) => {
                                entry.rates.insert(field, value);
                            }
                            None => {
                                entry.rates.remove(&field);
                            }
                        },
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(entry)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Entry<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Entry::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
            fn visit_unit<E>(self) -> Result<Entry<'de>, E> {
                Ok(Entry::default())
            }
        }
        deserializer.deserialize_any(EntryVisitor)
    }
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

    /// The catalog as a JSON tree read into prices: what [`parse`] must give.
    fn parse_as_tree(text: &str) -> HashMap<String, ModelPrice> {
        let Value::Object(entries) = serde_json::from_str(text).expect("json") else { panic!("not an object") };
        entries
            .iter()
            .filter(|(key, _)| key.as_str() != "sample_spec")
            .filter_map(|(key, value)| {
                let entry = value.as_object()?;
                let provider = entry.get("litellm_provider").and_then(Value::as_str).map(str::to_string);
                let fields = entry.iter().filter_map(|(field, value)| number(value).map(|d| (field.as_str(), d)));
                let mut price = price_from_fields(key, fields, provider)?;
                price.fast_multiplier =
                    entry.get("provider_specific_entry").and_then(|extra| extra.get("fast")).and_then(number);
                Some((key.clone(), price))
            })
            .collect()
    }

    #[test]
    fn one_pass_reads_what_a_tree_of_the_file_gives() {
        let pinned = parse(crate::catalog::PINNED_LITELLM_JSON).expect("pinned");
        assert!(pinned.len() > 1000, "{} priced models", pinned.len());
        assert_eq!(pinned, parse_as_tree(crate::catalog::PINNED_LITELLM_JSON));
        // Keys twice (the last counts), rates as strings or not numbers, bands of unpriced
        // fields, escaped keys, entries that are not objects, and a priced entry replaced by
        // one without prices.
        let odd = r#"{
          "a": {"input_cost_per_token": 1e-06, "input_cost_per_token": "2e-06", "output_cost_per_token": null,
                "output_cost_per_token_above_128k_tokens": 4e-06, "input_cost_per_audio_token_above_64k_tokens": 1,
                "provider_specific_entry": {"fast": 6}, "litellm_provider": 3, "max_tokens": 9},
          "b\u0062": {"output_cost_per_token": 5e-06, "litellm_provider": "x", "litellm_provider": "y",
                "cache_read_input_token_cost": 1e-07, "cache_read_input_token_cost": "free"},
          "c": [1, {"input_cost_per_token": 1}], "d": 3, "e": "text", "f": null, "g": true,
          "h": {"input_cost_per_token": 1e-06}, "h": {"mode": "embedding"},
          "i": {"mode": "chat"}, "i": {"input_cost_per_token": 3e-06}
        }"#;
        let read = parse(odd).expect("odd");
        assert_eq!(read, parse_as_tree(odd));
        assert_eq!(read.keys().map(String::as_str).collect::<std::collections::BTreeSet<_>>(), ["a", "bb", "i"].into());
        assert!(matches!(parse("[1, 2]"), Err(CatalogError::NotAnObject)));
        assert!(matches!(parse(r#"{"a": {"input_cost_per_token": 1e-06}"#), Err(CatalogError::Json { .. })));
        assert!(matches!(parse(r#"{} {}"#), Err(CatalogError::Json { .. })));
    }

    #[test]
    fn tier_keys_split() {
        assert_eq!(split_tier_key("input_cost_per_token_above_200k_tokens"), Some(("input_cost_per_token", 200_000)));
        assert_eq!(split_tier_key("cache_creation_input_token_cost_above_1hr"), None);
    }
}
