//! R27: the candidate Deltas F → V, from the device classes and their R24 walks.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::catalog::{Catalog, ReleaseKind};
use crate::fleet::{DeviceReport, Fleet};
use crate::ids::{HardwareId, VersionId};
use crate::matrix;

use super::evaluate::{walk, Walk};
use super::{device_of, Candidate, CandidateHardware, PlanError, Target};

/// The present devices counted per class (every field the resolver reads), with each
/// class's walk without a plan.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Each class's representative report and its number of devices.
    pub classes: Vec<(DeviceReport, u64)>,
    /// `walks[i]`: the R24 walk of `classes[i]`.
    pub walks: Vec<Walk>,
}

/// Counts the present devices per class and walks every class (R24). A walk that
/// cycles is an error naming a device of that class (R29).
pub fn classes(catalog: &Catalog, fleet: &Fleet) -> Result<Classes, PlanError> {
    let classes = matrix::count_reports(catalog, fleet, None);
    let walks: Vec<Result<Walk, usize>> = classes
        .par_iter()
        .enumerate()
        .map(|(i, (r, _))| walk(catalog, r).map_err(|_| i))
        .collect();
    let walks = walks
        .into_iter()
        .collect::<Result<Vec<Walk>, usize>>()
        .map_err(|i| cycle_error(catalog, fleet, &classes[i].0, None))?;
    Ok(Classes { classes, walks })
}

/// R29: the error for a class whose walk cycles, naming one of its devices.
pub fn cycle_error(
    catalog: &Catalog,
    fleet: &Fleet,
    report: &DeviceReport,
    planned: Option<&str>,
) -> PlanError {
    let device = device_of(fleet, report);
    let tail = match planned {
        None => String::new(),
        Some(d) => format!(" once it takes the planned delta {d}"),
    };
    PlanError(format!(
        "device \"{device}\" (on {}) has an update walk that cycles{tail}, so its fleet bytes are undefined (R24, R29)",
        catalog.version(report.version)
    ))
}

/// R27: a candidate for every version F < V that a present device of V's software type
/// reports or passes through on its walk, unless a Delta F → V exists; `only` (from
/// `--from`) restricts the From versions. Candidates come in ascending order of F, with
/// their device counts; sizes are left unknown for [`super::sizes`] to fill.
pub fn candidates(
    catalog: &Catalog,
    target: &Target,
    classes: &Classes,
    only: Option<&[VersionId]>,
) -> Vec<Candidate> {
    let v = catalog.version(target.version);
    let exists = |f: VersionId| {
        catalog.releases().any(|(_, r)| {
            !r.deleted
                && r.software_type == target.software_type
                && r.kind
                    == ReleaseKind::Delta {
                        from: f,
                        to: target.version,
                    }
        })
    };
    // From version -> hardware -> devices reporting it.
    let mut froms: BTreeMap<VersionId, BTreeMap<HardwareId, u64>> = BTreeMap::new();
    for ((report, n), w) in classes.classes.iter().zip(&classes.walks) {
        if report.software_type != target.software_type {
            continue;
        }
        for &f in &w.versions {
            froms.entry(f).or_default();
        }
        *froms
            .entry(report.version)
            .or_default()
            .entry(report.hardware)
            .or_default() += n;
    }
    let full = catalog.release(target.full);
    let mut out: Vec<Candidate> = froms
        .into_iter()
        .filter(|&(f, _)| v.is_greater_than(catalog.version(f)))
        .filter(|&(f, _)| only.is_none_or(|o| o.contains(&f)))
        .filter(|&(f, _)| !exists(f))
        .map(|(from, by_hw)| Candidate {
            from,
            devices: by_hw.values().sum(),
            hardware: full
                .payloads
                .iter()
                .map(|&(hardware, full_bytes)| CandidateHardware {
                    hardware,
                    devices: by_hw.get(&hardware).copied().unwrap_or(0),
                    full_bytes,
                    delta_bytes: None,
                    source: None,
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| catalog.version(a.from).cmp_total(catalog.version(b.from)));
    out
}
