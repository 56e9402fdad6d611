//! Staged devices (R19–R21): a cohort's one staged set, resized by rollout percentages
//! and changed by hand or in bulk.

use rand::seq::index::sample;
use rand::Rng;

use crate::catalog::Percent;
use crate::fleet::Fleet;
use crate::ids::{CohortId, DeviceIdx, HardwareId, VersionId};

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
    let target = percent.count_of(members as usize);
    if target as u64 == staged_now {
        return target;
    }
    let (staged, unstaged): (Vec<DeviceIdx>, Vec<DeviceIdx>) =
        fleet.members(cohort).partition(|&d| fleet.staged(d));
    debug_assert_eq!(
        (members, staged_now),
        ((staged.len() + unstaged.len()) as u64, staged.len() as u64),
        "kept cohort counts"
    );
    if target > staged.len() {
        for i in sample(rng, unstaged.len(), target - staged.len()) {
            fleet.set_staged(unstaged[i], true);
        }
    } else if target < staged.len() {
        for i in sample(rng, staged.len(), staged.len() - target) {
            fleet.set_staged(staged[i], false);
        }
    }
    target
}

/// The order in which a bulk action takes devices, before its limit (R21).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// The fleet's own order.
    File,
    /// Most recently seen first; never-seen devices last.
    LastSeenDesc,
    /// Least recently seen first; never-seen devices last.
    LastSeenAsc,
    /// A uniformly random order.
    Random,
}

impl Order {
    /// Names accepted in scenario files.
    pub const NAMES: [(&'static str, Order); 4] = [
        ("file", Order::File),
        ("last_seen_desc", Order::LastSeenDesc),
        ("last_seen_asc", Order::LastSeenAsc),
        ("random", Order::Random),
    ];

    /// Parses a scenario-file name.
    pub fn parse(name: &str) -> Option<Order> {
        Order::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, o)| o)
    }
}

/// A bulk filter (R21): devices of a cohort, optionally narrowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// The stored cohort.
    pub cohort: CohortId,
    /// Only this hardware version.
    pub hardware: Option<HardwareId>,
    /// Only devices reporting one of these (a version string may exist in several
    /// software types, so it can match several ids).
    pub versions: Option<Vec<VersionId>>,
    /// Only staged (or only unstaged) devices.
    pub staged: Option<bool>,
    /// At most this many devices.
    pub limit: Option<usize>,
    /// Which devices come first when a limit applies.
    pub order: Order,
}

/// Which devices a `stage`/`unstage` event touches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Devices named by id.
    Ids(Vec<DeviceIdx>),
    /// A bulk filter.
    Filter(Filter),
}

/// The devices a selection picks, in its order.
pub fn select(fleet: &Fleet, selection: &Selection, rng: &mut impl Rng) -> Vec<DeviceIdx> {
    let filter = match selection {
        Selection::Ids(ids) => return ids.clone(),
        Selection::Filter(f) => f,
    };
    let mut picked: Vec<DeviceIdx> = fleet
        .members(filter.cohort)
        .filter(|&d| {
            filter.hardware.is_none_or(|h| fleet.hardware(d) == h)
                && filter
                    .versions
                    .as_ref()
                    .is_none_or(|vs| vs.contains(&fleet.version(d)))
                && filter.staged.is_none_or(|s| fleet.staged(d) == s)
        })
        .collect();
    match filter.order {
        Order::File => {}
        // Stable sorts keep fleet order among equals, so the result is reproducible.
        Order::LastSeenDesc => picked.sort_by_key(|&d| match fleet.last_seen(d) {
            Some(t) => (0, std::cmp::Reverse(t)),
            None => (1, std::cmp::Reverse(0)),
        }),
        Order::LastSeenAsc => picked.sort_by_key(|&d| match fleet.last_seen(d) {
            Some(t) => (0, t),
            None => (1, 0),
        }),
        Order::Random => {
            use rand::seq::SliceRandom;
            picked.shuffle(rng);
        }
    }
    if let Some(limit) = filter.limit {
        picked.truncate(limit);
    }
    picked
}

/// Sets the staged flag of the selected devices (R21).
pub fn set_staged(fleet: &mut Fleet, selection: &Selection, staged: bool, rng: &mut impl Rng) {
    for d in select(fleet, selection, rng) {
        fleet.set_staged(d, staged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{DeviceReport, NewDevice};
    use crate::ids::{SoftwareTypeId, VersionId};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn fleet(n: usize, cohorts: usize) -> Fleet {
        let mut f = Fleet::new();
        for i in 0..n {
            f.push(NewDevice {
                id: format!("d{i}"),
                report: DeviceReport {
                    software_type: SoftwareTypeId(0),
                    version: VersionId(0),
                    hardware: HardwareId((i % 2) as u16),
                    project_key: None,
                    cohort: CohortId((i % cohorts) as u16),
                    staged: false,
                    release_override: None,
                },
                last_seen: if i % 3 == 0 { None } else { Some(i as i64) },
            })
            .unwrap();
        }
        f
    }

    fn staged_in(f: &Fleet, c: u16) -> Vec<usize> {
        (0..f.len())
            .filter(|&i| {
                let d = DeviceIdx(i as u32);
                f.cohort(d) == CohortId(c) && f.staged(d)
            })
            .collect()
    }

    #[test]
    fn r19_grow_keeps_and_shrink_unstages_exactly() {
        let mut f = fleet(1000, 2);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let p = |s| Percent::parse(s).unwrap();
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
    fn r22_same_seed_same_staged_set() {
        let run = |seed| {
            let mut f = fleet(500, 1);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            resize_staged(&mut f, CohortId(0), Percent::whole(30), &mut rng);
            staged_in(&f, 0)
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn r21_bulk_filter_limit_and_order() {
        let f = fleet(12, 1);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let sel = |order, limit| {
            Selection::Filter(Filter {
                cohort: CohortId(0),
                hardware: Some(HardwareId(1)),
                versions: None,
                staged: Some(false),
                limit,
                order,
            })
        };
        let ids = |v: Vec<DeviceIdx>| v.into_iter().map(|d| d.0).collect::<Vec<_>>();
        assert_eq!(
            ids(select(&f, &sel(Order::File, None), &mut rng)),
            [1, 3, 5, 7, 9, 11]
        );
        // Devices 3 and 9 were never seen: they come last.
        assert_eq!(
            ids(select(&f, &sel(Order::LastSeenDesc, Some(3)), &mut rng)),
            [11, 7, 5]
        );
        assert_eq!(
            ids(select(&f, &sel(Order::LastSeenAsc, None), &mut rng)),
            [1, 5, 7, 11, 3, 9]
        );
        let mut shuffled = ids(select(&f, &sel(Order::Random, None), &mut rng));
        shuffled.sort();
        assert_eq!(shuffled, [1, 3, 5, 7, 9, 11]);
    }
}
