//! Fleet tables read once for several scenarios: `otasim diff A B` whose sides import
//! the same table (or take the same `--fleet`) reads it once.
//!
//! What is kept is the table as read, before any catalog sees it: the direct reader's
//! columns (ids packed, text as dictionaries, see `direct.rs`) or the frame polars read.
//! Each scenario then looks the distinct values up in its own catalog and fills its own
//! fleet exactly as from the file (`Placement::load_direct`, `Placement::load`), so the
//! two sides may differ in cohorts, releases or software types and still get the fleet
//! (or the error) a read of their own would give. The packed ids are shared, not copied:
//! both fleets then hold the same id buffers, which also lets `diff` match their rows
//! without comparing 10M ids.
//!
//! A table is known by its canonical path, its length and its modification time, so a
//! file changed between two loads is read again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use polars::prelude::DataFrame;

use super::direct::{DirectTable, Want};
use crate::scenario::ScenarioError;

/// Tables kept between the loads of several scenarios. The default keeps nothing;
/// [`SharedTables::new`] keeps every table read through the options that hold it (and
/// their clones) until the last of them is dropped.
#[derive(Clone, Default)]
pub struct SharedTables(Option<Arc<Mutex<Kept>>>);

#[derive(Default)]
struct Kept {
    tables: Vec<(Key, Table)>,
    reused: usize,
}

/// A file and how it was read.
#[derive(PartialEq)]
struct Key {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    how: How,
}

#[derive(PartialEq)]
enum How {
    /// By the direct reader, these columns.
    Direct(Vec<(usize, Want)>),
    /// By polars (CSV, or Parquet the direct reader does not cover).
    Frame,
}

#[derive(Clone)]
enum Table {
    Direct(DirectTable),
    Frame(DataFrame),
}

impl std::fmt::Debug for SharedTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("SharedTables(off)"),
            Some(kept) => {
                let kept = kept.lock().expect("no panic while locked");
                write!(f, "SharedTables({} kept)", kept.tables.len())
            }
        }
    }
}

impl SharedTables {
    /// Options that keep every table they read, for the next scenario to load.
    pub fn new() -> SharedTables {
        SharedTables(Some(Arc::default()))
    }

