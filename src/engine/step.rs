//! One tick of device behaviour: what every waking device does, computed in parallel
//! block by block, then the few changes that touch shared totals applied in order.

use rayon::prelude::*;

use super::calendar::{Block, Carry, Wake, BLOCK};
use super::hot::Hot;
use super::rng::{Purpose, Stream};
use super::tick_log::{Counters, TickLog, Transfer};
use crate::behaviour::{Behaviour, Profile};
use crate::catalog::Catalog;
use crate::fleet::{Columns, DeviceReport};
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
        let global = catalog.cohorts_changed_since(self.revision).is_none();
        self.revision = catalog.revision();
        if !self.table.is_current(catalog) && !self.table.refresh(catalog) {
            self.table = crate::resolver::fast::DecisionTable::new(catalog);
        }
        if !global && !self.full_of_target.is_empty() {
            // Releases did not change: their Full counterparts neither.
            return;
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

    /// Whether the device of word `h` is known to get no update, without building its
    /// report: `false` also when the table cannot tell at once (a cold word, a class
    /// not yet resolved); the poll then asks [`Decider::decide`].
    #[inline]
    fn no_update(&self, h: Hot) -> bool {
        h.plain_class()
            .is_some_and(|(version, hardware, cohort, staged)| {
                self.table.decide_plain(version, hardware, cohort, staged)
                    == Some(crate::resolver::fast::PackedDecision::NONE)
            })
    }

    #[inline]
    pub fn decide(&self, catalog: &Catalog, report: &DeviceReport) -> Decision {
        debug_assert_eq!(self.revision, catalog.revision());
        self.table.decide(catalog, report)
    }
}

/// A change to apply to the fleet and the series, in order.
enum Change {
    /// A device reported the version it installed, with the report it had before (the
    /// fleet has the new version already; the series must learn it).
    Version(DeviceIdx, DeviceReport, VersionId),
    /// The device retired; it was last seen at this tick (`i32::MIN`: never), and it
    /// had installed this version without reporting it yet.
    Retire(DeviceIdx, i32, Option<VersionId>),
}

/// `n` downloads alike: bytes sent from the transfer's start at the profile's link
/// rate, ending at `end` with `outcome` (counted at `end`).
#[derive(Copy, Clone, PartialEq, Eq)]
struct Download {
    /// The device (for the blast radius of a gate); [`NO_DEVICE`] in downloads that
    /// [`coalesce`] folded.
    device: u32,
    /// The device's effective cohort (R9), for the R37 gate counts.
    cohort: crate::ids::CohortId,
    /// Its stored cohort, for the reach counts.
    home: crate::ids::CohortId,
    end: u64,
    transfer: Transfer,
    outcome: Outcome,
    /// How many (1 until [`coalesce`]).
    n: u64,
}

/// [`Download::device`] of downloads of several devices.
const NO_DEVICE: u32 = u32::MAX;

/// One word of what tells a tick's downloads apart (equality still compares every
/// field): [`coalesce`] hashes one per download, where the derived hash wrote eleven
/// fields one by one.
impl std::hash::Hash for Download {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let t = &self.transfer;
        h.write_u64(
            t.bytes
                ^ self.end.rotate_left(24)
                ^ u64::from(t.release.0).rotate_left(40)
                ^ u64::from(self.home.0).rotate_left(52)
                ^ u64::from(self.cohort.0).rotate_left(58)
                ^ (self.outcome as u64).rotate_left(62),
        );
    }
}

/// A folded report's key: the report before and the version reported.
#[derive(Copy, Clone, PartialEq, Eq)]
struct Reported(DeviceReport, VersionId);

/// One word, as for [`Download`].
impl std::hash::Hash for Reported {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        let Reported(r, v) = self;
        h.write_u64(
            u64::from(r.version.0)
                ^ u64::from(v.0).rotate_left(24)
                ^ u64::from(r.hardware.0).rotate_left(40)
                ^ u64::from(r.cohort.0).rotate_left(48)
                ^ u64::from(r.software_type.0).rotate_left(56)
                ^ (u64::from(r.staged) << 63),
        );
    }
}

