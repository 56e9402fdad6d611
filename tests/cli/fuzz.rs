//! Fuzz targets (issue 14): a proptest-driven mutator over the bundled scenarios for the
//! scenario loader, and one over fleet tables (CSV and Parquet) for the table readers.
//! Both run in process: a load must return a scenario or an error, never panic (a panic
//! is a test failure that proptest shrinks to a minimal mutation), and never abort (that
//! would kill the test binary). Bounded here to a few hundred cases; a longer run is
//! `OTASIM_FUZZ_CASES=20000 cargo test --release --test tests fuzz_` (see
//! docs/reliability.md).

use std::path::{Path, PathBuf};

use otasim::scenario::{LoadOptions, Scenario as Loaded};
use proptest::prelude::*;

use super::*;

/// Cases per target: `OTASIM_FUZZ_CASES`, or a few hundred (a few seconds).
fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("OTASIM_FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Tokens likely to upset a TOML parser or the checks after it, including values over
/// every limit.
const TOKENS: &[&str] = &[
    "\"",
    "[",
    "]",
    "[[",
    "]]",
    "=",
    "\n",
    "\u{7}",
    "\t",
    "{",
    "}",
    ",",
    "#",
    "'''",
    "-",
    "->",
    ".",
    "0",
    "-1",
    "1.5",
    "nan",
    "inf",
    "true",
    "1e400",
    "\"\"",
    "9999999999999999999999",
    "18446744073709551615",
    "4294967295",
    "\"999999999999w\"",
    "\"99999999d\"",
    "\"0h\"",
    "\"1s\"",
    "[fleet]",
    "[behaviour]",
    "[[fleet.groups]]",
    "[[fleet.arrivals]]",
    "[[events]]",
    "per_day = 1_000_000_000_000",
    "duration = \"52w\"",
    "poll_interval = \"1000000h\"",
    "poll_jitter = \"999999h\"",
    "devices = 50000001",
    "tick = \"1s\"",
    "at = \"99999999d\"",
    "count = 4294967295",
];

/// One edit of a text: at a position given as a fraction of its length.
#[derive(Clone, Debug)]
enum Edit {
    Insert(f64, usize),
    Delete(f64, usize),
    DuplicateLine(f64),
    SwapLines(f64, f64),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (0.0..1.0, 0..TOKENS.len()).prop_map(|(p, t)| Edit::Insert(p, t)),
        3 => (0.0..1.0, 1usize..40).prop_map(|(p, n)| Edit::Delete(p, n)),
        1 => (0.0..1.0).prop_map(Edit::DuplicateLine),
        1 => (0.0..1.0, 0.0..1.0).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        1 => (0.0..1.0).prop_map(Edit::Truncate),
    ]
}

/// The char boundary at fraction `p` of `text`.
fn at(text: &str, p: f64) -> usize {
    let mut i = ((text.len() as f64) * p) as usize;
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i.min(text.len())
}

fn apply(text: &mut String, e: &Edit) {
    match *e {
        Edit::Insert(p, t) => {
            let i = at(text, p);
            text.insert_str(i, TOKENS[t]);
        }
        Edit::Delete(p, n) => {
            let i = at(text, p);
            let mut j = (i + n).min(text.len());
            while !text.is_char_boundary(j) {
                j += 1;
            }
            text.replace_range(i..j, "");
        }
        Edit::DuplicateLine(p) | Edit::SwapLines(p, _) | Edit::Truncate(p) if text.is_empty() => {
            let _ = p;
        }
        Edit::DuplicateLine(p) => {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let k = ((lines.len() as f64) * p) as usize % lines.len().max(1);
            if let Some(l) = lines.get(k).cloned() {
                lines.insert(k, l);
            }
            *text = lines.join("\n");
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<String> = text.lines().map(String::from).collect();
            let n = lines.len().max(1);
            let (i, j) = (
                ((lines.len() as f64) * a) as usize % n,
                ((lines.len() as f64) * b) as usize % n,
            );
            if i < lines.len() && j < lines.len() {
                lines.swap(i, j);
            }
            *text = lines.join("\n");
        }
        Edit::Truncate(p) => {
            let i = at(text, p);
            text.truncate(i);
        }
    }
}

