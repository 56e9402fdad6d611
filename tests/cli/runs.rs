//! Helpers for tests of `otasim run`: running it into a directory of the scenario's
//! temporary directory, and reading its CSV tables and `summary.json` by column name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

/// The tables `run` writes, each as `NAME.csv` and `NAME.parquet`.
pub const TABLES: [&str; 6] = [
    "matrix",
    "series",
    "versions",
    "bandwidth",
    "egress",
    "policy",
];

/// Fields of `summary.json` that measure the run rather than describe its results.
pub const TIMING_FIELDS: [&str; 4] = [
    "wall_seconds",
    "threads",
    "device_ticks_per_second",
    "polls_per_second",
];

/// The rules that send a payload, as named in column suffixes.
pub const RULES: [&str; 4] = ["override", "delta", "must_pass_through", "full"];

/// A CSV table read back from a run, addressed by column name.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads `path` (a CSV file with a header row).
    pub fn read(path: &Path) -> Table {
        let mut reader = csv::Reader::from_path(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let header = reader
            .headers()
            .expect("CSV header")
            .iter()
            .map(String::from)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("CSV record").iter().map(String::from).collect())
            .collect();
        Table {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            header,
            rows,
        }
    }

    /// Index of column `name` (panics, listing the columns, when there is none).
    #[track_caller]
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{} has no column {name:?}: {:?}", self.name, self.header))
    }

    /// The text of column `name` in `row`.
    #[track_caller]
    pub fn get(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.col(name)]
    }

    /// Column `name` as integers.
    #[track_caller]
    pub fn u64s(&self, name: &str) -> Vec<u64> {
        let c = self.col(name);
        self.rows
            .iter()
            .map(|r| {
                r[c].parse().unwrap_or_else(|_| {
                    panic!("{}: {name} = {:?} is not an integer", self.name, r[c])
                })
            })
            .collect()
    }

    /// Column `name` as text.
    #[track_caller]
    pub fn strs(&self, name: &str) -> Vec<&str> {
        let c = self.col(name);
        self.rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// The sum of integer column `name`.
    #[track_caller]
    pub fn sum(&self, name: &str) -> u64 {
        self.u64s(name).iter().sum()
    }

    /// The rows whose `key` column equals `value`.
    #[track_caller]
    pub fn rows_where(&self, key: &str, value: &str) -> Vec<usize> {
        let c = self.col(key);
        (0..self.rows.len())
            .filter(|&i| self.rows[i][c] == value)
            .collect()
    }

    /// The one row whose `key` column equals `value`.
    #[track_caller]
    pub fn row_where(&self, key: &str, value: &str) -> usize {
        let rows = self.rows_where(key, value);
        assert_eq!(
            rows.len(),
            1,
            "{}: expected one row with {key} = {value:?}, got {}",
            self.name,
            rows.len()
        );
        rows[0]
    }
}

/// The outputs of a successful `otasim run`.
pub struct RunOut {
    pub dir: PathBuf,
    pub stdout: String,
}

impl RunOut {
    /// `DIR/NAME.csv`.
    pub fn table(&self, name: &str) -> Table {
        Table::read(&self.dir.join(format!("{name}.csv")))
    }

    /// `summary.json`.
    pub fn summary(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.join("summary.json")).expect("summary.json");
        serde_json::from_str(&text).expect("summary.json is JSON")
    }

    /// `summary.json` without the timing fields (which may differ between equal runs).
    pub fn summary_without_timing(&self) -> serde_json::Value {
        let mut s = self.summary();
        let obj = s.as_object_mut().expect("summary.json is an object");
        for f in TIMING_FIELDS {
            assert!(obj.remove(f).is_some(), "summary.json has no {f}");
        }
        s
    }

    /// An integer field of `summary.json`, by a path of keys.
    #[track_caller]
    pub fn summary_u64(&self, path: &[&str]) -> u64 {
        let s = self.summary();
        let mut v = &s;
        for k in path {
            v = &v[*k];
        }
        v.as_u64()
            .unwrap_or_else(|| panic!("summary.json {path:?} is not an integer: {v}"))
    }

    /// A number of `summary.json`, by a path of keys.
    #[track_caller]
    pub fn summary_f64(&self, path: &[&str]) -> f64 {
        let s = self.summary();
        let mut v = &s;
        for k in path {
            v = &v[*k];
        }
        v.as_f64()
            .unwrap_or_else(|| panic!("summary.json {path:?} is not a number: {v}"))
    }
}

