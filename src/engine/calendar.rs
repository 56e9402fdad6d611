//! The poll calendar: every present device's next wake, in per-tick buckets, one
//! calendar per block of [`BLOCK`] consecutive devices.
//!
//! Splitting by block is what lets a tick run in parallel without a merge: the wakes a
//! block's devices schedule land in that block's own buckets, so each block is processed
//! by one thread start to finish, and the block's hot words (512 KiB) stay in cache while
//! it is. Within a bucket the order is whatever order the wakes were pushed in; it does
//! not matter, because every device wakes at most once per tick and everything it does
//! depends only on its own state and (seed, device, tick) (R22).

use crate::ids::{ReleaseId, VersionId};

/// log2 of the devices per block. A block's hot words (8 bytes a device) should stay
/// in a core's L2 cache while its bucket is processed: 2^16 devices is 512 KiB (the
/// measurements behind the choice are in docs/performance.md).
const BLOCK_BITS: u32 = 16;

/// Devices per block.
pub const BLOCK: usize = 1 << BLOCK_BITS;

/// What a device carries to its next wake.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Carry {
    /// Nothing.
    Nothing,
    /// An installed version it reports at this poll (R3).
    Report(VersionId),
    /// Bytes of a release already fetched, to resume (byte-range requests).
    Partial(ReleaseId, u64),
}

const TAG_NOTHING: u32 = 0;
const TAG_REPORT: u32 = 1 << 30;
/// The carry is in the block's [`Block::aside`] map.
const TAG_ASIDE: u32 = 2 << 30;
const TAG_MASK: u32 = 3 << 30;
const OFF_MASK: u32 = (1 << BLOCK_BITS) - 1;
/// Bits of a reported version kept in the wake itself, between the offset and the tag.
const VALUE_BITS: u32 = 30 - BLOCK_BITS;

/// One scheduled wake, packed in 8 bytes: the device's offset in its block, the tick
/// it was last seen, and what it carries. Every poll writes one and the next reads it,
/// and the buckets are far bigger than the caches: their bytes are what the engine's
/// polls wait on (docs/performance.md), so the rare carries that do not fit (a partial
/// download, a version id past 2^14) are kept in the block's map instead.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Wake {
    /// Carry tag (bits 30..32), a reported version (bits `BLOCK_BITS..30`) and the
    /// device's offset in its block (the low `BLOCK_BITS`).
    head: u32,
    /// The tick the device was last seen (polled while online), `i32::MIN` for never.
    /// Kept here rather than written to the fleet at every poll, which would be a
    /// cache miss per poll; [`super::Engine::sync_last_seen`] copies it to the fleet
    /// when something reads it.
    pub seen: i32,
}

impl Wake {
    /// The device's offset in its block.
    #[inline]
    pub fn off(&self) -> usize {
        (self.head & OFF_MASK) as usize
    }
}

/// Wakes ahead (one cache line) to prefetch a bucket's tail.
const LINE_AHEAD: usize = 64 / std::mem::size_of::<Wake>();

/// Most buckets a block's ring holds (32 bytes each, allocated on a block's first
/// push). Leads beyond it (very long poll intervals, downloads over slow links) go to
/// the block's ordered overflow map.
const MAX_RING: usize = 1 << 12;

/// The ring size for a behaviour model: a power of two covering the longest lead of a
/// poll (interval plus jitter), so that polls never overflow; at most [`MAX_RING`].
/// The calendar's size thus follows the devices (blocks) and the intervals in use,
/// never the absolute ticks simulated (R22 results do not depend on it: a bucket's
/// wakes are the same wherever they are kept).
pub fn ring_size(behaviour: Option<&crate::behaviour::Behaviour>) -> usize {
    let lead = behaviour.map_or(1, |b| {
        b.profiles
            .iter()
            .map(|p| p.poll_interval.saturating_add(p.poll_jitter))
            .max()
            .unwrap_or(1)
    });
    usize::try_from(lead.saturating_add(1))
        .unwrap_or(MAX_RING)
        .min(MAX_RING)
        .next_power_of_two()
}

