//! The Parquet front end: the schema checked against the column contract, then the
//! direct reader ([`super::direct`]) where it covers the table, polars where it does not.

use std::path::Path;

use polars::prelude::{ArrowDataType, ParquetReader, SerReader};

use super::columns::{
    accepts, arrow_kind, arrow_type_name, type_message, Kind, COLUMNS, DEVICE_ID, LAST_SEEN,
};
use super::dict::{Codes, Dict};
use super::direct::{self, DirectTable, TextCodes, Want};
use super::id_column::Ids;
use super::load::Cells;
use super::place::{Check, FirstError, Format, Placement};
use super::shared::SharedTables;
use super::{map_columns, polars_message, table_error, DeviceIds};
use crate::catalog::Catalog;
use crate::fleet::Fleet;
use crate::scenario::ScenarioError;

/// Which reader decodes a Parquet fleet table. Both give the same fleet or the same
/// error for every file (the tests read every table with both).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParquetDecoder {
    /// The direct reader (`direct.rs`) where it covers the table, else polars:
    /// what otasim uses.
    Direct,
    /// polars alone: the fallback path, for tests and the import bench.
    Polars,
}

pub(super) fn read_parquet(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
    reader_choice: ParquetDecoder,
    tables: &SharedTables,
    ids: DeviceIds,
) -> Result<(), ScenarioError> {
    let file = std::fs::File::open(path)
        .map_err(|e| table_error(path, None, format!("cannot read fleet table: {e}")))?;
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| {
        table_error(
            path,
            None,
            format!("cannot read fleet table as Parquet: {}", polars_message(&e)),
        )
    })?;
    let header: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
    let pos = map_columns(path, None, &header)?;
    // Types are checked on the file's schema before anything is decoded: polars cannot
    // convert every Parquet type with the features otasim builds it with (it would
    // panic on some), and none but these is meaningful in a fleet table anyway.
    for (c, name) in COLUMNS.iter().enumerate() {
        let Some(i) = pos[c] else { continue };
        let (_, field) = schema.get_at_index(i).expect("a header position");
        let kind = arrow_kind(&field.dtype);
        if !accepts(c, kind) {
            return Err(table_error(
                path,
                None,
                type_message(c, name, &arrow_type_name(&field.dtype)),
            ));
        }
    }
    // The direct reader first; polars for whatever it does not cover.
    let plan = direct_plan(&schema, &pos, ids);
    let table = Placement {
        path,
        format: Format::Parquet,
    };
    if let (ParquetDecoder::Direct, Some((wanted, which))) = (reader_choice, plan) {
        if let Some(direct) = tables.direct(path, &wanted, || direct::read(path, &wanted)) {
            let loaded = table.load_direct(direct, &which, catalog, fleet);
            if loaded.is_err() && ids == DeviceIds::Unread {
                // The error a read with ids gives: an empty or repeated id may come first.
                return read_parquet(path, catalog, fleet, reader_choice, tables, DeviceIds::Read);
            }
            return loaded;
        }
    }
    let df = tables.frame(path, || {
        super::guard::check_pages(path)?;
        reader.finish().map_err(|e| {
            table_error(
                path,
                None,
                format!("cannot read fleet table as Parquet: {}", polars_message(&e)),
            )
        })
    })?;
    table.load(&df, &pos, catalog, fleet)
}

/// What the direct reader reads: (file column, what is wanted) pairs, and the
/// [`COLUMNS`] index of each.
pub(super) type DirectPlan = (Vec<(usize, Want)>, Vec<usize>);

/// What the direct reader is to read of a table whose columns are at `pos` in
/// `schema` (the ids as `ids` says); `None` when a column is of a type it leaves to
/// polars (an all-null column, an unsigned 64-bit integer, text ticks).
pub(super) fn direct_plan(
    schema: &polars::prelude::ArrowSchema,
    pos: &[Option<usize>; 9],
    ids: DeviceIds,
) -> Option<DirectPlan> {
    let mut wanted = Vec::new();
    let mut which = Vec::new();
    for (c, &p) in pos.iter().enumerate() {
        let Some(i) = p else { continue };
        let (_, field) = schema.get_at_index(i)?;
        let kind = arrow_kind(&field.dtype);
        if !accepts(c, kind) {
            return None;
        }
        let want = match (kind, &field.dtype) {
            (Kind::Text, _) if c == DEVICE_ID => match ids {
                DeviceIds::Read => Want::Ids,
                DeviceIds::Unread => Want::UnreadIds,
            },
            (Kind::Text, _) if c != LAST_SEEN => Want::Text,
            (Kind::Bool, _) => Want::Bool,
            (Kind::Int, ArrowDataType::UInt64) => return None,
            (Kind::Int, ArrowDataType::UInt8 | ArrowDataType::UInt16 | ArrowDataType::UInt32) => {
                Want::Tick { unsigned: true }
            }
            (Kind::Int, _) => Want::Tick { unsigned: false },
            _ => return None,
        };
        wanted.push((i, want));
        which.push(c);
    }
    Some((wanted, which))
}

impl Placement<'_> {
    /// Turns a table read by [`direct::read`] (`columns[k]` being column `which[k]` of
    /// [`COLUMNS`]) into devices and adds them to `fleet`.
    pub(super) fn load_direct(
        &self,
        table: DirectTable,
        which: &[usize],
        catalog: &mut Catalog,
        fleet: &mut Fleet,
    ) -> Result<(), ScenarioError> {
        if table.rows == 0 {
            return Err(table_error(self.path, None, "fleet table has no devices"));
        }
        let mut ids = None;
        let mut texts = Vec::new();
        let mut staged = None;
        let mut last_seen = None;
        let mut errors = FirstError::default();
        for (read, &c) in table.columns.into_iter().zip(which) {
            match read {
                direct::Read::Ids {
                    buf,
                    ends,
                    first_empty,
                } => {
                    ids = Some(Ids::Packed {
                        buf,
                        ends,
                        first_empty,
                    })
                }
                direct::Read::UnreadIds(unread) => ids = Some(Ids::Unread(unread)),
                direct::Read::Text(t) => texts.push((c, t)),
                direct::Read::Bool(b) => staged = Some(b),
                direct::Read::Tick(t) => {
                    if let Some((row, v)) = t.out_of_range {
                        errors.note(row, Check::LastSeenRange, || {
                            format!("last_seen {v} is out of range")
                        });
                    }
                    last_seen = Some(t.ticks);
                }
            }
        }
        let dicts = texts
            .iter_mut()
            .map(|(c, t)| {
                let codes = match std::mem::replace(&mut t.codes, TextCodes::Rows(Vec::new())) {
                    TextCodes::Rows(codes) => Codes::Rows(codes),
                    TextCodes::Deferred(d) => Codes::Deferred(d),
                };
                let dict = Dict {
                    values: t.values.iter().map(String::as_str).collect(),
                    codes,
                };
                (*c, dict)
            })
            .collect();
        let cells = Cells {
            rows: table.rows,
            ids: ids.expect("the id column is always read"),
            dicts,
            staged,
            last_seen,
            errors,
        };
        self.load_cells(cells, catalog, fleet)
    }
}