/// `otasim run SCENARIO --out <scenario dir>/OUT -q --no-charts EXTRA…`, which must
/// succeed. (Charts are slow to draw in a debug build and are not what these tests
/// check.)
pub fn run_ok(sc: &Scenario, out: &str, extra: &[&str]) -> RunOut {
    let dir = sc.dir.path().join(out);
    let mut args = vec![
        "run".to_string(),
        sc.p().to_string(),
        "--out".to_string(),
        dir.to_str().unwrap().to_string(),
        "-q".to_string(),
        "--no-charts".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let stdout = stdout_ok(&otasim(&args));
    RunOut { dir, stdout }
}

/// Sum over rules of the series columns `KIND_RULE`, per tick.
pub fn per_tick_all_rules(series: &Table, kind: &str) -> Vec<u64> {
    let mut total = vec![0; series.rows.len()];
    for rule in RULES {
        for (t, v) in series.u64s(&format!("{kind}_{rule}")).iter().enumerate() {
            total[t] += v;
        }
    }
    total
}

/// A matrix key as `otasim matrix --format csv` groups it: (cohort, current, next, rule,
/// final version).
pub type CellKey = (String, String, String, String, String);

/// The matrix rows of `run`'s `matrix.csv` at `tick`, summed over the columns the CLI
/// matrix does not split by (`staged`, `release`).
pub fn run_matrix_at(matrix: &Table, tick: u64) -> BTreeMap<CellKey, u64> {
    let mut out = BTreeMap::new();
    let t = tick.to_string();
    for i in matrix.rows_where("tick", &t) {
        let key = (
            matrix.get(i, "cohort").to_string(),
            matrix.get(i, "current_version").to_string(),
            matrix.get(i, "next_version").to_string(),
            matrix.get(i, "rule").to_string(),
            matrix.get(i, "final_version").to_string(),
        );
        let n: u64 = matrix.get(i, "devices").parse().unwrap();
        *out.entry(key).or_insert(0) += n;
    }
    out
}

/// `otasim matrix SCENARIO --at T --format csv` as cells.
pub fn cli_matrix_at(sc: &Scenario, at: &str) -> BTreeMap<CellKey, u64> {
    let csv = sc.matrix(at);
    let mut lines = csv.lines();
    assert_eq!(lines.next().map(str::trim_end), Some(MATRIX_HEADER));
    let mut out = BTreeMap::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.trim_end().split(',').collect();
        let key = (
            f[0].to_string(),
            f[1].to_string(),
            f[2].to_string(),
            f[3].to_string(),
            f[5].to_string(),
        );
        let prev = out.insert(key, f[4].parse::<u64>().unwrap());
        assert!(prev.is_none(), "matrix --at {at}: duplicate row {line}");
    }
    out
}

/// Devices per (cohort, version) of `versions.csv` at `tick`.
pub fn versions_at(versions: &Table, tick: u64) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for i in versions.rows_where("tick", &tick.to_string()) {
        let key = (
            versions.get(i, "cohort").to_string(),
            versions.get(i, "version").to_string(),
        );
        let n: u64 = versions.get(i, "devices").parse().unwrap();
        assert!(
            out.insert(key.clone(), n).is_none(),
            "versions.csv: duplicate {key:?} at tick {tick}"
        );
    }
    out
}
