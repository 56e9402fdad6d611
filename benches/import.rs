//! `import_parquet_10m`: `Scenario::load` with `--fleet` on a 10M-row Parquet fleet table.
//!
//! The table: 10M devices (`SN-00000000`…), 4 cohorts (`default`, `beta`, `stable`,
//! `canary`), 3 hardware versions, 40 software versions, a `last_seen` tick column; text
//! columns as plain strings (what most Parquet writers produce). Written once into a
//! temporary directory, next to a small scenario (cohorts, 100 releases: 40 full and
//! 60 deltas, and their activations).
//!
//! Measured:
//! - `import_parquet_10m/strings`: the table above (the workload named in the README).
//! - `import_parquet_10m/categorical`: the same table with categorical text columns
//!   (dictionary-encoded, as polars or pandas `category` columns write them).
//! - `import_parquet_10m/unsorted_ids`: the string table with its rows in no id order
//!   (`SN-{7919 i mod 10M}`): ids in order are proved unique by their order alone, these
//!   go through the hash index.
//! - `import_csv_1m/polars` and `import_csv_1m/rowwise`: a 1M-row CSV, read by otasim's
//!   polars path and by the row-by-row `csv` + `RowInterner` path it replaced, to justify
//!   the CSV reader.
//!
//! Each sample is one `Scenario::load` (dropping the scenario is not timed). Run with
//! `cargo bench --bench import`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use polars::prelude::{Categories, Column, DataFrame, DataType};

use otasim::fleet::Fleet;
use otasim::scenario::table::{map_columns, Row, RowInterner};
use otasim::scenario::{LoadOptions, Scenario};
use otasim::table_out::{write_csv, write_parquet};

const N_DEVICES: usize = 10_000_000;
const N_CSV: usize = 1_000_000;
const COHORTS: [&str; 4] = ["default", "beta", "stable", "canary"];
const HARDWARE: [&str; 3] = ["evt", "dvt", "pvt"];
const N_VERSIONS: usize = 40;

fn version(i: usize) -> String {
    // Pre-releases among them, so that precedence is not string order.
    if i % 10 == 9 {
        format!("1.{}.0-rc.1", i / 10 + 1)
    } else {
        format!("0.{}.{}", i / 10, i % 10)
    }
}

/// The scenario the table is imported into: cohorts, one full release per version with
/// a payload for each hardware version, 60 delta releases into the four cohorts'
/// targets (100 releases in all), and their activations.
fn scenario_text() -> String {
    let mut text = String::from("seed = 1\n");
    for c in &COHORTS[1..] {
        text += &format!("[[cohorts]]\nname = \"{c}\"\n");
    }
    for v in 0..N_VERSIONS {
        text += &format!(
            "[[releases]]\nversion = \"{}\"\npayloads = {{ \"evt\" = 1000, \"dvt\" = 1100, \"pvt\" = 1200 }}\n",
            version(v)
        );
    }
    // Deltas from the older versions (below 0.3.0, no pre-releases) to each cohort's
    // target, each activated in that cohort.
    let targets = COHORTS
        .iter()
        .enumerate()
        .map(|(i, c)| (version(N_VERSIONS - 1 - i * 3), c));
    let froms: Vec<String> = (0..30).filter(|i| i % 10 != 9).map(version).collect();
    let deltas: Vec<(String, String, &&str)> = targets
        .clone()
        .flat_map(|(to, c)| froms.iter().map(move |from| (from.clone(), to.clone(), c)))
        .take(60)
        .collect();
    for (from, to, _) in &deltas {
        text += &format!(
            "[[releases]]\nfrom = \"{from}\"\nto = \"{to}\"\npayloads = {{ \"evt\" = 100, \"dvt\" = 110, \"pvt\" = 120 }}\n"
        );
    }
    for (to, c) in targets {
        text += &format!(
            "[[events]]\nat = 0\naction = \"activate\"\nrelease = \"{to}\"\ncohort = \"{c}\"\n"
        );
    }
    for (from, to, c) in &deltas {
        text += &format!(
            "[[events]]\nat = 0\naction = \"activate\"\nrelease = \"{from}->{to}\"\ncohort = \"{c}\"\n"
        );
    }
    text
}

