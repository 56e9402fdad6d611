//! A direct reader for Parquet fleet tables: pages are decoded straight into what the
//! loader keeps (dictionary codes per row, packed id bytes, ticks), row group by row group
//! in parallel, without building polars arrays.
//!
//! Why: polars turns every text cell into a 16-byte view, arrays that the loader reads
//! once and drops (docs/performance.md has the measurements). Here a row group's dictionary
//! page is read once, whatever the number of rows repeating its values, and a text
//! column whose pages are all dictionary-encoded (what writers produce for hardware,
//! versions, cohorts) is not decoded at all until the loader has looked each distinct
//! value up: [`Deferred::map`] then decodes it straight into the fleet's column. Other
//! text columns cost 4 bytes a row (a code) until then.
//!
//! It covers what Parquet writers produce for a flat table: PLAIN and dictionary encodings
//! (with the PLAIN fallback a writer switches to when a dictionary grows too big),
//! required or optional columns, v1 and v2 data pages, every codec polars reads. For
//! anything else (another encoding, a nested column, an unsigned 64-bit integer, invalid
//! UTF-8, a damaged page) it gives up with `None` and the caller reads the file with
//! polars, which either handles it or reports the error: so the two paths can only
//! differ in speed, which the tests in `table/tests.rs` check on every kind of column.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::{Arc, Mutex};

use polars_buffer::Buffer;
use polars_parquet::parquet::encoding::hybrid_rle::{HybridRleChunk, HybridRleDecoder};
use polars_parquet::parquet::encoding::Encoding;
use polars_parquet::parquet::metadata::{ColumnChunkMetadata, FileMetadata};
use polars_parquet::parquet::page::{
    split_buffer, CompressedPage, DataPage, DataPageHeader, DictPage,
};
use polars_parquet::parquet::read::{get_page_iterator, read_metadata, BasicDecompressor};
use polars_parquet::parquet::schema::types::PhysicalType;
use rayon::prelude::*;

use crate::fleet::{UnreadIds, NEVER_SEEN};

/// What the loader wants from a column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Want {
    /// Device ids: every row's bytes, packed.
    Ids,
    /// Device ids left in the file, read one at a time when asked for ([`UnreadIds`]).
    UnreadIds,
    /// Text: distinct values and a code per row.
    Text,
    /// Booleans (null is false).
    Bool,
    /// Integer ticks; `unsigned` for a 32-bit unsigned column (stored as `i32`).
    Tick { unsigned: bool },
}

/// A text column: `values[0]` is `""`, standing for null and the empty string, and
/// each row's code indexes `values` (the loader's `Dict`).
#[derive(Clone)]
pub(super) struct TextColumn {
    pub values: Vec<String>,
    pub codes: TextCodes,
}

/// A text column's codes: decoded, or left in the file until the loader knows what each
/// value maps to ([`Deferred`]).
#[derive(Clone)]
pub(super) enum TextCodes {
    Rows(Vec<u32>),
    Deferred(Deferred),
}

/// The codes of a column whose every page is dictionary-encoded, still in the file:
/// the loader maps each distinct value first, then [`Deferred::map`] decodes the pages
/// straight into the mapped column. A 10M-row column thus never exists as codes (40 MB
/// written, faulted in and read back once).
#[derive(Clone)]
pub(super) struct Deferred {
    file: Arc<File>,
    /// The column's index among the file's columns.
    column: usize,
    sizes: Vec<usize>,
    /// Per row group, the global code of each of its dictionary's entries.
    remaps: Vec<Vec<u32>>,
    /// Whether a row has code 0 (null or empty): every other code comes from a
    /// dictionary entry, which a row uses.
    uses_empty: bool,
}

/// A Parquet file in memory, with its metadata.
struct File {
    bytes: Buffer<u8>,
    meta: FileMetadata,
}

impl Deferred {
    /// `table[code]` for every row's code (null: code 0), decoded row group by row group
    /// in parallel.
    pub fn map<T: Copy + Send + Sync>(&self, table: &[T]) -> Vec<T> {
        let rows = self.sizes.iter().sum();
        let mut out = Vec::with_capacity(rows);
        // Written twice, but the first (parallel) pass is the one that faults the pages
        // in; a vector of a non-primitive type cannot be allocated zeroed.
        out.par_extend(rayon::iter::repeat_n(table[0], rows));
        cut(&mut out, &self.sizes)
            .into_par_iter()
            .enumerate()
            .for_each(|(g, part)| {
                let chunk = &self.file.meta.row_groups[g].parquet_columns()[self.column];
                // The group's dictionary entries mapped once; then one lookup a row.
                let mapped: Vec<T> = self.remaps[g].iter().map(|&c| table[c as usize]).collect();
                let rows = part.len();
                for_each_page(&self.file.bytes, chunk, rows, |first, indices, valid| {
                    let out = &mut part[first..first + valid.map_or(indices.len(), <[bool]>::len)];
                    match valid {
                        None => {
                            for (o, &i) in out.iter_mut().zip(indices) {
                                *o = mapped[i as usize];
                            }
                        }
                        Some(valid) => {
                            let mut indices = indices.iter();
                            for (o, &v) in out.iter_mut().zip(valid) {
                                if v {
                                    *o = mapped
                                        [*indices.next().expect("one per valid row") as usize];
                                }
                            }
                        }
                    }
                })
                .expect("the pages decoded once already, when the table was read");
            });
        out
    }

    /// Whether some row may have `code` (one that none has is not worth a decode to
    /// look for).
    pub fn may_use(&self, code: u32) -> bool {
        code != 0 || self.uses_empty
    }

