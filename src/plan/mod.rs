//! Delta planning (R27–R31): which Delta releases into a target version V are worth
//! building, priced exactly with the resolver and the R24 walk.
//!
//! The data flows one way: [`candidates`] finds the From versions worth considering
//! (R27) from the device classes and their walks; [`sizes`] prices each candidate's
//! payloads (R30); [`evaluate`] prices plans, both the plain way (a catalog with the plan
//! added, R28, and every class walked, R29) and the fast way the strategies use; and
//! [`strategies`] chooses plans (R31). [`patch`] computes real binary patches for
//! `--images`.

pub mod candidates;
pub mod evaluate;
pub mod patch;
#[cfg(test)]
mod proptests;
pub mod simulate;
pub mod sizes;
pub mod strategies;

use crate::catalog::{Catalog, Release, ReleaseKind};
use crate::fleet::{DeviceReport, Fleet};
use crate::ids::{HardwareId, ReleaseId, SoftwareTypeId, VersionId};

/// An error of a planning input, already phrased with its place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// The version the plan's deltas go to: a live Full release (R27).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The plan's software type.
    pub software_type: SoftwareTypeId,
    /// V.
    pub version: VersionId,
    /// V's Full release.
    pub full: ReleaseId,
}

/// Finds `--to V`: a live Full release of `software_type` (or of the only software type
/// that has one named `name`). A Delta's name, or a version only a Delta goes to, is an
/// error that says so.
pub fn find_target(
    catalog: &Catalog,
    name: &str,
    software_type: Option<SoftwareTypeId>,
) -> Result<Target, PlanError> {
    let types: Vec<SoftwareTypeId> = match software_type {
        Some(t) => vec![t],
        None => (0..catalog.software_types().len())
            .map(|i| SoftwareTypeId(i as u16))
            .collect(),
    };
    let mut found: Vec<(SoftwareTypeId, ReleaseId)> = Vec::new();
    let mut first_error = None;
    for &t in &types {
        match catalog.find_release(t, name) {
            Ok(r) => found.push((t, r)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match found.as_slice() {
        [] => {
            let e = first_error.expect("at least one software type");
            Err(PlanError(format!("--to: {e}")))
        }
        [(t, r)] => {
            let release = catalog.release(*r);
            match release.kind {
                ReleaseKind::Full { version, .. } => Ok(Target {
                    software_type: *t,
                    version,
                    full: *r,
                }),
                ReleaseKind::Delta { .. } => Err(PlanError(format!(
                    "--to: {} is a delta release; the target of a plan must be a full release (R27)",
                    catalog.release_name(*r)
                ))),
            }
        }
        _ => Err(PlanError(format!(
            "--to: several software types have a release \"{name}\" ({}); choose one with --software-type",
            found
                .iter()
                .map(|(t, _)| format!("\"{}\"", catalog.software_type(*t).name))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One candidate Delta F → V (R27) with its payload sizes (R30).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// F.
    pub from: VersionId,
    /// Present devices of the plan's software type reporting F (`top_n`'s order, R31).
    pub devices: u64,
    /// For each hardware version V's Full release has a payload for, in hardware id
    /// order: present devices of that hardware reporting F, V's Full payload, and the
    /// delta size where known.
    pub hardware: Vec<CandidateHardware>,
}

/// A candidate's numbers for one hardware version.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CandidateHardware {
    /// The hardware version.
    pub hardware: HardwareId,
    /// Present devices of this hardware reporting F.
    pub devices: u64,
    /// V's Full payload size for it.
    pub full_bytes: u64,
    /// The delta's size for it (R30), `None` when no size model knows it.
    pub delta_bytes: Option<u64>,
    /// The model the size came from.
    pub source: Option<SizeSource>,
}

/// Which R30 model gave a size.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SizeSource {
    /// `[[delta_sizes]]` or `--sizes`.
    Explicit,
    /// A patch computed from `--images`.
    Images,
    /// `--delta-ratio`.
    Ratio,
}

impl Candidate {
    /// The planned delta's payloads: every hardware with a known size (R28).
    pub fn payloads(&self) -> Vec<(HardwareId, u64)> {
        self.hardware
            .iter()
            .filter_map(|h| h.delta_bytes.map(|b| (h.hardware, b)))
            .collect()
    }

    /// Its stored bytes: its payload sizes summed (R29).
    pub fn stored_bytes(&self) -> u64 {
        self.payloads().iter().map(|&(_, b)| b).sum()
    }
}

/// R28: `catalog` with the planned deltas added (each with its known payloads) and
/// activated in every cohort where V's Full release is active, in the same mode. The
/// cohort's staged set is the one already there (R20). Returns the new release ids, in
/// the order of `plan`.
pub fn planned_catalog(
    catalog: &Catalog,
    target: &Target,
    plan: &[&Candidate],
) -> (Catalog, Vec<ReleaseId>) {
    let mut planned = catalog.clone();
    let activations: Vec<_> = catalog
        .activations()
        .filter(|&(r, _, _)| r == target.full)
        .map(|(_, c, ro)| (c, ro))
        .collect();
    let mut ids = Vec::with_capacity(plan.len());
    for c in plan {
        let id = planned
            .add_release(Release {
                software_type: target.software_type,
                kind: ReleaseKind::Delta {
                    from: c.from,
                    to: target.version,
                },
                payloads: c.payloads(),
                deleted: false,
            })
            .expect("a candidate is a new delta to a greater version (R27)");
        for &(cohort, rollout) in &activations {
            planned.activate_what_if(id, cohort, rollout);
        }
        ids.push(id);
    }
    (planned, ids)
}

/// The id of the first present device whose report is `report`, for errors that name a
/// device (R29: a walk that cycles).
pub fn device_of(fleet: &Fleet, report: &DeviceReport) -> String {
    let cols = fleet.columns();
    (0..fleet.len())
        .find(|&i| fleet.is_present(crate::ids::DeviceIdx(i as u32)) && cols.report(i) == *report)
        .map(|i| fleet.id(crate::ids::DeviceIdx(i as u32)).to_string())
        .unwrap_or_else(|| "?".to_string())
}
