//! Where an error goes: the first bad cell in row order (then check order), placed at
//! its CSV line or Parquet row, so that every reader reports the error a row-by-row
//! reader would meet first.

use std::path::Path;

use super::csv::csv_line_of_row;
use super::table_error;
use crate::scenario::ScenarioError;

#[derive(Copy, Clone, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Parquet,
}

/// The table being read, for placing errors.
pub(super) struct Placement<'a> {
    pub(super) path: &'a Path,
    pub(super) format: Format,
}

/// The checks of one row, in the order a row-by-row reader makes them: of two errors in
/// one row, the earlier check is reported. A duplicate id comes after all of them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Check {
    DeviceId,
    HardwareEmpty,
    SoftwareType,
    Version,
    Hardware,
    Cohort,
    ProjectKey,
    Staged,
    Override,
    LastSeen,
    LastSeenRange,
}

/// The first error of the table: the lowest (row, check).
#[derive(Default)]
pub(super) struct FirstError(pub(super) Option<(usize, Check, String)>);

impl FirstError {
    pub(super) fn note(&mut self, row: usize, check: Check, message: impl FnOnce() -> String) {
        if self
            .0
            .as_ref()
            .is_none_or(|(r, c, _)| (row, check) < (*r, *c))
        {
            self.0 = Some((row, check, message()));
        }
    }
}

impl Placement<'_> {
    /// An error at 0-based data row `row`.
    #[cold]
    pub(super) fn row_error(&self, row: usize, message: String) -> ScenarioError {
        match self.format {
            Format::Csv => table_error(
                self.path,
                Some(csv_line_of_row(self.path, row).unwrap_or(row + 2)),
                message,
            ),
            Format::Parquet => table_error(self.path, None, format!("row {}: {message}", row + 1)),
        }
    }
}
