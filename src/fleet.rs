//! The fleet: every device's state as struct-of-arrays with interned ids.
//!
//! Columns rather than a `Vec<Device>` because the engine sweeps one or two fields over
//! millions of devices per tick; device id strings are cold and only read for output.

use hashbrown::HashTable;
use rayon::prelude::*;

use crate::ids::{
    CohortId, DeviceIdx, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId,
};

/// One device's report to the resolver (spec §4): everything the answer depends on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceReport {
    /// Its software type.
    pub software_type: SoftwareTypeId,
    /// The version it reports.
    pub version: VersionId,
    /// Its hardware version.
    pub hardware: HardwareId,
    /// The project key it reports with.
    pub project_key: Option<ProjectKeyId>,
    /// Its stored cohort.
    pub cohort: CohortId,
    /// Staged in its stored cohort (R10).
    pub staged: bool,
    /// Its release override (R12).
    pub release_override: Option<ReleaseId>,
}

/// A device as it is added to the fleet.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Its id (serial number).
    pub id: String,
    /// See [`DeviceReport`].
    pub report: DeviceReport,
    /// The tick it was last seen at, if known (bulk staging order, R21).
    pub last_seen: Option<i64>,
}

/// Devices added in bulk by [`Fleet::push_many`], column by column: row `i` of every
/// column is one device. Optional columns left `None` mean "none of these devices has
/// one" (no project key, not staged, no override, never seen).
#[derive(Clone, Debug, Default)]
pub struct DeviceColumns {
    /// Software type per device.
    pub software_type: Vec<SoftwareTypeId>,
    /// Hardware version per device.
    pub hardware: Vec<HardwareId>,
    /// Reported version per device.
    pub version: Vec<VersionId>,
    /// Stored cohort per device.
    pub cohort: Vec<CohortId>,
    /// Project key per device.
    pub project_key: Option<Vec<Option<ProjectKeyId>>>,
    /// Staged flag per device (R10).
    pub staged: Option<Vec<bool>>,
    /// Release override per device (R12).
    pub release_override: Option<Vec<Option<ReleaseId>>>,
    /// Tick last seen per device (R21), [`NEVER_SEEN`] for never: the fleet's own
    /// packing, so that a 10M-row import hands its column over without a pass.
    pub last_seen: Option<Vec<i32>>,
}

impl DeviceColumns {
    /// Number of devices (the length of the required columns).
    pub fn len(&self) -> usize {
        self.software_type.len()
    }

    /// Whether there are no devices.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why [`Fleet::push_many`] refused a batch; nothing of the batch was added.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BulkError {
    /// The 0-based position in the batch of the device at fault.
    pub row: usize,
    /// What is wrong, phrased like [`Fleet::push`]'s errors.
    pub message: String,
}

/// Appends `src` to `dst`, taking `src`'s allocation when `dst` is empty.
fn append<T: Copy>(dst: &mut Vec<T>, src: Vec<T>) {
    if dst.is_empty() && dst.capacity() < src.len() {
        *dst = src;
    } else {
        dst.extend_from_slice(&src);
    }
}

/// Below this many rows, bulk column fills run on one thread.
const PARALLEL_FILL_MIN: usize = 1 << 16;

/// Appends `n` copies of `value` to `dst`.
fn fill<T: Copy + Send + Sync>(dst: &mut Vec<T>, value: T, n: usize) {
    if n < PARALLEL_FILL_MIN {
        dst.resize(dst.len() + n, value);
    } else {
        dst.par_extend(rayon::iter::repeat_n(value, n));
    }
}

/// Appends `n` zeros (`T::default()`) to `dst`; to an empty `dst`, as freshly zeroed
/// memory, whose pages cost nothing until they are touched (`vec!` of a zero integer or
/// `false` allocates with `calloc`).
fn fill_zeroed<T: Copy + Send + Sync + Default>(dst: &mut Vec<T>, n: usize) {
    if dst.is_empty() {
        *dst = vec![T::default(); n];
    } else {
        fill(dst, T::default(), n);
    }
}

/// Appends `f` of each of `src` to `dst`.
fn extend_map<S: Sync, T: Send>(dst: &mut Vec<T>, src: &[S], f: impl Fn(&S) -> T + Sync + Send) {
    if src.len() < PARALLEL_FILL_MIN {
        dst.extend(src.iter().map(f));
    } else {
        dst.par_extend(src.par_iter().map(f));
    }
}

/// Device id strings packed into one buffer, with a hash index of row numbers: about
/// 4 + len bytes per device instead of a `String` (24 + len) plus a map entry.
///
/// The index is split into [`N_SHARDS`] hash tables by bits of the id's hash, so that a
/// bulk load ([`IdStore::extend`]) can partition the new ids by shard and fill the shards
/// in parallel, each from a table small enough to stay in cache: inserting 10M ids into
/// one big table costs a cache miss or two per id (`benches/import.rs`).
///
/// A first bulk load whose ids are in strictly increasing byte order (a table exported
/// in id order, as most are) is not hashed at all: those rows form a sorted prefix,
/// found by binary search, and sortedness alone proves them unique. Indexing 10M ids
/// costs about 0.15 s of the 2-core machine; checking their order, about 0.025 s.
#[derive(Clone)]
struct IdStore {
    buf: String,
    ends: Vec<usize>,
    /// Rows `..sorted` are in strictly increasing byte order and not in `shards`.
    sorted: usize,
    shards: Vec<HashTable<Slot>>,
}

/// An index entry: a row, and bits of its id's hash ([`fingerprint`]) so that a probe
/// rarely reads an id's bytes (a cache miss) only to find another id.
type Slot = (u32, u32);

/// The bits of a hash a [`Slot`] keeps: neither hashbrown's tag (the top 7) nor the
/// shard's ([`shard_of`]).
#[inline]
fn fingerprint(hash: u64) -> u32 {
    (hash >> 8) as u32
}

/// Shards of [`IdStore`]'s index.
const N_SHARDS: usize = 256;

