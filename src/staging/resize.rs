//! R19: resizing a cohort's staged set, touching only the devices it chooses.
//!
//! A resize flips `k` devices of one cohort, all in the same state (unstaged ones when
//! growing, staged ones when shrinking), chosen uniformly among the `eligible` devices
//! in that state. Two ways give that choice, and which one runs depends only on the
//! counts (never on threads or timing), so a seed still decides the staged set:
//!
//! - **Probing** when `k` is a small part of `eligible` (`probing_pays`): draw a row of
//!   the whole fleet uniformly, keep it if it is eligible (and flip it at once, so it
//!   cannot be drawn again), until `k` are flipped. Each kept row is uniform over the eligible rows not
//!   yet flipped, so the `k` form a uniform choice. It costs about `k × rows / eligible`
//!   random reads, nothing per untouched device: a ramp step of a few percent in a
//!   10M-device fleet reads tens of thousands of rows, not ten million.
//! - **One ordered pass** otherwise: draw `k` distinct positions among `0..eligible`
//!   (`sample.rs`'s [`sample_bits`](super::sample::sample_bits), a bitmap of the range,
//!   drawn on every thread), and walk the cohort in fleet order flipping the eligible
//!   devices at those positions. The fleet's counts per chunk of rows say where each
//!   position falls, so only chunks holding positions are read, each once and up to its
//!   last position; and for the first few cohorts the walk counts the bits of the
//!   cohort's bitsets (`fleet/member_bits.rs`), 64 rows a word, instead of reading rows,
//!   and puts a word's chosen positions on its eligible bits in one step.
//!
//! Until 2026-11-30 every resize walked the cohort and sampled positions among the
//! eligible devices, as one pass still does; probing changed which devices a seed
//! stages for small resizes, not how many. On 2026-12-01 the pass's positions changed
//! from rand's `sample`, sorted, to the rejection sampler that `sample_bits` runs in
//! parallel: again other devices for a seed, the same counts (CHANGELOG.md).

use std::ops::Range;

use rand_chacha::ChaCha8Rng;

use crate::bitmap::Words;
use crate::catalog::Percent;
use crate::fleet::{CohortBits, Fleet, COUNT_CHUNK};
use crate::ids::CohortId;

/// A random read costs about this many sequential ones: probing runs when its expected
/// reads, weighted so, cost less than the pass it saves ([`probing_pays`]).
pub const PROBE_RATIO: u64 = 32;

/// How many times cheaper a resize's ordered pass is over a cohort's bitsets than over
/// its rows, as [`probing_pays`] weighs it: at 10M rows the pass over the bitsets cost
/// about 1.3 ms (both threads) and a probe about 18 ns, so probing pays up to about
/// 70,000 probes, a 128th of the rows, where against a pass over rows it paid up to a
/// 32nd (measured 2026-12-02; a ramp step of a few percent of a large cohort now takes
/// the pass).
const BITS_PASS: u64 = 4;

/// Whether drawing `k` of `eligible` devices by probing a fleet of `rows` rows (about
/// `k × rows / eligible` random reads) costs less than one pass over `pass` rows (every
/// row for a resize; the cohort's members for a bulk selection, whose pass reads just
/// the cohort's kept rows, so a small cohort's pass is cheap and probing for it rarely
/// pays). A choice from counts alone, never from threads or timing, so a seed still
/// decides the devices.
pub(crate) fn probing_pays(rows: u64, pass: u64, k: u64, eligible: u64) -> bool {
    u128::from(k) * u128::from(rows) * u128::from(PROBE_RATIO)
        <= u128::from(eligible) * u128::from(pass)
}

/// R19: sets the number of staged devices of `cohort` to `round_half_up(p × N / 100)`,
/// keeping every staged device when growing and unstaging a uniformly random choice
/// when shrinking. Returns the new staged count. `rng` should be the resize's own: it
/// may be drawn from beyond the draws that chose the devices.
pub fn resize_staged(
    fleet: &mut Fleet,
    cohort: CohortId,
    percent: Percent,
    rng: &mut ChaCha8Rng,
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
    // Weighed against a pass over every row even when the fleet keeps the cohort's
    // rows: a pass through the list reads scattered rows, at about the cost per row of
    // a pass over the fleet (measured: weighing against the cohort's rows, which
    // probes less often, was slower).
    let rows = fleet.len() as u64;
    // The cohort's bitsets, if it may have them, make both ways cheaper (the same
    // devices either way), the pass most: it counts 64 rows a word.
    let pass = if fleet.cohort_bits(cohort).is_some() {
        rows / BITS_PASS
    } else {
        rows
    };
    if probing_pays(rows, pass, k, eligible) {
        flip_by_probing(fleet, cohort, grow, (k, eligible), rng);
    } else {
        flip_in_one_pass(fleet, cohort, grow, k, eligible, rng);
    }
    debug_assert_eq!(fleet.cohort_counts(cohort).1, target, "kept staged count");
    target as usize
}

