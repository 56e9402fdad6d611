//! Decisions recorded by another system (R34): a CSV or Parquet table with the columns
//! `device_id, rule, target_version`, checked row by row. Errors name the file and the
//! row (CSV: `file:LINE: row N: …`, the file line and the 1-based data row; Parquet:
//! `file: row N: …`).

// hashbrown's hasher: the builder looks up every row of a table of millions.
use hashbrown::HashMap;
use std::path::Path;

use polars::prelude::{DataType, ParquetReader, SerReader};

use crate::catalog::{Catalog, DEFAULT_SOFTWARE_TYPE};
use crate::fleet::Fleet;
use crate::ids::DeviceIdx;
use crate::resolver::Rule;
use crate::scenario::table::read_text_table;
use crate::scenario::ScenarioError;
use crate::version::Version;

mod columnar;

/// An error in a recorded table: `file[:line]: message`.
pub type ExpectedError = ScenarioError;

/// The columns, exactly as R34 names them.
pub const COLUMNS: [&str; 3] = ["device_id", "rule", "target_version"];

/// A recorded table: one answer per device id.
#[derive(Debug, Default, PartialEq)]
pub struct Expected {
    /// Per row, the fleet row of its device (`u32::MAX`: not in the fleet).
    device: Vec<u32>,
    /// Ids of the rows whose device is not in the fleet, by row (sorted).
    unknown: Vec<(u32, String)>,
    /// Per row, its index in `answers`.
    answer: Vec<u32>,
    /// The distinct (rule, target version) pairs; the target is `None` for `none`.
    answers: Vec<(Rule, Option<String>)>,
}

