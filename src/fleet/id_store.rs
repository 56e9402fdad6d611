//! The device id strings, packed in one buffer, and the index that finds a row by id.

use std::sync::Arc;

use hashbrown::HashTable;
use rayon::prelude::*;

use super::hash::{id_hash, id_hash_at};

/// Device id strings packed into one buffer, with a hash index of row numbers: about
/// 4 + len bytes per device instead of a `String` (24 + len) plus a map entry.
///
/// The index is split into [`N_SHARDS`] hash tables by bits of the id's hash, so that a
/// bulk load ([`IdStore::extend`]) can partition the new ids by shard and fill the shards
/// in parallel, each from a table small enough to stay in cache (one big table would cost
/// a cache miss or two per id).
///
/// A first bulk load whose ids are in strictly increasing byte order (a table exported
/// in id order, as most are) is not hashed at all: those rows form a sorted prefix,
/// found by binary search, and sortedness alone proves them unique (one ordered pass, no
/// hashing). Invariant: rows `..sorted` are in strictly increasing byte order and in no
/// shard; every later row is in exactly one shard.
///
/// The buffers are shared ([`Arc`]) with whatever handed them over whole
/// ([`IdStore::extend_packed`]): a fleet table read once for two scenarios (`diff A B`)
/// gives both fleets the same ids without a copy, and [`IdStore::shares_ids`] tells so
/// without comparing them. A change copies them first if they are shared.
#[derive(Clone)]
pub(super) struct IdStore {
    buf: Arc<String>,
    ends: Arc<Vec<usize>>,
    /// Rows `..sorted` are in strictly increasing byte order and not in `shards`.
    sorted: usize,
    shards: Vec<HashTable<Slot>>,
}

/// An index entry: a row, and bits of its id's hash ([`fingerprint`]) so that a probe
/// rarely reads an id's bytes (a cache miss) only to find another id.
pub(super) type Slot = (u32, u32);

/// The bits of a hash a [`Slot`] keeps: neither hashbrown's tag (the top 7) nor the
/// shard's ([`shard_of`]).
#[inline]
pub(super) fn fingerprint(hash: u64) -> u32 {
    (hash >> 8) as u32
}

/// Shards of [`IdStore`]'s index.
pub(super) const N_SHARDS: usize = 256;

/// The shard of a hash. hashbrown places by the low bits and tags by the top 7, so the
/// shard takes bits from the middle, which neither uses for any table below 2^40
/// buckets.
#[inline]
pub(super) fn shard_of(hash: u64) -> usize {
    (hash >> 40) as usize % N_SHARDS
}

/// Below this many new ids, [`IdStore::extend`] inserts one by one.
pub(super) const PARALLEL_EXTEND_MIN: usize = 1 << 16;

impl Default for IdStore {
    fn default() -> Self {
        IdStore {
            buf: Arc::default(),
            ends: Arc::default(),
            sorted: 0,
            shards: (0..N_SHARDS).map(|_| HashTable::new()).collect(),
        }
    }
}

impl IdStore {
    pub(super) fn get(&self, i: usize) -> &str {
        ids_get(&self.buf, &self.ends, i)
    }

