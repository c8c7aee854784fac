//! Where the quotes and backslashes of 64 bytes of JSON are, as two bit masks (bit `i` for
//! byte `i`): with SSE2 on x86-64, sixteen bytes per compare; elsewhere eight bytes at a time.
//!
//! With the masks, the end of a string is one `trailing_zeros` away, whatever its length,
//! instead of a loop whose exit the branch predictor misses on every string.

/// The bytes one pair of masks covers.
pub const BLOCK: usize = 64;

/// (quotes, backslashes) of `block`.
#[cfg(target_arch = "x86_64")]
pub fn masks(block: &[u8; BLOCK]) -> (u64, u64) {
    use safe_arch::{cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i, set_splat_i8_m128i};
    let quote = set_splat_i8_m128i(b'"' as i8);
    let backslash = set_splat_i8_m128i(b'\\' as i8);
    let (mut quotes, mut backslashes) = (0u64, 0u64);
    for (index, lane) in block.chunks_exact(16).enumerate() {
        let Ok(lane) = <&[u8; 16]>::try_from(lane) else { continue };
        let bytes = load_unaligned_m128i(lane);
        let shift = 16 * index;
        quotes |= u64::from(move_mask_i8_m128i(cmp_eq_mask_i8_m128i(bytes, quote)) as u16) << shift;
        backslashes |= u64::from(move_mask_i8_m128i(cmp_eq_mask_i8_m128i(bytes, backslash)) as u16) << shift;
    }
    (quotes, backslashes)
}

/// (quotes, backslashes) of `block`.
#[cfg(not(target_arch = "x86_64"))]
pub fn masks(block: &[u8; BLOCK]) -> (u64, u64) {
    let (mut quotes, mut backslashes) = (0u64, 0u64);
    for (index, word) in block.chunks_exact(8).enumerate() {
        let Ok(word) = <[u8; 8]>::try_from(word) else { continue };
        let word = u64::from_le_bytes(word);
        let shift = 8 * index;
        quotes |= u64::from(byte_mask(word, b'"')) << shift;
        backslashes |= u64::from(byte_mask(word, b'\\')) << shift;
    }
    (quotes, backslashes)
}

/// One bit per byte of `word` that equals `wanted` (exact, without the borrow that the
/// shorter zero-byte test lets into the bytes above a match).
#[cfg(not(target_arch = "x86_64"))]
fn byte_mask(word: u64, wanted: u8) -> u8 {
    const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let diff = word ^ (0x0101_0101_0101_0101 * u64::from(wanted));
    let zero_highs = !(((diff & LOW_SEVEN) + LOW_SEVEN) | diff | LOW_SEVEN);
    // The high bit of byte i moves to bit 56 + i.
    ((zero_highs >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_quote_and_backslash_is_found_and_nothing_else() {
        let mut block = [0u8; BLOCK];
        // Every byte value, with quotes and backslashes next to each other and to bytes one
        // away from them (where a carry would spill into the next byte).
        for (index, byte) in block.iter_mut().enumerate() {
            *byte = match index % 7 {
                0 => b'"',
                1 => b'\\',
                2 => b'#',
                3 => b'!',
                4 => b']',
                5 => 0x80 | index as u8,
                _ => index as u8,
            };
        }
        let (quotes, backslashes) = masks(&block);
        for (index, &byte) in block.iter().enumerate() {
            assert_eq!(quotes >> index & 1 == 1, byte == b'"', "quote bit {index}");
            assert_eq!(backslashes >> index & 1 == 1, byte == b'\\', "backslash bit {index}");
        }
    }
}
