//! The CSV front end: the header read with the `csv` crate (exact errors at line 1), the
//! data with polars, every column as text; `csv` again to find the line of a bad row.

use std::path::Path;

use polars::prelude::{CsvReadOptions, SerReader};

use super::place::{Format, Placement};
use super::shared::SharedTables;
use super::{map_columns, polars_message, table_error};
use crate::catalog::Catalog;
use crate::fleet::Fleet;
use crate::scenario::ScenarioError;

pub(super) fn read_csv(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
    tables: &SharedTables,
) -> Result<(), ScenarioError> {
    // The header is read with the `csv` crate, for exact errors at line 1; the data with
    // polars, all columns as text (so that a cell is never guessed into a number).
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
    let pos = map_columns(path, Some(1), &header)?;
    let df = tables.frame(path, || {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| {
                // polars' messages about malformed CSV carry no line: find it with `csv`.
                csv_structure_error(path).unwrap_or_else(|| {
                    table_error(
                        path,
                        None,
                        format!("cannot read fleet table as CSV: {}", polars_message(&e)),
                    )
                })
            })
    })?;
    if df.width() != header.len() {
        return Err(csv_structure_error(path).unwrap_or_else(|| {
            table_error(
                path,
                None,
                format!(
                    "cannot read fleet table as CSV: {} columns in the header, {} read",
                    header.len(),
                    df.width()
                ),
            )
        }));
    }
    let table = Placement {
        path,
        format: Format::Csv,
    };
    table.load(&df, &pos, catalog, fleet)
}

/// The first line of `path` that is not well-formed CSV (e.g. a record with more or
/// fewer fields than the header), found by re-reading it with the strict `csv` reader.
#[cold]
pub(super) fn csv_structure_error(path: &Path) -> Option<ScenarioError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .ok()?;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize);
                return Some(table_error(path, line, format!("bad CSV: {e}")));
            }
        }
    }
}

/// The CSV line of 0-based data row `row` (rows may span lines inside quotes).
#[cold]
pub(super) fn csv_line_of_row(path: &Path, row: usize) -> Option<usize> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .ok()?;
    let mut record = csv::ByteRecord::new();
    for _ in 0..=row {
        if !reader.read_byte_record(&mut record).ok()? {
            return None;
        }
    }
    record.position().map(|p| p.line() as usize)
}
