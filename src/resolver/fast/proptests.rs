//! The fast path equals the reference: random catalogs and fleets from
//! [`crate::resolver::testkit`], every device compared, through [`DecisionTable::decide`]
//! and through [`DecisionTable::resolve_all`] (with small random chunk sizes, so that
//! chunk boundaries fall everywhere), in dense and in hash-map storage.

use proptest::prelude::*;

use super::{DecisionTable, PackedDecision};
use crate::catalog::Catalog;
use crate::fleet::{DeviceReport, Fleet};
use crate::ids::{CohortId, DeviceIdx, HardwareId, ProjectKeyId, SoftwareTypeId};
use crate::resolver::testkit::{self, override_candidates, versions_of, World};
use crate::resolver::{reference, Decision, NoTrail, Rule};

fn table(catalog: &Catalog, dense: bool) -> DecisionTable {
    let table = if dense {
        DecisionTable::new(catalog)
    } else {
        DecisionTable::with_dense_limit(catalog, 0)
    };
    assert_eq!(table.is_dense(), dense);
    table
}

/// A readable account of a disagreement, naming things as outputs do.
fn describe(catalog: &Catalog, report: &DeviceReport, decision: Decision) -> String {
    let release = decision
        .release
        .map_or("-".to_string(), |r| catalog.release_name(r));
    format!(
        "{} on {} (hardware {}, cohort {}, key {:?}, staged {}, override {:?}) → {} {release}",
        catalog.software_type(report.software_type).name,
        catalog.version(report.version),
        catalog.hardware_name(report.hardware),
        catalog.cohort(report.cohort).name,
        report.project_key.map(|k| &catalog.project_key(k).name),
        report.staged,
        report.release_override.map(|r| catalog.release_name(r)),
        decision.rule,
    )
}

/// Checks one report: `decide` (and `bulk`, when given) against the reference.
fn check(
    catalog: &Catalog,
    table: &DecisionTable,
    report: &DeviceReport,
    bulk: Option<Decision>,
) -> Result<(), TestCaseError> {
    let expected = reference::resolve(catalog, report, &mut NoTrail);
    for (how, got) in [
        ("decide", Some(table.decide(catalog, report))),
        ("bulk", bulk),
    ] {
        let Some(got) = got else { continue };
        prop_assert!(
            got == expected,
            "{how} disagrees with the reference\n  expected {}\n  got      {}",
            describe(catalog, report, expected),
            describe(catalog, report, got),
        );
    }
    let plain = report.project_key.is_none()
        && report.release_override.is_none()
        && report.software_type == catalog.version_software_type(report.version);
    if plain {
        // Asked after `decide`, so that the class is filled in a dense table.
        let got = table.decide_plain(
            report.version,
            report.hardware,
            report.cohort,
            report.staged,
        );
        prop_assert!(
            got.is_some() || !table.is_dense(),
            "decide_plain cannot tell a resolved class"
        );
        if let Some(got) = got {
            prop_assert!(
                got.get() == expected,
                "decide_plain disagrees with the reference\n  expected {}\n  got      {}",
                describe(catalog, report, expected),
                describe(catalog, report, got.get()),
            );
        }
    }
    Ok(())
}

/// Every device of the fleet, one by one and in bulk (as decisions and packed).
fn check_fleet(
    catalog: &Catalog,
    fleet: &Fleet,
    table: &DecisionTable,
    chunk: usize,
) -> Result<(), TestCaseError> {
    let mut bulk = vec![Decision::NONE; fleet.len()];
    table.resolve_into(catalog, fleet, &mut bulk, chunk, PackedDecision::get);
    let mut packed = vec![PackedDecision::NONE; fleet.len()];
    table.resolve_into(catalog, fleet, &mut packed, chunk, |p| p);
    for (i, &decision) in bulk.iter().enumerate() {
        prop_assert_eq!(packed[i].get(), decision);
        check(
            catalog,
            table,
            &fleet.report(DeviceIdx(i as u32)),
            Some(decision),
        )?;
    }
    Ok(())
}

