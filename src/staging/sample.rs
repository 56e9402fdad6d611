//! `rand::seq::index::sample` (rand 0.8), with its in-place algorithm done without an
//! array of the whole range.
//!
//! For a large share of a large range (a ramp step drawing 100,000 positions among
//! 5,000,000 candidates) rand picks its in-place Fisher–Yates, which allocates and fills
//! an array of every index in the range (20 MB there) and then swaps into it at random:
//! the allocation, its page faults and the cache misses of the swaps were most of a
//! resize's time. [`sample`] makes the same draws in the same order and returns the
//! same indices, keeping only the swapped entries: the first `amount` slots in an array
//! and the others, where a swap moved a value, in a hash map. For the other algorithms
//! it calls rand's own.
//!
//! [`sample_bits`] is what a staged resize's ordered pass draws: the same kind of
//! choice, as a bitmap of the range, with no hash map and no sort, drawn on every
//! thread; [`sorted_sample`] is its one-thread reference.

use hashbrown::HashMap;
use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;

/// Exactly `rand::seq::index::sample(rng, length, amount).into_vec()`, the same draws
/// from `rng` included.
///
/// # Panics
/// If `amount > length`, as rand's does.
pub fn sample(rng: &mut impl Rng, length: usize, amount: usize) -> Vec<usize> {
    if amount <= length && length <= u32::MAX as usize && rand_goes_in_place(length, amount) {
        return in_place(rng, length as u32, amount as u32);
    }
    rand::seq::index::sample(rng, length, amount).into_vec()
}

/// Whether rand 0.8's `sample` chooses its in-place algorithm: its own test, constants
/// and `f32` arithmetic.
fn rand_goes_in_place(length: usize, amount: usize) -> bool {
    let (amount, length) = (amount as u32, length as u32);
    if amount < 163 {
        const C: [[f32; 2]; 2] = [[1.6, 8.0 / 45.0], [10.0, 70.0 / 9.0]];
        let j = if length < 500_000 { 0 } else { 1 };
        let amount_fp = amount as f32;
        let m4 = C[0][j] * amount_fp;
        amount > 11 && (length as f32) < (C[1][j] + m4) * amount_fp
    } else {
        const C: [f32; 2] = [270.0, 330.0 / 9.0];
        let j = if length < 500_000 { 0 } else { 1 };
        (length as f32) < C[j] * (amount as f32)
    }
}

/// rand's `sample_inplace`: for `i` in `0..amount`, swap slot `i` with a slot drawn
/// from `i..length`, of a virtual array that starts as `0..length`; the first `amount`
/// slots are the result.
fn in_place(rng: &mut impl Rng, length: u32, amount: u32) -> Vec<usize> {
    let mut head: Vec<u32> = (0..amount).collect();
    // Slots at or past `amount` whose value a swap changed.
    let mut tail: HashMap<u32, u32> = HashMap::with_capacity(amount as usize);
    for i in 0..amount {
        let j: u32 = rng.gen_range(i..length);
        if j < amount {
            head.swap(i as usize, j as usize);
        } else {
            // One lookup: the slot's value (itself if never swapped) out, slot i's in.
            let at_j = std::mem::replace(tail.entry(j).or_insert(j), head[i as usize]);
            head[i as usize] = at_j;
        }
    }
    head.into_iter().map(|v| v as usize).collect()
}

/// A uniformly random index in `0..n` (`n` > 0), exactly uniform: Lemire's
/// multiply-and-shift of one 32-bit draw, redrawn in the rare case the draw falls in
/// the few values that would bias it ("Fast random integer generation in an
/// interval", 2019). Resizes and bulk selections draw millions of rows and positions,
/// and rand 0.8's `gen_range` over `usize` cost about 16 ns a draw there (a 64-bit draw
/// and a 128-bit product) against about 6 ns for this, the bitmap's read included
/// (measured on 1.3M positions).
///
/// # Panics
/// In debug builds, if `n` is 0.
#[inline]
pub fn below(rng: &mut impl RngCore, n: u32) -> u32 {
    debug_assert!(n > 0, "an index below 0");
    let mut m = u64::from(rng.next_u32()) * u64::from(n);
    if (m as u32) < n {
        // Only draws whose low half is below `n` can be in the biased zone: the
        // threshold's division is paid once in about 2^32 / n draws.
        let threshold = n.wrapping_neg() % n;
        while (m as u32) < threshold {
            m = u64::from(rng.next_u32()) * u64::from(n);
        }
    }
    (m >> 32) as u32
}

