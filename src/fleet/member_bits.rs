//! Per stored cohort, two bitsets over the fleet's rows: its present members, and of
//! those the staged ones. A staged resize (R19) that flips a large part of a cohort
//! finds the devices at its drawn positions among the eligible ones by counting bits,
//! 64 rows a word, where a pass over the rows reads each row's presence, cohort and
//! staged flag: at 10M devices a ramp step's pass read 40 MB, the bits read 2.5 MB. Its
//! probes read one bit instead of three columns.
//!
//! Built for a cohort on first use (one pass), then kept up to date, like the counts
//! they sit beside (`counts.rs`), by every setter and bulk push. Two bits a row per
//! cohort, so only the first [`MAX_COHORTS`] cohorts that ask get them; others keep the
//! pass, which chooses the same devices.

use super::flag_column::Flags;
use crate::ids::CohortId;

/// Most cohorts given bitsets: at most 2 × 8 bits (2 bytes) a device.
pub(super) const MAX_COHORTS: usize = 8;

/// One cohort's bitsets, bit `i % 64` of word `i / 64` for row `i`.
#[derive(Clone, Debug, Default)]
struct Pair {
    members: Vec<u64>,
    staged: Vec<u64>,
}

#[derive(Clone, Debug, Default)]
pub(super) struct MemberBits {
    /// Per cohort, its bitsets if built.
    cohorts: Vec<Option<Pair>>,
    /// Cohorts with bitsets.
    built: usize,
}

/// One cohort's bitsets, read-only: whether a row is a present member, and whether it
/// is a staged one.
#[derive(Copy, Clone, Debug)]
pub struct CohortBits<'a> {
    members: &'a [u64],
    staged: &'a [u64],
}

impl<'a> CohortBits<'a> {
    /// Bits of word `w` (rows `64 w..64 w + 64`) for the rows a resize may flip: present
    /// members not staged when growing, staged ones when shrinking.
    #[inline]
    pub fn eligible_word(&self, w: usize, grow: bool) -> u64 {
        let members = self.members.get(w).copied().unwrap_or(0);
        let staged = self.staged.get(w).copied().unwrap_or(0);
        if grow {
            members & !staged
        } else {
            staged
        }
    }

    /// Bits of word `w` for the present members whose staged flag is `staged` (all
    /// present members if `None`).
    #[inline]
    pub fn word(&self, w: usize, staged: Option<bool>) -> u64 {
        let members = self.members.get(w).copied().unwrap_or(0);
        let on = self.staged.get(w).copied().unwrap_or(0);
        match staged {
            None => members,
            Some(true) => on,
            Some(false) => members & !on,
        }
    }

    /// Whether row `i` is a present member whose staged flag is `staged` (any if
    /// `None`), as [`CohortBits::word`] says of its word.
    #[inline]
    pub fn has(&self, i: usize, staged: Option<bool>) -> bool {
        self.word(i / 64, staged) >> (i % 64) & 1 != 0
    }

    /// Whether row `i` is one a resize growing (or shrinking) may flip.
    #[inline]
    pub fn eligible(&self, i: usize, grow: bool) -> bool {
        self.eligible_word(i / 64, grow) >> (i % 64) & 1 != 0
    }

    /// Hints the CPU to bring row `i`'s bits into cache; any `i`, no effect on results.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        crate::prefetch::prefetch(self.members.as_ptr().wrapping_add(i / 64));
        crate::prefetch::prefetch(self.staged.as_ptr().wrapping_add(i / 64));
    }
}

/// Sets (`on`) or clears bit `row % 64` of word `row / 64`, growing `words` to hold it.
#[inline]
pub(super) fn set(words: &mut Vec<u64>, row: usize, on: bool) {
    set_word(words, row / 64, 1u64 << (row % 64), on);
}

/// Sets (`on`) or clears the set bits of `bits` in word `w`.
#[inline]
fn set_word(words: &mut Vec<u64>, w: usize, bits: u64, on: bool) {
    if words.len() <= w {
        words.resize(w + 1, 0);
    }
    super::flag_column::set_bits(&mut words[w], bits, on);
}