    /// Every row's code.
    pub fn codes(&self, n_values: usize) -> Vec<u32> {
        let identity: Vec<u32> = (0..n_values as u32).collect();
        self.map(&identity)
    }
}

/// Whether every data page of `chunk` is dictionary-encoded (read from the page headers
/// only: nothing is decompressed).
fn dictionary_only(file: &Buffer<u8>, chunk: &ColumnChunkMetadata) -> bool {
    let Ok(pages) = get_page_iterator(chunk, Cursor::new(file.clone()), Vec::new(), MAX_PAGE)
    else {
        return false;
    };
    let mut dictionary = false;
    for page in pages {
        match page {
            Ok(CompressedPage::Dict(_)) => dictionary = true,
            Ok(CompressedPage::Data(p)) if p.header().is_dictionary_encoded() => {}
            _ => return false,
        }
    }
    dictionary
}

/// Decodes a text column chunk of `rows` rows whose data pages are all
/// dictionary-encoded: calls `page(first_row, indices, valid)` for every page (`valid`:
/// a flag per row of the page, absent when none is null; `indices` has one entry per
/// valid row, each checked against the dictionary) and returns the dictionary's values;
/// `None` if a page is of another encoding or damaged.
fn for_each_page(
    file: &Buffer<u8>,
    chunk: &ColumnChunkMetadata,
    rows: usize,
    mut page_rows: impl FnMut(usize, &[u32], Option<&[bool]>),
) -> Option<Vec<Vec<u8>>> {
    if chunk.physical_type() != PhysicalType::ByteArray {
        return None;
    }
    let (pages, dict) = ChunkPages::open(file, chunk)?;
    let dict = dict?;
    let (ranges, bytes) = plain_byte_arrays(&dict.buffer, dict.num_values)?;
    let values: Vec<Vec<u8>> = ranges.iter().map(|r| bytes[r.clone()].to_vec()).collect();
    let mut indices = Vec::new();
    pages.for_each(rows, |page| {
        if page.encoding != Encoding::RleDictionary {
            return None;
        }
        page.indices(&mut indices)?;
        if indices.iter().any(|&i| i as usize >= values.len()) {
            return None;
        }
        page_rows(page.first, &indices, page.mask);
        Some(())
    })?;
    Some(values)
}

/// A column chunk's data pages, decompressed one at a time.
struct ChunkPages {
    pages: BasicDecompressor,
    optional: bool,
}

/// One data page of a chunk, decoded as far as every column type shares.
struct PageRows<'p> {
    /// Its first row, in the chunk.
    first: usize,
    /// Its rows, and how many are not null.
    n: usize,
    present: usize,
    /// A flag per row, absent when no row is null.
    mask: Option<&'p [bool]>,
    encoding: Encoding,
    /// The encoded values (definition levels split off).
    values: &'p [u8],
}

impl PageRows<'_> {
    /// The page's dictionary indices (the bit width, then the hybrid encoding).
    fn indices(&self, out: &mut Vec<u32>) -> Option<()> {
        let (&width, data) = self.values.split_first()?;
        if width > 32 {
            return None;
        }
        hybrid_rle(data, u32::from(width), self.present, out)
    }
}

impl ChunkPages {
    /// The chunk's pages, and its dictionary page if it has one.
    fn open(
        file: &Buffer<u8>,
        chunk: &ColumnChunkMetadata,
    ) -> Option<(ChunkPages, Option<DictPage>)> {
        let pages =
            get_page_iterator(chunk, Cursor::new(file.clone()), Vec::new(), MAX_PAGE).ok()?;
        let mut pages = BasicDecompressor::new(pages, Vec::new());
        let dict = pages.read_dict_page().ok()?;
        let optional = chunk.descriptor().descriptor.max_def_level == 1;
        Some((ChunkPages { pages, optional }, dict))
    }

