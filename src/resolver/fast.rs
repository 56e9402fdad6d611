//! The fast path: the reference resolver's answers, memoised per device *class*.
//!
//! # Why a table is exact
//!
//! [`reference::resolve`] reads, of a device without a release override, only
//! - its effective cohort (R9), computed from its stored cohort and project key and then
//!   used in place of both (the stored cohort and the key are read nowhere else: the
//!   trail's `via_key` does not change the answer);
//! - its software type (R11 a), which is the software type its version was interned for
//!   (versions are interned per software type, so a version id implies one; the fleet
//!   keeps that invariant and [`DecisionTable::decide`] checks it);
//! - its version (R13–R17), its hardware version (R11 d) and its staged flag (R11 c).
//!
//! So for such devices the answer is a function of the class
//! `(effective cohort, version, hardware, staged)`, and the table stores, per class, what
//! the reference answers for a *representative* of it: a report with exactly those fields,
//! the version's software type, the effective cohort as its stored cohort and no project
//! key (so its effective cohort is that cohort again) and no override. The entries are
//! computed by calling the reference, never by a second implementation of R11–R18.
//!
//! A device with a release override is decided by R12 alone, which reads only the
//! override release, the device's version and its hardware: `override_decision` is that
//! branch of the reference, line for line. Under R32's `override_fallback`, a device
//! whose override has no payload for its hardware is resolved as if it had no override:
//! that is its class's answer, since the override is the only field a class leaves out.
//! The resolver variant (R32) is part of the catalog, so the reference answers that fill
//! the table follow it too.
//!
//! What remains to prove is bookkeeping (indexing, the R9 key table, the packing of a
//! [`Decision`] in a [`PackedDecision`], column access and chunking), which the property
//! tests in `resolver/fast/proptests.rs` check against the reference on random catalogs
//! and fleets (`resolver::testkit`, with the `testkit` feature).
//!
//! # Storage
//!
//! Entries sit in a dense array indexed
//! `((cohort * n_versions + version) * n_hardware + hardware) * 2 + staged`, filled lazily
//! on first use: a rebuild after a catalog change costs one zeroed allocation, and only
//! classes that devices occupy are ever resolved. Concurrent fills of one entry are benign
//! because both threads store the same deterministic value. When the dense array would
//! exceed [`DEFAULT_DENSE_LIMIT`] entries (64 MiB), the table falls back to a sharded,
//! locked hash map keyed by class: slower per device (a hash and a read lock), but its
//! memory grows only with the classes the fleet occupies, and such catalogs (thousands of
//! cohorts times thousands of versions) are far from the workloads otasim targets.
//!
//! The R9 table has one entry per project key (its override cohort, or none) rather than
//! one per (stored cohort, key): the stored cohort matters only when the key has no
//! override, which a select resolves without a second lookup.
//!
//! # Use
//!
//! ```
//! # use otasim::{catalog::Catalog, fleet::Fleet};
//! use otasim::resolver::fast::{DecisionTable, PackedDecision};
//! # let (catalog, fleet) = (Catalog::new(), Fleet::new());
//! // After loading, and again whenever `table.is_current(&catalog)` turns false:
//! let table = DecisionTable::new(&catalog);
//! let mut next = vec![PackedDecision::NONE; fleet.len()];
//! table.resolve_all_packed(&catalog, &fleet, &mut next);
//! ```
//!
//! `resolve_pass_10m` (`benches/resolve.rs`) measures the bulk pass.
//!
//! A table belongs to one catalog at one [`Catalog::revision`]; build it after loading is
//! complete (building steps such as `define_cohort` do not bump the revision) and rebuild
//! it when [`DecisionTable::is_current`] turns false.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{PoisonError, RwLock};

use rayon::prelude::*;

use super::{reference, Decision, NoTrail, Rule};
use crate::catalog::Catalog;
use crate::fleet::{Columns, DeviceReport, Fleet};
use crate::ids::{CohortId, DeviceIdx, HardwareId, ProjectKeyId, ReleaseId, VersionId};

/// The largest dense table [`DecisionTable::new`] allocates, in entries (4 bytes each).
pub const DEFAULT_DENSE_LIMIT: usize = 1 << 24;

/// Devices per parallel task in the bulk passes.
const CHUNK: usize = 1 << 14;