/// One block's calendar: a ring of per-tick buckets (slot `t % ring`, holding the wakes
/// of one tick at a time) and, for a tick whose slot is busy with another tick, an
/// ordered map of overflow buckets.
pub struct Block {
    /// Ring slots; empty until the first push.
    ring: Vec<Vec<Wake>>,
    /// The tick each non-empty ring slot holds.
    ticks: Vec<u64>,
    /// Slots of the ring (a power of two).
    ring_len: usize,
    /// Wakes of ticks whose ring slot held another tick when they were pushed.
    /// Each with how many of its first wakes [`Block::unsynced`] has given out.
    far: std::collections::BTreeMap<u64, (Vec<Wake>, u32)>,
    /// Emptied buckets kept for reuse, so a run does not allocate per bucket per tick.
    spare: Vec<Vec<Wake>>,
    /// Per ring slot, how many of its bucket's first wakes [`Block::unsynced`] has
    /// given out: a bucket only grows at its end until it is taken, and its wakes never
    /// change meanwhile.
    synced: Vec<u32>,
    /// The carries too big for a wake, by device offset: a device has one wake
    /// scheduled at a time, so its entry is there from the push of that wake to the
    /// [`Block::carry`] of it.
    aside: hashbrown::HashMap<u16, Carry>,
    /// The ring as it was at the last [`MARKS`] [`Block::mark`]s, oldest first: the
    /// mark's tick and, per slot, the tick its bucket held and the bucket's length.
    /// Buckets only grow at their end until taken, so the wakes pushed since a mark
    /// are each bucket's tail past its marked length, or the whole bucket if it holds
    /// another tick now ([`Block::pushed_since`]).
    marks: std::collections::VecDeque<(u64, Vec<(u64, u32)>)>,
}

/// How many marks a block keeps: selections by last seen look back at most this many
/// ticks before falling back to the copy of every wake.
pub const MARKS: usize = 16;

impl Block {
    /// An empty calendar whose ring has `ring_len` slots (see [`ring_size`]).
    pub fn new(ring_len: usize) -> Block {
        debug_assert!(ring_len.is_power_of_two());
        Block {
            ring: Vec::new(),
            ticks: Vec::new(),
            ring_len,
            far: std::collections::BTreeMap::new(),
            spare: Vec::new(),
            synced: Vec::new(),
            aside: hashbrown::HashMap::new(),
            marks: std::collections::VecDeque::new(),
        }
    }

    /// Notes where every bucket ends at tick `t` (ticks marked in increasing order), so
    /// that [`Block::pushed_since`] can tell the wakes pushed from then on.
    pub fn mark(&mut self, t: u64) {
        let mut ends = if self.marks.len() == MARKS {
            self.marks.pop_front().expect("full").1
        } else {
            Vec::new()
        };
        ends.clear();
        ends.extend(
            self.ring
                .iter()
                .zip(&self.ticks)
                .map(|(bucket, &tick)| (tick, bucket.len() as u32)),
        );
        self.marks.push_back((t, ends));
    }

    /// Every wake pushed since the latest mark at or before tick `t`, and possibly some
    /// pushed before it (every far wake), in runs (a bucket's tail, a bucket, a far
    /// bucket) so that a caller's loop over them stays tight; `None` if no kept mark is
    /// that old.
    pub fn pushed_since(&self, t: u64) -> Option<impl Iterator<Item = &[Wake]>> {
        let (_, ends) = self.marks.iter().rev().find(|(at, _)| *at <= t)?;
        let ring = self.ring.iter().enumerate().map(move |(slot, bucket)| {
            // A slot the ring had no room for at the mark, or holding another tick
            // now, has only wakes pushed since.
            let from = match ends.get(slot) {
                Some(&(tick, len)) if tick == self.ticks[slot] => len as usize,
                _ => 0,
            };
            &bucket[from.min(bucket.len())..]
        });
        let far = self.far.values().map(|(wakes, _)| wakes.as_slice());
        Some(ring.chain(far))
    }

