//! The engine's hot word: everything a poll reads about a device, packed in 8 bytes.
//!
//! The fleet keeps one column per attribute, so a poll that reads them all touches
//! seven or more cache lines in different arrays; at 10M devices each is a miss. The
//! engine instead keeps one `u64` per device holding what a poll needs, so a poll costs
//! one line, and a block of 65,536 devices (512 KiB) stays in a core's L2 cache while
//! that block's wakes are processed. The fleet stays the source of truth: the words are
//! updated from it whenever events change it, and every change the engine makes is
//! written to both.
//!
//! A device with a project key or a release override, or whose ids do not fit (more
//! than 2^24 versions or 2^12 hardware versions), is marked *cold*: its report is then
//! read from the fleet's columns, which are always current, so the result is the same,
//! only slower. Few devices have keys or overrides.

use crate::catalog::Catalog;
use crate::fleet::{Columns, DeviceReport, Fleet};
use crate::ids::{CohortId, DeviceIdx, HardwareId, VersionId};

const VERSION_BITS: u32 = 24;
const HARDWARE_BITS: u32 = 12;
const VERSION_SHIFT: u32 = 0;
const COHORT_SHIFT: u32 = 24;
const HARDWARE_SHIFT: u32 = 40;
const PROFILE_SHIFT: u32 = 52;
const PRESENT: u64 = 1 << 60;
const STAGED: u64 = 1 << 61;
/// The device has a project key or a release override (read from the fleet), or ids
/// too large to pack (read everything from the fleet).
const COLD: u64 = 1 << 62;
const VERSION_MASK: u64 = (1 << VERSION_BITS) - 1;
const HARDWARE_MASK: u64 = (1 << HARDWARE_BITS) - 1;
/// The bits of a word that is not cold that make its report.
const REPORT_BITS: u64 = (VERSION_MASK << VERSION_SHIFT)
    | (0xFFFF << COHORT_SHIFT)
    | (HARDWARE_MASK << HARDWARE_SHIFT)
    | STAGED;

/// One device's hot word.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Hot(u64);

impl Hot {
    /// The word of device `d` as the fleet has it now.
    pub fn of(fleet: &Fleet, d: DeviceIdx) -> Hot {
        Hot::of_report(&fleet.report(d), fleet.is_present(d), fleet.profile(d))
    }

    /// The word of a device whose report, presence and profile are these (for callers
    /// that have just read the report).
    #[inline]
    pub fn of_report(r: &DeviceReport, present: bool, profile: u8) -> Hot {
        let mut w = (u64::from(profile) << PROFILE_SHIFT) | (u64::from(r.cohort.0) << COHORT_SHIFT);
        if present {
            w |= PRESENT;
        }
        if r.staged {
            w |= STAGED;
        }
        let fits =
            u64::from(r.version.0) <= VERSION_MASK && u64::from(r.hardware.0) <= HARDWARE_MASK;
        if fits {
            w |= (u64::from(r.version.0) << VERSION_SHIFT)
                | (u64::from(r.hardware.0) << HARDWARE_SHIFT);
        }
        if !fits || r.project_key.is_some() || r.release_override.is_some() {
            w |= COLD;
        }
        Hot(w)
    }

    /// Whether the device exists now (arrived and not retired).
    #[inline]
    pub fn present(self) -> bool {
        self.0 & PRESENT != 0
    }

    /// Its behaviour profile.
    #[inline]
    pub fn profile(self) -> u8 {
        (self.0 >> PROFILE_SHIFT) as u8
    }

    /// Its staged flag.
    #[inline]
    pub fn staged(self) -> bool {
        self.0 & STAGED != 0
    }

    /// Sets its staged flag.
    #[inline]
    pub fn set_staged(&mut self, staged: bool) {
        self.0 = (self.0 & !STAGED) | if staged { STAGED } else { 0 };
    }

    /// Marks the device retired.
    #[inline]
    pub fn retire(&mut self) {
        self.0 &= !PRESENT;
    }

    /// Records a newly reported version; a version too large to pack makes the word
    /// cold (the fleet's column then answers).
    #[inline]
    pub fn set_version(&mut self, v: VersionId) {
        if u64::from(v.0) <= VERSION_MASK {
            self.0 =
                (self.0 & !(VERSION_MASK << VERSION_SHIFT)) | (u64::from(v.0) << VERSION_SHIFT);
        } else {
            self.0 |= COLD;
        }
    }

    /// The report of device `i`: read from the fleet's `columns` and `version` (called
    /// only then, so a poll of a device that is not cold touches no fleet column) when
    /// the word is cold.
    #[inline]
    pub fn report(
        self,
        catalog: &Catalog,
        columns: &Columns<'_>,
        i: usize,
        version: impl FnOnce() -> VersionId,
    ) -> DeviceReport {
        if self.is_cold() {
            return columns.report_at(i, version());
        }
        // Every device's version is interned for its software type (a fleet
        // invariant), so the type need not be stored.
        self.plain_report(catalog)
    }

    /// Whether the word sends its device's report to the fleet's columns.
    #[inline]
    pub fn is_cold(self) -> bool {
        self.0 & COLD != 0
    }