/// The shard of a hash. hashbrown places by the low bits and tags by the top 7, so the
/// shard takes bits from the middle, which neither uses for any table below 2^40
/// buckets.
#[inline]
fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % N_SHARDS
}

/// Below this many new ids, [`IdStore::extend`] inserts one by one.
const PARALLEL_EXTEND_MIN: usize = 1 << 16;

impl Default for IdStore {
    fn default() -> Self {
        IdStore {
            buf: String::new(),
            ends: Vec::new(),
            sorted: 0,
            shards: (0..N_SHARDS).map(|_| HashTable::new()).collect(),
        }
    }
}

impl IdStore {
    fn get(&self, i: usize) -> &str {
        ids_get(&self.buf, &self.ends, i)
    }

    fn find(&self, id: &str) -> Option<u32> {
        if let Some(row) = self.find_sorted(id) {
            return Some(row);
        }
        if self.sorted == self.ends.len() {
            return None;
        }
        let hash = id_hash(id.as_bytes());
        let fp = fingerprint(hash);
        self.shards[shard_of(hash)]
            .find(hash, |&(i, f)| f == fp && self.get(i as usize) == id)
            .map(|&(i, _)| i)
    }

    /// `id`'s row in the sorted prefix.
    fn find_sorted(&self, id: &str) -> Option<u32> {
        sorted_find(&self.buf, &self.ends, self.sorted, id)
    }

    /// Adds `id` as row `self.len()`; false if it is taken.
    fn insert(&mut self, id: &str) -> bool {
        if self.find(id).is_some() {
            return false;
        }
        let row = self.ends.len() as u32;
        self.buf.push_str(id);
        self.ends.push(self.buf.len());
        let hash = id_hash(id.as_bytes());
        let IdStore {
            buf, ends, shards, ..
        } = self;
        shards[shard_of(hash)].insert_unique(hash, (row, fingerprint(hash)), |&(i, _)| {
            id_hash(id_bytes(buf, ends, i as usize))
        });
        true
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// Adds `ids` as rows `self.len()..`, in order. On a duplicate (of an earlier id of
    /// the batch or of one already stored) everything the batch added is taken back and
    /// the error gives the first offending id's position in the batch, and the id.
    fn extend<'s>(
        &mut self,
        ids: impl IntoIterator<Item = &'s str>,
    ) -> Result<usize, (usize, String)> {
        let first_row = self.ends.len();
        for id in ids {
            self.buf.push_str(id);
            self.ends.push(self.buf.len());
        }
        if first_row == 0 && packed_order(&self.buf, &self.ends) == Some(true) {
            self.sorted = self.ends.len();
            return Ok(self.ends.len());
        }
        self.index_new(first_row)
    }

    /// [`IdStore::extend`] with the ids already packed: row `i` of the batch is
    /// `buf[ends[i - 1]..ends[i]]` (from 0 for row 0). An empty store takes the buffers
    /// as they are, without a copy.
    fn extend_packed(&mut self, buf: String, ends: Vec<usize>) -> Result<usize, (usize, String)> {
        let ascending = packed_order(&buf, &ends);
        let ascending = ascending.expect("extend_packed: ends do not cut buf into strings");
        let first_row = self.ends.len();
        if first_row == 0 {
            self.buf = buf;
            self.ends = ends;
            if ascending {
                self.sorted = self.ends.len();
                return Ok(self.ends.len());
            }
        } else {
            let base = self.buf.len();
            self.buf.push_str(&buf);
            self.ends.extend(ends.iter().map(|&e| base + e));
        }
        self.index_new(first_row)
    }

    /// Indexes the rows added from `first_row` on (into the hash index: the callers
    /// have found them out of order, or added after other rows), taking them all back on
    /// a duplicate (see [`IdStore::extend`]).
    fn index_new(&mut self, first_row: usize) -> Result<usize, (usize, String)> {
        let added = self.ends.len() - first_row;
        if self.sorted > 0 && added >= PARALLEL_EXTEND_MIN {
            // A big batch after a sorted prefix: index everything, the prefix included
            // (it holds no duplicate, so the first one found is still in the batch).
            self.sorted = 0;
            let result = self.index_in_parallel(0);
            return self.settle(first_row, result);
        }
        let result = if added < PARALLEL_EXTEND_MIN {
            self.index_one_by_one(first_row)
        } else {
            self.index_in_parallel(first_row)
        };
        self.settle(first_row, result)
    }

    /// The outcome of indexing rows `first_row..`: their number, or on a duplicate at
    /// `row` its place in the batch and its id, the batch taken back.
    fn settle(
        &mut self,
        first_row: usize,
        result: Result<(), usize>,
    ) -> Result<usize, (usize, String)> {
        match result {
            Ok(()) => Ok(self.ends.len() - first_row),
            Err(row) => {
                let id = self.get(row).to_string();
                self.truncate(first_row);
                Err((row - first_row, id))
            }
        }
    }

    /// Indexes rows `first_row..`; on a duplicate, stops and returns its row (the rows
    /// indexed so far stay indexed: the caller truncates).
    fn index_one_by_one(&mut self, first_row: usize) -> Result<(), usize> {
        let IdStore {
            buf,
            ends,
            sorted,
            shards,
        } = self;
        for row in first_row..ends.len() {
            let id = ids_get(buf, ends, row);
            if sorted_find(buf, ends, *sorted, id).is_some() {
                return Err(row);
            }
            let hash = id_hash(id.as_bytes());
            let fp = fingerprint(hash);
            let entry = shards[shard_of(hash)].entry(
                hash,
                |&(i, f)| f == fp && ids_get(buf, ends, i as usize) == id,
                |&(i, _)| id_hash(id_bytes(buf, ends, i as usize)),
            );
            match entry {
                hashbrown::hash_table::Entry::Occupied(_) => return Err(row),
                hashbrown::hash_table::Entry::Vacant(slot) => {
                    slot.insert((row as u32, fp));
                }
            }
        }
        Ok(())
    }

