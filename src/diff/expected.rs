//! Decisions recorded by another system (R34): a CSV or Parquet table with the columns
//! `device_id, rule, target_version`, checked row by row. Errors name the file and the
//! row (CSV: `file:LINE: row N: …`, the file line and the 1-based data row; Parquet:
//! `file: row N: …`).

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::{DataType, ParquetReader, SerReader};

use crate::catalog::{Catalog, DEFAULT_SOFTWARE_TYPE};
use crate::fleet::Fleet;
use crate::resolver::Rule;
use crate::scenario::ScenarioError;
use crate::version::Version;

/// An error in a recorded table: `file[:line]: message`.
pub type ExpectedError = ScenarioError;

/// The columns, exactly as R34 names them.
pub const COLUMNS: [&str; 3] = ["device_id", "rule", "target_version"];

/// A recorded table: one answer per device id.
#[derive(Debug, Default)]
pub struct Expected {
    ids: Vec<String>,
    /// Per row, its index in `answers`.
    answer: Vec<u32>,
    /// The distinct (rule, target version) pairs; the target is `None` for `none`.
    answers: Vec<(Rule, Option<String>)>,
}

impl Expected {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The device id of row `row` (0-based).
    pub fn id(&self, row: usize) -> &str {
        &self.ids[row]
    }

    /// The distinct answers of the table.
    pub fn answers(&self) -> &[(Rule, Option<String>)] {
        &self.answers
    }

    /// The answer (an index in [`Expected::answers`]) of row `row`.
    pub fn answer_of(&self, row: usize) -> u32 {
        self.answer[row]
    }

    /// For each row of `fleet`, the table row of that device (`u32::MAX`: none).
    pub fn rows_by_device(&self, fleet: &Fleet) -> Vec<u32> {
        let mut out = vec![u32::MAX; fleet.len()];
        for (row, id) in self.ids.iter().enumerate() {
            if let Some(d) = fleet.find(id) {
                out[d.index()] = row as u32;
            }
        }
        out
    }

    /// Reads `path` (`.csv`, or `.parquet` / `.pq`). Versions are parsed under the
    /// scheme of the device's software type in `fleet` (R1, R2); a device not in the
    /// fleet has no software type, so build metadata is accepted for it.
    pub fn read(path: &Path, catalog: &Catalog, fleet: &Fleet) -> Result<Expected, ExpectedError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let mut builder = Builder {
            path,
            catalog,
            fleet,
            table: Expected::default(),
            answer_index: HashMap::new(),
            first_row: HashMap::new(),
        };
        match ext.as_deref() {
            Some("csv") => builder.read_csv()?,
            Some("parquet" | "pq") => builder.read_parquet()?,
            _ => {
                return Err(error(
                    path,
                    None,
                    "expected decisions must be a .csv or .parquet file",
                ))
            }
        }
        Ok(builder.table)
    }
}