/// Release ids take the low bits of a [`PackedDecision`], the rule's code the top three.
const RELEASE_BITS: u32 = 29;
const RELEASE_MASK: u32 = (1 << RELEASE_BITS) - 1;
/// A dense entry not computed yet. Rule codes are `1..=5`, so no decision packs to 0.
const UNKNOWN: u32 = 0;
/// Rules by code; codes 0, 6 and 7 never occur.
const RULE_OF_CODE: [Rule; 8] = [
    Rule::None,
    Rule::None,
    Rule::Override,
    Rule::Delta,
    Rule::MustPassThrough,
    Rule::Full,
    Rule::Full,
    Rule::Full,
];
/// "This project key has no OTA cohort override" in the R9 key table.
const NO_OVERRIDE: u16 = u16::MAX;
const SHARDS: usize = 16;

/// A [`Decision`] in four bytes (a third of its size), for bulk passes over millions of
/// devices: the rule in the top three bits, the release id in the other 29.
#[derive(Copy, Clone, PartialEq, Eq, Hash)]
pub struct PackedDecision(u32);

impl PackedDecision {
    /// No update (R18).
    pub const NONE: PackedDecision = PackedDecision(1 << RELEASE_BITS);
    /// Release ids must be below this to be packed. No catalog comes near it: 2^29
    /// releases would take tens of GiB.
    pub const MAX_RELEASES: usize = 1 << RELEASE_BITS;

    /// Packs `decision`.
    ///
    /// # Panics
    /// If its release id is not below [`PackedDecision::MAX_RELEASES`].
    pub fn new(decision: Decision) -> PackedDecision {
        let code = match decision.rule {
            Rule::None => return PackedDecision::NONE,
            Rule::Override => 2,
            Rule::Delta => 3,
            Rule::MustPassThrough => 4,
            Rule::Full => 5,
        };
        let release = decision.release.map_or(0, |r| r.0);
        assert!(
            release <= RELEASE_MASK,
            "release id {release} cannot be packed"
        );
        PackedDecision((code << RELEASE_BITS) | release)
    }

    /// The rule that decided.
    #[inline]
    pub fn rule(self) -> Rule {
        RULE_OF_CODE[(self.0 >> RELEASE_BITS) as usize]
    }

    /// The release to install, if any.
    #[inline]
    pub fn release(self) -> Option<ReleaseId> {
        (self.0 >> RELEASE_BITS != 1).then_some(ReleaseId(self.0 & RELEASE_MASK))
    }

    /// The decision.
    #[inline]
    pub fn get(self) -> Decision {
        Decision {
            rule: self.rule(),
            release: self.release(),
        }
    }
}

impl Default for PackedDecision {
    fn default() -> PackedDecision {
        PackedDecision::NONE
    }
}

impl From<Decision> for PackedDecision {
    fn from(decision: Decision) -> PackedDecision {
        PackedDecision::new(decision)
    }
}

impl From<PackedDecision> for Decision {
    fn from(packed: PackedDecision) -> Decision {
        packed.get()
    }
}

impl std::fmt::Debug for PackedDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// The reference resolver's answers for one catalog revision, per device class.
pub struct DecisionTable {
    revision: u64,
    n_cohorts: usize,
    n_versions: usize,
    n_hardware: usize,
    n_project_keys: usize,
    /// R9 by key slot (0: no key, `k + 1`: key `k`): the override cohort, or
    /// [`NO_OVERRIDE`]. The effective cohort depends on the stored cohort only when this
    /// is `NO_OVERRIDE`, so one entry per key replaces a (cohort × key) table.
    key_cohort: Box<[u16]>,
    storage: Storage,
}

enum Storage {
    /// Packed decisions by dense class index, [`UNKNOWN`] until computed.
    Dense(Box<[AtomicU32]>),
    /// Decisions by class, sharded to keep lock contention low.
    Sparse(Box<[RwLock<HashMap<Class, PackedDecision>>]>),
}

/// The inputs of the reference resolver for a device without an override.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
struct Class {
    cohort: CohortId,
    version: VersionId,
    hardware: HardwareId,
    staged: bool,
}

impl DecisionTable {
    /// An empty table for `catalog` at its current revision, dense unless that would
    /// exceed [`DEFAULT_DENSE_LIMIT`] entries.
    pub fn new(catalog: &Catalog) -> DecisionTable {
        DecisionTable::with_dense_limit(catalog, DEFAULT_DENSE_LIMIT)
    }

