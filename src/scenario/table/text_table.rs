//! Parquet tables of one id column and text columns, other than fleet tables (the
//! recorded decisions of R34), read by the direct reader ([`super::direct`]).
//!
//! Why: a 10M-row table of decisions read by polars is three columns of 16-byte views
//! and a string per cell, which the checker reads once and drops; most of
//! `diff --expected` went there. Here the ids are packed into one buffer and every other
//! column is a dictionary (its distinct values, one code per row), so a checker looks
//! each distinct value up once.

use std::path::Path;

use polars::prelude::{ParquetReader, SerReader};

use super::columns::{arrow_kind, Kind};
use super::direct::{self, Read, TextCodes, Want};

/// A table of an id column and text columns.
pub struct TextTable {
    rows: usize,
    ids: std::sync::Arc<String>,
    ends: std::sync::Arc<Vec<usize>>,
    /// Per text column (in the order asked for), its distinct values and each row's code.
    texts: Vec<(Vec<String>, Vec<u32>)>,
}

impl TextTable {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Row `row`'s id (0-based; `""` for a null or empty cell).
    #[inline]
    pub fn id(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.ids[start..self.ends[row]]
    }

    /// Text column `k`'s distinct values: `values[0]` is `""`, standing for a null or
    /// empty cell.
    pub fn values(&self, k: usize) -> &[String] {
        &self.texts[k].0
    }

    /// Text column `k`'s code of every row, an index in [`TextTable::values`].
    pub fn codes(&self, k: usize) -> &[u32] {
        &self.texts[k].1
    }
}

/// Reads the Parquet table at `path` when its columns are exactly `id` and `texts` (in
/// any order), each a text column the direct reader covers. `None` otherwise (a
/// missing, unknown or repeated column, another type, an encoding the direct reader
/// does not cover, a damaged page): the caller then reads the file with polars, which
/// reports whatever is wrong. Call it inside [`super::guarded`].
pub fn read_text_table(path: &Path, id: &str, texts: &[&str]) -> Option<TextTable> {
    let file = std::fs::File::open(path).ok()?;
    let schema = ParquetReader::new(file).schema().ok()?;
    if schema.len() != texts.len() + 1 {
        return None;
    }
    let position = |name: &str| {
        let i = schema.index_of(name)?;
        let (_, field) = schema.get_at_index(i)?;
        (arrow_kind(&field.dtype) == Kind::Text).then_some(i)
    };
    let mut wanted = vec![(position(id)?, Want::Ids)];
    for name in texts {
        wanted.push((position(name)?, Want::Text));
    }
    let table = direct::read(path, &wanted)?;
    let mut columns = table.columns.into_iter();
    let Some(Read::Ids { buf, ends, .. }) = columns.next() else {
        unreachable!("the id column is read first")
    };
    let texts = columns
        .map(|read| match read {
            Read::Text(t) => {
                let codes = match t.codes {
                    TextCodes::Rows(codes) => codes,
                    TextCodes::Deferred(d) => d.codes(t.values.len()),
                };
                (t.values, codes)
            }
            _ => unreachable!("text columns were asked for"),
        })
        .collect();
    Some(TextTable {
        rows: table.rows,
        ids: buf,
        ends,
        texts,
    })
}
