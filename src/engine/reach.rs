//! Time to reach: per version and per release, the first tick at which 50, 90, 95 and
//! 99 % of the present devices that can get it have *installed* it, and have
//! *reported* it (R3: the platform learns of an install at the device's next poll, so
//! the two differ by up to a poll interval).
//!
//! "Can get V" means: V is the device's final version (R24) under the catalog of that
//! tick, from what the device last reported. A device reporting V whose final version
//! is V has reported it; one that installed V and has not polled since has installed
//! it. Counts are kept per (stored cohort, version) cell as devices change, so a tick
//! costs the number of cells, not the number of devices.
//!
//! A release's figures are those of its To version over the cohorts in which it is
//! activated at that tick (a Full release and a Delta into the same version, active in
//! the same cohorts, have the same figures: they install the same version).

use crate::catalog::Catalog;
use crate::ids::{CohortId, ReleaseId};

/// The thresholds reported, in percent.
pub const REACH_PERCENTS: [u64; 4] = [50, 90, 95, 99];

/// Beyond this many (cohort, version) cells a tick's reach would cost more than the
/// tick itself on small fleets: reach is then not tracked (and not reported).
pub const MAX_REACH_CELLS: usize = 1 << 18;

/// How far one version (or release) has got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reached {
    /// Present devices that can get it, at the last recorded tick.
    pub can_get: u64,
    /// Of those, devices that have installed it (reported or not).
    pub installed: u64,
    /// Of those, devices that have reported it.
    pub reported: u64,
    /// Per [`REACH_PERCENTS`]: the first tick at which that share had installed it.
    pub installed_at: [Option<u64>; 4],
    /// The same for reported.
    pub reported_at: [Option<u64>; 4],
    /// The first recorded tick at which some device could get it.
    pub first_tick: Option<u64>,
}

impl Reached {
    fn observe(&mut self, t: u64, can_get: u64, installed: u64, reported: u64) {
        // An install not reported yet by a device passing through this version on its
        // way to another (a must-pass-through step) is not told apart from one by a
        // device that stays: the share is capped, never above 100 %.
        let installed = installed.min(can_get);
        let reported = reported.min(installed);
        *self = Reached {
            can_get,
            installed,
            reported,
            ..*self
        };
        if can_get == 0 {
            return;
        }
        self.first_tick.get_or_insert(t);
        for (i, p) in REACH_PERCENTS.iter().enumerate() {
            let reached = |n: u64| u128::from(n) * 100 >= u128::from(*p) * u128::from(can_get);
            if self.installed_at[i].is_none() && reached(installed) {
                self.installed_at[i] = Some(t);
            }
            if self.reported_at[i].is_none() && reached(reported) {
                self.reported_at[i] = Some(t);
            }
        }
    }
}

/// The per-cell counts a tick's reach is computed from, indexed
/// `cohort * n_versions + version`.
pub struct Cells<'a> {
    /// Present devices whose final version is the cell's version.
    pub can_get: &'a [u64],
    /// Of those, devices reporting it.
    pub reported: &'a [u64],
    /// Installs of the cell's version that landed and that their device has not
    /// reported yet (by the device's cohort when it installed).
    pub unreported: &'a [i64],
    /// Versions per cohort.
    pub n_versions: usize,
}

/// Reach of every version and release, updated once per recorded tick.
#[derive(Clone, Debug, Default)]
pub struct Reach {
    /// Per version id.
    pub versions: Vec<Reached>,
    /// Per release id.
    pub releases: Vec<Reached>,
    /// Per release: the cohorts it is activated in, for the catalog `revision`.
    active_in: Vec<Vec<CohortId>>,
    revision: Option<u64>,
}

impl Reach {
    /// Nothing reached yet.
    pub fn new(catalog: &Catalog) -> Reach {
        Reach {
            versions: vec![Reached::default(); catalog.n_versions()],
            releases: vec![Reached::default(); catalog.releases().count()],
            active_in: Vec::new(),
            revision: None,
        }
    }

    /// Records tick `t`.
    pub fn observe(&mut self, t: u64, catalog: &Catalog, cells: &Cells<'_>) {
        let nv = cells.n_versions.max(1);
        let n_cells = cells.can_get.len();
        let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        // Unreported installs may sit in a cell whose device later moved to another
        // cohort; per cell they are taken as at least zero, fleet-wide they are exact.
        let unreported = |i: usize| cells.unreported.get(i).copied().unwrap_or(0);
        let mut totals = vec![(0u64, 0u64, 0i64); nv];
        for i in 0..n_cells.max(cells.unreported.len()) {
            let tot = &mut totals[i % nv];
            tot.0 += at(cells.can_get, i);
            tot.1 += at(cells.reported, i);
            tot.2 += unreported(i);
        }
        if self.versions.len() < nv {
            self.versions.resize(nv, Reached::default());
        }
        for (v, &(can, rep, unrep)) in totals.iter().enumerate() {
            let installed = rep + unrep.max(0) as u64;
            self.versions[v].observe(t, can, installed, rep);
        }
        if self.revision != Some(catalog.revision()) {
            self.revision = Some(catalog.revision());
            self.active_in = vec![Vec::new(); catalog.releases().count()];
            for (r, cohort, _) in catalog.activations() {
                let list = &mut self.active_in[r.index()];
                if !list.contains(&cohort) {
                    list.push(cohort);
                }
            }
            self.releases
                .resize(self.active_in.len(), Reached::default());
        }
        for (r, cohorts) in self.active_in.iter().enumerate() {
            let v = catalog.release(ReleaseId(r as u32)).target().index();
            let (mut can, mut rep, mut unrep) = (0, 0, 0);
            for c in cohorts {
                let i = c.index() * nv + v;
                can += at(cells.can_get, i);
                rep += at(cells.reported, i);
                unrep += unreported(i).max(0) as u64;
            }
            self.releases[r].observe(t, can, rep + unrep, rep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Reached;

    #[test]
    fn thresholds_are_first_ticks_and_never_move_back() {
        let mut r = Reached::default();
        r.observe(0, 0, 0, 0);
        assert_eq!(r.first_tick, None);
        r.observe(1, 10, 5, 4);
        r.observe(2, 10, 9, 5);
        // More devices can get it: the share drops, the ticks already reached stay.
        r.observe(3, 20, 10, 9);
        r.observe(4, 20, 19, 19);
        r.observe(5, 20, 20, 20);
        assert_eq!(r.first_tick, Some(1));
        assert_eq!(r.installed_at, [Some(1), Some(2), Some(4), Some(5)]);
        assert_eq!(r.reported_at, [Some(2), Some(4), Some(4), Some(5)]);
        assert_eq!((r.can_get, r.installed, r.reported), (20, 20, 20));
    }

    #[test]
    fn installed_is_capped_by_those_that_can_get_it() {
        let mut r = Reached::default();
        r.observe(7, 4, 9, 2);
        assert_eq!((r.installed, r.reported), (4, 2));
        assert_eq!(r.installed_at, [Some(7); 4]);
        assert_eq!(r.reported_at, [Some(7), None, None, None]);
    }
}
