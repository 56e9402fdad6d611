//! Golden runs: a run's outputs compared with a stored run directory (`otasim run S
//! --out DIR --check GOLDEN`), so that an unintended change of behaviour is caught and
//! named by its first differing table, row and column.
//!
//! Compared: every table `run` writes (`matrix`, `series`, `versions`, `bandwidth`,
//! `egress`), as CSV when both directories hold the CSV file, else as Parquet; and
//! `summary.json`, every figure except the timings and the scenario's path. Charts and
//! the HTML report are drawn from those and are not compared.

use std::fmt;
use std::path::{Path, PathBuf};

use polars::prelude::{ParquetReader, SerReader};

/// The tables `run` writes, in the order they are compared.
pub const TABLES: [&str; 5] = ["matrix", "series", "versions", "bandwidth", "egress"];

/// `summary.json` keys that are not compared: timings, which vary from run to run, and
/// the scenario path, which depends on where the run was started.
pub const NOT_COMPARED: [&str; 5] = [
    "scenario",
    "wall_seconds",
    "threads",
    "device_ticks_per_second",
    "polls_per_second",
];

/// The first difference between a run and its golden run, or why they could not be
/// compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The golden directory.
    pub golden: PathBuf,
    /// What differs, naming the table, row and column.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--check {}: {}", self.golden.display(), self.message)
    }
}

impl std::error::Error for Mismatch {}

/// Compares the run in `new` with the golden run in `golden`.
pub fn check(new: &Path, golden: &Path) -> Result<(), Mismatch> {
    let fail = |message: String| Mismatch {
        golden: golden.to_path_buf(),
        message,
    };
    if !golden.is_dir() {
        return Err(fail("not a directory".into()));
    }
    for table in TABLES {
        let csv = format!("{table}.csv");
        let parquet = format!("{table}.parquet");
        let result = if golden.join(&csv).is_file() && new.join(&csv).is_file() {
            compare_csv(&new.join(&csv), &golden.join(&csv))
        } else if golden.join(&parquet).is_file() && new.join(&parquet).is_file() {
            compare_parquet(&new.join(&parquet), &golden.join(&parquet))
        } else if !golden.join(&csv).is_file() && !golden.join(&parquet).is_file() {
            Err(format!("the golden run has no {table} table"))
        } else {
            Err(format!(
                "the golden run's {table} table is in another format than this run's (write both, or the same, with --format)"
            ))
        };
        result.map_err(|m| fail(format!("table \"{table}\" {m}")))?;
    }
    compare_summary(&new.join("summary.json"), &golden.join("summary.json")).map_err(fail)
}

/// A cell for messages.
fn quoted(cell: Option<&str>) -> String {
    cell.map_or("nothing".to_string(), |c| format!("\"{c}\""))
}

fn compare_csv(new: &Path, golden: &Path) -> Result<(), String> {
    let open = |p: &Path| {
        csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(p)
            .map_err(|e| format!("cannot be read: {}: {e}", p.display()))
    };
    let (mut n, mut g) = (open(new)?, open(golden)?);
    let header_n = n
        .headers()
        .map_err(|e| format!("cannot be read: {e}"))?
        .clone();
    let header_g = g
        .headers()
        .map_err(|e| format!("cannot be read: {e}"))?
        .clone();
    if header_n != header_g {
        return Err(format!(
            "has other columns: golden {:?}, now {:?}",
            header_g.iter().collect::<Vec<_>>().join(","),
            header_n.iter().collect::<Vec<_>>().join(",")
        ));
    }
    let (mut rn, mut rg) = (csv::StringRecord::new(), csv::StringRecord::new());
    let mut row = 0;
    loop {
        row += 1;
        let more_n = n
            .read_record(&mut rn)
            .map_err(|e| format!("cannot be read: {e}"))?;
        let more_g = g
            .read_record(&mut rg)
            .map_err(|e| format!("cannot be read: {e}"))?;
        match (more_n, more_g) {
            (false, false) => return Ok(()),
            (true, false) => {
                return Err(format!(
                    "differs at row {row}: a row the golden run does not have"
                ))
            }
            (false, true) => {
                return Err(format!(
                    "differs at row {row}: the golden run has a row this run does not"
                ))
            }
            (true, true) => {}
        }
        for (c, name) in header_g.iter().enumerate() {
            if rn.get(c) != rg.get(c) {
                return Err(format!(
                    "differs at row {row}, column \"{name}\": golden {}, now {}",
                    quoted(rg.get(c)),
                    quoted(rn.get(c))
                ));
            }
        }
    }
}

