//! Bitmaps held as words, bit `i % 64` of word `i / 64` standing for position `i`:
//! the set bits of a range of positions, listed (the occupied classes a catalog change
//! walks again, `engine/tick_log.rs`; a last-seen look's matches in row order,
//! `engine/mod.rs`) or counted (a staged resize's picks per chunk of
//! rows, `staging/resize.rs`).

use std::ops::Range;

/// The words of `bits` that `range` covers, each with its bits outside `range` cleared,
/// with their indexes; words past the end read as clear.
fn masked_words(bits: &[u64], range: Range<usize>) -> impl Iterator<Item = (usize, u64)> + '_ {
    let words = range.start / 64..range.end.div_ceil(64);
    words.map(move |w| {
        let lo = range.start.saturating_sub(w * 64).min(64);
        let hi = range.end.saturating_sub(w * 64).min(64);
        // The word's bits from `lo` up to (not including) `hi`.
        let keep = match hi - lo {
            64 => u64::MAX,
            width => ((1 << width) - 1) << lo,
        };
        (w, bits.get(w).copied().unwrap_or(0) & keep)
    })
}

/// The positions of the bits set in `bits` within `range`, in increasing order.
pub(crate) fn ones_in(bits: &[u64], range: Range<usize>) -> impl Iterator<Item = usize> + '_ {
    masked_words(bits, range).flat_map(|(w, mut word)| {
        std::iter::from_fn(move || {
            (word != 0).then(|| {
                let i = word.trailing_zeros() as usize;
                word &= word - 1;
                w * 64 + i
            })
        })
    })
}

/// How many bits of `bits` are set within `range`.
pub(crate) fn count_ones_in(bits: &[u64], range: Range<usize>) -> usize {
    masked_words(bits, range)
        .map(|(_, word)| word.count_ones() as usize)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ones_in` gives the set bits of any range, word boundaries and empty ranges
    /// included, as a bit-by-bit look does.
    #[test]
    fn ones_in_lists_the_bits_set_in_a_range() {
        let bits = [0x8000_0000_0000_0001u64, u64::MAX, 0, 0b1010];
        let set = |i: usize| bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1);
        for start in [0, 1, 63, 64, 65, 127, 128, 190, 200, 256] {
            for end in [start, start + 1, 64, 100, 128, 193, 195, 256, 300] {
                let want: Vec<usize> = (start..end.max(start)).filter(|&i| set(i)).collect();
                let got: Vec<usize> = ones_in(&bits, start..end.max(start)).collect();
                assert_eq!(got, want, "{start}..{end}");
            }
        }
    }

    /// `count_ones_in` counts the set bits of any range of a bitmap: within one word,
    /// across two, across many, empty, and at the bitmap's ends and past them.
    #[test]
    fn count_ones_in_counts_the_set_bits_of_a_range() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let bits: Vec<u64> = (0..5).map(|_| rng.gen::<u64>()).collect();
        let set = |i: usize| bits.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1);
        for start in 0..=330 {
            for end in start..=330 {
                let want = (start..end).filter(|&i| set(i)).count();
                assert_eq!(count_ones_in(&bits, start..end), want, "{start}..{end}");
            }
        }
    }
}