    /// Calls `page` for each data page, in order; `None` if a page is damaged, if the
    /// pages do not hold exactly `rows` rows, or if `page` says so.
    fn for_each(
        mut self,
        rows: usize,
        mut page: impl FnMut(PageRows<'_>) -> Option<()>,
    ) -> Option<()> {
        let mut valid: Vec<bool> = Vec::new();
        let mut row = 0;
        while let Some(item) = self.pages.next() {
            let data = item.ok()?.decompress(&mut self.pages).ok()?;
            let n = data.num_values();
            if row + n > rows {
                return None;
            }
            let present = if self.optional {
                definition_levels(&data, n, &mut valid)?
            } else {
                valid.clear();
                n
            };
            page(PageRows {
                first: row,
                n,
                present,
                mask: (!valid.is_empty()).then_some(&valid[..]),
                encoding: data.encoding(),
                values: split_buffer(&data).ok()?.values,
            })?;
            row += n;
            self.pages.reuse_page_buffer(data);
        }
        (row == rows).then_some(())
    }
}

/// A tick column: [`NEVER_SEEN`] for null, and the first row whose value does not fit
/// an `i32` tick (or is [`NEVER_SEEN`]), with the value.
#[derive(Clone)]
pub(super) struct TickColumn {
    pub ticks: Vec<i32>,
    pub out_of_range: Option<(usize, i64)>,
}

/// One column as read.
#[derive(Clone)]
pub(super) enum Read {
    /// Row `i`'s id is `buf[ends[i - 1]..ends[i]]`; `first_empty` is the first row whose
    /// id is null or empty.
    Ids {
        buf: Arc<String>,
        ends: Arc<Vec<usize>>,
        first_empty: Option<usize>,
    },
    /// The ids of [`Want::UnreadIds`].
    UnreadIds(FileIds),
    Text(TextColumn),
    Bool(Vec<bool>),
    Tick(TickColumn),
}

/// A table's device id column left in the file: [`UnreadIds::id`] decodes the row group
/// that holds the row asked for, and keeps the last group decoded (rows asked for in
/// order cost one decode per group). Nothing checks these ids (empty, repeated,
/// invalid UTF-8): the loader leaves them unread only where none of that changes an
/// answer.
#[derive(Clone)]
pub(super) struct FileIds {
    file: Arc<File>,
    /// The column's index among the file's columns.
    column: usize,
    sizes: Vec<usize>,
    /// The last group decoded.
    last: Arc<Mutex<Option<(usize, GroupIds)>>>,
}

/// A row group's ids packed, and the end of each.
type GroupIds = (String, Vec<usize>);

impl UnreadIds for FileIds {
    fn id(&self, row: usize) -> String {
        let mut first = 0;
        for (g, &n) in self.sizes.iter().enumerate() {
            if row < first + n {
                let j = row - first;
                let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                if last.as_ref().is_none_or(|(k, _)| *k != g) {
                    *last = self.decode(g).map(|ids| (g, ids));
                }
                return match last.as_ref() {
                    Some((_, (buf, ends))) => {
                        let start = if j == 0 { 0 } else { ends[j - 1] };
                        buf.get(start..ends[j]).unwrap_or_default().to_string()
                    }
                    None => String::new(), // a damaged chunk: no id to name
                };
            }
            first += n;
        }
        String::new()
    }
}

impl FileIds {
    /// The ids of row group `g` packed, and their ends (as [`read`] would give them).
    fn decode(&self, g: usize) -> Option<GroupIds> {
        let chunk = &self.file.meta.row_groups[g].parquet_columns()[self.column];
        let span = usize::try_from(chunk.uncompressed_size()).ok()?;
        let rows = self.sizes[g];
        let (mut buf, mut ends) = (vec![0u8; span], vec![0usize; rows]);
        let mut sink = ChunkOut::Ids(IdWriter::new(&mut buf, &mut ends));
        read_chunk(&self.file.bytes, chunk, rows, &mut sink)?;
        let done = vec![vec![sink.done()]];
        match merge_ids(&done, 0, buf, &[span], ends, &[rows], &[0])? {
            Read::Ids { buf, ends, .. } => {
                Some((Arc::unwrap_or_clone(buf), Arc::unwrap_or_clone(ends)))
            }
            _ => None,
        }
    }
}

/// A whole table: its row count and, for each column asked for, what was read.
#[derive(Clone)]
pub(super) struct DirectTable {
    pub rows: usize,
    pub columns: Vec<Read>,
}

/// The largest page the reader accepts (a bound against damaged headers).
const MAX_PAGE: usize = 1 << 31;

/// No value: a null cell, in a text column's codes while a row group is being read.
const NULL: u32 = u32::MAX;

/// Reads columns `wanted` (file column index, what is wanted) of the Parquet file at
/// `path`; `None` if the file holds anything this reader does not cover.
pub(super) fn read(path: &Path, wanted: &[(usize, Want)]) -> Option<DirectTable> {
    let bytes: Buffer<u8> = std::fs::read(path).ok()?.into();
    let meta = read_metadata(&mut Cursor::new(bytes.clone())).ok()?;
    let file = Arc::new(File { bytes, meta });
    let (bytes, meta) = (&file.bytes, &file.meta);
    let groups = groups(meta, wanted)?;
    // Text columns whose pages are all dictionary-encoded are decoded later, straight
    // into what the loader maps their values to ([`Deferred`]).
    let deferred: Vec<bool> = wanted
        .iter()
        .enumerate()
        .map(|(k, &(_, want))| {
            want == Want::Text
                && groups
                    .iter()
                    .all(|chunks| dictionary_only(bytes, chunks[k]))
        })
        .collect();
    let rows = meta.row_groups.iter().map(|g| g.num_rows()).sum::<usize>();
    if rows != meta.num_rows {
        return None;
    }

    // Output columns are allocated whole (zeroed pages, faulted in by whoever writes
    // them) and cut into one slice per row group, so that groups write in parallel.
    let sizes: Vec<usize> = meta.row_groups.iter().map(|g| g.num_rows()).collect();
    // Ids: each row group writes into its own span of one buffer, as long as its
    // column chunk (PLAIN values are their lengths and bytes, so the chunk's
    // uncompressed size bounds them); the spans are then closed up in place.
    let is_ids = |w: Want| matches!(w, Want::Ids | Want::UnreadIds);
    let k_ids = wanted.iter().position(|&(_, w)| is_ids(w))?;
    if wanted.iter().filter(|&&(_, w)| is_ids(w)).count() != 1 {
        return None;
    }
    let read_ids = wanted[k_ids].1 == Want::Ids;
    let spans: Vec<usize> = groups
        .iter()
        .map(|chunks| match read_ids {
            true => usize::try_from(chunks[k_ids].uncompressed_size()).ok(),
            false => Some(0),
        })
        .collect::<Option<_>>()?;
    let mut id_buf: Vec<u8> = vec![0; spans.iter().sum()];
    let mut id_ends: Vec<usize> = vec![0; if read_ids { rows } else { 0 }];
    let mut id_bufs = cut(&mut id_buf, &spans).into_iter();
    let mut id_end_parts = match read_ids {
        true => cut(&mut id_ends, &sizes),
        false => Vec::new(),
    }
    .into_iter();
    let mut codes: Vec<Vec<u32>> = Vec::new();
    let mut bools: Vec<Vec<bool>> = Vec::new();
    let mut ticks: Vec<Vec<i32>> = Vec::new();
    for (k, &(_, want)) in wanted.iter().enumerate() {
        match want {
            Want::Ids | Want::UnreadIds => {}
            Want::Text if deferred[k] => {}
            Want::Text => codes.push(vec![0; rows]),
            Want::Bool => bools.push(vec![false; rows]),
            Want::Tick { .. } => ticks.push(vec![0; rows]),
        }
    }
    let mut code_parts = codes
        .iter_mut()
        .map(|v| cut(v, &sizes).into_iter())
        .collect::<Vec<_>>();
    let mut bool_parts = bools
        .iter_mut()
        .map(|v| cut(v, &sizes).into_iter())
        .collect::<Vec<_>>();
    let mut tick_parts = ticks
        .iter_mut()
        .map(|v| cut(v, &sizes).into_iter())
        .collect::<Vec<_>>();
    let mut tasks: Vec<(usize, Vec<ChunkOut<'_>>)> = Vec::with_capacity(sizes.len());
    for g in 0..sizes.len() {
        let (mut c, mut b, mut t) = (0, 0, 0);
        let sinks = wanted
            .iter()
            .enumerate()
            .map(|(k, &(_, want))| match want {
                Want::Ids => ChunkOut::Ids(IdWriter::new(
                    id_bufs.next().expect("one span per group"),
                    id_end_parts.next().expect("one part per group"),
                )),
                Want::UnreadIds => ChunkOut::Unread,
                Want::Text if deferred[k] => ChunkOut::Dictionary(Vec::new(), false),
                Want::Text => {
                    c += 1;
                    ChunkOut::Text {
                        dict: Vec::new(),
                        index: None,
                        codes: code_parts[c - 1].next().expect("one part per group"),
                    }
                }
                Want::Bool => {
                    b += 1;
                    ChunkOut::Bool(bool_parts[b - 1].next().expect("one part per group"))
                }
                Want::Tick { unsigned } => {
                    t += 1;
                    ChunkOut::Tick {
                        out: tick_parts[t - 1].next().expect("one part per group"),
                        unsigned,
                        bad: None,
                    }
                }
            })
            .collect();
        tasks.push((g, sinks));
    }

    let done: Vec<Vec<Done>> = tasks
        .into_par_iter()
        .map(|(g, mut sinks)| {
            for (sink, chunk) in sinks.iter_mut().zip(&groups[g]) {
                read_chunk(bytes, chunk, sizes[g], sink)?;
            }
            Some(sinks.into_iter().map(ChunkOut::done).collect())
        })
        .collect::<Option<_>>()?;

    // Merge: row groups' dictionaries into one per column, ids into one buffer.
    let firsts = starts(sizes.iter().copied());
    let mut columns = Vec::with_capacity(wanted.len());
    let (mut codes, mut bools, mut ticks) =
        (codes.into_iter(), bools.into_iter(), ticks.into_iter());
    for (k, &(_, want)) in wanted.iter().enumerate() {
        columns.push(match want {
            Want::Ids => {
                let (buf, ends) = (std::mem::take(&mut id_buf), std::mem::take(&mut id_ends));
                merge_ids(&done, k, buf, &spans, ends, &sizes, &firsts)?
            }
            Want::UnreadIds => Read::UnreadIds(FileIds {
                file: file.clone(),
                column: wanted[k].0,
                sizes: sizes.clone(),
                last: Arc::default(),
            }),
            Want::Text if deferred[k] => {
                let (values, remaps) = merge_dictionaries(&done, k)?;
                let null = done
                    .iter()
                    .any(|d| matches!(d[k], Done::Dictionary(_, true)));
                // Code 0 is used by a null row, or by an empty value in a dictionary.
                let uses_empty = null || remaps.iter().flatten().any(|&c| c == 0);
                let codes = TextCodes::Deferred(Deferred {
                    file: file.clone(),
                    column: wanted[k].0,
                    sizes: sizes.clone(),
                    remaps,
                    uses_empty,
                });
                Read::Text(TextColumn { values, codes })
            }
            Want::Text => merge_text(&done, k, codes.next().expect("allocated"), &sizes)?,
            Want::Bool => Read::Bool(bools.next().expect("allocated")),
            Want::Tick { .. } => {
                let out_of_range =
                    done.iter()
                        .zip(&firsts)
                        .find_map(|(done, first)| match &done[k] {
                            Done::Tick(bad) => bad.map(|(row, t)| (first + row, t)),
                            _ => None,
                        });
                Read::Tick(TickColumn {
                    ticks: ticks.next().expect("allocated"),
                    out_of_range,
                })
            }
        });
    }
    Some(DirectTable { rows, columns })
}

/// The column chunks of each row group, in the order of `wanted`; `None` unless every
/// wanted column is a flat column of a physical type that fits what is wanted.
fn groups<'m>(
    meta: &'m FileMetadata,
    wanted: &[(usize, Want)],
) -> Option<Vec<Vec<&'m ColumnChunkMetadata>>> {
    let fields = meta.schema().fields();
    let leaves = meta.schema().columns();
    if leaves.len() != fields.len() {
        return None; // a nested column somewhere: leaf and field indices differ
    }
    for &(i, want) in wanted {
        let leaf = leaves.get(i)?;
        let d = &leaf.descriptor;
        if leaf.path_in_schema.len() != 1 || d.max_rep_level != 0 || d.max_def_level > 1 {
            return None;
        }
        let physical = d.primitive_type.physical_type;
        let fits = match want {
            Want::Ids | Want::UnreadIds | Want::Text => physical == PhysicalType::ByteArray,
            Want::Bool => physical == PhysicalType::Boolean,
            // Unsigned 8-, 16- and 32-bit columns are stored as INT32.
            Want::Tick { unsigned } => {
                physical == PhysicalType::Int32 || (physical == PhysicalType::Int64 && !unsigned)
            }
        };
        if !fits {
            return None;
        }
    }
    meta.row_groups
        .iter()
        .map(|g| {
            let chunks = g.parquet_columns();
            if chunks.len() != leaves.len() {
                return None;
            }
            Some(wanted.iter().map(|&(i, _)| &chunks[i]).collect())
        })
        .collect()
}

