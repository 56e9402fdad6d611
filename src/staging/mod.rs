//! Staged devices (R19–R21): a cohort's one staged set, resized by rollout percentages
//! and changed by hand or in bulk.

mod resize;
mod sample;
mod select;

pub use resize::{resize_staged, PROBE_RATIO};
pub use select::{
    recently_seen, recently_seen_last, select, set_staged, Recent, RowTest, SeenParts,
};

use crate::ids::{CohortId, DeviceIdx, HardwareId, VersionId};

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

#[cfg(test)]
pub(crate) mod tests {
    //! Fleets the staging tests share.
    use super::*;
    use crate::fleet::{DeviceReport, Fleet, NewDevice};
    use crate::ids::SoftwareTypeId;

    /// `n` devices in `cohorts` cohorts round robin, hardware alternating, every third
    /// never seen.
    pub(crate) fn fleet(n: usize, cohorts: usize) -> Fleet {
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

    /// The staged rows of cohort `c`.
    pub(crate) fn staged_in(f: &Fleet, c: u16) -> Vec<usize> {
        (0..f.len())
            .filter(|&i| {
                let d = DeviceIdx(i as u32);
                f.cohort(d) == CohortId(c) && f.staged(d)
            })
            .collect()
    }
}