    /// As [`DecisionTable::new`], with the dense table limited to `max_dense_entries`
    /// (0 always selects the hash map).
    ///
    /// # Panics
    /// If the catalog holds more than [`PackedDecision::MAX_RELEASES`] releases.
    pub fn with_dense_limit(catalog: &Catalog, max_dense_entries: usize) -> DecisionTable {
        assert!(
            catalog.releases().count() <= PackedDecision::MAX_RELEASES,
            "too many releases for a decision table"
        );
        let n_cohorts = catalog.cohorts().len();
        let n_versions = catalog.n_versions();
        let n_hardware = catalog.hardware_names().len();
        let key_cohort = std::iter::once(NO_OVERRIDE)
            .chain(
                catalog
                    .project_keys()
                    .iter()
                    .map(|k| k.ota_cohort_override.map_or(NO_OVERRIDE, |c| c.0)),
            )
            .collect();
        let dense_len = n_cohorts
            .checked_mul(n_versions)
            .and_then(|n| n.checked_mul(n_hardware))
            .and_then(|n| n.checked_mul(2))
            .filter(|&n| max_dense_entries > 0 && n <= max_dense_entries);
        let storage = match dense_len {
            Some(n) => Storage::Dense((0..n).map(|_| AtomicU32::new(UNKNOWN)).collect()),
            None => Storage::Sparse((0..SHARDS).map(|_| RwLock::default()).collect()),
        };
        DecisionTable {
            revision: catalog.revision(),
            n_cohorts,
            n_versions,
            n_hardware,
            n_project_keys: catalog.project_keys().len(),
            key_cohort,
            storage,
        }
    }

    /// Whether the table was built for `catalog` as it is now (same revision and the same
    /// numbers of cohorts, versions, hardware versions and project keys).
    pub fn is_current(&self, catalog: &Catalog) -> bool {
        self.revision == catalog.revision()
            && self.n_cohorts == catalog.cohorts().len()
            && self.n_versions == catalog.n_versions()
            && self.n_hardware == catalog.hardware_names().len()
            && self.n_project_keys == catalog.project_keys().len()
    }

    /// Brings the table to `catalog`'s revision by forgetting just the classes whose
    /// effective cohort changed since the table's revision (an activation, a pull, a
    /// rollout step, a cohort's settings): a timeline of hundreds of such events then
    /// re-resolves a cohort's classes per event, not every class. Returns `false`, and
    /// changes nothing, when that cannot be known (a global change: releases, project
    /// keys, the variant; or one too old); then build a new table.
    pub fn refresh(&mut self, catalog: &Catalog) -> bool {
        let same_shape = self.n_cohorts == catalog.cohorts().len()
            && self.n_versions == catalog.n_versions()
            && self.n_hardware == catalog.hardware_names().len()
            && self.n_project_keys == catalog.project_keys().len();
        let Some(cohorts) = catalog
            .cohorts_changed_since(self.revision)
            .filter(|_| same_shape)
        else {
            return false;
        };
        match &mut self.storage {
            Storage::Dense(entries) => {
                // Cohort-major: a cohort's classes are one contiguous run.
                let per_cohort = self.n_versions * self.n_hardware * 2;
                for c in cohorts {
                    let run = &mut entries[c.index() * per_cohort..(c.index() + 1) * per_cohort];
                    for e in run {
                        *e.get_mut() = UNKNOWN;
                    }
                }
            }
            Storage::Sparse(shards) => {
                for shard in shards.iter_mut() {
                    shard
                        .get_mut()
                        .unwrap_or_else(PoisonError::into_inner)
                        .retain(|class, _| !cohorts.contains(&class.cohort));
                }
            }
        }
        self.revision = catalog.revision();
        true
    }

    /// Whether entries live in the dense array (else in the hash map).
    pub fn is_dense(&self) -> bool {
        matches!(self.storage, Storage::Dense(_))
    }

    /// The answer already in a dense table for a device with no project key and no
    /// release override whose version is interned for its software type (every device
    /// of a fleet: an invariant), from its class alone: what [`DecisionTable::decide`]
    /// would return for it, without building a report or passing its checks. `None`
    /// when the table cannot tell without the catalog (hash-map storage, a class out
    /// of range, or one not yet resolved): ask `decide`.
    ///
    /// The engine's polls ask this first: most of them are of such devices, and most
    /// answers are "no update".
    #[inline]
    pub fn decide_plain(
        &self,
        version: VersionId,
        hardware: HardwareId,
        cohort: CohortId,
        staged: bool,
    ) -> Option<PackedDecision> {
        let Storage::Dense(entries) = &self.storage else {
            return None;
        };
        // Key slot 0 (no key) never overrides the cohort (`with_dense_limit`).
        let class = self.class_in_range(cohort, version, hardware, staged)?;
        Self::dense_entry(entries, self.dense_index(class))
    }