/// How a download ends.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
enum Outcome {
    /// It failed part-way.
    Failed,
    /// It completed and the install succeeded.
    Installed,
    /// It completed and the install failed.
    InstallFailed,
}

/// What one block produced in a tick that touches shared state: the fleet's columns
/// and the series. One entry per report, retirement or download, not per poll.
#[derive(Default)]
pub struct BlockOut {
    changes: Vec<Change>,
    /// Reports folded by [`coalesce`]: `n` devices whose report was `.0` reported
    /// version `.1`.
    reported: Vec<(DeviceReport, VersionId, u64)>,
    downloads: Vec<Download>,
    /// Polls whose download waits for R38 admission (see [`admit`]).
    pending: Vec<Pending>,
    now: Counters,
    /// [`coalesce`]'s indexes into `reported` and `downloads`, kept for their memory.
    report_slots: hashbrown::HashMap<Reported, usize>,
    /// [`BlockOut::fold_report`]'s indexes into `reported`, by report key and version.
    key_slots: hashbrown::HashMap<(u64, VersionId), usize>,
    download_slots: hashbrown::HashMap<Download, usize>,
}

impl BlockOut {
    /// Folds, as [`coalesce`] does, the report of version `v` by a device whose word
    /// is not cold and whose report key ([`Hot::report_key`]) is `key`, at the poll:
    /// the report is built once per key and version, not once per device.
    #[inline]
    fn fold_report(&mut self, catalog: &Catalog, key: u64, v: VersionId) {
        let reported = &mut self.reported;
        let slot = *self.key_slots.entry((key, v)).or_insert_with(|| {
            reported.push((Hot::report_of_key(key, catalog), v, 0));
            reported.len() - 1
        });
        reported[slot].2 += 1;
    }
}

/// A poll that was offered an update and would start a download: everything needed
/// to start it, or to send the device back to its calendar if it is held back.
#[derive(Copy, Clone)]
pub struct Pending {
    /// The device.
    device: u32,
    /// Its wake, and its last-seen tick now.
    wake: Wake,
    seen: i32,
    /// What it carries if held back (a partial download survives; a report is used).
    kept: Carry,
    profile: u8,
    hardware: crate::ids::HardwareId,
    cohort: crate::ids::CohortId,
    home: crate::ids::CohortId,
    rule: Rule,
    release: crate::ids::ReleaseId,
    size: u64,
    fetched: u64,
}

/// What the R38/R39 policies need in a tick; `None` in [`Tick`] when the scenario has
/// none (the engine then runs as it always did).
pub struct PolicyTick<'a> {
    /// Per profile: whether its update window is open in this tick (R39).
    pub open: Vec<bool>,
    /// Whether any cap may hold a download back (R38): downloads then wait for
    /// [`admit`].
    pub caps: bool,
    /// The policies in force.
    pub runtime: &'a crate::policy::Runtime,
}

/// The `kind`s of [`TickLog::release_event`].
const DOWNLOAD_COMPLETED: usize = 0;
const DOWNLOAD_FAILED: usize = 1;
const INSTALL_SUCCEEDED: usize = 2;
const INSTALL_FAILED: usize = 3;

