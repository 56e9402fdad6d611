//! What a run records per tick: counters, bytes sent, and devices per (cohort, version).

use crate::catalog::Catalog;
use crate::fleet::{DeviceReport, Fleet};
use crate::ids::{CohortId, DeviceIdx, ReleaseId, VersionId};
use crate::matrix::ClassSpace;
use crate::resolver::{Decision, NoTrail, Rule};
use crate::timeline::State;

use super::reach::{Cells, Reach, MAX_REACH_CELLS};

/// Devices per class, kept up to date as devices change, so that the number of
/// devices at their final version (whose resolver answer is "no update", R24) is known
/// every tick without visiting every device, and so is, per (cohort, version) cell, how
/// many devices can get that version ([`super::reach`]).
#[derive(Clone, Debug)]
struct Classes {
    space: ClassSpace,
    counts: Vec<u64>,
    /// One bit a class, set while its count is not zero: a cohort has tens of
    /// thousands of classes and a few hundred occupied, which a catalog change visits
    /// by this bitset's words rather than by every count.
    occupied: Vec<u64>,
    /// Per class: [`UNKNOWN`], [`CYCLE`] (the R24 walk cycles) or `v + 2` for final
    /// version `v`; under the catalog of `revision`.
    final_cache: Vec<u32>,
    revision: u64,
    /// Devices at their final version, per cohort.
    at_final: Vec<u64>,
    /// Per (cohort, version) cell: present devices whose final version it is.
    can_get: Vec<u64>,
    /// Per cell: of those, devices reporting it (at their final version).
    reported: Vec<u64>,
    /// While [`Classes::catalog_changed`] walks: the first step of the walk of each
    /// class it walks from, resolved beforehand on every thread, sorted by class.
    ahead: Vec<(usize, Option<VersionId>)>,
}

/// The version a device reporting `report` installs next (R24's step): the To version
/// of the release the resolver offers it, `None` when none is offered.
fn next_version(catalog: &Catalog, report: &DeviceReport) -> Option<VersionId> {
    let Decision { release, .. } = crate::resolver::resolve(catalog, report, &mut NoTrail);
    release.map(|r| catalog.release(r).target())
}

/// `Classes::final_cache`: not computed yet.
const UNKNOWN: u32 = 0;
/// `Classes::final_cache`: R24's walk from the class cycles.
const CYCLE: u32 = 1;
/// `Classes::final_cache`: on the walk being computed (never left after it).
const ON_WALK: u32 = u32::MAX;

impl Classes {
    /// Empty counts: [`TickLog::new`] counts the fleet once, for classes and cells.
    fn new(catalog: &Catalog) -> Option<Classes> {
        let space = ClassSpace::new(catalog)?;
        let cells = space.n_cohorts() * catalog.n_versions().max(1);
        let mut c = Classes {
            space,
            counts: vec![0; space.size()],
            occupied: vec![0; space.size().div_ceil(64)],
            final_cache: vec![0; space.size()],
            revision: catalog.revision(),
            at_final: vec![0; catalog.cohorts().len()],
            can_get: vec![0; cells],
            reported: vec![0; cells],
            ahead: Vec::new(),
        };
        c.reconverge(catalog);
        Some(c)
    }

    /// The final version of `class` (R24), `None` for a cycle.
    ///
    /// R24's walk from a class passes through classes that differ from it only in
    /// version (a step installs the release's To version and changes nothing else), and
    /// each of them has the walk's own final version (or cycle). So the walk stops at
    /// the first class already known and caches its answer for every class it passed:
    /// after an activation, a cohort's classes cost one resolver call each, not one per
    /// step of each class's walk (`matrix::final_version`, which this must equal:
    /// `r24_cached_walks_equal_the_plain_walk` and the engine's debug recount check it).
    fn final_of(&mut self, catalog: &Catalog, class: usize) -> Option<VersionId> {
        let known = |v: u32| match v {
            CYCLE => None,
            v => Some(VersionId(v - 2)),
        };
        if self.final_cache[class] != UNKNOWN {
            return known(self.final_cache[class]);
        }
        let mut walked = Vec::new();
        let mut report = self.space.report(catalog, class);
        let mut c = class;
        let answer = loop {
            match self.final_cache[c] {
                UNKNOWN => {}
                // A class of this walk again: a version seen twice.
                ON_WALK => break CYCLE,
                v => break v,
            }
            self.final_cache[c] = ON_WALK;
            walked.push(c);
            let next = match self.ahead.binary_search_by_key(&c, |&(k, _)| k) {
                Ok(at) => self.ahead[at].1,
                Err(_) => next_version(catalog, &report),
            };
            let Some(next) = next else {
                break report.version.0 + 2;
            };
            report.version = next;
            c = self.space.index(&report);
        };
        for c in walked {
            self.final_cache[c] = answer;
        }
        known(answer)
    }