/// Where each of consecutive pieces of `lengths` starts (the running sum before it).
fn starts(lengths: impl Iterator<Item = usize>) -> Vec<usize> {
    lengths
        .scan(0, |at, len| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect()
}

/// `v` cut into consecutive slices of `sizes`, in order.
fn cut<'a, T>(v: &'a mut [T], sizes: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(sizes.len());
    let mut rest = v;
    for &s in sizes {
        let (part, tail) = rest.split_at_mut(s);
        parts.push(part);
        rest = tail;
    }
    parts
}

/// Where one column chunk's values go.
enum ChunkOut<'a> {
    Ids(IdWriter<'a>),
    /// A column left unread ([`Want::UnreadIds`]).
    Unread,
    /// The chunk's own dictionary (the dictionary page, then values met in PLAIN
    /// pages), and codes into it ([`NULL`] for null).
    Text {
        dict: Vec<Vec<u8>>,
        index: Option<HashMap<Vec<u8>, u32>>,
        codes: &'a mut [u32],
    },
    /// A text column left in the file ([`Deferred`]): its dictionary, its pages checked,
    /// and whether a row is null.
    Dictionary(Vec<Vec<u8>>, bool),
    Bool(&'a mut [bool]),
    /// Ticks, and the first row (in the chunk) whose value is out of range.
    Tick {
        out: &'a mut [i32],
        unsigned: bool,
        bad: Option<(usize, i64)>,
    },
}

impl ChunkOut<'_> {
    /// What is left of a sink once its row group is read, besides the rows it wrote.
    fn done(self) -> Done {
        match self {
            ChunkOut::Ids(w) => Done::Ids {
                len: w.len,
                spill: w.spill,
            },
            ChunkOut::Text { dict, .. } => Done::Text(dict),
            ChunkOut::Dictionary(dict, null) => Done::Dictionary(dict, null),
            ChunkOut::Bool(_) | ChunkOut::Unread => Done::Nothing,
            ChunkOut::Tick { bad, .. } => Done::Tick(bad),
        }
    }
}

