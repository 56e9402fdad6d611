//! Bitmaps held as words, bit `i % 64` of word `i / 64` standing for position `i`:
//! the set bits of a range of positions, listed (the occupied classes a catalog change
//! walks again, `engine/tick_log.rs`; a last-seen look's matches in row order,
//! `engine/mod.rs`); and sparse bitmaps ([`Words`]), only the words
//! holding a set bit with their indexes: how a staged resize's flips travel from its
//! choice through the fleet's change log to the engine's hot words, a word of up to
//! 64 rows at a time where a list of rows took 4 bytes a row (a ramp step flips
//! millions).

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

/// A sparse bitmap: `(index, bits)` of each word holding a set bit, by increasing
/// index, each index once (as [`words_of`] and [`merge_words`] leave it).
pub type Words = Vec<(u32, u64)>;

/// The sparse bitmap of `rows` (increasing).
pub(crate) fn words_of(rows: &[u32]) -> Words {
    debug_assert!(rows.is_sorted(), "rows increasing");
    let mut words: Words = Vec::new();
    for &r in rows {
        let (w, bit) = (r / 64, 1u64 << (r % 64));
        match words.last_mut() {
            Some((last, bits)) if *last == w => *bits |= bit,
            _ => words.push((w, bit)),
        }
    }
    words
}

/// Makes `words` (none empty), in any order and with indexes repeated, a sparse
/// bitmap ([`Words`]) of the same set bits: sorted by index, the words of one index
/// merged. A log of one ramp step's words is one increasing run, left as it is after
/// one read; a longer log (a tick of several ramp steps) is sorted in parallel, runs
/// found in each part.
pub(crate) fn merge_words(words: &mut Words) {
    debug_assert!(words.iter().all(|&(_, bits)| bits != 0), "no empty word");
    if words.is_sorted_by(|a, b| a.0 < b.0) {
        return;
    }
    if words.len() >= 1 << 16 {
        use rayon::slice::ParallelSliceMut;
        words.par_sort_by_key(|&(w, _)| w);
    } else {
        words.sort_by_key(|&(w, _)| w);
    }
    words.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 |= later.1;
        }
        same
    });
}

/// The set positions of a sparse bitmap, in increasing order.
pub(crate) fn ones_of(words: &[(u32, u64)]) -> Ones<'_> {
    Ones {
        words,
        next: 0,
        word: 0,
        bits: 0,
    }
}

/// [`ones_of`]'s iterator: a plain cursor, where a `flat_map` over the words cost the
/// engine's update after a ramp step, which reads ahead with a second one, a third
/// more time.
pub(crate) struct Ones<'a> {
    words: &'a [(u32, u64)],
    next: usize,
    word: u32,
    bits: u64,
}

impl Iterator for Ones<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        while self.bits == 0 {
            let &(w, bits) = self.words.get(self.next)?;
            (self.word, self.bits, self.next) = (w, bits, self.next + 1);
        }
        let b = self.bits.trailing_zeros();
        self.bits &= self.bits - 1;
        Some(self.word * 64 + b)
    }
}

/// The sparse bitmap `words` without the positions `rows` (increasing).
pub(crate) fn without(words: &[(u32, u64)], rows: &[u32]) -> Words {
    let mut rows = rows.iter().peekable();
    let mut out = Vec::with_capacity(words.len());
    for &(w, mut bits) in words {
        while let Some(&&r) = rows.peek() {
            if r / 64 > w {
                break;
            }
            if r / 64 == w {
                bits &= !(1u64 << (r % 64));
            }
            rows.next();
        }
        if bits != 0 {
            out.push((w, bits));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows become a sparse bitmap and read back as themselves; merging a shuffled
    /// list of words, some indexes repeated, gives the sparse bitmap of their union;
    /// and `without` drops exactly the rows given, words it empties included.
    #[test]
    fn sparse_bitmaps_hold_their_rows() {
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for round in 0..50 {
            let span = [64, 200, 5_000][round % 3];
            let rows: Vec<u32> = (0..span).filter(|_| rng.gen_bool(0.2)).collect();
            let words = words_of(&rows);
            assert!(
                words.windows(2).all(|p| p[0].0 < p[1].0),
                "indexes increasing"
            );
            assert!(words.iter().all(|&(_, b)| b != 0), "no empty word");
            assert_eq!(ones_of(&words).collect::<Vec<_>>(), rows);
            // Split into single bits, some words again, shuffled, then merged.
            let mut log: Words = ones_of(&words).map(|r| (r / 64, 1 << (r % 64))).collect();
            log.extend(words.iter().step_by(3).copied());
            log.shuffle(&mut rng);
            merge_words(&mut log);
            assert_eq!(log, words, "merged");
            let gone: Vec<u32> = rows.iter().copied().filter(|_| rng.gen_bool(0.5)).collect();
            let mut extra: Vec<u32> = gone.clone();
            extra.extend((0..span).filter(|r| !rows.contains(r)).take(3));
            extra.sort_unstable();
            let left: Vec<u32> = rows.iter().copied().filter(|r| !gone.contains(r)).collect();
            assert_eq!(without(&words, &extra), words_of(&left), "round {round}");
        }
        let mut none = Words::new();
        merge_words(&mut none);
        assert!(none.is_empty());
    }

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
}
