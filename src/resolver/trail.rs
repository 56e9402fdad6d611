//! The resolver's reasons, for `otasim explain` (an OTA console's "inspect details" view).

use crate::ids::{CohortId, ProjectKeyId, ReleaseId};

use super::Decision;

/// Why a release was not the answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// R11 b: no active activation in the effective cohort.
    NotActive,
    /// R11 c: active only as a staged rollout and the device is not staged.
    StagedOnly,
    /// R11 d: no payload for the device's hardware version.
    NoPayload,
    /// R13: a Delta release whose From is not the current version.
    DeltaFromOther,
    /// R16: not greater than the current version.
    NotGreater,
    /// R17: the device already reports this (the highest) version.
    AlreadyOnHighest,
    /// Another release of the same rule won (by the rule's own order).
    LostTo(ReleaseId),
    /// A rule earlier in the precedence (Delta, MPT, Full by default; R32) already decided.
    Outranked,
    /// R12: the override already is the device's version.
    OverrideIsCurrent,
    /// R12: the override has no payload for the device's hardware.
    OverrideNoPayload,
}

/// One step of a resolution.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// R9: the cohort used; `via_key` when a project key overrides it.
    EffectiveCohort {
        /// The effective cohort.
        cohort: CohortId,
        /// The project key whose OTA cohort override applied.
        via_key: Option<ProjectKeyId>,
    },
    /// R12: the device has an override, so only it counts.
    OverrideConsidered(ReleaseId),
    /// R32 `override_fallback`: the override has no payload for the hardware, so the
    /// device is resolved as if it had none.
    OverrideFallback,
    /// R17: the effective cohort has version checking disabled.
    VersionCheckingDisabled,
    /// A release was not the answer, and why.
    Skipped(ReleaseId, Skip),
    /// A release was a candidate of the rule that decided.
    Candidate(ReleaseId),
    /// The final answer.
    Decided(Decision),
}

/// Receives the resolver's steps. The no-op [`NoTrail`] compiles away.
pub trait Trail {
    /// Records one step.
    fn note(&mut self, step: Step);
}

/// Discards every step.
pub struct NoTrail;

impl Trail for NoTrail {
    #[inline(always)]
    fn note(&mut self, _: Step) {}
}

impl Trail for Vec<Step> {
    fn note(&mut self, step: Step) {
        self.push(step);
    }
}