    /// The reference resolver's answer for `device`, [`reference::resolve`] with no trail.
    /// `catalog` must be the one the table was built for ([`DecisionTable::is_current`]).
    #[inline]
    pub fn decide(&self, catalog: &Catalog, device: &DeviceReport) -> Decision {
        debug_assert!(
            self.is_current(catalog),
            "decision table of another revision"
        );
        if let Some(id) = device.release_override {
            if let Some(decision) = override_decision(catalog, id, device.version, device.hardware)
            {
                return decision;
            }
        }
        // A report whose software type is not its version's is outside the class model;
        // the fleet never holds one, but `decide` stays exact for any report.
        if device.software_type != catalog.version_software_type(device.version) {
            return reference::resolve(catalog, device, &mut NoTrail);
        }
        let row = DeviceFields {
            version: device.version,
            hardware: device.hardware,
            cohort: device.cohort,
            project_key: device.project_key,
            staged: device.staged,
            release_override: None,
        };
        match self.class_of(&row) {
            Some(class) => self.lookup(catalog, class).get(),
            None => reference::resolve(catalog, device, &mut NoTrail),
        }
    }

    /// Resolves every device of `fleet` (every row, present or not) into `out`, in fleet
    /// order, in parallel, with no allocation or hashing per device on the dense path.
    /// It relies on the fleet's invariant that a device's version is interned for its
    /// software type (debug builds check it) and so never reads the software type column.
    ///
    /// # Panics
    /// If the table is not current for `catalog` or `out` has the wrong length.
    pub fn resolve_all(&self, catalog: &Catalog, fleet: &Fleet, out: &mut [Decision]) {
        self.resolve_into(catalog, fleet, out, CHUNK, PackedDecision::get);
    }

    /// As [`DecisionTable::resolve_all`], into packed decisions: 4 bytes written per
    /// device instead of 12, for callers that can use them.
    pub fn resolve_all_packed(&self, catalog: &Catalog, fleet: &Fleet, out: &mut [PackedDecision]) {
        self.resolve_into(catalog, fleet, out, CHUNK, |p| p);
    }