    fn recount(&mut self, catalog: &Catalog, fleet: &Fleet) {
        let space = self.space;
        self.counts = count_present(fleet, space.size(), |d| space.index(&fleet.report(d)));
        self.occupied = self
            .counts
            .chunks(64)
            .map(|c| (c.iter().enumerate()).fold(0, |w, (i, &n)| w | u64::from(n > 0) << i))
            .collect();
        self.reconverge(catalog);
    }

    /// Brings the totals up to date after the catalog changed: for just the classes of
    /// the cohorts the changes touched when the catalog can say which
    /// ([`Catalog::cohorts_changed_since`]), so that an activation or a pull walks
    /// (R24) only its cohort's classes; else for every class.
    fn catalog_changed(&mut self, catalog: &Catalog) {
        let Some(mut cohorts) = catalog.cohorts_changed_since(self.revision) else {
            self.reconverge(catalog);
            return;
        };
        self.revision = catalog.revision();
        cohorts.sort_unstable();
        cohorts.dedup();
        // Classes are stored-cohort-major: without project keys that move devices
        // to another cohort (R9), a cohort's classes are one run of indices.
        let keys_move = catalog
            .project_keys()
            .iter()
            .any(|k| k.ota_cohort_override.is_some());
        let per_cohort = self.counts.len() / self.space.n_cohorts().max(1);
        let runs: Vec<std::ops::Range<usize>> = if keys_move {
            std::iter::once(0..self.counts.len()).collect()
        } else {
            cohorts
                .iter()
                .filter(|c| c.index() < self.space.n_cohorts())
                .map(|c| c.index() * per_cohort..(c.index() + 1) * per_cohort)
                .collect()
        };
        // The cohorts' classes, and of those the occupied ones: a cohort has tens of
        // thousands of classes (versions × hardware × staged × overrides), of which a
        // few hundred hold devices, and only those have totals to move.
        let space = self.space;
        let in_changed = |class: usize| {
            !keys_move || {
                let report = space.report(catalog, class);
                let cohort = crate::resolver::reference::effective_cohort(catalog, &report);
                cohorts.contains(&cohort)
            }
        };
        let occupied: Vec<usize> = runs
            .iter()
            .flat_map(|run| crate::bitmap::ones_in(&self.occupied, run.clone()))
            .filter(|&class| in_changed(class))
            .collect();
        debug_assert!(occupied.is_sorted() && occupied.iter().all(|&c| self.counts[c] > 0));
        debug_assert_eq!(
            occupied.len(),
            runs.iter()
                .flat_map(|run| run.clone())
                .filter(|&c| self.counts[c] > 0 && in_changed(c))
                .count()
        );
        // Three steps, since a walk under the new catalog caches the answers of other
        // classes of its cohort (`final_of`): take back what every occupied class added
        // under the old answers, forget the answers of every class changed, then add
        // under the new ones.
        for &class in &occupied {
            self.add_totals(catalog, class, -(self.counts[class] as i64));
        }
        for run in &runs {
            if keys_move {
                for class in run.clone().filter(|&c| in_changed(c)) {
                    self.final_cache[class] = UNKNOWN;
                }
            } else {
                self.final_cache[run.clone()].fill(UNKNOWN);
            }
        }
        // Most walks are a step or two through occupied classes: their steps are
        // resolved first, in parallel (the walks, which share their answers, then
        // run in order).
        let space = self.space;
        self.ahead = {
            use rayon::prelude::*;
            occupied
                .par_iter()
                .with_min_len(64)
                .map(|&class| (class, next_version(catalog, &space.report(catalog, class))))
                .collect()
        };
        for &class in &occupied {
            self.add_totals(catalog, class, self.counts[class] as i64);
        }
        self.ahead = Vec::new();
        #[cfg(debug_assertions)]
        {
            // Debug builds (the tests) check the partial update against a full one.
            let mut full = self.clone();
            full.reconverge(catalog);
            debug_assert!(
                (&full.at_final, &full.can_get, &full.reported)
                    == (&self.at_final, &self.can_get, &self.reported),
                "partial reconvergence differs from a full one"
            );
        }
    }

