//! The reference resolver: spec §4 rule by rule, with no precomputation.
//!
//! Keep this file obviously correct rather than fast. Every other resolver in the crate
//! is checked against [`resolve`] by property tests.

use std::cmp::Ordering;

use crate::catalog::{Catalog, Release, ReleaseKind, Rollout};
use crate::fleet::DeviceReport;
use crate::ids::{CohortId, ReleaseId};

use super::{Decision, Rule, Skip, Step, Trail};

/// R9: the project key's OTA cohort override if it has one, else the device's cohort.
pub fn effective_cohort(catalog: &Catalog, device: &DeviceReport) -> CohortId {
    device
        .project_key
        .and_then(|k| catalog.project_key(k).ota_cohort_override)
        .unwrap_or(device.cohort)
}

/// R11: why `release` is not applicable to `device` in cohort `cohort`, or `None` if it is.
fn inapplicable(
    catalog: &Catalog,
    id: ReleaseId,
    release: &Release,
    cohort: CohortId,
    device: &DeviceReport,
) -> Option<Skip> {
    // (a) is the caller's filter: only live releases of the device's software type.
    match catalog.activation(id, cohort) {
        None => return Some(Skip::NotActive),
        // (c) staged rollouts apply only to staged devices (R10: the stored flag, also
        // under an OTA cohort override).
        Some(Rollout::Staged(_)) if !device.staged => return Some(Skip::StagedOnly),
        Some(_) => {}
    }
    // (d)
    if release.payload(device.hardware).is_none() {
        return Some(Skip::NoPayload);
    }
    None
}

/// Resolves one device against the catalog, recording its reasons in `trail`.
pub fn resolve(catalog: &Catalog, device: &DeviceReport, trail: &mut impl Trail) -> Decision {
    let cohort = effective_cohort(catalog, device);
    let via_key = device.project_key.filter(|_| cohort != device.cohort);
    trail.note(Step::EffectiveCohort { cohort, via_key });
    let decision = decide(catalog, device, cohort, trail);
    trail.note(Step::Decided(decision));
    decision
}

fn decide(
    catalog: &Catalog,
    device: &DeviceReport,
    cohort: CohortId,
    trail: &mut impl Trail,
) -> Decision {
    let current = catalog.version(device.version);

    // R12: an override alone decides; activations, MPT and Delta are ignored and
    // downgrades are allowed.
    if let Some(id) = device.release_override {
        trail.note(Step::OverrideConsidered(id));
        let release = catalog.release(id);
        if release.target() == device.version {
            trail.note(Step::Skipped(id, Skip::OverrideIsCurrent));
            return Decision::NONE;
        }
        if release.payload(device.hardware).is_none() {
            trail.note(Step::Skipped(id, Skip::OverrideNoPayload));
            return Decision::NONE;
        }
        return Decision::update(Rule::Override, id);
    }

    // R11: inapplicable releases are treated as if they did not exist.
    let applicable = |id: ReleaseId, release: &Release| -> bool {
        !release.deleted
            && release.software_type == device.software_type
            && inapplicable(catalog, id, release, cohort, device).is_none()
    };
    for (id, release) in catalog.releases() {
        if release.deleted || release.software_type != device.software_type {
            continue;
        }
        if let Some(why) = inapplicable(catalog, id, release, cohort, device) {
            trail.note(Step::Skipped(id, why));
        }
    }

    // R13: a Delta from exactly the current version; the highest To wins.
    let mut delta: Option<ReleaseId> = None;
    for (id, release) in catalog.releases() {
        if !applicable(id, release) {
            continue;
        }
        if let ReleaseKind::Delta { from, to } = release.kind {
            if from != device.version {
                trail.note(Step::Skipped(id, Skip::DeltaFromOther));
                continue;
            }
            trail.note(Step::Candidate(id));
            let better = match delta {
                None => true,
                Some(best) => {
                    catalog
                        .version(to)
                        .cmp_total(catalog.version(catalog.release(best).target()))
                        == Ordering::Greater
                }
            };
            if better {
                delta = Some(id);
            }
        }
    }
    if let Some(best) = delta {
        note_outranked(catalog, device, trail, |r| r.is_full(), &applicable);
        return Decision::update(Rule::Delta, best);
    }

    let fulls = || {
        catalog
            .releases()
            .filter_map(|(id, release)| match release.kind {
                ReleaseKind::Full {
                    version,
                    must_pass_through,
                } if applicable(id, release) => Some((id, version, must_pass_through)),
                _ => None,
            })
    };

    if catalog.cohort(cohort).disable_version_checking {
        // R17: no MPT step; the highest applicable Full release, unless the device
        // already reports that version.
        trail.note(Step::VersionCheckingDisabled);
        let Some((best, best_version, _)) =
            fulls().max_by(|a, b| catalog.version(a.1).cmp_total(catalog.version(b.1)))
        else {
            return Decision::NONE;
        };
        let top = catalog.version(best_version);
        let already = fulls().any(|(_, v, _)| {
            v == device.version && catalog.version(v).cmp_precedence(top) == Ordering::Equal
        });
        if already {
            trail.note(Step::Skipped(best, Skip::AlreadyOnHighest));
            return Decision::NONE;
        }
        trail.note(Step::Candidate(best));
        return Decision::update(Rule::Full, best);
    }

    // R14 (with R16): the lowest applicable MPT release greater than the current version.
    let mut mpt: Option<(ReleaseId, crate::ids::VersionId)> = None;
    for (id, version, must_pass_through) in fulls() {
        if !must_pass_through {
            continue;
        }
        if !catalog.version(version).is_greater_than(current) {
            trail.note(Step::Skipped(id, Skip::NotGreater));
            continue;
        }
        trail.note(Step::Candidate(id));
        let better = match mpt {
            None => true,
            Some((_, best)) => {
                catalog.version(version).cmp_total(catalog.version(best)) == Ordering::Less
            }
        };
        if better {
            mpt = Some((id, version));
        }
    }
    if let Some((best, _)) = mpt {
        note_outranked(
            catalog,
            device,
            trail,
            |r| {
                matches!(
                    r.kind,
                    ReleaseKind::Full {
                        must_pass_through: false,
                        ..
                    }
                )
            },
            &applicable,
        );
        return Decision::update(Rule::MustPassThrough, best);
    }

    // R15 (with R16): the highest applicable Full release greater than the current one.
    let mut full: Option<(ReleaseId, crate::ids::VersionId)> = None;
    for (id, version, must_pass_through) in fulls() {
        if !catalog.version(version).is_greater_than(current) {
            if !must_pass_through {
                trail.note(Step::Skipped(id, Skip::NotGreater));
            }
            continue;
        }
        trail.note(Step::Candidate(id));
        let better = match full {
            None => true,
            Some((_, best)) => {
                catalog.version(version).cmp_total(catalog.version(best)) == Ordering::Greater
            }
        };
        if better {
            full = Some((id, version));
        }
    }
    if let Some((best, _)) = full {
        return Decision::update(Rule::Full, best);
    }

    // R18.
    Decision::NONE
}

/// Notes applicable releases of lower-precedence rules that were never reached.
fn note_outranked(
    catalog: &Catalog,
    device: &DeviceReport,
    trail: &mut impl Trail,
    lower: impl Fn(&Release) -> bool,
    applicable: &impl Fn(ReleaseId, &Release) -> bool,
) {
    for (id, release) in catalog.releases() {
        if release.software_type == device.software_type
            && lower(release)
            && applicable(id, release)
        {
            trail.note(Step::Skipped(id, Skip::Outranked));
        }
    }
}
