//! Sorted rows cut into runs, each with the slice of a per-row column it covers, so that
//! runs can be worked on in parallel: a ramp step's 100,000 flips write the fleet's
//! staged flags and the engine's hot words this way. The slices are disjoint because
//! the rows are increasing, so no run needs a lock or an index check against another.

/// `rows` (increasing) in runs of at most `len` rows, each with the part of `column`
/// from the end of the run before to its own last row, and that part's first row.
/// Row `i` of a run is `slice[i - first]`.
pub(crate) fn row_runs<'r, 'c, T>(
    rows: &'r [u32],
    column: &'c mut [T],
    len: usize,
) -> Vec<(&'r [u32], &'c mut [T], usize)> {
    debug_assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows increasing");
    let mut runs = Vec::with_capacity(rows.len().div_ceil(len));
    let mut rest = column;
    let mut first = 0usize;
    for run in rows.chunks(len) {
        let end = *run.last().expect("chunks are not empty") as usize + 1;
        let (mine, after) = std::mem::take(&mut rest).split_at_mut(end - first);
        runs.push((run, mine, first));
        rest = after;
        first = end;
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
        let runs = row_runs(&rows, &mut column, 4);
        assert_eq!(runs.len(), 2);
        for (run, slice, first) in runs {
            for &i in run {
                slice[i as usize - first] = i + 100;
            }
        }
        let marked: Vec<u32> = (0..20).filter(|&i| column[i as usize] == i + 100).collect();
        assert_eq!(marked, rows);
    }
}
