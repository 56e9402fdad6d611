//! Per stored cohort, its present members and, of those, the staged ones: in all (R19's
//! N and the staged set's size) and per chunk of [`CHUNK`] rows, so that a staged
//! resize's ordered pass knows how many eligible devices come before each chunk without
//! a counting pass of its own, and reads only the chunks where its drawn positions fall.
//!
//! Counted on first use, then kept up to date by every setter and bulk push, as are the
//! bitsets of the cohorts that have them (`member_bits.rs`), which change exactly when
//! these counts do.

use super::member_bits::MemberBits;
use crate::ids::CohortId;

/// Rows per chunk of the per-chunk counts.
pub const CHUNK: usize = 1 << 16;

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
    /// The counts of a fleet whose columns are these.
    pub(super) fn build(cohort: &[CohortId], present: &[bool], staged: &[bool]) -> Counts {
        let mut counts = Counts::default();
        for (i, ((&c, &p), &s)) in cohort.iter().zip(present).zip(staged).enumerate() {
            if p {
                counts.add(c, i, s, 1);
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
        self.bits.set_staged(cohort, row, staged);
        let delta = if staged { 1 } else { -1 };
        let k = cohort.index();
        let t = &mut self.totals[k][1];
        *t = t.wrapping_add_signed(delta);
        let c = &mut self.chunks[k][row / CHUNK][1];
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
