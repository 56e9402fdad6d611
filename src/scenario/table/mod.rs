//! Fleet tables (`[fleet] import` and `--fleet`): one device per row, read from Parquet
//! or CSV with polars.
//!
//! Columns: `device_id, hardware_version, software_version` and optionally `cohort,
//! software_type, project_key, staged, release_override, last_seen`. An unknown column
//! is an error, so that a misspelt optional column is never silently dropped.
//!
//! Cells:
//! - Text columns may be strings or categoricals (dictionary-encoded columns). A null or
//!   empty cell in an optional column means "not set": the `default` cohort, software
//!   type `main`, no project key, no release override.
//! - `staged` is a boolean column, or text: `true`/`false`, `1`/`0`, `yes`/`no` (any
//!   case; null or empty is false).
//! - `last_seen` is an integer column (in CSV: an integer): a tick number on the
//!   scenario's clock, tick 0 being the scenario start (negative: seen before it). It
//!   only orders bulk staging (`order = "last_seen_desc"`, R21). Timestamp columns are
//!   refused rather than guessed at: convert them first, e.g. `(ts - start) // tick`.
//!
//! Errors name the file and the place: `fleet.csv:LINE: …` (the CSV line) or
//! `fleet.parquet: row N: …` (the 1-based data row), then the device and what is wrong.
//! A column of the wrong type, a missing or unknown column and an empty table are
//! reported without a row.
//!
//! Speed (the import of a 10M-row table is on the `otasim matrix` path): the table is
//! taken column by column. Each text column becomes a dictionary (its distinct values and
//! one code per row; a categorical column's codes are remapped, not re-hashed), each
//! distinct value is looked up in the catalog once, and the fleet's columns are filled in
//! bulk (`Fleet::push_many`, `Fleet::push_packed`); no string is built per row. A
//! Parquet table is read by the direct reader (`direct.rs`) when it can: Parquet's
//! own dictionary pages become the dictionaries, and the ids land in the fleet's packed
//! store without a copy per row; polars reads what it does not cover. Errors are collected per
//! distinct value and then placed at the first row that has one, so that the message is
//! the one a row-by-row reader ([`RowInterner`]) gives: the first bad row, and in it the
//! first bad cell in the order device id, hardware version, software type, software
//! version, cohort, project key, staged, release override, last seen, then a duplicate id.

mod cells;
mod columns;
mod csv;
mod dict;
mod direct;
mod frame;
mod guard;
mod id_column;
mod load;
mod parquet;
mod place;
mod reference;
mod shared;
#[cfg(test)]
mod tests;
mod text_table;

use std::path::Path;

use super::ScenarioError;
use crate::catalog::Catalog;
use crate::fleet::Fleet;

pub use columns::{map_columns, COLUMNS};
pub use guard::guarded;
pub use parquet::ParquetDecoder;
pub use reference::{RowInterner, TextRow};
pub use shared::SharedTables;
pub use text_table::{read_text_table, TextTable};

/// Whether a fleet table's device ids are read.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum DeviceIds {
    /// Read, checked (present, unique) and stored: what any command that names a device,
    /// or prints or compares devices, needs.
    #[default]
    Read,
    /// Left in the file where the reader can (a Parquet table the direct reader
    /// covers), and read one at a time when a message names a device: for a fleet that
    /// is that one table and that nothing names a device of (`otasim matrix`). Empty
    /// and repeated ids then go unreported unless the table has another error: the
    /// table is then read again with its ids, so that the error is the same.
    Unread,
}

/// An error in the fleet table at `path`, at `line` when there is one.
fn table_error(path: &Path, line: Option<usize>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        file: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Reads a fleet table into `fleet`, interning into `catalog` (hardware versions and
/// device versions are created as needed; cohorts, keys, types and releases must exist).
///
/// The format follows the extension: `.csv`, or `.parquet` / `.pq`. On an error the
/// fleet is unchanged (the catalog may have gained hardware versions and versions).
/// `tables` keeps the table as read for the next scenario that reads the same file.
pub(crate) fn read_fleet_table(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
    tables: &SharedTables,
    ids: DeviceIds,
) -> Result<(), ScenarioError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("csv") => csv::read_csv(path, catalog, fleet, tables),
        Some("parquet") | Some("pq") => guard::guarded(path, || {
            parquet::read_parquet(path, catalog, fleet, ParquetDecoder::Direct, tables, ids)
        }),
        _ => Err(table_error(
            path,
            None,
            "unknown fleet table format (use a .csv or .parquet file)",
        )),
    }
}

/// Reads a Parquet fleet table with `decoder`, behind the same guard as
/// `read_fleet_table` (a damaged file is an input error, never a crash). The import
/// bench measures the polars fallback path with it.
pub fn read_parquet_table(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
    decoder: ParquetDecoder,
) -> Result<(), ScenarioError> {
    guard::guarded(path, || {
        parquet::read_parquet(
            path,
            catalog,
            fleet,
            decoder,
            &SharedTables::default(),
            DeviceIds::Read,
        )
    })
}

/// A polars error as one line.
fn polars_message(e: &polars::error::PolarsError) -> String {
    let text = e.to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.trim().to_string()
}