/// Whether row `i` is a device of `cohort` that a resize in direction `grow` may flip.
#[inline]
fn eligible(fleet: &Fleet, i: usize, cohort: CohortId, grow: bool) -> bool {
    fleet.resize_eligible(i, cohort, grow)
}

fn flip_by_probing(
    fleet: &mut Fleet,
    cohort: CohortId,
    grow: bool,
    (k, eligible_count): (u64, u64),
    rng: &mut ChaCha8Rng,
) {
    // The first `k` distinct eligible rows drawn, probed on every thread with their
    // cache lines fetched ahead (`sample::first_kept`: the rows drawing one at a time
    // finds), then flipped at once (`Fleet::flip_members`, in parallel, where one by
    // one each flip read the row's key and override columns for the change log, two
    // cache misses, on the thread that draws). No budget: `k` is at most the eligible
    // devices.
    let rows32 = u32::try_from(fleet.len()).expect("a fleet's rows are 32-bit");
    let view: &Fleet = fleet;
    let eligible_now = |i: usize| eligible(view, i, cohort, grow);
    let mut rows = super::sample::first_kept(
        rng,
        rows32,
        (k as usize, usize::MAX),
        eligible_count,
        eligible_now,
        |i| view.prefetch_for_staging(i, cohort),
    )
    .expect("no budget to run out");
    rows.sort_unstable();
    fleet.flip_members(cohort, &rows, grow);
}

/// Flips `k` of the `eligible_count` eligible devices: those at `k` positions drawn
/// uniformly among the eligible devices in fleet order. The fleet's counts per chunk of
/// rows say how many eligible devices each chunk holds, so the chunks where positions
/// fall are read, in parallel, each up to its last position, and the others not at all:
/// the cohort's bitsets when it has them, else through the cohort's rows when the
/// fleet keeps them (`Fleet::with_cohort_rows`), else every row of the chunk.
fn flip_in_one_pass(
    fleet: &mut Fleet,
    cohort: CohortId,
    grow: bool,
    k: u64,
    eligible_count: u64,
    rng: &mut ChaCha8Rng,
) {
    let ranks = super::sample::sample_bits(rng, eligible_count as usize, k as usize);
    let per_chunk: Vec<usize> = fleet
        .cohort_chunk_counts(cohort)
        .iter()
        .map(|&[members, staged]| (if grow { members - staged } else { staged }) as usize)
        .collect();
    debug_assert_eq!(per_chunk.iter().sum::<usize>() as u64, eligible_count);
    let chosen = if let Some(bits) = fleet.cohort_bits(cohort) {
        chosen_bits(bits, grow, &per_chunk, &ranks)
    } else {
        let positions = super::sample::ones(&ranks);
        let rows = fleet
            .with_cohort_rows(cohort, |view, rows| {
                chosen_rows(view.len(), Some(rows), &per_chunk, &positions, |i| {
                    eligible(view, i, cohort, grow)
                })
            })
            .unwrap_or_else(|| {
                let view: &Fleet = fleet;
                chosen_rows(view.len(), None, &per_chunk, &positions, |i| {
                    eligible(view, i, cohort, grow)
                })
            });
        crate::bitmap::words_of(&rows)
    };
    debug_assert_eq!(
        crate::bitmap::ones_of(&chosen).count() as u64,
        k,
        "every position found"
    );
    fleet.flip_member_words(cohort, &chosen, grow);
}

