//! The fleet's bulk loads and id index, against one-by-one pushes and a plain hash set.

use super::bulk::*;
use super::hash::*;
use super::id_store::*;
use super::COUNT_CHUNK;
use super::*;
use crate::ids::{CohortId, HardwareId, SoftwareTypeId, VersionId};

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

/// A fleet of `n` devices `a0`, `a1`, … with `columns`.
fn fleet_of(n: usize, columns: DeviceColumns) -> Fleet {
    let ids: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let mut f = Fleet::new();
    f.push_many(ids.iter().map(String::as_str), columns)
        .unwrap();
    f
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
            assert_eq!(bulk.find(&single.id(d)), Some(d));
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

/// A random device staged or unstaged (`kind` 0), moved to one of cohorts 0–2 (1),
/// or made present or absent (2).
fn set_at_random(f: &mut Fleet, rng: &mut impl rand::Rng, kind: usize) {
    let d = DeviceIdx(rng.gen_range(0..f.len() as u32));
    match kind {
        0 => f.set_staged(d, rng.gen()),
        1 => f.move_to(d, CohortId(rng.gen_range(0..3))),
        _ => f.set_present(d, rng.gen()),
    }
}

/// The kept cohort counts equal a recount after any mix of pushes, bulk loads,
/// stagings, moves, arrivals and retirements.
#[test]
fn kept_cohort_counts_equal_a_recount() {
    use rand::SeedableRng;
    let recount = |f: &Fleet, c: CohortId| {
        let members: Vec<DeviceIdx> = f.members(c).collect();
        let staged = members.iter().filter(|&&d| f.staged(d)).count() as u64;
        (members.len() as u64, staged)
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut f = Fleet::new();
    f.push_many(
        (0..100)
            .map(|i| format!("a{i}"))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str),
        columns(100),
    )
    .unwrap();
    assert_eq!(f.cohort_counts(CohortId(0)), recount(&f, CohortId(0)));
    for step in 0..2_000 {
        match step % 5 {
            kind @ 0..=2 => set_at_random(&mut f, &mut rng, kind),
            3 => {
                f.push(one(&format!("p{step}"))).unwrap();
            }
            _ => {
                let ids: Vec<String> = (0..3).map(|k| format!("b{step}-{k}")).collect();
                f.push_many(ids.iter().map(String::as_str), columns(3))
                    .unwrap();
            }
        }
        for c in 0..3 {
            assert_eq!(
                f.cohort_counts(CohortId(c)),
                recount(&f, CohortId(c)),
                "step {step}"
            );
            // The kept cohort rows (built at the first step, then kept up to date)
            // give the same members as a pass over every row.
            let kept = f.members_where(CohortId(c), |_, _| true);
            assert_eq!(
                kept,
                f.members(CohortId(c)).collect::<Vec<_>>(),
                "step {step}"
            );
        }
    }
}

#[test]
fn the_change_log_keeps_first_reports_of_keyed_devices_only() {
    let mut f = Fleet::new();
    let keyed = f.push(one("keyed")).unwrap();
    let mut plain_device = one("plain");
    plain_device.report.project_key = None;
    plain_device.report.release_override = None;
    let plain = f.push(plain_device).unwrap();
    let before = f.report(keyed);
    assert_eq!(f.take_changes().map(|c| c.devices), None, "no log running");
    f.log_changes();
    f.set_staged(plain, false);
    f.set_release_override(keyed, None);
    f.set_staged(keyed, false);
    f.move_to(plain, CohortId(0));
    let changes = f.take_changes().unwrap();
    assert_eq!(
        crate::bitmap::ones_of(&changes.devices).collect::<Vec<_>>(),
        [keyed.0, plain.0],
        "sorted, each once"
    );
    assert_eq!(
        changes.keyed_before(keyed.0),
        Some(before),
        "the report before the first change, not the second"
    );
    assert_eq!(
        changes.keyed_before(plain.0),
        None,
        "a plain report is not copied"
    );
    assert_eq!(changes.keyed_before.len(), 1);
}

/// The kept counts per chunk of rows equal a recount of each chunk, in a fleet of
/// several chunks, after stagings, moves, arrivals, retirements and pushes.
#[test]
fn kept_chunk_counts_equal_a_recount() {
    use rand::SeedableRng;
    let n = 2 * COUNT_CHUNK + 123;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut f = fleet_of(n, columns(n));
    let recount = |f: &Fleet, c: CohortId| -> Vec<[u32; 2]> {
        let mut chunks = vec![[0u32; 2]; f.len().div_ceil(COUNT_CHUNK)];
        for d in f.members(c) {
            let chunk = &mut chunks[d.index() / COUNT_CHUNK];
            chunk[0] += 1;
            chunk[1] += u32::from(f.staged(d));
        }
        chunks
    };
    let padded = |kept: &[[u32; 2]], len: usize| {
        let mut v = kept.to_vec();
        v.resize(len.max(v.len()), [0, 0]);
        v
    };
    f.cohort_counts(CohortId(0));
    for step in 0..3_000 {
        match step % 4 {
            kind @ 0..=2 => set_at_random(&mut f, &mut rng, kind),
            _ => {
                f.push(one(&format!("p{step}"))).unwrap();
            }
        }
        if step % 500 == 499 {
            for c in 0..3 {
                let want = recount(&f, CohortId(c));
                let kept = padded(f.cohort_chunk_counts(CohortId(c)), want.len());
                assert_eq!(kept, want, "step {step}, cohort {c}");
            }
        }
    }
}

/// Flipping sorted rows at once does what flipping them one by one does: the flags,
/// the kept counts and bitsets, and the change log with its keyed devices' first
/// reports, over several chunks of rows, with absent and keyed rows among them, and
/// overrides set and cleared between rounds (the fleet's bits of keyed rows kept up to
/// date); any rows (`set_staged_rows`), or a cohort's eligible ones (`flip_members`).
#[test]
fn staged_rows_at_once_equal_one_by_one() {
    use rand::{Rng, SeedableRng};
    let n = 2 * COUNT_CHUNK + 77;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut one_by_one = fleet_of(n, columns(n));
    for _ in 0..2_000 {
        let kind = rng.gen_range(0..3);
        set_at_random(&mut one_by_one, &mut rng, kind);
    }
    for i in (0..n as u32).step_by(997) {
        one_by_one.set_release_override(DeviceIdx(i), Some(crate::ids::ReleaseId(1)));
    }
    for c in 0..3 {
        one_by_one.cohort_bits(CohortId(c));
    }
    let mut at_once = one_by_one.clone();
    for round in 0..8 {
        if round > 0 {
            for _ in 0..300 {
                let d = DeviceIdx(rng.gen_range(0..n as u32));
                let over = rng.gen_bool(0.5).then_some(crate::ids::ReleaseId(2));
                one_by_one.set_release_override(d, over);
                at_once.set_release_override(d, over);
            }
        }
        one_by_one.log_changes();
        at_once.log_changes();
        let staged = round % 2 == 0;
        let cohort = CohortId(round % 3);
        let members_only = round >= 4;
        let rows: Vec<u32> = (0..n as u32)
            .filter(|&i| !members_only || at_once.resize_eligible(i as usize, cohort, staged))
            .filter(|_| rng.gen_bool(0.3))
            .collect();
        for &i in &rows {
            one_by_one.set_staged(DeviceIdx(i), staged);
        }
        if members_only {
            at_once.flip_members(cohort, &rows, staged);
        } else {
            at_once.set_staged_rows(&rows, staged);
        }
        let (a, b) = (
            one_by_one.take_changes().unwrap(),
            at_once.take_changes().unwrap(),
        );
        assert_eq!(a.devices, b.devices, "round {round}");
        assert_eq!(a.keyed_before, b.keyed_before, "round {round}");
        assert!(a.others.is_empty() && b.others.is_empty());
        assert_eq!(one_by_one.staged, at_once.staged, "round {round}");
        for c in 0..3 {
            let c = CohortId(c);
            assert_eq!(one_by_one.cohort_counts(c), at_once.cohort_counts(c));
            assert_eq!(
                one_by_one.cohort_chunk_counts(c),
                at_once.cohort_chunk_counts(c)
            );
            for i in 0..n {
                for grow in [true, false] {
                    let want = one_by_one.is_present(DeviceIdx(i as u32))
                        && one_by_one.cohort(DeviceIdx(i as u32)) == c
                        && one_by_one.staged(DeviceIdx(i as u32)) != grow;
                    assert_eq!(at_once.resize_eligible(i, c, grow), want, "row {i}");
                }
            }
        }
    }
}

/// A selection's matches from the cohorts' bitsets (the first eight cohorts) and from
/// the row lists (the rest) equal a filter over every row, for every staged filter, and
/// so do their first devices up to a limit (`first_members_matching`),
/// after random stagings, moves, arrivals and retirements, and rows added in bulk.
#[test]
fn members_matching_equals_a_filter_over_every_row() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
    let cohorts = 11u16;
    let n = 3000;
    let mut c = columns(n);
    c.cohort = (0..n)
        .map(|_| CohortId(rng.gen_range(0..cohorts)))
        .collect();
    let mut f = fleet_of(n, c);
    let keep = |f: &Fleet, i: usize| f.hardware(DeviceIdx(i as u32)) != HardwareId(1);
    for step in 0..40 {
        for _ in 0..50 {
            let d = DeviceIdx(rng.gen_range(0..f.len() as u32));
            match rng.gen_range(0..3) {
                0 => f.set_staged(d, rng.gen()),
                1 => f.move_to(d, CohortId(rng.gen_range(0..cohorts))),
                _ => f.set_present(d, rng.gen()),
            }
        }
        if step % 10 == 9 {
            let more: Vec<String> = (0..70).map(|k| format!("s{step}-{k}")).collect();
            f.push_many(more.iter().map(String::as_str), columns(70))
                .unwrap();
        }
        for k in 0..cohorts {
            let cohort = CohortId(k);
            for staged in [None, Some(true), Some(false)] {
                let want: Vec<DeviceIdx> = f
                    .members(cohort)
                    .filter(|&d| staged.is_none_or(|s| f.staged(d) == s))
                    .filter(|d| keep(&f, d.index()))
                    .collect();
                let got = f.members_matching(cohort, staged, keep);
                assert_eq!(got, want, "step {step}, cohort {k}, staged {staged:?}");
                for limit in [0, 1, 7, 64, 200, usize::MAX] {
                    let first = f.first_members_matching(cohort, staged, limit, keep);
                    let n = limit.min(want.len());
                    assert_eq!(first, want[..n], "first {limit}, step {step}, cohort {k}");
                }
            }
        }
    }
    let with_bits = (0..cohorts)
        .filter(|&k| f.cohort_bits(CohortId(k)).is_some())
        .count();
    assert_eq!(with_bits, 8, "both paths taken");
}

