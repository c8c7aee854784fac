//! User price overrides in TOML, with LiteLLM's field names:
//!
//! ```toml
//! [models."our-finetune"]
//! input_cost_per_token = 0.000002          # or a string, "0.000002", for an exact decimal
//! output_cost_per_token = 0.000008
//! cache_read_input_token_cost = 0.0000002
//! input_cost_per_token_above_200k_tokens = 0.000004
//! litellm_provider = "openai"
//!
//! [models."proxy/claude-sonnet"]
//! same_as = "claude-sonnet-4-5"            # start from a catalog entry, then override
//! ```

use super::ModelPrice;
use super::litellm::{CatalogError, RATE_FIELDS, price_from_fields, split_tier_key};
use crate::money::decimal_from_f64;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideFile {
    #[serde(default)]
    models: BTreeMap<String, BTreeMap<String, toml::Value>>,
}

fn rate_fields_of(price: &ModelPrice) -> Vec<(String, Decimal)> {
    let mut fields = Vec::new();
    let mut push_band = |suffix: String, rates: &super::Rates| {
        let values = [
            Some(rates.input),
            Some(rates.output),
            Some(rates.cache_read),
            Some(rates.cache_write_5m),
            Some(rates.cache_write_1h),
            rates.reasoning,
        ];
        for (name, value) in RATE_FIELDS.iter().zip(values) {
            if let Some(value) = value {
                fields.push((format!("{name}{suffix}"), value));
            }
        }
    };
    push_band(String::new(), &price.base);
    for tier in &price.tiers {
        push_band(format!("_above_{}k_tokens", tier.above_prompt_tokens / 1000), &tier.rates);
    }
    fields
}

pub(super) fn parse(text: &str, existing: &HashMap<String, ModelPrice>) -> Result<Vec<ModelPrice>, CatalogError> {
    let file: OverrideFile = toml::from_str(text)?;
    let mut prices = Vec::new();
    for (model, table) in file.models {
        let problem = |problem: String| CatalogError::Override { model: model.clone(), problem };
        let mut fields: Vec<(String, Decimal)> = Vec::new();
        let mut provider = None;
        if let Some(base) = table.get("same_as") {
            let base = base.as_str().ok_or_else(|| problem("`same_as` must be a model name".into()))?;
            let base_price = existing
                .get(base)
                .ok_or_else(|| problem(format!("`same_as` names `{base}`, which the catalog does not have")))?;
            fields = rate_fields_of(base_price);
            provider = base_price.provider.clone();
        }
        for (field, value) in &table {
            match field.as_str() {
                "same_as" => {}
                "litellm_provider" => provider = value.as_str().map(str::to_string),
                name if RATE_FIELDS.contains(&name) || split_tier_key(name).is_some() => {
                    let rate = match value {
                        toml::Value::Float(number) => decimal_from_f64(*number),
                        toml::Value::Integer(number) => Some(Decimal::from(*number)),
                        toml::Value::String(text) => text.trim().parse::<Decimal>().ok(),
                        _ => None,
                    }
                    .filter(|rate| !rate.is_sign_negative())
                    .ok_or_else(|| problem(format!("`{name}` must be a non-negative number")))?;
                    fields.retain(|(existing_name, _)| existing_name != name);
                    fields.push((name.to_string(), rate));
                }
                other => return Err(problem(format!("unknown field `{other}`"))),
            }
        }
        let price = price_from_fields(&model, fields.iter().map(|(name, rate)| (name.as_str(), *rate)), provider)
            .ok_or_else(|| problem("needs at least `input_cost_per_token` or `output_cost_per_token`".into()))?;
        prices.push(price);
    }
    Ok(prices)
}

#[cfg(test)]
mod tests {
    use crate::PriceCatalog;

    #[test]
    fn overrides_add_and_alias_models() {
        let mut catalog = PriceCatalog::from_litellm_json(
            r#"{"base": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}"#,
            "test",
        )
        .expect("catalog");
        catalog
            .apply_overrides(
                "[models.mine]\ninput_cost_per_token = \"0.000005\"\noutput_cost_per_token = 0.00001\n\
                 [models.alias]\nsame_as = \"base\"\noutput_cost_per_token = 3e-06\n",
                "test overrides",
            )
            .expect("overrides apply");
        let mine = catalog.get_exact("mine").expect("mine");
        assert_eq!(mine.base.input.to_string(), "0.000005");
        let alias = catalog.get_exact("alias").expect("alias");
        assert_eq!(alias.base.input.to_string(), "0.000001");
        assert_eq!(alias.base.output.to_string(), "0.000003");
    }

    #[test]
    fn override_errors_name_the_model_and_field() {
        let mut catalog = PriceCatalog::from_litellm_json("{}", "empty").expect("catalog");
        let error =
            catalog.apply_overrides("[models.x]\ninput_cost_per_tokn = 1.0\n", "t").expect_err("typo is an error");
        let message = error.to_string();
        assert!(message.contains("`x`") && message.contains("input_cost_per_tokn"), "{message}");
    }
}
