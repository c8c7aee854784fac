//! Splitting an amount across parts by weight so that the parts add up to the amount exactly
//! (largest remainder at a fixed number of decimal places).

use crate::Money;

/// Decimal places shares are cut at (a ten-billionth of a dollar), or the amount's own, if more.
const SHARE_SCALE: u32 = 10;

/// Splits `amount` by `weights`. Parts sum to `amount` exactly. All-zero (or no) weights split
/// evenly; an empty `weights` returns an empty vector (the caller keeps the amount unallocated).
pub fn split(amount: Money, weights: &[u64]) -> Vec<Money> {
    if weights.is_empty() {
        return Vec::new();
    }
    let mut weights: Vec<u64> = if weights.iter().all(|&w| w == 0) { vec![1; weights.len()] } else { weights.to_vec() };
    let scale = amount.scale().max(SHARE_SCALE);
    let mut scaled = amount;
    scaled.rescale(scale);
    let units: i128 = scaled.mantissa();
    // Keep units × weight inside i128 (only astronomically large weights need this).
    while weights.iter().any(|&w| units.checked_mul(i128::from(w)).is_none()) {
        weights.iter_mut().for_each(|w| *w = (*w >> 1).max(u64::from(*w > 0)));
    }
    let total: i128 = weights.iter().map(|&w| i128::from(w)).sum();
    let mut parts: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, &weight) in weights.iter().enumerate() {
        let product = units * i128::from(weight);
        parts.push(product.div_euclid(total));
        remainders.push((product.rem_euclid(total), index));
    }
    let mut left = units - parts.iter().sum::<i128>();
    // Largest remainders first; ties to the earlier part, so the result is deterministic.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, index) in &remainders {
        if left == 0 {
            break;
        }
        parts[index] += 1;
        left -= 1;
    }
    parts.into_iter().map(|part| Money::from_i128_with_scale(part, scale).normalize()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(text: &str) -> Money {
        text.parse().expect("decimal")
    }

    #[test]
    fn thirds_add_up() {
        let parts = split(money("1"), &[1, 1, 1]);
        assert_eq!(parts.iter().sum::<Money>(), money("1"));
        assert_eq!(parts[0], money("0.3333333334"));
        assert_eq!(parts[2], money("0.3333333333"));
    }

    #[test]
    fn zero_weights_split_evenly_and_no_parts_allocate_nothing() {
        assert_eq!(split(money("2"), &[0, 0]), vec![money("1"), money("1")]);
        assert!(split(money("2"), &[]).is_empty());
        assert_eq!(split(money("2"), &[0, 5]), vec![money("0"), money("2")]);
    }

    proptest! {
        #[test]
        fn parts_conserve_the_amount(
            mantissa in 0i64..1_000_000_000_000,
            scale in 0u32..14,
            weights in proptest::collection::vec(0u64..1_000_000, 1..40),
        ) {
            let amount = Money::new(mantissa, scale);
            let parts = split(amount, &weights);
            prop_assert_eq!(parts.len(), weights.len());
            prop_assert_eq!(parts.iter().sum::<Money>(), amount);
            prop_assert!(parts.iter().all(|part| *part >= Money::ZERO));
            // Each part is within one unit of its exact share.
            let total: u64 = weights.iter().sum();
            if total > 0 {
                let unit = Money::new(1, amount.scale().max(SHARE_SCALE));
                for (part, &weight) in parts.iter().zip(&weights) {
                    let exact = amount * Money::from(weight) / Money::from(total);
                    prop_assert!((*part - exact).abs() <= unit, "{} vs {}", part, exact);
                }
            }
        }
    }
}