    fn resolve_into<T: Send>(
        &self,
        catalog: &Catalog,
        fleet: &Fleet,
        out: &mut [T],
        chunk: usize,
        wrap: impl Fn(PackedDecision) -> T + Sync,
    ) {
        // Once per pass, so a hard assert: a stale table would answer silently wrong.
        assert!(
            self.is_current(catalog),
            "decision table built for catalog revision {}, used with revision {}",
            self.revision,
            catalog.revision()
        );
        let columns = fleet.columns();
        assert_eq!(out.len(), columns.len(), "one decision per device");
        debug_assert!(
            versions_match_software_types(&columns, catalog),
            "a device reports a version of another software type"
        );
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, out)| {
            let start = i * chunk;
            let columns = columns.range(start, start + out.len());
            self.chunk_into(catalog, fleet, start, &columns, out, &wrap);
        });
    }

    /// The hot loop: column reads, one table load, a store.
    #[inline]
    fn chunk_into<T>(
        &self,
        catalog: &Catalog,
        fleet: &Fleet,
        start: usize,
        columns: &Columns<'_>,
        out: &mut [T],
        wrap: impl Fn(PackedDecision) -> T,
    ) {
        columns.assert_len(out.len());
        let Storage::Dense(entries) = &self.storage else {
            for (j, slot) in out.iter_mut().enumerate() {
                let row = fields(columns, j);
                let over = row
                    .release_override
                    .and_then(|id| packed_override(catalog, id, row.version, row.hardware));
                *slot = wrap(match over {
                    Some(packed) => packed,
                    None => match self.class_of(&row) {
                        Some(class) => self.lookup(catalog, class),
                        None => self.slow(catalog, fleet, start + j),
                    },
                });
            }
            return;
        };
        for (j, slot) in out.iter_mut().enumerate() {
            let row = fields(columns, j);
            let over = match row.release_override {
                Some(id) => packed_override(catalog, id, row.version, row.hardware),
                None => None,
            };
            *slot = wrap(match over {
                Some(packed) => packed,
                None => match self.class_of(&row) {
                    Some(class) => {
                        let index = self.dense_index(class);
                        match entries[index].load(Ordering::Relaxed) {
                            UNKNOWN => self.fill_dense(catalog, entries, index, class),
                            code => PackedDecision(code),
                        }
                    }
                    None => self.slow(catalog, fleet, start + j),
                },
            });
        }
    }

    /// R9 through the key table, and the class, unless an id is outside the table (the
    /// catalog grew after the table was built, which [`Self::is_current`] rules out).
    #[inline(always)]
    fn class_of(&self, row: &DeviceFields) -> Option<Class> {
        let slot = row.project_key.map_or(0, |k| k.index() + 1);
        let over = *self.key_cohort.get(slot)?;
        let cohort = if over == NO_OVERRIDE {
            row.cohort
        } else {
            CohortId(over)
        };
        self.class_in_range(cohort, row.version, row.hardware, row.staged)
    }

    /// The class of these fields (the cohort already the effective one), if the
    /// table has room for it.
    #[inline(always)]
    fn class_in_range(
        &self,
        cohort: CohortId,
        version: VersionId,
        hardware: HardwareId,
        staged: bool,
    ) -> Option<Class> {
        let in_range = (cohort.index() < self.n_cohorts)
            & (version.index() < self.n_versions)
            & (hardware.index() < self.n_hardware);
        in_range.then_some(Class {
            cohort,
            version,
            hardware,
            staged,
        })
    }

    /// A dense table's entry at `index`, if resolved.
    #[inline(always)]
    fn dense_entry(entries: &[AtomicU32], index: usize) -> Option<PackedDecision> {
        match entries[index].load(Ordering::Relaxed) {
            UNKNOWN => None,
            code => Some(PackedDecision(code)),
        }
    }

    #[inline(always)]
    fn dense_index(&self, class: Class) -> usize {
        ((class.cohort.index() * self.n_versions + class.version.index()) * self.n_hardware
            + class.hardware.index())
            * 2
            + usize::from(class.staged)
    }

    #[inline]
    fn lookup(&self, catalog: &Catalog, class: Class) -> PackedDecision {
        match &self.storage {
            Storage::Dense(entries) => {
                let index = self.dense_index(class);
                Self::dense_entry(entries, index)
                    .unwrap_or_else(|| self.fill_dense(catalog, entries, index, class))
            }
            Storage::Sparse(shards) => Self::lookup_sparse(catalog, shards, class),
        }
    }

    /// The sparse table's lookup, kept out of line so that the dense one inlines small.
    #[inline(never)]
    fn lookup_sparse(
        catalog: &Catalog,
        shards: &[RwLock<HashMap<Class, PackedDecision>>],
        class: Class,
    ) -> PackedDecision {
        let shard = &shards[shard_of(class)];
        let cached = shard
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&class)
            .copied();
        cached.unwrap_or_else(|| {
            let packed = PackedDecision::new(representative_decision(catalog, class));
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(class, packed);
            packed
        })
    }

    #[cold]
    #[inline(never)]
    fn fill_dense(
        &self,
        catalog: &Catalog,
        entries: &[AtomicU32],
        index: usize,
        class: Class,
    ) -> PackedDecision {
        let packed = PackedDecision::new(representative_decision(catalog, class));
        entries[index].store(packed.0, Ordering::Relaxed);
        packed
    }

    /// A device the table cannot place: ask the reference.
    #[cold]
    #[inline(never)]
    fn slow(&self, catalog: &Catalog, fleet: &Fleet, device: usize) -> PackedDecision {
        let report = fleet.report(DeviceIdx(device as u32));
        PackedDecision::new(reference::resolve(catalog, &report, &mut NoTrail))
    }
}

/// The number of bytes per device that the bulk passes read from the fleet's columns
/// (the decisions they write not included); the staged flag is one bit a device.
pub fn column_bytes_per_device(fleet: &Fleet) -> f64 {
    fn width<T>(_: &[T]) -> usize {
        std::mem::size_of::<T>()
    }
    let c = fleet.columns();
    let bytes = width(c.version)
        + width(c.hardware)
        + width(c.cohort)
        + width(c.project_key)
        + width(c.release_override);
    bytes as f64 + 1.0 / 8.0
}

