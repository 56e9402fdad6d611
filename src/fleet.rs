//! The fleet: every device's state as struct-of-arrays with interned ids.
//!
//! Columns rather than a `Vec<Device>` because the engine sweeps one or two fields over
//! millions of devices per tick; device id strings are cold and only read for output.

use std::collections::HashMap;

use crate::ids::{
    CohortId, DeviceIdx, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId,
};

/// One device's report to the resolver (SPEC §4): everything the answer depends on.
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

/// All devices, column by column; a device is its row index ([`DeviceIdx`]).
#[derive(Clone, Debug, Default)]
pub struct Fleet {
    ids: Vec<String>,
    index: HashMap<String, DeviceIdx>,
    /// Software type per device.
    pub software_type: Vec<SoftwareTypeId>,
    /// Hardware version per device.
    pub hardware: Vec<HardwareId>,
    /// Current (reported) version per device.
    pub version: Vec<VersionId>,
    /// Stored cohort per device.
    pub cohort: Vec<CohortId>,
    /// Project key per device.
    pub project_key: Vec<Option<ProjectKeyId>>,
    /// Staged flag per device (R10).
    pub staged: Vec<bool>,
    /// Release override per device (R12).
    pub release_override: Vec<Option<ReleaseId>>,
    /// Last-seen tick per device (R21 order).
    pub last_seen: Vec<Option<i64>>,
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Fleet {
        Fleet::default()
    }

    /// Adds a device; fails if its id is taken.
    pub fn push(&mut self, device: NewDevice) -> Result<DeviceIdx, String> {
        let idx =
            DeviceIdx(u32::try_from(self.ids.len()).map_err(|_| "too many devices".to_string())?);
        if self.index.contains_key(&device.id) {
            return Err(format!("device \"{}\" is defined twice", device.id));
        }
        self.index.insert(device.id.clone(), idx);
        self.ids.push(device.id);
        let r = device.report;
        self.software_type.push(r.software_type);
        self.hardware.push(r.hardware);
        self.version.push(r.version);
        self.cohort.push(r.cohort);
        self.project_key.push(r.project_key);
        self.staged.push(r.staged);
        self.release_override.push(r.release_override);
        self.last_seen.push(device.last_seen);
        Ok(idx)
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the fleet is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// A device's id string.
    pub fn id(&self, idx: DeviceIdx) -> &str {
        &self.ids[idx.index()]
    }

    /// Finds a device by id.
    pub fn find(&self, id: &str) -> Option<DeviceIdx> {
        self.index.get(id).copied()
    }

    /// All device ids, in fleet order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The report the device sends to the resolver.
    #[inline]
    pub fn report(&self, idx: DeviceIdx) -> DeviceReport {
        let i = idx.index();
        DeviceReport {
            software_type: self.software_type[i],
            version: self.version[i],
            hardware: self.hardware[i],
            project_key: self.project_key[i],
            cohort: self.cohort[i],
            staged: self.staged[i],
            release_override: self.release_override[i],
        }
    }

    /// Devices in `cohort`, in fleet order.
    pub fn members(&self, cohort: CohortId) -> impl Iterator<Item = DeviceIdx> + '_ {
        self.cohort
            .iter()
            .enumerate()
            .filter(move |(_, &c)| c == cohort)
            .map(|(i, _)| DeviceIdx(i as u32))
    }

    /// Moves a device to `cohort`; moving to another cohort clears its staged flag (R10).
    pub fn move_to(&mut self, idx: DeviceIdx, cohort: CohortId) {
        let i = idx.index();
        if self.cohort[i] != cohort {
            self.cohort[i] = cohort;
            self.staged[i] = false;
        }
    }

    /// How many devices hold `release` as their override (R6 check).
    pub fn override_holders(&self, release: ReleaseId) -> usize {
        self.release_override
            .iter()
            .filter(|&&o| o == Some(release))
            .count()
    }
}