/// The rows at `positions` (sorted) among the `eligible` rows of a fleet of `n_rows`
/// rows, counting in row order, given the eligible rows per chunk of
/// [`COUNT_CHUNK`] rows; the rows read are `kept` (increasing; the cohort's) or all.
fn chosen_rows(
    n_rows: usize,
    kept: Option<&[u32]>,
    per_chunk: &[usize],
    positions: &[usize],
    eligible: impl Fn(usize) -> bool + Sync,
) -> Vec<u32> {
    use rayon::prelude::*;
    let firsts = firsts(per_chunk);
    let per_chunk_rows: Vec<Vec<u32>> = (0..per_chunk.len())
        .into_par_iter()
        .map(|c| {
            let (first, wanted) = in_chunk(&firsts, per_chunk, positions, c);
            let rows = c * COUNT_CHUNK..((c + 1) * COUNT_CHUNK).min(n_rows);
            if wanted.is_empty() {
                Vec::new()
            } else if let Some(kept) = kept {
                let lo = kept.partition_point(|&r| (r as usize) < rows.start);
                let hi = kept.partition_point(|&r| (r as usize) < rows.end);
                find(
                    kept[lo..hi].iter().map(|&r| r as usize),
                    first,
                    wanted,
                    &eligible,
                )
            } else {
                find(rows, first, wanted, &eligible)
            }
        })
        .collect();
    per_chunk_rows.concat()
}

/// What [`chosen_rows`] finds for the positions set in `ranks` (a bitmap of the
/// eligible devices' positions), read from the cohort's bitsets, as a sparse bitmap of
/// rows: a chunk's eligible rows are counted 64 at a time, skipping the words before
/// the next chosen position; a word holding some takes their bits of `ranks` (its
/// `ones` positions from its first) and deposits them on its eligible bits: bit `r` of
/// those on the word's eligible bit of rank `r`, which is the word of rows chosen. The
/// CPU's PDEP instruction does that in one step where it has one (BMI2), else each
/// chosen bit is found by its rank ([`select_in_word`]).
fn chosen_bits(bits: CohortBits<'_>, grow: bool, per_chunk: &[usize], ranks: &[u64]) -> Words {
    use rayon::prelude::*;
    let firsts = firsts(per_chunk);
    let positions = |c: usize| firsts[c]..firsts[c] + per_chunk[c];
    #[cfg(target_arch = "x86_64")]
    let bmi2 = std::arch::is_x86_feature_detected!("bmi2");
    // A word of rows at most per word of the cohort's bitsets: a chunk's words are
    // few against its rows, and are joined from one list per chunk.
    let per_chunk_words: Vec<Words> = (0..per_chunk.len())
        .into_par_iter()
        .with_max_len(1)
        .map(|c| {
            let pass = Pass { bits, grow, ranks };
            #[cfg(target_arch = "x86_64")]
            if bmi2 {
                // SAFETY: the CPU has BMI2, checked above.
                return unsafe { chunk_picks_bmi2(pass, c, positions(c)) };
            }
            // SAFETY: without BMI2's instructions.
            unsafe { chunk_picks::<false>(pass, c, positions(c)) }
        })
        .collect();
    per_chunk_words.concat()
}

/// [`chunk_picks`] compiled for CPUs with BMI2.
///
/// # Safety
/// The CPU must have BMI2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "bmi2")]
unsafe fn chunk_picks_bmi2(pass: Pass<'_>, c: usize, positions: Range<usize>) -> Words {
    // SAFETY: the caller's promise.
    unsafe { chunk_picks::<true>(pass, c, positions) }
}

/// What [`chosen_bits`] reads: the cohort's bitsets, the direction, and the bitmap of
/// chosen positions.
#[derive(Copy, Clone)]
struct Pass<'a> {
    bits: CohortBits<'a>,
    grow: bool,
    ranks: &'a [u64],
}

/// [`chosen_bits`] of chunk `c`, whose eligible rows hold `positions`: the words of
/// the rows picked.
///
/// # Safety
/// With `BMI2`, the CPU must have BMI2.
#[inline(always)]
unsafe fn chunk_picks<const BMI2: bool>(
    pass: Pass<'_>,
    c: usize,
    positions: Range<usize>,
) -> Words {
    const WORDS: usize = COUNT_CHUNK / 64;
    let Pass { bits, grow, ranks } = pass;
    let (first, end) = (positions.start, positions.end);
    let mut position = first;
    let mut want = next_one(ranks, position);
    let mut out = Words::new();
    for w in c * WORDS..(c + 1) * WORDS {
        if want >= end {
            break;
        }
        let word = bits.eligible_word(w, grow);
        let ones = word.count_ones() as usize;
        if want >= position + ones {
            position += ones;
            continue;
        }
        let picked = bit_range(ranks, position, ones);
        let rows = if BMI2 {
            // SAFETY: the caller's promise.
            unsafe { pdep(picked, word) }
        } else {
            deposit(picked, word)
        };
        out.push((w as u32, rows));
        position += ones;
        want = next_one(ranks, position);
    }
    out
}