impl MemberBits {
    /// `cohort`'s bitsets, built from the fleet's columns if not yet and fewer than
    /// [`MAX_COHORTS`] cohorts have theirs; `None` otherwise.
    pub(super) fn get_or_build(
        &mut self,
        cohort: CohortId,
        column: &[CohortId],
        present: &[bool],
        staged: Flags<'_>,
    ) -> Option<CohortBits<'_>> {
        use rayon::prelude::*;
        let k = cohort.index();
        if self.cohorts.len() <= k {
            self.cohorts.resize_with(k + 1, || None);
        }
        if self.cohorts[k].is_none() {
            if self.built >= MAX_COHORTS {
                return None;
            }
            // Both words of each 64 rows at once, in parallel: one pass over the columns.
            let words = |w: usize| {
                let rows = w * 64..((w + 1) * 64).min(column.len());
                rows.clone().fold((0u64, 0u64), |(m, s), i| {
                    let member = column[i] == cohort && present[i];
                    let bit = 1u64 << (i - rows.start);
                    (
                        m | if member { bit } else { 0 },
                        s | if member && staged.get(i) { bit } else { 0 },
                    )
                })
            };
            let (members, staged) = (0..column.len().div_ceil(64))
                .into_par_iter()
                .map(words)
                .unzip();
            self.cohorts[k] = Some(Pair { members, staged });
            self.built += 1;
        }
        self.get(cohort)
    }

    /// `cohort`'s bitsets, if built.
    #[inline]
    pub(super) fn get(&self, cohort: CohortId) -> Option<CohortBits<'_>> {
        let pair = self.cohorts.get(cohort.index())?.as_ref()?;
        Some(CohortBits {
            members: &pair.members,
            staged: &pair.staged,
        })
    }

    /// A present member at `row` (staged if `staged`) joined `cohort` (`joined`), or
    /// left it.
    #[inline]
    pub(super) fn member(&mut self, cohort: CohortId, row: usize, staged: bool, joined: bool) {
        if let Some(Some(pair)) = self.cohorts.get_mut(cohort.index()) {
            set(&mut pair.members, row, joined);
            set(&mut pair.staged, row, joined && staged);
        }
    }

    /// `cohort`'s staged bitset, at least `words` words long, to flip its members'
    /// bits in place (by disjoint runs of words, in parallel); `None` if not built.
    pub(super) fn staged_words_mut(
        &mut self,
        cohort: CohortId,
        words: usize,
    ) -> Option<&mut [u64]> {
        let pair = self.cohorts.get_mut(cohort.index())?.as_mut()?;
        if pair.staged.len() < words {
            pair.staged.resize(words, 0);
        }
        Some(&mut pair.staged)
    }

    /// The present members of `cohort` at the set bits of `bits` in word `w` became
    /// staged (or unstaged).
    #[inline]
    pub(super) fn set_staged_word(&mut self, cohort: CohortId, w: usize, bits: u64, staged: bool) {
        if let Some(Some(pair)) = self.cohorts.get_mut(cohort.index()) {
            set_word(&mut pair.staged, w, bits, staged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_bits_follow_the_columns_and_later_changes() {
        let column: Vec<CohortId> = (0..300).map(|i| CohortId((i % 3) as u16)).collect();
        let present: Vec<bool> = (0..300).map(|i| i % 7 != 0).collect();
        let staged = super::super::flag_column::FlagColumn::from_bools(
            &(0..300).map(|i| i % 5 == 0).collect::<Vec<bool>>(),
        );
        let mut bits = MemberBits::default();
        let b = bits
            .get_or_build(CohortId(1), &column, &present, staged.view())
            .unwrap();
        for i in 0..300 {
            let member = i % 3 == 1 && i % 7 != 0;
            assert_eq!(b.eligible(i, true), member && i % 5 != 0, "row {i}");
            assert_eq!(b.eligible(i, false), member && i % 5 == 0, "row {i}");
        }
        assert!(!b.eligible(4000, true), "rows past the end are not members");
        bits.member(CohortId(1), 1, false, false);
        bits.member(CohortId(1), 640, true, true);
        bits.set_staged_word(CohortId(1), 0, 1 << 4, true);
        let b = bits
            .get_or_build(CohortId(1), &column, &present, staged.view())
            .unwrap();
        assert!(!b.eligible(1, true) && !b.eligible(1, false));
        assert!(b.eligible(640, false) && b.eligible(4, false));
    }

    #[test]
    fn only_the_first_cohorts_get_bits() {
        let n = MAX_COHORTS + 2;
        let column: Vec<CohortId> = (0..n).map(|i| CohortId(i as u16)).collect();
        let flags = vec![true; n];
        let staged = super::super::flag_column::FlagColumn::from_bools(&flags);
        let mut bits = MemberBits::default();
        for c in 0..n {
            let got = bits
                .get_or_build(CohortId(c as u16), &column, &flags, staged.view())
                .is_some();
            assert_eq!(got, c < MAX_COHORTS, "cohort {c}");
        }
        // A cohort that has bits keeps them.
        assert!(bits
            .get_or_build(CohortId(0), &column, &flags, staged.view())
            .is_some());
    }
}