/// The next poll after `t` for a device of profile `p`.
#[inline]
fn next_poll(p: &Profile, rng: Stream, device: u32, t: u64) -> u64 {
    let interval = if p.poll_jitter == 0 {
        p.poll_interval
    } else {
        let span = 2 * p.poll_jitter + 1;
        let offset = rng.below(span, device, t, Purpose::Jitter);
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

/// How many wakes ahead a device's hot word is fetched.
const PREFETCH_DISTANCE: usize = 12;

/// What every wake of one tick reads and does not change.
pub struct Tick<'a> {
    pub catalog: &'a Catalog,
    /// The fleet's columns but the versions (see [`crate::fleet::Fleet::split_versions`]).
    pub columns: Columns<'a>,
    pub decider: &'a Decider,
    pub behaviour: &'a Behaviour,
    pub rng: Stream,
    pub t: u64,
    /// R38/R39 policies, if the scenario has any.
    pub policy: Option<&'a PolicyTick<'a>>,
    /// Whether blocks fold their outputs ([`coalesce`]): never with policies.
    pub fold: bool,
    /// Whether each block marks its calendar for the next tick once it is done
    /// ([`Block::mark`]; in the block's own task, not one after another at the start
    /// of the next tick).
    pub mark: bool,
}

/// Processes the wakes of tick `t` in every block, in parallel; each block updates its
/// own calendar, hot words and fleet versions, and leaves in its `outs` entry (emptied
/// by [`merge`]) what must be applied to shared totals.
pub fn process(
    tick: &Tick<'_>,
    calendar: &mut [Block],
    hot: &mut [Hot],
    versions: &mut [VersionId],
    outs: &mut [BlockOut],
) {
    calendar
        .par_iter_mut()
        .zip(hot.par_chunks_mut(BLOCK))
        .zip(versions.par_chunks_mut(BLOCK))
        .zip(outs.par_iter_mut())
        .enumerate()
        // One block a task: a block is a fraction of a millisecond, and rayon's own
        // split left a quarter of the blocks in one piece, which one thread ran while
        // the other waited (docs/performance.md).
        .with_max_len(1)
        .for_each(|(b, (((block, hot), versions), out))| {
            out.now = Counters::default();
            out.key_slots.clear();
            let wakes = block.take(tick.t);
            let base = b * BLOCK;
            for (i, &wake) in wakes.iter().enumerate() {
                // A bucket visits its block's devices in no particular order, and a
                // poll does too much work for the CPU to run ahead to the next
                // device's load by itself: fetch it a few wakes early.
                if let Some(ahead) = wakes.get(i + PREFETCH_DISTANCE) {
                    crate::prefetch::prefetch(hot.as_ptr().wrapping_add(ahead.off()));
                }
                wake_one(tick, base, hot, versions, block, wake, out);
            }
            block.recycle(wakes);
            if tick.mark {
                // Before `admit` and the next tick's arrivals push more: a mark earlier
                // than the tick's start only adds wakes to look at.
                block.mark(tick.t + 1);
            }
            if tick.fold {
                debug_assert!(tick.policy.is_none());
                coalesce(out);
            }
        });
}

/// Folds a block's reports, and its downloads, that differ only in their device into
/// one entry with a count, while the block's threads are still running in parallel:
/// what they add to the series are sums, so the sequential [`merge`] then costs what
/// is distinct in a tick (a few dozen entries a block) instead of an entry per install
/// and per download. Not with policies, whose R37 gates and R38 caps follow devices.
fn coalesce(out: &mut BlockOut) {
    let BlockOut {
        changes,
        reported,
        downloads,
        report_slots,
        download_slots,
        ..
    } = out;
    report_slots.clear();
    changes.retain(|change| match *change {
        Change::Version(_, old, v) => {
            let slot = *report_slots.entry(Reported(old, v)).or_insert_with(|| {
                reported.push((old, v, 0));
                reported.len() - 1
            });
            reported[slot].2 += 1;
            false
        }
        Change::Retire(..) => true,
    });
    download_slots.clear();
    let mut kept = 0;
    for i in 0..downloads.len() {
        let dl = Download {
            device: NO_DEVICE,
            ..downloads[i]
        };
        match download_slots.entry(dl) {
            hashbrown::hash_map::Entry::Occupied(slot) => downloads[*slot.get()].n += dl.n,
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(kept);
                downloads[kept] = dl;
                kept += 1;
            }
        }
    }
    downloads.truncate(kept);
}