    /// Indexes rows `first_row..` shard by shard, in parallel: hash every new id, bucket
    /// (hash, row) pairs by shard keeping row order, then let each shard insert its own
    /// rows. A duplicate is always in the same shard as the id it repeats, and each
    /// shard meets its rows in order, so the smallest duplicate row over all shards is
    /// the first duplicate of the batch, as one-by-one insertion would find it.
    fn index_in_parallel(&mut self, first_row: usize) -> Result<(), usize> {
        let IdStore {
            buf, ends, shards, ..
        } = self;
        let (bytes, ends) = (buf.as_bytes(), &*ends);
        let rows = first_row..ends.len();
        let n = rows.len();
        let hash_of = |row: usize| {
            let start = if row == 0 { 0 } else { ends[row - 1] };
            id_hash_at(bytes, start, ends[row] - start)
        };
        // Rows in chunks; each chunk counts its rows per shard, then (hashing again:
        // cheaper than faulting in an array of hashes) writes its (hash, row) pairs into
        // its own place in each shard's run. Runs are laid out shard by shard, chunk by
        // chunk within a shard, so each shard meets its rows in row order.
        const CHUNK: usize = 1 << 16;
        let chunks: Vec<std::ops::Range<usize>> = (0..n.div_ceil(CHUNK))
            .map(|c| rows.start + c * CHUNK..(rows.start + (c + 1) * CHUNK).min(rows.end))
            .collect();
        let counts: Vec<Vec<u32>> = chunks
            .par_iter()
            .map(|chunk| {
                let mut counts = vec![0u32; N_SHARDS];
                for row in chunk.clone() {
                    counts[shard_of(hash_of(row))] += 1;
                }
                counts
            })
            .collect();
        let mut bucket_hash: Vec<u64> = vec![0; n];
        let mut bucket_row: Vec<u32> = vec![0; n];
        let mut shard_runs: Vec<(&[u64], &[u32])> = Vec::with_capacity(N_SHARDS);
        {
            // Cut both arrays into (shard, chunk) pieces, handed to the chunks.
            let mut pieces: Vec<Vec<(&mut [u64], &mut [u32])>> = chunks
                .iter()
                .map(|_| Vec::with_capacity(N_SHARDS))
                .collect();
            let (mut hash_rest, mut row_rest) = (&mut bucket_hash[..], &mut bucket_row[..]);
            for s in 0..N_SHARDS {
                for (c, counts) in counts.iter().enumerate() {
                    let (h, hr) = hash_rest.split_at_mut(counts[s] as usize);
                    let (r, rr) = row_rest.split_at_mut(counts[s] as usize);
                    pieces[c].push((h, r));
                    (hash_rest, row_rest) = (hr, rr);
                }
            }
            chunks
                .par_iter()
                .zip(pieces)
                .for_each(|(chunk, mut pieces)| {
                    let mut next = [0u32; N_SHARDS];
                    for row in chunk.clone() {
                        let h = hash_of(row);
                        let s = shard_of(h);
                        let k = next[s] as usize;
                        pieces[s].0[k] = h;
                        pieces[s].1[k] = row as u32;
                        next[s] += 1;
                    }
                });
        }
        let mut at = 0;
        for s in 0..N_SHARDS {
            let len: usize = counts.iter().map(|c| c[s] as usize).sum();
            shard_runs.push((&bucket_hash[at..at + len], &bucket_row[at..at + len]));
            at += len;
        }
        let first_duplicate = shards
            .par_iter_mut()
            .zip(shard_runs)
            .filter_map(|(shard, (hashes, rows))| {
                let rehash = |&(i, _): &Slot| id_hash(id_bytes(buf, ends, i as usize));
                shard.reserve(rows.len(), rehash);
                for (&hash, &row) in hashes.iter().zip(rows) {
                    // The loop touches this shard's table and its two runs, in order;
                    // an id's bytes only on a fingerprint match.
                    let fp = fingerprint(hash);
                    let same = |&(i, f): &Slot| {
                        f == fp
                            && id_bytes(buf, ends, i as usize) == id_bytes(buf, ends, row as usize)
                    };
                    match shard.entry(hash, same, rehash) {
                        hashbrown::hash_table::Entry::Occupied(_) => return Some(row as usize),
                        hashbrown::hash_table::Entry::Vacant(slot) => {
                            slot.insert((row, fp));
                        }
                    }
                }
                None
            })
            .min();
        match first_duplicate {
            None => Ok(()),
            Some(row) => Err(row),
        }
    }

    /// Drops rows `len..` (undoing a failed [`IdStore::extend`]).
    fn truncate(&mut self, len: usize) {
        self.sorted = self.sorted.min(len);
        if len == 0 {
            self.shards.iter_mut().for_each(HashTable::clear);
        } else if self.ends.len() - len > PARALLEL_EXTEND_MIN {
            for shard in &mut self.shards {
                shard.retain(|&mut (i, _)| (i as usize) < len);
            }
        } else {
            for row in (len..self.ends.len()).rev() {
                let hash = id_hash(self.get(row).as_bytes());
                let shard = &mut self.shards[shard_of(hash)];
                if let Ok(entry) = shard.find_entry(hash, |&(i, _)| i as usize == row) {
                    entry.remove();
                }
            }
        }
        self.ends.truncate(len);
        self.buf.truncate(self.ends.last().copied().unwrap_or(0));
    }

    fn reserve(&mut self, devices: usize, id_bytes: usize) {
        // The shards reserve their own share when a bulk load fills them.
        self.buf.reserve(id_bytes);
        self.ends.reserve(devices);
    }
}

