//! The device id column, as polars read it or packed by the direct reader.

use polars::prelude::{DataType, Series};

use super::direct::FileIds;
use crate::fleet::{Fleet, UnreadIds};

/// The device id column, as polars read it or packed by the direct reader.
pub(super) enum Ids<'a> {
    Series(std::borrow::Cow<'a, Series>),
    /// Row `i` is `buf[ends[i - 1]..ends[i]]` (from 0 for row 0); null is empty.
    /// Shared with the table read (which a second scenario on the same table reuses).
    Packed {
        buf: std::sync::Arc<String>,
        ends: std::sync::Arc<Vec<usize>>,
        first_empty: Option<usize>,
    },
    /// Left in the file ([`FileIds`]): not checked, read one at a time when asked for.
    Unread(FileIds),
}

impl Ids<'_> {
    /// The id at `row` (empty for null).
    pub(super) fn cell(&self, row: usize) -> String {
        match self {
            Ids::Series(s) => cell(s, row),
            Ids::Packed { buf, ends, .. } => {
                let start = if row == 0 { 0 } else { ends[row - 1] };
                buf[start..ends[row]].to_string()
            }
            Ids::Unread(ids) => ids.id(row),
        }
    }

    /// The first row whose device id is null or empty.
    pub(super) fn first_empty(&self) -> Option<usize> {
        match self {
            Ids::Series(s) => first_empty(s),
            Ids::Packed { first_empty, .. } => *first_empty,
            // Not checked: a table whose ids are left unread is read again with its ids
            // on any error (`parquet.rs`), so that errors are the same either way.
            Ids::Unread(_) => None,
        }
    }

    /// The first row before `limit` whose device id is taken (by an earlier row or by a
    /// device already in `fleet`). Only used on the error path.
    #[cold]
    pub(super) fn first_duplicate(&self, limit: usize, fleet: &Fleet) -> Option<usize> {
        if let Ids::Unread(_) = self {
            return None; // not checked (see `first_empty`)
        }
        let mut seen = std::collections::HashSet::new();
        (0..limit).find(|&row| {
            let id = self.cell(row);
            fleet.find(&id).is_some() || !seen.insert(id)
        })
    }
}

/// The text of a cell (empty for null).
pub(super) fn cell(series: &Series, row: usize) -> String {
    series
        .get(row)
        .ok()
        .and_then(|v| v.get_str().map(str::to_string))
        .unwrap_or_default()
}

/// The first row whose device id is null or empty.
pub(super) fn first_empty(ids: &Series) -> Option<usize> {
    match ids.str() {
        Ok(ca) => {
            let mut row = 0;
            for arr in ca.downcast_iter() {
                if let Some(i) = arr.iter().position(|s| s.is_none_or(|s| s.is_empty())) {
                    return Some(row + i);
                }
                row += arr.len();
            }
            None
        }
        Err(_) => (0..ids.len()).find(|&row| cell(ids, row).is_empty()),
    }
}

/// The device ids as `&str`s, with their total length in bytes (for reserving).
pub(super) fn id_strings(ids: &Series) -> (usize, Box<dyn Iterator<Item = &str> + '_>) {
    match ids.str() {
        Ok(ca) => {
            let bytes = ca.downcast_iter().map(|a| a.total_bytes_len()).sum();
            let iter = ca.downcast_iter().flat_map(|a| a.values_iter());
            (bytes, Box::new(iter))
        }
        Err(_) => {
            let mapping = ids.dtype().cat_mapping().ok();
            let physical = ids.to_physical_repr().cast(&DataType::UInt32).ok();
            match (mapping, physical) {
                (Some(mapping), Some(physical)) => {
                    let codes: Vec<u32> = physical
                        .u32()
                        .map(|ca| ca.iter().map(|c| c.unwrap_or(u32::MAX)).collect())
                        .unwrap_or_default();
                    let iter = codes
                        .into_iter()
                        .map(move |c| mapping.cat_to_str(c).unwrap_or(""));
                    (0, Box::new(iter))
                }
                _ => (0, Box::new(std::iter::empty())),
            }
        }
    }
}