/// Uniform rows of a fleet of `rows` rows ([`below`] each), drawn [`AHEAD`] ahead of
/// the one returned, each handed to `fetch` (a prefetch) when drawn: a prober's random
/// reads of a large fleet then overlap. The rows come in the order drawn, so a prober
/// reads the same rows as drawing one at a time; only the `AHEAD` draws made last are
/// never returned. How probing drew rows before [`first_kept`], kept as the reference
/// it is held to.
#[cfg(test)]
pub(super) fn rows_ahead<'r, R: RngCore>(
    rng: &'r mut R,
    rows: u32,
    fetch: impl Fn(usize) + 'r,
) -> impl Iterator<Item = usize> + 'r {
    let mut ahead = [0usize; AHEAD];
    for slot in &mut ahead {
        *slot = below(rng, rows) as usize;
        fetch(*slot);
    }
    let mut next = 0;
    std::iter::from_fn(move || {
        let row = std::mem::replace(&mut ahead[next], below(rng, rows) as usize);
        fetch(ahead[next]);
        next = (next + 1) % AHEAD;
        Some(row)
    })
}

/// How far ahead of its test a probe fetches a row ([`first_kept`], `rows_ahead`).
const AHEAD: usize = 16;

/// The first `limit` distinct rows that `keep` keeps, in the order drawn, among at
/// most `budget` uniform rows of `0..rows` drawn one at a time ([`below`] each), or
/// `None` if the budget runs out first; `rng` is left where drawing them through
/// `rows_ahead` leaves it (which draws [`AHEAD`] rows past the last one read). A
/// selection's probes and a small resize's are this, with no budget for the resize.
/// `keepable` is how many rows `keep` may keep at most (the first round of draws is
/// sized as if each of them were kept).
///
/// Drawn on every thread: [`below`] accepts or redraws each word of ChaCha's stream
/// on its own, and ChaCha's words are a pure function of their place in the stream,
/// so the rows drawn one at a time are the accepted words in order. Ranges of words
/// ([`FIRST_KEPT_WORDS`] each) are drawn and tested on separate threads, each fetching
/// a row [`AHEAD`] draws before its test, as `rows_ahead` does; their kept rows, each
/// with its draw's number, are then taken in order on one thread, the first `limit`
/// distinct ones within the budget. Words are read in rounds sized by the rows kept
/// per draw so far, so about the draws drawing one at a time makes are made, and
/// never more than the budget.
pub(super) fn first_kept(
    rng: &mut ChaCha8Rng,
    rows: u32,
    (limit, budget): (usize, usize),
    keepable: u64,
    keep: impl Fn(usize) -> bool + Sync,
    fetch: impl Fn(usize) + Sync,
) -> Option<Vec<u32>> {
    use rayon::prelude::*;
    let start = rng.get_word_pos();
    let view: &ChaCha8Rng = rng;
    let mut picked = Vec::with_capacity(limit);
    let mut seen = hashbrown::HashSet::with_capacity(limit);
    // Draws made and words read so far (a word redrawn is read, not drawn).
    let (mut drawn, mut read) = (0usize, 0u128);
    // Draws a kept row takes: from `keepable` at first, then as seen.
    let mut per_keep = (u64::from(rows) / keepable.max(1)).max(1) as f64;
    while drawn < budget {
        let want = (limit - picked.len()) as f64 * per_keep * 1.1;
        let words = (want as usize).max(256).min(budget - drawn);
        let from = start + read;
        // Per range of words: its draws, and its kept rows with their draw's number.
        let ranges: Vec<(usize, Vec<(u32, u32)>)> = (0..words.div_ceil(FIRST_KEPT_WORDS))
            .into_par_iter()
            .with_max_len(1)
            .map(|s| {
                let mut drawn_rows = Vec::with_capacity(FIRST_KEPT_WORDS);
                let range = FIRST_KEPT_WORDS.min(words - s * FIRST_KEPT_WORDS);
                let at = from + (s * FIRST_KEPT_WORDS) as u128;
                each_accepted(view, at, range, rows, |v| drawn_rows.push(v));
                let mut kept = Vec::new();
                for (j, &row) in drawn_rows.iter().enumerate() {
                    if let Some(&ahead) = drawn_rows.get(j + AHEAD) {
                        fetch(ahead as usize);
                    }
                    if keep(row as usize) {
                        kept.push((j as u32, row));
                    }
                }
                (drawn_rows.len(), kept)
            })
            .collect();
        read += words as u128;
        let before = picked.len();
        for (n, kept) in ranges {
            for (j, row) in kept {
                let draw = drawn + j as usize;
                if draw < budget && seen.insert(row) {
                    picked.push(row);
                    if picked.len() == limit {
                        rng.set_word_pos(after_draws(view, start, draw + 1 + AHEAD, rows));
                        return Some(picked);
                    }
                }
            }
            drawn += n;
        }
        per_keep = words as f64 / (picked.len() - before).max(1) as f64;
    }
    rng.set_word_pos(after_draws(view, start, budget + AHEAD, rows));
    None
}