/// One device's poll. Inlined into the per-block loop: a poll is a few hundred
/// instructions, and a call's moves of arguments and saved registers were about a
/// tenth of them (the download path, [`start`], stays out of line).
#[inline(always)]
fn wake_one(
    tick: &Tick<'_>,
    base: usize,
    hot: &mut [Hot],
    versions: &mut [VersionId],
    block: &mut Block,
    wake: Wake,
    out: &mut BlockOut,
) {
    let Tick {
        catalog,
        ref columns,
        decider,
        behaviour,
        rng,
        t,
        ..
    } = *tick;
    let off = wake.off();
    // Taken first, so that a carry kept aside never outlives its wake.
    let carry = block.carry(&wake);
    let h = &mut hot[off];
    if !h.present() {
        return;
    }
    let id = (base + off) as u32;
    let d = DeviceIdx(id);
    let p = &behaviour.profiles[h.profile() as usize];
    let odds = behaviour.odds(h.profile());

    if rng.hits(odds.retire, id, t, Purpose::Retires) {
        h.retire();
        let unreported = match carry {
            Carry::Report(v) => Some(v),
            _ => None,
        };
        out.changes.push(Change::Retire(d, wake.seen, unreported));
        out.now.retired += 1;
        return;
    }
    if !rng.hits(odds.online, id, t, Purpose::Online) {
        out.now.missed_polls += 1;
        block.push(next_poll(p, rng, id, t), off, wake.seen, carry);
        return;
    }
    out.now.polls += 1;
    let seen = i32::try_from(t).unwrap_or(i32::MAX);
    if let Carry::Report(v) = carry {
        // R3: the device reports the version it installed.
        out.now.reports += 1;
        let version = match h.plain_class() {
            Some((version, ..)) if tick.fold => {
                out.fold_report(catalog, h.report_key(), v);
                version
            }
            _ => {
                let report = h.report(catalog, columns, base + off, || versions[off]);
                out.changes.push(Change::Version(d, report, v));
                report.version
            }
        };
        if version != v {
            h.set_version(v);
            versions[off] = v;
        }
    }
    // Most polls: no update for the device's class (a partial download it carries is
    // then dropped, as below).
    if decider.no_update(*h) {
        debug_assert_eq!(
            decider.decide(
                catalog,
                &h.report(catalog, columns, base + off, || versions[off])
            ),
            Decision::NONE
        );
        block.push(next_poll(p, rng, id, t), off, seen, Carry::Nothing);
        return;
    }
    let report = h.report(catalog, columns, base + off, || versions[off]);
    let decision = decider.decide(catalog, &report);
    let Some(release_id) = decision.release else {
        block.push(next_poll(p, rng, id, t), off, seen, Carry::Nothing);
        return;
    };
    let release = catalog.release(release_id);
    let size = release
        .payload(report.hardware)
        .expect("the resolver only answers releases with a payload for the hardware");
    let fetched = match carry {
        Carry::Partial(pr, f) if pr == release_id && f < size => f,
        _ => 0,
    };
    let pending = Pending {
        device: id,
        wake,
        seen,
        kept: match carry {
            Carry::Partial(..) => carry,
            _ => Carry::Nothing,
        },
        profile: h.profile(),
        hardware: report.hardware,
        cohort: crate::resolver::effective_cohort(catalog, &report),
        home: report.cohort,
        rule: decision.rule,
        release: release_id,
        size,
        fetched,
    };
    if let Some(policy) = tick.policy {
        if !policy.open[h.profile() as usize] {
            // R39: outside the profile's update window no download starts.
            hold(tick, block, out, &pending, false);
            return;
        }
        if policy.caps && capped(policy.runtime, &pending).0 {
            out.pending.push(pending);
            return;
        }
    }
    start(tick, block, out, &pending);
}

/// Whether a pending download is subject to an R38 cap, and the policy whose
/// per-activation cap applies (downloads by override are not through an activation).
fn capped(runtime: &crate::policy::Runtime, pd: &Pending) -> (bool, Option<usize>) {
    let policy = if pd.rule == Rule::Override {
        None
    } else {
        runtime
            .current(pd.release, pd.cohort)
            .filter(|&p| runtime.cap(p).is_some())
    };
    (
        runtime.max_bytes_per_tick().is_some() || policy.is_some(),
        policy,
    )
}

/// A poll held back by R38 or R39: no update at this poll; the device polls again as
/// usual, keeping a partial download.
fn hold(tick: &Tick<'_>, block: &mut Block, out: &mut BlockOut, pd: &Pending, by_cap: bool) {
    let p = &tick.behaviour.profiles[pd.profile as usize];
    out.now.downloads_deferred += 1;
    out.now.deferred_by_cap += u64::from(by_cap);
    block.push(
        next_poll(p, tick.rng, pd.device, tick.t),
        pd.wake.off(),
        pd.seen,
        pd.kept,
    );
}

