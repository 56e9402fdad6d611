//! The fleet: every device's state as struct-of-arrays with interned ids.
//!
//! Columns rather than a `Vec<Device>` because the engine sweeps one or two fields over
//! millions of devices per tick; device id strings are cold and only read for output.
//!
//! Here: the model ([`Fleet`], [`DeviceReport`], [`NewDevice`]) and its per-device
//! accessors. `packing.rs`: the sentinels optional fields are packed with and the
//! [`Columns`] view; `bulk.rs`: whole columns added at once; `id_store.rs`: the packed
//! id strings and their index; `hash.rs`: the index's hash.

mod bulk;
mod cohort_rows;
mod counts;
mod flag_column;
use flag_column::set_bits;
mod hash;
mod id_store;
mod ids;
mod member_bits;
mod packing;
#[cfg(test)]
mod tests;

use crate::ids::{
    CohortId, DeviceIdx, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId,
};

pub(crate) use bulk::DeviceColumns;
pub use ids::UnreadIds;
pub(crate) use ids::{Digits, Synthetic};

pub(crate) use counts::with_flag;
pub use counts::CHUNK as COUNT_CHUNK;
pub use flag_column::Flags;
use ids::Ids;
pub use member_bits::CohortBits;
pub use packing::Columns;
pub(crate) use packing::{pack_key, pack_override, unpack_key, unpack_override, NEVER_SEEN};
use packing::{NEVER, NO_KEY, NO_OVERRIDE};

/// One device's report to the resolver (spec §4): everything the answer depends on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceReport {
    /// Its software type.
    pub software_type: SoftwareTypeId,
    /// The version it reports.
    pub version: VersionId,
    /// Its hardware version.
    pub hardware: HardwareId,
    /// The project key it reports with.
    pub project_key: Option<ProjectKeyId>,
    /// Its stored cohort.
    pub cohort: CohortId,
    /// Staged in its stored cohort (R10).
    pub staged: bool,
    /// Its release override (R12).
    pub release_override: Option<ReleaseId>,
}

/// A device as it is added to the fleet.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Its id (serial number).
    pub id: String,
    /// See [`DeviceReport`].
    pub report: DeviceReport,
    /// The tick it was last seen at, if known (bulk staging order, R21).
    pub last_seen: Option<i64>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("devices", &self.len())
            .finish()
    }
}

/// What setters changed while a log ran ([`Fleet::log_changes`]).
#[derive(Clone, Debug, Default)]
pub struct Changes {
    /// The devices changed, as a sparse bitmap of rows (word index and bits, by
    /// increasing index): a ramp step flips millions of devices, dense in the words
    /// they fall in, and the log then holds a word per 64 rows, not 4 bytes a device.
    pub devices: crate::bitmap::Words,
    /// Of those that had a project key or a release override when first changed, that
    /// report, sorted by device: the reports a compact cache of reports (the engine's
    /// hot words) leaves to the fleet, so it cannot recall them once changed. Other
    /// devices' old reports are in such a cache, and are not copied here.
    pub keyed_before: Vec<(u32, DeviceReport)>,
    /// Of `devices`, those a setter other than [`Fleet::set_staged`] changed, sorted,
    /// each once: the rest's only change is their staged flag (a ramp step's hundred
    /// thousand flips), and a cache of reports can update just that bit for them, even
    /// in a tick that also moved a few devices.
    pub others: Vec<u32>,
}

impl Changes {
    /// The report device `i` had before the log's first change to it, if it had a
    /// project key or an override then.
    pub fn keyed_before(&self, i: u32) -> Option<DeviceReport> {
        self.keyed_before
            .binary_search_by_key(&i, |&(d, _)| d)
            .ok()
            .map(|at| self.keyed_before[at].1)
    }
}

/// All devices, column by column; a device is its row index ([`DeviceIdx`]).
///
/// Optional fields are packed with sentinels (not `Option`) so that the hot columns
/// stay small: 2 + 2 + 4 + 2 + 2 + 1 + 4 + 4 + 1 = 22 bytes per device, and one bit
/// (the staged flag, `flag_column.rs`), plus the id.
#[derive(Clone, Default)]
pub struct Fleet {
    ids: Ids,
    present: Vec<bool>,
    software_type: Vec<SoftwareTypeId>,
    hardware: Vec<HardwareId>,
    version: Vec<VersionId>,
    cohort: Vec<CohortId>,
    project_key: Vec<u16>,
    /// One bit a device (`flag_column.rs`).
    staged: flag_column::FlagColumn,
    release_override: Vec<u32>,
    last_seen: Vec<i32>,
    profile: Vec<u8>,
    /// While `Some`, every device whose report, presence or profile a setter changes
    /// (see [`Fleet::log_changes`]).
    changes: Option<Changes>,
    /// Per stored cohort: present members and, of those, staged ones, in all and per
    /// chunk of rows. Counted on first use ([`Fleet::cohort_counts`]), then kept up to
    /// date by every setter and bulk push, so that a staged rollout whose count is
    /// already right costs O(1) (R19).
    counts: Option<counts::Counts>,
    /// Each cohort's rows, built by the first pass that asks for one cohort's
    /// ([`Fleet::members_where`]), then kept up to date.
    cohort_rows: Option<cohort_rows::CohortRows>,
    /// The rows with a project key or a release override, bit `i % 64` of word
    /// `i / 64`: built by the first logged [`Fleet::set_staged_rows`], then kept up to
    /// date by the override setter, and dropped when rows are added. A ramp step logs
    /// the old reports of exactly these rows, and reading one bit of this, where it
    /// read a key and an override column, saves two cache misses a flipped device.
    keyed: Option<Vec<u64>>,
}

