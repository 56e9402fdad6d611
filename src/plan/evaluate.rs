//! Pricing plans (R29): fleet bytes are a sum over device classes of count × the bytes
//! of the class's R24 walk.
//!
//! [`reference_bytes`] is the rule as written: a catalog with the plan added (R28) and
//! every class walked. [`Model`] is what the strategies use: a planned Delta F → V only
//! changes the resolver's answer for devices reporting exactly F (R13), and sends them to
//! V, so a class's walk under a plan is its walk without a plan up to the first version
//! F of the plan whose delta it would take, then that delta, then its walk from V.
//! Each class thus reduces to a short list of (candidate, saving) in walk order, and a
//! plan's saving is, per class, the saving of the first listed candidate in the plan.
//! Property tests prove the model equal to the reference.

use std::collections::HashMap;

use crate::catalog::Catalog;
use crate::fleet::DeviceReport;
use crate::ids::{ReleaseId, VersionId};
use crate::resolver::{self, NoTrail};

use super::{planned_catalog, Candidate, Target};

/// A class's R24 walk: `versions[i]` → `versions[i + 1]` by `steps[i]` (release, bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    /// Every version the walk is on, its start first and its final version last.
    pub versions: Vec<VersionId>,
    /// The release installed at each step and its payload for the class's hardware.
    pub steps: Vec<(ReleaseId, u64)>,
}

impl Walk {
    /// The bytes of every step.
    pub fn bytes(&self) -> u64 {
        self.steps.iter().map(|&(_, b)| b).sum()
    }
}

/// The walk ran into a version it had passed through (R24, R29).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cycle;

/// R24 with the bytes of each step (R29): the resolver applied until no update.
pub fn walk(catalog: &Catalog, report: &DeviceReport) -> Result<Walk, Cycle> {
    let mut report = *report;
    let mut w = Walk {
        versions: vec![report.version],
        steps: Vec::new(),
    };
    loop {
        let Some(release) = resolver::resolve(catalog, &report, &mut NoTrail).release else {
            return Ok(w);
        };
        let r = catalog.release(release);
        let next = r.target();
        if w.versions.contains(&next) {
            return Err(Cycle);
        }
        // R11 (d) and R12: an answer always has a payload for the device's hardware.
        let bytes = r.payload(report.hardware).unwrap_or(0);
        w.steps.push((release, bytes));
        w.versions.push(next);
        report.version = next;
    }
}

/// Fleet bytes of a catalog with its per-release use, or the class whose walk cycles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetBytes {
    /// R29: the sum over classes of count × walk bytes.
    pub bytes: u64,
    /// Devices whose walk installs each release.
    pub devices_by_release: HashMap<ReleaseId, u64>,
}

/// R29 as written: every class walked on `catalog`; `Err(i)` names class `i` whose walk
/// cycles.
pub fn reference_bytes(
    catalog: &Catalog,
    classes: &[(DeviceReport, u64)],
) -> Result<FleetBytes, usize> {
    let mut out = FleetBytes {
        bytes: 0,
        devices_by_release: HashMap::new(),
    };
    for (i, (report, n)) in classes.iter().enumerate() {
        let w = walk(catalog, report).map_err(|_| i)?;
        out.bytes += n * w.bytes();
        for &(r, _) in &w.steps {
            *out.devices_by_release.entry(r).or_default() += n;
        }
    }
    Ok(out)
}

/// R29 for `plan` (indices into `candidates`): the plan's catalog (R28) walked.
pub fn reference_plan_bytes(
    catalog: &Catalog,
    target: &Target,
    candidates: &[Candidate],
    plan: &[usize],
    classes: &[(DeviceReport, u64)],
) -> Result<(u64, Vec<u64>), usize> {
    let chosen: Vec<&Candidate> = plan.iter().map(|&i| &candidates[i]).collect();
    let (planned, ids) = planned_catalog(catalog, target, &chosen);
    let fb = reference_bytes(&planned, classes)?;
    let devices = ids
        .iter()
        .map(|id| fb.devices_by_release.get(id).copied().unwrap_or(0))
        .collect();
    Ok((fb.bytes, devices))
}

/// Classes that share one list of (candidate, saving) options, merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Devices in the merged classes.
    pub devices: u64,
    /// In walk order: a candidate whose delta these devices would take at that point
    /// of their walk, and the saving for all of them (bytes without a plan minus bytes
    /// when this is the first planned delta they reach; negative when the delta costs
    /// more than what it replaces).
    pub options: Vec<(u32, i64)>,
}