/// The hash of an id's bytes. Ids are short (serial numbers), so this reads them 16
/// bytes at a time, zero-padded, and mixes with two folded multiplications (as foldhash
/// does) instead of hashing a byte stream; the index only needs a well-spread,
/// deterministic hash, not one that resists chosen input.
#[inline]
fn id_hash(id: &[u8]) -> u64 {
    let mut acc = id.len() as u64 ^ HASH_SEEDS[2];
    for chunk in id.chunks(16) {
        let mut padded = [0u8; 16];
        padded[..chunk.len()].copy_from_slice(chunk);
        acc = mix16(u128::from_le_bytes(padded), acc);
    }
    finish_hash(acc)
}

/// [`id_hash`] of `bytes[start..start + len]`, reading a 16-byte window of `bytes` when
/// the id is short and the window fits (no copy into a padded buffer).
#[inline]
fn id_hash_at(bytes: &[u8], start: usize, len: usize) -> u64 {
    if (1..=16).contains(&len) {
        if let Some(window) = bytes.get(start..start + 16) {
            let word = u128::from_le_bytes(window.try_into().expect("16 bytes"));
            let word = word & (u128::MAX >> (8 * (16 - len)));
            return finish_hash(mix16(word, len as u64 ^ HASH_SEEDS[2]));
        }
    }
    id_hash(&bytes[start..start + len])
}

const HASH_SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn mix16(word: u128, acc: u64) -> u64 {
    folded_multiply(
        word as u64 ^ HASH_SEEDS[0],
        (word >> 64) as u64 ^ HASH_SEEDS[1] ^ acc,
    )
}

#[inline]
fn finish_hash(acc: u64) -> u64 {
    folded_multiply(acc, HASH_SEEDS[3])
}

/// Checks that `ends` cut `buf` into strings (non-decreasing, on character boundaries,
/// the last at the end) and tells whether those strings are in strictly increasing byte
/// order; `None` if they are not strings. One parallel pass.
fn packed_order(buf: &str, ends: &[usize]) -> Option<bool> {
    if ends.last().copied().unwrap_or(0) != buf.len() {
        return None;
    }
    const CHUNK: usize = 1 << 14;
    let bytes = buf.as_bytes();
    let chunks: Vec<Option<bool>> = (0..ends.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut ascending = true;
            let rows = c * CHUNK..((c + 1) * CHUNK).min(ends.len());
            let mut start = if rows.start == 0 {
                0
            } else {
                ends[rows.start - 1]
            };
            let mut last: Option<(usize, usize)> = None;
            if rows.start > 0 {
                // The previous chunk's last id (that chunk checks it is one).
                let before = if rows.start == 1 {
                    0
                } else {
                    ends[rows.start - 2]
                };
                if before <= start && start <= bytes.len() {
                    last = Some((before, start - before));
                }
            }
            for &end in &ends[rows] {
                if end < start || !buf.is_char_boundary(end) {
                    return None;
                }
                let id = (start, end - start);
                if let Some(prev) = last {
                    ascending &= id_less(bytes, prev, id);
                }
                last = Some(id);
                start = end;
            }
            Some(ascending)
        })
        .collect();
    chunks.into_iter().try_fold(true, |all, c| Some(all && c?))
}

/// Whether the id at `a` (start, length) in `bytes` sorts strictly before the one at
/// `b`. Ids of up to 16 bytes are compared as two big-endian integers (their bytes,
/// zero-padded; equal padded values are ordered by length), cheaper than `memcmp`.
#[inline]
fn id_less(bytes: &[u8], a: (usize, usize), b: (usize, usize)) -> bool {
    #[inline]
    fn key(bytes: &[u8], (start, len): (usize, usize)) -> Option<u128> {
        if len > 16 {
            return None;
        }
        let window: [u8; 16] = bytes.get(start..start + 16)?.try_into().ok()?;
        let mask = u128::MAX.checked_shl(8 * (16 - len as u32)).unwrap_or(0);
        Some(u128::from_be_bytes(window) & mask)
    }
    match (key(bytes, a), key(bytes, b)) {
        (Some(x), Some(y)) => x < y || (x == y && a.1 < b.1),
        _ => bytes[a.0..a.0 + a.1] < bytes[b.0..b.0 + b.1],
    }
}

/// `id`'s row among rows `..sorted` of a packed id store, those being in strictly
/// increasing byte order (binary search).
fn sorted_find(buf: &str, ends: &[usize], sorted: usize, id: &str) -> Option<u32> {
    let (mut lo, mut hi) = (0, sorted);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match id_bytes(buf, ends, mid).cmp(id.as_bytes()) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Some(mid as u32),
        }
    }
    None
}

#[inline]
fn ids_get<'a>(buf: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &buf[start..ends[i]]
}

/// [`ids_get`] as bytes, for comparisons: slicing bytes reads no byte of the buffer
/// (slicing a `str` checks the char boundary, a cache miss on a cold id).
#[inline]
fn id_bytes<'a>(buf: &'a str, ends: &[usize], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &buf.as_bytes()[start..ends[i]]
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("devices", &self.len())
            .finish()
    }
}

/// No project key, in [`Fleet`]'s packed column (where key `k` is `k + 1`): zero, so
/// that a fleet without keys gets its column as untouched zeroed pages.
const NO_KEY: u16 = 0;
/// No release override, in [`Fleet`]'s packed column (release `r` is `r + 1`).
const NO_OVERRIDE: u32 = 0;
// `Fleet::push_columns` fills absent key and override columns with zeroed memory.
const _: () = assert!(NO_KEY == 0 && NO_OVERRIDE == 0);
/// Never seen, in [`Fleet`]'s packed column and in [`DeviceColumns::last_seen`]; a
/// device cannot be seen at this tick.
pub const NEVER_SEEN: i32 = i32::MIN;
const NEVER: i32 = NEVER_SEEN;

