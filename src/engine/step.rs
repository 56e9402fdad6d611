//! One tick of device behaviour: what every waking device does, computed in parallel
//! and merged in order.

use rayon::prelude::*;

use super::rng::{self, Purpose};
use super::series::{Counters, Series};
use super::{Carry, Schedule, Wake};
use crate::behaviour::{Behaviour, Profile};
use crate::catalog::Catalog;
use crate::fleet::DeviceReport;
use crate::ids::{DeviceIdx, VersionId};
use crate::resolver::{Decision, Rule};
use crate::timeline::State;

/// Answers the resolver question for the engine, for one catalog revision.
pub struct Decider {
    revision: u64,
    /// The fast path (proven equal to the reference resolver by property tests).
    table: crate::resolver::fast::DecisionTable,
    /// Per Delta release: the Full release of its To version (for the "had every update
    /// been Full" counterfactual).
    full_of_target: Vec<Option<crate::ids::ReleaseId>>,
}

impl Decider {
    pub fn new(catalog: &Catalog) -> Decider {
        let mut d = Decider {
            revision: catalog.revision(),
            table: crate::resolver::fast::DecisionTable::new(catalog),
            full_of_target: Vec::new(),
        };
        d.rebuild(catalog);
        d
    }

    fn rebuild(&mut self, catalog: &Catalog) {
        self.revision = catalog.revision();
        if !self.table.is_current(catalog) {
            self.table = crate::resolver::fast::DecisionTable::new(catalog);
        }
        self.full_of_target = catalog
            .releases()
            .map(|(_, r)| match r.kind {
                crate::catalog::ReleaseKind::Delta { to, .. } => catalog
                    .releases()
                    .find(|(_, f)| {
                        !f.deleted
                            && f.software_type == r.software_type
                            && matches!(f.kind, crate::catalog::ReleaseKind::Full { version, .. } if version == to)
                    })
                    .map(|(id, _)| id),
                crate::catalog::ReleaseKind::Full { .. } => None,
            })
            .collect();
    }

    /// Rebuilds derived tables if the catalog changed.
    pub fn refresh(&mut self, catalog: &Catalog) {
        if self.revision != catalog.revision() {
            self.rebuild(catalog);
        }
    }

    /// What `bytes` of `release` would have been as the Full payload of the same
    /// target version for `hardware`.
    #[inline]
    fn full_equivalent(
        &self,
        catalog: &Catalog,
        release: crate::ids::ReleaseId,
        hardware: crate::ids::HardwareId,
        size: u64,
        bytes: u64,
    ) -> u64 {
        let full_size =
            self.full_of_target[release.index()].and_then(|f| catalog.release(f).payload(hardware));
        match full_size {
            Some(full) if size > 0 => {
                (u128::from(bytes) * u128::from(full) / u128::from(size)) as u64
            }
            _ => bytes,
        }
    }

    #[inline]
    pub fn decide(&self, catalog: &Catalog, report: &DeviceReport) -> Decision {
        debug_assert_eq!(self.revision, catalog.revision());
        self.table.decide(catalog, report)
    }
}

/// A change to apply to the state, in order.
enum Change {
    /// The device reported an installed version.
    Version(DeviceIdx, VersionId),
    /// The device retired; it was last seen at this tick (`i32::MIN`: never).
    Retire(DeviceIdx, i32),
}

/// A download: bytes sent from `start` at the profile's link rate.
struct Transfer {
    start: u64,
    bytes: u64,
    full_equivalent: u64,
    per_tick: u64,
    rule: Rule,
    release: crate::ids::ReleaseId,
}

/// What one chunk of wakes produced.
#[derive(Default)]
pub struct ChunkOut {
    wakes: Vec<(u64, Wake)>,
    changes: Vec<Change>,
    transfers: Vec<Transfer>,
    /// Counter increments at future ticks (download ends): (tick, rule, release, kind).
    later: Vec<(u64, Rule, crate::ids::ReleaseId, Later)>,
    now: Counters,
}

#[derive(Copy, Clone)]
enum Later {
    DownloadCompleted,
    DownloadFailed,
    InstallSucceeded,
    InstallFailed,
}

const CHUNK: usize = 2048;

/// The next poll after `t` for a device of profile `p`.
#[inline]
fn next_poll(p: &Profile, seed: u64, device: u32, t: u64) -> u64 {
    let interval = if p.poll_jitter == 0 {
        p.poll_interval
    } else {
        let span = 2 * p.poll_jitter + 1;
        let offset = rng::below(span, seed, device, t, Purpose::Jitter);
        (p.poll_interval + offset)
            .saturating_sub(p.poll_jitter)
            .max(1)
    };
    t + interval
}

/// Ticks after the start at which a download of `bytes` ends (it occupies ticks
/// `start..=start + k`).
#[inline]
fn download_ticks(bytes: u64, per_tick: u64) -> u64 {
    if per_tick == 0 || bytes == 0 {
        0
    } else {
        bytes.div_ceil(per_tick) - 1
    }
}

/// Processes the wakes of tick `t` in parallel; outputs are in wake order.
pub fn process(
    state: &State,
    decider: &Decider,
    behaviour: &Behaviour,
    seed: u64,
    t: u64,
    wakes: &[Wake],
) -> Vec<ChunkOut> {
    wakes
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut out = ChunkOut::default();
            for &wake in chunk {
                wake_one(state, decider, behaviour, seed, t, wake, &mut out);
            }
            out
        })
        .collect()
}

