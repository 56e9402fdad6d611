//! The version matrix (R23) and where devices end up (R24).
//!
//! Devices are first counted per *class*: every field the resolver reads (stored cohort,
//! project key, version, hardware, staged flag, override). A fleet of millions has a few
//! thousand classes, so the resolver and the R24 walk run once per class, not per device.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use rayon::prelude::*;

use crate::catalog::Catalog;
use crate::fleet::{Columns, DeviceReport, Fleet};
use crate::ids::{CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId};
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

/// The dense index space of device classes: (stored cohort, project key or none,
/// version, hardware, staged, release override or none). Every field the resolver reads
/// is there, so one class has one answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ClassSpace {
    n_keys: usize,
    n_versions: usize,
    n_hardware: usize,
    n_overrides: usize,
    size: usize,
}

/// Beyond this many classes the dense count array is not worth it; a hash map is used.
const MAX_DENSE: usize = 1 << 22;

impl ClassSpace {
    /// The space for `catalog`'s current tables, if small enough to be dense.
    pub fn new(catalog: &Catalog) -> Option<ClassSpace> {
        let n_keys = catalog.project_keys().len() + 1;
        let n_versions = catalog.n_versions().max(1);
        let n_hardware = catalog.hardware_names().len().max(1);
        let n_overrides = catalog.releases().count() + 1;
        let size = catalog
            .cohorts()
            .len()
            .checked_mul(n_keys)?
            .checked_mul(n_versions)?
            .checked_mul(n_hardware)?
            .checked_mul(2)?
            .checked_mul(n_overrides)?;
        (size <= MAX_DENSE).then_some(ClassSpace {
            n_keys,
            n_versions,
            n_hardware,
            n_overrides,
            size,
        })
    }

    /// The number of classes.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The class of a device.
    #[inline]
    pub fn index(&self, r: &DeviceReport) -> usize {
        let key = r.project_key.map_or(0, |k| k.index() + 1);
        let o = r.release_override.map_or(0, |o| o.index() + 1);
        ((((r.cohort.index() * self.n_keys + key) * self.n_versions + r.version.index())
            * self.n_hardware
            + r.hardware.index())
            * 2
            + usize::from(r.staged))
            * self.n_overrides
            + o
    }

    /// The classes of rows `rows` of `cols` into `out` (as [`ClassSpace::index`] gives
    /// them), a column at a time: each pass is a simple loop over one array, which the
    /// compiler vectorises, where the per-device form builds a report and chains six
    /// multiplications per device. Class numbers fit a `u32` ([`MAX_DENSE`]).
    pub fn index_rows(&self, cols: &Columns<'_>, rows: Range<usize>, out: &mut [u32]) {
        let out = &mut out[..rows.len()];
        let (keys, versions) = (self.n_keys as u32, self.n_versions as u32);
        let (hardware, overrides) = (self.n_hardware as u32, self.n_overrides as u32);
        for (x, c) in out.iter_mut().zip(&cols.cohort[rows.clone()]) {
            *x = u32::from(c.0) * keys;
        }
        // The columns hold no key as 0 and key k as k + 1, as `index` numbers them;
        // likewise for overrides.
        for (x, &k) in out.iter_mut().zip(&cols.project_key[rows.clone()]) {
            *x = (*x + u32::from(k)) * versions;
        }
        for (x, v) in out.iter_mut().zip(&cols.version[rows.clone()]) {
            *x = (*x + v.0) * hardware;
        }
        for (x, h) in out.iter_mut().zip(&cols.hardware[rows.clone()]) {
            *x = (*x + u32::from(h.0)) * 2;
        }
        for (x, i) in out.iter_mut().zip(rows.clone()) {
            *x = (*x + u32::from(cols.staged.get(i))) * overrides;
        }
        for (x, &o) in out.iter_mut().zip(&cols.release_override[rows]) {
            *x += o;
        }
    }

    /// The stored cohort of class `i`.
    #[inline]
    pub fn cohort(&self, i: usize) -> CohortId {
        CohortId(
            (i / (self.n_overrides * 2 * self.n_hardware * self.n_versions * self.n_keys)) as u16,
        )
    }

    /// The version of class `i`.
    #[inline]
    pub fn version(&self, i: usize) -> VersionId {
        VersionId(((i / (self.n_overrides * 2 * self.n_hardware)) % self.n_versions) as u32)
    }

    /// The number of cohorts the space has room for.
    pub fn n_cohorts(&self) -> usize {
        self.size / (self.n_overrides * 2 * self.n_hardware * self.n_versions * self.n_keys)
    }

    /// The representative report of class `i` (`catalog` supplies the software type).
    pub fn report(&self, catalog: &Catalog, i: usize) -> DeviceReport {
        let o = i % self.n_overrides;
        let i = i / self.n_overrides;
        let staged = i % 2 == 1;
        let i = i / 2;
        let hardware = HardwareId((i % self.n_hardware) as u16);
        let i = i / self.n_hardware;
        let version = VersionId((i % self.n_versions) as u32);
        let i = i / self.n_versions;
        let key = i % self.n_keys;
        let cohort = CohortId((i / self.n_keys) as u16);
        DeviceReport {
            software_type: catalog.version_software_type(version),
            version,
            hardware,
            project_key: (key > 0).then(|| ProjectKeyId((key - 1) as u16)),
            cohort,
            staged,
            release_override: (o > 0).then(|| ReleaseId((o - 1) as u32)),
        }
    }
}