/// PDEP: bit `r` of `bits` on the set bit of rank `r` of `mask`.
///
/// # Safety
/// The CPU must have BMI2.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn pdep(bits: u64, mask: u64) -> u64 {
    // SAFETY: the caller's promise.
    unsafe { std::arch::x86_64::_pdep_u64(bits, mask) }
}

/// Stands for [`pdep`] where there is none; never called.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
unsafe fn pdep(bits: u64, mask: u64) -> u64 {
    deposit(bits, mask)
}

/// What PDEP computes, one set bit of `bits` at a time.
#[inline]
fn deposit(bits: u64, mask: u64) -> u64 {
    let (mut bits, mut out) = (bits, 0);
    while bits != 0 {
        out |= 1 << select_in_word(mask, bits.trailing_zeros());
        bits &= bits - 1;
    }
    out
}

/// The first set bit of the bitmap `bits` at or after `from` (`usize::MAX` if none).
#[inline]
fn next_one(bits: &[u64], from: usize) -> usize {
    let mut w = from / 64;
    let Some(&first) = bits.get(w) else {
        return usize::MAX;
    };
    let mut word = first & (u64::MAX << (from % 64));
    while word == 0 {
        w += 1;
        match bits.get(w) {
            Some(&next) => word = next,
            None => return usize::MAX,
        }
    }
    w * 64 + word.trailing_zeros() as usize
}

/// Bits `from..from + len` of the bitmap `bits` (`len` ≤ 64, and bits past the end
/// read as clear), as the low bits of a word; the two words the range may cover are
/// read and shifted as one, whether it crosses into the second or not.
#[inline]
fn bit_range(bits: &[u64], from: usize, len: usize) -> u64 {
    let (w, shift) = (from / 64, from % 64);
    let low = bits.get(w).copied().unwrap_or(0);
    let high = bits.get(w + 1).copied().unwrap_or(0);
    let pair = u128::from(low) | u128::from(high) << 64;
    ((pair >> shift) & ((1u128 << len) - 1)) as u64
}