    /// Schedules a wake at tick `t` of the device at `off` in the block, last seen at
    /// `seen`, carrying `carry`.
    ///
    /// Inlined into the polls: most pushes land in a ring bucket that already holds
    /// tick `t` and has room, so that case is a few instructions and the rest (a carry
    /// kept aside, a far tick, a bucket's first wake or its growth) is out of line.
    #[inline(always)]
    pub fn push(&mut self, t: u64, off: usize, seen: i32, carry: Carry) {
        debug_assert!(off < BLOCK);
        let tag = match carry {
            Carry::Nothing => TAG_NOTHING,
            Carry::Report(v) if v.0 < 1 << VALUE_BITS => TAG_REPORT | (v.0 << BLOCK_BITS),
            _ => self.put_aside(off, carry),
        };
        let wake = Wake {
            head: tag | off as u32,
            seen,
        };
        let slot = (t as usize) & (self.ring_len - 1);
        if let (Some(bucket), Some(&tick)) = (self.ring.get_mut(slot), self.ticks.get(slot)) {
            if tick == t && bucket.len() < bucket.capacity() {
                bucket.push(wake);
                // Pushes interleave over dozens of buckets, too many write streams for
                // the hardware prefetcher: ask for the bucket's next cache line before
                // it is needed.
                let next = bucket.len() + LINE_AHEAD;
                if next < bucket.capacity() {
                    crate::prefetch::prefetch(bucket.as_ptr().wrapping_add(next));
                }
                return;
            }
        }
        self.push_slow(t, wake);
    }

    /// Keeps a carry that does not fit in a wake in the block's map.
    #[cold]
    #[inline(never)]
    fn put_aside(&mut self, off: usize, carry: Carry) -> u32 {
        self.aside.insert(off as u16, carry);
        TAG_ASIDE
    }

    /// [`Block::push`] of a wake to a far tick, to a bucket's first wake, or to a full
    /// bucket.
    #[inline(never)]
    fn push_slow(&mut self, t: u64, wake: Wake) {
        if self.ring.is_empty() {
            self.ring.resize_with(self.ring_len, Vec::new);
            self.ticks.resize(self.ring_len, 0);
            self.synced.resize(self.ring_len, 0);
        }
        let slot = (t as usize) & (self.ring_len - 1);
        if !self.ring[slot].is_empty() && self.ticks[slot] != t {
            self.far.entry(t).or_default().0.push(wake);
            return;
        }
        self.ticks[slot] = t;
        let bucket = &mut self.ring[slot];
        if bucket.capacity() == 0 {
            if let Some(spare) = self.spare.pop() {
                *bucket = spare;
            }
        }
        bucket.push(wake);
    }

    /// Removes and returns the wakes of tick `t`.
    pub fn take(&mut self, t: u64) -> Vec<Wake> {
        let slot = (t as usize) & self.ring_len.wrapping_sub(1);
        let mut wakes = match self.ring.get_mut(slot) {
            Some(bucket) if !bucket.is_empty() && self.ticks[slot] == t => {
                self.synced[slot] = 0;
                // The slot holds no tick until its next push: a mark of the taken
                // bucket never matches the slot's next one (`pushed_since`).
                self.ticks[slot] = u64::MAX;
                std::mem::take(bucket)
            }
            _ => Vec::new(),
        };
        if let Some((far, _)) = self.far.remove(&t) {
            if wakes.is_empty() {
                wakes = far;
            } else {
                wakes.extend(far);
            }
        }
        wakes
    }

    /// What a taken wake carries, which it gives out once: the next wake of its device
    /// is pushed with a carry of its own.
    #[inline]
    pub fn carry(&mut self, wake: &Wake) -> Carry {
        match wake.head & TAG_MASK {
            TAG_NOTHING => Carry::Nothing,
            TAG_REPORT => Carry::Report(VersionId((wake.head & !TAG_MASK) >> BLOCK_BITS)),
            _ => self
                .aside
                .remove(&(wake.off() as u16))
                .expect("a wake's carry is kept aside from its push to its carry"),
        }
    }

    /// Returns a processed bucket for reuse.
    pub fn recycle(&mut self, mut bucket: Vec<Wake>) {
        if bucket.capacity() > 0 && self.spare.len() < 64 {
            bucket.clear();
            self.spare.push(bucket);
        }
    }