/// R12, exactly as [`reference::resolve`] decides for a device with an override: the
/// override release unless it is the current version or has no payload for the hardware.
/// `None` when R32's `override_fallback` applies instead: the device is then resolved as
/// if it had no override, which is its class's answer (the override is the only field
/// the class leaves out).
#[cold]
fn override_decision(
    catalog: &Catalog,
    id: ReleaseId,
    version: VersionId,
    hardware: HardwareId,
) -> Option<Decision> {
    let release = catalog.release(id);
    if release.target() == version {
        return Some(Decision::NONE);
    }
    if release.payload(hardware).is_none() {
        return (!catalog.variant().override_fallback).then_some(Decision::NONE);
    }
    Some(Decision::update(Rule::Override, id))
}

/// Overrides are rare (R12): kept out of the hot loop.
#[inline(never)]
fn packed_override(
    catalog: &Catalog,
    id: ReleaseId,
    version: VersionId,
    hardware: HardwareId,
) -> Option<PackedDecision> {
    override_decision(catalog, id, version, hardware).map(PackedDecision::new)
}

/// The reference's answer for the class's representative report (see the module docs).
fn representative_decision(catalog: &Catalog, class: Class) -> Decision {
    let report = DeviceReport {
        software_type: catalog.version_software_type(class.version),
        version: class.version,
        hardware: class.hardware,
        project_key: None,
        cohort: class.cohort,
        staged: class.staged,
        release_override: None,
    };
    reference::resolve(catalog, &report, &mut NoTrail)
}

fn shard_of(class: Class) -> usize {
    let mix = class.version.0 as usize
        ^ (class.hardware.index() << 3)
        ^ (class.cohort.index() << 5)
        ^ usize::from(class.staged);
    mix % SHARDS
}

/// What the fast path reads of one device: a [`DeviceReport`] without its software type,
/// which the fleet's invariant makes redundant (a version is interned for its type).
/// The fleet's columns are read here ([`fields`]) and in [`column_bytes_per_device`]
/// only, so a change of their types touches these two places.
struct DeviceFields {
    version: VersionId,
    hardware: HardwareId,
    cohort: CohortId,
    project_key: Option<ProjectKeyId>,
    staged: bool,
    release_override: Option<ReleaseId>,
}

/// Row `i` of `columns`, as the fast path reads it (never the software type column).
#[inline(always)]
fn fields(columns: &Columns<'_>, i: usize) -> DeviceFields {
    DeviceFields {
        version: columns.version[i],
        hardware: columns.hardware[i],
        cohort: columns.cohort[i],
        project_key: crate::fleet::unpack_key(columns.project_key[i]),
        staged: columns.staged.get(i),
        release_override: crate::fleet::unpack_override(columns.release_override[i]),
    }
}

/// The invariant the class model needs (see the module docs); for debug checks.
fn versions_match_software_types(columns: &Columns<'_>, catalog: &Catalog) -> bool {
    (columns.version.iter().zip(columns.software_type))
        .all(|(&v, &t)| catalog.version_software_type(v) == t)
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_round_trips_every_rule() {
        for rule in Rule::ALL {
            for release in [0, 1, 77, RELEASE_MASK] {
                let decision = if rule == Rule::None {
                    Decision::NONE
                } else {
                    Decision::update(rule, ReleaseId(release))
                };
                let packed = PackedDecision::new(decision);
                assert_ne!(packed.0, UNKNOWN);
                assert_eq!(packed.get(), decision);
                assert_eq!((packed.rule(), packed.release()), (rule, decision.release));
            }
        }
        assert_eq!(PackedDecision::default().get(), Decision::NONE);
    }

    #[test]
    #[should_panic(expected = "cannot be packed")]
    fn a_release_id_too_large_is_refused() {
        PackedDecision::new(Decision::update(Rule::Full, ReleaseId(RELEASE_MASK + 1)));
    }

    #[test]
    fn empty_fleet_resolves_to_nothing() {
        let catalog = Catalog::new();
        let table = DecisionTable::new(&catalog);
        let mut out = [];
        table.resolve_all(&catalog, &Fleet::new(), &mut out);
        assert!(table.is_dense());
    }

    #[test]
    fn dense_limit_zero_selects_the_hash_map() {
        let catalog = Catalog::new();
        assert!(!DecisionTable::with_dense_limit(&catalog, 0).is_dense());
    }
}
