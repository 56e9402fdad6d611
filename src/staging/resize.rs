//! R19: resizing a cohort's staged set, touching only the devices it chooses.
//!
//! A resize flips `k` devices of one cohort, all in the same state (unstaged ones when
//! growing, staged ones when shrinking), chosen uniformly among the `eligible` devices
//! in that state. Two ways give that choice, and which one runs depends only on the
//! counts (never on threads or timing), so a seed still decides the staged set:
//!
//! - **Probing** when `k` is a small part of `eligible`: draw a row of the whole fleet
//!   uniformly, keep it if it is eligible (and flip it at once, so it cannot be drawn
//!   again), until `k` are flipped. Each kept row is uniform over the eligible rows not
//!   yet flipped, so the `k` form a uniform choice. It costs about `k × rows / eligible`
//!   random reads, nothing per untouched device: a ramp step of a few percent in a
//!   10M-device fleet reads tens of thousands of rows, not ten million.
//! - **One ordered pass** otherwise: draw `k` distinct positions among `0..eligible`
//!   (`rand::seq::index::sample`), sort them, and walk the cohort in fleet order flipping
//!   the eligible devices at those positions. It reads every row once, sequentially, and
//!   allocates only the positions.
//!
//! Until 2026-11-30 every resize walked the cohort and sampled positions among the
//! eligible devices, as one pass still does; probing changed which devices a seed
//! stages for small resizes, not how many (CHANGELOG.md).

use rand::seq::index::sample;
use rand::Rng;

use crate::catalog::Percent;
use crate::fleet::Fleet;
use crate::ids::{CohortId, DeviceIdx};

/// Probing runs when at least this many eligible devices stand for each one to flip:
/// then the expected reads, about `rows / PROBE_RATIO` random ones at most, cost less
/// than one sequential pass over every row (a random read costs tens of sequential
/// ones).
pub const PROBE_RATIO: u64 = 32;

/// R19: sets the number of staged devices of `cohort` to `round_half_up(p × N / 100)`,
/// keeping every staged device when growing and unstaging a uniformly random choice
/// when shrinking. Returns the new staged count.
pub fn resize_staged(
    fleet: &mut Fleet,
    cohort: CohortId,
    percent: Percent,
    rng: &mut impl Rng,
) -> usize {
    // Rollouts share the cohort's one staged set (R20): most activations find it the
    // right size already, and then touch no device.
    let (members, staged_now) = fleet.cohort_counts(cohort);
    let target = percent.count_of(members as usize) as u64;
    let grow = target > staged_now;
    let (k, eligible) = if grow {
        (target - staged_now, members - staged_now)
    } else {
        (staged_now - target, staged_now)
    };
    if k == 0 {
        return target as usize;
    }
    if k.saturating_mul(PROBE_RATIO) <= eligible {
        flip_by_probing(fleet, cohort, grow, k, rng);
    } else {
        flip_in_one_pass(fleet, cohort, grow, k, eligible, rng);
    }
    debug_assert_eq!(fleet.cohort_counts(cohort).1, target, "kept staged count");
    target as usize
}

/// Whether row `i` is a device of `cohort` that a resize in direction `grow` may flip.
#[inline]
fn eligible(fleet: &Fleet, i: usize, cohort: CohortId, grow: bool) -> bool {
    let d = DeviceIdx(i as u32);
    fleet.is_present(d) && fleet.cohort(d) == cohort && fleet.staged(d) != grow
}

fn flip_by_probing(fleet: &mut Fleet, cohort: CohortId, grow: bool, k: u64, rng: &mut impl Rng) {
    let rows = fleet.len();
    let mut left = k;
    while left > 0 {
        let i = rng.gen_range(0..rows);
        if eligible(fleet, i, cohort, grow) {
            fleet.set_staged(DeviceIdx(i as u32), grow);
            left -= 1;
        }
    }
}

/// Flips `k` of the `eligible_count` eligible devices: those at `k` positions drawn
/// uniformly among the eligible devices in fleet order. The pass reads the cohort's
/// rows when the fleet keeps them (`Fleet::with_cohort_rows`), else every row, in
/// parallel: each chunk counts its eligible devices, then finds the drawn positions
/// that fall in it.
fn flip_in_one_pass(
    fleet: &mut Fleet,
    cohort: CohortId,
    grow: bool,
    k: u64,
    eligible_count: u64,
    rng: &mut impl Rng,
) {
    let mut positions = sample(rng, eligible_count as usize, k as usize).into_vec();
    positions.sort_unstable();
    let chosen = fleet
        .with_cohort_rows(cohort, |view, rows| {
            chosen_rows(
                rows.len(),
                |j| rows[j] as usize,
                &positions,
                |i| eligible(view, i, cohort, grow),
            )
        })
        .unwrap_or_else(|| {
            let view: &Fleet = fleet;
            chosen_rows(
                view.len(),
                |j| j,
                &positions,
                |i| eligible(view, i, cohort, grow),
            )
        });
    debug_assert_eq!(chosen.len() as u64, k, "every position found");
    for i in chosen {
        fleet.set_staged(DeviceIdx(i), grow);
    }
}