fn wake_one(
    state: &State,
    decider: &Decider,
    behaviour: &Behaviour,
    seed: u64,
    t: u64,
    wake: Wake,
    out: &mut ChunkOut,
) {
    let catalog = &state.catalog;
    let fleet = &state.fleet;
    let d = DeviceIdx(wake.device);
    if !fleet.is_present(d) {
        return;
    }
    let p = &behaviour.profiles[fleet.profile(d) as usize];
    let id = wake.device;

    if p.retirement_per_day > 0.0 {
        let chance = behaviour.retirement_per_poll(fleet.profile(d));
        if rng::chance(chance, seed, id, t, Purpose::Retires) {
            out.changes.push(Change::Retire(d, wake.seen));
            out.now.retired += 1;
            return;
        }
    }
    if !rng::chance(p.online_probability, seed, id, t, Purpose::Online) {
        out.now.missed_polls += 1;
        out.wakes.push((next_poll(p, seed, id, t), wake));
        return;
    }
    out.now.polls += 1;
    let mut wake = wake;
    wake.seen = i32::try_from(t).unwrap_or(i32::MAX);
    let mut report = fleet.report(d);
    if let Carry::Report(v) = wake.carry {
        out.now.reports += 1;
        out.changes.push(Change::Version(d, v));
        report.version = v;
    }
    let decision = decider.decide(catalog, &report);
    let Some(release_id) = decision.release else {
        out.wakes.push((
            next_poll(p, seed, id, t),
            Wake {
                carry: Carry::Nothing,
                ..wake
            },
        ));
        return;
    };
    let rule = decision.rule;
    let r = rule as usize;
    out.now.offered[r] += 1;
    out.now.downloads_started[r] += 1;
    let release = catalog.release(release_id);
    let size = release
        .payload(report.hardware)
        .expect("the resolver only answers releases with a payload for the hardware");
    let fetched = match wake.carry {
        Carry::Partial(pr, f) if pr == release_id && f < size => f,
        _ => 0,
    };
    let remaining = size - fetched;
    let per_tick = p.link_bytes_per_tick;
    let fails = remaining > 0
        && rng::chance(
            p.download_failure_probability,
            seed,
            id,
            t,
            Purpose::DownloadFails,
        );
    if fails {
        let sent = rng::below(remaining, seed, id, t, Purpose::DownloadFailPoint);
        let end = t + download_ticks(sent, per_tick);
        out.transfers.push(Transfer {
            start: t,
            bytes: sent,
            full_equivalent: decider.full_equivalent(
                catalog,
                release_id,
                report.hardware,
                size,
                sent,
            ),
            per_tick,
            rule,
            release: release_id,
        });
        out.later
            .push((end, rule, release_id, Later::DownloadFailed));
        let carry = if p.resume_downloads {
            Carry::Partial(release_id, fetched + sent)
        } else {
            Carry::Nothing
        };
        out.wakes
            .push((next_poll(p, seed, id, end), Wake { carry, ..wake }));
        return;
    }
    let end = t + download_ticks(remaining, per_tick);
    out.transfers.push(Transfer {
        start: t,
        bytes: remaining,
        full_equivalent: decider.full_equivalent(
            catalog,
            release_id,
            report.hardware,
            size,
            remaining,
        ),
        per_tick,
        rule,
        release: release_id,
    });
    out.later
        .push((end, rule, release_id, Later::DownloadCompleted));
    let p_install = behaviour
        .release_install_failure
        .get(release_id.index())
        .copied()
        .flatten()
        .unwrap_or(p.install_failure_probability);
    let carry = if rng::chance(p_install, seed, id, t, Purpose::InstallFails) {
        out.later
            .push((end, rule, release_id, Later::InstallFailed));
        Carry::Nothing
    } else {
        out.later
            .push((end, rule, release_id, Later::InstallSucceeded));
        // R3: the device reports the release's version at its next poll.
        Carry::Report(release.target())
    };
    out.wakes
        .push((next_poll(p, seed, id, end), Wake { carry, ..wake }));
}

/// Applies the chunks' outputs in order.
pub fn merge(
    outs: Vec<ChunkOut>,
    state: &mut State,
    schedule: &mut Schedule,
    series: &mut Series,
    counters: &mut Counters,
) {
    for out in outs {
        counters.add(&out.now);
        for change in out.changes {
            match change {
                Change::Version(d, v) => {
                    if state.fleet.version(d) != v {
                        series.change_version(&state.catalog, &state.fleet, d, v);
                        state.fleet.set_version(d, v);
                    }
                }
                Change::Retire(d, seen) => {
                    if seen != i32::MIN {
                        state.fleet.set_last_seen(d, i64::from(seen));
                    }
                    series.leave(&state.catalog, &state.fleet, d);
                    state.fleet.set_present(d, false);
                }
            }
        }
        for tr in out.transfers {
            series.add_transfer(
                tr.start,
                tr.bytes,
                tr.full_equivalent,
                tr.per_tick,
                tr.rule,
                tr.release,
            );
        }
        for (at, rule, release, kind) in out.later {
            let c = series.counters_mut(at);
            let r = rule as usize;
            match kind {
                Later::DownloadCompleted => c.downloads_completed[r] += 1,
                Later::DownloadFailed => c.downloads_failed[r] += 1,
                Later::InstallSucceeded => c.installs_succeeded[r] += 1,
                Later::InstallFailed => c.installs_failed[r] += 1,
            }
            let kind = match kind {
                Later::DownloadCompleted => 0,
                Later::DownloadFailed => 1,
                Later::InstallSucceeded => 2,
                Later::InstallFailed => 3,
            };
            series.release_event(at, release, kind);
        }
        for (at, wake) in out.wakes {
            schedule.push(at, wake);
        }
    }
}