/// A read row group's column, for the merge: local ids and dictionaries.
enum Done {
    /// The bytes a row group wrote: in its span, or all in `spill`.
    Ids {
        len: usize,
        spill: Option<Vec<u8>>,
    },
    Text(Vec<Vec<u8>>),
    /// A deferred text column's dictionary, and whether a row is null.
    Dictionary(Vec<Vec<u8>>, bool),
    /// Nothing besides the rows written (booleans), or nothing at all (unread ids).
    Nothing,
    Tick(Option<(usize, i64)>),
}

/// A row group's ids: bytes into its span of the shared buffer (or, once they outgrow
/// it, all into `spill`), and each row's end offset, relative to the span's start.
struct IdWriter<'a> {
    span: &'a mut [u8],
    len: usize,
    spill: Option<Vec<u8>>,
    ends: &'a mut [usize],
    row: usize,
}

impl<'a> IdWriter<'a> {
    /// A row group's writer into its span and its rows' ends, nothing written yet.
    fn new(span: &'a mut [u8], ends: &'a mut [usize]) -> IdWriter<'a> {
        IdWriter {
            span,
            len: 0,
            spill: None,
            ends,
            row: 0,
        }
    }

    /// Appends the `count` ids of a PLAIN page without nulls (the common case: one pass,
    /// no per-row checks when the page fits the span, short ids copied 16 bytes at a
    /// time: the span's slack, 4 bytes a row, absorbs the overrun).
    fn push_plain(&mut self, values: &[u8], count: usize) -> Option<()> {
        let fits = self.spill.is_none()
            && self.len + values.len() <= self.span.len()
            && self.row + count <= self.ends.len();
        if !fits {
            let mut at = 0;
            for _ in 0..count {
                let len = u32::from_le_bytes(values.get(at..at + 4)?.try_into().ok()?) as usize;
                self.push(Some(values.get(at + 4..at + 4 + len)?));
                at += 4 + len;
            }
            return Some(());
        }
        let span = &mut self.span[self.len..];
        let ends = &mut self.ends[self.row..self.row + count];
        let (mut at, mut out) = (0, 0);
        for end in ends {
            let len = u32::from_le_bytes(values.get(at..at + 4)?.try_into().ok()?) as usize;
            let from = at + 4;
            match (values.get(from..from + 16), span.get_mut(out..out + 16)) {
                (Some(src), Some(dst)) if len <= 16 => dst.copy_from_slice(src),
                _ => span[out..out + len].copy_from_slice(values.get(from..from + len)?),
            }
            // A length running past the page is damage: the copy above stayed in the
            // page, but the id did not.
            if from + len > values.len() {
                return None;
            }
            at = from + len;
            out += len;
            *end = self.len + out;
        }
        self.len += out;
        self.row += count;
        Some(())
    }

    /// Appends the id of the next row (`None`: null, an empty id).
    #[inline]
    fn push(&mut self, id: Option<&[u8]>) {
        if let Some(id) = id {
            let end = self.len + id.len();
            match &mut self.spill {
                None if end <= self.span.len() => self.span[self.len..end].copy_from_slice(id),
                None => {
                    // Dictionary-encoded ids can outgrow the chunk's size.
                    let mut spill = Vec::with_capacity(2 * end);
                    spill.extend_from_slice(&self.span[..self.len]);
                    spill.extend_from_slice(id);
                    self.spill = Some(spill);
                }
                Some(spill) => spill.extend_from_slice(id),
            }
            self.len = end;
        }
        self.ends[self.row] = self.len;
        self.row += 1;
    }
}

