//! Money: USD as an exact decimal. Dollars are never summed as f64.

use rust_decimal::Decimal;

/// An amount of US dollars.
pub type Money = Decimal;

/// Parses a JSON/TOML number as the decimal it was written as.
///
/// `f64`'s `Display` prints the shortest text that round-trips, which is the literal a price
/// file holds (`3e-06` prints as `0.000003`), so no binary noise reaches the decimal.
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    value.to_string().parse::<Decimal>().ok()
}

/// A decimal rounded for display, as f64 (JSON output keeps ccusage's numeric `totalCost`).
pub fn to_f64(value: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().unwrap_or(f64::NAN)
}

/// The amount as an integer count of `10^-scale` dollars (an Arrow `Decimal128` value at that
/// scale), rounded half away from zero; `None` when it does not fit.
pub fn mantissa_at(value: Decimal, scale: u32) -> Option<i128> {
    let mut scaled = value;
    scaled.rescale(scale);
    (scaled.scale() == scale).then(|| scaled.mantissa())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_keep_their_written_digits() {
        assert_eq!(decimal_from_f64(3e-6), Some("0.000003".parse().expect("literal")));
        assert_eq!(decimal_from_f64(3.75e-6), Some("0.00000375".parse().expect("literal")));
        assert_eq!(decimal_from_f64(1.25e-7), Some("0.000000125".parse().expect("literal")));
        assert_eq!(decimal_from_f64(f64::NAN), None);
    }
}