/// Every match, and the first ones up to a limit, skip the chunks whose counts hold
/// no member with the flag, and are still those of a filter over every row: a cohort
/// that lives in the fleet's last chunks, one whose last member in an early chunk
/// moved away or was staged, and the short last chunk; limits met in the first chunk
/// read, in a later one, and past the chunks read at a time (a few per thread).
#[test]
fn first_members_matching_skips_chunks_without_members() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
    let n = 9 * COUNT_CHUNK + 100;
    let mut c = columns(n);
    // Cohort 1 in chunks 2 to 8 and the short last chunk, and at three rows of chunk 0.
    c.cohort = (0..n)
        .map(|i| {
            let late = i >= 2 * COUNT_CHUNK && rng.gen_bool(0.3);
            CohortId(u16::from(late || [5, 900, 4000].contains(&i)))
        })
        .collect();
    let mut f = fleet_of(n, c);
    let keep = |f: &Fleet, i: usize| f.hardware(DeviceIdx(i as u32)) != HardwareId(1);
    let check = |f: &mut Fleet, what: &str| {
        for k in 0..2 {
            let cohort = CohortId(k);
            for staged in [None, Some(true), Some(false)] {
                let want: Vec<DeviceIdx> = f
                    .members(cohort)
                    .filter(|&d| staged.is_none_or(|s| f.staged(d) == s))
                    .filter(|d| keep(f, d.index()))
                    .collect();
                let all = f.members_matching(cohort, staged, keep);
                assert_eq!(all, want, "{what}: every match, cohort {k}, {staged:?}");
                for limit in [1, 3, 50, 20_000, 100_000, usize::MAX] {
                    let first = f.first_members_matching(cohort, staged, limit, keep);
                    let n = limit.min(want.len());
                    assert_eq!(first, want[..n], "{what}: cohort {k}, {staged:?}, {limit}");
                }
            }
        }
    };
    check(&mut f, "as built");
    f.set_staged(DeviceIdx(5), true);
    f.move_to(DeviceIdx(900), CohortId(0));
    f.set_present(DeviceIdx(4000), false);
    for i in (2 * COUNT_CHUNK..n).step_by(3) {
        f.set_staged(DeviceIdx(i as u32), true);
    }
    check(&mut f, "after stages, a move and a retirement");
}