/// The index of the set bit of rank `r` (0 for the lowest) in `word`, which has more
/// than `r` set bits: the byte holding it found from the bytes' running popcounts, all
/// at once in one multiply, then a table for the bit in that byte. Constant time, where
/// clearing the set bits below it one by one was a chain of up to 63 dependent steps
/// (about half the time of a resize's pass over the bitsets at 10M devices).
#[inline]
fn select_in_word(word: u64, r: u32) -> u32 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    debug_assert!(r < word.count_ones());
    // Popcount of each byte, then of each byte and the bytes below it.
    let mut s = word - ((word >> 1) & 0x5555_5555_5555_5555);
    s = (s & 0x3333_3333_3333_3333) + ((s >> 2) & 0x3333_3333_3333_3333);
    s = (s + (s >> 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    let running = s.wrapping_mul(ONES);
    // Bytes whose running count is at most `r` (the high bit of each byte of
    // `(r | 0x80) - count` says so; no byte borrows, counts being at most 64): they
    // are the bytes below the one holding the bit.
    let below = (((u64::from(r) * ONES) | HIGHS) - running) & HIGHS;
    let byte = below.count_ones();
    let before = if byte == 0 {
        0
    } else {
        (running >> (8 * (byte - 1))) & 0xFF
    };
    let in_byte = (word >> (8 * byte)) & 0xFF;
    8 * byte + u32::from(SELECT_IN_BYTE[in_byte as usize][(u64::from(r) - before) as usize])
}

/// `SELECT_IN_BYTE[b][k]`: the index of the set bit of rank `k` in byte `b` (8 where
/// there is none).
static SELECT_IN_BYTE: [[u8; 8]; 256] = {
    let mut table = [[8u8; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let (mut bit, mut k) = (0, 0);
        while bit < 8 {
            if b >> bit & 1 == 1 {
                table[b][k] = bit as u8;
                k += 1;
            }
            bit += 1;
        }
        b += 1;
    }
    table
};

/// Chunk `c`'s first eligible device's number and the positions (sorted) that fall
/// among its eligible devices.
fn in_chunk<'a>(
    firsts: &[usize],
    per_chunk: &[usize],
    positions: &'a [usize],
    c: usize,
) -> (usize, &'a [usize]) {
    let (first, n) = (firsts[c], per_chunk[c]);
    let from = positions.partition_point(|&p| p < first);
    let to = positions.partition_point(|&p| p < first + n);
    (first, &positions[from..to])
}

/// The eligible devices before each chunk, given each chunk's.
fn firsts(per_chunk: &[usize]) -> Vec<usize> {
    per_chunk
        .iter()
        .scan(0, |before, &n| {
            let first = *before;
            *before += n;
            Some(first)
        })
        .collect()
}

/// Of `rows`, whose first eligible one is eligible device number `first`, those at
/// `wanted` (sorted) among the eligible.
fn find(
    rows: impl Iterator<Item = usize>,
    first: usize,
    wanted: &[usize],
    eligible: impl Fn(usize) -> bool,
) -> Vec<u32> {
    let mut out = Vec::with_capacity(wanted.len());
    let mut wanted = wanted.iter().peekable();
    let mut position = first;
    for i in rows {
        let Some(&&want) = wanted.peek() else { break };
        if eligible(i) {
            if position == want {
                out.push(i as u32);
                wanted.next();
            }
            position += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DeviceIdx;
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

    /// The cohort bitsets find, for any drawn positions, the rows a pass over the
    /// columns finds, after moves, arrivals, retirements and flips changed them.
    #[test]
    fn r19_bits_find_the_rows_a_pass_finds() {
        use rand::Rng;
        let n = 2 * COUNT_CHUNK + 1000;
        let mut f = fleet(n, 3);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for c in 0..3 {
            assert!(f.cohort_bits(CohortId(c)).is_some(), "bits built first");
        }
        for _ in 0..20_000 {
            let d = DeviceIdx(rng.gen_range(0..n as u32));
            match rng.gen_range(0..4) {
                0 => f.move_to(d, CohortId(rng.gen_range(0..3))),
                1 => f.set_present(d, rng.gen_bool(0.5)),
                _ => f.set_staged(d, rng.gen_bool(0.5)),
            }
        }
        for c in 0..3u16 {
            let cohort = CohortId(c);
            for grow in [true, false] {
                let per_chunk: Vec<usize> = f
                    .cohort_chunk_counts(cohort)
                    .iter()
                    .map(|&[m, s]| (if grow { m - s } else { s }) as usize)
                    .collect();
                let eligible: usize = per_chunk.iter().sum();
                for k in [1, 7, eligible / 3, eligible] {
                    let mut positions = crate::staging::sample::sample(&mut rng, eligible, k);
                    positions.sort_unstable();
                    let view = &f;
                    let by_pass = chosen_rows(n, None, &per_chunk, &positions, |i| {
                        let d = DeviceIdx(i as u32);
                        view.is_present(d) && view.cohort(d) == cohort && view.staged(d) != grow
                    });
                    let bits = f.cohort_bits(cohort).expect("built");
                    let mut ranks = vec![0u64; eligible.div_ceil(64)];
                    for &p in &positions {
                        ranks[p / 64] |= 1 << (p % 64);
                    }
                    let by_bits = chosen_bits(bits, grow, &per_chunk, &ranks);
                    let by_pass = crate::bitmap::words_of(&by_pass);
                    assert_eq!(by_bits, by_pass, "cohort {c}, grow {grow}, {k} positions");
                    let firsts = firsts(&per_chunk);
                    let portable: Words = (0..per_chunk.len())
                        .flat_map(|c| {
                            let pass = Pass {
                                bits,
                                grow,
                                ranks: &ranks,
                            };
                            let positions = firsts[c]..firsts[c] + per_chunk[c];
                            // SAFETY: without BMI2's instructions.
                            unsafe { chunk_picks::<false>(pass, c, positions) }
                        })
                        .collect();
                    assert_eq!(portable, by_pass, "without PDEP");
                    assert_eq!(crate::bitmap::ones_of(&by_bits).count(), k);
                }
            }
        }
    }

    /// `deposit` puts bit `r` of its bits on the set bit of rank `r` of the mask, as
    /// PDEP does (compared with the instruction where the CPU has it).
    #[test]
    fn deposit_is_pdep() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..5000 {
            let mask: u64 = rng.gen::<u64>() & rng.gen::<u64>();
            let bits: u64 = rng.gen::<u64>() & ((1u128 << mask.count_ones()) - 1) as u64;
            let by_rank = (0..64)
                .filter(|&b| mask >> b & 1 == 1)
                .enumerate()
                .filter(|&(r, _)| bits >> r & 1 == 1)
                .fold(0u64, |out, (_, b)| out | 1 << b);
            assert_eq!(deposit(bits, mask), by_rank, "{bits:#x} on {mask:#x}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("bmi2") {
                // SAFETY: the CPU has BMI2, checked just above.
                assert_eq!(unsafe { pdep(bits, mask) }, by_rank);
            }
        }
    }

    /// Bits of any range of a bitmap, across word boundaries and past its end.
    #[test]
    fn bit_range_and_next_one_read_the_bitmap() {
        let bits = [0x8000_0000_0000_0001u64, 0x3, 0];
        assert_eq!(bit_range(&bits, 0, 1), 1);
        assert_eq!(bit_range(&bits, 63, 3), 0b111);
        assert_eq!(bit_range(&bits, 60, 0), 0);
        assert_eq!(bit_range(&bits, 0, 64), bits[0]);
        assert_eq!(bit_range(&bits, 65, 64), 1);
        assert_eq!(bit_range(&bits, 150, 64), 0, "past the end");
        assert_eq!(next_one(&bits, 0), 0);
        assert_eq!(next_one(&bits, 1), 63);
        assert_eq!(next_one(&bits, 64), 64);
        assert_eq!(next_one(&bits, 66), usize::MAX);
        assert_eq!(next_one(&bits, 1000), usize::MAX);
    }

    /// The set bit of each rank, in words of every density and at both ends.
    #[test]
    fn select_in_word_finds_the_bit_of_each_rank() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut words = vec![1, 1 << 63, u64::MAX, 0x8000_0000_0000_0001, 0xF0F0];
        for density in [0.02, 0.3, 0.5, 0.9] {
            words.extend(
                (0..200)
                    .map(|_| (0..64).fold(0u64, |w, b| w | u64::from(rng.gen_bool(density)) << b)),
            );
        }
        for word in words.into_iter().filter(|&w| w != 0) {
            let bits: Vec<u32> = (0..64).filter(|&b| word >> b & 1 == 1).collect();
            for (r, &bit) in bits.iter().enumerate() {
                assert_eq!(select_in_word(word, r as u32), bit, "{word:#x}, rank {r}");
            }
        }
    }

    /// Probing flips, at once at the end, the rows one draw at a time flips: the first
    /// `k` distinct eligible rows drawn (a row drawn again is not flipped twice).
    #[test]
    fn r19_probing_flips_the_first_eligible_rows_drawn() {
        const ROWS: usize = 5000;
        let mut base = fleet(ROWS, 3);
        for i in (0..ROWS as u32).step_by(2) {
            base.set_staged(DeviceIdx(i), true);
        }
        let cohort = CohortId(1);
        for (grow, k) in [(true, 40), (false, 25), (true, 600)] {
            let mut rng = ChaCha8Rng::seed_from_u64(k);
            let mut want: Vec<usize> = Vec::new();
            while want.len() < k as usize {
                let i = crate::staging::sample::below(&mut rng, ROWS as u32) as usize;
                if base.resize_eligible(i, cohort, grow) && !want.contains(&i) {
                    want.push(i);
                }
            }
            want.sort_unstable();
            let mut probed = base.clone();
            let (members, staged) = probed.cohort_counts(cohort);
            let eligible = if grow { members - staged } else { staged };
            flip_by_probing(
                &mut probed,
                cohort,
                grow,
                (k, eligible),
                &mut ChaCha8Rng::seed_from_u64(k),
            );
            let flipped: Vec<usize> = (0..ROWS)
                .filter(|&i| probed.staged(DeviceIdx(i as u32)) != base.staged(DeviceIdx(i as u32)))
                .collect();
            assert_eq!(flipped, want, "grow {grow}, k {k}");
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
