//! Per stored cohort, its present members and, of those, the staged ones: in all (R19's
//! N and the staged set's size) and per chunk of [`CHUNK`] rows, so that a staged
//! resize's ordered pass knows how many eligible devices come before each chunk without
//! a counting pass of its own, and reads only the chunks where its drawn positions fall.
//!
//! Counted on first use, then kept up to date by every setter and bulk push, as are the
//! bitsets of the cohorts that have them (`member_bits.rs`), which change exactly when
//! these counts do.

use super::flag_column::Flags;
use super::member_bits::MemberBits;
use crate::ids::CohortId;

/// Rows per chunk of the per-chunk counts.
pub const CHUNK: usize = 1 << 16;
const _: () = assert!(CHUNK % 64 == 0, "chunks are whole bitset words");

/// Of `members` present members of a cohort, `staged` of them staged: how many have
/// the staged flag `flag` asks for (any, when `None`).
pub(crate) fn with_flag(members: u64, staged: u64, flag: Option<bool>) -> u64 {
    match flag {
        None => members,
        Some(true) => staged,
        Some(false) => members - staged,
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Counts {
    /// Per cohort: present members, present staged members.
    totals: Vec<[u64; 2]>,
    /// Per cohort, per chunk of rows: the same, for that chunk's rows.
    chunks: Vec<Vec<[u32; 2]>>,
    /// Per cohort that has them, bitsets of the same members (read by the fleet;
    /// changed only here, with the counts).
    pub(super) bits: MemberBits,
}

impl Counts {
    /// The counts of a fleet whose columns are these: each chunk counted on its own, in
    /// parallel (a 10M-device fleet is counted before its first staged activation, so
    /// a sequential pass would be a tenth of `otasim matrix` on it). Equal to adding
    /// every present row one by one, as [`Counts::add`] does: cohorts past the last one
    /// with a member, and chunks past a cohort's last member, are not listed.
    pub(super) fn build(cohort: &[CohortId], present: &[bool], staged: Flags<'_>) -> Counts {
        use rayon::prelude::*;
        // Per chunk: per cohort (up to the chunk's highest), members and staged ones.
        let per_chunk: Vec<Vec<[u32; 2]>> = cohort
            .par_chunks(CHUNK)
            .zip(present.par_chunks(CHUNK))
            .enumerate()
            .map(|(j, (cohort, present))| {
                let mut c: Vec<[u32; 2]> = Vec::new();
                for (r, (&k, &p)) in cohort.iter().zip(present).enumerate() {
                    if p {
                        let s = staged.get(j * CHUNK + r);
                        let k = k.index();
                        if c.len() <= k {
                            c.resize(k + 1, [0, 0]);
                        }
                        c[k][0] += 1;
                        c[k][1] += u32::from(s);
                    }
                }
                c
            })
            .collect();
        let cohorts = per_chunk.iter().map(Vec::len).max().unwrap_or(0);
        let mut counts = Counts {
            totals: vec![[0, 0]; cohorts],
            chunks: vec![Vec::new(); cohorts],
            bits: MemberBits::default(),
        };
        for (k, (total, chunks)) in counts.totals.iter_mut().zip(&mut counts.chunks).enumerate() {
            let last = per_chunk
                .iter()
                .rposition(|c| c.get(k).is_some_and(|n| n[0] > 0));
            let Some(last) = last else { continue };
            chunks.extend(
                per_chunk[..=last]
                    .iter()
                    .map(|c| c.get(k).copied().unwrap_or([0, 0])),
            );
            for n in chunks.iter() {
                total[0] += u64::from(n[0]);
                total[1] += u64::from(n[1]);
            }
        }
        counts
    }

    /// Adds `delta` present members (staged ones if `staged`) at `row` to `cohort`.
    #[inline]
    pub(super) fn add(&mut self, cohort: CohortId, row: usize, staged: bool, delta: i32) {
        let k = cohort.index();
        if self.totals.len() <= k {
            self.totals.resize(k + 1, [0, 0]);
            self.chunks.resize_with(k + 1, Vec::new);
        }
        let chunks = &mut self.chunks[k];
        if chunks.len() <= row / CHUNK {
            chunks.resize(row / CHUNK + 1, [0, 0]);
        }
        self.bits.member(cohort, row, staged, delta > 0);
        let (t, c) = (&mut self.totals[k], &mut chunks[row / CHUNK]);
        t[0] = t[0].wrapping_add_signed(i64::from(delta));
        c[0] = c[0].wrapping_add_signed(delta);
        if staged {
            t[1] = t[1].wrapping_add_signed(i64::from(delta));
            c[1] = c[1].wrapping_add_signed(delta);
        }
    }

    /// The present member at `row` of `cohort` became staged (or unstaged).
    #[inline]
    pub(super) fn set_staged(&mut self, cohort: CohortId, row: usize, staged: bool) {
        self.set_staged_word(cohort, row / 64, 1u64 << (row % 64), staged);
    }

    /// The present members of `cohort` at the set bits of `bits`, rows `64 w..64 w +
    /// 64`, became staged (or unstaged): [`Counts::set_staged`] for each, at once.
    #[inline]
    pub(super) fn set_staged_word(&mut self, cohort: CohortId, w: usize, bits: u64, staged: bool) {
        self.bits.set_staged_word(cohort, w, bits, staged);
        // A word's rows lie in one chunk: chunks are whole words.
        self.add_staged(cohort, w * 64 / CHUNK, bits.count_ones(), staged);
    }

    /// `n` present members of `cohort` in chunk `chunk` became staged (or unstaged),
    /// their bits already flipped (through [`MemberBits::staged_words_mut`]): the
    /// counts' share of [`Counts::set_staged_word`].
    pub(super) fn add_staged(&mut self, cohort: CohortId, chunk: usize, n: u32, staged: bool) {
        let delta = if staged { i64::from(n) } else { -i64::from(n) };
        let k = cohort.index();
        let t = &mut self.totals[k][1];
        *t = t.wrapping_add_signed(delta);
        let c = &mut self.chunks[k][chunk][1];
        *c = c.wrapping_add_signed(delta as i32);
    }

    /// `cohort`'s present members and staged members.
    pub(super) fn totals(&self, cohort: CohortId) -> (u64, u64) {
        self.totals
            .get(cohort.index())
            .map_or((0, 0), |t| (t[0], t[1]))
    }

    /// The same per chunk of rows (chunks past the last listed hold none).
    pub(super) fn chunks(&self, cohort: CohortId) -> &[[u32; 2]] {
        self.chunks.get(cohort.index()).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The parallel build equals adding every present row one by one: the same totals,
    /// the same chunks, listed as far (fleets of one to four chunks, cohorts that have
    /// members only in early chunks, or none, or only absent ones).
    #[test]
    fn build_equals_adding_row_by_row() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for round in 0..12 {
            let rows = rng.gen_range(1..4 * CHUNK);
            let cohorts = rng.gen_range(1..7u16);
            let cohort: Vec<CohortId> = (0..rows)
                .map(|i| {
                    // Cohort 0 stops after the first chunk; the last cohort is never present.
                    let c = rng.gen_range(0..cohorts);
                    CohortId(if c == 0 && i >= CHUNK { 1 % cohorts } else { c })
                })
                .collect();
            let present: Vec<bool> = cohort
                .iter()
                .map(|c| c.0 + 1 != cohorts.max(2) && rng.gen_bool(0.9))
                .collect();
            let staged: Vec<bool> = (0..rows).map(|_| rng.gen_bool(0.3)).collect();
            let flags = super::super::flag_column::FlagColumn::from_bools(&staged);
            let built = Counts::build(&cohort, &present, flags.view());
            let mut added = Counts::default();
            for i in 0..rows {
                if present[i] {
                    added.add(cohort[i], i, staged[i], 1);
                }
            }
            assert_eq!(built.totals, added.totals, "round {round}");
            assert_eq!(built.chunks, added.chunks, "round {round}");
        }
    }
}