    /// The report packed in a word that is not cold (no project key, no override).
    pub fn plain_report(self, catalog: &Catalog) -> DeviceReport {
        debug_assert!(!self.is_cold());
        let (version, hardware, cohort, staged) = self.fields();
        DeviceReport {
            software_type: catalog.version_software_type(version),
            version,
            hardware,
            project_key: None,
            cohort,
            staged,
            release_override: None,
        }
    }

    /// The report bits of a word that is not cold, as one number: two such words have
    /// equal keys exactly when their reports are equal (presence and profile are left
    /// out), so devices can be counted per report without building reports.
    #[inline]
    pub fn report_key(self) -> u64 {
        debug_assert!(!self.is_cold());
        self.0 & REPORT_BITS
    }

    /// The report whose key ([`Hot::report_key`]) is `key`.
    pub fn report_of_key(key: u64, catalog: &Catalog) -> DeviceReport {
        Hot(key & REPORT_BITS).plain_report(catalog)
    }

    /// The version, hardware, cohort and staged flag of a device with no project key
    /// and no release override (its class for the resolver), or `None` when the word
    /// is cold.
    #[inline]
    pub fn plain_class(self) -> Option<(VersionId, HardwareId, CohortId, bool)> {
        (!self.is_cold()).then(|| self.fields())
    }

    /// The packed fields of a word that is not cold.
    #[inline]
    fn fields(self) -> (VersionId, HardwareId, CohortId, bool) {
        (
            VersionId(((self.0 >> VERSION_SHIFT) & VERSION_MASK) as u32),
            HardwareId(((self.0 >> HARDWARE_SHIFT) & HARDWARE_MASK) as u16),
            CohortId((self.0 >> COHORT_SHIFT) as u16),
            self.0 & STAGED != 0,
        )
    }
}

/// The words of every device of `fleet`, in fleet order.
pub fn build(fleet: &Fleet) -> Vec<Hot> {
    use rayon::prelude::*;
    (0..fleet.len() as u32)
        .into_par_iter()
        .map(|i| Hot::of(fleet, DeviceIdx(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::NewDevice;
    use crate::ids::{ProjectKeyId, SoftwareTypeId};

    fn device(version: u32, hardware: u16, key: Option<u16>) -> NewDevice {
        NewDevice {
            id: format!("d{version}-{hardware}-{key:?}"),
            report: DeviceReport {
                software_type: SoftwareTypeId(0),
                version: VersionId(version),
                hardware: HardwareId(hardware),
                project_key: key.map(ProjectKeyId),
                cohort: CohortId(3),
                staged: true,
                release_override: None,
            },
            last_seen: None,
        }
    }

    #[test]
    fn packs_and_unpacks_every_field() {
        let mut fleet = Fleet::new();
        let d = fleet.push(device(5, 2, None)).unwrap();
        fleet.set_profile(d, 7);
        let mut h = Hot::of(&fleet, d);
        assert!(h.present());
        assert_eq!(h.profile(), 7);
        assert_eq!(h.0 & COLD, 0);
        assert_eq!(h.fields(), (VersionId(5), HardwareId(2), CohortId(3), true));
        h.set_version(VersionId(9));
        assert_eq!(h.fields(), (VersionId(9), HardwareId(2), CohortId(3), true));
        assert_eq!(h.plain_class(), Some(h.fields()));
        assert_eq!(h.profile(), 7);
        h.set_version(VersionId(1 << 24));
        assert_ne!(
            h.0 & COLD,
            0,
            "a version too large to pack makes the word cold"
        );
        assert_eq!(h.plain_class(), None, "a cold word has no plain class");
        let keyed = fleet.push(device(5, 2, Some(0))).unwrap();
        assert_eq!(
            Hot::of(&fleet, keyed).plain_class(),
            None,
            "a device with a project key is resolved from its report"
        );
        h.retire();
        assert!(!h.present());
    }

    /// Report keys leave out exactly presence and profile.
    #[test]
    fn report_keys_are_equal_exactly_when_reports_are() {
        let mut fleet = Fleet::new();
        let a = fleet.push(device(5, 2, None)).unwrap();
        let b = fleet.push(device(5, 3, None)).unwrap();
        fleet.set_profile(a, 4);
        let (ha, hb) = (Hot::of(&fleet, a), Hot::of(&fleet, b));
        let mut other = ha;
        other.retire();
        assert_eq!(other.report_key(), ha.report_key());
        assert_eq!(Hot(ha.report_key()).fields(), ha.fields());
        assert_ne!(ha.report_key(), hb.report_key());
        other.set_staged(false);
        assert_ne!(other.report_key(), ha.report_key());
    }

    #[test]
    fn keys_overrides_and_large_ids_are_cold() {
        let mut fleet = Fleet::new();
        let keyed = fleet.push(device(1, 1, Some(0))).unwrap();
        let big = fleet.push(device(1 << 24, 1, None)).unwrap();
        let wide = fleet.push(device(1, 1 << 12, None)).unwrap();
        for d in [keyed, big, wide] {
            assert_ne!(Hot::of(&fleet, d).0 & COLD, 0);
        }
    }
}