    /// The scheduled wakes not given out by an earlier call: every wake pushed since,
    /// in the ring or far ahead. What the last-seen ticks of the block's devices need
    /// to be brought up to date, since a wake's tick is set when it is pushed. Called
    /// every tick when the engine tracks last-seen ticks, so the far wakes, which
    /// can be many (every device of a long offline spell), are given out once too.
    /// In runs, as [`Block::pushed_since`] gives them.
    pub fn unsynced(&mut self) -> impl Iterator<Item = &[Wake]> {
        let fresh = self
            .ring
            .iter()
            .zip(&mut self.synced)
            .map(|(bucket, synced)| {
                let from = std::mem::replace(synced, bucket.len() as u32) as usize;
                &bucket[from..]
            });
        let far = self.far.values_mut().map(|(wakes, synced)| {
            let from = std::mem::replace(synced, wakes.len() as u32) as usize;
            &wakes[from..]
        });
        fresh.chain(far)
    }

    /// Every scheduled wake.
    pub fn wakes(&self) -> impl Iterator<Item = &Wake> {
        self.ring
            .iter()
            .flatten()
            .chain(self.far.values().flat_map(|(wakes, _)| wakes))
    }
}

/// Calls `f` on every wake of `runs`, in order, with the cache lines of each run
/// fetched while the run before it is read. The wakes pushed since a mark are the
/// tails of a block's ring buckets, a hundred wakes each on average (13 cache lines)
/// written a tick or more ago: too short for the CPU's own prefetcher to run ahead, so
/// that every cache line of them was a miss waited for (docs/performance.md).
pub fn each_wake<'w>(runs: impl Iterator<Item = &'w [Wake]>, f: impl FnMut(&'w Wake)) {
    each_wake_ahead(runs, |_| {}, f);
}