    /// Recomputes the totals from the class counts, for every class.
    fn reconverge(&mut self, catalog: &Catalog) {
        self.revision = catalog.revision();
        self.final_cache.iter_mut().for_each(|c| *c = UNKNOWN);
        self.at_final.iter_mut().for_each(|c| *c = 0);
        self.can_get.iter_mut().for_each(|c| *c = 0);
        self.reported.iter_mut().for_each(|c| *c = 0);
        for class in 0..self.counts.len() {
            let n = self.counts[class];
            if n > 0 {
                self.add_totals(catalog, class, n as i64);
            }
        }
    }

    /// Adds `delta` devices of report `r` (of class `class`).
    fn add(&mut self, catalog: &Catalog, class: usize, r: &DeviceReport, delta: i64) {
        self.counts[class] = (self.counts[class] as i64 + delta) as u64;
        let bit = 1 << (class % 64);
        if self.counts[class] > 0 {
            self.occupied[class / 64] |= bit;
        } else {
            self.occupied[class / 64] &= !bit;
        }
        self.add_totals_of(catalog, class, r.cohort, r.version, delta);
    }

    fn add_totals(&mut self, catalog: &Catalog, class: usize, delta: i64) {
        let (cohort, version) = (self.space.cohort(class), self.space.version(class));
        self.add_totals_of(catalog, class, cohort, version, delta);
    }

    /// [`Classes::add_totals`] for a class whose stored cohort and version the caller
    /// has at hand: the merge of every tick's reports calls it per install, and
    /// taking them from the class number costs two divisions.
    fn add_totals_of(
        &mut self,
        catalog: &Catalog,
        class: usize,
        cohort: CohortId,
        version: VersionId,
        delta: i64,
    ) {
        debug_assert_eq!(
            (cohort, version),
            (self.space.cohort(class), self.space.version(class))
        );
        let Some(f) = self.final_of(catalog, class) else {
            return;
        };
        let bump = |x: &mut u64| *x = (*x as i64 + delta) as u64;
        let cohort = cohort.index();
        let cell = cohort * catalog.n_versions().max(1) + f.index();
        bump(&mut self.can_get[cell]);
        // No update offered exactly when the walk stops where it starts.
        if version == f {
            bump(&mut self.at_final[cohort]);
            bump(&mut self.reported[cell]);
        }
    }
}

/// Present devices per bucket (`bucket` maps a device into `0..size`), counted in
/// parallel: a recount after an event that changes the fleet visits every device, and
/// sequentially that was seconds per event at 10M devices. Integer sums, so the result
/// does not depend on how the work was split.
fn count_present(
    fleet: &Fleet,
    size: usize,
    bucket: impl Fn(DeviceIdx) -> usize + Sync,
) -> Vec<u64> {
    use rayon::prelude::*;
    let n = fleet.len();
    // One partial count array per thread, not per small chunk: the arrays can be large.
    let parts = rayon::current_num_threads().clamp(1, n.div_ceil(1 << 16).max(1));
    let per_part = n.div_ceil(parts).max(1);
    (0..parts)
        .into_par_iter()
        .map(|p| {
            let mut counts = vec![0u64; size];
            for i in p * per_part..((p + 1) * per_part).min(n) {
                let d = DeviceIdx(i as u32);
                if fleet.is_present(d) {
                    counts[bucket(d)] += 1;
                }
            }
            counts
        })
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        })
        .unwrap_or_else(|| vec![0; size])
}