/// All devices, column by column; a device is its row index ([`DeviceIdx`]).
///
/// Optional fields are packed with sentinels (not `Option`) so that the hot columns
/// stay small: 2 + 2 + 4 + 2 + 2 + 1 + 1 + 4 + 4 + 1 = 23 bytes per device, plus the id.
#[derive(Clone, Default)]
pub struct Fleet {
    ids: IdStore,
    present: Vec<bool>,
    software_type: Vec<SoftwareTypeId>,
    hardware: Vec<HardwareId>,
    version: Vec<VersionId>,
    cohort: Vec<CohortId>,
    project_key: Vec<u16>,
    staged: Vec<bool>,
    release_override: Vec<u32>,
    last_seen: Vec<i32>,
    profile: Vec<u8>,
    /// While `Some`, every device whose report, presence or profile a setter changes
    /// (see [`Fleet::log_changes`]).
    changes: Option<Vec<u32>>,
}

/// Read-only views of the columns the resolver needs, for bulk passes.
#[derive(Copy, Clone, Debug)]
pub struct Columns<'a> {
    /// Software type per device.
    pub software_type: &'a [SoftwareTypeId],
    /// Hardware version per device.
    pub hardware: &'a [HardwareId],
    /// Reported version per device.
    pub version: &'a [VersionId],
    /// Stored cohort per device.
    pub cohort: &'a [CohortId],
    /// Project key per device: 0 for none, key `k` as `k + 1` ([`unpack_key`]).
    pub project_key: &'a [u16],
    /// Staged flag per device.
    pub staged: &'a [bool],
    /// Release override per device: 0 for none, release `r` as `r + 1`
    /// ([`unpack_override`]).
    pub release_override: &'a [u32],
}

impl Columns<'_> {
    /// The report of row `i`.
    #[inline]
    pub fn report(&self, i: usize) -> DeviceReport {
        self.report_at(i, self.version[i])
    }

    /// The report of row `i` with `version` as its version.
    #[inline]
    pub fn report_at(&self, i: usize, version: VersionId) -> DeviceReport {
        DeviceReport {
            software_type: self.software_type[i],
            version,
            hardware: self.hardware[i],
            project_key: unpack_key(self.project_key[i]),
            cohort: self.cohort[i],
            staged: self.staged[i],
            release_override: unpack_override(self.release_override[i]),
        }
    }
}

/// A project key as [`Columns::project_key`] holds it.
#[inline]
pub fn pack_key(k: Option<ProjectKeyId>) -> u16 {
    k.map_or(NO_KEY, |k| k.0 + 1)
}

/// A release override as [`Columns::release_override`] holds it.
#[inline]
pub fn pack_override(r: Option<ReleaseId>) -> u32 {
    r.map_or(NO_OVERRIDE, |r| r.0 + 1)
}

/// The project key of a [`Columns::project_key`] cell.
#[inline]
pub fn unpack_key(k: u16) -> Option<ProjectKeyId> {
    (k != NO_KEY).then(|| ProjectKeyId(k - 1))
}

