//! The id index's hash: seeded, fixed (the same on every run and machine), reading an id
//! 16 bytes at a time.

/// The hash of an id's bytes. Ids are short (serial numbers), so this reads them 16
/// bytes at a time, zero-padded, and mixes with two folded multiplications (as foldhash
/// does) instead of hashing a byte stream; the index only needs a well-spread,
/// deterministic hash, not one that resists chosen input.
#[inline]
pub(super) fn id_hash(id: &[u8]) -> u64 {
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
pub(super) fn id_hash_at(bytes: &[u8], start: usize, len: usize) -> u64 {
    if (1..=16).contains(&len) {
        if let Some(window) = bytes.get(start..start + 16) {
            let word = u128::from_le_bytes(window.try_into().expect("16 bytes"));
            let word = word & (u128::MAX >> (8 * (16 - len)));
            return finish_hash(mix16(word, len as u64 ^ HASH_SEEDS[2]));
        }
    }
    id_hash(&bytes[start..start + len])
}

pub(super) const HASH_SEEDS: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

#[inline]
pub(super) fn folded_multiply(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
pub(super) fn mix16(word: u128, acc: u64) -> u64 {
    folded_multiply(
        word as u64 ^ HASH_SEEDS[0],
        (word >> 64) as u64 ^ HASH_SEEDS[1] ^ acc,
    )
}

#[inline]
pub(super) fn finish_hash(acc: u64) -> u64 {
    folded_multiply(acc, HASH_SEEDS[3])
}