/// The bundled scenarios as fuzz seeds: (path, text, options that keep a load small).
fn corpus() -> Vec<(PathBuf, String, LoadOptions)> {
    all_bundled()
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap()
                // The 10M benchmark's 1.8M arrivals would make every case slow.
                .replace("per_day = 20_000", "per_day = 20");
            let small = LoadOptions {
                devices: Some(500),
                ..LoadOptions::default()
            };
            let options = if Loaded::from_text(&path, &text, &small).is_ok() {
                small
            } else {
                LoadOptions::default()
            };
            (path, text, options)
        })
        .collect()
}

proptest! {
    #![proptest_config(config(300))]

    /// The scenario loader on mutated bundled scenarios: a scenario or an error.
    #[test]
    fn fuzz_scenario_loader(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        thread_local!(static CORPUS: Vec<(PathBuf, String, LoadOptions)> = corpus());
        let (path, mut text, options) = CORPUS.with(|c| c[which.index(c.len())].clone());
        for e in &edits {
            apply(&mut text, e);
        }
        if let Err(e) = Loaded::from_text(&path, &text, &options) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

/// A fleet table of `rows` devices: CSV text.
fn csv_fleet(rows: usize) -> String {
    let mut s =
        String::from("device_id,hardware_version,software_version,cohort,staged,last_seen\n");
    for i in 0..rows {
        s.push_str(&format!(
            "D-{i},evt,{},default,{},{}\n",
            if i % 2 == 0 { "1.0.0" } else { "2.0.0" },
            i % 3 == 0,
            -(i as i64)
        ));
    }
    s
}

/// The scenario fleet tables are loaded into, written once per thread.
fn table_scenario() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        format!(
            "{}{}",
            full("1.0.0", "\"evt\" = 10"),
            full("2.0.0", "\"evt\" = 10")
        ),
    )
    .unwrap();
    (dir, path)
}

/// Loads `bytes` as the fleet table `name` of the scenario: a fleet or an error.
fn load_table(scenario: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let table = scenario.with_file_name(name);
    std::fs::write(&table, bytes).unwrap();
    let options = LoadOptions {
        fleet: Some(table),
        ..LoadOptions::default()
    };
    Loaded::load(scenario, &options)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(config(200))]

    /// The fleet table readers on byte-level mutations of CSV and Parquet tables (as
    /// polars writes them, in two codecs): a fleet or an error.
    #[test]
    fn fuzz_fleet_tables(
        parquet in any::<bool>(),
        zstd in any::<bool>(),
        flips in prop::collection::vec((0.0..1.0f64, 1u8..=255, any::<bool>()), 1..6),
    ) {
        thread_local!(static SCENARIO: (tempfile::TempDir, PathBuf) = table_scenario());
        let mut bytes = if parquet {
            use polars::prelude::*;
            let mut df = CsvReadOptions::default()
                .into_reader_with_file_handle(std::io::Cursor::new(csv_fleet(200).into_bytes()))
                .finish()
                .unwrap();
            let mut out = Vec::new();
            ParquetWriter::new(&mut out)
                .with_compression(if zstd {
                    ParquetCompression::Zstd(None)
                } else {
                    ParquetCompression::Uncompressed
                })
                .with_row_group_size(Some(70))
                .finish(&mut df)
                .unwrap();
            out
        } else {
            csv_fleet(200).into_bytes()
        };
        let len = bytes.len();
        for &(p, mask, tail) in &flips {
            // Half the flips in the last 10% (a Parquet footer), half anywhere.
            let i = if tail {
                len - 1 - ((len as f64 * 0.1 * p) as usize).min(len - 1)
            } else {
                ((len as f64 * p) as usize).min(len - 1)
            };
            bytes[i] ^= mask;
        }
        let name = if parquet { "f.parquet" } else { "f.csv" };
        let result = SCENARIO.with(|(_, path)| load_table(path, name, &bytes));
        if let Err(e) = result {
            prop_assert!(!e.is_empty());
        }
    }
}