/// The words of the stream one thread of [`first_kept`] draws from at a time.
const FIRST_KEPT_WORDS: usize = 1 << 12;

/// The position in `rng`'s stream just after the `draws`-th [`below`] draw below `n`
/// made from word `from` on: where the `draws`-th accepted word ends.
fn after_draws(rng: &ChaCha8Rng, from: u128, draws: usize, n: u32) -> u128 {
    let mut r = rng.clone();
    r.set_word_pos(from);
    let mut made = 0;
    let threshold = n.wrapping_neg() % n;
    while made < draws {
        made += usize::from((u64::from(r.next_u32()) * u64::from(n)) as u32 >= threshold);
    }
    r.get_word_pos()
}

/// A uniformly random choice of `amount` distinct indices in `0..length`, in
/// increasing order (`amount` is clamped to `length`): the plain, one-thread form of
/// [`sample_bits`], which makes the same choice from the same draws and is what a
/// resize runs. Kept as the reference the tests hold it to.
///
/// Indices are drawn uniformly and kept when new (rejection), marked in a bitmap of
/// the range, which is then read in order: every set of `amount` indices is equally
/// likely, since each kept draw is uniform over the indices not yet kept. When
/// `amount` is over half the range, the indices left out are drawn instead, so a draw
/// is kept with probability at least one half.
#[cfg(test)]
pub fn sorted_sample(rng: &mut impl RngCore, length: usize, amount: usize) -> Vec<usize> {
    let amount = amount.min(length);
    let left_out = amount > length / 2;
    let draws = if left_out { length - amount } else { amount };
    let mut bits = vec![0u64; length.div_ceil(64)];
    let length32 = u32::try_from(length).expect("positions among at most 2^32 rows");
    draw_one_by_one(rng, length32, 0, draws, &mut bits);
    if left_out {
        invert(&mut bits, length);
    }
    let out = ones(&bits);
    debug_assert_eq!(out.len(), amount);
    out
}

