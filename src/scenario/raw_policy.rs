//! The scenario file's policy fields as written (R35–R39): serde mirrors, checked in
//! `lower_policy.rs`. Inside an untagged enum a value loses its span (serde buffers
//! it), so ramps and per-hardware maps are placed by the span of the whole field.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::raw::{RawNumber, RawTime, Str};

/// A failure probability: one number, or one per hardware version (R36).
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RawProbability {
    /// For every hardware version.
    One(RawNumber),
    /// Hardware version -> probability.
    PerHardware(BTreeMap<String, RawNumber>),
}

/// A ramp (R35): a list of steps, or an exponential ramp.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawRamp {
    /// `[{ percent, after }, …]`.
    Steps(Vec<RawStep>),
    /// `{ start, factor, every, max }`.
    Exponential(RawExponential),
}

/// One step of a ramp.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub percent: RawNumber,
    pub after: RawTime,
}

/// An exponential ramp.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExponential {
    pub start: RawNumber,
    pub factor: RawNumber,
    pub every: RawTime,
    pub max: Option<RawNumber>,
}

/// A health gate (R37).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGate {
    pub max_failure_percent: Spanned<RawNumber>,
    pub min_attempts: Option<Spanned<i64>>,
    pub window: Option<Spanned<RawTime>>,
    pub action: Str,
}

/// An update window (R39).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub start: Str,
    pub end: Str,
}
