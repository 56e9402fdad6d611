//! The version matrix (R23) and where devices end up (R24).

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::catalog::Catalog;
use crate::fleet::{DeviceReport, Fleet};
use crate::ids::{CohortId, SoftwareTypeId, VersionId};
use crate::resolver::{self, Decision, NoTrail, Rule};

/// Where a device ends up if nothing changes (R24).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Final {
    /// It settles on this version.
    Version(VersionId),
    /// Installing answers forever returns to a version already passed through.
    Cycle,
}

/// R24: applies the resolver repeatedly, each step installing successfully, until it
/// returns no update; a version seen twice is a cycle.
pub fn final_version(catalog: &Catalog, device: &DeviceReport) -> Final {
    let mut report = *device;
    let mut seen: Vec<VersionId> = vec![report.version];
    loop {
        let Decision { release, .. } = resolver::resolve(catalog, &report, &mut NoTrail);
        let Some(release) = release else {
            return Final::Version(report.version);
        };
        let next = catalog.release(release).target();
        if seen.contains(&next) {
            return Final::Cycle;
        }
        seen.push(next);
        report.version = next;
    }
}

/// One row of a version matrix: devices of a cohort on `current` whose next version is
/// `next` by `rule`, and who end at `final_version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixRow {
    /// The devices' stored cohort.
    pub cohort: CohortId,
    /// Their software type.
    pub software_type: SoftwareTypeId,
    /// The version they report.
    pub current: VersionId,
    /// The version they report after the resolver's answer (`current` for none).
    pub next: VersionId,
    /// The rule of the answer.
    pub rule: Rule,
    /// How many devices.
    pub devices: u64,
    /// Where they end up (R24).
    pub final_version: Final,
}

/// Resolver answer and final version for one device report; memoised because a fleet
/// holds few distinct reports.
#[derive(Default)]
pub struct Memo {
    cache: HashMap<DeviceReport, (Decision, Final)>,
}

impl Memo {
    /// The decision and final version for `report`.
    pub fn get(&mut self, catalog: &Catalog, report: &DeviceReport) -> (Decision, Final) {
        *self.cache.entry(*report).or_insert_with(|| {
            (
                resolver::resolve(catalog, report, &mut NoTrail),
                final_version(catalog, report),
            )
        })
    }
}

/// The matrix of every cohort (or one), rows sorted as docs/semantics.md says.
pub fn version_matrix(catalog: &Catalog, fleet: &Fleet, only: Option<CohortId>) -> Vec<MatrixRow> {
    let mut memo = Memo::default();
    let mut cells: HashMap<(CohortId, SoftwareTypeId, VersionId, VersionId, Rule, Final), u64> =
        HashMap::new();
    for device in fleet.present() {
        let report = fleet.report(device);
        if only.is_some_and(|c| c != report.cohort) {
            continue;
        }
        let (decision, fin) = memo.get(catalog, &report);
        let next = decision
            .release
            .map_or(report.version, |r| catalog.release(r).target());
        *cells
            .entry((
                report.cohort,
                report.software_type,
                report.version,
                next,
                decision.rule,
                fin,
            ))
            .or_default() += 1;
    }
    let mut rows: Vec<MatrixRow> = cells
        .into_iter()
        .map(
            |((cohort, software_type, current, next, rule, final_version), devices)| MatrixRow {
                cohort,
                software_type,
                current,
                next,
                rule,
                devices,
                final_version,
            },
        )
        .collect();
    rows.sort_by(|a, b| compare_rows(catalog, a, b));
    rows
}

fn compare_rows(catalog: &Catalog, a: &MatrixRow, b: &MatrixRow) -> Ordering {
    let v = |x: VersionId, y: VersionId| catalog.version(x).cmp_total(catalog.version(y));
    let fin = |x: Final, y: Final| match (x, y) {
        (Final::Version(x), Final::Version(y)) => v(x, y),
        (Final::Version(_), Final::Cycle) => Ordering::Less,
        (Final::Cycle, Final::Version(_)) => Ordering::Greater,
        (Final::Cycle, Final::Cycle) => Ordering::Equal,
    };
    catalog
        .cohort(a.cohort)
        .name
        .cmp(&catalog.cohort(b.cohort).name)
        .then_with(|| {
            catalog
                .software_type(a.software_type)
                .name
                .cmp(&catalog.software_type(b.software_type).name)
        })
        .then_with(|| v(a.current, b.current))
        .then_with(|| v(a.next, b.next))
        .then_with(|| a.rule.cmp(&b.rule))
        .then_with(|| fin(a.final_version, b.final_version))
}
