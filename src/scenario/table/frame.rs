//! The polars front end: a table polars read (a `DataFrame`, from CSV or Parquet) turned
//! into the columns [`super::load`] checks.

use polars::prelude::{DataFrame, DataType, Series};
use rayon::prelude::*;

use super::cells::{parse_last_seen, tick};
use super::columns::{
    accepts, is_text, polars_kind, type_message, COLUMNS, DEVICE_ID, LAST_SEEN, STAGED,
    TEXT_COLUMNS,
};
use super::dict::{dict, Dict};
use super::id_column::Ids;
use super::load::Cells;
use super::place::{Check, FirstError, Placement};
use super::table_error;
use crate::catalog::Catalog;
use crate::fleet::{Fleet, NEVER_SEEN};
use crate::scenario::ScenarioError;

impl Placement<'_> {
    /// Turns a whole table read by polars into devices and adds them to `fleet`.
    pub(super) fn load(
        &self,
        df: &DataFrame,
        pos: &[Option<usize>; 9],
        catalog: &mut Catalog,
        fleet: &mut Fleet,
    ) -> Result<(), ScenarioError> {
        let n = df.height();
        let column = |c: usize| -> Option<&Series> {
            pos[c].map(|i| df.columns()[i].as_materialized_series())
        };
        // Types first: a wrong column is reported as such, without a row.
        for (c, name) in COLUMNS.iter().enumerate() {
            let Some(s) = column(c) else { continue };
            if !accepts(c, polars_kind(s.dtype())) {
                let message = type_message(c, name, &s.dtype().to_string());
                return Err(table_error(self.path, None, message));
            }
        }
        if n == 0 {
            return Err(table_error(self.path, None, "fleet table has no devices"));
        }
        // An all-null column (polars' `Null` type) is read as text.
        let text = |c: usize| -> Option<std::borrow::Cow<'_, Series>> {
            let s = column(c)?;
            Some(if *s.dtype() == DataType::Null {
                std::borrow::Cow::Owned(s.cast(&DataType::String).ok()?)
            } else {
                std::borrow::Cow::Borrowed(s)
            })
        };
        let ids = text(DEVICE_ID).expect("required column");
        let owned: Vec<(usize, std::borrow::Cow<'_, Series>)> = TEXT_COLUMNS
            .iter()
            .filter_map(|&c| Some((c, text(c)?)))
            .filter(|(_, s)| is_text(s.dtype()))
            .collect();
        // Dictionaries are independent: build them in parallel.
        let dicts: Vec<(usize, Dict<'_>)> = owned
            .par_iter()
            .map(|(c, s)| dict(s).map(|d| (*c, d)))
            .collect::<Result<_, String>>()
            .map_err(|e| table_error(self.path, None, format!("cannot read fleet table: {e}")))?;
        let staged = match column(STAGED) {
            Some(s) if s.dtype().is_bool() => Some(
                s.bool()
                    .expect("checked")
                    .iter()
                    .map(|b| b.unwrap_or(false))
                    .collect(),
            ),
            _ => None,
        };
        let mut errors = FirstError::default();
        let last_seen = match column(LAST_SEEN) {
            None => None,
            Some(s) => Some(self.last_seen(s, &mut errors)?),
        };
        let cells = Cells {
            rows: n,
            ids: Ids::Series(ids),
            dicts,
            staged,
            last_seen,
            errors,
        };
        self.load_cells(cells, catalog, fleet)
    }

    /// The `last_seen` column as ticks; notes bad cells in `errors`.
    pub(super) fn last_seen(
        &self,
        s: &Series,
        errors: &mut FirstError,
    ) -> Result<Vec<i32>, ScenarioError> {
        let mut out = Vec::with_capacity(s.len());
        if let Ok(unsigned) = s.u64() {
            // Cast to Int64, a value from 2^63 up would become null ("never seen").
            for (row, t) in unsigned.iter().enumerate() {
                out.push(match t.map(i64::try_from) {
                    Some(Err(_)) => {
                        let v = t.unwrap_or_default();
                        errors.note(row, Check::LastSeenRange, || {
                            format!("last_seen {v} is out of range")
                        });
                        NEVER_SEEN
                    }
                    t => tick(row, t.map(|t| t.unwrap_or_default()), errors),
                });
            }
        } else if s.dtype().is_integer() {
            let ticks = s
                .cast(&DataType::Int64)
                .map_err(|e| table_error(self.path, None, format!("last_seen: {e}")))?;
            for (row, t) in ticks.i64().expect("cast").iter().enumerate() {
                out.push(tick(row, t, errors));
            }
        } else {
            let text = s
                .cast(&DataType::String)
                .map_err(|e| table_error(self.path, None, format!("last_seen: {e}")))?;
            for (row, t) in text.str().expect("cast").iter().enumerate() {
                let t = match parse_last_seen(t.unwrap_or("")) {
                    Ok(t) => t,
                    Err(m) => {
                        errors.note(row, Check::LastSeen, || m);
                        None
                    }
                };
                out.push(tick(row, t, errors));
            }
        }
        Ok(out)
    }
}