/// Starts the download of a poll that got through.
#[inline(never)]
fn start(tick: &Tick<'_>, block: &mut Block, out: &mut BlockOut, pd: &Pending) {
    let Tick {
        catalog,
        decider,
        behaviour,
        rng,
        t,
        ..
    } = *tick;
    let id = pd.device;
    let p = &behaviour.profiles[pd.profile as usize];
    let odds = behaviour.odds(pd.profile);
    let (rule, release_id, size, fetched, seen) =
        (pd.rule, pd.release, pd.size, pd.fetched, pd.seen);
    let release = catalog.release(release_id);
    let wake = pd.wake;
    let r = rule as usize;
    out.now.offered[r] += 1;
    out.now.downloads_started[r] += 1;
    let remaining = size - fetched;
    let per_tick = p.link_bytes_per_tick;
    let fails = remaining > 0 && rng.hits(odds.download_failure, id, t, Purpose::DownloadFails);
    if fails {
        let sent = rng.below(remaining, id, t, Purpose::DownloadFailPoint);
        let end = t + download_ticks(sent, per_tick);
        out.downloads.push(Download {
            device: id,
            cohort: pd.cohort,
            home: pd.home,
            end,
            transfer: Transfer {
                start: t,
                bytes: sent,
                full_equivalent: decider.full_equivalent(
                    catalog,
                    release_id,
                    pd.hardware,
                    size,
                    sent,
                ),
                per_tick,
                rule,
                release: release_id,
            },
            outcome: Outcome::Failed,
            n: 1,
        });
        let carry = if p.resume_downloads {
            Carry::Partial(release_id, fetched + sent)
        } else {
            Carry::Nothing
        };
        block.push(next_poll(p, rng, id, end), wake.off(), seen, carry);
        return;
    }
    let end = t + download_ticks(remaining, per_tick);
    let install_fails = behaviour.install_failure_odds(pd.profile, release_id, pd.hardware);
    let (outcome, carry) = if rng.hits(install_fails, id, t, Purpose::InstallFails)
        // R36: the install succeeds but the device fails to boot it and rolls back to
        // its previous version, which it keeps reporting: a failed install too.
        || rng.hits(
            behaviour.boot_failure_odds(release_id, pd.hardware),
            id,
            t,
            Purpose::BootFails,
        ) {
        (Outcome::InstallFailed, Carry::Nothing)
    } else {
        // R3: the device reports the release's version at its next poll.
        (Outcome::Installed, Carry::Report(release.target()))
    };
    out.downloads.push(Download {
        device: id,
        cohort: pd.cohort,
        home: pd.home,
        end,
        transfer: Transfer {
            start: t,
            bytes: remaining,
            full_equivalent: decider.full_equivalent(
                catalog,
                release_id,
                pd.hardware,
                size,
                remaining,
            ),
            per_tick,
            rule,
            release: release_id,
        },
        outcome,
        n: 1,
    });
    block.push(next_poll(p, rng, id, end), wake.off(), seen, carry);
}

/// R38: decides which pending downloads of this tick start, then starts them or
/// holds them back. Polls get through in the order of a draw on (seed, device, tick)
/// (ties by device), each while its activation's cap and the fleet-wide byte cap have
/// room for it; so the choice is the same whatever the blocks and threads.
pub fn admit(tick: &Tick<'_>, calendar: &mut [Block], outs: &mut [BlockOut]) {
    let Some(policy) = tick.policy else { return };
    let mut line: Vec<(u64, u32, usize, usize)> = Vec::new();
    for (b, out) in outs.iter().enumerate() {
        for (i, pd) in out.pending.iter().enumerate() {
            let key = tick.rng.draw(pd.device, tick.t, Purpose::Admit);
            line.push((key, pd.device, b, i));
        }
    }
    if line.is_empty() {
        return;
    }
    line.sort_unstable();
    let runtime = policy.runtime;
    let mut bytes_left = runtime.max_bytes_per_tick();
    let mut used: std::collections::HashMap<usize, u64> = Default::default();
    let mut through: Vec<Vec<bool>> = outs.iter().map(|o| vec![false; o.pending.len()]).collect();
    for &(_, _, b, i) in &line {
        let pd = &outs[b].pending[i];
        let (_, activation) = capped(runtime, pd);
        let bytes = pd.size - pd.fetched;
        let cap_ok = activation.is_none_or(|p| {
            used.get(&p).copied().unwrap_or(0) < runtime.cap(p).unwrap_or(u64::MAX)
        });
        let bytes_ok = bytes_left.is_none_or(|left| bytes <= left);
        if cap_ok && bytes_ok {
            through[b][i] = true;
            if let Some(p) = activation {
                *used.entry(p).or_default() += 1;
            }
            if let Some(left) = &mut bytes_left {
                *left -= bytes;
            }
        }
    }
    // The decisions are made; starting the downloads touches only each block's own
    // calendar and output, so blocks go in parallel again.
    calendar
        .par_iter_mut()
        .zip(outs.par_iter_mut())
        .zip(through.par_iter())
        .for_each(|((block, out), through)| {
            let pending = std::mem::take(&mut out.pending);
            for (pd, &go) in pending.iter().zip(through) {
                if go {
                    start(tick, block, out, pd);
                } else {
                    hold(tick, block, out, pd, true);
                }
            }
            out.pending = pending;
            out.pending.clear();
        });
}

