//! The column contract of a fleet table: the names, which are required, what types each
//! column may hold and how a header is checked (shared by every front end).

use std::path::Path;

use polars::prelude::{ArrowDataType, DataType};

use super::table_error;
use crate::catalog::did_you_mean;
use crate::scenario::ScenarioError;

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

pub(super) const DEVICE_ID: usize = 0;
pub(super) const HARDWARE: usize = 1;
pub(super) const VERSION: usize = 2;
pub(super) const COHORT: usize = 3;
pub(super) const SOFTWARE_TYPE: usize = 4;
pub(super) const PROJECT_KEY: usize = 5;
pub(super) const STAGED: usize = 6;
pub(super) const OVERRIDE: usize = 7;
pub(super) const LAST_SEEN: usize = 8;

/// The columns that may hold text (besides the device id).
pub(super) const TEXT_COLUMNS: [usize; 7] = [
    HARDWARE,
    VERSION,
    COHORT,
    SOFTWARE_TYPE,
    PROJECT_KEY,
    STAGED,
    OVERRIDE,
];

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

/// What a column holds, as far as a fleet table cares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Bool,
    Int,
    /// All null (polars' `Null` type): read as absent cells.
    Null,
    Temporal,
    Other,
}

pub(super) fn polars_kind(dtype: &DataType) -> Kind {
    match dtype {
        _ if is_text(dtype) => Kind::Text,
        DataType::Boolean => Kind::Bool,
        DataType::Null => Kind::Null,
        _ if dtype.is_integer() => Kind::Int,
        _ if dtype.is_temporal() => Kind::Temporal,
        _ => Kind::Other,
    }
}

pub(super) fn arrow_kind(dtype: &ArrowDataType) -> Kind {
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
pub(super) fn arrow_type_name(dtype: &ArrowDataType) -> String {
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
pub(super) fn accepts(c: usize, kind: Kind) -> bool {
    match c {
        STAGED => matches!(kind, Kind::Text | Kind::Bool | Kind::Null),
        LAST_SEEN => matches!(kind, Kind::Text | Kind::Int | Kind::Null),
        _ => matches!(kind, Kind::Text | Kind::Null),
    }
}

pub(super) fn type_message(c: usize, name: &str, type_name: &str) -> String {
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
pub(super) fn is_text(dtype: &DataType) -> bool {
    matches!(
        dtype,
        DataType::String | DataType::Categorical(..) | DataType::Enum(..)
    )
}