/// A random world's catalog and fleet with a table for it that has answered for every
/// device, so that a table a change leaves stale holds stale answers; and the rng to
/// draw changes from.
fn filled_world(
    seed: u64,
    dense: bool,
    chunk: usize,
) -> Result<(impl rand::Rng, Catalog, Fleet, DecisionTable), TestCaseError> {
    let mut rng = testkit::rng(seed);
    let catalog = testkit::random_catalog(&mut rng);
    let fleet = testkit::random_fleet(&mut rng, &catalog, 40);
    let table = table(&catalog, dense);
    check_fleet(&catalog, &fleet, &table, chunk)?;
    Ok((rng, catalog, fleet, table))
}

/// Every report the catalog admits without an override (each software type and version,
/// hardware, cohort, staged flag, no key or each key), and each (version, hardware) with
/// each override it may hold.
fn every_report(catalog: &Catalog) -> Vec<DeviceReport> {
    let mut reports = Vec::new();
    let keys = std::iter::once(None)
        .chain((0..catalog.project_keys().len()).map(|k| Some(ProjectKeyId(k as u16))));
    let keys: Vec<Option<ProjectKeyId>> = keys.collect();
    for t in 0..catalog.software_types().len() {
        let software_type = SoftwareTypeId(t as u16);
        let overrides = override_candidates(catalog, software_type);
        for version in versions_of(catalog, software_type) {
            for h in 0..catalog.hardware_names().len() {
                let base = DeviceReport {
                    software_type,
                    version,
                    hardware: HardwareId(h as u16),
                    project_key: None,
                    cohort: CohortId(0),
                    staged: false,
                    release_override: None,
                };
                for c in 0..catalog.cohorts().len() {
                    for staged in [false, true] {
                        for &project_key in &keys {
                            reports.push(DeviceReport {
                                cohort: CohortId(c as u16),
                                staged,
                                project_key,
                                ..base
                            });
                        }
                    }
                }
                for &release in &overrides {
                    reports.push(DeviceReport {
                        release_override: Some(release),
                        ..base
                    });
                }
            }
        }
    }
    reports
}