    /// How many loads took a kept table instead of reading the file.
    pub fn reused(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |k| k.lock().expect("no panic while locked").reused)
    }

    /// The key of the file at `path` read `how`; `None` when its metadata cannot be
    /// read (the reader then reports why).
    fn key(path: &Path, how: How) -> Option<Key> {
        let path = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&path).ok()?;
        Some(Key {
            path,
            len: meta.len(),
            modified: meta.modified().ok(),
            how,
        })
    }

    /// The table at `path` as `read` gives it: kept from an earlier load, or read now
    /// (and kept, when these options keep tables and the read succeeded).
    fn get<E>(
        &self,
        path: &Path,
        how: How,
        read: impl FnOnce() -> Result<Table, E>,
    ) -> Result<Table, E> {
        let Some(kept) = &self.0 else {
            return read();
        };
        let Some(key) = SharedTables::key(path, how) else {
            return read();
        };
        {
            let mut kept = kept.lock().expect("no panic while locked");
            if let Some((_, table)) = kept.tables.iter().find(|(k, _)| *k == key) {
                let table = table.clone();
                kept.reused += 1;
                return Ok(table);
            }
        }
        let table = read()?;
        let mut kept = kept.lock().expect("no panic while locked");
        kept.tables.push((key, table.clone()));
        Ok(table)
    }

    /// [`super::direct::read`] of `wanted`, through the kept tables.
    pub(super) fn direct(
        &self,
        path: &Path,
        wanted: &[(usize, Want)],
        read: impl FnOnce() -> Option<DirectTable>,
    ) -> Option<DirectTable> {
        let table = self.get(path, How::Direct(wanted.to_vec()), || {
            read().map(Table::Direct).ok_or(())
        });
        match table {
            Ok(Table::Direct(t)) => Some(t),
            _ => None,
        }
    }

    /// A table polars reads (`read`), through the kept tables.
    pub(super) fn frame(
        &self,
        path: &Path,
        read: impl FnOnce() -> Result<DataFrame, ScenarioError>,
    ) -> Result<DataFrame, ScenarioError> {
        match self.get(path, How::Frame, || read().map(Table::Frame))? {
            Table::Frame(df) => Ok(df),
            Table::Direct(_) => unreachable!("kept under How::Frame"),
        }
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::{Column, DataFrame};

    use super::*;
    use crate::catalog::{Catalog, Cohort};
    use crate::fleet::Fleet;
    use crate::ids::DeviceIdx;
    use crate::table_out::{write_csv, write_parquet};

    /// A catalog with `cohorts` defined in that order, and `hardware` interned first, so
    /// that two catalogs give the same names other ids.
    fn catalog(cohorts: &[&str], hardware: &[&str]) -> Catalog {
        let mut c = Catalog::new();
        for name in cohorts {
            c.define_cohort(Cohort {
                name: (*name).into(),
                disable_version_checking: false,
                protected: false,
                approval_team: None,
            })
            .unwrap();
        }
        for h in hardware {
            c.intern_hardware(h).unwrap();
        }
        c
    }

    fn frame(rows: usize) -> DataFrame {
        let ids: Vec<String> = (0..rows).map(|i| format!("dev-{i:04}")).collect();
        let hw: Vec<&str> = (0..rows).map(|i| ["evt", "dvt"][i % 2]).collect();
        let sw: Vec<&str> = (0..rows)
            .map(|i| ["1.0.0", "2.0.0", "1.5.0"][i % 3])
            .collect();
        let cohort: Vec<&str> = (0..rows).map(|i| ["beta", "stable", ""][i % 3]).collect();
        DataFrame::new_infer_height(vec![
            Column::new("device_id".into(), ids),
            Column::new("hardware_version".into(), hw),
            Column::new("software_version".into(), sw),
            Column::new("cohort".into(), cohort),
        ])
        .unwrap()
    }

    /// Every device as names: id, cohort, hardware, version.
    fn named(catalog: &Catalog, fleet: &Fleet) -> Vec<(String, String, String, String)> {
        (0..fleet.len() as u32)
            .map(DeviceIdx)
            .map(|d| {
                (
                    fleet.id(d).into_owned(),
                    catalog.cohort(fleet.cohort(d)).name.clone(),
                    catalog.hardware_name(fleet.hardware(d)).to_string(),
                    catalog.version(fleet.version(d)).to_string(),
                )
            })
            .collect()
    }

    /// Reads `path` into a new fleet with `catalog`, through `tables`.
    fn read(
        path: &Path,
        mut catalog: Catalog,
        tables: &SharedTables,
    ) -> Result<(Catalog, Fleet), ScenarioError> {
        let mut fleet = Fleet::new();
        super::super::read_fleet_table(
            path,
            &mut catalog,
            &mut fleet,
            tables,
            super::super::DeviceIds::Read,
        )?;
        Ok((catalog, fleet))
    }

    #[test]
    fn a_table_read_once_gives_each_catalog_the_fleet_of_its_own_read() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["fleet.parquet", "fleet.csv"] {
            let path = dir.path().join(name);
            if name.ends_with("csv") {
                write_csv(&path, &mut frame(300)).unwrap();
            } else {
                write_parquet(&path, &mut frame(300)).unwrap();
            }
            let tables = SharedTables::new();
            let (ca, a) = read(&path, catalog(&["beta", "stable"], &[]), &tables).unwrap();
            assert_eq!(tables.reused(), 0);
            // B's catalog numbers the same names otherwise.
            let b_catalog = catalog(&["stable", "beta"], &["pvt", "dvt"]);
            let (cb, b) = read(&path, b_catalog.clone(), &tables).unwrap();
            assert_eq!(tables.reused(), 1, "{name}");
            let (cf, fresh) = read(&path, b_catalog, &SharedTables::default()).unwrap();
            assert_eq!(named(&cb, &b), named(&cf, &fresh), "{name}");
            assert_eq!(named(&ca, &a), named(&cf, &fresh), "{name}");
            assert!(a.same_ids(&b));
            // A catalog the table does not fit gets the error of its own read.
            let lacking = catalog(&["beta"], &[]);
            let shared = read(&path, lacking.clone(), &tables).unwrap_err();
            assert_eq!(tables.reused(), 2);
            let own = read(&path, lacking, &SharedTables::default()).unwrap_err();
            assert_eq!(shared, own, "{name}");
            assert!(shared.message.contains("stable"), "{shared}");
        }
    }

    #[test]
    fn a_table_changed_between_loads_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fleet.parquet");
        write_parquet(&path, &mut frame(30)).unwrap();
        let tables = SharedTables::new();
        let (_, a) = read(&path, catalog(&["beta", "stable"], &[]), &tables).unwrap();
        write_parquet(&path, &mut frame(40)).unwrap();
        let (_, b) = read(&path, catalog(&["beta", "stable"], &[]), &tables).unwrap();
        assert_eq!((a.len(), b.len(), tables.reused()), (30, 40, 0));
        // Default options keep nothing.
        let none = SharedTables::default();
        read(&path, catalog(&["beta", "stable"], &[]), &none).unwrap();
        read(&path, catalog(&["beta", "stable"], &[]), &none).unwrap();
        assert_eq!(none.reused(), 0);
    }
}
