//! Each cohort's rows, so that a pass that concerns one cohort (a bulk `stage` or
//! `unstage` with a filter, R21; a staged resize's ordered pass, R19) reads that cohort's
//! rows instead of the whole fleet's: a selection in a cohort of 1 % of the fleet costs
//! 1 % of a pass.
//!
//! Built on first use (4 bytes a device, so fleets whose timelines never ask pay
//! nothing), then kept up to date: rows added in bulk or one by one are appended (rows
//! only grow, so each list stays in increasing order), and a move is only noted, then
//! settled when the cohorts it touched are next read: one merge of the list with the
//! rows moved out and in (sorted), copied in runs between them, so that settling a
//! move of 20 devices costs a copy of the two lists and one of 100,000 devices a pass
//! over them, with no read of the fleet's cohort column per listed row. Too many
//! unsettled moves (more than an eighth of the fleet) drop the lists, to be built anew
//! when next asked for.

use crate::ids::CohortId;

#[derive(Clone, Debug, Default)]
pub(super) struct CohortRows {
    /// Per cohort, its rows in increasing order; a cohort with unsettled moves may still
    /// list rows that have left it.
    rows: Vec<Vec<u32>>,
    /// Per cohort, rows moved in since it was last settled (any order, maybe repeated).
    moved_in: Vec<Vec<u32>>,
    /// Per cohort, rows moved out since it was last settled (any order, maybe repeated).
    moved_out: Vec<Vec<u32>>,
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
            self.moved_out.resize_with(c.index() + 1, Vec::new);
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
        self.moved_out[from.index()].push(row);
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
            let raw_in = self.moved_in[k].len();
            // Rows still gone, and rows still here that the list lacks or has (a row
            // that left and came back is still listed: the merge keeps one).
            let mut outgoing = std::mem::take(&mut self.moved_out[k]);
            outgoing.retain(|&i| cohort[i as usize] != c);
            outgoing.sort_unstable();
            outgoing.dedup();
            let mut incoming = std::mem::take(&mut self.moved_in[k]);
            incoming.retain(|&i| cohort[i as usize] == c);
            incoming.sort_unstable();
            incoming.dedup();
            self.rows[k] = merge(&self.rows[k], &outgoing, &incoming);
            self.pending = self.pending.saturating_sub(raw_in);
            self.unsettled[k] = false;
        }
        &self.rows[k]
    }
}

/// `list` (increasing) without the rows of `remove` and with those of `add` (both
/// increasing), in increasing order, each row once: the runs of `list` between them are
/// copied whole.
fn merge(list: &[u32], remove: &[u32], add: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(list.len() + add.len());
    let (mut r, mut a) = (remove.iter().peekable(), add.iter().peekable());
    let mut rest = list;
    loop {
        // The next row where something happens: one to remove or one to add.
        let next = match (r.peek(), a.peek()) {
            (Some(&&x), Some(&&y)) => x.min(y),
            (Some(&&x), None) => x,
            (None, Some(&&y)) => y,
            (None, None) => break,
        };
        let run = rest.partition_point(|&i| i < next);
        out.extend_from_slice(&rest[..run]);
        rest = &rest[run..];
        let listed = rest.first() == Some(&next);
        if r.peek() == Some(&&next) {
            r.next();
            if a.peek() == Some(&&next) {
                // Gone and back again (cannot happen after the filters): keep it.
                a.next();
                out.push(next);
            }
        } else {
            a.next();
            out.push(next);
        }
        if listed {
            rest = &rest[1..];
        }
    }
    out.extend_from_slice(rest);
    out
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
    fn merge_removes_and_adds_each_row_once() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..500 {
            let pick = |rng: &mut rand_chacha::ChaCha8Rng, p: f64| -> Vec<u32> {
                (0..60).filter(|_| rng.gen_bool(p)).collect()
            };
            let (list, remove, add) = (
                pick(&mut rng, 0.5),
                pick(&mut rng, 0.1),
                pick(&mut rng, 0.1),
            );
            let want: Vec<u32> = (0..60)
                .filter(|i| (list.contains(i) && !remove.contains(i)) || add.contains(i))
                .collect();
            assert_eq!(
                merge(&list, &remove, &add),
                want,
                "{list:?} - {remove:?} + {add:?}"
            );
        }
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
