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
//! bulk ([`Fleet::push_many`], [`Fleet::push_packed`]); no string is built per row. A
//! Parquet table is read by the direct reader ([`super::parquet`]) when it can: Parquet's
//! own dictionary pages become the dictionaries, and the ids land in the fleet's packed
//! store without a copy per row; polars reads what it does not cover. Errors are collected per
//! distinct value and then placed at the first row that has one, so that the message is
//! the one a row-by-row reader ([`RowInterner`]) gives: the first bad row, and in it the
//! first bad cell in the order device id, hardware version, software type, software
//! version, cohort, project key, staged, release override, last seen, then a duplicate id.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::{
    ArrowDataType, CsvReadOptions, DataFrame, DataType, ParquetReader, SerReader, Series,
    StringChunked,
};
use rayon::prelude::*;

use super::parquet::{self, DirectTable, TextCodes, Want};
use super::ScenarioError;
use crate::catalog::{did_you_mean, Catalog};
use crate::fleet::{DeviceColumns, DeviceReport, Fleet, NewDevice, NEVER_SEEN};
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

const DEVICE_ID: usize = 0;
const HARDWARE: usize = 1;
const VERSION: usize = 2;
const COHORT: usize = 3;
const SOFTWARE_TYPE: usize = 4;
const PROJECT_KEY: usize = 5;
const STAGED: usize = 6;
const OVERRIDE: usize = 7;
const LAST_SEEN: usize = 8;

/// The columns that may hold text (besides the device id).
const TEXT_COLUMNS: [usize; 7] = [
    HARDWARE,
    VERSION,
    COHORT,
    SOFTWARE_TYPE,
    PROJECT_KEY,
    STAGED,
    OVERRIDE,
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
///
/// The format follows the extension: `.csv`, or `.parquet` / `.pq`. On an error the
/// fleet is unchanged (the catalog may have gained hardware versions and versions).
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
        Some("parquet") | Some("pq") => super::parquet_guard::guarded(path, || {
            read_parquet(path, catalog, fleet, Reader::Direct)
        }),
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
/// `line` is where the header is (1 for CSV, none for Parquet).
pub fn map_columns(
    path: &Path,
    line: Option<usize>,
    header: &[&str],
) -> Result<[Option<usize>; 9], ScenarioError> {
    let mut pos = [None; 9];
    for (i, name) in header.iter().enumerate() {
        // A UTF-8 byte order mark (spreadsheet exports) is not part of the first name.
        let name = name.trim_start_matches('\u{feff}').trim();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(c) if pos[c].is_some() => {
                return Err(table_error(
                    path,
                    line,
                    format!("column \"{name}\" appears twice"),
                ))
            }
            Some(c) => pos[c] = Some(i),
            None => {
                return Err(table_error(
                    path,
                    line,
                    format!(
                        "unknown column \"{name}\"{} (columns: {})",
                        did_you_mean(name, COLUMNS),
                        COLUMNS.join(", ")
                    ),
                ))
            }
        }
    }
    for (c, required) in COLUMNS[..3].iter().enumerate() {
        if pos[c].is_none() {
            return Err(table_error(
                path,
                line,
                format!("missing required column \"{required}\""),
            ));
        }
    }
    Ok(pos)
}

/// Which reader decodes a Parquet table: the direct one ([`parquet`]) where it can,
/// or polars alone (tests compare the two).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
enum Reader {
    Direct,
    Polars,
}

fn read_parquet(
    path: &Path,
    catalog: &mut Catalog,
    fleet: &mut Fleet,
    reader_choice: Reader,
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
    let plan = direct_plan(&schema, &pos);
    let table = Table {
        path,
        format: Format::Parquet,
    };
    if let (Reader::Direct, Some((wanted, which))) = (reader_choice, plan) {
        if let Some(direct) = parquet::read(path, &wanted) {
            return table.load_direct(direct, &which, catalog, fleet);
        }
    }
    let df = reader.finish().map_err(|e| {
        table_error(
            path,
            None,
            format!("cannot read fleet table as Parquet: {}", polars_message(&e)),
        )
    })?;
    table.load(&df, &pos, catalog, fleet)
}

/// What the direct reader reads: (file column, what is wanted) pairs, and the
/// [`COLUMNS`] index of each.
type DirectPlan = (Vec<(usize, Want)>, Vec<usize>);

/// What the direct reader is to read of a table whose columns are at `pos` in
/// `schema`; `None` when a column is of a type it leaves to polars (an all-null column,
/// an unsigned 64-bit integer, text ticks).
fn direct_plan(
    schema: &polars::prelude::ArrowSchema,
    pos: &[Option<usize>; 9],
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
            (Kind::Text, _) if c == DEVICE_ID => Want::Ids,
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

fn read_csv(path: &Path, catalog: &mut Catalog, fleet: &mut Fleet) -> Result<(), ScenarioError> {
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
    let df = CsvReadOptions::default()
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
    let table = Table {
        path,
        format: Format::Csv,
    };
    table.load(&df, &pos, catalog, fleet)
}

/// The first line of `path` that is not well-formed CSV (e.g. a record with more or
/// fewer fields than the header), found by re-reading it with the strict `csv` reader.
#[cold]
fn csv_structure_error(path: &Path) -> Option<ScenarioError> {
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
fn csv_line_of_row(path: &Path, row: usize) -> Option<usize> {
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

/// A polars error as one line.
fn polars_message(e: &polars::error::PolarsError) -> String {
    let text = e.to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.trim().to_string()
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

/// The table being read, for placing errors.
struct Table<'a> {
    path: &'a Path,
    format: Format,
}

/// The checks of one row, in the order a row-by-row reader makes them: of two errors in
/// one row, the earlier check is reported. A duplicate id comes after all of them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Check {
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
struct FirstError(Option<(usize, Check, String)>);

impl FirstError {
    fn note(&mut self, row: usize, check: Check, message: impl FnOnce() -> String) {
        if self
            .0
            .as_ref()
            .is_none_or(|(r, c, _)| (row, check) < (*r, *c))
        {
            self.0 = Some((row, check, message()));
        }
    }
}

/// A text column reduced to its distinct values: `values[0]` is `""`, standing for null
/// and for the empty string, and each row's code indexes `values`.
struct Dict<'a> {
    values: Vec<&'a str>,
    codes: Codes,
}

/// A [`Dict`]'s codes: one per row, or still in a Parquet file, decoded only when they
/// are mapped to what the values resolve to ([`map_codes`]).
enum Codes {
    Rows(Vec<u32>),
    Deferred(parquet::Deferred),
}

impl Dict<'_> {
    /// Every row's code (decoded, for a deferred column).
    fn rows(&self) -> std::borrow::Cow<'_, [u32]> {
        match &self.codes {
            Codes::Rows(codes) => std::borrow::Cow::Borrowed(codes),
            Codes::Deferred(d) => std::borrow::Cow::Owned(d.codes(self.values.len())),
        }
    }
}

/// Builds a [`Dict`]; strings are hashed once per row at most, and not at all when a row
/// repeats the row before it.
struct DictBuilder<'a> {
    values: Vec<&'a str>,
    by_str: HashMap<&'a str, u32, hashbrown::DefaultHashBuilder>,
    /// Strings of up to 12 bytes live inside their 16-byte view, so the view is the
    /// string: hashing it as a `u128` is cheaper than hashing the `&str`.
    by_view: HashMap<u128, u32, hashbrown::DefaultHashBuilder>,
    codes: Vec<u32>,
}