/// The fast pricing of plans: the fleet bytes without a plan and the option groups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Fleet bytes without a plan (R29).
    pub baseline: u64,
    /// The groups, in a fixed order.
    pub groups: Vec<Group>,
    /// The number of candidates.
    pub n_candidates: usize,
}

/// Why the model could not be built: the class whose walk cycles, without a plan or
/// after taking a candidate's delta.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct CycleIn(pub usize);

impl Model {
    /// Builds the model from the classes (all present devices) and their walks without
    /// a plan (`walks[i]` of `classes[i]`).
    pub fn build(
        catalog: &Catalog,
        target: &Target,
        candidates: &[Candidate],
        classes: &[(DeviceReport, u64)],
        walks: &[Walk],
    ) -> Result<Model, CycleIn> {
        let baseline = classes
            .iter()
            .zip(walks)
            .map(|((_, n), w)| n * w.bytes())
            .sum();
        // One catalog with every candidate planned answers, at a candidate's From
        // version, exactly as a catalog with only that candidate would: other planned
        // deltas come from other versions (R13).
        let all: Vec<&Candidate> = candidates.iter().collect();
        let (planned, ids) = planned_catalog(catalog, target, &all);
        let by_from: HashMap<VersionId, usize> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.from, i))
            .collect();
        let mut tails: HashMap<DeviceReport, Option<u64>> = HashMap::new();
        let mut groups: HashMap<Vec<(u32, i64)>, u64> = HashMap::new();
        for (ci, ((report, n), w)) in classes.iter().zip(walks).enumerate() {
            if report.software_type != target.software_type {
                continue;
            }
            let base = w.bytes() as i64;
            let mut options = Vec::new();
            let mut prefix = 0u64;
            for (i, v) in w.versions.iter().enumerate() {
                if let Some(&c) = by_from.get(v) {
                    let at = DeviceReport {
                        version: *v,
                        ..*report
                    };
                    let d = resolver::resolve(&planned, &at, &mut NoTrail);
                    if d.release == Some(ids[c]) {
                        let delta = planned.release(ids[c]).payload(report.hardware);
                        let delta = delta.expect("an applicable delta has a payload");
                        let from_v = DeviceReport {
                            version: target.version,
                            ..*report
                        };
                        let tail = *tails
                            .entry(from_v)
                            .or_insert_with(|| tail_bytes(catalog, &from_v, &by_from));
                        let tail = tail.ok_or(CycleIn(ci))?;
                        let cost = (prefix + delta + tail) as i64;
                        options.push((c as u32, base - cost));
                    }
                }
                if let Some(&(_, b)) = w.steps.get(i) {
                    prefix += b;
                }
            }
            if !options.is_empty() {
                // Classes with the same per-device options merge; totals below.
                *groups.entry(options).or_default() += n;
            }
        }
        let mut groups: Vec<Group> = groups
            .into_iter()
            .map(|(options, devices)| Group {
                devices,
                options: options
                    .into_iter()
                    .map(|(c, s)| (c, s * devices as i64))
                    .collect(),
            })
            .collect();
        groups.sort_by(|a, b| a.options.cmp(&b.options).then(a.devices.cmp(&b.devices)));
        Ok(Model {
            baseline,
            groups,
            n_candidates: candidates.len(),
        })
    }

    /// The saving of a plan (`plan[c]`: candidate `c` is in it).
    pub fn saving(&self, plan: &[bool]) -> i64 {
        self.groups
            .iter()
            .map(|g| {
                g.options
                    .iter()
                    .find(|&&(c, _)| plan[c as usize])
                    .map_or(0, |&(_, s)| s)
            })
            .sum()
    }

    /// Devices whose walk uses each candidate's delta under `plan`.
    pub fn devices(&self, plan: &[bool]) -> Vec<u64> {
        let mut out = vec![0; self.n_candidates];
        for g in &self.groups {
            if let Some(&(c, _)) = g.options.iter().find(|&&(c, _)| plan[c as usize]) {
                out[c as usize] += g.devices;
            }
        }
        out
    }

    /// Whether any class would take candidate `c`'s delta.
    pub fn used(&self, c: usize) -> bool {
        self.groups
            .iter()
            .any(|g| g.options.iter().any(|&(x, _)| x as usize == c))
    }
}

/// Bytes of the walk from V without a plan, `None` when it cycles or reaches a
/// candidate's From version again (the plan would then send the device back to V).
fn tail_bytes(
    catalog: &Catalog,
    from_v: &DeviceReport,
    by_from: &HashMap<VersionId, usize>,
) -> Option<u64> {
    let w = walk(catalog, from_v).ok()?;
    if w.versions.iter().any(|v| by_from.contains_key(v)) {
        return None;
    }
    Some(w.bytes())
}