impl Fleet {
    /// An empty fleet.
    pub fn new() -> Fleet {
        Fleet::default()
    }

    /// Adds a device; fails if its id is taken.
    pub fn push(&mut self, device: NewDevice) -> Result<DeviceIdx, String> {
        let idx = DeviceIdx(
            u32::try_from(self.len())
                .ok()
                .filter(|&n| n < u32::MAX)
                .ok_or_else(|| "too many devices".to_string())?,
        );
        let r = device.report;
        let last_seen = match device.last_seen {
            None => NEVER,
            Some(t) => i32::try_from(t)
                .ok()
                .filter(|&t| t != NEVER)
                .ok_or_else(|| format!("last_seen {t} is out of range"))?,
        };
        if !self.ids.insert(&device.id) {
            return Err(format!("device \"{}\" is defined twice", device.id));
        }
        self.present.push(true);
        self.software_type.push(r.software_type);
        self.hardware.push(r.hardware);
        self.version.push(r.version);
        self.cohort.push(r.cohort);
        self.project_key.push(pack_key(r.project_key));
        self.staged.push(r.staged);
        self.count(r.cohort, self.cohort.len() - 1, true, r.staged, 1);
        if let Some(lists) = &mut self.cohort_rows {
            lists.added(self.cohort.len() - 1, &self.cohort);
        }
        self.release_override
            .push(pack_override(r.release_override));
        self.keyed = None;
        self.last_seen.push(last_seen);
        self.profile.push(0);
        Ok(idx)
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the fleet is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.len() == 0
    }

