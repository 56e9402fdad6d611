//! Each cohort's rows, so that a pass that concerns one cohort (a bulk `stage` or
//! `unstage` with a filter, R21; a staged resize's ordered pass, R19) reads that cohort's
//! rows instead of the whole fleet's: a selection in a cohort of 1 % of the fleet costs
//! 1 % of a pass.
//!
//! Built on first use (4 bytes a device, so fleets whose timelines never ask pay
//! nothing), then kept up to date: rows added in bulk or one by one are appended (rows
//! only grow, so each list stays in increasing order), and a move is only noted, then
//! settled when the cohorts it touched are next read: one filter of each list and one
//! merge of the rows moved in, so that a move of 100,000 devices costs a pass over
//! the two cohorts' lists, not a shift per device. Too many unsettled moves (more than
//! an eighth of the fleet) drop the lists, to be built anew when next asked for.

use crate::ids::CohortId;

#[derive(Clone, Debug, Default)]
pub(super) struct CohortRows {
    /// Per cohort, its rows in increasing order; a cohort with unsettled moves may still
    /// list rows that have left it.
    rows: Vec<Vec<u32>>,
    /// Per cohort, rows moved in since it was last settled (any order, maybe repeated).
    moved_in: Vec<Vec<u32>>,
    /// Per cohort, whether a move touched it since it was last settled.
    unsettled: Vec<bool>,
    /// Moves noted and not settled, in all.
    pending: usize,
}

impl CohortRows {
    /// The lists of the fleet whose cohort column is `cohort`.
    pub(super) fn build(cohort: &[CohortId]) -> CohortRows {
        let mut lists = CohortRows::default();
        lists.added(0, cohort);
        lists
    }

    fn grow_to(&mut self, c: CohortId) {
        if self.rows.len() <= c.index() {
            self.rows.resize_with(c.index() + 1, Vec::new);
            self.moved_in.resize_with(c.index() + 1, Vec::new);
            self.unsettled.resize(c.index() + 1, false);
        }
    }

    /// Rows `first..` of `cohort` were just added.
    pub(super) fn added(&mut self, first: usize, cohort: &[CohortId]) {
        for (i, &c) in cohort.iter().enumerate().skip(first) {
            self.grow_to(c);
            self.rows[c.index()].push(i as u32);
        }
    }

    /// Row `row` moved from cohort `from` to `to`; false when the lists should be
    /// dropped (too many moves unsettled).
    pub(super) fn moved(&mut self, row: u32, from: CohortId, to: CohortId, rows: usize) -> bool {
        self.grow_to(from);
        self.grow_to(to);
        self.moved_in[to.index()].push(row);
        self.unsettled[from.index()] = true;
        self.unsettled[to.index()] = true;
        self.pending += 1;
        self.pending <= rows / 8 + 1024
    }

    /// Cohort `c`'s rows as last settled by [`CohortRows::rows`] (exact when no move
    /// touched it since).
    pub(super) fn settled(&self, c: CohortId) -> &[u32] {
        self.rows.get(c.index()).map_or(&[], Vec::as_slice)
    }

    /// Cohort `c`'s rows, in increasing order, given the fleet's cohort column.
    pub(super) fn rows(&mut self, c: CohortId, cohort: &[CohortId]) -> &[u32] {
        self.grow_to(c);
        let k = c.index();
        if self.unsettled[k] {
            let mut incoming = std::mem::take(&mut self.moved_in[k]);
            incoming.retain(|&i| cohort[i as usize] == c);
            incoming.sort_unstable();
            incoming.dedup();
            let list = &mut self.rows[k];
            list.retain(|&i| cohort[i as usize] == c);
            // A row that left and came back is in both: keep one.
            let mut merged = Vec::with_capacity(list.len() + incoming.len());
            let (mut a, mut b) = (list.iter().peekable(), incoming.iter().peekable());
            loop {
                let next = match (a.peek(), b.peek()) {
                    (Some(&&x), Some(&&y)) if x == y => {
                        a.next();
                        b.next();
                        x
                    }
                    (Some(&&x), Some(&&y)) if x < y => {
                        a.next();
                        x
                    }
                    (_, Some(&&y)) => {
                        b.next();
                        y
                    }
                    (Some(&&x), None) => {
                        a.next();
                        x
                    }
                    (None, None) => break,
                };
                merged.push(next);
            }
            self.pending = self.pending.saturating_sub(incoming.len());
            *list = merged;
            self.unsettled[k] = false;
        }
        &self.rows[k]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(cohort: &[CohortId], c: CohortId) -> Vec<u32> {
        (0..cohort.len() as u32)
            .filter(|&i| cohort[i as usize] == c)
            .collect()
    }

    #[test]
    fn moves_and_additions_keep_each_list_exact() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut cohort: Vec<CohortId> = (0..500).map(|_| CohortId(rng.gen_range(0..4))).collect();
        let mut lists = CohortRows::build(&cohort);
        for step in 0..2_000 {
            match rng.gen_range(0..10) {
                0 => {
                    let first = cohort.len();
                    cohort.extend((0..rng.gen_range(1..20)).map(|_| CohortId(rng.gen_range(0..5))));
                    lists.added(first, &cohort);
                }
                1..=6 => {
                    let row = rng.gen_range(0..cohort.len());
                    let to = CohortId(rng.gen_range(0..5));
                    let from = cohort[row];
                    if from != to {
                        cohort[row] = to;
                        if !lists.moved(row as u32, from, to, cohort.len()) {
                            lists = CohortRows::build(&cohort);
                        }
                    }
                }
                _ => {
                    let c = CohortId(rng.gen_range(0..5));
                    assert_eq!(lists.rows(c, &cohort), expected(&cohort, c), "step {step}");
                }
            }
        }
        for c in 0..6 {
            let c = CohortId(c);
            assert_eq!(lists.rows(c, &cohort), expected(&cohort, c));
        }
    }
}