/// The rows at `positions` (sorted) among the items `0..n` whose row (`row(j)`,
/// increasing in `j`) is `eligible`, counting in item order.
fn chosen_rows(
    n: usize,
    row: impl Fn(usize) -> usize + Sync,
    positions: &[usize],
    eligible: impl Fn(usize) -> bool + Sync,
) -> Vec<u32> {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 16;
    let chunks: Vec<std::ops::Range<usize>> = (0..n.div_ceil(CHUNK))
        .map(|c| c * CHUNK..((c + 1) * CHUNK).min(n))
        .collect();
    let counts: Vec<usize> = chunks
        .par_iter()
        .map(|r| r.clone().filter(|&j| eligible(row(j))).count())
        .collect();
    // The eligible devices before each chunk.
    let firsts: Vec<usize> = counts
        .iter()
        .scan(0, |before, &n| {
            let first = *before;
            *before += n;
            Some(first)
        })
        .collect();
    chunks
        .par_iter()
        .zip(&firsts)
        .zip(&counts)
        .flat_map_iter(|((r, &first), &n)| {
            let from = positions.partition_point(|&p| p < first);
            let to = positions.partition_point(|&p| p < first + n);
            let mut wanted = positions[from..to].iter().peekable();
            let mut position = first;
            let mut out = Vec::with_capacity(to - from);
            for j in r.clone() {
                let Some(&&want) = wanted.peek() else { break };
                let i = row(j);
                if eligible(i) {
                    if position == want {
                        out.push(i as u32);
                        wanted.next();
                    }
                    position += 1;
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::tests::{fleet, staged_in};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn p(s: &str) -> Percent {
        Percent::parse(s).unwrap()
    }

    /// A resize reads the cohort's kept rows once a bulk selection built them, and
    /// every row before: the same devices either way, moves in between included.
    #[test]
    fn r19_kept_cohort_rows_choose_what_a_pass_over_every_row_chooses() {
        let mut plain = fleet(3000, 3);
        for i in (0..3000).step_by(11) {
            plain.move_to(DeviceIdx(i), CohortId((i % 3) as u16));
        }
        let mut kept = plain.clone();
        kept.members_where(CohortId(0), |_, _| true);
        for i in (0..3000).step_by(7) {
            for f in [&mut plain, &mut kept] {
                f.move_to(DeviceIdx(i), CohortId(((i / 7) % 3) as u16));
            }
        }
        for pct in ["60", "20", "90", "3"] {
            for c in 0..3 {
                let mut r1 = ChaCha8Rng::seed_from_u64(c as u64);
                let mut r2 = ChaCha8Rng::seed_from_u64(c as u64);
                resize_staged(&mut plain, CohortId(c), p(pct), &mut r1);
                resize_staged(&mut kept, CohortId(c), p(pct), &mut r2);
                assert_eq!(staged_in(&plain, c), staged_in(&kept, c), "{pct} % of {c}");
            }
        }
    }

    #[test]
    fn r19_grow_keeps_and_shrink_unstages_exactly() {
        let mut f = fleet(1000, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        assert_eq!(resize_staged(&mut f, CohortId(0), p("10"), &mut rng), 50);
        let first = staged_in(&f, 0);
        assert_eq!(first.len(), 50);
        assert!(staged_in(&f, 1).is_empty(), "R20: other cohorts untouched");
        resize_staged(&mut f, CohortId(0), p("25"), &mut rng);
        let grown = staged_in(&f, 0);
        assert_eq!(grown.len(), 125);
        assert!(
            first.iter().all(|d| grown.contains(d)),
            "growing keeps staged devices"
        );
        resize_staged(&mut f, CohortId(0), p("5"), &mut rng);
        let shrunk = staged_in(&f, 0);
        assert_eq!(shrunk.len(), 25);
        assert!(
            shrunk.iter().all(|d| grown.contains(d)),
            "shrinking only unstages"
        );
    }

    #[test]
    fn r19_both_ways_of_choosing_keep_and_count_exactly() {
        // 0.5 % of 20,000 is probed, 60 % is one pass; absent rows are never chosen.
        let mut f = fleet(40_000, 2);
        for i in (0..40_000).step_by(7) {
            f.set_present(DeviceIdx(i), false);
        }
        let (members, _) = f.cohort_counts(CohortId(1));
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut before = Vec::new();
        for pct in ["0.5", "1", "60", "59.5", "3", "100", "0"] {
            let n = resize_staged(&mut f, CohortId(1), p(pct), &mut rng);
            assert_eq!(n, p(pct).count_of(members as usize), "{pct} %");
            let now = staged_in(&f, 1);
            assert_eq!(now.len(), n);
            assert!(now.iter().all(|&d| f.is_present(DeviceIdx(d as u32))));
            let (small, large) = if now.len() >= before.len() {
                (&before, &now)
            } else {
                (&now, &before)
            };
            assert!(small.iter().all(|d| large.contains(d)), "{pct} % nests");
            before = now;
        }
        assert!(staged_in(&f, 0).is_empty(), "R20: other cohorts untouched");
    }

    #[test]
    fn r22_same_seed_same_staged_set() {
        let run = |seed, pct| {
            let mut f = fleet(5000, 1);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            resize_staged(&mut f, CohortId(0), p(pct), &mut rng);
            staged_in(&f, 0)
        };
        for pct in ["1", "30"] {
            assert_eq!(run(1, pct), run(1, pct));
            assert_ne!(run(1, pct), run(2, pct));
        }
    }

    /// Pearson's chi-square statistic of how often each device was chosen over many
    /// seeds, against the uniform expectation.
    fn chi_square(hits: &[u64], expected: f64) -> f64 {
        hits.iter()
            .map(|&h| (h as f64 - expected).powi(2) / expected)
            .sum()
    }

    /// R19's "uniformly random choice", for both ways of choosing, growing and
    /// shrinking: over 4,000 seeds every eligible device is chosen equally often
    /// (Pearson's chi-square against the uniform count, below its 99.99th percentile,
    /// so a correct sampler would fail once in 10,000 draws of this test; its seeds are
    /// fixed, so it never flakes), and no ineligible one ever is.
    #[test]
    fn r19_choice_is_uniform_chi_square() {
        const ROWS: usize = 400;
        const SEEDS: u64 = 4000;
        // Cohort 0 is the even rows; rows 0..100 of it start staged.
        let mut start = fleet(ROWS, 2);
        for i in (0..100).step_by(2) {
            start.set_staged(DeviceIdx(i), true);
        }
        // (percent, probed?): 50 staged of 200 grows by 2 (probed: 150 ≥ 2 × 32) or
        // by 90 (one pass); shrinks by 1 (probed: 50 ≥ 32) or by 40 (one pass).
        for (pct, grows, k) in [
            ("26", true, 2),
            ("70", true, 90),
            ("24.5", false, 1),
            ("5", false, 40),
        ] {
            let eligible = if grows { 150 } else { 50 };
            assert_eq!(
                k * PROBE_RATIO <= eligible,
                k <= 2,
                "{pct} % exercises the intended way"
            );
            let mut hits = vec![0u64; ROWS];
            for seed in 0..SEEDS {
                let mut f = start.clone();
                let before: Vec<bool> = (0..ROWS).map(|i| f.staged(DeviceIdx(i as u32))).collect();
                resize_staged(
                    &mut f,
                    CohortId(0),
                    p(pct),
                    &mut ChaCha8Rng::seed_from_u64(seed),
                );
                for (i, was) in before.into_iter().enumerate() {
                    if f.staged(DeviceIdx(i as u32)) != was {
                        hits[i] += 1;
                    }
                }
            }
            let candidates: Vec<u64> = (0..ROWS)
                .filter(|&i| i % 2 == 0 && (i < 100) != grows)
                .map(|i| hits[i])
                .collect();
            assert_eq!(candidates.len() as u64, eligible);
            let others: u64 = hits.iter().sum::<u64>() - candidates.iter().sum::<u64>();
            assert_eq!(others, 0, "{pct} %: only eligible devices change");
            let expected = (SEEDS * k) as f64 / eligible as f64;
            let stat = chi_square(&candidates, expected);
            // 99.99th percentiles of chi-square (Wilson–Hilferty).
            let bound = match eligible - 1 {
                149 => 222.0,
                49 => 94.8,
                df => panic!("no bound for {df} degrees of freedom"),
            };
            assert!(stat < bound, "{pct} %: chi-square {stat:.1} ≥ {bound}");
        }
    }
}