proptest! {
    // Each case is a whole random world (catalog and fleet) checked device by device.
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fast_equals_reference_on_random_worlds(
        seed in any::<u64>(),
        n_devices in 0usize..48,
        chunk in 1usize..24,
        dense in any::<bool>(),
    ) {
        let World { catalog, fleet } = testkit::random_world(seed, n_devices);
        check_fleet(&catalog, &fleet, &table(&catalog, dense), chunk)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fast_equals_reference_on_every_class(seed in any::<u64>(), dense in any::<bool>()) {
        let catalog = testkit::random_catalog(&mut testkit::rng(seed));
        let table = table(&catalog, dense);
        for report in every_report(&catalog) {
            check(&catalog, &table, &report, None)?;
        }
    }

    #[test]
    fn rebuilt_table_agrees_after_catalog_changes(
        seed in any::<u64>(),
        n_changes in 1usize..12,
        chunk in 1usize..24,
        dense in any::<bool>(),
    ) {
        let (mut rng, mut catalog, fleet, mut current) = filled_world(seed, dense, chunk)?;
        for _ in 0..n_changes {
            let before = catalog.revision();
            let change = testkit::random_change(&mut rng, &mut catalog, &fleet);
            if catalog.revision() == before {
                prop_assert!(current.is_current(&catalog), "{change:?} changed nothing");
                continue;
            }
            prop_assert!(!current.is_current(&catalog), "{change:?} left the table current");
            current = table(&catalog, dense);
            check_fleet(&catalog, &fleet, &current, chunk)?;
        }
    }

    /// A table refreshed for the cohorts a change touched (`DecisionTable::refresh`),
    /// filled before every change so that a class it failed to forget would keep a
    /// stale answer, agrees with the reference after any sequence of changes; when it
    /// cannot refresh (a global change) a new table is built, as the engine does.
    #[test]
    fn refreshed_table_agrees_after_catalog_changes(
        seed in any::<u64>(),
        n_changes in 1usize..16,
        chunk in 1usize..24,
        dense in any::<bool>(),
    ) {
        let (mut rng, mut catalog, fleet, mut current) = filled_world(seed, dense, chunk)?;
        for _ in 0..n_changes {
            let change = testkit::random_change(&mut rng, &mut catalog, &fleet);
            if !current.is_current(&catalog) && !current.refresh(&catalog) {
                current = table(&catalog, dense);
            }
            prop_assert!(current.is_current(&catalog), "{change:?}");
            check_fleet(&catalog, &fleet, &current, chunk)?;
            for report in every_report(&catalog) {
                check(&catalog, &current, &report, None)?;
            }
        }
    }
}

/// The generator is only as good as the rules it reaches: over a few hundred worlds,
/// every rule decides for some device, and both R17 settings and keys with overrides occur.
#[test]
fn random_worlds_reach_every_rule() {
    let mut seen = [0usize; Rule::ALL.len()];
    let (mut disabled, mut via_key) = (0, 0);
    for seed in 0..300 {
        let World { catalog, fleet } = testkit::random_world(seed, 64);
        for i in 0..fleet.len() {
            let report = fleet.report(DeviceIdx(i as u32));
            let decision = reference::resolve(&catalog, &report, &mut NoTrail);
            seen[Rule::ALL.iter().position(|&r| r == decision.rule).unwrap()] += 1;
            let cohort = reference::effective_cohort(&catalog, &report);
            disabled += usize::from(catalog.cohort(cohort).disable_version_checking);
            via_key += usize::from(cohort != report.cohort);
        }
    }
    for (rule, n) in Rule::ALL.iter().zip(seen) {
        assert!(n >= 50, "rule {rule} decided only {n} times: {seen:?}");
    }
    assert!(disabled >= 100 && via_key >= 100, "{disabled} {via_key}");
}

#[test]
#[should_panic(expected = "decision table built for catalog revision")]
fn a_stale_table_refuses_a_bulk_pass() {
    let World { mut catalog, fleet } = testkit::random_world(3, 10);
    let table = DecisionTable::new(&catalog);
    catalog.set_cohort(CohortId(0), Some(true), None, None);
    let mut out = vec![Decision::NONE; fleet.len()];
    table.resolve_all(&catalog, &fleet, &mut out);
}

/// R32: the random worlds exercise the variants: over a few hundred worlds, many devices
/// get another answer under their world's precedence, and many under `override_fallback`,
/// than under the rules as written, so the equality above covers both.
#[test]
fn r32_random_worlds_reach_every_variant() {
    use crate::resolver::Variant;
    let (mut by_precedence, mut by_fallback) = (0, 0);
    for seed in 0..300 {
        let World { mut catalog, fleet } = testkit::random_world(seed, 64);
        let answers = |catalog: &Catalog| -> Vec<Decision> {
            (0..fleet.len())
                .map(|i| {
                    reference::resolve(catalog, &fleet.report(DeviceIdx(i as u32)), &mut NoTrail)
                })
                .collect()
        };
        let under_variant = answers(&catalog);
        catalog.set_variant(Variant::DEFAULT);
        let as_written = answers(&catalog);
        for (i, (a, b)) in under_variant.iter().zip(&as_written).enumerate() {
            if a == b {
                continue;
            }
            if fleet.report(DeviceIdx(i as u32)).release_override.is_some() {
                by_fallback += 1;
            } else {
                by_precedence += 1;
            }
        }
    }
    assert!(
        by_precedence >= 50 && by_fallback >= 20,
        "{by_precedence} {by_fallback}"
    );
}