/// Counts of what happened in one tick, by rule where a rule applies (indexed by
/// `Rule as usize`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Polls that reached the platform.
    pub polls: u64,
    /// Polls missed because the device was offline.
    pub missed_polls: u64,
    /// Installed versions reported (R3).
    pub reports: u64,
    /// Updates offered by the resolver.
    pub offered: [u64; 5],
    /// Downloads started (including resumed ones).
    pub downloads_started: [u64; 5],
    /// Downloads that fetched the whole payload.
    pub downloads_completed: [u64; 5],
    /// Downloads that failed part-way.
    pub downloads_failed: [u64; 5],
    /// Installs that succeeded.
    pub installs_succeeded: [u64; 5],
    /// Installs that failed.
    pub installs_failed: [u64; 5],
    /// Devices that arrived.
    pub arrived: u64,
    /// Devices that retired.
    pub retired: u64,
    /// Polls offered an update whose download was held back by a cap (R38) or an
    /// update window (R39).
    pub downloads_deferred: u64,
    /// Those of them held back by a cap (R38) rather than a window.
    pub deferred_by_cap: u64,
}

impl Counters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counters) {
        self.polls += other.polls;
        self.missed_polls += other.missed_polls;
        self.reports += other.reports;
        for r in 0..5 {
            self.offered[r] += other.offered[r];
            self.downloads_started[r] += other.downloads_started[r];
            self.downloads_completed[r] += other.downloads_completed[r];
            self.downloads_failed[r] += other.downloads_failed[r];
            self.installs_succeeded[r] += other.installs_succeeded[r];
            self.installs_failed[r] += other.installs_failed[r];
        }
        self.arrived += other.arrived;
        self.retired += other.retired;
        self.downloads_deferred += other.downloads_deferred;
        self.deferred_by_cap += other.deferred_by_cap;
    }
}

/// Totals of one release over a run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseTotals {
    /// Downloads started (including resumed ones).
    pub downloads_started: u64,
    /// Downloads that fetched the whole payload.
    pub downloads_completed: u64,
    /// Downloads that failed part-way.
    pub downloads_failed: u64,
    /// Installs that succeeded.
    pub installs_succeeded: u64,
    /// Installs that failed.
    pub installs_failed: u64,
    /// Bytes actually sent, retries and partial downloads included.
    pub bytes: u64,
    /// Bytes that would have been sent had every Delta been the Full payload of its To
    /// version (scaled by the fraction actually fetched); equal to `bytes` for Full
    /// releases.
    pub full_equivalent_bytes: u64,
}

/// One simulated tick, as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickRecord {
    /// What happened.
    pub counters: Counters,
    /// Devices per (cohort, version) at the end of the tick, non-zero cells only.
    pub versions: Vec<(CohortId, VersionId, u64)>,
}

/// A growable per-tick array of bytes, kept as a difference array plus point values so
/// that a download spread over many ticks is recorded in O(1).
#[derive(Clone, Debug, Default)]
struct Spread {
    rate_diff: Vec<i64>,
    point: Vec<u64>,
}

impl Spread {
    fn grow(&mut self, len: usize) {
        if self.point.len() < len {
            self.rate_diff.resize(len, 0);
            self.point.resize(len, 0);
        }
    }

    /// `n` downloads of `bytes` each, sent from tick `start` at `per_tick` bytes per
    /// tick (0: all at once).
    fn add(&mut self, start: u64, bytes: u64, per_tick: u64, n: u64) {
        let start = start as usize;
        if per_tick == 0 || bytes <= per_tick {
            self.grow(start + 1);
            self.point[start] += bytes * n;
            return;
        }
        let full = (bytes / per_tick) as usize;
        let rest = bytes % per_tick;
        self.grow(start + full + 1);
        self.rate_diff[start] += (per_tick * n) as i64;
        self.rate_diff[start + full] -= (per_tick * n) as i64;
        self.point[start + full] += rest * n;
    }