/// The release override of a [`Columns::release_override`] cell.
#[inline]
pub fn unpack_override(r: u32) -> Option<ReleaseId> {
    (r != NO_OVERRIDE).then(|| ReleaseId(r - 1))
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Fleet {
        Fleet::default()
    }

    /// Adds a device; fails if its id is taken.
    pub fn push(&mut self, device: NewDevice) -> Result<DeviceIdx, String> {
        let idx = DeviceIdx(
            u32::try_from(self.len())
                .ok()
                .filter(|&n| n < u32::MAX)
                .ok_or_else(|| "too many devices".to_string())?,
        );
        let r = device.report;
        let last_seen = match device.last_seen {
            None => NEVER,
            Some(t) => i32::try_from(t)
                .ok()
                .filter(|&t| t != NEVER)
                .ok_or_else(|| format!("last_seen {t} is out of range"))?,
        };
        if !self.ids.insert(&device.id) {
            return Err(format!("device \"{}\" is defined twice", device.id));
        }
        self.present.push(true);
        self.software_type.push(r.software_type);
        self.hardware.push(r.hardware);
        self.version.push(r.version);
        self.cohort.push(r.cohort);
        self.project_key.push(pack_key(r.project_key));
        self.staged.push(r.staged);
        self.release_override
            .push(pack_override(r.release_override));
        self.last_seen.push(last_seen);
        self.profile.push(0);
        Ok(idx)
    }

    /// Reserves room for `devices` more devices whose ids take `id_bytes` bytes in
    /// all, so that a bulk load ([`Fleet::push_many`]) never regrows its buffers.
    pub fn reserve(&mut self, devices: usize, id_bytes: usize) {
        self.ids.reserve(devices, id_bytes);
    }

    /// Adds many devices at once, in order: `ids` and every column of `columns` give one
    /// row per device (`ids` must yield at least as many ids as the columns have rows).
    /// The same checks as [`Fleet::push`] (unique ids, at most `u32::MAX - 1`
    /// devices); on an error nothing is added and the error names the offending row of
    /// the batch.
    ///
    /// This is the import path for big fleet tables: ids go straight into the packed
    /// store and its hash index (one probe each), columns are appended whole.
    pub fn push_many<'s>(
        &mut self,
        ids: impl IntoIterator<Item = &'s str>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        self.push_columns(columns, |store, n| {
            let before = store.len();
            match store.extend(ids.into_iter().take(n)) {
                Ok(added) if added == n => Ok(()),
                Ok(added) => {
                    store.truncate(before);
                    Err((added, format!("{added} device ids for {n} devices")))
                }
                Err(e) => Err(e),
            }
        })
    }

    /// [`Fleet::push_many`] with the ids packed in one buffer: id `i` is
    /// `buf[ends[i - 1]..ends[i]]` (from 0 for the first). A fleet with no devices yet
    /// takes the buffers without copying them (the direct Parquet reader's path).
    pub fn push_packed(
        &mut self,
        buf: String,
        ends: Vec<usize>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        if ends.len() != columns.len() {
            return Err(BulkError {
                row: ends.len().min(columns.len()),
                message: format!("{} device ids for {} devices", ends.len(), columns.len()),
            });
        }
        self.push_columns(columns, |store, _| {
            store.extend_packed(buf, ends).map(|_| ())
        })
    }

    /// The body of the bulk pushes: checks, ids by `add_ids` (given the batch size),
    /// then the columns.
    fn push_columns(
        &mut self,
        columns: DeviceColumns,
        add_ids: impl FnOnce(&mut IdStore, usize) -> Result<(), (usize, String)>,
    ) -> Result<(), BulkError> {
        let n = columns.len();
        let lens = [
            columns.hardware.len(),
            columns.version.len(),
            columns.cohort.len(),
            columns.project_key.as_ref().map_or(n, Vec::len),
            columns.staged.as_ref().map_or(n, Vec::len),
            columns.release_override.as_ref().map_or(n, Vec::len),
            columns.last_seen.as_ref().map_or(n, Vec::len),
        ];
        // A damaged table can decode columns of different lengths: an input error.
        if let Some(&l) = lens.iter().find(|&&l| l != n) {
            return Err(BulkError {
                row: l.min(n),
                message: format!("columns of different lengths ({l} and {n} rows)"),
            });
        }
        if self
            .len()
            .checked_add(n)
            .is_none_or(|total| total >= u32::MAX as usize)
        {
            return Err(BulkError {
                row: (u32::MAX as usize - 1).saturating_sub(self.len()),
                message: "too many devices".to_string(),
            });
        }
        let before = self.ids.len();
        if let Err((row, id)) = add_ids(&mut self.ids, n) {
            return Err(BulkError {
                row,
                message: format!("device \"{id}\" is defined twice"),
            });
        }
        // Columns are filled in parallel: at 10M devices each is tens of megabytes of
        // fresh pages, and faulting them in is most of the cost.
        fill(&mut self.present, true, n);
        append(&mut self.software_type, columns.software_type);
        append(&mut self.hardware, columns.hardware);
        append(&mut self.version, columns.version);
        append(&mut self.cohort, columns.cohort);
        match columns.project_key {
            None => fill_zeroed(&mut self.project_key, n),
            Some(keys) => extend_map(&mut self.project_key, &keys, |&k| pack_key(k)),
        }
        match columns.staged {
            None => fill_zeroed(&mut self.staged, n),
            Some(staged) => append(&mut self.staged, staged),
        }
        match columns.release_override {
            None => fill_zeroed(&mut self.release_override, n),
            Some(o) => extend_map(&mut self.release_override, &o, |r| pack_override(*r)),
        }
        match columns.last_seen {
            None => fill(&mut self.last_seen, NEVER, n),
            Some(ls) => append(&mut self.last_seen, ls),
        }
        fill_zeroed(&mut self.profile, n);
        debug_assert_eq!(self.profile.len(), before + n);
        Ok(())
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the fleet is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// A device's id string.
    pub fn id(&self, idx: DeviceIdx) -> &str {
        self.ids.get(idx.index())
    }

    /// Finds a device by id.
    pub fn find(&self, id: &str) -> Option<DeviceIdx> {
        self.ids.find(id).map(DeviceIdx)
    }

    /// All device ids, in fleet order.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ids.len()).map(|i| self.ids.get(i))
    }

    /// Whether a device exists now: rows are kept for devices that have not arrived
    /// yet or have retired, so that ids and indices never move.
    #[inline]
    pub fn is_present(&self, idx: DeviceIdx) -> bool {
        self.present[idx.index()]
    }

    /// Every device's presence ([`Fleet::is_present`]), for bulk passes.
    pub fn present_flags(&self) -> &[bool] {
        &self.present
    }

    /// Marks a device as arrived (true) or retired / not yet arrived (false).
    pub fn set_present(&mut self, idx: DeviceIdx, present: bool) {
        self.present[idx.index()] = present;
        self.logged(idx);
    }

    /// Starts (or restarts) a log of the devices that setters change; what a
    /// simulation uses to update its derived state for a few devices instead of all.
    pub fn log_changes(&mut self) {
        self.changes = Some(Vec::new());
    }

    /// Stops the log and returns the devices changed since [`Fleet::log_changes`],
    /// sorted, each once (`None` if no log was running).
    pub fn take_changes(&mut self) -> Option<Vec<u32>> {
        let mut changes = self.changes.take()?;
        changes.sort_unstable();
        changes.dedup();
        Some(changes)
    }

    #[inline]
    fn logged(&mut self, idx: DeviceIdx) {
        if let Some(log) = &mut self.changes {
            log.push(idx.0);
        }
    }

    /// Devices that exist now, in fleet order.
    pub fn present(&self) -> impl Iterator<Item = DeviceIdx> + '_ {
        self.present
            .iter()
            .enumerate()
            .filter(|(_, &p)| p)
            .map(|(i, _)| DeviceIdx(i as u32))
    }

    /// Every column but the versions to read, and the versions to write: what a
    /// simulation tick needs to update devices' versions block by block in parallel.
    /// The returned [`Columns::version`] is empty; [`Columns::report_at`] takes the
    /// version from the caller.
    pub fn split_versions(&mut self) -> (Columns<'_>, &mut [VersionId]) {
        let columns = Columns {
            software_type: &self.software_type,
            hardware: &self.hardware,
            version: &[],
            cohort: &self.cohort,
            project_key: &self.project_key,
            staged: &self.staged,
            release_override: &self.release_override,
        };
        (columns, &mut self.version)
    }

    /// The columns, for bulk passes.
    pub fn columns(&self) -> Columns<'_> {
        Columns {
            software_type: &self.software_type,
            hardware: &self.hardware,
            version: &self.version,
            cohort: &self.cohort,
            project_key: &self.project_key,
            staged: &self.staged,
            release_override: &self.release_override,
        }
    }

    /// The report the device sends to the resolver.
    #[inline]
    pub fn report(&self, idx: DeviceIdx) -> DeviceReport {
        self.columns().report(idx.index())
    }

    /// A device's software type.
    pub fn software_type(&self, idx: DeviceIdx) -> SoftwareTypeId {
        self.software_type[idx.index()]
    }
    /// A device's hardware version.
    pub fn hardware(&self, idx: DeviceIdx) -> HardwareId {
        self.hardware[idx.index()]
    }
    /// A device's reported version.
    pub fn version(&self, idx: DeviceIdx) -> VersionId {
        self.version[idx.index()]
    }
    /// A device's stored cohort.
    pub fn cohort(&self, idx: DeviceIdx) -> CohortId {
        self.cohort[idx.index()]
    }
    /// A device's staged flag (R10).
    pub fn staged(&self, idx: DeviceIdx) -> bool {
        self.staged[idx.index()]
    }
    /// A device's release override (R12).
    pub fn release_override(&self, idx: DeviceIdx) -> Option<ReleaseId> {
        unpack_override(self.release_override[idx.index()])
    }
    /// The tick a device was last seen at.
    pub fn last_seen(&self, idx: DeviceIdx) -> Option<i64> {
        let t = self.last_seen[idx.index()];
        (t != NEVER).then_some(i64::from(t))
    }

    /// A device's behaviour profile (index into the scenario's profiles; 0 is default).
    #[inline]
    pub fn profile(&self, idx: DeviceIdx) -> u8 {
        self.profile[idx.index()]
    }
    /// Sets a device's behaviour profile.
    pub fn set_profile(&mut self, idx: DeviceIdx, profile: u8) {
        self.profile[idx.index()] = profile;
        self.logged(idx);
    }

    /// Sets a device's reported version (after an install is reported, R3).
    pub fn set_version(&mut self, idx: DeviceIdx, version: VersionId) {
        self.version[idx.index()] = version;
        self.logged(idx);
    }
    /// Sets a device's staged flag.
    pub fn set_staged(&mut self, idx: DeviceIdx, staged: bool) {
        self.staged[idx.index()] = staged;
        self.logged(idx);
    }
    /// Sets or clears a device's release override (R7 checked by the caller).
    pub fn set_release_override(&mut self, idx: DeviceIdx, release: Option<ReleaseId>) {
        self.release_override[idx.index()] = pack_override(release);
        self.logged(idx);
    }
    /// Records that a device was seen at `tick`.
    pub fn set_last_seen(&mut self, idx: DeviceIdx, tick: i64) {
        self.last_seen[idx.index()] = i32::try_from(tick).unwrap_or(i32::MAX);
    }

    /// Devices in `cohort` that exist now, in fleet order.
    pub fn members(&self, cohort: CohortId) -> impl Iterator<Item = DeviceIdx> + '_ {
        self.cohort
            .iter()
            .zip(&self.present)
            .enumerate()
            .filter(move |(_, (&c, &p))| c == cohort && p)
            .map(|(i, _)| DeviceIdx(i as u32))
    }

    /// Moves a device to `cohort`; moving to another cohort clears its staged flag (R10).
    pub fn move_to(&mut self, idx: DeviceIdx, cohort: CohortId) {
        let i = idx.index();
        if self.cohort[i] != cohort {
            self.cohort[i] = cohort;
            self.staged[i] = false;
            self.logged(idx);
        }
    }

    /// All release overrides that are set, with their devices.
    pub fn overrides(&self) -> impl Iterator<Item = (DeviceIdx, ReleaseId)> + '_ {
        self.release_override
            .iter()
            .enumerate()
            .filter_map(|(i, &r)| Some((DeviceIdx(i as u32), unpack_override(r)?)))
    }

    /// How many devices hold `release` as their override (R6 check).
    pub fn override_holders(&self, release: ReleaseId) -> usize {
        self.release_override
            .iter()
            .filter(|&&o| o == pack_override(Some(release)))
            .count()
    }
}