fn error(path: &Path, line: Option<usize>, message: impl Into<String>) -> ExpectedError {
    ScenarioError {
        file: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Where each column is, from a header; errors for unknown, repeated or missing ones.
fn map_columns(
    path: &Path,
    line: Option<usize>,
    header: &[&str],
) -> Result<[usize; 3], ExpectedError> {
    let mut pos: [Option<usize>; 3] = [None; 3];
    for (i, name) in header.iter().enumerate() {
        let Some(c) = COLUMNS.iter().position(|c| c == name) else {
            return Err(error(
                path,
                line,
                format!("unknown column \"{name}\" (expected device_id, rule, target_version)"),
            ));
        };
        if pos[c].is_some() {
            return Err(error(
                path,
                line,
                format!("column \"{name}\" appears twice"),
            ));
        }
        pos[c] = Some(i);
    }
    let mut out = [0; 3];
    for (c, p) in pos.iter().enumerate() {
        out[c] = p.ok_or_else(|| {
            error(
                path,
                line,
                format!(
                    "missing column \"{}\" (expected device_id, rule, target_version)",
                    COLUMNS[c]
                ),
            )
        })?;
    }
    Ok(out)
}

struct Builder<'a> {
    path: &'a Path,
    catalog: &'a Catalog,
    fleet: &'a Fleet,
    table: Expected,
    answer_index: HashMap<(Rule, Option<String>), u32>,
    /// The first data row of each id, for "repeated" errors.
    first_row: HashMap<String, usize>,
}

impl Builder<'_> {
    /// Checks and adds one row; `row` is 1-based over data rows.
    fn add(
        &mut self,
        row: usize,
        id: Option<&str>,
        rule: Option<&str>,
        target: Option<&str>,
    ) -> Result<(), String> {
        let id = id.filter(|s| !s.is_empty()).ok_or("empty device_id")?;
        let rule_text = rule.unwrap_or("");
        let rule: Rule = rule_text.parse().map_err(|_| {
            format!(
                "unknown rule \"{rule_text}\" (expected none, override, delta, must_pass_through, full)"
            )
        })?;
        let target = target.filter(|s| !s.is_empty());
        let target = match (rule, target) {
            (Rule::None, None) => None,
            (Rule::None, Some(t)) => {
                return Err(format!(
                    "rule none with target_version \"{t}\" (it must be empty for none)"
                ))
            }
            (rule, None) => return Err(format!("rule {rule} needs a target_version")),
            (_, Some(t)) => {
                let (allow, name) = match self.fleet.find(id) {
                    Some(d) => {
                        let t = self.catalog.software_type(self.fleet.software_type(d));
                        (t.allow_build_metadata, t.name.as_str())
                    }
                    None => (true, DEFAULT_SOFTWARE_TYPE),
                };
                Version::parse(t, allow, name).map_err(|e| format!("target_version: {e}"))?;
                Some(t.to_string())
            }
        };
        if let Some(first) = self.first_row.get(id) {
            return Err(format!(
                "device \"{id}\" is repeated (first at row {first})"
            ));
        }
        self.first_row.insert(id.to_string(), row);
        let next = self.table.answers.len() as u32;
        let key = (rule, target);
        let answer = match self.answer_index.get(&key) {
            Some(&a) => a,
            None => {
                self.table.answers.push(key.clone());
                self.answer_index.insert(key, next);
                next
            }
        };
        self.table.ids.push(id.to_string());
        self.table.answer.push(answer);
        Ok(())
    }

    fn read_csv(&mut self) -> Result<(), ExpectedError> {
        let path = self.path;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .map_err(|e| error(path, None, format!("cannot read expected decisions: {e}")))?;
        let header = reader
            .headers()
            .map_err(|e| error(path, Some(1), format!("cannot read header: {e}")))?
            .clone();
        let header: Vec<&str> = header.iter().collect();
        let pos = map_columns(path, Some(1), &header)?;
        let mut record = csv::StringRecord::new();
        let mut row = 0;
        loop {
            let line = reader.position().line() as usize;
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map_or(line, |p| p.line() as usize);
                    return Err(error(path, Some(line), format!("row {}: {e}", row + 1)));
                }
            }
            row += 1;
            let line = record.position().map_or(line, |p| p.line() as usize);
            self.add(
                row,
                record.get(pos[0]),
                record.get(pos[1]),
                record.get(pos[2]),
            )
            .map_err(|m| error(path, Some(line), format!("row {row}: {m}")))?;
        }
        Ok(())
    }

    fn read_parquet(&mut self) -> Result<(), ExpectedError> {
        let path = self.path;
        let file = std::fs::File::open(path)
            .map_err(|e| error(path, None, format!("cannot read expected decisions: {e}")))?;
        let df = ParquetReader::new(file).finish().map_err(|e| {
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            error(
                path,
                None,
                format!("cannot read expected decisions as Parquet: {first}"),
            )
        })?;
        let header: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
        let pos = map_columns(path, None, &header)?;
        let mut columns = Vec::with_capacity(3);
        for (c, &p) in pos.iter().enumerate() {
            let column = &df.columns()[p];
            let text = match column.dtype() {
                DataType::String => column.clone(),
                DataType::Categorical(_, _) | DataType::Enum(_, _) | DataType::Null => column
                    .cast(&DataType::String)
                    .map_err(|e| error(path, None, format!("column \"{}\": {e}", COLUMNS[c])))?,
                other => {
                    return Err(error(
                        path,
                        None,
                        format!("column \"{}\" must be text, not {other}", COLUMNS[c]),
                    ))
                }
            };
            columns.push(text.as_materialized_series().clone());
        }
        let (ids, rules, targets) = (
            columns[0].str().expect("text"),
            columns[1].str().expect("text"),
            columns[2].str().expect("text"),
        );
        for (i, ((id, rule), target)) in
            ids.iter().zip(rules.iter()).zip(targets.iter()).enumerate()
        {
            let row = i + 1;
            self.add(row, id, rule, target)
                .map_err(|m| error(path, None, format!("row {row}: {m}")))?;
        }
        Ok(())
    }
}
