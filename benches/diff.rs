//! `otasim diff` on the 10M-device Parquet fleet of `import_parquet_10m`, timed as a whole
//! process (load, two resolve passes, comparison, grouping, output):
//!
//! - `diff_10m/variant`: `diff S --fleet fleet.parquet --at 0 --variant
//!   precedence=full,delta,must_pass_through`, which moves every device that had a delta
//!   to the full release (millions of differing devices, a few hundred groups).
//! - `diff_10m/expected`: `diff S --fleet fleet.parquet --at 0 --expected
//!   expected.parquet`, a 10M-row table of the exact answers (nothing differs).
//! - `diff_10m/two_scenarios`: `diff S S2 --fleet fleet.parquet --at 0`, S2 a copy of S
//!   in another file: two scenarios on one table, which is read once.
//!
//! Run with `cargo bench --bench diff`; the binary is the bench profile's `otasim`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use polars::prelude::{Column, DataFrame};

use otasim::diff::resolve_fleet;
use otasim::scenario::{LoadOptions, Scenario};
use otasim::table_out::write_parquet;

#[path = "common/fleet_10m.rs"]
mod fleet_10m;
use fleet_10m::{fleet_frame, scenario_text, N_DEVICES};

struct Files {
    _dir: tempfile::TempDir,
    scenario: PathBuf,
    copy: PathBuf,
    fleet: PathBuf,
    expected: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("import.toml");
    std::fs::write(&scenario, scenario_text()).unwrap();
    let copy = dir.path().join("copy.toml");
    std::fs::write(&copy, scenario_text()).unwrap();
    let fleet = dir.path().join("fleet.parquet");
    write_parquet(&fleet, &mut fleet_frame(N_DEVICES, false, true)).unwrap();
    // The exact answers, recorded as another system would.
    let options = LoadOptions {
        fleet: Some(fleet.clone()),
        ..LoadOptions::default()
    };
    let mut s = Scenario::load(&scenario, &options).unwrap();
    let state = s.take_state_at(0).unwrap();
    let decisions = resolve_fleet(&state.catalog, &state.fleet);
    let c = &state.catalog;
    let targets: Vec<String> = c
        .releases()
        .map(|(_, r)| c.version(r.target()).to_string())
        .collect();
    let ids: Vec<String> = state.fleet.ids().map(|i| i.into_owned()).collect();
    let rules: Vec<&str> = decisions.iter().map(|d| d.rule().name()).collect();
    let target: Vec<Option<&str>> = decisions
        .iter()
        .map(|d| d.release().map(|r| targets[r.index()].as_str()))
        .collect();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("device_id".into(), ids),
        Column::new("rule".into(), rules),
        Column::new("target_version".into(), target),
    ])
    .unwrap();
    let expected = dir.path().join("expected.parquet");
    write_parquet(&expected, &mut df).unwrap();
    Files {
        _dir: dir,
        scenario,
        copy,
        fleet,
        expected,
    }
}

/// One whole `otasim diff` process; returns its exit status (0 or 1, never 2).
fn diff(scenario: &Path, fleet: &Path, extra: &[&str]) -> i32 {
    let status = Command::new(env!("CARGO_BIN_EXE_otasim"))
        .arg("diff")
        .arg(scenario)
        .arg("--fleet")
        .arg(fleet)
        .args(["--at", "0", "--format", "csv"])
        .args(extra)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let code = status.code().unwrap();
    assert!(code == 0 || code == 1, "otasim diff failed: {status}");
    code
}

fn bench(c: &mut Criterion) {
    let f = files();
    let variant = ["--variant", "precedence=full,delta,must_pass_through"];
    let expected = ["--expected", f.expected.to_str().unwrap()];
    let two = [f.copy.to_str().unwrap()];
    assert_eq!(diff(&f.scenario, &f.fleet, &variant), 1);
    assert_eq!(diff(&f.scenario, &f.fleet, &expected), 0);
    assert_eq!(diff(&f.scenario, &f.fleet, &two), 0);

    let mut group = c.benchmark_group("diff_10m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("variant", |b| {
        b.iter(|| diff(&f.scenario, &f.fleet, &variant))
    });
    group.bench_function("expected", |b| {
        b.iter(|| diff(&f.scenario, &f.fleet, &expected))
    });
    group.bench_function("two_scenarios", |b| {
        b.iter(|| diff(&f.scenario, &f.fleet, &two))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
