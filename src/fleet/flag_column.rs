//! The fleet's staged flags, one bit a device (bit `i % 64` of word `i / 64` for row
//! `i`), where they were one byte a device.
//!
//! A staged resize flips a few percent of a cohort, rows scattered over the fleet: as
//! bytes, nearly every flip was a cache line of its own of a 10 MB column (at 10M
//! devices), read and written back; as bits, the column is 1.25 MB and mostly stays in
//! cache, and the engine's update after the flips reads each device's flag from it too.

use crate::prefetch::prefetch;

/// A column of flags, one bit a row. Bits past the last row are clear (so that the
/// derived equality is the rows').
#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub(super) struct FlagColumn {
    words: Vec<u64>,
    len: usize,
}

impl FlagColumn {
    /// The flags of `flags`, in order.
    #[cfg(test)]
    pub(super) fn from_bools(flags: &[bool]) -> FlagColumn {
        let mut column = FlagColumn::default();
        column.extend_from_bools(flags);
        column
    }

    /// Number of rows.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Row `i`'s flag.
    #[inline]
    pub(super) fn get(&self, i: usize) -> bool {
        self.view().get(i)
    }

    /// Sets row `i`'s flag.
    #[inline]
    pub(super) fn set(&mut self, i: usize, on: bool) {
        debug_assert!(i < self.len, "row {i} of {}", self.len);
        set_bits(&mut self.words[i / 64], 1u64 << (i % 64), on);
    }

    /// Adds a row.
    pub(super) fn push(&mut self, on: bool) {
        if self.len % 64 == 0 {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, on);
    }

    /// Adds `n` rows with their flag clear.
    pub(super) fn extend_clear(&mut self, n: usize) {
        self.len += n;
        self.words.resize(self.len.div_ceil(64), 0);
    }

    /// Adds the rows of `flags`, in order.
    pub(super) fn extend_from_bools(&mut self, flags: &[bool]) {
        let first = self.len;
        self.extend_clear(flags.len());
        for (i, &on) in flags.iter().enumerate() {
            if on {
                self.words[(first + i) / 64] |= 1 << ((first + i) % 64);
            }
        }
    }

    /// Word `w`: the flags of rows `64 w..64 w + 64`, row `64 w + b` at bit `b`.
    #[inline]
    pub(super) fn word(&self, w: usize) -> u64 {
        self.words[w]
    }

    /// The words, to write flags in parallel by disjoint runs of words.
    pub(super) fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }

    /// Hints the CPU to bring row `i`'s flag into cache; any `i`, no effect on results.
    #[inline]
    pub(super) fn prefetch(&self, i: usize) {
        prefetch(self.words.as_ptr().wrapping_add(i / 64));
    }

    /// Every row, to read.
    pub(super) fn view(&self) -> Flags<'_> {
        Flags {
            words: &self.words,
            start: 0,
            len: self.len,
        }
    }
}

/// Sets (`on`) or clears the set bits of `bits` in `word`: what every bitset of the
/// fleet's does to a word.
#[inline]
pub(super) fn set_bits(word: &mut u64, bits: u64, on: bool) {
    if on {
        *word |= bits;
    } else {
        *word &= !bits;
    }
}

/// Rows `start..start + len` of a column of flags, one bit a row, to read.
#[derive(Copy, Clone, Debug)]
pub struct Flags<'a> {
    words: &'a [u64],
    start: usize,
    len: usize,
}

impl<'a> Flags<'a> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `i`'s flag.
    ///
    /// # Panics
    /// If `i` is past the rows (in debug builds; in release builds a row past them
    /// reads a later row's flag, or panics past the column).
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        debug_assert!(i < self.len, "row {i} of {}", self.len);
        let i = self.start + i;
        self.words[i / 64] >> (i % 64) & 1 != 0
    }

    /// Rows `start..end` of these.
    ///
    /// # Panics
    /// If `start > end` or `end` is past the rows.
    pub fn range(&self, start: usize, end: usize) -> Flags<'a> {
        assert!(
            start <= end && end <= self.len,
            "rows {start}..{end} of {}",
            self.len
        );
        Flags {
            words: self.words,
            start: self.start + start,
            len: end - start,
        }
    }

    /// How many rows have their flag set.
    pub fn count_ones(&self) -> usize {
        (0..self.len).filter(|&i| self.get(i)).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_back_as_written_across_words_and_ranges() {
        let bools: Vec<bool> = (0..300).map(|i| i % 3 == 0 || i == 127).collect();
        let mut column = FlagColumn::from_bools(&bools[..70]);
        for &b in &bools[70..200] {
            column.push(b);
        }
        column.extend_from_bools(&bools[200..]);
        assert_eq!(column.len(), 300);
        let view = column.view();
        assert!((0..300).all(|i| view.get(i) == bools[i]));
        let part = view.range(60, 190);
        assert_eq!(part.len(), 130);
        assert!((0..130).all(|i| part.get(i) == bools[60 + i]));
        assert_eq!(part.range(4, 10).get(0), bools[64]);
        assert_eq!(view.count_ones(), bools.iter().filter(|&&b| b).count());
        column.set(127, false);
        column.set(128, true);
        assert!(!column.get(127) && column.get(128));
        column.extend_clear(70);
        assert_eq!(column.len(), 370);
        assert!((300..370).all(|i| !column.get(i)), "added rows clear");
    }
}
