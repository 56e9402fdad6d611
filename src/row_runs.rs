//! Sorted rows (or a sparse bitmap's words) cut into runs, each with the slice of a
//! column it covers, so that runs can be worked on in parallel: a ramp step's 100,000
//! flips write the fleet's staged flags and the engine's hot words this way. The slices
//! are disjoint because the rows (words) are increasing, so no run needs a lock or an
//! index check against another.

/// `items` in runs of at most `len` items, each with the part of `column` from the
/// end of the run before to its own last item's `end` (at most the column's length),
/// and that part's first index: for rows (increasing), a row's end is the row after
/// it; for a sparse bitmap's words ([`crate::bitmap::Words`]), the word after it in a
/// bitset column, or the row after its last one in a per-row column. `end` must not
/// decrease along `items`, and an item's own index in the column lies below its end
/// and at or after the end of the item before.
pub(crate) fn runs_by<'r, 'c, E, T>(
    items: &'r [E],
    column: &'c mut [T],
    len: usize,
    end: impl Fn(&E) -> usize,
) -> Vec<(&'r [E], &'c mut [T], usize)> {
    let mut runs = Vec::with_capacity(items.len().div_ceil(len.max(1)));
    let mut rest = column;
    let mut first = 0usize;
    for run in items.chunks(len.max(1)) {
        let last = end(run.last().expect("chunks are not empty"));
        let last = last.min(first + rest.len());
        debug_assert!(last >= first, "ends do not decrease");
        let (mine, after) = std::mem::take(&mut rest).split_at_mut(last - first);
        runs.push((run, mine, first));
        rest = after;
        first = last;
    }
    runs
}

/// `rows` (increasing) in runs of about `len` rows, each with the words of a bitset
/// column (row `i` is bit `i % 64` of word `i / 64`) from the end of the run before to
/// its own last row's, and that part's first word. A word is never split between two
/// runs: a run takes every row of its last row's word. Row `i` of a run is bit
/// `i % 64` of `slice[i / 64 - first]`.
pub(crate) fn word_runs<'r, 'c>(
    rows: &'r [u32],
    words: &'c mut [u64],
    len: usize,
) -> Vec<(&'r [u32], &'c mut [u64], usize)> {
    debug_assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows increasing");
    let mut runs = Vec::with_capacity(rows.len().div_ceil(len.max(1)));
    let mut rest = words;
    let (mut first, mut start) = (0usize, 0usize);
    while start < rows.len() {
        let mut end = (start + len.max(1)).min(rows.len());
        let last = rows[end - 1] as usize / 64;
        while end < rows.len() && rows[end] as usize / 64 == last {
            end += 1;
        }
        let (mine, after) = std::mem::take(&mut rest).split_at_mut(last + 1 - first);
        runs.push((&rows[start..end], mine, first));
        rest = after;
        first = last + 1;
        start = end;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_indexes_its_own_rows() {
        let mut column: Vec<u32> = vec![0; 20];
        let rows = [0, 3, 4, 9, 10, 19];
        let runs = runs_by(&rows, &mut column, 4, |&r| r as usize + 1);
        assert_eq!(runs.len(), 2);
        for (run, slice, first) in runs {
            for &i in run {
                slice[i as usize - first] = i + 100;
            }
        }
        let marked: Vec<u32> = (0..20).filter(|&i| column[i as usize] == i + 100).collect();
        assert_eq!(marked, rows);
    }

    #[test]
    fn word_runs_keep_each_word_in_one_run() {
        let mut words = vec![0u64; 5];
        let rows = [0, 3, 63, 64, 65, 130, 200, 250, 319];
        let runs = word_runs(&rows, &mut words, 2);
        let cut: Vec<&[u32]> = runs.iter().map(|(run, _, _)| *run).collect();
        assert_eq!(
            cut,
            [&[0, 3, 63][..], &[64, 65], &[130, 200, 250], &[319]],
            "a run ends with its last row's word"
        );
        for (run, slice, first) in runs {
            for &i in run {
                slice[i as usize / 64 - first] |= 1 << (i % 64);
            }
        }
        let marked: Vec<u32> = (0..320)
            .filter(|&i| words[i as usize / 64] >> (i % 64) & 1 != 0)
            .collect();
        assert_eq!(marked, rows);
    }

    /// A sparse bitmap's words in runs over a per-row column shorter than the last
    /// word's rows: each run's slice holds its words' rows, the last one cut at the
    /// column's end.
    #[test]
    fn word_items_index_a_row_column() {
        let mut column: Vec<u32> = vec![0; 150];
        let words = crate::bitmap::words_of(&[1, 5, 64, 70, 130, 149]);
        let runs = runs_by(&words, &mut column, 2, |&(w, _)| (w as usize + 1) * 64);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].1.len(), 150 - 128, "cut at the column's end");
        for (run, slice, first) in runs {
            for r in crate::bitmap::ones_of(run) {
                slice[r as usize - first] = r + 100;
            }
        }
        let marked: Vec<u32> = (0..150)
            .filter(|&i| column[i as usize] == i + 100)
            .collect();
        assert_eq!(marked, [1, 5, 64, 70, 130, 149]);
    }
}