impl Expected {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.answer.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.answer.is_empty()
    }

    /// The device id of row `row` (0-based); `fleet` is the one the table was read with.
    pub fn id<'a>(&'a self, row: usize, fleet: &'a Fleet) -> std::borrow::Cow<'a, str> {
        match self.device[row] {
            u32::MAX => {
                let i = self
                    .unknown
                    .binary_search_by_key(&(row as u32), |(r, _)| *r)
                    .expect("a row not in the fleet has its id");
                std::borrow::Cow::Borrowed(&self.unknown[i].1)
            }
            d => fleet.id(crate::ids::DeviceIdx(d)),
        }
    }

    /// The distinct answers of the table.
    pub fn answers(&self) -> &[(Rule, Option<String>)] {
        &self.answers
    }

    /// The answer (an index in [`Expected::answers`]) of row `row`.
    pub fn answer_of(&self, row: usize) -> u32 {
        self.answer[row]
    }

    /// For each row of the fleet the table was read with, the table row of that device
    /// (`u32::MAX`: none).
    pub fn rows_by_device(&self, fleet: &Fleet) -> Vec<u32> {
        let mut out = vec![u32::MAX; fleet.len()];
        for (row, &d) in self.device.iter().enumerate() {
            if d != u32::MAX {
                out[d as usize] = row as u32;
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
        match ext.as_deref() {
            Some("csv") => {
                let mut builder = Builder::new(path, catalog, fleet);
                builder.read_csv()?;
                Ok(builder.table)
            }
            // The direct reader where it covers the table (what writers produce: text
            // columns, dictionary or plain pages); polars for the rest, and for every
            // error in the header or the types. A damaged file is an input error.
            Some("parquet" | "pq") => {
                crate::scenario::table::guarded(path, || {
                    match read_text_table(path, COLUMNS[0], &COLUMNS[1..]) {
                        Some(table) => columnar::check(path, catalog, fleet, &table),
                        None => Expected::read_parquet_rows(path, catalog, fleet),
                    }
                })
            }
            _ => Err(error(
                path,
                None,
                "expected decisions must be a .csv or .parquet file",
            )),
        }
    }

    /// A Parquet table read by polars and checked row by row: what the direct reader
    /// does not cover, and what the tests compare it with.
    fn read_parquet_rows(
        path: &Path,
        catalog: &Catalog,
        fleet: &Fleet,
    ) -> Result<Expected, ExpectedError> {
        let mut builder = Builder::new(path, catalog, fleet);
        builder.read_parquet()?;
        Ok(builder.table)
    }
}

/// R34's rule column: one of R9's rule names.
fn parse_rule(text: &str) -> Result<Rule, String> {
    text.parse().map_err(|_| {
        format!("unknown rule \"{text}\" (expected none, override, delta, must_pass_through, full)")
    })
}

/// Whether a rule and a target (`None`: empty) go together: `none` has no target, every
/// other rule has one.
fn check_pair(rule: Rule, target: Option<&str>) -> Result<(), String> {
    match (rule, target) {
        (Rule::None, Some(t)) => Err(format!(
            "rule none with target_version \"{t}\" (it must be empty for none)"
        )),
        (Rule::None, None) | (_, Some(_)) => Ok(()),
        (rule, None) => Err(format!("rule {rule} needs a target_version")),
    }
}

/// Whether a target version parses under a software type's scheme (R1, R2).
fn check_version(
    target: &str,
    allow_build_metadata: bool,
    software_type: &str,
) -> Result<(), String> {
    Version::parse(target, allow_build_metadata, software_type)
        .map(|_| ())
        .map_err(|e| format!("target_version: {e}"))
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
    /// Per fleet row, the first data row that named it (`u32::MAX`: none yet).
    seen: Vec<u32>,
    /// The first data row of each id not in the fleet.
    first_unknown: HashMap<String, usize>,
    /// Target texts by id (a table holds few distinct ones).
    texts: HashMap<String, u32>,
    /// Whether a target text parses, by (text id, build metadata allowed).
    valid: HashMap<(u32, bool, u16), Result<(), String>>,
    /// Answers by (rule, target text id or `u32::MAX`).
    answer_index: HashMap<(Rule, u32), u32>,
    /// The last row's target text and its id, and the last (text, build metadata,
    /// software type) key found valid: consecutive rows mostly repeat them, and a hash
    /// lookup per row was a tenth of the whole comparison at 10M rows.
    last_text: Option<(String, u32)>,
    last_valid: Option<(u32, bool, u16)>,
    /// The last row's rule text and rule, and its (rule, text) answer.
    last_rule: Option<(String, Rule)>,
    last_answer: Option<((Rule, u32), u32)>,
}

impl<'a> Builder<'a> {
    fn new(path: &'a Path, catalog: &'a Catalog, fleet: &'a Fleet) -> Builder<'a> {
        Builder {
            path,
            catalog,
            fleet,
            table: Expected::default(),
            seen: vec![u32::MAX; fleet.len()],
            first_unknown: HashMap::new(),
            texts: HashMap::new(),
            valid: HashMap::new(),
            answer_index: HashMap::new(),
            last_text: None,
            last_valid: None,
            last_rule: None,
            last_answer: None,
        }
    }

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
        let rule: Rule = match &self.last_rule {
            Some((text, rule)) if text == rule_text => *rule,
            _ => {
                let rule = parse_rule(rule_text)?;
                self.last_rule = Some((rule_text.to_string(), rule));
                rule
            }
        };
        // A table exported from the fleet lists devices in its order: row k names
        // device k, found with one comparison instead of a search.
        let k = row - 1;
        let device = if k < self.fleet.len() && self.fleet.id(DeviceIdx(k as u32)) == id {
            Some(DeviceIdx(k as u32))
        } else {
            self.fleet.find(id)
        };
        let target = target.filter(|s| !s.is_empty());
        check_pair(rule, target)?;
        let text = match target {
            None => u32::MAX,
            Some(t) => {
                let text = match &self.last_text {
                    Some((last, k)) if last == t => *k,
                    _ => {
                        let n = self.texts.len() as u32;
                        let k = *self.texts.entry(t.to_string()).or_insert(n);
                        self.last_text = Some((t.to_string(), k));
                        k
                    }
                };
                let software_type = device.map(|d| self.fleet.software_type(d));
                let (allow, name) = match software_type {
                    Some(st) => {
                        let st = self.catalog.software_type(st);
                        (st.allow_build_metadata, st.name.as_str())
                    }
                    None => (true, DEFAULT_SOFTWARE_TYPE),
                };
                let key = (text, allow, software_type.map_or(u16::MAX, |st| st.0));
                if self.last_valid != Some(key) {
                    self.valid
                        .entry(key)
                        .or_insert_with(|| check_version(t, allow, name))
                        .clone()?;
                    self.last_valid = Some(key);
                }
                text
            }
        };
        match device {
            Some(d) => {
                let first = self.seen[d.index()];
                if first != u32::MAX {
                    return Err(format!(
                        "device \"{id}\" is repeated (first at row {first})"
                    ));
                }
                self.seen[d.index()] = row as u32;
            }
            None => {
                if let Some(first) = self.first_unknown.get(id) {
                    return Err(format!(
                        "device \"{id}\" is repeated (first at row {first})"
                    ));
                }
                self.first_unknown.insert(id.to_string(), row);
                let index = self.table.answer.len() as u32;
                self.table.unknown.push((index, id.to_string()));
            }
        }
        let answer = match self.last_answer {
            Some((key, answer)) if key == (rule, text) => answer,
            _ => {
                let next = self.table.answers.len() as u32;
                let answer = *self.answer_index.entry((rule, text)).or_insert(next);
                if answer == next {
                    let target = target.map(str::to_string);
                    self.table.answers.push((rule, target));
                }
                self.last_answer = Some(((rule, text), answer));
                answer
            }
        };
        self.table.device.push(device.map_or(u32::MAX, |d| d.0));
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
