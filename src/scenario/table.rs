//! Fleet tables (`[fleet] import` and `--fleet`): one device per row.
//!
//! Columns: `device_id, hardware_version, software_version` and optionally `cohort,
//! software_type, project_key, staged, release_override, last_seen`. An unknown column
//! is an error, so that a misspelt optional column is never silently dropped.

use std::collections::HashMap;
use std::path::Path;

use super::ScenarioError;
use crate::catalog::{did_you_mean, Catalog};
use crate::fleet::{DeviceReport, Fleet, NewDevice};
use crate::ids::{CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId};

/// The columns a fleet table may have; the first three are required.
pub const COLUMNS: [&str; 9] = [
    "device_id",
    "hardware_version",
    "software_version",
    "cohort",
    "software_type",
    "project_key",
    "staged",
    "release_override",
    "last_seen",
];

fn table_error(path: &Path, line: Option<usize>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        file: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Reads a fleet table into `fleet`, interning into `catalog` (hardware versions and
/// device versions are created as needed; cohorts, keys, types and releases must exist).
pub fn read_fleet_table(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
) -> Result<(), ScenarioError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => read_csv(path, catalog, fleet),
        Some("parquet") | Some("pq") => Err(table_error(
            path,
            None,
            "Parquet fleet tables are not supported yet; export the table as CSV",
        )),
        _ => Err(table_error(
            path,
            None,
            "unknown fleet table format (use a .csv or .parquet file)",
        )),
    }
}

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
pub struct Row<'a> {
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
    pub fn device(&mut self, catalog: &mut Catalog, row: &Row<'_>) -> Result<NewDevice, String> {
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
        let staged = match row.staged.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "no" => false,
            "true" | "1" | "yes" => true,
            other => return Err(format!("staged \"{other}\" is not true or false")),
        };
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
        let last_seen = if row.last_seen.trim().is_empty() {
            None
        } else {
            Some(
                row.last_seen
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("last_seen \"{}\" is not a tick number", row.last_seen))?,
            )
        };
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

fn lookup<T: Copy>(
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

/// Checks a header and returns, for each of [`COLUMNS`], its position if present.
pub fn map_columns(path: &Path, header: &[&str]) -> Result<[Option<usize>; 9], ScenarioError> {
    let mut pos = [None; 9];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if pos[c].is_some() => {
                return Err(table_error(
                    path,
                    Some(1),
                    format!("column \"{name}\" appears twice"),
                ))
            }
            Some(c) => pos[c] = Some(i),
            None => {
                return Err(table_error(
                    path,
                    Some(1),
                    format!(
                        "unknown column \"{name}\"{} (columns: {})",
                        did_you_mean(name, COLUMNS),
                        COLUMNS.join(", ")
                    ),
                ))
            }
        }
    }
    for required in &COLUMNS[..3] {
        if pos[COLUMNS.iter().position(|c| c == required).unwrap()].is_none() {
            return Err(table_error(
                path,
                Some(1),
                format!("missing required column \"{required}\""),
            ));
        }
    }
    Ok(pos)
}

fn read_csv(path: &Path, catalog: &mut Catalog, fleet: &mut Fleet) -> Result<(), ScenarioError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .map_err(|e| table_error(path, None, format!("cannot read fleet table: {e}")))?;
    let header = reader
        .headers()
        .map_err(|e| table_error(path, Some(1), format!("cannot read header: {e}")))?
        .clone();
    let header: Vec<&str> = header.iter().collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(table_error(
            path,
            None,
            "fleet table is empty (no header row)",
        ));
    }
    let pos = map_columns(path, &header)?;
    let mut interner = RowInterner::default();
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            table_error(path, line, format!("bad CSV: {e}"))
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line() as usize);
        let cell = |c: usize| pos[c].and_then(|i| record.get(i)).unwrap_or("");
        let row = Row {
            device_id: cell(0),
            hardware_version: cell(1),
            software_version: cell(2),
            cohort: cell(3),
            software_type: cell(4),
            project_key: cell(5),
            staged: cell(6),
            release_override: cell(7),
            last_seen: cell(8),
        };
        let device = interner
            .device(catalog, &row)
            .map_err(|m| table_error(path, line, format!("device \"{}\": {m}", row.device_id)))?;
        fleet.push(device).map_err(|m| table_error(path, line, m))?;
        rows += 1;
    }
    if rows == 0 {
        return Err(table_error(path, None, "fleet table has no devices"));
    }
    Ok(())
}