/// A dictionary page's values.
enum Dictionary {
    Bytes(Vec<std::ops::Range<usize>>, Vec<u8>),
    Ints(Vec<i64>),
}

/// Reads one column chunk of `rows` rows into `sink`.
fn read_chunk(
    file: &Buffer<u8>,
    chunk: &ColumnChunkMetadata,
    rows: usize,
    sink: &mut ChunkOut<'_>,
) -> Option<()> {
    if let ChunkOut::Unread = sink {
        return Some(());
    }
    if let ChunkOut::Dictionary(dict, null) = sink {
        *dict = for_each_page(file, chunk, rows, |_, indices, valid| {
            *null |= valid.is_some_and(|v| v.len() > indices.len());
        })?;
        return Some(());
    }
    let physical = chunk.physical_type();
    let (pages, dict) = ChunkPages::open(file, chunk)?;
    let dictionary = match dict {
        None => None,
        Some(page) => {
            let d = match physical {
                PhysicalType::ByteArray => {
                    let (ranges, bytes) = plain_byte_arrays(&page.buffer, page.num_values)?;
                    Dictionary::Bytes(ranges, bytes.to_vec())
                }
                PhysicalType::Int32 | PhysicalType::Int64 => {
                    Dictionary::Ints(plain_ints(&page.buffer, page.num_values, physical)?)
                }
                _ => return None,
            };
            if let (ChunkOut::Text { dict, .. }, Dictionary::Bytes(ranges, bytes)) =
                (&mut *sink, &d)
            {
                dict.extend(ranges.iter().map(|r| bytes[r.clone()].to_vec()));
            }
            Some(d)
        }
    };
    let mut indices: Vec<u32> = Vec::new();
    pages.for_each(rows, |page| {
        let (first, n, mask) = (page.first, page.n, page.mask);
        match page.encoding {
            Encoding::Plain => {
                plain_page(page.values, page.present, mask, first, n, physical, sink)
            }
            Encoding::PlainDictionary | Encoding::RleDictionary => {
                page.indices(&mut indices)?;
                dictionary_page(dictionary.as_ref()?, &indices, mask, first, n, sink)
            }
            Encoding::Rle if physical == PhysicalType::Boolean => {
                // RLE booleans: a 4-byte length, then the hybrid encoding at width 1.
                let data = page.values.get(4..)?;
                hybrid_rle(data, 1, page.present, &mut indices)?;
                let ChunkOut::Bool(out) = &mut *sink else {
                    return None;
                };
                scatter(&indices, mask, first, n, |i, v| out[i] = v == Some(&1));
                Some(())
            }
            _ => None,
        }
    })
}

/// Decodes an optional column's definition levels into `valid` (a flag per value of
/// the page) and returns how many values are present.
fn definition_levels(page: &DataPage, n: usize, valid: &mut Vec<bool>) -> Option<usize> {
    if let DataPageHeader::V1(_) = page.header() {
        if page.definition_level_encoding() != Encoding::Rle {
            return None;
        }
    }
    let def = split_buffer(page).ok()?.def;
    valid.clear();
    valid.reserve(n);
    let mut levels = HybridRleDecoder::new(def, 1, n);
    let mut scratch = Vec::new();
    while let Some(chunk) = levels.next_chunk().ok()? {
        match chunk {
            HybridRleChunk::Rle(v, len) => valid.resize(valid.len() + len, v == 1),
            HybridRleChunk::Bitpacked(d) => {
                scratch.clear();
                d.collect_into(&mut scratch);
                valid.extend(scratch.iter().map(|&v| v == 1));
            }
        }
    }
    if valid.len() != n {
        return None;
    }
    let present = valid.iter().filter(|&&v| v).count();
    if present == n {
        valid.clear(); // no null: the callers' faster path
    }
    Some(present)
}

/// Decodes `n` values of the hybrid RLE / bit-packed encoding into `out`.
fn hybrid_rle(data: &[u8], width: u32, n: usize, out: &mut Vec<u32>) -> Option<()> {
    out.clear();
    out.reserve(n);
    let mut decoder = HybridRleDecoder::new(data, width, n);
    while let Some(chunk) = decoder.next_chunk().ok()? {
        match chunk {
            HybridRleChunk::Rle(v, len) => out.resize(out.len() + len, v),
            HybridRleChunk::Bitpacked(d) => d.collect_into(out),
        }
    }
    (out.len() == n).then_some(())
}

/// Calls `put(row, value)` for the `n` rows of a page starting at `first`: present rows
/// take `values` in order, null rows take `None`.
#[inline]
fn scatter<T>(
    values: &[T],
    mask: Option<&[bool]>,
    first: usize,
    n: usize,
    mut put: impl FnMut(usize, Option<&T>),
) {
    match mask {
        None => values
            .iter()
            .enumerate()
            .for_each(|(i, v)| put(first + i, Some(v))),
        Some(mask) => {
            let mut values = values.iter();
            for (i, &valid) in mask.iter().enumerate().take(n) {
                put(first + i, if valid { values.next() } else { None });
            }
        }
    }
}

