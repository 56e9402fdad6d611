//! The scenario file as written: serde types that mirror the TOML one to one, with
//! spans so that errors can name lines. Nothing here is validated beyond types; see
//! `lower.rs` for the checks.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::raw_policy::{RawGate, RawProbability, RawRamp, RawWindow};

/// A string with its place in the file.
pub type Str = Spanned<String>;

/// A time: a tick number or a duration string (deserialized in `raw_de.rs`, whose
/// errors say what a time may be).
#[derive(Clone, Debug)]
pub enum RawTime {
    /// A tick number.
    Ticks(i64),
    /// A duration such as `"36h"`.
    Text(String),
}

/// A number that may be written as an integer or a float (deserialized in
/// `raw_de.rs`).
#[derive(Clone, Debug)]
pub enum RawNumber {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub seed: Option<Spanned<i64>>,
    pub tick: Option<Str>,
    pub duration: Option<Spanned<RawTime>>,
    pub snapshots: Option<Vec<Spanned<RawTime>>>,
    pub bandwidth: Option<Spanned<RawBandwidth>>,
    pub resolver: Option<Spanned<super::variant::RawResolver>>,
    #[serde(default)]
    pub software_types: Vec<Spanned<RawSoftwareType>>,
    #[serde(default)]
    pub cohorts: Vec<Spanned<RawCohort>>,
    #[serde(default)]
    pub project_keys: Vec<Spanned<RawProjectKey>>,
    #[serde(default)]
    pub users: Vec<Spanned<RawUser>>,
    #[serde(default)]
    pub releases: Vec<Spanned<RawRelease>>,
    #[serde(default)]
    pub devices: Vec<Spanned<RawDevice>>,
    /// Not `Spanned`: `[[fleet.groups]]` alone implies `[fleet]`, a table without a span.
    pub fleet: Option<RawFleet>,
    pub behaviour: Option<Spanned<RawProfile>>,
    #[serde(default)]
    pub profiles: Vec<Spanned<RawProfile>>,
    #[serde(default)]
    pub events: Vec<Spanned<RawEvent>>,
    #[serde(default)]
    pub delta_sizes: Vec<Spanned<RawDeltaSize>>,
}

/// One `[[delta_sizes]]` entry: the size of a Delta that may be planned (R30).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeltaSize {
    pub from: Str,
    pub to: Str,
    pub hardware_version: Str,
    pub bytes: Spanned<i64>,
    pub software_type: Option<Str>,
}

/// How bytes become money (`[bandwidth]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBandwidth {
    pub price_per_gb: Option<Spanned<RawNumber>>,
    pub compression_ratio: Option<Spanned<RawNumber>>,
    pub max_bytes_per_tick: Option<Spanned<i64>>,
}

/// A behaviour profile: `[behaviour]` (the default) or one of `[[profiles]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: Option<Str>,
    pub poll_interval: Option<Spanned<RawTime>>,
    pub poll_jitter: Option<Spanned<RawTime>>,
    pub online_probability: Option<Spanned<RawNumber>>,
    pub link_bytes_per_second: Option<Spanned<RawNumber>>,
    pub download_failure_probability: Option<Spanned<RawNumber>>,
    pub resume_downloads: Option<bool>,
    pub install_failure_probability: Option<Spanned<RawNumber>>,
    pub retirement_rate_per_day: Option<Spanned<RawNumber>>,
    pub update_window: Option<Spanned<RawWindow>>,
    pub utc_offset: Option<Str>,
}

/// A synthetic group of devices (`[[fleet.groups]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub name: Option<Str>,
    pub count: Option<Spanned<i64>>,
    pub share: Option<Spanned<RawNumber>>,
    pub cohort: Option<Str>,
    pub project_key: Option<Str>,
    pub hardware_version: Str,
    pub software_type: Option<Str>,
    pub versions: Spanned<BTreeMap<String, Spanned<RawNumber>>>,
    pub profile: Option<Str>,
}

/// New devices arriving over time (`[[fleet.arrivals]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArrival {
    pub name: Option<Str>,
    pub per_day: Spanned<RawNumber>,
    pub start: Option<Spanned<RawTime>>,
    pub end: Option<Spanned<RawTime>>,
    pub software_version: Str,
    pub hardware_version: Str,
    pub software_type: Option<Str>,
    pub cohort: Option<Str>,
    pub project_key: Option<Str>,
    pub profile: Option<Str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSoftwareType {
    pub name: Str,
    #[serde(default)]
    pub allow_build_metadata: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub name: Str,
    #[serde(default)]
    pub disable_version_checking: bool,
    pub protected: Option<bool>,
    pub approval_team: Option<Str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProjectKey {
    pub name: Str,
    pub ota_cohort_override: Option<Str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    pub name: Str,
    pub role: Option<Str>,
    #[serde(default)]
    pub teams: Vec<Str>,
    pub permit_protected: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub version: Option<Str>,
    pub from: Option<Str>,
    pub to: Option<Str>,
    pub must_pass_through: Option<Spanned<bool>>,
    pub software_type: Option<Str>,
    #[serde(default)]
    pub payloads: BTreeMap<String, Spanned<i64>>,
    pub install_failure_probability: Option<Spanned<RawProbability>>,
    pub boot_failure_probability: Option<Spanned<RawProbability>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevice {
    pub id: Str,
    pub hardware_version: Str,
    pub software_version: Str,
    pub cohort: Option<Str>,
    pub project_key: Option<Str>,
    pub software_type: Option<Str>,
    pub staged: Option<bool>,
    pub release_override: Option<Str>,
    pub last_seen: Option<Spanned<RawTime>>,
    pub profile: Option<Str>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFleet {
    pub import: Option<Str>,
    pub devices: Option<Spanned<i64>>,
    #[serde(default)]
    pub groups: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    pub arrivals: Vec<Spanned<RawArrival>>,
}

/// One `[[events]]` table: the union of every action's fields; `lower.rs` checks that
/// each action gets exactly the fields it takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub at: Spanned<RawTime>,
    pub action: Str,
    pub release: Option<Str>,
    pub cohort: Option<Str>,
    pub rollout_percent: Option<Spanned<RawNumber>>,
    pub by: Option<Str>,
    pub device: Option<Str>,
    pub devices: Option<Spanned<Vec<Str>>>,
    pub hardware_version: Option<Str>,
    pub software_version: Option<Str>,
    pub staged: Option<Spanned<bool>>,
    pub limit: Option<Spanned<i64>>,
    pub order: Option<Str>,
    pub disable_version_checking: Option<Spanned<bool>>,
    pub protected: Option<Spanned<bool>>,
    pub approval_team: Option<Str>,
    pub project_key: Option<Str>,
    pub ota_cohort_override: Option<Str>,
    pub software_type: Option<Str>,
    pub ramp: Option<Spanned<RawRamp>>,
    pub gate: Option<Spanned<RawGate>>,
    pub max_downloads_per_tick: Option<Spanned<i64>>,
}

impl RawEvent {
    /// The fields present besides `at` and `action`, with their spans.
    pub fn present_fields(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        macro_rules! field {
            ($($name:ident),*) => {$(
                if let Some(v) = &self.$name {
                    out.push((stringify!($name), v.span()));
                }
            )*};
        }
        field!(
            release,
            cohort,
            rollout_percent,
            by,
            device,
            devices,
            hardware_version,
            software_version,
            staged,
            limit,
            order,
            disable_version_checking,
            protected,
            approval_team,
            project_key,
            ota_cohort_override,
            software_type,
            ramp,
            gate,
            max_downloads_per_tick
        );
        out
    }
}