impl<'a> DictBuilder<'a> {
    fn new(rows: usize) -> DictBuilder<'a> {
        let mut by_str = HashMap::default();
        by_str.insert("", 0);
        DictBuilder {
            values: vec![""],
            by_str,
            by_view: HashMap::default(),
            codes: Vec::with_capacity(rows),
        }
    }

    fn code_of(&mut self, s: &'a str) -> u32 {
        if let Some(&c) = self.by_str.get(s) {
            return c;
        }
        let c = self.values.len() as u32;
        self.values.push(s);
        self.by_str.insert(s, c);
        c
    }

    fn finish(self) -> Dict<'a> {
        Dict {
            values: self.values,
            codes: Codes::Rows(self.codes),
        }
    }
}

fn string_dict(ca: &StringChunked) -> Dict<'_> {
    let mut b = DictBuilder::new(ca.len());
    if ca.null_count() > 0 {
        for s in ca.iter() {
            let c = b.code_of(s.unwrap_or(""));
            b.codes.push(c);
        }
        return b.finish();
    }
    let mut last: Option<(u128, u32)> = None;
    for arr in ca.downcast_iter() {
        for (view, s) in arr.views().iter().zip(arr.values_iter()) {
            let c = if view.length <= 12 {
                let key = view.as_u128();
                match last {
                    Some((k, c)) if k == key => c,
                    _ => {
                        let c = match b.by_view.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = b.code_of(s);
                                b.by_view.insert(key, c);
                                c
                            }
                        };
                        last = Some((key, c));
                        c
                    }
                }
            } else {
                b.code_of(s)
            };
            b.codes.push(c);
        }
    }
    b.finish()
}

/// A categorical column: its codes are remapped through a table, one string lookup per
/// category.
fn categorical_dict(series: &Series) -> Result<Dict<'_>, String> {
    let mapping = series.dtype().cat_mapping().map_err(|e| e.to_string())?;
    let physical = series
        .to_physical_repr()
        .cast(&DataType::UInt32)
        .map_err(|e| e.to_string())?;
    let physical = physical.u32().map_err(|e| e.to_string())?;
    let mut b = DictBuilder::new(series.len());
    let mut remap = vec![u32::MAX; mapping.num_cats_upper_bound()];
    for cat in physical.iter() {
        let c = match cat {
            None => 0,
            Some(cat) => match remap.get(cat as usize) {
                Some(&c) if c != u32::MAX => c,
                _ => {
                    let c = b.code_of(mapping.cat_to_str(cat).unwrap_or(""));
                    if let Some(slot) = remap.get_mut(cat as usize) {
                        *slot = c;
                    }
                    c
                }
            },
        };
        b.codes.push(c);
    }
    Ok(b.finish())
}

fn dict(series: &Series) -> Result<Dict<'_>, String> {
    match series.dtype() {
        DataType::String => Ok(string_dict(series.str().map_err(|e| e.to_string())?)),
        _ => categorical_dict(series),
    }
}

/// `n` copies of `value`, written in parallel (a column of a 10M-row table).
fn repeat<T: Copy + Send + Sync>(value: T, n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.par_extend(rayon::iter::repeat_n(value, n));
    v
}

fn map_codes<T: Copy + Send + Sync>(dict: &Dict<'_>, table: &[T]) -> Vec<T> {
    match &dict.codes {
        Codes::Rows(codes) => codes
            .par_iter()
            .with_min_len(1 << 16)
            .map(|&c| table[c as usize])
            .collect(),
        Codes::Deferred(d) => d.map(table),
    }
}

/// What a column holds, as far as a fleet table cares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Int,
    /// All null (polars' `Null` type): read as absent cells.
    Null,
    Temporal,
    Other,
}

fn polars_kind(dtype: &DataType) -> Kind {
    match dtype {
        _ if is_text(dtype) => Kind::Text,
        DataType::Boolean => Kind::Bool,
        DataType::Null => Kind::Null,
        _ if dtype.is_integer() => Kind::Int,
        _ if dtype.is_temporal() => Kind::Temporal,
        _ => Kind::Other,
    }
}

fn arrow_kind(dtype: &ArrowDataType) -> Kind {
    use ArrowDataType as A;
    match dtype {
        A::Utf8 | A::LargeUtf8 | A::Utf8View => Kind::Text,
        A::Dictionary(_, values, _) if arrow_kind(values) == Kind::Text => Kind::Text,
        A::Boolean => Kind::Bool,
        A::Null => Kind::Null,
        A::Int8 | A::Int16 | A::Int32 | A::Int64 => Kind::Int,
        A::UInt8 | A::UInt16 | A::UInt32 | A::UInt64 => Kind::Int,
        A::Timestamp(..) | A::Date32 | A::Date64 | A::Time32(_) | A::Time64(_) => Kind::Temporal,
        _ => Kind::Other,
    }
}

/// A Parquet (Arrow) type as a person reads it.
fn arrow_type_name(dtype: &ArrowDataType) -> String {
    use ArrowDataType as A;
    match dtype {
        A::Int8 => "i8".into(),
        A::Int16 => "i16".into(),
        A::Int32 => "i32".into(),
        A::Int64 => "i64".into(),
        A::Int128 => "i128".into(),
        A::UInt8 => "u8".into(),
        A::UInt16 => "u16".into(),
        A::UInt32 => "u32".into(),
        A::UInt64 => "u64".into(),
        A::UInt128 => "u128".into(),
        A::Boolean => "bool".into(),
        A::Utf8 | A::LargeUtf8 | A::Utf8View => "str".into(),
        A::Timestamp(unit, _) => format!("timestamp[{unit:?}]").to_lowercase(),
        A::Date32 | A::Date64 => "date".into(),
        A::Time32(_) | A::Time64(_) => "time".into(),
        A::Float16 | A::Float32 => "f32".into(),
        A::Float64 => "f64".into(),
        A::Binary | A::LargeBinary | A::BinaryView | A::FixedSizeBinary(_) => "binary".into(),
        A::Decimal(..) | A::Decimal32(..) | A::Decimal64(..) | A::Decimal256(..) => {
            "decimal".into()
        }
        A::List(_) | A::LargeList(_) | A::FixedSizeList(..) => "list".into(),
        A::Struct(_) => "struct".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Whether column `c` of [`COLUMNS`] may hold `kind`.
fn accepts(c: usize, kind: Kind) -> bool {
    match c {
        STAGED => matches!(kind, Kind::Text | Kind::Bool | Kind::Null),
        LAST_SEEN => matches!(kind, Kind::Text | Kind::Int | Kind::Null),
        _ => matches!(kind, Kind::Text | Kind::Null),
    }
}

fn type_message(c: usize, name: &str, type_name: &str) -> String {
    let expected = match c {
        STAGED => "a boolean, or text (true/false)",
        LAST_SEEN => "an integer (a tick number)",
        _ => "text (string or categorical)",
    };
    let hint = if c == LAST_SEEN
        && ["timestamp", "date", "time", "datetime"]
            .iter()
            .any(|t| type_name.starts_with(t))
    {
        " (last_seen is a tick number since the scenario start: convert timestamps to ticks first)"
    } else {
        ""
    };
    format!("column \"{name}\" has type {type_name}; expected {expected}{hint}")
}

/// Whether a column holds text (strings or categoricals).
fn is_text(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::String | DataType::Categorical(..) | DataType::Enum(..)
    )
}

/// Looks every distinct value of `dict` up once with `resolve` (code 0, null or empty,
/// included) and notes the first row whose value failed.
fn resolve_dict<T: Copy>(
    dict: &Dict<'_>,
    fallback: T,
    errors: &mut FirstError,
    mut resolve: impl FnMut(&str) -> Result<T, (Check, String)>,
) -> Vec<T> {
    let mut table = Vec::with_capacity(dict.values.len());
    let mut failed: Vec<Option<(Check, String)>> = Vec::new();
    for (code, value) in dict.values.iter().enumerate() {
        match resolve(value) {
            Ok(t) => table.push(t),
            Err(e) => {
                table.push(fallback);
                failed.resize(dict.values.len(), None);
                failed[code] = Some(e);
            }
        }
    }
    let used = |c: usize| match &dict.codes {
        Codes::Rows(_) => true,
        Codes::Deferred(d) => d.may_use(c as u32),
    };
    if failed
        .iter()
        .enumerate()
        .any(|(c, f)| f.is_some() && used(c))
    {
        let codes = dict.rows();
        if let Some(row) = codes.iter().position(|&c| failed[c as usize].is_some()) {
            let (check, message) = failed[codes[row] as usize].take().unwrap();
            errors.note(row, check, || message);
        }
    }
    table
}

/// Resolves a column whose values depend on the row's software type (versions and
/// release overrides): one lookup per distinct (software type, value) pair.
fn resolve_per_type<T: Copy + Send + Sync>(
    dict: &Dict<'_>,
    types: Option<&[Option<SoftwareTypeId>]>,
    fallback: T,
    errors: &mut FirstError,
    mut resolve: impl FnMut(SoftwareTypeId, &str) -> Result<T, (Check, String)>,
) -> Vec<T> {
    let Some(types) = types else {
        let table = resolve_dict(dict, fallback, errors, |v| resolve(SoftwareTypeId(0), v));
        return map_codes(dict, &table);
    };
    let mut memo: HashMap<(SoftwareTypeId, u32), Result<T, (Check, String)>> = HashMap::new();
    let codes = dict.rows();
    let mut out = Vec::with_capacity(codes.len());
    for (row, (&code, &st)) in codes.iter().zip(types).enumerate() {
        // A row with an unknown software type already has its error.
        let Some(st) = st else {
            out.push(fallback);
            continue;
        };
        let r = memo
            .entry((st, code))
            .or_insert_with(|| resolve(st, dict.values[code as usize]));
        match r {
            Ok(t) => out.push(*t),
            Err((check, message)) => {
                errors.note(row, *check, || message.clone());
                out.push(fallback);
            }
        }
    }
    out
}

fn parse_staged(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" => Ok(false),
        "true" | "1" | "yes" => Ok(true),
        other => Err(format!("staged \"{other}\" is not true or false")),
    }
}