    fn per_tick(&self, len: usize) -> Vec<u64> {
        let mut out = Vec::with_capacity(len);
        let mut rate: i64 = 0;
        for t in 0..len {
            rate += self.rate_diff.get(t).copied().unwrap_or(0);
            out.push(rate as u64 + self.point.get(t).copied().unwrap_or(0));
        }
        out
    }
}

/// What a download adds to the byte series: downloads alike in all of it add the same.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Transfer {
    /// The tick it starts.
    pub start: u64,
    /// Bytes sent.
    pub bytes: u64,
    /// What the bytes would have been as the Full payload of the same target version.
    pub full_equivalent: u64,
    /// The link's bytes per tick (0: all at once).
    pub per_tick: u64,
    pub rule: Rule,
    pub release: ReleaseId,
}

/// Everything a run records.
#[derive(Clone, Debug)]
pub struct TickLog {
    n_versions: usize,
    /// Live devices per (cohort, version), dense.
    counts: Vec<u64>,
    /// Counters per tick; future ticks receive completions of downloads under way.
    counters: Vec<Counters>,
    /// Recorded ticks.
    versions: Vec<Vec<(CohortId, VersionId, u64)>>,
    bytes_by_rule: [Spread; 5],
    bytes_by_release: Vec<Spread>,
    /// Per release: downloads started (all at simulated ticks).
    release_started: Vec<u64>,
    /// Per release, per tick: downloads completed, downloads failed, installs succeeded,
    /// installs failed (events land at the tick a download ends, possibly after the
    /// run's last tick: only recorded ticks count).
    release_events: Vec<Vec<[u64; 4]>>,
    /// Per release: the all-Full counterfactual bytes, spread like the bytes.
    full_equivalent_by_release: Vec<Spread>,
    classes: Option<Classes>,
    /// Devices at their final version per cohort, per recorded tick (empty when the
    /// class space is too large to track).
    at_final: Vec<Vec<u64>>,
    /// Per (cohort, version) cell: installs that landed and that their device has not
    /// reported yet (R3), by the device's cohort when it installed.
    unreported: Vec<i64>,
    /// Per tick: the cells of installs that land then, with how many (downloads are
    /// decided when they start; their installs count from the tick they end).
    landing: Vec<Vec<(u32, u64)>>,
    /// Time to reach per version and release; `None` when classes are not tracked or
    /// the catalog has too many cells.
    reach: Option<Reach>,
}

impl TickLog {
    /// An empty record for `state`'s fleet.
    pub fn new(state: &State) -> TickLog {
        let mut s = TickLog {
            n_versions: state.catalog.n_versions(),
            counts: Vec::new(),
            counters: Vec::new(),
            versions: Vec::new(),
            bytes_by_rule: Default::default(),
            bytes_by_release: vec![Spread::default(); state.catalog.releases().count()],
            release_started: vec![0; state.catalog.releases().count()],
            release_events: vec![Vec::new(); state.catalog.releases().count()],
            full_equivalent_by_release: vec![Spread::default(); state.catalog.releases().count()],
            classes: Classes::new(&state.catalog),
            at_final: Vec::new(),
            unreported: Vec::new(),
            landing: Vec::new(),
            reach: None,
        };
        if s.classes
            .as_ref()
            .is_some_and(|c| c.can_get.len() <= MAX_REACH_CELLS)
        {
            s.reach = Some(Reach::new(&state.catalog));
        }
        s.recount(&state.catalog, &state.fleet);
        s
    }

    /// Stops tracking the reach (for runs that record no ticks).
    pub fn without_reach(&mut self) {
        self.reach = None;
        self.landing = Vec::new();
        self.unreported = Vec::new();
    }

    /// Makes room for releases added to the catalog mid-run (up to `n` in all).
    pub fn releases_added(&mut self, n: usize) {
        if self.release_started.len() < n {
            self.bytes_by_release.resize(n, Spread::default());
            self.release_started.resize(n, 0);
            self.release_events.resize(n, Vec::new());
            self.full_equivalent_by_release.resize(n, Spread::default());
        }
    }

    /// Brings the final-version counts up to date with a changed catalog.
    pub fn catalog_changed(&mut self, catalog: &Catalog) {
        if let Some(c) = &mut self.classes {
            if c.revision != catalog.revision() {
                c.catalog_changed(catalog);
            }
        }
    }