/// Devices counted per distinct report, for the present devices of one cohort or all.
pub fn count_reports(
    catalog: &Catalog,
    fleet: &Fleet,
    only: Option<CohortId>,
) -> Vec<(DeviceReport, u64)> {
    let cols = fleet.columns();
    let keep = |i: usize| {
        fleet.is_present(crate::ids::DeviceIdx(i as u32))
            && only.is_none_or(|c| cols.cohort[i] == c)
    };
    let Some(space) = ClassSpace::new(catalog) else {
        let mut sparse: HashMap<DeviceReport, u64> = HashMap::new();
        for i in (0..fleet.len()).filter(|&i| keep(i)) {
            *sparse.entry(cols.report(i)).or_insert(0) += 1;
        }
        let mut out: Vec<(DeviceReport, u64)> = sparse.into_iter().collect();
        out.sort_by_key(|(r, _)| {
            (
                r.cohort,
                r.project_key,
                r.version,
                r.hardware,
                r.staged,
                r.release_override,
            )
        });
        return out;
    };
    const CHUNK: usize = 1 << 14;
    let n = fleet.len();
    let present = fleet.present_flags();
    let dense = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .fold(
            || (vec![0u64; space.size()], vec![0u32; CHUNK]),
            |(mut dense, mut classes), chunk| {
                let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
                space.index_rows(&cols, rows.clone(), &mut classes);
                for (i, &class) in rows.zip(&classes) {
                    if present[i] && only.is_none_or(|c| cols.cohort[i] == c) {
                        dense[class as usize] += 1;
                    }
                }
                (dense, classes)
            },
        )
        .map(|(dense, _)| dense)
        .reduce(
            || vec![0u64; space.size()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        );
    dense
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(i, &n)| (space.report(catalog, i), n))
        .collect()
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

/// A matrix row split further by staged flag and release, for analytics snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetailedRow {
    /// The row as in the matrix.
    pub row: MatrixRow,
    /// Whether these devices are staged (R10).
    pub staged: bool,
    /// The release of the answer.
    pub release: Option<ReleaseId>,
}

type CellKey = (
    CohortId,
    SoftwareTypeId,
    VersionId,
    VersionId,
    Rule,
    Final,
    bool,
    Option<ReleaseId>,
);

/// The matrix split by staged flag and release; rows sorted like [`version_matrix`]'s,
/// then unstaged before staged.
pub fn detailed_matrix(
    catalog: &Catalog,
    fleet: &Fleet,
    only: Option<CohortId>,
) -> Vec<DetailedRow> {
    let mut cells: HashMap<CellKey, u64> = HashMap::new();
    // Classes are resolved and walked (R24) in parallel: a 10M-device fleet has about
    // a thousand, tens of milliseconds of the reference resolver, while the cells are
    // summed in the classes' order as before.
    let resolved: Vec<(DeviceReport, u64, Decision, Final)> = count_reports(catalog, fleet, only)
        .into_par_iter()
        .map(|(report, n)| {
            let decision = resolver::resolve(catalog, &report, &mut NoTrail);
            (report, n, decision, final_version(catalog, &report))
        })
        .collect();
    for (report, n, decision, fin) in resolved {
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
                report.staged,
                decision.release,
            ))
            .or_default() += n;
    }
    let mut rows: Vec<DetailedRow> = cells
        .into_iter()
        .map(
            |(
                (cohort, software_type, current, next, rule, final_version, staged, release),
                devices,
            )| {
                DetailedRow {
                    row: MatrixRow {
                        cohort,
                        software_type,
                        current,
                        next,
                        rule,
                        devices,
                        final_version,
                    },
                    staged,
                    release,
                }
            },
        )
        .collect();
    rows.sort_by(|a, b| {
        compare_rows(catalog, &a.row, &b.row)
            .then(a.staged.cmp(&b.staged))
            .then(a.release.cmp(&b.release))
    });
    rows
}

/// The matrix of every cohort (or one), rows sorted as docs/semantics.md says.
pub fn version_matrix(catalog: &Catalog, fleet: &Fleet, only: Option<CohortId>) -> Vec<MatrixRow> {
    let mut rows: Vec<MatrixRow> = Vec::new();
    for d in detailed_matrix(catalog, fleet, only) {
        match rows.last_mut() {
            Some(last) if same_cell(last, &d.row) => last.devices += d.row.devices,
            _ => rows.push(d.row),
        }
    }
    rows
}

fn same_cell(a: &MatrixRow, b: &MatrixRow) -> bool {
    (
        a.cohort,
        a.software_type,
        a.current,
        a.next,
        a.rule,
        a.final_version,
    ) == (
        b.cohort,
        b.software_type,
        b.current,
        b.next,
        b.rule,
        b.final_version,
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolver::testkit;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Classes computed a column at a time are the per-device classes.
        #[test]
        fn index_rows_is_index(seed in 0u64..u64::MAX, n in 0usize..300, start in 0usize..40) {
            let world = testkit::random_world(seed, n);
            let Some(space) = ClassSpace::new(&world.catalog) else { return Ok(()) };
            let cols = world.fleet.columns();
            let start = start.min(n);
            let mut out = vec![0u32; n - start];
            space.index_rows(&cols, start..n, &mut out);
            for (j, &class) in out.iter().enumerate() {
                proptest::prop_assert_eq!(class as usize, space.index(&cols.report(start + j)));
            }
        }
    }
}