/// A fleet table of `n` devices; text columns categorical when asked; ids in increasing
/// order, or scattered (`n` must then be coprime with 7919).
fn fleet_frame(n: usize, categorical: bool, sorted_ids: bool) -> DataFrame {
    let versions: Vec<String> = (0..N_VERSIONS).map(version).collect();
    // A cheap deterministic scatter, so that neighbouring rows differ.
    let pick = |i: usize, salt: usize, k: usize| (i.wrapping_mul(2_654_435_761) >> salt) % k;
    let text = |name: &str, cells: Vec<&str>| {
        let c = Column::new(name.into(), cells);
        if categorical {
            c.cast(&DataType::from_categories(Categories::global()))
                .unwrap()
        } else {
            c
        }
    };
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let id = if sorted_ids { i } else { i * 7919 % n };
            format!("SN-{id:08}")
        })
        .collect();
    DataFrame::new_infer_height(vec![
        Column::new("device_id".into(), ids),
        text(
            "hardware_version",
            (0..n).map(|i| HARDWARE[pick(i, 3, 3)]).collect(),
        ),
        text(
            "software_version",
            (0..n)
                .map(|i| versions[pick(i, 7, N_VERSIONS)].as_str())
                .collect(),
        ),
        text("cohort", (0..n).map(|i| COHORTS[pick(i, 11, 4)]).collect()),
        Column::new(
            "last_seen".into(),
            (0..n as i64).map(|i| -(i % 720)).collect::<Vec<i64>>(),
        ),
    ])
    .unwrap()
}

struct Files {
    _dir: tempfile::TempDir,
    scenario: PathBuf,
    parquet: PathBuf,
    parquet_categorical: PathBuf,
    parquet_unsorted: PathBuf,
    csv: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("import.toml");
    std::fs::write(&scenario, scenario_text()).unwrap();
    let parquet = dir.path().join("fleet.parquet");
    write_parquet(&parquet, &mut fleet_frame(N_DEVICES, false, true)).unwrap();
    let parquet_categorical = dir.path().join("fleet-categorical.parquet");
    write_parquet(
        &parquet_categorical,
        &mut fleet_frame(N_DEVICES, true, true),
    )
    .unwrap();
    let parquet_unsorted = dir.path().join("fleet-unsorted.parquet");
    write_parquet(&parquet_unsorted, &mut fleet_frame(N_DEVICES, false, false)).unwrap();
    let csv = dir.path().join("fleet.csv");
    write_csv(&csv, &mut fleet_frame(N_CSV, false, true)).unwrap();
    Files {
        _dir: dir,
        scenario,
        parquet,
        parquet_categorical,
        parquet_unsorted,
        csv,
    }
}

fn load(scenario: &Path, table: &Path) -> Scenario {
    let options = LoadOptions {
        fleet: Some(table.to_path_buf()),
        ..LoadOptions::default()
    };
    Scenario::load(scenario, &options).unwrap()
}

/// The reader polars replaced: `csv` records, one `RowInterner::device` and one
/// `Fleet::push` per row.
fn rowwise_csv(scenario: &Scenario, table: &Path) -> Fleet {
    let mut catalog = scenario.initial.catalog.clone();
    let mut fleet = Fleet::new();
    let mut reader = csv::Reader::from_path(table).unwrap();
    let header = reader.headers().unwrap().clone();
    let header: Vec<&str> = header.iter().collect();
    let pos = map_columns(table, Some(1), &header).unwrap();
    let mut interner = RowInterner::default();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).unwrap() {
        let cell = |c: usize| pos[c].and_then(|i| record.get(i)).unwrap_or("");
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
        fleet
            .push(interner.device(&mut catalog, &row).unwrap())
            .unwrap();
    }
    fleet
}

fn import(c: &mut Criterion) {
    let f = files();
    let check = load(&f.scenario, &f.parquet);
    assert_eq!(check.initial.fleet.len(), N_DEVICES);
    drop(check);

    let mut group = c.benchmark_group("import_parquet_10m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(12))
        .throughput(Throughput::Elements(N_DEVICES as u64));
    group.bench_function("strings", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.parquet)))
    });
    group.bench_function("categorical", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.parquet_categorical)))
    });
    group.bench_function("unsorted_ids", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.parquet_unsorted)))
    });
    group.finish();

    let mut group = c.benchmark_group("import_csv_1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(N_CSV as u64));
    group.bench_function("polars", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.csv)))
    });
    let base = Scenario::load(&f.scenario, &LoadOptions::default()).unwrap();
    group.bench_function("rowwise", |b| {
        b.iter_with_large_drop(|| rowwise_csv(&base, black_box(&f.csv)))
    });
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