    fn cell(&self, cohort: CohortId, version: VersionId) -> usize {
        cohort.index() * self.n_versions + version.index()
    }

    /// Recounts devices per (cohort, version) and per class from scratch (after devices
    /// move, or their staged flags or overrides change).
    pub fn recount(&mut self, catalog: &Catalog, fleet: &Fleet) {
        if let Some(c) = &mut self.classes {
            c.recount(catalog, fleet);
        }
        // Cells of every cohort id a device can hold: the catalog's cohorts.
        let n_cohorts = catalog
            .cohorts()
            .len()
            .max(self.counts.len() / self.n_versions.max(1));
        let n_versions = self.n_versions;
        self.counts = count_present(fleet, n_cohorts * n_versions, |d| {
            fleet.cohort(d).index() * n_versions + fleet.version(d).index()
        });
    }

    fn ensure_cohort(&mut self, cohort: CohortId) {
        let need = (cohort.index() + 1) * self.n_versions;
        if self.counts.len() < need {
            self.counts.resize(need, 0);
        }
    }

    /// A device arrived (call after it is marked present).
    pub fn arrive(&mut self, catalog: &Catalog, fleet: &Fleet, d: DeviceIdx) {
        self.ensure_cohort(fleet.cohort(d));
        let c = self.cell(fleet.cohort(d), fleet.version(d));
        self.counts[c] += 1;
        if let Some(cl) = &mut self.classes {
            let report = fleet.report(d);
            cl.add(catalog, cl.space.index(&report), &report, 1);
        }
    }

    /// A device leaves (retires; call before it is marked absent).
    pub fn leave(&mut self, catalog: &Catalog, fleet: &Fleet, d: DeviceIdx) {
        let c = self.cell(fleet.cohort(d), fleet.version(d));
        self.counts[c] -= 1;
        if let Some(cl) = &mut self.classes {
            let report = fleet.report(d);
            cl.add(catalog, cl.space.index(&report), &report, -1);
        }
    }

    /// A device whose report was `old` now reports `new` instead (the caller passes
    /// the report it already has: reading it from the fleet's columns here would cost
    /// a cache miss per column per install).
    pub fn change_version(&mut self, catalog: &Catalog, old: &DeviceReport, new: VersionId) {
        self.change_versions(catalog, old, new, 1);
    }

    /// `n` present devices whose report was `old` now report version `new` instead.
    pub fn change_versions(
        &mut self,
        catalog: &Catalog,
        old: &DeviceReport,
        new: VersionId,
        n: u64,
    ) {
        let new = DeviceReport {
            version: new,
            ..*old
        };
        self.change_reports(catalog, old, &new, n);
    }

    /// A present device's report changed from `old` to `new` (it installed a version,
    /// or events moved, staged or unstaged it, or set or cleared its override).
    pub fn change_report(&mut self, catalog: &Catalog, old: &DeviceReport, new: &DeviceReport) {
        self.change_reports(catalog, old, new, 1);
    }

    /// `n` present devices' reports changed from `old` to `new`.
    pub fn change_reports(
        &mut self,
        catalog: &Catalog,
        old: &DeviceReport,
        new: &DeviceReport,
        n: u64,
    ) {
        self.ensure_cohort(new.cohort);
        let (o, c) = (
            self.cell(old.cohort, old.version),
            self.cell(new.cohort, new.version),
        );
        self.counts[o] -= n;
        self.counts[c] += n;
        if let Some(cl) = &mut self.classes {
            cl.add(catalog, cl.space.index(old), old, -(n as i64));
            cl.add(catalog, cl.space.index(new), new, n as i64);
        }
    }

    /// Whether the live counts (per cell, per class, at their final version) are equal.
    #[cfg(debug_assertions)]
    pub(crate) fn same_counts(&self, other: &TickLog) -> bool {
        fn trimmed(v: &[u64]) -> &[u64] {
            let end = v.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
            &v[..end]
        }
        let classes = match (&self.classes, &other.classes) {
            (Some(a), Some(b)) => {
                a.counts == b.counts
                    && a.at_final == b.at_final
                    && a.can_get == b.can_get
                    && a.reported == b.reported
            }
            (None, None) => true,
            _ => false,
        };
        classes && trimmed(&self.counts) == trimmed(&other.counts)
    }