fn parse_last_seen(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("last_seen \"{text}\" is not a tick number"))
}

/// A tick as the fleet keeps it (an `i32`, [`NEVER_SEEN`] for none: what
/// [`Fleet::push`] accepts), or an error noted for `row`.
#[inline]
fn tick(row: usize, t: Option<i64>, errors: &mut FirstError) -> i32 {
    let Some(t) = t else { return NEVER_SEEN };
    match i32::try_from(t) {
        Ok(t) if t != NEVER_SEEN => t,
        _ => {
            errors.note(row, Check::LastSeenRange, || {
                format!("last_seen {t} is out of range")
            });
            NEVER_SEEN
        }
    }
}

impl Table<'_> {
    /// An error at 0-based data row `row`.
    #[cold]
    fn row_error(&self, row: usize, message: String) -> ScenarioError {
        match self.format {
            Format::Csv => table_error(
                self.path,
                Some(csv_line_of_row(self.path, row).unwrap_or(row + 2)),
                message,
            ),
            Format::Parquet => table_error(self.path, None, format!("row {}: {message}", row + 1)),
        }
    }

    /// Turns a whole table read by polars into devices and adds them to `fleet`.
    fn load(
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

    /// Turns a table read by [`parquet::read`] (`columns[k]` being column `which[k]` of
    /// [`COLUMNS`]) into devices and adds them to `fleet`.
    fn load_direct(
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
                parquet::Read::Ids {
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
                parquet::Read::Text(t) => texts.push((c, t)),
                parquet::Read::Bool(b) => staged = Some(b),
                parquet::Read::Tick(t) => {
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

    /// Checks every cell and adds the devices to `fleet`; the first bad cell is the error.
    fn load_cells(
        &self,
        cells: Cells<'_>,
        catalog: &mut Catalog,
        fleet: &mut Fleet,
    ) -> Result<(), ScenarioError> {
        let Cells {
            rows: n,
            ids,
            dicts,
            staged,
            last_seen,
            mut errors,
        } = cells;
        let get = |c: usize| dicts.iter().find(|(k, _)| *k == c).map(|(_, d)| d);
        // Device ids: present and non-empty.
        if let Some(row) = ids.first_empty() {
            errors.note(row, Check::DeviceId, || "device_id is empty".to_string());
        }
        let hardware_table = resolve_dict(
            get(HARDWARE).expect("required column"),
            HardwareId(0),
            &mut errors,
            |h| {
                if h.is_empty() {
                    return Err((Check::HardwareEmpty, "hardware_version is empty".into()));
                }
                catalog
                    .intern_hardware(h)
                    .map_err(|e| (Check::Hardware, e.to_string()))
            },
        );
        let types: Option<Vec<Option<SoftwareTypeId>>> = get(SOFTWARE_TYPE).map(|d| {
            let table = resolve_dict(d, None, &mut errors, |t| {
                if t.is_empty() {
                    return Ok(Some(SoftwareTypeId(0)));
                }
                catalog
                    .need_software_type(t)
                    .map(Some)
                    .map_err(|e| (Check::SoftwareType, e.to_string()))
            });
            map_codes(d, &table)
        });
        let version = resolve_per_type(
            get(VERSION).expect("required column"),
            types.as_deref(),
            VersionId(0),
            &mut errors,
            |st, v| {
                catalog
                    .intern_version(st, v)
                    .map_err(|e| (Check::Version, e.to_string()))
            },
        );
        let cohort_table = get(COHORT).map(|d| {
            resolve_dict(d, CohortId(0), &mut errors, |c| {
                if c.is_empty() {
                    return Ok(CohortId(0));
                }
                catalog
                    .need_cohort(c)
                    .map_err(|e| (Check::Cohort, e.to_string()))
            })
        });
        let key_table = get(PROJECT_KEY).map(|d| {
            resolve_dict(d, None, &mut errors, |k| {
                if k.is_empty() {
                    return Ok(None);
                }
                catalog
                    .need_project_key(k)
                    .map(Some)
                    .map_err(|e| (Check::ProjectKey, e.to_string()))
            })
        });
        let staged: Option<Vec<bool>> = match staged {
            Some(b) => Some(b),
            None => get(STAGED).map(|d| {
                let table = resolve_dict(d, false, &mut errors, |t| {
                    parse_staged(t).map_err(|m| (Check::Staged, m))
                });
                map_codes(d, &table)
            }),
        };
        let release_override = get(OVERRIDE).map(|d| {
            resolve_per_type(d, types.as_deref(), None, &mut errors, |st, r| {
                if r.is_empty() {
                    return Ok(None);
                }
                let id = catalog
                    .find_release(st, r)
                    .map_err(|e| (Check::Override, format!("release_override: {e}")))?;
                catalog
                    .check_override(id, st)
                    .map_err(|e| (Check::Override, e.to_string()))?;
                Ok(Some(id))
            })
        });

        if let Some((row, check, message)) = errors.0.take() {
            // A duplicate id before the bad row is what a row-by-row reader would meet
            // first.
            if let Some(dup) = ids.first_duplicate(row, fleet) {
                return Err(self.row_error(
                    dup,
                    format!("device \"{}\" is defined twice", ids.cell(dup)),
                ));
            }
            let message = if check == Check::DeviceId {
                message
            } else {
                format!("device \"{}\": {message}", ids.cell(row))
            };
            return Err(self.row_error(row, message));
        }

        let columns = DeviceColumns {
            software_type: match &types {
                Some(t) => t.iter().map(|t| t.unwrap_or(SoftwareTypeId(0))).collect(),
                None => repeat(SoftwareTypeId(0), n),
            },
            hardware: map_codes(get(HARDWARE).expect("required"), &hardware_table),
            version,
            cohort: match &cohort_table {
                Some(t) => map_codes(get(COHORT).expect("present"), t),
                None => repeat(CohortId(0), n),
            },
            project_key: key_table.map(|t| map_codes(get(PROJECT_KEY).expect("present"), &t)),
            staged,
            release_override,
            last_seen,
        };
        let added = match ids {
            Ids::Series(ids) => {
                let (n_bytes, id_iter) = id_strings(&ids);
                fleet.reserve(n, n_bytes);
                fleet.push_many(id_iter, columns)
            }
            Ids::Packed { buf, ends, .. } => fleet.push_packed(buf, ends, columns),
        };
        added.map_err(|e| self.row_error(e.row, e.message))
    }

    /// The `last_seen` column as ticks; notes bad cells in `errors`.
    fn last_seen(&self, s: &Series, errors: &mut FirstError) -> Result<Vec<i32>, ScenarioError> {
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

/// The device id column, as polars read it or packed by the direct reader.
enum Ids<'a> {
    Series(std::borrow::Cow<'a, Series>),
    /// Row `i` is `buf[ends[i - 1]..ends[i]]` (from 0 for row 0); null is empty.
    Packed {
        buf: String,
        ends: Vec<usize>,
        first_empty: Option<usize>,
    },
}

impl Ids<'_> {
    /// The id at `row` (empty for null).
    fn cell(&self, row: usize) -> String {
        match self {
            Ids::Series(s) => cell(s, row),
            Ids::Packed { buf, ends, .. } => {
                let start = if row == 0 { 0 } else { ends[row - 1] };
                buf[start..ends[row]].to_string()
            }
        }
    }

    /// The first row whose device id is null or empty.
    fn first_empty(&self) -> Option<usize> {
        match self {
            Ids::Series(s) => first_empty(s),
            Ids::Packed { first_empty, .. } => *first_empty,
        }
    }

    /// The first row before `limit` whose device id is taken (by an earlier row or by a
    /// device already in `fleet`). Only used on the error path.
    #[cold]
    fn first_duplicate(&self, limit: usize, fleet: &Fleet) -> Option<usize> {
        let mut seen = std::collections::HashSet::new();
        (0..limit).find(|&row| {
            let id = self.cell(row);
            fleet.find(&id).is_some() || !seen.insert(id)
        })
    }
}

/// A table's columns as [`Table::load_cells`] takes them, from polars or from the direct
/// Parquet reader.
struct Cells<'a> {
    rows: usize,
    ids: Ids<'a>,
    /// Text columns ([`COLUMNS`] index, dictionary).
    dicts: Vec<(usize, Dict<'a>)>,
    /// A boolean `staged` column (a text one is among `dicts`).
    staged: Option<Vec<bool>>,
    last_seen: Option<Vec<i32>>,
    /// Errors met while reading the cells above.
    errors: FirstError,
}

/// The text of a cell (empty for null).
fn cell(series: &Series, row: usize) -> String {
    series
        .get(row)
        .ok()
        .and_then(|v| v.get_str().map(str::to_string))
        .unwrap_or_default()
}

/// The first row whose device id is null or empty.
fn first_empty(ids: &Series) -> Option<usize> {
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
fn id_strings(ids: &Series) -> (usize, Box<dyn Iterator<Item = &str> + '_>) {
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use polars::prelude::{Categories, Column, DataFrame, DataType, NamedFrom, Series};

    use super::*;
    use crate::catalog::{Cohort, ProjectKey, Release, ReleaseKind};
    use crate::ids::DeviceIdx;
    use crate::table_out::{write_csv, write_parquet};

    /// A catalog with cohorts `beta` and `stable`, key `recovery`, a second software
    /// type `fw2`, full releases 1.0.0 and 2.0.0 and a delta 1.0.0->2.0.0.
    fn catalog() -> Catalog {
        let mut c = Catalog::new();
        for name in ["beta", "stable"] {
            c.define_cohort(Cohort {
                name: name.into(),
                disable_version_checking: false,
                protected: false,
                approval_team: None,
            })
            .unwrap();
        }
        c.define_project_key(ProjectKey {
            name: "recovery".into(),
            ota_cohort_override: None,
        })
        .unwrap();
        c.define_software_type("fw2", false).unwrap();
        let evt = c.intern_hardware("evt").unwrap();
        let main = SoftwareTypeId(0);
        let v1 = c.intern_version(main, "1.0.0").unwrap();
        let v2 = c.intern_version(main, "2.0.0").unwrap();
        for kind in [
            ReleaseKind::Full {
                version: v1,
                must_pass_through: false,
            },
            ReleaseKind::Full {
                version: v2,
                must_pass_through: false,
            },
            ReleaseKind::Delta { from: v1, to: v2 },
        ] {
            c.add_release(Release {
                software_type: main,
                kind,
                payloads: vec![(evt, 10)],
                deleted: false,
            })
            .unwrap();
        }
        c
    }

    /// A table as text cells: a header and rows (`""` is an empty / null cell).
    struct Spec {
        header: Vec<&'static str>,
        rows: Vec<Vec<&'static str>>,
    }

    fn spec(header: &str, rows: &[&'static str]) -> Spec {
        let header: Vec<&'static str> = header.split(',').map(|h| &*h.to_string().leak()).collect();
        let rows = rows
            .iter()
            .map(|r| r.split(',').collect::<Vec<_>>())
            .collect();
        Spec { header, rows }
    }

    impl Spec {
        fn csv(&self) -> String {
            let mut text = self.header.join(",") + "\n";
            for r in &self.rows {
                text += &(r.join(",") + "\n");
            }
            text
        }

        /// As a polars frame: text columns as strings (nulls for empty cells), or as
        /// categoricals; `staged` as booleans and `last_seen` as integers when they
        /// parse as such.
        fn frame(&self, categorical: bool) -> DataFrame {
            let cols = self
                .header
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let cells: Vec<Option<&str>> = self
                        .rows
                        .iter()
                        .map(|r| Some(r[i]).filter(|c| !c.is_empty()))
                        .collect();
                    let s = Series::new((*name).into(), &cells);
                    let typed = match *name {
                        "staged" => s.cast(&DataType::Boolean).ok().filter(|t| {
                            t.null_count() == s.null_count()
                                && cells
                                    .iter()
                                    .flatten()
                                    .all(|c| c == &"true" || c == &"false")
                        }),
                        "last_seen" => s
                            .cast(&DataType::Int64)
                            .ok()
                            .filter(|t| t.null_count() == s.null_count()),
                        _ if categorical => Some(
                            s.cast(&DataType::from_categories(Categories::global()))
                                .unwrap(),
                        ),
                        _ => None,
                    };
                    Column::from(typed.unwrap_or(s))
                })
                .collect();
            DataFrame::new_infer_height(cols).unwrap()
        }
    }

    enum Format {
        Csv,
        Parquet,
        ParquetCategorical,
        /// Written with polars' low-level Parquet writer, in a layout of its own.
        ParquetLayout(Layout),
    }

    /// How a Parquet file is laid out: what the direct reader must cover.
    struct Layout {
        v2_pages: bool,
        /// Text columns PLAIN rather than dictionary-encoded.
        plain_text: bool,
        /// Device ids dictionary-encoded rather than PLAIN.
        dictionary_ids: bool,
        categorical: bool,
        rows_per_group: usize,
        compression: polars_parquet::write::CompressionOptions,
    }

    const FORMATS: [Format; 7] = {
        use polars_parquet::write::CompressionOptions as C;
        [
            Format::Csv,
            Format::Parquet,
            Format::ParquetCategorical,
            Format::ParquetLayout(Layout {
                v2_pages: true,
                plain_text: false,
                dictionary_ids: false,
                categorical: false,
                rows_per_group: 2,
                compression: C::Zstd(None),
            }),
            Format::ParquetLayout(Layout {
                v2_pages: false,
                plain_text: true,
                dictionary_ids: true,
                categorical: false,
                rows_per_group: 3,
                compression: C::Snappy,
            }),
            Format::ParquetLayout(Layout {
                v2_pages: true,
                plain_text: true,
                dictionary_ids: false,
                categorical: false,
                rows_per_group: 1,
                compression: C::Uncompressed,
            }),
            Format::ParquetLayout(Layout {
                v2_pages: false,
                plain_text: false,
                dictionary_ids: true,
                categorical: true,
                rows_per_group: 1000,
                compression: C::Lz4Raw,
            }),
        ]
    };

    /// Writes `df` as `layout` says: several row groups, pages of a few rows.
    fn write_layout(path: &Path, df: &mut DataFrame, layout: &Layout) {
        use polars::prelude::{CompatLevel, SchemaExt};
        use polars_parquet::write::{
            Encoding, FileWriter, RowGroupIterator, StatisticsOptions, Version, WriteOptions,
        };
        let schema = df.schema().to_arrow(CompatLevel::newest());
        let encodings: Vec<Vec<Encoding>> = schema
            .iter_values()
            .map(|f| {
                let text = matches!(
                    f.dtype,
                    ArrowDataType::Utf8View | ArrowDataType::Dictionary(..)
                );
                let plain = if f.name == "device_id" {
                    !layout.dictionary_ids
                } else {
                    text && layout.plain_text
                };
                vec![if plain {
                    Encoding::Plain
                } else {
                    polars_parquet::write::get_dtype_encoding(&f.dtype)[0]
                }]
            })
            .collect();
        let options = WriteOptions {
            statistics: StatisticsOptions::default(),
            version: if layout.v2_pages {
                Version::V2
            } else {
                Version::V1
            },
            compression: layout.compression,
            data_page_size: Some(16),
        };
        let file = std::fs::File::create(path).unwrap();
        let mut writer = FileWriter::try_new(file, schema.clone(), options).unwrap();
        let mut offset = 0;
        while offset < df.height() {
            let mut part = df.slice(offset as i64, layout.rows_per_group);
            part.rechunk_mut();
            let rows = part.height();
            let batches = part.iter_chunks(CompatLevel::newest(), false).map(Ok);
            let groups =
                RowGroupIterator::try_new(batches, &schema, options, encodings.clone().into())
                    .unwrap();
            for group in groups {
                writer.write(rows as u64, group.unwrap()).unwrap();
            }
            offset += rows;
        }
        writer.end(None).unwrap();
    }

    fn write(dir: &Path, spec: &Spec, kind: &Format) -> PathBuf {
        match kind {
            Format::Csv => {
                let p = dir.join("fleet.csv");
                std::fs::write(&p, spec.csv()).unwrap();
                p
            }
            Format::Parquet | Format::ParquetCategorical => {
                let p = dir.join("fleet.parquet");
                let mut df = spec.frame(matches!(kind, Format::ParquetCategorical));
                write_parquet(&p, &mut df).unwrap();
                p
            }
            Format::ParquetLayout(layout) => {
                let p = dir.join("fleet.parquet");
                write_layout(&p, &mut spec.frame(layout.categorical), layout);
                p
            }
        }
    }

    /// Reads a table as otasim does. A Parquet table is also read by polars alone: the
    /// two readers must agree, and the direct one must cover every file these tests
    /// write, unless a column's type is one it leaves to polars.
    fn load(path: &Path) -> Result<(Catalog, Fleet), ScenarioError> {
        let read = |reader| -> Result<(Catalog, Fleet), ScenarioError> {
            let mut c = catalog();
            let mut fleet = Fleet::new();
            match reader {
                Some(reader) => read_parquet(path, &mut c, &mut fleet, reader)?,
                None => read_fleet_table(path, &mut c, &mut fleet)?,
            }
            Ok((c, fleet))
        };
        if path.extension().is_none_or(|e| e != "parquet") {
            return read(None);
        }
        let direct = read(Some(Reader::Direct));
        let polars = read(Some(Reader::Polars));
        match (&direct, &polars) {
            (Ok((c1, f1)), Ok((c2, f2))) => {
                assert_eq!(
                    describe_all(c1, f1),
                    describe_all(c2, f2),
                    "{}",
                    path.display()
                )
            }
            (Err(e1), Err(e2)) => assert_eq!(e1.to_string(), e2.to_string()),
            (d, p) => panic!(
                "the readers disagree on {}: direct {:?}, polars {:?}",
                path.display(),
                d.as_ref().err().map(ToString::to_string),
                p.as_ref().err().map(ToString::to_string),
            ),
        }
        assert!(
            direct_covers(path) != Some(false),
            "the direct reader gave up on {}",
            path.display()
        );
        direct
    }

    /// Whether the direct reader reads `path` (`None`: its columns' types are left to
    /// polars, or the header is bad).
    fn direct_covers(path: &Path) -> Option<bool> {
        let mut reader = ParquetReader::new(std::fs::File::open(path).ok()?);
        let schema = reader.schema().ok()?;
        let header: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        let pos = map_columns(path, None, &header).ok()?;
        let (wanted, _) = direct_plan(&schema, &pos)?;
        Some(parquet::read(path, &wanted).is_some())
    }

    /// The same table read row by row with [`RowInterner`] (the reference).
    fn reference(spec: &Spec) -> Result<(Catalog, Fleet), String> {
        let mut c = catalog();
        let mut fleet = Fleet::new();
        let mut interner = RowInterner::default();
        let pos = map_columns(Path::new("x"), None, &spec.header).map_err(|e| e.message)?;
        for r in &spec.rows {
            let cell = |i: usize| pos[i].map_or("", |p| r[p]);
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
            let d = interner.device(&mut c, &row)?;
            fleet.push(d)?;
        }
        Ok((c, fleet))
    }

    /// One device as names, so that fleets of different catalogs compare.
    fn describe(c: &Catalog, f: &Fleet, i: usize) -> String {
        let d = DeviceIdx(i as u32);
        let r = f.report(d);
        format!(
            "{} {} {} {} {} {:?} {} {:?} {:?}",
            f.id(d),
            c.hardware_name(r.hardware),
            c.software_type(r.software_type).name,
            c.version(r.version),
            c.cohort(r.cohort).name,
            r.project_key.map(|k| c.project_key(k).name.clone()),
            r.staged,
            r.release_override.map(|o| c.release_name(o)),
            f.last_seen(d),
        )
    }

    fn describe_all(c: &Catalog, f: &Fleet) -> Vec<String> {
        (0..f.len()).map(|i| describe(c, f, i)).collect()
    }

    /// Reads `spec` as CSV, Parquet and categorical Parquet; each must give the fleet
    /// the row-by-row reference gives.
    fn check_ok(spec: &Spec) -> Vec<String> {
        let (rc, rf) = reference(spec).expect("the reference accepts the table");
        let want = describe_all(&rc, &rf);
        for kind in &FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), spec, kind);
            let (c, f) = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(describe_all(&c, &f), want, "{}", path.display());
        }
        want
    }

    /// Reads `spec` in every format; each must fail with `csv` (CSV) and `parquet`
    /// (Parquet) as the whole rendered error, the file being `fleet.csv` or
    /// `fleet.parquet` in a temporary directory.
    fn check_err(spec: &Spec, csv: &str, parquet: &str) {
        for kind in &FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), spec, kind);
            let err = load(&path).expect_err("the table is bad").to_string();
            let err = err.replace(&format!("{}", dir.path().display()), "DIR");
            let want = match kind {
                Format::Csv => csv,
                _ => parquet,
            };
            assert_eq!(err, want);
        }
    }

    const HEADER: &str = "device_id,hardware_version,software_version,cohort,software_type,project_key,staged,release_override,last_seen";

    #[test]
    fn every_column_in_every_format_matches_the_row_reader() {
        let got = check_ok(&spec(
            HEADER,
            &[
                "SN-1,evt,1.0.0,beta,,recovery,true,,5",
                "SN-2,dvt,1.5.0-rc.1,,main,,false,2.0.0,",
                "SN-3,evt,1.0.0,stable,fw2,,,,-3",
                "SN-4,pvt-long-hardware-name,0.1.0,beta,,,true,1.0.0,100",
            ],
        ));
        assert_eq!(
            got,
            [
                "SN-1 evt main 1.0.0 beta Some(\"recovery\") true None Some(5)",
                "SN-2 dvt main 1.5.0-rc.1 default None false Some(\"2.0.0\") None",
                "SN-3 evt fw2 1.0.0 stable None false None Some(-3)",
                "SN-4 pvt-long-hardware-name main 0.1.0 beta None true Some(\"1.0.0\") Some(100)",
            ]
        );
    }

    #[test]
    fn required_columns_only() {
        check_ok(&spec(
            "device_id,hardware_version,software_version",
            &["a,evt,1.0.0", "b,evt,2.0.0"],
        ));
    }

    #[test]
    fn staged_as_text_in_parquet() {
        let s = spec(
            "device_id,hardware_version,software_version,staged",
            &["a,evt,1.0.0,YES", "b,evt,1.0.0,0", "c,evt,1.0.0,"],
        );
        let got = check_ok(&s);
        assert!(got[0].contains(" true "), "{got:?}");
    }

    #[test]
    fn a_categorical_parquet_column_is_read_as_categorical() {
        let s = spec(
            "device_id,hardware_version,software_version,cohort",
            &["a,evt,1.0.0,beta", "b,evt,1.0.0,", "c,dvt,2.0.0,beta"],
        );
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &s, &Format::ParquetCategorical);
        let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(
            df.column("cohort").unwrap().dtype().is_categorical(),
            "{:?}",
            df.dtypes()
        );
        check_ok(&s);
    }

    #[test]
    fn unknown_cohort_names_file_row_device_and_suggestion() {
        check_err(
            &spec(
                "device_id,hardware_version,software_version,cohort",
                &["a,evt,1.0.0,beta", "SN-9,evt,1.0.0,bta", "c,evt,1.0.0,bta"],
            ),
            "DIR/fleet.csv:3: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)",
            "DIR/fleet.parquet: row 2: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)",
        );
    }

    #[test]
    fn the_first_bad_row_wins_and_in_it_the_first_bad_cell() {
        // Row 2 has a bad version and a bad cohort: the version is checked first.
        // Row 3's bad hardware-less cell comes later.
        check_err(
            &spec(
                "device_id,hardware_version,software_version,cohort,project_key",
                &[
                    "a,evt,1.0.0,beta,",
                    "b,evt,1.0,nope,",
                    "c,,1.0.0,beta,",
                    "d,evt,1.0.0,beta,nokey",
                ],
            ),
            "DIR/fleet.csv:3: device \"b\": version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)",
            "DIR/fleet.parquet: row 2: device \"b\": version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)",
        );
    }

    #[test]
    fn bad_versions_unknown_keys_types_and_overrides() {
        let h = "device_id,hardware_version,software_version,software_type,project_key,release_override";
        let cases: [(&str, &str); 6] = [
            ("x,evt,,,,", "version \"\""),
            (
                "x,evt,1.0.0,fw3,,",
                "unknown software type \"fw3\" (did you mean \"fw2\"?)",
            ),
            (
                "x,evt,1.0.0,,recovry,",
                "unknown project key \"recovry\" (did you mean \"recovery\"?)",
            ),
            (
                "x,evt,1.0.0,,,3.0.0",
                "release_override: unknown release \"3.0.0\"",
            ),
            (
                "x,evt,1.0.0,,,1.0.0->2.0.0",
                "is a delta release; an override must name a full release",
            ),
            ("x,,1.0.0,,,", "hardware_version is empty"),
        ];
        for (row, want) in cases {
            let s = spec(h, &["ok,evt,1.0.0,,,", row]);
            for kind in &FORMATS {
                let dir = tempfile::tempdir().unwrap();
                let err = load(&write(dir.path(), &s, kind)).unwrap_err();
                let text = err.to_string();
                assert!(text.contains(want), "{text}\nwants {want}");
                assert!(text.contains("device \"x\""), "{text}");
                match kind {
                    Format::Csv => assert_eq!(err.line, Some(3), "{text}"),
                    _ => assert!(text.contains(": row 2: "), "{text}"),
                }
            }
            // The row reader agrees.
            let r = reference(&s).unwrap_err();
            assert!(r.contains(want), "{r}");
        }
    }

    #[test]
    fn build_metadata_is_refused_unless_the_type_allows_it() {
        check_err(
            &spec(
                "device_id,hardware_version,software_version",
                &["a,evt,1.0.0+abc"],
            ),
            "DIR/fleet.csv:2: device \"a\": version \"1.0.0+abc\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)",
            "DIR/fleet.parquet: row 1: device \"a\": version \"1.0.0+abc\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)",
        );
    }

    #[test]
    fn duplicate_ids_name_the_second_row() {
        check_err(
            &spec(
                "device_id,hardware_version,software_version",
                &["a,evt,1.0.0", "b,evt,1.0.0", "a,evt,2.0.0"],
            ),
            "DIR/fleet.csv:4: device \"a\" is defined twice",
            "DIR/fleet.parquet: row 3: device \"a\" is defined twice",
        );
        // A duplicate before a bad row is met first, as row by row.
        check_err(
            &spec(
                "device_id,hardware_version,software_version,cohort",
                &["a,evt,1.0.0,", "a,evt,1.0.0,", "b,evt,1.0.0,nope"],
            ),
            "DIR/fleet.csv:3: device \"a\" is defined twice",
            "DIR/fleet.parquet: row 2: device \"a\" is defined twice",
        );
    }

    #[test]
    fn a_duplicate_of_a_device_already_in_the_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(
            "device_id,hardware_version,software_version",
            &["a,evt,1.0.0", "SN-1,evt,1.0.0"],
        );
        for kind in &FORMATS {
            let path = write(dir.path(), &s, kind);
            let mut c = catalog();
            let mut fleet = Fleet::new();
            let report = DeviceReport {
                software_type: SoftwareTypeId(0),
                version: VersionId(0),
                hardware: HardwareId(0),
                project_key: None,
                cohort: CohortId(0),
                staged: false,
                release_override: None,
            };
            fleet
                .push(NewDevice {
                    id: "SN-1".into(),
                    report,
                    last_seen: None,
                })
                .unwrap();
            let err = read_fleet_table(&path, &mut c, &mut fleet).unwrap_err();
            assert!(
                err.message.contains("device \"SN-1\" is defined twice"),
                "{err}"
            );
            // Nothing of the table was added.
            assert_eq!(fleet.len(), 1);
            assert_eq!(fleet.find("a"), None);
        }
    }

    #[test]
    fn empty_device_ids() {
        check_err(
            &spec(
                "device_id,hardware_version,software_version",
                &["a,evt,1.0.0", ",evt,1.0.0"],
            ),
            "DIR/fleet.csv:3: device_id is empty",
            "DIR/fleet.parquet: row 2: device_id is empty",
        );
    }

    #[test]
    fn bad_staged_and_last_seen_cells() {
        let s = spec(
            "device_id,hardware_version,software_version,staged",
            &["a,evt,1.0.0,true", "b,evt,1.0.0,maybe"],
        );
        check_err(
            &s,
            "DIR/fleet.csv:3: device \"b\": staged \"maybe\" is not true or false",
            "DIR/fleet.parquet: row 2: device \"b\": staged \"maybe\" is not true or false",
        );
        let s = spec(
            "device_id,hardware_version,software_version,last_seen",
            &["a,evt,1.0.0,1", "b,evt,1.0.0,99999999999"],
        );
        check_err(
            &s,
            "DIR/fleet.csv:3: device \"b\": last_seen 99999999999 is out of range",
            "DIR/fleet.parquet: row 2: device \"b\": last_seen 99999999999 is out of range",
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(
            &p,
            "device_id,hardware_version,software_version,last_seen\na,evt,1.0.0,yesterday\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(
            e.message
                .ends_with("device \"a\": last_seen \"yesterday\" is not a tick number"),
            "{e}"
        );
    }

    #[test]
    fn header_errors() {
        let rows = ["a,evt,1.0.0,x"];
        check_err(
            &spec("device_id,hardware_version,software_version,cohrt", &rows),
            "DIR/fleet.csv:1: unknown column \"cohrt\" (did you mean \"cohort\"?) (columns: device_id, hardware_version, software_version, cohort, software_type, project_key, staged, release_override, last_seen)",
            "DIR/fleet.parquet: unknown column \"cohrt\" (did you mean \"cohort\"?) (columns: device_id, hardware_version, software_version, cohort, software_type, project_key, staged, release_override, last_seen)",
        );
        check_err(
            &spec("device_id,hardware_version,cohort", &["a,evt,beta"]),
            "DIR/fleet.csv:1: missing required column \"software_version\"",
            "DIR/fleet.parquet: missing required column \"software_version\"",
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(
            &p,
            "device_id,hardware_version,software_version,cohort,cohort\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (Some(1), "column \"cohort\" appears twice")
        );
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bom.csv");
        std::fs::write(
            &p,
            "\u{feff}device_id,hardware_version,software_version\na,evt,1.0.0\n",
        )
        .unwrap();
        let (_, f) = load(&p).unwrap();
        assert_eq!(f.find("a"), Some(DeviceIdx(0)));
    }

    #[test]
    fn empty_tables() {
        let s = spec("device_id,hardware_version,software_version", &[]);
        check_err(
            &s,
            "DIR/fleet.csv: fleet table has no devices",
            "DIR/fleet.parquet: fleet table has no devices",
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, "").unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.message, "fleet table is empty (no header row)");
        let p = dir.path().join("f.parquet");
        std::fs::write(&p, "").unwrap();
        let e = load(&p).unwrap_err();
        assert!(
            e.message
                .starts_with("cannot read fleet table as Parquet: "),
            "{e}"
        );
        std::fs::write(&p, "device_id,hardware_version\nnot,parquet\n").unwrap();
        let e = load(&p).unwrap_err();
        assert!(
            e.message
                .starts_with("cannot read fleet table as Parquet: "),
            "{e}"
        );
        let e = load(&dir.path().join("missing.parquet")).unwrap_err();
        assert!(e.message.starts_with("cannot read fleet table: "), "{e}");
        let e = load(&dir.path().join("f.xlsx")).unwrap_err();
        assert!(e.message.starts_with("unknown fleet table format"), "{e}");
    }

    fn parquet_with(columns: Vec<Column>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("typed.parquet");
        let mut df = DataFrame::new_infer_height(columns).unwrap();
        write_parquet(&p, &mut df).unwrap();
        (dir, p)
    }

    fn base_columns() -> Vec<Column> {
        vec![
            Column::new("device_id".into(), &["a", "b"]),
            Column::new("hardware_version".into(), &["evt", "evt"]),
            Column::new("software_version".into(), &["1.0.0", "2.0.0"]),
        ]
    }

    #[test]
    fn wrong_column_types() {
        let cases: Vec<(Column, &str)> = vec![
            (
                Column::new("cohort".into(), &[1i64, 2]),
                "column \"cohort\" has type i64; expected text (string or categorical)",
            ),
            (
                Column::new("staged".into(), &[1i32, 0]),
                "column \"staged\" has type i32; expected a boolean, or text (true/false)",
            ),
            (
                Column::new("last_seen".into(), &[1.5f64, 2.0]),
                "column \"last_seen\" has type f64; expected an integer (a tick number)",
            ),
        ];
        for (col, want) in cases {
            let mut cols = base_columns();
            cols.push(col);
            let (_dir, p) = parquet_with(cols);
            let e = load(&p).unwrap_err();
            assert_eq!((e.line, e.message.as_str()), (None, want));
        }
        let mut cols = base_columns();
        cols[0] = Column::new("device_id".into(), &[1u32, 2]);
        let (_dir, p) = parquet_with(cols);
        let e = load(&p).unwrap_err();
        assert!(
            e.message.starts_with("column \"device_id\" has type u32"),
            "{e}"
        );
    }

    #[test]
    fn timestamps_are_refused_with_a_hint() {
        // polars is built without datetime support, so the schema check is what meets a
        // timestamp column (before polars would decode it).
        use polars::prelude::ArrowTimeUnit;
        let ts = ArrowDataType::Timestamp(ArrowTimeUnit::Millisecond, None);
        assert_eq!(arrow_kind(&ts), Kind::Temporal);
        assert!(!accepts(LAST_SEEN, Kind::Temporal));
        assert_eq!(
            type_message(LAST_SEEN, "last_seen", &arrow_type_name(&ts)),
            "column \"last_seen\" has type timestamp[millisecond]; expected an integer (a tick number) (last_seen is a tick number since the scenario start: convert timestamps to ticks first)"
        );
        assert_eq!(arrow_kind(&ArrowDataType::Float64), Kind::Other);
    }

    #[test]
    fn narrow_integer_ticks_nulls_and_all_null_columns() {
        let mut cols = base_columns();
        cols.push(Column::new("last_seen".into(), &[Some(7i32), None]));
        cols.push(Column::new("staged".into(), &[None, Some(true)]));
        cols.push(Column::new("project_key".into(), &[None::<&str>, None]));
        cols.push(Column::new("cohort".into(), &[Some("beta"), None]));
        let (_dir, p) = parquet_with(cols);
        let (c, f) = load(&p).unwrap();
        assert_eq!(
            describe_all(&c, &f),
            [
                "a evt main 1.0.0 beta None false None Some(7)",
                "b evt main 2.0.0 default None true None None",
            ]
        );
    }

    #[test]
    fn null_device_id_in_parquet() {
        let mut cols = base_columns();
        cols[0] = Column::new("device_id".into(), &[Some("a"), None]);
        let (_dir, p) = parquet_with(cols);
        let e = load(&p).unwrap_err();
        assert_eq!(e.message, "row 2: device_id is empty");
    }

    #[test]
    fn ragged_and_quoted_csv() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(
            &p,
            "device_id,hardware_version,software_version\na,evt,1.0.0\nb,evt,1.0.0,extra\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        std::fs::write(
            &p,
            "device_id,hardware_version,software_version\na,evt,1.0.0\nb,evt\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
        // A quoted cell over two lines: the error is on the line where its row starts.
        std::fs::write(
            &p,
            "device_id,hardware_version,software_version,cohort\n\"a\nb\",evt,1.0.0,\nc,evt,1.0.0,bta\n",
        )
        .unwrap();
        let e = load(&p).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn scenario_error_rendering() {
        let e = ScenarioError {
            file: "fleet.parquet".into(),
            line: None,
            message: "row 1234: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)"
                .into(),
        };
        assert_eq!(
            e.to_string(),
            "fleet.parquet: row 1234: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)"
        );
    }

    #[test]
    fn csv_written_by_polars_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("round.csv");
        let mut df = spec(HEADER, &["a,evt,1.0.0,beta,,recovery,true,,5"]).frame(false);
        write_csv(&p, &mut df).unwrap();
        let (c, f) = load(&p).unwrap();
        assert_eq!(
            describe_all(&c, &f),
            ["a evt main 1.0.0 beta Some(\"recovery\") true None Some(5)"]
        );
    }

    /// 300k rows through Parquet (two row groups, so several chunks per column). A debug
    /// build reads about 250k rows a second; 1M and 10M rows are `benches/import.rs`.
    #[test]
    fn many_rows() {
        let n = 300_000;
        let ids: Vec<String> = (0..n).map(|i| format!("SN-{i:07}")).collect();
        let versions = ["1.0.0", "2.0.0", "1.5.0-rc.1", "0.9.0"];
        let cohorts = ["beta", "stable", "default", "beta"];
        let hw = ["evt", "dvt", "pvt"];
        let cols = vec![
            Column::new("device_id".into(), &ids),
            Column::new(
                "hardware_version".into(),
                (0..n).map(|i| hw[i % 3]).collect::<Vec<_>>(),
            ),
            Column::new(
                "software_version".into(),
                (0..n).map(|i| versions[i % 4]).collect::<Vec<_>>(),
            ),
            Column::new(
                "cohort".into(),
                (0..n).map(|i| cohorts[(i / 7) % 4]).collect::<Vec<_>>(),
            ),
            Column::new(
                "last_seen".into(),
                (0..n as i64).map(|i| i % 1000).collect::<Vec<_>>(),
            ),
        ];
        let (_dir, p) = parquet_with(cols);
        let start = std::time::Instant::now();
        let (c, f) = load(&p).unwrap();
        let took = start.elapsed();
        assert_eq!(f.len(), n);
        assert_eq!(
            describe(&c, &f, 123_457),
            "SN-0123457 dvt main 2.0.0 beta None false None Some(457)"
        );
        assert_eq!(f.find("SN-0299999"), Some(DeviceIdx(299_999)));
        eprintln!("{n}-row Parquet import: {took:?}");
    }

    /// Writes `columns` in each Parquet layout of [`FORMATS`] (and as polars writes
    /// them) and loads each file (so both readers, which must agree).
    fn load_in_every_layout(columns: &[Column]) -> Vec<Result<(Catalog, Fleet), ScenarioError>> {
        FORMATS
            .iter()
            .filter(|f| !matches!(f, Format::Csv | Format::ParquetCategorical))
            .map(|format| {
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("fleet.parquet");
                let mut df = DataFrame::new_infer_height(columns.to_vec()).unwrap();
                match format {
                    Format::ParquetLayout(layout) => write_layout(&p, &mut df, layout),
                    _ => write_parquet(&p, &mut df).unwrap(),
                }
                load(&p)
            })
            .collect()
    }

    /// Booleans (PLAIN bits in v1 pages, RLE in v2 pages) and integer ticks (32- and
    /// 64-bit, signed and not: what polars is built to write here), with nulls, in every
    /// layout.
    #[test]
    fn booleans_and_integer_ticks_in_every_layout() {
        let ticks = [
            Column::new(
                "last_seen".into(),
                &[Some(-3i32), None, Some(i32::MAX), Some(0)],
            ),
            Column::new(
                "last_seen".into(),
                &[Some(-3i64), None, Some(1 << 30), Some(0)],
            ),
            Column::new(
                "last_seen".into(),
                &[Some(3u32), None, Some(i32::MAX as u32), Some(0)],
            ),
        ];
        for last_seen in ticks {
            let max = last_seen.get(2).unwrap().try_extract::<i64>().unwrap();
            let first = last_seen.get(0).unwrap().try_extract::<i64>().unwrap();
            let columns = [
                Column::new("device_id".into(), &["a", "b", "c", "d"]),
                Column::new("hardware_version".into(), &["evt"; 4]),
                Column::new("software_version".into(), &["1.0.0"; 4]),
                Column::new(
                    "staged".into(),
                    &[Some(true), None, Some(false), Some(true)],
                ),
                last_seen,
            ];
            for loaded in load_in_every_layout(&columns) {
                let (c, f) = loaded.unwrap();
                assert_eq!(
                    describe_all(&c, &f),
                    [
                        format!("a evt main 1.0.0 default None true None Some({first})"),
                        "b evt main 1.0.0 default None false None None".to_string(),
                        format!("c evt main 1.0.0 default None false None Some({max})"),
                        "d evt main 1.0.0 default None true None Some(0)".to_string(),
                    ]
                );
            }
        }
    }

    /// An unsigned tick is read as unsigned: `u32::MAX` is out of range, not -1.
    #[test]
    fn ticks_out_of_range_in_every_layout() {
        for (last_seen, bad) in [
            (
                Column::new("last_seen".into(), &[Some(1u32), None, Some(u32::MAX)]),
                "4294967295",
            ),
            (
                Column::new("last_seen".into(), &[Some(1i64), None, Some(i64::MIN)]),
                "-9223372036854775808",
            ),
            (
                Column::new("last_seen".into(), &[Some(1i32), None, Some(i32::MIN)]),
                "-2147483648",
            ),
            // Issue 14: not "never seen".
            (
                Column::new("last_seen".into(), &[Some(1u64), None, Some(1u64 << 63)]),
                "9223372036854775808",
            ),
        ] {
            let columns = [
                Column::new("device_id".into(), &["a", "b", "c"]),
                Column::new("hardware_version".into(), &["evt"; 3]),
                Column::new("software_version".into(), &["1.0.0"; 3]),
                last_seen,
            ];
            for loaded in load_in_every_layout(&columns) {
                let e = loaded.unwrap_err();
                assert_eq!(
                    e.message,
                    format!("row 3: device \"c\": last_seen {bad} is out of range")
                );
            }
        }
    }

    /// Ids in no order go through the hash index, sorted ones through the sorted
    /// prefix: both find every device and refuse a duplicate, in every layout.
    #[test]
    fn ids_in_and_out_of_order() {
        // Small tables in every layout; a big one (indexed shard by shard in parallel)
        // as polars writes it.
        for (n, every_layout) in [(300, true), (100_000, false)] {
            ids_in_and_out_of_order_at(n, every_layout);
        }
    }

    fn ids_in_and_out_of_order_at(n: usize, every_layout: bool) {
        let sorted: Vec<String> = (0..n).map(|i| format!("SN-{i:06}")).collect();
        let shuffled: Vec<String> = (0..n)
            .map(|i| format!("SN-{:06}", (i * 7919) % n))
            .collect();
        let load_in_every_layout = |columns: &[Column]| {
            if every_layout {
                load_in_every_layout(columns)
            } else {
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("fleet.parquet");
                let mut df = DataFrame::new_infer_height(columns.to_vec()).unwrap();
                write_parquet(&p, &mut df).unwrap();
                vec![load(&p)]
            }
        };
        for ids in [sorted, shuffled] {
            let columns = |ids: &[String]| {
                [
                    Column::new("device_id".into(), ids),
                    Column::new("hardware_version".into(), vec!["evt"; ids.len()]),
                    Column::new("software_version".into(), vec!["1.0.0"; ids.len()]),
                ]
            };
            for loaded in load_in_every_layout(&columns(&ids)) {
                let (_, mut f) = loaded.unwrap();
                for (i, id) in ids.iter().enumerate() {
                    assert_eq!(f.find(id), Some(DeviceIdx(i as u32)));
                }
                assert_eq!(f.find("SN-999999"), None);
                assert_eq!(f.find("SN-"), None);
                let again = NewDevice {
                    id: ids[n / 2].clone(),
                    report: f.report(DeviceIdx(0)),
                    last_seen: None,
                };
                assert!(f.push(again).is_err(), "a duplicate of an imported id");
            }
            // A duplicate far from its twin: named at its second row.
            let mut dup = ids.clone();
            dup[n - 10] = dup[17].clone();
            for loaded in load_in_every_layout(&columns(&dup)) {
                let e = loaded.unwrap_err();
                assert_eq!(
                    e.message,
                    format!("row {}: device \"{}\" is defined twice", n - 9, dup[17])
                );
            }
        }
    }
}
