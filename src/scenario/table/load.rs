//! The checks every front end shares: each column resolved against the catalog per
//! distinct value, the first bad cell reported, the devices added to the fleet in bulk.

use super::cells::parse_staged;
use super::columns::{COHORT, HARDWARE, OVERRIDE, PROJECT_KEY, SOFTWARE_TYPE, STAGED, VERSION};
use super::dict::{map_codes, repeat, resolve_dict, resolve_per_type, Dict};
use super::id_column::{id_strings, Ids};
use super::place::{Check, FirstError, Placement};
use crate::catalog::Catalog;
use crate::fleet::{DeviceColumns, Fleet};
use crate::ids::{CohortId, HardwareId, SoftwareTypeId, VersionId};
use crate::scenario::ScenarioError;

/// A table's columns as [`Table::load_cells`] takes them, from polars or from the direct
/// Parquet reader.
pub(super) struct Cells<'a> {
    pub(super) rows: usize,
    pub(super) ids: Ids<'a>,
    /// Text columns ([`COLUMNS`] index, dictionary).
    pub(super) dicts: Vec<(usize, Dict<'a>)>,
    /// A boolean `staged` column (a text one is among `dicts`).
    pub(super) staged: Option<Vec<bool>>,
    pub(super) last_seen: Option<Vec<i32>>,
    /// Errors met while reading the cells above.
    pub(super) errors: FirstError,
}

impl Placement<'_> {
    /// Checks every cell and adds the devices to `fleet`; the first bad cell is the error.
    pub(super) fn load_cells(
        &self,
        cells: Cells<'_>,
        catalog: &mut Catalog,
        fleet: &mut Fleet,
    ) -> Result<(), ScenarioError> {
        let Cells {
            rows: n,
            ids,
            dicts,
            staged,
            last_seen,
            mut errors,
        } = cells;
        let get = |c: usize| dicts.iter().find(|(k, _)| *k == c).map(|(_, d)| d);
        // Device ids: present and non-empty.
        if let Some(row) = ids.first_empty() {
            errors.note(row, Check::DeviceId, || "device_id is empty".to_string());
        }
        let hardware_table = resolve_dict(
            get(HARDWARE).expect("required column"),
            HardwareId(0),
            &mut errors,
            |h| {
                if h.is_empty() {
                    return Err((Check::HardwareEmpty, "hardware_version is empty".into()));
                }
                catalog
                    .intern_hardware(h)
                    .map_err(|e| (Check::Hardware, e.to_string()))
            },
        );
        let types: Option<Vec<Option<SoftwareTypeId>>> = get(SOFTWARE_TYPE).map(|d| {
            let table = resolve_dict(d, None, &mut errors, |t| {
                if t.is_empty() {
                    return Ok(Some(SoftwareTypeId(0)));
                }
                catalog
                    .need_software_type(t)
                    .map(Some)
                    .map_err(|e| (Check::SoftwareType, e.to_string()))
            });
            map_codes(d, &table)
        });
        let version = resolve_per_type(
            get(VERSION).expect("required column"),
            types.as_deref(),
            VersionId(0),
            &mut errors,
            |st, v| {
                catalog
                    .intern_version(st, v)
                    .map_err(|e| (Check::Version, e.to_string()))
            },
        );
        let cohort_table = get(COHORT).map(|d| {
            resolve_dict(d, CohortId(0), &mut errors, |c| {
                if c.is_empty() {
                    return Ok(CohortId(0));
                }
                catalog
                    .need_cohort(c)
                    .map_err(|e| (Check::Cohort, e.to_string()))
            })
        });
        let key_table = get(PROJECT_KEY).map(|d| {
            resolve_dict(d, None, &mut errors, |k| {
                if k.is_empty() {
                    return Ok(None);
                }
                catalog
                    .need_project_key(k)
                    .map(Some)
                    .map_err(|e| (Check::ProjectKey, e.to_string()))
            })
        });
        let staged: Option<Vec<bool>> = match staged {
            Some(b) => Some(b),
            None => get(STAGED).map(|d| {
                let table = resolve_dict(d, false, &mut errors, |t| {
                    parse_staged(t).map_err(|m| (Check::Staged, m))
                });
                map_codes(d, &table)
            }),
        };
        let release_override = get(OVERRIDE).map(|d| {
            resolve_per_type(d, types.as_deref(), None, &mut errors, |st, r| {
                if r.is_empty() {
                    return Ok(None);
                }
                let id = catalog
                    .find_release(st, r)
                    .map_err(|e| (Check::Override, format!("release_override: {e}")))?;
                catalog
                    .check_override(id, st)
                    .map_err(|e| (Check::Override, e.to_string()))?;
                Ok(Some(id))
            })
        });

        if let Some((row, check, message)) = errors.0.take() {
            // A duplicate id before the bad row is what a row-by-row reader would meet
            // first.
            if let Some(dup) = ids.first_duplicate(row, fleet) {
                return Err(self.row_error(
                    dup,
                    format!("device \"{}\" is defined twice", ids.cell(dup)),
                ));
            }
            let message = if check == Check::DeviceId {
                message
            } else {
                format!("device \"{}\": {message}", ids.cell(row))
            };
            return Err(self.row_error(row, message));
        }

        let columns = DeviceColumns {
            software_type: match &types {
                Some(t) => t.iter().map(|t| t.unwrap_or(SoftwareTypeId(0))).collect(),
                None => repeat(SoftwareTypeId(0), n),
            },
            hardware: map_codes(get(HARDWARE).expect("required"), &hardware_table),
            version,
            cohort: match &cohort_table {
                Some(t) => map_codes(get(COHORT).expect("present"), t),
                None => repeat(CohortId(0), n),
            },
            project_key: key_table.map(|t| map_codes(get(PROJECT_KEY).expect("present"), &t)),
            staged,
            release_override,
            last_seen,
        };
        let added = match ids {
            Ids::Series(ids) => {
                let (n_bytes, id_iter) = id_strings(&ids);
                fleet.reserve(n, n_bytes);
                fleet.push_many(id_iter, columns)
            }
            Ids::Packed { buf, ends, .. } => fleet.push_packed(buf, ends, columns),
            Ids::Unread(ids) => fleet.push_unread(std::sync::Arc::new(ids), columns),
        };
        added.map_err(|e| self.row_error(e.row, e.message))
    }
}
