//! How the fleet packs optional fields into its columns: sentinels instead of `Option`,
//! zero for "none" (so an absent column is untouched zeroed pages), and the read-only
//! view of the packed columns the resolver and the engine sweep.

use super::DeviceReport;
use crate::ids::{CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId};

/// No project key, in [`Fleet`]'s packed column (where key `k` is `k + 1`): zero, so
/// that a fleet without keys gets its column as untouched zeroed pages.
pub(super) const NO_KEY: u16 = 0;

/// No release override, in [`Fleet`]'s packed column (release `r` is `r + 1`).
pub(super) const NO_OVERRIDE: u32 = 0;

// `Fleet::push_columns` fills absent key and override columns with zeroed memory.
const _: () = assert!(NO_KEY == 0 && NO_OVERRIDE == 0);

/// Never seen, in [`Fleet`]'s packed column and in [`DeviceColumns::last_seen`]; a
/// device cannot be seen at this tick.
pub const NEVER_SEEN: i32 = i32::MIN;

pub(super) const NEVER: i32 = NEVER_SEEN;

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
    /// Project key per device: 0 for none, key `k` as `k + 1` (`unpack_key`).
    pub project_key: &'a [u16],
    /// Staged flag per device, one bit a device.
    pub staged: super::Flags<'a>,
    /// Release override per device: 0 for none, release `r` as `r + 1`
    /// (`unpack_override`).
    pub release_override: &'a [u32],
}

impl<'a> Columns<'a> {
    /// Number of rows (devices).
    pub fn len(&self) -> usize {
        self.version.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Asserts that every column has `n` rows; a loop over `0..n` after it needs no
    /// bounds checks (the optimiser drops them).
    #[inline]
    pub fn assert_len(&self, n: usize) {
        assert!(
            self.software_type.len() == n
                && self.version.len() == n
                && self.hardware.len() == n
                && self.cohort.len() == n
                && self.project_key.len() == n
                && self.staged.len() == n
                && self.release_override.len() == n,
            "fleet columns differ in length"
        );
    }

    /// Rows `start..end` of every column.
    pub fn range(&self, start: usize, end: usize) -> Columns<'a> {
        Columns {
            software_type: &self.software_type[start..end],
            version: &self.version[start..end],
            hardware: &self.hardware[start..end],
            cohort: &self.cohort[start..end],
            project_key: &self.project_key[start..end],
            staged: self.staged.range(start, end),
            release_override: &self.release_override[start..end],
        }
    }

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
            staged: self.staged.get(i),
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
