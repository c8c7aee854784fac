//! Cost of one call from its tokens and a model's price. The same rule is written as SQL in
//! freight-analytics (`pricing.rs`) for bulk work; a property test holds the two equal.

use super::ModelPrice;
use crate::{Money, Speed, TokenCounts};
use rust_decimal::Decimal;

/// Published fast-tier multiples for models whose catalog entry does not carry one
/// (LiteLLM's `provider_specific_entry.fast`), matched on the end of the catalog key.
const PUBLISHED_FAST_MULTIPLIERS: [(&str, i64, u32); 6] = [
    ("claude-opus-4-6", 6, 0),
    ("claude-opus-4-7", 6, 0),
    ("claude-opus-4-8", 2, 0),
    ("gpt-5.5", 25, 1),
    ("gpt-5.4", 2, 0),
    ("gpt-5.3-codex", 2, 0),
];

pub(super) fn published_fast_multiplier(key: &str) -> Option<Decimal> {
    let lower = key.to_ascii_lowercase();
    let bare = super::names::strip_date(super::names::strip_vendor(&lower));
    PUBLISHED_FAST_MULTIPLIERS
        .iter()
        .find(|(model, _, _)| bare == *model || bare.ends_with(&format!("/{model}")))
        .map(|&(_, mantissa, scale)| Decimal::new(mantissa, scale))
}

impl ModelPrice {
    /// Price multiple of a service tier: Claude Code's fast mode costs the model's fast
    /// multiple (1 where none is published); OpenAI's priority tier costs the model's
    /// multiple, or twice the standard rates where none is published.
    pub fn speed_multiplier(&self, speed: Speed) -> Decimal {
        match speed {
            Speed::Standard => Decimal::ONE,
            Speed::Fast => self.fast_multiplier.unwrap_or(Decimal::ONE),
            Speed::Priority => {
                self.fast_multiplier.filter(|multiple| *multiple != Decimal::ONE).unwrap_or(Decimal::TWO)
            }
        }
    }
}

impl ModelPrice {
    /// The cost of one call. The band is chosen on the whole prompt (input + cache read +
    /// cache write), and then applies to every token of the call, as providers bill it.
    pub fn cost(&self, tokens: &TokenCounts, speed: Speed) -> Money {
        self.cost_in_band(tokens, speed, tokens.prompt())
    }

    /// The cost of `tokens` at the rates of the band that a prompt of `prompt` tokens falls in
    /// (for sums of calls that share a band, whose summed prompt says nothing about it).
    pub fn cost_in_band(&self, tokens: &TokenCounts, speed: Speed, prompt: u64) -> Money {
        let rates = self.rates_for_prompt(prompt);
        let output = match rates.reasoning {
            Some(reasoning_rate) => {
                let plain = tokens.output.saturating_sub(tokens.reasoning);
                Decimal::from(plain) * rates.output + Decimal::from(tokens.reasoning) * reasoning_rate
            }
            None => Decimal::from(tokens.output) * rates.output,
        };
        let cost = Decimal::from(tokens.input) * rates.input
            + Decimal::from(tokens.cache_read) * rates.cache_read
            + Decimal::from(tokens.cache_write_5m) * rates.cache_write_5m
            + Decimal::from(tokens.cache_write_1h) * rates.cache_write_1h
            + output;
        cost * self.speed_multiplier(speed)
    }
}

#[cfg(test)]
mod tests {
    use crate::{PriceCatalog, Speed, TokenCounts};
    use proptest::prelude::*;

    fn catalog() -> PriceCatalog {
        PriceCatalog::from_litellm_json(
            r#"{"m": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                      "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
                      "input_cost_per_token_above_200k_tokens": 6e-06,
                      "output_cost_per_token_above_200k_tokens": 2.25e-05,
                      "cache_read_input_token_cost_above_200k_tokens": 6e-07,
                      "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06}}"#,
            "test",
        )
        .expect("catalog")
    }

    fn tokens_below_band() -> impl Strategy<Value = TokenCounts> {
        (0u64..40_000, 0u64..50_000, 0u64..40_000, 0u64..10_000, 0u64..10_000).prop_map(
            |(input, output, cache_read, cache_write_5m, cache_write_1h)| TokenCounts {
                input,
                output,
                cache_read,
                cache_write_5m,
                cache_write_1h,
                reasoning: 0,
            },
        )
    }

    #[test]
    fn one_call_costs_what_the_price_sheet_says() {
        let catalog = catalog();
        let price = catalog.get_exact("m").expect("m");
        let tokens =
            TokenCounts { input: 3, output: 172, cache_read: 14_874, cache_write_5m: 1_331, ..Default::default() };
        // 3*3e-6 + 172*15e-6 + 14874*0.3e-6 + 1331*3.75e-6
        assert_eq!(price.cost(&tokens, Speed::Standard).to_string(), "0.01204245");
        let long = TokenCounts { input: 150_000, cache_read: 60_000, output: 1_000, ..Default::default() };
        // Over 200k prompt: every token at the band's rates.
        assert_eq!(price.cost(&long, Speed::Standard).normalize().to_string(), "0.9585");
        assert_eq!(
            price.cost(&tokens, Speed::Priority),
            price.cost(&tokens, Speed::Standard) * rust_decimal::Decimal::TWO
        );
    }

    proptest! {
        #[test]
        fn pricing_is_linear_within_a_band(a in tokens_below_band(), b in tokens_below_band()) {
            let catalog = catalog();
            let price = catalog.get_exact("m").expect("m");
            // Each prompt is at most 100k tokens, so both calls and their sum stay in the base band.
            prop_assert_eq!(
                price.cost(&(a + b), Speed::Standard),
                price.cost(&a, Speed::Standard) + price.cost(&b, Speed::Standard)
            );
            prop_assert_eq!(
                price.cost(&(a + a), Speed::Standard),
                price.cost(&a, Speed::Standard) * rust_decimal::Decimal::TWO
            );
        }
    }
}
