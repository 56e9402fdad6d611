//! `resolve_pass_10m`: one resolver pass over a synthetic fleet of 10M devices.
//!
//! The catalog: 4 cohorts (one with version checking disabled, R17), 3 hardware versions,
//! 40 versions (pre-releases included), ~100 releases (Full, MPT, Delta; some payloads
//! missing), normal and staged activations, a few pulls, and project keys (one with an OTA
//! cohort override, R9). The fleet: 10M devices, 10% staged, 1% with a release override,
//! 8% reporting with a project key.
//!
//! Measured: the fast path in bulk, parallel (`DecisionTable::resolve_all_packed` with a
//! warm table, with a table rebuilt every pass, and on one thread; `resolve_all` into
//! unpacked decisions), and per device on the first 1M devices, the fast path's `decide`
//! and the reference resolver, one device after the other.
//!
//! The fleet is built through `Fleet::push` (its columns are private), which takes
//! about 10 s for 10M devices; that is outside every measurement.
//!
//! Run with `cargo bench --bench resolve`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use otasim::catalog::{
    Actor, Catalog, Cohort, Percent, ProjectKey, Release, ReleaseKind, Rollout, DEFAULT_COHORT,
};
use otasim::fleet::{DeviceReport, Fleet, NewDevice};
use otasim::ids::{CohortId, DeviceIdx, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId};
use otasim::resolver::fast::{column_bytes_per_device, DecisionTable, PackedDecision};
use otasim::resolver::{self, Decision, NoTrail, Rule};

const N_DEVICES: usize = 10_000_000;
const N_PER_DEVICE: usize = 1_000_000;

/// The bench catalog and the ids the fleet draws from.
struct Setup {
    catalog: Catalog,
    fulls: Vec<ReleaseId>,
}

fn catalog() -> Setup {
    let mut catalog = Catalog::new();
    let main = SoftwareTypeId(0);
    let cohort = |name: &str, disable_version_checking| Cohort {
        name: name.to_string(),
        disable_version_checking,
        protected: true,
        approval_team: None,
    };
    catalog
        .define_cohort(cohort(DEFAULT_COHORT, false))
        .unwrap();
    let beta = catalog.define_cohort(cohort("beta", false)).unwrap();
    let stable = catalog.define_cohort(cohort("stable", false)).unwrap();
    let canary = catalog.define_cohort(cohort("canary", true)).unwrap();
    catalog
        .define_project_key(ProjectKey {
            name: "recovery".to_string(),
            ota_cohort_override: Some(stable),
        })
        .unwrap();
    catalog
        .define_project_key(ProjectKey {
            name: "factory".to_string(),
            ota_cohort_override: None,
        })
        .unwrap();
    let hardware: Vec<HardwareId> = ["evt", "dvt", "pvt"]
        .iter()
        .map(|h| catalog.intern_hardware(h).unwrap())
        .collect();

    // 36 releases 1.m.p, then 2.0.0-rc.1, 2.0.0-rc.2, 2.0.0, 2.0.1: 40 versions.
    let mut names: Vec<String> = (0..36).map(|i| format!("1.{}.{}", i / 4, i % 4)).collect();
    names.extend(["2.0.0-rc.1", "2.0.0-rc.2", "2.0.0", "2.0.1"].map(String::from));
    let versions: Vec<_> = names
        .iter()
        .map(|v| catalog.intern_version(main, v).unwrap())
        .collect();

    let payloads = |skip_pvt: bool| -> Vec<(HardwareId, u64)> {
        hardware
            .iter()
            .filter(|&&h| !(skip_pvt && h == hardware[2]))
            .map(|&h| (h, 1_500_000 + u64::from(h.0) * 10_000))
            .collect()
    };
    let add = |catalog: &mut Catalog, kind, skip_pvt| {
        catalog
            .add_release(Release {
                software_type: main,
                kind,
                payloads: payloads(skip_pvt),
                deleted: false,
            })
            .unwrap()
    };
    let mut fulls = Vec::new();
    for (i, &version) in versions.iter().enumerate() {
        let kind = ReleaseKind::Full {
            version,
            must_pass_through: i % 12 == 11,
        };
        fulls.push(add(&mut catalog, kind, i % 5 == 4));
    }
    let mut deltas = Vec::new();
    for i in 0..versions.len() - 1 {
        if i >= 20 {
            let kind = ReleaseKind::Delta {
                from: versions[i],
                to: versions[i + 1],
            };
            deltas.push(add(&mut catalog, kind, i % 3 == 0));
        }
        if i % 2 == 0 && i + 2 < versions.len() {
            let kind = ReleaseKind::Delta {
                from: versions[i],
                to: versions[i + 2],
            };
            deltas.push(add(&mut catalog, kind, i % 3 == 1));
        }
    }
    // Straight to 2.0.0 from every other 1.x version below 1.8.2.
    for i in (0..34).step_by(2) {
        let kind = ReleaseKind::Delta {
            from: versions[i],
            to: versions[38],
        };
        deltas.push(add(&mut catalog, kind, false));
    }

    let anon = Actor::Anonymous;
    let staged = |p| Rollout::Staged(Percent::whole(p));
    for (i, &r) in fulls.iter().enumerate() {
        if i < 34 {
            catalog
                .activate(r, CohortId(0), Rollout::Normal, anon)
                .unwrap();
            catalog.activate(r, beta, Rollout::Normal, anon).unwrap();
        } else {
            catalog.activate(r, beta, staged(50), anon).unwrap();
        }
        let in_stable = if i < 30 { Rollout::Normal } else { staged(10) };
        catalog.activate(r, stable, in_stable, anon).unwrap();
        let in_canary = if i + 1 < fulls.len() {
            Rollout::Normal
        } else {
            staged(20)
        };
        catalog.activate(r, canary, in_canary, anon).unwrap();
    }
    for (i, &r) in deltas.iter().enumerate() {
        catalog
            .activate(r, CohortId(0), Rollout::Normal, anon)
            .unwrap();
        let in_beta = if i % 4 == 0 {
            staged(30)
        } else {
            Rollout::Normal
        };
        catalog.activate(r, beta, in_beta, anon).unwrap();
    }
    catalog.pull(fulls[33], CohortId(0), anon).unwrap();
    catalog.pull(deltas[3], CohortId(0), anon).unwrap();
    Setup { catalog, fulls }
}

