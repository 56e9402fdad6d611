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
//! - `import_parquet_10m/ids_unread`: the string table loaded as `otasim matrix` loads
//!   it (`DeviceIds::Unread`: nothing in the scenario names a device, so the id column
//!   is left in the file), against `strings` reading, checking and storing every id.
//! - `import_parquet_10m/table_direct` and `import_parquet_10m/table_polars_only`: the
//!   string table alone read into an empty fleet (no scenario file), by the direct
//!   reader and by polars alone (the path taken for whatever the direct reader does not
//!   cover), so the fallback's cost stays measured next to the reader it backs up.
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

use otasim::fleet::Fleet;
use otasim::scenario::table::{
    map_columns, read_parquet_table, DeviceIds, ParquetDecoder, RowInterner, TextRow,
};
use otasim::scenario::{LoadOptions, Scenario};
use otasim::table_out::{write_csv, write_parquet};

#[path = "common/fleet_10m.rs"]
mod fleet_10m;
use fleet_10m::{fleet_frame, scenario_text, N_CSV, N_DEVICES};

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
    load_ids(scenario, table, DeviceIds::Read)
}

fn load_ids(scenario: &Path, table: &Path, device_ids: DeviceIds) -> Scenario {
    let options = LoadOptions {
        fleet: Some(table.to_path_buf()),
        device_ids,
        ..LoadOptions::default()
    };
    Scenario::load(scenario, &options).unwrap()
}

/// The fleet of `table` read with `decoder` into an empty fleet, `base`'s catalog copied.
fn table_only(base: &Scenario, table: &Path, decoder: ParquetDecoder) -> Fleet {
    let mut catalog = base.initial.catalog.clone();
    let mut fleet = Fleet::new();
    read_parquet_table(table, &mut catalog, &mut fleet, decoder).unwrap();
    fleet
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
        let row = TextRow {
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
    group.bench_function("ids_unread", |b| {
        b.iter_with_large_drop(|| load_ids(&f.scenario, black_box(&f.parquet), DeviceIds::Unread))
    });
    group.bench_function("categorical", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.parquet_categorical)))
    });
    group.bench_function("unsorted_ids", |b| {
        b.iter_with_large_drop(|| load(&f.scenario, black_box(&f.parquet_unsorted)))
    });
    let base = Scenario::load(&f.scenario, &LoadOptions::default()).unwrap();
    for (name, decoder) in [
        ("table_direct", ParquetDecoder::Direct),
        ("table_polars_only", ParquetDecoder::Polars),
    ] {
        group.bench_function(name, |b| {
            b.iter_with_large_drop(|| table_only(&base, black_box(&f.parquet), decoder))
        });
    }
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