    /// A device's id string (computed for a synthetic device: borrowed otherwise).
    pub fn id(&self, idx: DeviceIdx) -> std::borrow::Cow<'_, str> {
        self.ids.get(idx.index())
    }

    /// Whether both fleets give every row the same id, without comparing every id
    /// when their ids are made the same way (as two loads of one scenario's fleet are).
    pub fn same_ids(&self, other: &Fleet) -> bool {
        self.ids.same_as(&other.ids)
    }

    /// Finds a device by id.
    pub fn find(&self, id: &str) -> Option<DeviceIdx> {
        self.ids.find(id).map(DeviceIdx)
    }

    /// All device ids, in fleet order.
    pub fn ids(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        (0..self.ids.len()).map(|i| self.ids.get(i))
    }

    /// Whether a device exists now: rows are kept for devices that have not arrived
    /// yet or have retired, so that ids and indices never move.
    #[inline]
    pub fn is_present(&self, idx: DeviceIdx) -> bool {
        self.present[idx.index()]
    }

    /// Every device's presence ([`Fleet::is_present`]), for bulk passes.
    pub fn present_flags(&self) -> &[bool] {
        &self.present
    }

    /// Marks a device as arrived (true) or retired / not yet arrived (false).
    pub fn set_present(&mut self, idx: DeviceIdx, present: bool) {
        self.logged(idx);
        let i = idx.index();
        if self.present[i] != present {
            let (cohort, staged) = (self.cohort[i], self.staged.get(i));
            self.count(cohort, i, true, staged, if present { 1 } else { -1 });
        }
        self.present[i] = present;
    }

    /// Adds `delta` present members (staged ones if `staged`) at `row` to `cohort`'s
    /// counts, if they are kept; devices that are not `present` do not count.
    #[inline]
    fn count(&mut self, cohort: CohortId, row: usize, present: bool, staged: bool, delta: i32) {
        if let Some(counts) = &mut self.counts {
            if present {
                counts.add(cohort, row, staged, delta);
            }
        }
    }

    fn counts(&mut self) -> &counts::Counts {
        self.counts.get_or_insert_with(|| {
            counts::Counts::build(&self.cohort, &self.present, self.staged.view())
        })
    }

    /// `cohort`'s present members and, of those, the staged ones (R19's N and the
    /// staged set's size). The first call counts the fleet once; the counts are kept
    /// up to date from then on.
    pub fn cohort_counts(&mut self, cohort: CohortId) -> (u64, u64) {
        self.counts().totals(cohort)
    }

    /// [`Fleet::cohort_counts`] per chunk of [`COUNT_CHUNK`] rows (chunk `j` is rows
    /// `j * COUNT_CHUNK..`; chunks past the slice's end hold no member).
    pub fn cohort_chunk_counts(&mut self, cohort: CohortId) -> &[[u32; 2]] {
        self.counts().chunks(cohort)
    }

    /// Per chunk of [`COUNT_CHUNK`] rows, from [`Fleet::cohort_chunk_counts`]: whether
    /// it holds a present member of `cohort` whose staged flag is `staged` (any if
    /// `None`); chunks past the end hold none. What lets a walk over a cohort's rows
    /// skip the parts of the fleet where it has no such member.
    pub fn chunks_holding(&mut self, cohort: CohortId, staged: Option<bool>) -> Vec<bool> {
        self.cohort_chunk_counts(cohort)
            .iter()
            .map(|&[members, on]| with_flag(u64::from(members), u64::from(on), staged) > 0)
            .collect()
    }

    /// `cohort`'s bitsets of present members and staged members (for staged resizes),
    /// built on first use and kept up to date from then on; `None` for cohorts past the
    /// first few to ask (`member_bits.rs`).
    pub fn cohort_bits(&mut self, cohort: CohortId) -> Option<CohortBits<'_>> {
        self.counts();
        let counts = self.counts.as_mut().expect("counted above");
        counts
            .bits
            .get_or_build(cohort, &self.cohort, &self.present, self.staged.view())
    }

    /// Brings the kept counts up to date with rows `first..` just added in bulk.
    fn count_rows(&mut self, first: usize) {
        if let Some(lists) = &mut self.cohort_rows {
            lists.added(first, &self.cohort);
        }
        if self.counts.is_none() {
            return;
        }
        for i in first..self.cohort.len() {
            let (c, p, s) = (self.cohort[i], self.present[i], self.staged.get(i));
            self.count(c, i, p, s, 1);
        }
    }

    /// Starts (or restarts) a log of the devices that setters change; what a
    /// simulation uses to update its derived state for a few devices instead of all.
    pub fn log_changes(&mut self) {
        self.changes = Some(Changes::default());
    }

    /// Stops the log and returns the devices changed since [`Fleet::log_changes`]
    /// (`None` if no log was running).
    pub fn take_changes(&mut self) -> Option<Changes> {
        let mut changes = self.changes.take()?;
        // A ramp step logs its devices' words in increasing order, so a tick's log is
        // mostly a few sorted runs, and most often one (a tick with one ramp step),
        // which is left as it is.
        crate::bitmap::merge_words(&mut changes.devices);
        changes.others.sort_unstable();
        changes.others.dedup();
        // A stable sort keeps each device's first entry, its report before any change.
        changes.keyed_before.sort_by_key(|&(i, _)| i);
        changes.keyed_before.dedup_by_key(|&mut (i, _)| i);
        Some(changes)
    }

    /// Logs a device a setter other than [`Fleet::set_staged`] is about to change.
    #[inline]
    fn logged(&mut self, idx: DeviceIdx) {
        if let Some(log) = &mut self.changes {
            log.others.push(idx.0);
        }
        self.logged_staged(idx);
    }

    /// Logs a device a setter is about to change, and its report before the change if
    /// it has a project key or an override.
    #[inline]
    fn logged_staged(&mut self, idx: DeviceIdx) {
        if self.changes.is_none() {
            return;
        }
        let i = idx.index();
        let report =
            is_keyed(self.project_key[i], self.release_override[i]).then(|| self.report(idx));
        if let Some(log) = &mut self.changes {
            log.devices.push((idx.0 / 64, 1 << (idx.0 % 64)));
            if let Some(report) = report {
                log.keyed_before.push((idx.0, report));
            }
        }
    }

    /// Devices that exist now, in fleet order.
    pub fn present(&self) -> impl Iterator<Item = DeviceIdx> + '_ {
        self.present
            .iter()
            .enumerate()
            .filter(|(_, &p)| p)
            .map(|(i, _)| DeviceIdx(i as u32))
    }

    /// Every column but the versions to read, and the versions to write: what a
    /// simulation tick needs to update devices' versions block by block in parallel.
    /// The returned [`Columns::version`] is empty; [`Columns::report_at`] takes the
    /// version from the caller.
    pub fn split_versions(&mut self) -> (Columns<'_>, &mut [VersionId]) {
        let columns = Columns {
            software_type: &self.software_type,
            hardware: &self.hardware,
            version: &[],
            cohort: &self.cohort,
            project_key: &self.project_key,
            staged: self.staged.view(),
            release_override: &self.release_override,
        };
        (columns, &mut self.version)
    }

    /// The columns, for bulk passes.
    pub fn columns(&self) -> Columns<'_> {
        Columns {
            software_type: &self.software_type,
            hardware: &self.hardware,
            version: &self.version,
            cohort: &self.cohort,
            project_key: &self.project_key,
            staged: self.staged.view(),
            release_override: &self.release_override,
        }
    }

    /// The report the device sends to the resolver.
    #[inline]
    pub fn report(&self, idx: DeviceIdx) -> DeviceReport {
        self.columns().report(idx.index())
    }

    /// A device's software type.
    pub fn software_type(&self, idx: DeviceIdx) -> SoftwareTypeId {
        self.software_type[idx.index()]
    }

    /// A device's hardware version.
    pub fn hardware(&self, idx: DeviceIdx) -> HardwareId {
        self.hardware[idx.index()]
    }

    /// A device's reported version.
    pub fn version(&self, idx: DeviceIdx) -> VersionId {
        self.version[idx.index()]
    }

    /// A device's stored cohort.
    pub fn cohort(&self, idx: DeviceIdx) -> CohortId {
        self.cohort[idx.index()]
    }

    /// A device's staged flag (R10).
    pub fn staged(&self, idx: DeviceIdx) -> bool {
        self.staged.get(idx.index())
    }

    /// A device's release override (R12).
    pub fn release_override(&self, idx: DeviceIdx) -> Option<ReleaseId> {
        unpack_override(self.release_override[idx.index()])
    }

    /// The tick a device was last seen at.
    pub fn last_seen(&self, idx: DeviceIdx) -> Option<i64> {
        let t = self.last_seen[idx.index()];
        (t != NEVER).then_some(i64::from(t))
    }

    /// A device's behaviour profile (index into the scenario's profiles; 0 is default).
    #[inline]
    pub fn profile(&self, idx: DeviceIdx) -> u8 {
        self.profile[idx.index()]
    }

    /// Sets a device's behaviour profile.
    pub fn set_profile(&mut self, idx: DeviceIdx, profile: u8) {
        self.logged(idx);
        self.profile[idx.index()] = profile;
    }

    /// Sets a device's reported version (after an install is reported, R3).
    pub fn set_version(&mut self, idx: DeviceIdx, version: VersionId) {
        self.logged(idx);
        self.version[idx.index()] = version;
    }

    /// Whether row `i` is a device a staged resize of `cohort` may flip: a present
    /// member, unstaged when growing (`grow`), staged when shrinking. Read from the
    /// cohort's bitsets when it has them ([`Fleet::cohort_bits`]), else from the columns.
    #[inline]
    pub(crate) fn resize_eligible(&self, i: usize, cohort: CohortId, grow: bool) -> bool {
        match self.bits_if_built(cohort) {
            Some(bits) => bits.eligible(i, grow),
            None => self.present[i] && self.cohort[i] == cohort && self.staged.get(i) != grow,
        }
    }

    /// `cohort`'s bitsets if it has them (see [`Fleet::cohort_bits`], which builds
    /// them where it may).
    #[inline]
    pub fn bits_if_built(&self, cohort: CohortId) -> Option<CohortBits<'_>> {
        self.counts.as_ref().and_then(|c| c.bits.get(cohort))
    }

    /// Hints the CPU to bring into cache what [`Fleet::resize_eligible`] reads of row
    /// `i`; any `i`, no effect on results.
    #[inline]
    pub(crate) fn prefetch_for_staging(&self, i: usize, cohort: CohortId) {
        if let Some(bits) = self.bits_if_built(cohort) {
            bits.prefetch(i);
            return;
        }
        crate::prefetch::prefetch(self.present.as_ptr().wrapping_add(i));
        crate::prefetch::prefetch(self.cohort.as_ptr().wrapping_add(i));
        self.staged.prefetch(i);
    }

    /// Hints the CPU to bring row `i`'s hardware and software version into cache, as
    /// asked; any `i`, no effect on results.
    #[inline]
    pub(crate) fn prefetch_versions(&self, i: usize, hardware: bool, version: bool) {
        if hardware {
            crate::prefetch::prefetch(self.hardware.as_ptr().wrapping_add(i));
        }
        if version {
            crate::prefetch::prefetch(self.version.as_ptr().wrapping_add(i));
        }
    }

    /// Hints the CPU to bring what a bulk selection's filter reads of row `i` into
    /// cache (presence, cohort, staged flag, hardware and software versions); any `i`,
    /// no effect on results.
    #[inline]
    pub(crate) fn prefetch_row(&self, i: usize) {
        use crate::prefetch::prefetch;
        prefetch(self.present.as_ptr().wrapping_add(i));
        prefetch(self.cohort.as_ptr().wrapping_add(i));
        self.staged.prefetch(i);
        prefetch(self.hardware.as_ptr().wrapping_add(i));
        prefetch(self.version.as_ptr().wrapping_add(i));
    }

    /// The staged flags of rows `64 w..64 w + 64` (row `64 w + b` at bit `b`; rows
    /// past the fleet's read as unstaged): what a cache of reports reads to take a
    /// sparse bitmap's flips ([`Changes::devices`]) a word at a time.
    #[inline]
    pub(crate) fn staged_word(&self, w: usize) -> u64 {
        self.staged.word(w)
    }

    /// Sets a device's staged flag.
    pub fn set_staged(&mut self, idx: DeviceIdx, staged: bool) {
        self.logged_staged(idx);
        let i = idx.index();
        if self.staged.get(i) != staged && self.present[i] {
            if let Some(counts) = &mut self.counts {
                counts.set_staged(self.cohort[i], i, staged);
            }
        }
        self.staged.set(i, staged);
    }

    /// Sets the staged flag of `rows` (increasing, each once) to `staged`: what
    /// [`Fleet::set_staged`] does for each, with the flags written and the log's old
    /// reports read in parallel over runs of rows (a ramp step's ordered pass flips
    /// hundreds of thousands of devices). The counts and bitsets take the flips a
    /// bitset word at a time: a run hands back, per word and cohort, the bits of the
    /// rows whose counted flag changed, where it used to hand back every such row to be
    /// counted one by one on one thread.
    pub fn set_staged_rows(&mut self, rows: &[u32], staged: bool) {
        self.flip_rows(rows, staged);
    }

    /// [`Fleet::set_staged_rows`] for rows that are all present members of `cohort`
    /// whose flag is not `staged` (a staged resize's choice, R19), given as a sparse
    /// bitmap ([`crate::bitmap::Words`]): no row's presence, cohort or flag is read,
    /// and each word of rows is flipped at once, in the flags, the cohort's staged
    /// bitset and the counts (a popcount), and logged as it is. A resize's ordered
    /// pass finds its rows a word at a time, often a dozen in a word: flipped row by
    /// row, each cost the work a word now costs.
    pub(crate) fn flip_member_words(
        &mut self,
        cohort: CohortId,
        words: &[(u32, u64)],
        staged: bool,
    ) {
        use rayon::prelude::*;
        const RUN: usize = 1 << 10;
        debug_assert!(
            crate::bitmap::ones_of(words).all(|i| {
                let i = i as usize;
                self.present[i] && self.cohort[i] == cohort && self.staged.get(i) != staged
            }),
            "flipped rows are present members of the cohort with the other flag"
        );
        let logging = self.keyed_for_log();
        let n_words = self.present.len().div_ceil(64);
        let at = |&(w, _): &(u32, u64)| w as usize + 1;
        let flags = crate::row_runs::runs_by(words, self.staged.words_mut(), RUN, at);
        // The cohort's own staged bitset, cut as the flags are.
        let mut mine = match &mut self.counts {
            Some(counts) => counts
                .bits
                .staged_words_mut(cohort, n_words)
                .map(|bits| crate::row_runs::runs_by(words, bits, RUN, at).into_iter()),
            None => None,
        };
        let parts: Vec<_> = flags
            .into_iter()
            .map(|part| (part, mine.as_mut().and_then(Iterator::next)))
            .collect();
        let keyed = self.keyed.as_deref().filter(|_| logging);
        // Per run: the rows flipped per chunk of rows, and the keyed rows among them.
        type Run = (Vec<(u32, u32)>, Vec<u32>);
        let results: Vec<Run> = parts
            .into_par_iter()
            .map(|((run, flags, base), mine)| {
                let (mut per_chunk, mut was) = (Vec::<(u32, u32)>::new(), Vec::new());
                let mut mine = mine.map(|(_, bits, _)| bits);
                for &(w, bits) in run {
                    let w = w as usize;
                    set_bits(&mut flags[w - base], bits, staged);
                    if let Some(mine) = &mut mine {
                        set_bits(&mut mine[w - base], bits, staged);
                    }
                    if let Some(k) = keyed {
                        was.extend(crate::bitmap::ones_of(&[(w as u32, k[w] & bits)]));
                    }
                    // A word's rows lie in one chunk: chunks are whole words.
                    let chunk = (w * 64 / COUNT_CHUNK) as u32;
                    match per_chunk.last_mut() {
                        Some((c, n)) if *c == chunk => *n += bits.count_ones(),
                        _ => per_chunk.push((chunk, bits.count_ones())),
                    }
                }
                (per_chunk, was)
            })
            .collect();
        for (per_chunk, was) in results {
            if let Some(counts) = &mut self.counts {
                for (chunk, n) in per_chunk {
                    counts.add_staged(cohort, chunk as usize, n, staged);
                }
            }
            // Every row flipped had the other flag.
            self.log_keyed_before(was.into_iter().map(|i| (i, !staged)));
        }
        if let Some(log) = &mut self.changes {
            log.devices.extend_from_slice(words);
        }
    }

    /// Whether a change log runs; if so, the bits of keyed rows are built (once), so
    /// that a bulk flip can tell which rows' old reports the log must keep.
    fn keyed_for_log(&mut self) -> bool {
        let logging = self.changes.is_some();
        if logging && self.keyed.is_none() {
            self.keyed = Some(keyed_rows(&self.project_key, &self.release_override));
        }
        logging
    }

    /// Logs the reports keyed rows had before a bulk flip: each row's report now,
    /// with the staged flag it had.
    fn log_keyed_before(&mut self, was: impl IntoIterator<Item = (u32, bool)>) {
        for (i, staged) in was {
            let report = DeviceReport {
                staged,
                ..self.report(DeviceIdx(i))
            };
            if let Some(log) = &mut self.changes {
                log.keyed_before.push((i, report));
            }
        }
    }

    /// [`Fleet::flip_member_words`] for rows given as a list (increasing, each once).
    pub(crate) fn flip_members(&mut self, cohort: CohortId, rows: &[u32], staged: bool) {
        self.flip_member_words(cohort, &crate::bitmap::words_of(rows), staged);
    }

    /// [`Fleet::set_staged_rows`].
    fn flip_rows(&mut self, rows: &[u32], staged: bool) {
        use crate::prefetch::prefetch;
        use rayon::prelude::*;
        const RUN: usize = 1 << 13;
        const AHEAD: usize = 48;
        let logging = self.keyed_for_log();
        // Each run of rows with the words of flags it covers.
        let parts = crate::row_runs::word_runs(rows, self.staged.words_mut(), RUN);
        let keyed = self.keyed.as_deref().filter(|_| logging);
        let (present, cohort) = (&self.present, &self.cohort);
        // Per run: per bitset word and cohort, the bits of the rows whose counted flag
        // changes (a word and cohort may come again after another cohort's rows); the
        // keyed rows' old flags.
        type Run = (Vec<(u32, CohortId, u64)>, Vec<(u32, bool)>);
        let results: Vec<Run> = parts
            .into_par_iter()
            .map(|(run, flags, base)| {
                let mut changed = Vec::<(u32, CohortId, u64)>::new();
                let mut was = Vec::new();
                // The flags are bits, mostly in cache; the rows' presence and cohort
                // are a miss each where rows are further apart than a cache line's
                // worth, fetched `AHEAD` rows early so that they overlap.
                let span = run.last().map_or(0, |&l| l as usize + 1 - 64 * base);
                let scattered = span >= 64 * run.len();
                for (n, &i) in run.iter().enumerate() {
                    if scattered {
                        if let Some(&a) = run.get(n + AHEAD) {
                            prefetch(present.as_ptr().wrapping_add(a as usize));
                            prefetch(cohort.as_ptr().wrapping_add(a as usize));
                        }
                    }
                    let i = i as usize;
                    let (w, bit) = (i / 64, 1u64 << (i % 64));
                    let word = &mut flags[w - base];
                    let flag = *word & bit != 0;
                    if keyed.is_some_and(|k| k[w] & bit != 0) {
                        was.push((i as u32, flag));
                    }
                    if flag != staged && present[i] {
                        let (w, c) = (w as u32, cohort[i]);
                        match changed.last_mut() {
                            Some((lw, lc, bits)) if *lw == w && *lc == c => *bits |= bit,
                            _ => changed.push((w, c, bit)),
                        }
                    }
                    set_bits(word, bit, staged);
                }
                (changed, was)
            })
            .collect();
        for (changed, was) in results {
            if let Some(counts) = &mut self.counts {
                for (w, c, bits) in changed {
                    counts.set_staged_word(c, w as usize, bits, staged);
                }
            }
            self.log_keyed_before(was);
        }
        if let Some(log) = &mut self.changes {
            log.devices.extend(crate::bitmap::words_of(rows));
        }
    }

    /// Sets or clears a device's release override (R7 checked by the caller).
    pub fn set_release_override(&mut self, idx: DeviceIdx, release: Option<ReleaseId>) {
        self.logged(idx);
        let i = idx.index();
        self.release_override[i] = pack_override(release);
        if let Some(keyed) = &mut self.keyed {
            let on = is_keyed(self.project_key[i], self.release_override[i]);
            member_bits::set(keyed, i, on);
        }
    }

    /// Records that a device was seen at `tick`.
    pub fn set_last_seen(&mut self, idx: DeviceIdx, tick: i64) {
        self.last_seen[idx.index()] = i32::try_from(tick).unwrap_or(i32::MAX);
    }

    /// Every device's last-seen tick as stored (`NEVER_SEEN`: never), to write in bulk:
    /// the engine copies its calendar's ticks in, block by block in parallel.
    pub(crate) fn last_seen_ticks_mut(&mut self) -> &mut [i32] {
        &mut self.last_seen
    }

    /// The present devices of `cohort` for which `keep(fleet, row)` holds, in fleet
    /// order, found in parallel over the cohort's rows (built on first use, 4 bytes a
    /// device, then kept up to date: `cohort_rows.rs`).
    pub fn members_where(
        &mut self,
        cohort: CohortId,
        keep: impl Fn(&Fleet, usize) -> bool + Sync,
    ) -> Vec<DeviceIdx> {
        use rayon::prelude::*;
        if self.cohort_rows.is_none() {
            self.cohort_rows = Some(cohort_rows::CohortRows::build(&self.cohort));
        }
        self.with_cohort_rows(cohort, |fleet, rows| {
            rows.par_iter()
                .with_min_len(1 << 14)
                .filter(|&&i| fleet.present[i as usize] && keep(fleet, i as usize))
                .map(|&i| DeviceIdx(i))
                .collect()
        })
        .expect("built above")
    }

    /// The present devices of `cohort` whose staged flag is `staged` (any if `None`) and
    /// for which `keep(fleet, row)` holds, in fleet order: [`Fleet::members_where`],
    /// but read from the cohort's bitsets where it has them (or may build them,
    /// `member_bits.rs`), 64 rows a word, so that `keep` (a bulk selection's hardware
    /// and version filters) reads the columns of the candidates only, and not a row
    /// list and five columns per member.
    pub fn members_matching(
        &mut self,
        cohort: CohortId,
        staged: Option<bool>,
        keep: impl Fn(&Fleet, usize) -> bool + Sync,
    ) -> Vec<DeviceIdx> {
        use rayon::prelude::*;
        if self.cohort_bits(cohort).is_none() {
            return self.members_where(cohort, |f, i| {
                staged.is_none_or(|s| f.staged.get(i) == s) && keep(f, i)
            });
        }
        // Only the chunks the counts say hold a present member with the flag, one a
        // task: a cohort that lives in a part of the fleet (a synthetic fleet's
        // cohorts are runs of rows) is read there, not through every word of the
        // fleet's bitsets.
        let held = self.held_chunks(cohort, staged);
        let fleet: &Fleet = self;
        let bits = fleet.built_bits(cohort);
        let parts: Vec<Vec<DeviceIdx>> = held
            .par_iter()
            .with_max_len(1)
            .map(|&c| fleet.chunk_matches(bits, c, staged, &keep, usize::MAX))
            .collect();
        parts.concat()
    }

    /// The chunks of [`COUNT_CHUNK`] rows that hold a present member of `cohort` with
    /// the staged flag `staged` ([`Fleet::chunks_holding`]), in order.
    fn held_chunks(&mut self, cohort: CohortId, staged: Option<bool>) -> Vec<usize> {
        let holds = self.chunks_holding(cohort, staged);
        (0..holds.len()).filter(|&c| holds[c]).collect()
    }

    /// The first `limit` devices of chunk `c` that [`Fleet::word_matches`] finds, in
    /// order.
    fn chunk_matches(
        &self,
        bits: CohortBits<'_>,
        c: usize,
        staged: Option<bool>,
        keep: &impl Fn(&Fleet, usize) -> bool,
        limit: usize,
    ) -> Vec<DeviceIdx> {
        const WORDS: usize = COUNT_CHUNK / 64;
        let words = self.len().div_ceil(64);
        (c * WORDS..((c + 1) * WORDS).min(words))
            .flat_map(|w| self.word_matches(bits, w, staged, keep))
            .take(limit)
            .collect()
    }

    /// The devices of bitset word `w` (rows `64 w..64 w + 64`) that are present
    /// members with the staged flag `staged` (any if `None`) and that `keep` keeps, in
    /// order.
    fn word_matches<'f>(
        &'f self,
        bits: CohortBits<'f>,
        w: usize,
        staged: Option<bool>,
        keep: &'f impl Fn(&Fleet, usize) -> bool,
    ) -> impl Iterator<Item = DeviceIdx> + 'f {
        let mut word = bits.word(w, staged);
        std::iter::from_fn(move || {
            while word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                if keep(self, i) {
                    return Some(DeviceIdx(i as u32));
                }
            }
            None
        })
    }

    /// `cohort`'s bitsets, which [`Fleet::cohort_bits`] has just built.
    fn built_bits(&self, cohort: CohortId) -> CohortBits<'_> {
        self.bits_if_built(cohort).expect("built by cohort_bits")
    }

    /// The first `limit` devices that [`Fleet::members_matching`] lists, found in fleet
    /// order and stopping there: through the cohort's bitsets when it has them, 64 rows
    /// a word (a bulk stage in fleet order walks past every row its earlier stages
    /// flipped, and a word holds a whole run of them), else row by row.
    pub fn first_members_matching(
        &mut self,
        cohort: CohortId,
        staged: Option<bool>,
        limit: usize,
        keep: impl Fn(&Fleet, usize) -> bool + Sync,
    ) -> Vec<DeviceIdx> {
        if self.cohort_bits(cohort).is_none() {
            let fleet: &Fleet = self;
            return fleet
                .members(cohort)
                .filter(|d| staged.is_none_or(|s| fleet.staged.get(d.index()) == s))
                .filter(|d| keep(fleet, d.index()))
                .take(limit)
                .collect();
        }
        // The chunks the counts say hold a present member with the flag: a cohort
        // that lives in a part of the fleet is walked from there, and not through
        // every word before it.
        let held = self.held_chunks(cohort, staged);
        let fleet: &Fleet = self;
        let bits = fleet.built_bits(cohort);
        // A few chunks at a time, one a thread, each read up to the matches still
        // wanted; their matches joined in order until the limit. A stage in fleet order
        // often walks most of the fleet (past every row its earlier stages flipped),
        // which on one thread was a third of a millisecond an event.
        use rayon::prelude::*;
        let mut found: Vec<DeviceIdx> = Vec::new();
        for batch in held.chunks(2 * rayon::current_num_threads()) {
            let wanted = limit - found.len();
            let parts: Vec<Vec<DeviceIdx>> = batch
                .par_iter()
                .with_max_len(1)
                .map(|&c| fleet.chunk_matches(bits, c, staged, &keep, wanted))
                .collect();
            for part in parts {
                found.extend(part);
            }
            if found.len() >= limit {
                found.truncate(limit);
                break;
            }
        }
        found
    }

    /// `f(fleet, rows)` with `rows` the rows of `cohort` (present or not) in increasing
    /// order, when the fleet keeps them ([`Fleet::members_where`] built them); `None`
    /// otherwise.
    pub fn with_cohort_rows<R>(
        &mut self,
        cohort: CohortId,
        f: impl FnOnce(&Fleet, &[u32]) -> R,
    ) -> Option<R> {
        self.cohort_rows.as_mut()?.rows(cohort, &self.cohort);
        let fleet: &Fleet = self;
        let rows = fleet.cohort_rows.as_ref()?.settled(cohort);
        Some(f(fleet, rows))
    }

    /// Devices in `cohort` that exist now, in fleet order.
    pub fn members(&self, cohort: CohortId) -> impl Iterator<Item = DeviceIdx> + '_ {
        self.cohort
            .iter()
            .zip(&self.present)
            .enumerate()
            .filter(move |(_, (&c, &p))| c == cohort && p)
            .map(|(i, _)| DeviceIdx(i as u32))
    }

    /// Moves a device to `cohort`; moving to another cohort clears its staged flag (R10).
    pub fn move_to(&mut self, idx: DeviceIdx, cohort: CohortId) {
        let i = idx.index();
        if self.cohort[i] != cohort {
            self.logged(idx);
            let (old, present, staged) = (self.cohort[i], self.present[i], self.staged.get(i));
            self.count(old, i, present, staged, -1);
            self.count(cohort, i, present, false, 1);
            self.cohort[i] = cohort;
            self.staged.set(i, false);
            let rows = self.cohort.len();
            if let Some(lists) = &mut self.cohort_rows {
                if !lists.moved(i as u32, old, cohort, rows) {
                    self.cohort_rows = None;
                }
            }
        }
    }

    /// All release overrides that are set, with their devices.
    pub fn overrides(&self) -> impl Iterator<Item = (DeviceIdx, ReleaseId)> + '_ {
        self.release_override
            .iter()
            .enumerate()
            .filter_map(|(i, &r)| Some((DeviceIdx(i as u32), unpack_override(r)?)))
    }

    /// How many devices hold `release` as their override (R6 check).
    pub fn override_holders(&self, release: ReleaseId) -> usize {
        self.release_override
            .iter()
            .filter(|&&o| o == pack_override(Some(release)))
            .count()
    }
}

/// [`Fleet::keyed`] of these columns: the rows whose key or override is set, 64 rows a
/// word, in parallel.
fn keyed_rows(key: &[u16], over: &[u32]) -> Vec<u64> {
    use rayon::prelude::*;
    key.par_chunks(64)
        .zip(over.par_chunks(64))
        .map(|(k, o)| {
            k.iter()
                .zip(o)
                .enumerate()
                .fold(0u64, |w, (b, (&k, &o))| w | u64::from(is_keyed(k, o)) << b)
        })
        .collect()
}

/// Whether a row whose packed key and override cells are these has a project key or a
/// release override: the rows whose reports the change log keeps ([`Changes`]).
#[inline]
fn is_keyed(key: u16, over: u32) -> bool {
    key != NO_KEY || over != NO_OVERRIDE
}