#[cfg(test)]
mod bulk_tests {
    use super::*;

    fn columns(n: usize) -> DeviceColumns {
        DeviceColumns {
            software_type: vec![SoftwareTypeId(0); n],
            hardware: (0..n).map(|i| HardwareId((i % 3) as u16)).collect(),
            version: (0..n).map(|i| VersionId((i % 5) as u32)).collect(),
            cohort: vec![CohortId(0); n],
            project_key: None,
            staged: Some((0..n).map(|i| i % 2 == 0).collect()),
            release_override: None,
            last_seen: Some(
                (0..n)
                    .map(|i| if i % 4 != 0 { i as i32 } else { NEVER_SEEN })
                    .collect(),
            ),
        }
    }

    fn one(id: &str) -> NewDevice {
        NewDevice {
            id: id.to_string(),
            report: DeviceReport {
                software_type: SoftwareTypeId(0),
                version: VersionId(9),
                hardware: HardwareId(0),
                project_key: Some(ProjectKeyId(1)),
                cohort: CohortId(1),
                staged: true,
                release_override: Some(ReleaseId(2)),
            },
            last_seen: Some(-4),
        }
    }

    /// Small batches are indexed one by one, big ones shard by shard in parallel: both
    /// must agree with `push`.
    #[test]
    fn push_many_matches_push() {
        for n in [0, 1, 10, PARALLEL_EXTEND_MIN + 10] {
            let ids: Vec<String> = (0..n).map(|i| format!("D-{i}")).collect();
            let mut bulk = Fleet::new();
            bulk.push(one("first")).unwrap();
            bulk.reserve(n, ids.iter().map(String::len).sum());
            bulk.push_many(ids.iter().map(String::as_str), columns(n))
                .unwrap();
            let mut single = Fleet::new();
            single.push(one("first")).unwrap();
            let c = columns(n);
            for (i, id) in ids.iter().enumerate() {
                single
                    .push(NewDevice {
                        id: id.clone(),
                        report: c_report(&c, i),
                        last_seen: Some(c.last_seen.as_ref().unwrap()[i])
                            .filter(|&t| t != NEVER_SEEN)
                            .map(i64::from),
                    })
                    .unwrap();
            }
            assert_eq!(bulk.len(), single.len());
            for i in 0..bulk.len() {
                let d = DeviceIdx(i as u32);
                assert_eq!(bulk.id(d), single.id(d));
                assert_eq!(bulk.report(d), single.report(d));
                assert_eq!(bulk.last_seen(d), single.last_seen(d));
                assert_eq!(bulk.find(single.id(d)), Some(d));
                assert!(bulk.is_present(d));
                assert_eq!(bulk.profile(d), 0);
            }
            assert_eq!(bulk.find("D-missing"), None);
            // And a push after a bulk load still finds duplicates.
            assert!(bulk.push(one("first")).is_err());
            if n > 0 {
                assert!(bulk.push(one("D-0")).is_err());
            }
        }
    }