    pub(super) fn find(&self, id: &str) -> Option<u32> {
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
    pub(super) fn find_sorted(&self, id: &str) -> Option<u32> {
        sorted_find(&self.buf, &self.ends, self.sorted, id)
    }

    /// Adds `id` as row `self.len()`; false if it is taken.
    pub(super) fn insert(&mut self, id: &str) -> bool {
        if self.find(id).is_some() {
            return false;
        }
        let row = self.ends.len() as u32;
        Arc::make_mut(&mut self.buf).push_str(id);
        let end = self.buf.len();
        Arc::make_mut(&mut self.ends).push(end);
        let hash = id_hash(id.as_bytes());
        let IdStore {
            buf, ends, shards, ..
        } = self;
        shards[shard_of(hash)].insert_unique(hash, (row, fingerprint(hash)), |&(i, _)| {
            id_hash(id_bytes(buf, ends, i as usize))
        });
        true
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Adds `ids` as rows `self.len()..`, in order. On a duplicate (of an earlier id of
    /// the batch or of one already stored) everything the batch added is taken back and
    /// the error gives the first offending id's position in the batch, and the id.
    pub(super) fn extend<'s>(
        &mut self,
        ids: impl IntoIterator<Item = &'s str>,
    ) -> Result<usize, (usize, String)> {
        let first_row = self.ends.len();
        let (buf, ends) = (Arc::make_mut(&mut self.buf), Arc::make_mut(&mut self.ends));
        for id in ids {
            buf.push_str(id);
            ends.push(buf.len());
        }
        if first_row == 0 && packed_order(&self.buf, &self.ends) == Some(true) {
            self.sorted = self.ends.len();
            return Ok(self.ends.len());
        }
        self.index_new(first_row)
    }

    /// [`IdStore::extend`] with the ids already packed: row `i` of the batch is
    /// `buf[ends[i - 1]..ends[i]]` (from 0 for row 0). An empty store takes the buffers
    /// as they are, shared, without a copy.
    pub(super) fn extend_packed(
        &mut self,
        buf: Arc<String>,
        ends: Arc<Vec<usize>>,
    ) -> Result<usize, (usize, String)> {
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
            Arc::make_mut(&mut self.buf).push_str(&buf);
            Arc::make_mut(&mut self.ends).extend(ends.iter().map(|&e| base + e));
        }
        self.index_new(first_row)
    }

    /// Indexes the rows added from `first_row` on (into the hash index: the callers
    /// have found them out of order, or added after other rows), taking them all back on
    /// a duplicate (see [`IdStore::extend`]).
    pub(super) fn index_new(&mut self, first_row: usize) -> Result<usize, (usize, String)> {
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
    pub(super) fn settle(
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
    pub(super) fn index_one_by_one(&mut self, first_row: usize) -> Result<(), usize> {
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
    pub(super) fn index_in_parallel(&mut self, first_row: usize) -> Result<(), usize> {
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
    pub(super) fn truncate(&mut self, len: usize) {
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
        Arc::make_mut(&mut self.ends).truncate(len);
        let end = self.ends.last().copied().unwrap_or(0);
        Arc::make_mut(&mut self.buf).truncate(end);
    }

    pub(super) fn reserve(&mut self, devices: usize, id_bytes: usize) {
        // The shards reserve their own share when a bulk load fills them.
        Arc::make_mut(&mut self.buf).reserve(id_bytes);
        Arc::make_mut(&mut self.ends).reserve(devices);
    }

    /// Whether both stores hold the very same id buffers (handed over by one read of a
    /// table), so that every row has the same id in both.
    pub(super) fn shares_ids(&self, other: &IdStore) -> bool {
        Arc::ptr_eq(&self.buf, &other.buf) && Arc::ptr_eq(&self.ends, &other.ends)
    }
}

/// Checks that `ends` cut `buf` into strings (non-decreasing, on character boundaries,
/// the last at the end) and tells whether those strings are in strictly increasing byte
/// order; `None` if they are not strings. One parallel pass.
pub(super) fn packed_order(buf: &str, ends: &[usize]) -> Option<bool> {
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
pub(super) fn id_less(bytes: &[u8], a: (usize, usize), b: (usize, usize)) -> bool {
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
pub(super) fn sorted_find(buf: &str, ends: &[usize], sorted: usize, id: &str) -> Option<u32> {
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
pub(super) fn ids_get<'a>(buf: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &buf[start..ends[i]]
}

/// [`ids_get`] as bytes, for comparisons: slicing bytes reads no byte of the buffer
/// (slicing a `str` checks the char boundary, a cache miss on a cold id).
#[inline]
pub(super) fn id_bytes<'a>(buf: &'a str, ends: &[usize], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &buf.as_bytes()[start..ends[i]]
}