    /// Counters of tick `t`, to add to (also for ticks not simulated yet).
    pub fn counters_mut(&mut self, t: u64) -> &mut Counters {
        let t = t as usize;
        if self.counters.len() <= t {
            self.counters.resize(t + 1, Counters::default());
        }
        &mut self.counters[t]
    }

    /// Records the bytes of `n` downloads alike.
    pub fn add_transfer(&mut self, transfer: &Transfer, n: u64) {
        let &Transfer {
            start,
            bytes,
            full_equivalent,
            per_tick,
            rule,
            release,
        } = transfer;
        self.bytes_by_rule[rule as usize].add(start, bytes, per_tick, n);
        self.bytes_by_release[release.index()].add(start, bytes, per_tick, n);
        self.full_equivalent_by_release[release.index()].add(start, full_equivalent, per_tick, n);
        self.release_started[release.index()] += n;
    }

    /// Records `n` download or install outcomes of `release` at tick `t` (`kind`: 0
    /// download completed, 1 download failed, 2 install succeeded, 3 install failed).
    pub fn release_event(&mut self, t: u64, release: ReleaseId, kind: usize, n: u64) {
        let per_tick = &mut self.release_events[release.index()];
        let t = t as usize;
        if per_tick.len() <= t {
            per_tick.resize(t + 1, [0; 4]);
        }
        per_tick[t][kind] += n;
    }

    /// Totals per release (indexed by release id) over the recorded ticks: a download
    /// still under way at the end counts only the bytes sent so far and no completion.
    pub fn release_totals(&self) -> Vec<ReleaseTotals> {
        let n = self.len();
        (0..self.release_started.len())
            .map(|r| {
                let mut events = [0u64; 4];
                for e in self.release_events[r].iter().take(n) {
                    for (sum, x) in events.iter_mut().zip(e) {
                        *sum += x;
                    }
                }
                ReleaseTotals {
                    downloads_started: self.release_started[r],
                    downloads_completed: events[0],
                    downloads_failed: events[1],
                    installs_succeeded: events[2],
                    installs_failed: events[3],
                    bytes: self.bytes_by_release[r].per_tick(n).iter().sum(),
                    full_equivalent_bytes: self.full_equivalent_by_release[r]
                        .per_tick(n)
                        .iter()
                        .sum(),
                }
            })
            .collect()
    }

    /// An install of `version` by a device of stored cohort `cohort` lands at tick `t`
    /// (its download ends then); the device reports it at a later poll.
    pub fn install_lands(&mut self, t: u64, cohort: CohortId, version: VersionId, n: u64) {
        if self.reach.is_none() {
            return;
        }
        let t = t as usize;
        if self.landing.len() <= t {
            self.landing.resize_with(t + 1, Vec::new);
        }
        let cell = self.cell(cohort, version);
        self.landing[t].push((cell as u32, n));
    }

    /// `n` devices of stored cohort `cohort` reported (or retired before reporting) an
    /// install of `version` that had landed.
    pub fn install_reported(&mut self, cohort: CohortId, version: VersionId, n: u64) {
        if self.reach.is_none() {
            return;
        }
        let cell = self.cell(cohort, version);
        if self.unreported.len() <= cell {
            self.unreported.resize(cell + 1, 0);
        }
        self.unreported[cell] -= n as i64;
    }