/// The ranges of `n` PLAIN byte arrays (a 4-byte length, then the bytes) in `data`.
fn plain_byte_arrays(data: &[u8], n: usize) -> Option<(Vec<std::ops::Range<usize>>, &[u8])> {
    let mut ranges = Vec::with_capacity(n);
    let mut at = 0;
    for _ in 0..n {
        let len = u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        if at + len > data.len() {
            return None;
        }
        ranges.push(at..at + len);
        at += len;
    }
    Some((ranges, data))
}

/// `n` PLAIN integers of `physical` type, as `i64`.
fn plain_ints(data: &[u8], n: usize, physical: PhysicalType) -> Option<Vec<i64>> {
    match physical {
        PhysicalType::Int32 => {
            let data = data.get(..n * 4)?;
            Some(
                data.chunks_exact(4)
                    .map(|b| i32::from_le_bytes(b.try_into().unwrap()) as i64)
                    .collect(),
            )
        }
        PhysicalType::Int64 => {
            let data = data.get(..n * 8)?;
            Some(
                data.chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// A tick from a stored integer: a 32-bit unsigned column stores its values as `i32`.
#[inline]
fn int_value(v: i64, unsigned: bool) -> i64 {
    if unsigned {
        v as i32 as u32 as i64
    } else {
        v
    }
}

/// Stores tick `v` at `row` (a row of the chunk), noting the first out-of-range one.
#[inline]
fn put_tick(out: &mut [i32], bad: &mut Option<(usize, i64)>, row: usize, v: Option<i64>) {
    out[row] = match v {
        None => NEVER_SEEN,
        Some(t) => match i32::try_from(t) {
            Ok(t) if t != NEVER_SEEN => t,
            _ => {
                if bad.is_none() {
                    *bad = Some((row, t));
                }
                NEVER_SEEN
            }
        },
    };
}

/// A PLAIN data page: `present` values for `n` rows starting at `first`.
fn plain_page(
    values: &[u8],
    present: usize,
    mask: Option<&[bool]>,
    first: usize,
    n: usize,
    physical: PhysicalType,
    sink: &mut ChunkOut<'_>,
) -> Option<()> {
    match sink {
        ChunkOut::Ids(w) if mask.is_none() => w.push_plain(values, present)?,
        ChunkOut::Ids(w) => {
            let (ranges, data) = plain_byte_arrays(values, present)?;
            scatter(&ranges, mask, first, n, |_, r| {
                w.push(r.map(|r| &data[r.clone()]))
            });
        }
        ChunkOut::Text { dict, index, codes } => {
            let (ranges, data) = plain_byte_arrays(values, present)?;
            let index = index.get_or_insert_with(|| {
                dict.iter()
                    .enumerate()
                    .map(|(c, v)| (v.clone(), c as u32))
                    .collect()
            });
            scatter(&ranges, mask, first, n, |row, r| {
                codes[row] = match r {
                    None => NULL,
                    Some(r) => {
                        let v = &data[r.clone()];
                        match index.get(v) {
                            Some(&c) => c,
                            None => {
                                let c = dict.len() as u32;
                                dict.push(v.to_vec());
                                index.insert(v.to_vec(), c);
                                c
                            }
                        }
                    }
                };
            });
        }
        // Read whole by `for_each_page`, or not at all.
        ChunkOut::Dictionary(..) | ChunkOut::Unread => return None,
        ChunkOut::Bool(out) => {
            let data = values.get(..present.div_ceil(8))?;
            let bits: Vec<bool> = (0..present)
                .map(|i| data[i / 8] >> (i % 8) & 1 == 1)
                .collect();
            scatter(&bits, mask, first, n, |row, v| out[row] = v == Some(&true));
        }
        ChunkOut::Tick { out, unsigned, bad } => {
            let ints = plain_ints(values, present, physical)?;
            let unsigned = *unsigned;
            scatter(&ints, mask, first, n, |row, v| {
                put_tick(out, bad, row, v.map(|&v| int_value(v, unsigned)))
            });
        }
    }
    Some(())
}

/// A dictionary-encoded data page: `indices` into the chunk's dictionary.
fn dictionary_page(
    dictionary: &Dictionary,
    indices: &[u32],
    mask: Option<&[bool]>,
    first: usize,
    n: usize,
    sink: &mut ChunkOut<'_>,
) -> Option<()> {
    let size = match dictionary {
        Dictionary::Bytes(ranges, _) => ranges.len(),
        Dictionary::Ints(ints) => ints.len(),
    };
    if indices.iter().any(|&i| i as usize >= size) {
        return None;
    }
    match (sink, dictionary) {
        (ChunkOut::Ids(w), Dictionary::Bytes(ranges, data)) => {
            scatter(indices, mask, first, n, |_, i| {
                w.push(i.map(|&i| &data[ranges[i as usize].clone()]))
            });
        }
        (ChunkOut::Text { codes, .. }, Dictionary::Bytes(..)) => {
            // The dictionary page's values are the first entries of the chunk's own.
            match mask {
                None => codes[first..first + n].copy_from_slice(indices),
                Some(_) => scatter(indices, mask, first, n, |row, i| {
                    codes[row] = i.copied().unwrap_or(NULL)
                }),
            }
        }
        (ChunkOut::Tick { out, unsigned, bad }, Dictionary::Ints(ints)) => {
            let unsigned = *unsigned;
            // Each dictionary value once: its tick, or NEVER_SEEN and out of range.
            let mut ticks = vec![0; ints.len()];
            let mut out_of_range = vec![false; ints.len()];
            for (k, &v) in ints.iter().enumerate() {
                let mut none = None;
                put_tick(&mut ticks, &mut none, k, Some(int_value(v, unsigned)));
                out_of_range[k] = none.is_some();
            }
            match mask {
                None => {
                    for (o, &i) in out[first..first + n].iter_mut().zip(indices) {
                        *o = ticks[i as usize];
                    }
                }
                Some(_) => scatter(indices, mask, first, n, |row, i| {
                    out[row] = i.map_or(NEVER_SEEN, |&i| ticks[i as usize])
                }),
            }
            if bad.is_none() && out_of_range.contains(&true) {
                // The error path: the first row of the page holding such a value.
                scatter(indices, mask, first, n, |row, i| {
                    if let Some(&i) = i.filter(|&&i| out_of_range[i as usize]) {
                        if bad.is_none() {
                            *bad = Some((row, int_value(ints[i as usize], unsigned)));
                        }
                    }
                });
            }
        }
        _ => return None,
    }
    Some(())
}

/// Column `k`'s ids of every row group closed up into one buffer: `buf` holds each
/// group's bytes at the start of its span (of `spans` bytes), `ends` each row's end
/// relative to its group's span (groups of `sizes` rows, starting at rows `firsts`).
fn merge_ids(
    done: &[Vec<Done>],
    k: usize,
    mut buf: Vec<u8>,
    spans: &[usize],
    mut ends: Vec<usize>,
    sizes: &[usize],
    firsts: &[usize],
) -> Option<Read> {
    let parts: Vec<(usize, Option<&Vec<u8>>)> = done
        .iter()
        .map(|d| match &d[k] {
            Done::Ids { len, spill } => (*len, spill.as_ref()),
            _ => unreachable!("an ids column"),
        })
        .collect();
    let starts = starts(parts.iter().map(|&(len, _)| len));
    let total = parts.iter().map(|&(len, _)| len).sum();
    if parts.iter().all(|(_, spill)| spill.is_none()) {
        // Close the spans up, left to right: every group moves towards the start.
        let mut span_start = 0;
        for (g, &(len, _)) in parts.iter().enumerate() {
            buf.copy_within(span_start..span_start + len, starts[g]);
            span_start += spans[g];
        }
        buf.truncate(total);
        buf.shrink_to_fit();
    } else {
        let mut all = vec![0u8; total];
        let mut span_start = 0;
        for (g, &(len, spill)) in parts.iter().enumerate() {
            let bytes = match spill {
                Some(spill) => &spill[..],
                None => &buf[span_start..span_start + len],
            };
            all[starts[g]..starts[g] + len].copy_from_slice(bytes);
            span_start += spans[g];
        }
        buf = all;
    }
    let buf = String::from_utf8(buf).ok()?;
    // Rebase the ends, check that each cuts the text between characters, and find
    // the first empty id, group by group.
    let groups: Vec<Option<Option<usize>>> = cut(&mut ends, sizes)
        .into_par_iter()
        .zip(starts)
        .zip(firsts)
        .map(|((part, start), first_row)| {
            let mut previous = start;
            let mut empty = None;
            for (row, e) in part.iter_mut().enumerate() {
                *e += start;
                if !buf.is_char_boundary(*e) {
                    return None;
                }
                if *e == previous && empty.is_none() {
                    empty = Some(first_row + row);
                }
                previous = *e;
            }
            Some(empty)
        })
        .collect();
    let first_empty = groups
        .into_iter()
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .flatten()
        .next();
    Some(Read::Ids {
        buf: Arc::new(buf),
        ends: Arc::new(ends),
        first_empty,
    })
}

/// Column `k`'s dictionaries of every row group merged into one, and `codes` remapped
/// to it.
fn merge_text(done: &[Vec<Done>], k: usize, mut codes: Vec<u32>, sizes: &[usize]) -> Option<Read> {
    let (values, remaps) = merge_dictionaries(done, k)?;
    cut(&mut codes, sizes)
        .into_par_iter()
        .zip(remaps)
        .for_each(|(part, remap)| {
            for c in part {
                *c = if *c == NULL { 0 } else { remap[*c as usize] };
            }
        });
    Some(Read::Text(TextColumn {
        values,
        codes: TextCodes::Rows(codes),
    }))
}

/// Column `k`'s dictionaries of every row group merged into one (`""` first, then
/// values in order of first appearance), with each group's map from its entries to the
/// merged codes; `None` if a value is not UTF-8.
fn merge_dictionaries(done: &[Vec<Done>], k: usize) -> Option<(Vec<String>, Vec<Vec<u32>>)> {
    let mut values = vec![String::new()];
    let mut by_value: HashMap<String, u32> = HashMap::from([(String::new(), 0)]);
    let mut remaps: Vec<Vec<u32>> = Vec::with_capacity(done.len());
    for d in done {
        let (Done::Text(dict) | Done::Dictionary(dict, _)) = &d[k] else {
            unreachable!("a text column")
        };
        let mut remap = Vec::with_capacity(dict.len());
        for v in dict {
            let v = std::str::from_utf8(v).ok()?;
            let code = match by_value.get(v) {
                Some(&c) => c,
                None => {
                    let c = values.len() as u32;
                    values.push(v.to_string());
                    by_value.insert(v.to_string(), c);
                    c
                }
            };
            remap.push(code);
        }
        remaps.push(remap);
    }
    Some((values, remaps))
}
