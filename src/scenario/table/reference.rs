//! The row-by-row reader: one row's cells as text turned into a device. The bulk
//! readers give the errors it gives (tests compare them); the import bench measures it
//! against them.

use std::collections::HashMap;

use super::cells::{parse_last_seen, parse_staged};
use crate::catalog::Catalog;
use crate::fleet::{DeviceReport, NewDevice};
use crate::ids::{CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId};

/// Interns the per-row strings of a table, caching so that each distinct string is
/// looked up once however many rows repeat it.
#[derive(Default)]
pub struct RowInterner {
    software_types: HashMap<String, SoftwareTypeId>,
    cohorts: HashMap<String, CohortId>,
    keys: HashMap<String, ProjectKeyId>,
    hardware: HashMap<String, HardwareId>,
    versions: HashMap<(SoftwareTypeId, String), VersionId>,
    overrides: HashMap<(SoftwareTypeId, String), ReleaseId>,
}

/// One row's cells, borrowed from the table.
#[derive(Default)]
pub struct TextRow<'a> {
    /// `device_id`.
    pub device_id: &'a str,
    /// `hardware_version`.
    pub hardware_version: &'a str,
    /// `software_version`.
    pub software_version: &'a str,
    /// `cohort` (empty: default).
    pub cohort: &'a str,
    /// `software_type` (empty: main).
    pub software_type: &'a str,
    /// `project_key` (empty: none).
    pub project_key: &'a str,
    /// `staged` (empty: false).
    pub staged: &'a str,
    /// `release_override` (empty: none).
    pub release_override: &'a str,
    /// `last_seen` as a tick number (empty: never).
    pub last_seen: &'a str,
}

impl RowInterner {
    /// Turns one row into a device, or says what is wrong with it.
    pub fn device(
        &mut self,
        catalog: &mut Catalog,
        row: &TextRow<'_>,
    ) -> Result<NewDevice, String> {
        if row.device_id.is_empty() {
            return Err("device_id is empty".into());
        }
        if row.hardware_version.is_empty() {
            return Err("hardware_version is empty".into());
        }
        let st = if row.software_type.is_empty() {
            SoftwareTypeId(0)
        } else {
            lookup(&mut self.software_types, row.software_type, |s| {
                catalog.need_software_type(s).map_err(|e| e.to_string())
            })?
        };
        let version = match self.versions.get(&(st, row.software_version.to_string())) {
            Some(&v) => v,
            None => {
                let v = catalog
                    .intern_version(st, row.software_version)
                    .map_err(|e| e.to_string())?;
                self.versions
                    .insert((st, row.software_version.to_string()), v);
                v
            }
        };
        let hardware = lookup(&mut self.hardware, row.hardware_version, |h| {
            catalog.intern_hardware(h).map_err(|e| e.to_string())
        })?;
        let cohort = if row.cohort.is_empty() {
            CohortId(0)
        } else {
            lookup(&mut self.cohorts, row.cohort, |c| {
                catalog.need_cohort(c).map_err(|e| e.to_string())
            })?
        };
        let project_key = if row.project_key.is_empty() {
            None
        } else {
            Some(lookup(&mut self.keys, row.project_key, |k| {
                catalog.need_project_key(k).map_err(|e| e.to_string())
            })?)
        };
        let staged = parse_staged(row.staged)?;
        let release_override = if row.release_override.is_empty() {
            None
        } else {
            let key = (st, row.release_override.to_string());
            Some(match self.overrides.get(&key) {
                Some(&r) => r,
                None => {
                    let r = catalog
                        .find_release(st, row.release_override)
                        .map_err(|e| format!("release_override: {e}"))?;
                    catalog.check_override(r, st).map_err(|e| e.to_string())?;
                    self.overrides.insert(key, r);
                    r
                }
            })
        };
        let last_seen = parse_last_seen(row.last_seen)?;
        Ok(NewDevice {
            id: row.device_id.to_string(),
            report: DeviceReport {
                software_type: st,
                version,
                hardware,
                project_key,
                cohort,
                staged,
                release_override,
            },
            last_seen,
        })
    }
}

pub(super) fn lookup<T: Copy>(
    cache: &mut HashMap<String, T>,
    key: &str,
    make: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, String> {
    if let Some(&v) = cache.get(key) {
        return Ok(v);
    }
    let v = make(key)?;
    cache.insert(key.to_string(), v);
    Ok(v)
}
