//! A recorded table read column-wise ([`TextTable`]): the same checks as the row reader
//! ([`super::Builder::add`]), with the same first error, but each distinct rule and
//! target looked up once and the rows checked in parallel.
//!
//! Two passes. The parallel one checks everything a row can get wrong on its own (its
//! id, rule, target) and finds its device; each chunk of rows stops at its first error.
//! The sequential one, up to the first such error, finds repeated devices (a repeat is
//! reported at the later row, after that row's own checks, as the row reader does) and
//! numbers the distinct answers in order of first use.

use hashbrown::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::{check_pair, check_version, error, parse_rule, Expected, ExpectedError};
use crate::catalog::{Catalog, DEFAULT_SOFTWARE_TYPE};
use crate::fleet::Fleet;
use crate::ids::DeviceIdx;
use crate::resolver::Rule;
use crate::scenario::table::TextTable;

/// Rows a parallel task checks.
const CHUNK: usize = 1 << 16;

/// Checks `table` (columns: id, then rule, then target version) against `fleet`.
pub(super) fn check(
    path: &Path,
    catalog: &Catalog,
    fleet: &Fleet,
    table: &TextTable,
) -> Result<Expected, ExpectedError> {
    let rows = table.rows();
    let (rule_codes, target_codes) = (table.codes(0), table.codes(1));
    let targets = table.values(1);
    let n_targets = targets.len();
    // Each distinct rule once.
    let rules: Vec<Result<Rule, String>> = table.values(0).iter().map(|v| parse_rule(v)).collect();
    // Each distinct target once per software type scheme; the last slot is for a device
    // not in the fleet (no software type: build metadata accepted).
    let types = catalog.software_types();
    let slots = types.len() + 1;
    let schemes: Vec<(bool, &str)> = types
        .iter()
        .map(|t| (t.allow_build_metadata, t.name.as_str()))
        .chain([(true, DEFAULT_SOFTWARE_TYPE)])
        .collect();
    let versions: Vec<Result<(), String>> = targets
        .par_iter()
        .flat_map_iter(|t| {
            schemes.iter().map(move |&(allow, name)| match t.as_str() {
                "" => Ok(()),
                t => check_version(t, allow, name),
            })
        })
        .collect();

    // Per row: its fleet row (u32::MAX: none) and its answer key, rule × target code.
    let mut device = vec![0u32; rows];
    let mut key = vec![0u32; rows];
    let first_error: Option<(usize, String)> = device
        .par_chunks_mut(CHUNK)
        .zip(key.par_chunks_mut(CHUNK))
        .enumerate()
        .filter_map(|(c, (device, key))| {
            let first = c * CHUNK;
            for (i, (d, k)) in device.iter_mut().zip(key.iter_mut()).enumerate() {
                let row = first + i;
                let check = || -> Result<(u32, u32), String> {
                    let id = table.id(row);
                    if id.is_empty() {
                        return Err("empty device_id".into());
                    }
                    let rule_code = rule_codes[row] as usize;
                    let rule = rules[rule_code].clone()?;
                    // Row k of a table exported from the fleet names device k.
                    let found = if row < fleet.len() && fleet.id(DeviceIdx(row as u32)) == id {
                        Some(DeviceIdx(row as u32))
                    } else {
                        fleet.find(id)
                    };
                    let code = target_codes[row] as usize;
                    let target = (code != 0).then(|| targets[code].as_str());
                    check_pair(rule, target)?;
                    if target.is_some() {
                        let slot = found.map_or(slots - 1, |d| fleet.software_type(d).index());
                        versions[code * slots + slot].clone()?;
                    }
                    Ok((
                        found.map_or(u32::MAX, |d| d.0),
                        rule as u32 * n_targets as u32 + code as u32,
                    ))
                };
                match check() {
                    Ok((found, answer)) => (*d, *k) = (found, answer),
                    Err(message) => return Some((row, message)),
                }
            }
            None
        })
        .min_by_key(|(row, _)| *row);
    let checked = first_error.as_ref().map_or(rows, |(row, _)| *row);
    let at = |row: usize, message: String| error(path, None, format!("row {}: {message}", row + 1));

    // Repeats, and the answers in order of first use, up to the first bad row.
    let mut out = Expected::default();
    let mut seen = vec![u32::MAX; fleet.len()];
    let mut first_unknown: HashMap<&str, usize> = HashMap::new();
    let mut answer_of_key = vec![u32::MAX; Rule::ALL.len() * n_targets];
    for row in 0..checked {
        let d = device[row];
        if d != u32::MAX {
            let first = seen[d as usize];
            if first != u32::MAX {
                let id = table.id(row);
                return Err(at(
                    row,
                    format!("device \"{id}\" is repeated (first at row {first})"),
                ));
            }
            seen[d as usize] = row as u32 + 1;
        } else {
            let id = table.id(row);
            if let Some(first) = first_unknown.get(id) {
                return Err(at(
                    row,
                    format!("device \"{id}\" is repeated (first at row {first})"),
                ));
            }
            first_unknown.insert(id, row + 1);
            out.unknown.push((row as u32, id.to_string()));
        }
        let k = key[row] as usize;
        if answer_of_key[k] == u32::MAX {
            answer_of_key[k] = out.answers.len() as u32;
            let (rule, code) = (Rule::ALL[k / n_targets], k % n_targets);
            out.answers
                .push((rule, (code != 0).then(|| targets[code].clone())));
        }
        key[row] = answer_of_key[k];
    }
    if let Some((row, message)) = first_error {
        return Err(at(row, message));
    }
    out.device = device;
    out.answer = key;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::table::read_text_table;
    use crate::scenario::{LoadOptions, Scenario};
    use proptest::prelude::*;

    /// Two software types (one with build metadata) and a few devices of each.
    const SCENARIO: &str = r#"
[[software_types]]
name = "fw"
allow_build_metadata = true

[[releases]]
version = "1.0.0"
payloads = { "evt" = 100 }

[[devices]]
id = "d0"
hardware_version = "evt"
software_version = "0.9.0"

[[devices]]
id = "d1"
hardware_version = "evt"
software_version = "0.9.0"
software_type = "fw"

[[devices]]
id = "d2"
hardware_version = "evt"
software_version = "1.0.0"

[[devices]]
id = "d3"
hardware_version = "evt"
software_version = "0.9.0"
software_type = "fw"
"#;

    const IDS: [&str; 7] = ["d0", "d1", "d2", "d3", "ghost", "spook", ""];
    const RULES: [&str; 7] = ["none", "full", "delta", "override", "full", "mpt", ""];
    const TARGETS: [&str; 6] = ["", "1.0.0", "2.0.0", "1.0.0+b7", "1.0", ""];

    /// Writes rows of (id, rule, target) indices as a Parquet table, empty cells null
    /// when `nulls`, in the column order `order`.
    fn write(path: &Path, rows: &[(usize, usize, usize)], nulls: bool, order: [usize; 3]) {
        use polars::prelude::{Column, DataFrame, ParquetWriter};
        let cell = |s: &'static str| Some(s).filter(|s| !(nulls && s.is_empty()));
        let cells: [Vec<Option<&str>>; 3] = [
            rows.iter().map(|r| cell(IDS[r.0])).collect(),
            rows.iter().map(|r| cell(RULES[r.1])).collect(),
            rows.iter().map(|r| cell(TARGETS[r.2])).collect(),
        ];
        let columns = order
            .iter()
            .map(|&c| Column::new(super::super::COLUMNS[c].into(), cells[c].clone()))
            .collect();
        let mut df = DataFrame::new(rows.len(), columns).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(&mut df)
            .unwrap();
    }

    /// A random table: rows of (id, rule, target) indices; whether repeated ids are
    /// dropped; whether empty cells are written as nulls; the order of the columns.
    type Table = (Vec<(usize, usize, usize)>, bool, bool, [usize; 3]);

    fn table() -> impl Strategy<Value = Table> {
        // Mostly well-formed rows (a target exactly when the rule is not none), so
        // that some tables are read whole; now and then anything at all.
        let row = (
            prop_oneof![24 => 0..4usize, 4 => 4..6usize, 1 => Just(6usize)],
            prop_oneof![60 => 0..5usize, 1 => 5..7usize],
            prop_oneof![60 => 1..3usize, 1 => 3..6usize],
            prop::bool::weighted(0.02),
        )
            .prop_map(|(id, rule, target, anything)| match (anything, rule) {
                (true, _) => (id, rule, target),
                (false, 0) => (id, rule, 0),
                (false, _) => (id, rule, target),
            });
        (
            prop::collection::vec(row, 1..24),
            any::<bool>(),
            any::<bool>(),
            Just([0, 1, 2])
                .prop_shuffle()
                .prop_map(|v| [v[0], v[1], v[2]]),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// The column-wise check gives exactly what the row reader gives: the same
        /// table, or the same first error, on random tables (unknown and repeated ids,
        /// bad rules and versions, nulls or empty strings, any column order).
        #[test]
        fn columnar_check_equals_the_row_reader((rows, unique, nulls, order) in table()) {
            let mut rows = rows;
            if unique {
                // Mostly tables without repeats, so that some are read whole.
                let mut seen = std::collections::HashSet::new();
                rows.retain(|r| seen.insert(r.0));
            }
            let dir = tempfile::tempdir().unwrap();
            let s = Scenario::from_text(Path::new("s.toml"), SCENARIO, &LoadOptions::default())
                .unwrap();
            let path = dir.path().join("expected.parquet");
            write(&path, &rows, nulls, order);
            let (catalog, fleet) = (&s.initial.catalog, &s.initial.fleet);
            let t = read_text_table(&path, "device_id", &["rule", "target_version"]);
            let t = t.expect("the direct reader covers what polars writes");
            prop_assert_eq!(
                check(&path, catalog, fleet, &t),
                Expected::read_parquet_rows(&path, catalog, fleet)
            );
        }
    }
}