/// [`each_wake`], calling `ahead` on the wake [`AHEAD`] on in the same run before `f`
/// on each: for a caller whose `f` reads something of the wake's row (a cache miss of
/// its own, since a run's wakes come in no order of rows) to fetch it early, so that
/// the misses overlap.
#[inline]
pub fn each_wake_ahead<'w>(
    runs: impl Iterator<Item = &'w [Wake]>,
    ahead: impl Fn(&'w Wake),
    mut f: impl FnMut(&'w Wake),
) {
    let mut runs = runs.peekable();
    while let Some(run) = runs.next() {
        if let Some(next) = runs.peek() {
            crate::prefetch::prefetch_lines(next);
        }
        for (j, w) in run.iter().enumerate() {
            if let Some(a) = run.get(j + AHEAD) {
                ahead(a);
            }
            f(w);
        }
    }
}

/// How far on in a run [`each_wake_ahead`] fetches (16 and 32 did equally well; 8
/// and 64 less well).
const AHEAD: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every carry comes back from its wake: the small ones packed in it, the others
    /// kept aside until taken, once.
    #[test]
    fn a_wake_is_8_bytes_and_round_trips_every_carry() {
        assert_eq!(std::mem::size_of::<Wake>(), 8);
        let mut b = Block::new(4);
        let carries = [
            Carry::Nothing,
            Carry::Report(VersionId(0)),
            Carry::Report(VersionId((1 << VALUE_BITS) - 1)),
            Carry::Report(VersionId(1 << VALUE_BITS)),
            Carry::Report(VersionId(u32::MAX)),
            Carry::Partial(ReleaseId(7), 0),
            Carry::Partial(ReleaseId(u32::MAX), u64::MAX),
            Carry::Partial(ReleaseId(3), (1 << 32) + 5),
        ];
        for (i, &carry) in carries.iter().enumerate() {
            b.push(1, BLOCK - 1 - i, -4 - i as i32, carry);
        }
        let wakes = b.take(1);
        assert_eq!(
            b.aside.len(),
            5,
            "the carries that do not fit are kept aside"
        );
        for (i, (w, &carry)) in wakes.iter().zip(&carries).enumerate() {
            assert_eq!((w.off(), w.seen), (BLOCK - 1 - i, -4 - i as i32));
            assert_eq!(b.carry(w), carry);
        }
        assert!(b.aside.is_empty(), "each given out once");
    }

    #[test]
    fn buckets_are_reused() {
        let mut b = Block::new(8);
        b.push(3, 1, 0, Carry::Nothing);
        b.push(3, 2, 0, Carry::Nothing);
        let taken = b.take(3);
        assert_eq!(taken.len(), 2);
        assert!(b.take(3).is_empty() && b.take(99).is_empty());
        b.recycle(taken);
        b.push(5, 4, 0, Carry::Nothing);
        assert_eq!(b.wakes().count(), 1);
        assert!(b.ring[5].capacity() >= 2, "the spare bucket was reused");
    }

    /// Issue 14: wakes far ahead (a poll interval of a million ticks, a tick near
    /// 2^64) cost a map entry, not a bucket per tick in between; every wake comes back
    /// at its own tick, whichever of ring and map holds it.
    #[test]
    fn far_wakes_cost_nothing_per_tick_between() {
        let mut b = Block::new(4);
        let ticks = [0, 1, 4, 5, 4, 9, 1_000_000, u64::MAX - 1, 2];
        for (i, &t) in ticks.iter().enumerate() {
            b.push(t, i, 0, Carry::Nothing);
        }
        assert_eq!(b.ring.len(), 4, "the ring does not grow with ticks");
        assert_eq!(b.wakes().count(), ticks.len());
        let mut seen = Vec::new();
        for t in [0, 1, 2, 4, 5, 9, 1_000_000, u64::MAX - 1] {
            let mut offs: Vec<usize> = b.take(t).iter().map(Wake::off).collect();
            offs.sort_unstable();
            let want: Vec<usize> = (0..ticks.len()).filter(|&i| ticks[i] == t).collect();
            assert_eq!(offs, want, "tick {t}");
            seen.extend(offs);
        }
        assert_eq!(seen.len(), ticks.len());
        assert_eq!(b.wakes().count(), 0);
    }

    proptest::proptest! {
        /// The ring with its overflow map returns, at every tick, exactly the wakes a
        /// plain map of tick -> wakes (the reference) returns: whatever the ring size,
        /// the leads (within the ring, beyond it, in the past) and the order of pushes.
        #[test]
        fn ring_equals_a_plain_map_of_ticks(
            ring_bits in 0u32..5,
            ops in proptest::collection::vec((0u64..3, 0u64..40, 0usize..BLOCK), 1..300),
        ) {
            let mut block = Block::new(1 << ring_bits);
            let mut reference: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
            let mut now = 0u64;
            for (kind, lead, off) in ops {
                if kind == 0 {
                    let mut got: Vec<usize> = block.take(now).iter().map(Wake::off).collect();
                    let mut want = reference.remove(&now).unwrap_or_default();
                    got.sort_unstable();
                    want.sort_unstable();
                    proptest::prop_assert_eq!(got, want, "tick {}", now);
                    now += 1;
                } else {
                    // Mostly ahead; sometimes at a tick already taken (never taken again).
                    let t = if kind == 1 { now + lead } else { now.saturating_sub(lead % 3) };
                    block.push(t, off, 0, Carry::Nothing);
                    reference.entry(t).or_default().push(off);
                }
                let in_block = block.wakes().count();
                let in_reference: usize = reference.values().map(Vec::len).sum();
                proptest::prop_assert_eq!(in_block, in_reference);
            }
        }
    }

    /// `pushed_since` gives every wake pushed since the chosen mark, whatever slot holds
    /// it: a bucket's tail, a bucket taken and filled again for a later tick (whole),
    /// a slot first used after the mark (whole), and every far wake; `None` before the
    /// oldest mark kept.
    #[test]
    fn pushed_since_gives_the_wakes_pushed_after_a_mark() {
        let mut b = Block::new(4);
        let offs = |b: &Block, t: u64| -> Option<Vec<usize>> {
            let mut v: Vec<usize> = b.pushed_since(t)?.flatten().map(Wake::off).collect();
            v.sort_unstable();
            Some(v)
        };
        b.push(1, 1, 0, Carry::Nothing);
        b.push(2, 2, 0, Carry::Nothing);
        b.mark(1);
        assert_eq!(offs(&b, 0), None, "no mark that old");
        assert_eq!(offs(&b, 1), Some(vec![]));
        b.push(1, 3, 0, Carry::Nothing); // a tail
        b.push(3, 4, 0, Carry::Nothing); // a slot first used
        b.push(6, 5, 0, Carry::Nothing); // far: slot 2 holds tick 2
        assert_eq!(offs(&b, 1), Some(vec![3, 4, 5]));
        b.mark(2);
        let taken = b.take(1);
        b.recycle(taken);
        b.push(5, 6, 0, Carry::Nothing); // slot 1 again, for tick 5
        assert_eq!(offs(&b, 2), Some(vec![5, 6]), "the far wake, and slot 1's");
        assert_eq!(offs(&b, 1), Some(vec![4, 5, 6]), "3 was taken with tick 1");
        assert_eq!(
            offs(&b, 9),
            Some(vec![5, 6]),
            "the latest mark at or before"
        );
        for t in 3..3 + MARKS as u64 {
            b.mark(t);
        }
        assert_eq!(offs(&b, 2), None, "forgotten");
        assert_eq!(offs(&b, 3), Some(vec![5]), "only far wakes since");
    }

    /// `unsynced` gives each wake pushed once, between pushes and takes, whatever
    /// slot, ring reuse or overflow holds it.
    #[test]
    fn unsynced_gives_each_pushed_wake_once() {
        let mut b = Block::new(4);
        let offs = |b: &mut Block| -> Vec<usize> {
            let mut v: Vec<usize> = b.unsynced().flatten().map(Wake::off).collect();
            v.sort_unstable();
            v
        };
        b.push(1, 1, 0, Carry::Nothing);
        b.push(2, 2, 0, Carry::Nothing);
        assert_eq!(offs(&mut b), [1, 2]);
        assert!(offs(&mut b).is_empty(), "nothing new");
        b.push(1, 3, 0, Carry::Nothing);
        assert_eq!(offs(&mut b), [3]);
        let taken = b.take(1);
        b.recycle(taken);
        b.push(5, 4, 0, Carry::Nothing);
        b.push(9, 5, 0, Carry::Nothing);
        assert_eq!(offs(&mut b), [4, 5], "slot 1 reused for tick 5, tick 9 far");
        assert!(offs(&mut b).is_empty(), "far wakes once too");
        b.push(9, 6, 0, Carry::Nothing);
        assert_eq!(offs(&mut b), [6], "a far wake pushed since");
    }

    /// `each_wake` gives every wake of every run once, in order (empty runs and a run
    /// after them too): the last-seen looks and copies read the wakes through it.
    #[test]
    fn each_wake_gives_every_wake_in_order() {
        let mut b = Block::new(4);
        for (t, off) in [(1, 1), (1, 2), (2, 3), (3, 4), (9, 5), (1, 6)] {
            b.push(t, off, 0, Carry::Nothing);
        }
        let runs: Vec<&[Wake]> = b.ring.iter().map(Vec::as_slice).collect();
        let want: Vec<usize> = runs.iter().copied().flatten().map(|w| w.off()).collect();
        let mut got = Vec::new();
        each_wake(runs.iter().copied(), |w| got.push(w.off()));
        assert_eq!(got, want);
        assert_eq!(got.len(), 5, "the far wake is not in the ring");
        let mut got = Vec::new();
        each_wake([&[][..], runs[1], &[], runs[2]].into_iter(), |w| {
            got.push(w.off())
        });
        assert_eq!(got, [1, 2, 6, 3]);
        // With a wake ahead handed on: each wake once to `f`, in order, and to
        // `ahead` exactly the wakes `AHEAD` on in their own run.
        let mut b = Block::new(2);
        for off in 0..AHEAD + 5 {
            b.push(1, off, 0, Carry::Nothing);
        }
        let runs: Vec<&[Wake]> = b.ring.iter().map(Vec::as_slice).collect();
        let fetched = std::cell::RefCell::new(Vec::new());
        let mut got = Vec::new();
        each_wake_ahead(
            runs.iter().copied(),
            |w| fetched.borrow_mut().push(w.off()),
            |w| got.push(w.off()),
        );
        assert_eq!(got, (0..AHEAD + 5).collect::<Vec<_>>());
        assert_eq!(fetched.into_inner(), (AHEAD..AHEAD + 5).collect::<Vec<_>>());
    }

    #[test]
    fn ring_follows_the_longest_poll_lead() {
        use crate::behaviour::{Behaviour, Profile};
        assert_eq!(ring_size(None), 2);
        let mut p = Profile::standard(3600);
        p.poll_jitter = 3;
        let b = Behaviour::new(vec![p.clone()], vec![], 3600);
        assert_eq!(ring_size(Some(&b)), 32, "24 + 3 + 1 rounded up");
        p.poll_interval = crate::limits::MAX_TICKS;
        let b = Behaviour::new(vec![p], vec![], 3600);
        assert_eq!(ring_size(Some(&b)), MAX_RING);
    }
}