fn fleet(setup: &Setup, n: usize) -> Fleet {
    let catalog = &setup.catalog;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n_versions = catalog.n_versions() as u32;
    let mut fleet = Fleet::new();
    for i in 0..n {
        let cohort = match rng.gen_range(0..100) {
            0..=69 => 0,
            70..=79 => 1,
            80..=94 => 2,
            _ => 3,
        };
        let project_key = match rng.gen_range(0..100) {
            0..=2 => Some(ProjectKeyId(0)),
            3..=7 => Some(ProjectKeyId(1)),
            _ => None,
        };
        let release_override =
            (rng.gen_range(0..100) == 0).then(|| setup.fulls[rng.gen_range(0..setup.fulls.len())]);
        let report = DeviceReport {
            software_type: SoftwareTypeId(0),
            version: otasim::ids::VersionId(rng.gen_range(0..n_versions)),
            hardware: HardwareId(rng.gen_range(0..3)),
            project_key,
            cohort: CohortId(cohort),
            staged: rng.gen_range(0..10) == 0,
            release_override,
        };
        fleet
            .push(NewDevice {
                id: format!("SN{i:08}"),
                report,
                last_seen: None,
            })
            .unwrap();
    }
    fleet
}

fn resolve_pass_10m(c: &mut Criterion) {
    let started = Instant::now();
    let setup = catalog();
    let catalog = &setup.catalog;
    let fleet = fleet(&setup, N_DEVICES);
    let n_releases = catalog.releases().count();
    let n_activations = catalog.activations().count();
    println!(
        "resolve_pass_10m: {} devices, {} versions, {n_releases} releases, {n_activations} activations, built in {:.1?}",
        fleet.len(),
        catalog.n_versions(),
        started.elapsed()
    );
    println!(
        "resolve_pass_10m: the fast path reads {:.3} bytes per device of fleet columns and writes a {}-byte packed decision ({} bytes unpacked)",
        column_bytes_per_device(&fleet),
        std::mem::size_of::<PackedDecision>(),
        std::mem::size_of::<Decision>()
    );

    let table = DecisionTable::new(catalog);
    let mut packed = vec![PackedDecision::NONE; fleet.len()];
    let mut out = vec![Decision::NONE; fleet.len()];
    table.resolve_all_packed(catalog, &fleet, &mut packed);
    table.resolve_all(catalog, &fleet, &mut out);
    let mut by_rule = [0usize; Rule::ALL.len()];
    for p in &packed {
        by_rule[Rule::ALL.iter().position(|&r| r == p.rule()).unwrap()] += 1;
    }
    let by_rule: Vec<String> = Rule::ALL
        .iter()
        .zip(by_rule)
        .map(|(rule, n)| format!("{rule} {n}"))
        .collect();
    println!(
        "resolve_pass_10m: decisions by rule: {}",
        by_rule.join(", ")
    );

    let mut group = c.benchmark_group("resolve_pass_10m");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(fleet.len() as u64));
    group.bench_function("fast_packed", |b| {
        b.iter(|| table.resolve_all_packed(catalog, &fleet, black_box(&mut packed)))
    });
    group.bench_function("fast_packed_new_table", |b| {
        b.iter(|| {
            let table = DecisionTable::new(catalog);
            table.resolve_all_packed(catalog, &fleet, black_box(&mut packed));
        })
    });
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    group.bench_function("fast_packed_1_thread", |b| {
        b.iter(|| {
            one_thread.install(|| table.resolve_all_packed(catalog, &fleet, black_box(&mut packed)))
        })
    });
    group.bench_function("fast_decisions", |b| {
        b.iter(|| table.resolve_all(catalog, &fleet, black_box(&mut out)))
    });
    group.finish();

    // The reference is slow: one device at a time, on the first 1M devices, after
    // checking that both paths agree on the first 100k.
    let reports: Vec<DeviceReport> = (0..N_PER_DEVICE)
        .map(|i| fleet.report(DeviceIdx(i as u32)))
        .collect();
    for ((report, &fast), &packed) in reports.iter().zip(&out).zip(&packed).take(100_000) {
        assert_eq!(resolver::resolve(catalog, report, &mut NoTrail), fast);
        assert_eq!(packed.get(), fast);
    }
    let mut group = c.benchmark_group("resolve_pass_10m/per_device_1m");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(N_PER_DEVICE as u64));
    group.bench_function("reference", |b| {
        b.iter(|| {
            for report in &reports {
                black_box(resolver::resolve(catalog, report, &mut NoTrail));
            }
        })
    });
    group.bench_function("fast_decide", |b| {
        b.iter(|| {
            for report in &reports {
                black_box(table.decide(catalog, report));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, resolve_pass_10m);
criterion_main!(benches);