fn compare_parquet(new: &Path, golden: &Path) -> Result<(), String> {
    let read = |p: &Path| {
        std::fs::File::open(p)
            .map_err(|e| e.to_string())
            .and_then(|f| ParquetReader::new(f).finish().map_err(|e| e.to_string()))
            .map_err(|e| format!("cannot be read: {}: {e}", p.display()))
    };
    let (n, g) = (read(new)?, read(golden)?);
    let names = |df: &polars::prelude::DataFrame| -> Vec<String> {
        df.get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    if names(&n) != names(&g) {
        return Err(format!(
            "has other columns: golden {:?}, now {:?}",
            names(&g).join(","),
            names(&n).join(",")
        ));
    }
    if n.equals_missing(&g) {
        return Ok(());
    }
    let rows = n.height().max(g.height());
    for row in 0..rows {
        if row >= g.height() {
            return Err(format!(
                "differs at row {}: a row the golden run does not have",
                row + 1
            ));
        }
        if row >= n.height() {
            return Err(format!(
                "differs at row {}: the golden run has a row this run does not",
                row + 1
            ));
        }
        for name in names(&g) {
            let cell = |df: &polars::prelude::DataFrame| {
                df.column(&name)
                    .and_then(|c| c.get(row).map(|v| v.to_string()))
                    .unwrap_or_default()
            };
            let (cn, cg) = (cell(&n), cell(&g));
            let types_differ = n.column(&name).map(|c| c.dtype().clone()).ok()
                != g.column(&name).map(|c| c.dtype().clone()).ok();
            if cn != cg || types_differ {
                return Err(format!(
                    "differs at row {}, column \"{name}\": golden \"{cg}\", now \"{cn}\"",
                    row + 1
                ));
            }
        }
    }
    Ok(())
}

fn compare_summary(new: &Path, golden: &Path) -> Result<(), String> {
    let read = |p: &Path| -> Result<serde_json::Value, String> {
        let text = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        serde_json::from_slice(&text).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let (mut n, mut g) = (read(new)?, read(golden)?);
    for v in [&mut n, &mut g] {
        if let Some(map) = v.as_object_mut() {
            for key in NOT_COMPARED {
                map.remove(key);
            }
        }
    }
    match first_difference(&n, &g, "") {
        None => Ok(()),
        Some((at, now, was)) => Err(format!(
            "summary.json differs at \"{at}\": golden {was}, now {now}"
        )),
    }
}

/// The first differing path (`bandwidth.bytes_total`) with both values, keys in order.
fn first_difference(
    n: &serde_json::Value,
    g: &serde_json::Value,
    at: &str,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    let join = |k: &str| {
        if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        }
    };
    match (n, g) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => first_difference(x, y, &join(k)),
                (x, y) => Some((
                    join(k),
                    x.map_or("nothing".into(), Value::to_string),
                    y.map_or("nothing".into(), Value::to_string),
                )),
            })
        }
        _ if n == g => None,
        _ => Some((at.to_string(), n.to_string(), g.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_json_difference_is_named_by_its_path() {
        let a = json!({"b": {"x": 1, "y": 2}, "a": 1});
        let b = json!({"b": {"x": 1, "y": 3}, "a": 1});
        assert_eq!(
            first_difference(&a, &b, ""),
            Some(("b.y".into(), "2".into(), "3".into()))
        );
        assert_eq!(first_difference(&a, &a, ""), None);
    }
}