    fn c_report(c: &DeviceColumns, i: usize) -> DeviceReport {
        DeviceReport {
            software_type: c.software_type[i],
            version: c.version[i],
            hardware: c.hardware[i],
            project_key: None,
            cohort: c.cohort[i],
            staged: c.staged.as_ref().unwrap()[i],
            release_override: None,
        }
    }

    #[test]
    fn duplicates_name_the_first_repeated_row_and_add_nothing() {
        for n in [20, PARALLEL_EXTEND_MIN * 2] {
            let mut ids: Vec<String> = (0..n).map(|i| format!("D-{i}")).collect();
            // Row n-3 repeats row 5, row n/2 repeats row 2: the first repeat is n/2.
            ids[n - 3] = ids[5].clone();
            ids[n / 2] = ids[2].clone();
            let mut fleet = Fleet::new();
            fleet.push(one("first")).unwrap();
            let err = fleet
                .push_many(ids.iter().map(String::as_str), columns(n))
                .unwrap_err();
            assert_eq!(err.row, n / 2);
            assert_eq!(err.message, "device \"D-2\" is defined twice");
            assert_eq!(fleet.len(), 1);
            assert_eq!(fleet.find("D-2"), None);
            assert_eq!(fleet.find("first"), Some(DeviceIdx(0)));
            assert_eq!(fleet.report(DeviceIdx(0)), one("first").report);
            // A repeat of a device already in the fleet.
            let mut ids: Vec<String> = (0..n).map(|i| format!("D-{i}")).collect();
            ids[n - 1] = "first".into();
            let err = fleet
                .push_many(ids.iter().map(String::as_str), columns(n))
                .unwrap_err();
            assert_eq!(
                (err.row, err.message.as_str()),
                (n - 1, "device \"first\" is defined twice")
            );
            assert_eq!(fleet.len(), 1);
            // The fleet is still usable: the same batch without the repeat goes in.
            ids[n - 1] = "last".into();
            fleet
                .push_many(ids.iter().map(String::as_str), columns(n))
                .unwrap();
            assert_eq!(fleet.len(), n + 1);
            assert_eq!(fleet.find("last"), Some(DeviceIdx(n as u32)));
        }
    }

    proptest::proptest! {
        /// The integer comparison of short ids is byte order, zero bytes and prefixes
        /// included.
        #[test]
        fn id_less_is_byte_order(
            a in proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xff, b'a']), 0..20),
            b in proptest::collection::vec(proptest::sample::select(vec![0u8, 1, 0x7f, 0x80, 0xff, b'a']), 0..20),
            pad in 0usize..20,
        ) {
            let mut bytes = a.clone();
            bytes.extend_from_slice(&b);
            bytes.extend(std::iter::repeat_n(0xee, pad));
            let (ra, rb) = ((0, a.len()), (a.len(), b.len()));
            proptest::prop_assert_eq!(id_less(&bytes, ra, rb), a < b);
            proptest::prop_assert_eq!(id_less(&bytes, rb, ra), b < a);
        }
    }

    proptest::proptest! {
        /// Hashing an id in place (a 16-byte window of the buffer) is hashing its bytes.
        #[test]
        fn id_hash_at_is_id_hash(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            start in 0usize..64,
            len in 0usize..40,
        ) {
            let start = start.min(bytes.len());
            let len = len.min(bytes.len() - start);
            proptest::prop_assert_eq!(
                id_hash_at(&bytes, start, len),
                id_hash(&bytes[start..start + len])
            );
        }
    }

    #[test]
    fn packed_order_checks_the_cuts() {
        let ids = |v: &[&str]| {
            let buf: String = v.concat();
            let ends = v
                .iter()
                .scan(0, |at, s| {
                    *at += s.len();
                    Some(*at)
                })
                .collect::<Vec<_>>();
            (buf, ends)
        };
        let (buf, ends) = ids(&["a", "b", "bb", "c"]);
        assert_eq!(packed_order(&buf, &ends), Some(true));
        let (buf, ends) = ids(&["a", "b", "b", "c"]);
        assert_eq!(packed_order(&buf, &ends), Some(false));
        let (buf, ends) = ids(&["é", "a"]);
        assert_eq!(packed_order(&buf, &ends), Some(false));
        assert_eq!(packed_order(&buf, &[1, 3]), None, "inside a character");
        assert_eq!(packed_order(&buf, &[2, 1]), None, "decreasing");
        assert_eq!(packed_order(&buf, &[2]), None, "short of the end");
        // Across the parallel pass's chunks.
        let many: Vec<String> = (0..40_000).map(|i| format!("{i:06}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let (buf, ends) = ids(&many);
        assert_eq!(packed_order(&buf, &ends), Some(true));
        let mut swapped = many.clone();
        swapped.swap(16_383, 16_384);
        let (buf, ends) = ids(&swapped);
        assert_eq!(packed_order(&buf, &ends), Some(false));
    }

    #[test]
    fn never_seen_is_the_packed_none() {
        let mut c = columns(3);
        c.last_seen = Some(vec![1, NEVER_SEEN, -5]);
        let mut f = Fleet::new();
        f.push_many(["a", "b", "c"], c).unwrap();
        let seen: Vec<Option<i64>> = (0..3).map(|i| f.last_seen(DeviceIdx(i))).collect();
        assert_eq!(seen, [Some(1), None, Some(-5)]);
    }
}