/// The indices of the set bits of `bits`, in increasing order.
pub fn ones(bits: &[u64]) -> Vec<usize> {
    let mut out = Vec::with_capacity(bits.iter().map(|w| w.count_ones() as usize).sum());
    for (w, &word) in bits.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            out.push(w * 64 + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
    out
}

/// Flips the bits of `0..length` in `bits`, leaving those past `length` clear.
fn invert(bits: &mut [u64], length: usize) {
    for word in bits.iter_mut() {
        *word = !*word;
    }
    if length % 64 != 0 {
        if let Some(last) = bits.last_mut() {
            *last &= (1u64 << (length % 64)) - 1;
        }
    }
}

/// A uniformly random choice of `amount` distinct indices in `0..length` (`amount`
/// clamped to `length`), as a bitmap of the range (bit `i % 64` of word `i / 64` set
/// for a chosen `i`; none past `length`): what a staged resize's ordered pass draws.
/// Exactly [`sorted_sample`]'s choice, from the same words of `rng`'s stream, which it
/// leaves where `sorted_sample` does, but drawn on every thread.
///
/// The rejection sampler keeps each new draw until it has kept `draws`. Whatever the
/// next `draws - kept` draws are, every one of them is made (each keeps at most one
/// index), so they can be drawn as one batch and marked in any order (marking is
/// idempotent, and the number of new indices does not depend on the order); batches
/// repeat until `draws` are kept, and the small ones at the end are drawn one by one.
/// A batch is parallel twice over: ChaCha's words are a pure function of their place
/// in the stream, and [`below`] accepts or redraws each word on its own, so ranges of
/// words are drawn on separate threads; and the values are marked by ranges of the
/// bitmap (`PART_BITS`), each on one thread, in cache, where one thread marked
/// values all over a bitmap of up to a few megabytes (or, for a bitmap that fits a
/// core's cache, each thread marks its own, [`draw_batch_direct`]). The cost is about
/// `amount` draws, at most half the range, over the threads.
pub fn sample_bits(rng: &mut ChaCha8Rng, length: usize, amount: usize) -> Vec<u64> {
    let amount = amount.min(length);
    let left_out = amount > length / 2;
    let draws = if left_out { length - amount } else { amount };
    let mut bits = vec![0u64; length.div_ceil(64)];
    // A fleet's rows are 32-bit (`DeviceIdx`), and so are the positions among them.
    let length32 = u32::try_from(length).expect("positions among at most 2^32 rows");
    let mut kept = 0;
    while draws - kept >= BATCH_MIN {
        kept += draw_batch(rng, length32, draws - kept, &mut bits);
    }
    draw_one_by_one(rng, length32, kept, draws, &mut bits);
    if left_out {
        invert(&mut bits, length);
    }
    bits
}

/// The rejection sampler's loop: draws below `n` until `draws` are marked in `bits`,
/// `kept` of them already.
fn draw_one_by_one(rng: &mut impl RngCore, n: u32, kept: usize, draws: usize, bits: &mut [u64]) {
    let mut kept = kept;
    while kept < draws {
        let i = below(rng, n) as usize;
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        if bits[w] & bit == 0 {
            bits[w] |= bit;
            kept += 1;
        }
    }
}

/// Batches of fewer draws than this are drawn one by one: their threads' start-up
/// would cost about what they save.
const BATCH_MIN: usize = 1 << 15;

/// The words of the stream a thread of a batch draws.
const SEGMENT: usize = 1 << 16;

/// The bits of the range a thread of a batch marks: 128 KB of bitmap, which stays in
/// the core's cache while its values are marked.
const PART_BITS: usize = 1 << 20;

/// Makes the next `count` draws of [`below`]`(rng, n)` and marks them in `bits`;
/// returns how many were new. `rng` is left after the last word drawn, as `count`
/// calls of `below` leave it.
fn draw_batch(rng: &mut ChaCha8Rng, n: u32, count: usize, bits: &mut [u64]) -> usize {
    use rayon::prelude::*;
    if bits.len() * 64 <= MARKED_DIRECTLY {
        return draw_batch_direct(rng, n, count, bits);
    }
    let start = rng.get_word_pos();
    let parts = bits.len().div_ceil(PART_BITS / 64);
    let view: &ChaCha8Rng = rng;
    // Per range of `count` words: the values accepted, by the part of the bitmap
    // they fall in.
    let segments: Vec<Vec<Vec<u32>>> = (0..count.div_ceil(SEGMENT))
        .into_par_iter()
        .map(|s| {
            let words = SEGMENT.min(count - s * SEGMENT);
            let mut out: Vec<Vec<u32>> = (0..parts)
                .map(|_| Vec::with_capacity(words / parts + words / 64))
                .collect();
            let from = start + (s * SEGMENT) as u128;
            each_accepted(view, from, words, n, |v| {
                out[v as usize / PART_BITS].push(v);
            });
            out
        })
        .collect();
    let accepted: usize = segments.iter().flatten().map(Vec::len).sum();
    // The words redrawn leave that many draws to make, past the batch's words.
    rng.set_word_pos(start + count as u128);
    let extra: Vec<u32> = (accepted..count).map(|_| below(rng, n)).collect();
    bits.par_chunks_mut(PART_BITS / 64)
        .enumerate()
        .map(|(p, part)| {
            let base = p * PART_BITS;
            let mut new = 0;
            let in_part = segments.iter().flat_map(|s| &s[p]);
            let extra = extra.iter().filter(|&&v| v as usize / PART_BITS == p);
            for &v in in_part.chain(extra) {
                let i = v as usize - base;
                let (w, bit) = (i / 64, 1u64 << (i % 64));
                new += usize::from(part[w] & bit == 0);
                part[w] |= bit;
            }
            new
        })
        .sum()
}

/// Calls `keep` with each value that [`below`]`(·, n)` accepts among the `words` words
/// of `rng`'s stream from word `from` on, in order: `below`'s test, a word redrawn when
/// the low half of its product falls in the biased zone, whatever came before it.
#[inline]
fn each_accepted(rng: &ChaCha8Rng, from: u128, words: usize, n: u32, mut keep: impl FnMut(u32)) {
    let threshold = n.wrapping_neg() % n;
    let mut r = rng.clone();
    r.set_word_pos(from);
    for _ in 0..words {
        let m = u64::from(r.next_u32()) * u64::from(n);
        if m as u32 >= threshold {
            keep((m >> 32) as u32);
        }
    }
}

/// Bitmaps of at most this many positions (1 MiB) are drawn by
/// [`draw_batch_direct`]: small enough for a core's cache, so a thread marks its
/// values at once in a bitmap of its own.
const MARKED_DIRECTLY: usize = 1 << 23;

/// [`draw_batch`] for a bitmap small enough to stay in a core's cache: the batch's
/// words are split evenly among the threads, each marking the values it accepts at
/// once in a bitmap of its own; the bitmaps are then joined into `bits` by ranges of
/// words, in parallel, counting the new bits as they go (marking is idempotent and
/// order-free). No values are kept per part of the range to be marked afterwards,
/// which wrote and read 4 bytes a draw. Returns how many were new.
///
/// Split by the threads, not in fixed segments: a ramp step of 100,000 draws was two
/// segments of 65,536 words, one thread drawing two thirds of it, and a batch under
/// one segment ran on one thread.
fn draw_batch_direct(rng: &mut ChaCha8Rng, n: u32, count: usize, bits: &mut [u64]) -> usize {
    use rayon::prelude::*;
    let start = rng.get_word_pos();
    let view: &ChaCha8Rng = rng;
    let pieces = rayon::current_num_threads().clamp(1, count.div_ceil(PIECE_MIN));
    let marked: Vec<(Vec<u64>, usize)> = (0..pieces)
        .into_par_iter()
        .with_max_len(1)
        .map(|p| {
            let (from, to) = (count * p / pieces, count * (p + 1) / pieces);
            let mut marks = vec![0u64; bits.len()];
            let mut accepted = 0;
            each_accepted(view, start + from as u128, to - from, n, |v| {
                marks[v as usize / 64] |= 1 << (v % 64);
                accepted += 1;
            });
            (marks, accepted)
        })
        .collect();
    let accepted: usize = marked.iter().map(|(_, a)| a).sum();
    let mut new: usize = bits
        .par_chunks_mut(JOIN_WORDS)
        .enumerate()
        .map(|(c, part)| {
            let base = c * JOIN_WORDS;
            let mut new = 0;
            for (j, word) in part.iter_mut().enumerate() {
                let m = marked.iter().fold(0, |m, (marks, _)| m | marks[base + j]);
                new += (m & !*word).count_ones() as usize;
                *word |= m;
            }
            new
        })
        .sum();
    // The words redrawn leave that many draws to make, past the batch's words.
    rng.set_word_pos(start + count as u128);
    for _ in accepted..count {
        let v = below(rng, n) as usize;
        let (w, bit) = (v / 64, 1u64 << (v % 64));
        new += usize::from(bits[w] & bit == 0);
        bits[w] |= bit;
    }
    new
}

/// The fewest words a thread of [`draw_batch_direct`] draws: fewer would cost about
/// what their thread's start-up and bitmap cost.
const PIECE_MIN: usize = 1 << 14;

/// The words of `bits` one thread of [`draw_batch_direct`] joins at a time.
const JOIN_WORDS: usize = 1 << 12;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// The same indices as rand's, and the stream left in the same state, on both
    /// sides of rand's thresholds (amounts below and above 163, ranges below and above
    /// 500,000, shares around each constant), in place or not.
    #[test]
    fn equals_rands_sample() {
        let cases = [
            (0, 0),
            (1, 1),
            (10, 10),
            (100, 12),
            (100, 11),
            (1000, 50),
            (1000, 162),
            (1000, 163),
            (1000, 1000),
            (50_000, 163),
            (50_000, 185),
            (50_000, 186),
            (499_999, 2_000),
            (500_000, 2_000),
            (600_000, 16_000),
            (600_000, 17_000),
            (600_000, 600_000),
            (2_000_000, 100),
            (2_000_000, 60_000),
        ];
        let mut in_place_seen = 0;
        for (length, amount) in cases {
            in_place_seen += usize::from(rand_goes_in_place(length, amount));
            for seed in 0..3 {
                let mut a = ChaCha8Rng::seed_from_u64(seed);
                let mut b = ChaCha8Rng::seed_from_u64(seed);
                assert_eq!(
                    sample(&mut a, length, amount),
                    rand::seq::index::sample(&mut b, length, amount).into_vec(),
                    "length {length}, amount {amount}, seed {seed}"
                );
                assert_eq!(a.gen::<u64>(), b.gen::<u64>(), "same draws");
            }
        }
        assert!(in_place_seen >= 6, "the cases exercise the in-place way");
    }

    #[test]
    fn sorted_sample_is_sorted_distinct_and_sized() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (length, amount) in [
            (0, 0),
            (1, 1),
            (64, 32),
            (64, 33),
            (65, 64),
            (130, 0),
            (130, 130),
            (1000, 999),
            (100_000, 3_125),
            (100_000, 70_000),
        ] {
            let got = sorted_sample(&mut rng, length, amount);
            assert_eq!(got.len(), amount, "{length}, {amount}");
            assert!(got.windows(2).all(|w| w[0] < w[1]), "{length}, {amount}");
            assert!(got.iter().all(|&i| i < length));
        }
        assert_eq!(
            sorted_sample(&mut rng, 5, 9),
            vec![0, 1, 2, 3, 4],
            "clamped"
        );
    }

    /// The bitmap drawn on every thread is the one-thread sampler's choice, and leaves
    /// the stream where it does: small amounts (drawn one by one), batches, the
    /// indices left out, ranges of several parts of the bitmap, and draws that
    /// `below` redraws (counted, so the case is known to be exercised).
    #[test]
    fn sample_bits_equals_sorted_sample() {
        let mut redrawn = 0;
        for (length, amount) in [
            (0, 0),
            (1, 1),
            (100, 30),
            (100, 70),
            (70_000, 40_000),
            (200_000, 50_000),
            (200_000, 190_000),
            (2_500_000, 2_000_000),
            (3_000_000, 1_000_000),
            (5_000_000, 100_000),
            // Past `MARKED_DIRECTLY`: marked by parts of the range.
            (9_000_000, 40_000),
        ] {
            for seed in 0..2 {
                let mut a = ChaCha8Rng::seed_from_u64(seed);
                a.set_stream(7);
                let mut b = a.clone();
                let start = a.get_word_pos();
                let want = sorted_sample(&mut a, length, amount);
                let got = sample_bits(&mut b, length, amount);
                assert_eq!(got.len(), length.div_ceil(64));
                assert_eq!(ones(&got), want, "length {length}, amount {amount}");
                assert_eq!(a.get_word_pos(), b.get_word_pos(), "same words drawn");
                assert_eq!(a.next_u32(), b.next_u32());
                if length > 0 {
                    let n = length as u32;
                    let threshold = n.wrapping_neg() % n;
                    let mut r = ChaCha8Rng::seed_from_u64(seed);
                    r.set_stream(7);
                    redrawn += (start..b.get_word_pos() - 1)
                        .filter(|_| ((u64::from(r.next_u32()) * u64::from(n)) as u32) < threshold)
                        .count();
                }
            }
        }
        assert!(redrawn > 0, "some words redrawn");
    }

    /// Every index equally likely, drawing a small share and (through the indices left
    /// out) a large one: Pearson's chi-square over 20,000 fixed seeds, below its
    /// 99.99th percentile for 99 degrees of freedom.
    #[test]
    fn sorted_sample_is_uniform_chi_square() {
        const LENGTH: usize = 100;
        const SEEDS: u64 = 20_000;
        for amount in [5, 80] {
            let mut hits = [0u64; LENGTH];
            for seed in 0..SEEDS {
                for i in sorted_sample(&mut ChaCha8Rng::seed_from_u64(seed), LENGTH, amount) {
                    hits[i] += 1;
                }
            }
            let expected = (SEEDS * amount as u64) as f64 / LENGTH as f64;
            let stat: f64 = hits
                .iter()
                .map(|&h| (h as f64 - expected).powi(2) / expected)
                .sum();
            // Wilson–Hilferty.
            assert!(stat < 160.2, "{amount} of {LENGTH}: chi-square {stat:.1}");
        }
    }

    /// A source of chosen 32-bit draws, to check `below`'s rejection.
    struct Draws(Vec<u32>);

    impl RngCore for Draws {
        fn next_u32(&mut self) -> u32 {
            self.0.remove(0)
        }
        fn next_u64(&mut self) -> u64 {
            unreachable!("below draws 32 bits at a time")
        }
        fn fill_bytes(&mut self, _: &mut [u8]) {
            unreachable!()
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), rand::Error> {
            unreachable!()
        }
    }

    /// `below` maps a draw `x` to `x × n / 2^32`, and redraws exactly the draws of the
    /// biased zone: those whose low half is below `2^32 mod n`.
    #[test]
    fn below_rejects_exactly_the_biased_draws() {
        // n = 3: 2^32 mod 3 = 1, so only a draw whose product has a low half of 0 (the
        // draw 0) is redrawn.
        let mut r = Draws(vec![0, 0x8000_0000]);
        assert_eq!(below(&mut r, 3), 1, "0 redrawn, then 2^31 × 3 / 2^32");
        assert!(r.0.is_empty());
        // n = 2^31 + 1: 2^32 mod n = 2^31 - 1. The draw 1 has a low half of n
        // (kept: 0); the draw 2 has 2 × n = 2^32 + 2, low half 2 (redrawn).
        let n = (1 << 31) + 1;
        assert_eq!(below(&mut Draws(vec![1]), n), 0);
        let mut r = Draws(vec![2, u32::MAX]);
        assert_eq!(
            below(&mut r, n),
            ((u64::from(u32::MAX) * u64::from(n)) >> 32) as u32
        );
        assert!(r.0.is_empty(), "one redraw");
        // Powers of two take the top bits and never redraw.
        assert_eq!(below(&mut Draws(vec![0xF000_0000]), 16), 15);
        assert_eq!(below(&mut Draws(vec![0]), 1), 0);
    }

    /// Every value equally likely: a chi-square over 600,000 draws below 6 and below
    /// 1,000, under their 99.99th percentiles.
    #[test]
    fn below_is_uniform_chi_square() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for (n, bound) in [(6u32, 25.7), (1_000, 1_180.0)] {
            let draws = 600_000;
            let mut hits = vec![0u64; n as usize];
            for _ in 0..draws {
                hits[below(&mut rng, n) as usize] += 1;
            }
            let expected = draws as f64 / f64::from(n);
            let stat: f64 = hits
                .iter()
                .map(|&h| (h as f64 - expected).powi(2) / expected)
                .sum();
            assert!(stat < bound, "below {n}: chi-square {stat:.1}");
        }
    }
}
