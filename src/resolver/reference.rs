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
    let variant = *catalog.variant();

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
            // R32 `override_fallback`: resolved as if the device had no override.
            if !variant.override_fallback {
                return Decision::NONE;
            }
            trail.note(Step::OverrideFallback);
        } else {
            return Decision::update(Rule::Override, id);
        }
    }

    // R11: inapplicable releases are treated as if they did not exist. Which apply is
    // told once here, by release id, for every rule below to read.
    let applies: Vec<bool> = catalog
        .releases()
        .map(|(id, release)| {
            if release.deleted || release.software_type != device.software_type {
                return false;
            }
            match inapplicable(catalog, id, release, cohort, device) {
                Some(why) => {
                    trail.note(Step::Skipped(id, why));
                    false
                }
                None => true,
            }
        })
        .collect();

    // R13–R15 in the variant's order (R32; by default delta, must-pass-through, full):
    // the first that gives a release wins.
    let rules = Rules {
        catalog,
        device,
        applies: &applies,
        disabled: catalog.cohort(cohort).disable_version_checking,
    };
    let mut noted_disabled = false;
    for (i, &rule) in variant.precedence.iter().enumerate() {
        if rules.disabled && rule != Rule::Delta && !noted_disabled {
            trail.note(Step::VersionCheckingDisabled);
            noted_disabled = true;
        }
        let found = match rule {
            Rule::Delta => rules.delta(trail),
            Rule::MustPassThrough => rules.must_pass_through(trail),
            _ => rules.full(trail),
        };
        if let Some(best) = found {
            rules.note_outranked(
                trail,
                &variant.precedence[..=i],
                &variant.precedence[i + 1..],
            );
            return Decision::update(rule, best);
        }
    }

    // R18.
    Decision::NONE
}

/// R13–R15 for one device in its effective cohort.
struct Rules<'a> {
    catalog: &'a Catalog,
    device: &'a DeviceReport,
    /// R11, by release id: applicable to the device in its effective cohort.
    applies: &'a [bool],
    /// R17: version checking is disabled in the effective cohort.
    disabled: bool,
}

impl Rules<'_> {
    /// R11: applicable to the device (a: of its software type, live; b–d).
    fn applicable(&self, id: ReleaseId) -> bool {
        self.applies[id.index()]
    }

    /// Applicable Full releases: (id, version, must-pass-through).
    fn fulls(&self) -> impl Iterator<Item = (ReleaseId, crate::ids::VersionId, bool)> + '_ {
        self.catalog
            .releases()
            .filter_map(|(id, release)| match release.kind {
                ReleaseKind::Full {
                    version,
                    must_pass_through,
                } if self.applicable(id) => Some((id, version, must_pass_through)),
                _ => None,
            })
    }

    /// R13: a Delta from exactly the current version; the highest To wins.
    fn delta(&self, trail: &mut impl Trail) -> Option<ReleaseId> {
        let catalog = self.catalog;
        let mut delta: Option<ReleaseId> = None;
        for (id, release) in catalog.releases() {
            if !self.applicable(id) {
                continue;
            }
            if let ReleaseKind::Delta { from, to } = release.kind {
                if from != self.device.version {
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
        delta
    }

    /// R14 (with R16): the lowest applicable MPT release greater than the current
    /// version. R17 skips it.
    fn must_pass_through(&self, trail: &mut impl Trail) -> Option<ReleaseId> {
        if self.disabled {
            return None;
        }
        let catalog = self.catalog;
        let current = catalog.version(self.device.version);
        let mut mpt: Option<(ReleaseId, crate::ids::VersionId)> = None;
        for (id, version, must_pass_through) in self.fulls() {
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
        mpt.map(|(id, _)| id)
    }

    /// R15 (with R16): the highest applicable Full release greater than the current
    /// one; under R17, the highest applicable Full release unless the device already
    /// reports that version.
    fn full(&self, trail: &mut impl Trail) -> Option<ReleaseId> {
        let catalog = self.catalog;
        if self.disabled {
            let (best, best_version, _) = self
                .fulls()
                .max_by(|a, b| catalog.version(a.1).cmp_total(catalog.version(b.1)))?;
            let top = catalog.version(best_version);
            let already = self.fulls().any(|(_, v, _)| {
                v == self.device.version
                    && catalog.version(v).cmp_precedence(top) == Ordering::Equal
            });
            if already {
                trail.note(Step::Skipped(best, Skip::AlreadyOnHighest));
                return None;
            }
            trail.note(Step::Candidate(best));
            return Some(best);
        }
        let current = catalog.version(self.device.version);
        let mut full: Option<(ReleaseId, crate::ids::VersionId)> = None;
        for (id, version, must_pass_through) in self.fulls() {
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
        full.map(|(id, _)| id)
    }

    /// Whether `release` is one a rule looks at (for the trail): `delta` the Deltas from
    /// the current version, `must_pass_through` the MPT Fulls, `full` every Full.
    fn owned_by(&self, rule: Rule, release: &Release) -> bool {
        match (rule, release.kind) {
            (Rule::Delta, ReleaseKind::Delta { from, .. }) => from == self.device.version,
            (
                Rule::MustPassThrough,
                ReleaseKind::Full {
                    must_pass_through, ..
                },
            ) => must_pass_through && !self.disabled,
            (Rule::Full, ReleaseKind::Full { .. }) => true,
            _ => false,
        }
    }

    /// Notes applicable releases of the rules never reached (`later`) that the rules
    /// tried (`tried`) did not already look at.
    fn note_outranked(&self, trail: &mut impl Trail, tried: &[Rule], later: &[Rule]) {
        for (id, release) in self.catalog.releases() {
            if later.iter().any(|&r| self.owned_by(r, release))
                && !tried.iter().any(|&r| self.owned_by(r, release))
                && self.applicable(id)
            {
                trail.note(Step::Skipped(id, Skip::Outranked));
            }
        }
    }
}