/// Applies the blocks' outputs to the fleet and the series, in block order, emptying
/// them (their buffers are reused next tick).
pub fn merge(
    outs: &mut [BlockOut],
    state: &mut State,
    series: &mut TickLog,
    counters: &mut Counters,
    mut runtime: Option<&mut crate::policy::Runtime>,
    t: u64,
) {
    for out in outs {
        counters.add(&out.now);
        for (old, v, n) in out.reported.drain(..) {
            series.install_reported(old.cohort, v, n);
            if old.version != v {
                series.change_versions(&state.catalog, &old, v, n);
            }
        }
        for change in out.changes.drain(..) {
            match change {
                Change::Version(d, old, v) => {
                    series.install_reported(old.cohort, v, 1);
                    if old.version != v {
                        series.change_version(&state.catalog, &old, v);
                        if let Some(rt) = runtime.as_deref_mut() {
                            rt.version_changed(d, t);
                        }
                    }
                }
                Change::Retire(d, seen, unreported) => {
                    if let Some(v) = unreported {
                        series.install_reported(state.fleet.cohort(d), v, 1);
                    }
                    if seen != i32::MIN {
                        state.fleet.set_last_seen(d, i64::from(seen));
                    }
                    series.leave(&state.catalog, &state.fleet, d);
                    state.fleet.set_present(d, false);
                }
            }
        }
        for dl in out.downloads.drain(..) {
            let Transfer { rule, release, .. } = dl.transfer;
            let n = dl.n;
            series.add_transfer(&dl.transfer, n);
            let c = series.counters_mut(dl.end);
            let r = rule as usize;
            let kinds: &[usize] = match dl.outcome {
                Outcome::Failed => {
                    c.downloads_failed[r] += n;
                    &[DOWNLOAD_FAILED]
                }
                Outcome::Installed => {
                    c.downloads_completed[r] += n;
                    c.installs_succeeded[r] += n;
                    &[DOWNLOAD_COMPLETED, INSTALL_SUCCEEDED]
                }
                Outcome::InstallFailed => {
                    c.downloads_completed[r] += n;
                    c.installs_failed[r] += n;
                    &[DOWNLOAD_COMPLETED, INSTALL_FAILED]
                }
            };
            if matches!(dl.outcome, Outcome::Installed) {
                let to = state.catalog.release(release).target();
                series.install_lands(dl.end, dl.home, to, n);
            }
            for &kind in kinds {
                series.release_event(dl.end, release, kind, n);
            }
            if let (Some(rt), false, false) = (
                runtime.as_deref_mut(),
                matches!(dl.outcome, Outcome::Failed),
                rule == Rule::Override,
            ) {
                // R37: an attempt is a completed download's install, successful or not.
                // Downloads are folded only without policies (`coalesce`).
                debug_assert_eq!((n, dl.device == NO_DEVICE), (1, false));
                rt.record_install(
                    release,
                    dl.cohort,
                    dl.end,
                    matches!(dl.outcome, Outcome::InstallFailed),
                    dl.device,
                );
            }
        }
    }
}