    /// Closes tick `t` under `catalog`: adds `counters` and snapshots the version
    /// counts and the reach.
    pub fn record(&mut self, t: u64, counters: Counters, catalog: &Catalog) {
        self.counters_mut(t).add(&counters);
        let n = self.n_versions.max(1);
        let cells = self
            .counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(i, &c)| (CohortId((i / n) as u16), VersionId((i % n) as u32), c))
            .collect();
        debug_assert_eq!(self.versions.len() as u64, t);
        self.versions.push(cells);
        if let Some(cl) = &self.classes {
            self.at_final.push(cl.at_final.clone());
        }
        if let (Some(reach), Some(cl)) = (&mut self.reach, &self.classes) {
            if let Some(cells) = self.landing.get_mut(t as usize) {
                for (cell, n) in std::mem::take(cells) {
                    let cell = cell as usize;
                    if self.unreported.len() <= cell {
                        self.unreported.resize(cell + 1, 0);
                    }
                    self.unreported[cell] += n as i64;
                }
            }
            reach.observe(
                t,
                catalog,
                &Cells {
                    can_get: &cl.can_get,
                    reported: &cl.reported,
                    unreported: &self.unreported,
                    n_versions: self.n_versions,
                },
            );
        }
    }

    /// Devices at their final version (R24: offered no update) per cohort per recorded
    /// tick; `None` when the fleet's class space was too large to track.
    pub fn at_final(&self) -> Option<&[Vec<u64>]> {
        self.classes.as_ref().map(|_| &self.at_final[..])
    }

    /// Time to reach per version and release, if tracked.
    pub fn reach(&self) -> Option<&Reach> {
        self.reach.as_ref()
    }

    /// Number of recorded ticks.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// The recorded ticks.
    pub fn ticks(&self) -> Vec<TickRecord> {
        (0..self.len())
            .map(|t| TickRecord {
                counters: self.counters.get(t).copied().unwrap_or_default(),
                versions: self.versions[t].clone(),
            })
            .collect()
    }

    /// Bytes sent per recorded tick by each rule (indexed by `Rule as usize`).
    pub fn bytes_by_rule(&self) -> [Vec<u64>; 5] {
        std::array::from_fn(|r| self.bytes_by_rule[r].per_tick(self.len()))
    }

    /// Bytes sent per recorded tick by each release (indexed by release id).
    pub fn bytes_by_release(&self) -> Vec<Vec<u64>> {
        self.bytes_by_release
            .iter()
            .map(|s| s.per_tick(self.len()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{Classes, Spread};
    use crate::matrix::{final_version, Final};
    use crate::resolver::testkit;
    use rand::seq::SliceRandom;

    /// R24 with walks cached per class (`Classes::final_of`) answers as the plain walk
    /// does, for every class of random catalogs, asked in random order (so walks stop
    /// at classes other walks cached), across random catalog changes.
    #[test]
    fn r24_cached_walks_equal_the_plain_walk() {
        for seed in 0..40 {
            let world = testkit::random_world(seed, 0);
            let mut catalog = world.catalog;
            let mut rng = testkit::rng(seed ^ 0xF1A1);
            for _ in 0..3 {
                let Some(mut classes) = Classes::new(&catalog) else {
                    break;
                };
                let mut order: Vec<usize> = (0..classes.space.size()).collect();
                order.shuffle(&mut rng);
                order.truncate(3000);
                for class in order {
                    let report = classes.space.report(&catalog, class);
                    let plain = match final_version(&catalog, &report) {
                        Final::Version(v) => Some(v),
                        Final::Cycle => None,
                    };
                    assert_eq!(
                        classes.final_of(&catalog, class),
                        plain,
                        "seed {seed}, class {class}"
                    );
                }
                testkit::random_change(&mut rng, &mut catalog, &world.fleet);
            }
        }
    }

    #[test]
    fn spread_places_every_byte() {
        let mut s = Spread::default();
        s.add(2, 250, 100, 1); // ticks 2, 3 full, 50 at tick 4
        s.add(3, 40, 0, 1); // all at tick 3
        s.add(0, 100, 100, 1); // exactly one tick
        assert_eq!(s.per_tick(6), [100, 0, 100, 140, 50, 0]);
        // n downloads alike are n times one, whichever way they are spread.
        let mut once = Spread::default();
        let mut times = Spread::default();
        for (start, bytes, per_tick) in [(2, 250, 100), (3, 40, 0), (0, 100, 100), (1, 7, 3)] {
            for _ in 0..5 {
                once.add(start, bytes, per_tick, 1);
            }
            times.add(start, bytes, per_tick, 5);
        }
        assert_eq!(times.per_tick(8), once.per_tick(8));
    }
}
