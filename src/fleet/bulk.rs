//! Devices added in bulk, column by column (fleet tables, synthetic groups): whole
//! columns appended or filled in parallel, ids checked in one pass, nothing added on
//! an error.

use rayon::prelude::*;

use super::{pack_key, pack_override, Fleet, Ids, Synthetic, NEVER};
use crate::ids::{CohortId, HardwareId, ProjectKeyId, ReleaseId, SoftwareTypeId, VersionId};

/// Devices added in bulk by [`Fleet::push_many`], column by column: row `i` of every
/// column is one device. Optional columns left `None` mean "none of these devices has
/// one" (no project key, not staged, no override, never seen).
#[derive(Clone, Debug, Default)]
pub struct DeviceColumns {
    /// Software type per device.
    pub software_type: Vec<SoftwareTypeId>,
    /// Hardware version per device.
    pub hardware: Vec<HardwareId>,
    /// Reported version per device.
    pub version: Vec<VersionId>,
    /// Stored cohort per device.
    pub cohort: Vec<CohortId>,
    /// Project key per device.
    pub project_key: Option<Vec<Option<ProjectKeyId>>>,
    /// Staged flag per device (R10).
    pub staged: Option<Vec<bool>>,
    /// Release override per device (R12).
    pub release_override: Option<Vec<Option<ReleaseId>>>,
    /// Tick last seen per device (R21), [`NEVER_SEEN`] for never: the fleet's own
    /// packing, so that a 10M-row import hands its column over without a pass.
    pub last_seen: Option<Vec<i32>>,
}

impl DeviceColumns {
    /// Number of devices (the length of the required columns).
    pub fn len(&self) -> usize {
        self.software_type.len()
    }
}

/// Why [`Fleet::push_many`] refused a batch; nothing of the batch was added.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BulkError {
    /// The 0-based position in the batch of the device at fault.
    pub row: usize,
    /// What is wrong, phrased like [`Fleet::push`]'s errors.
    pub message: String,
}

/// Appends `src` to `dst`, taking `src`'s allocation when `dst` is empty.
pub(super) fn append<T: Copy>(dst: &mut Vec<T>, src: Vec<T>) {
    if dst.is_empty() && dst.capacity() < src.len() {
        *dst = src;
    } else {
        dst.extend_from_slice(&src);
    }
}

/// Below this many rows, bulk column fills run on one thread.
pub(super) const PARALLEL_FILL_MIN: usize = 1 << 16;

/// Appends `n` copies of `value` to `dst`.
pub(super) fn fill<T: Copy + Send + Sync>(dst: &mut Vec<T>, value: T, n: usize) {
    if n < PARALLEL_FILL_MIN {
        dst.resize(dst.len() + n, value);
    } else {
        dst.par_extend(rayon::iter::repeat_n(value, n));
    }
}

/// Appends `n` zeros (`T::default()`) to `dst`; to an empty `dst`, as freshly zeroed
/// memory, whose pages cost nothing until they are touched (`vec!` of a zero integer or
/// `false` allocates with `calloc`).
pub(super) fn fill_zeroed<T: Copy + Send + Sync + Default>(dst: &mut Vec<T>, n: usize) {
    if dst.is_empty() {
        *dst = vec![T::default(); n];
    } else {
        fill(dst, T::default(), n);
    }
}

/// Appends `f` of each of `src` to `dst`.
pub(super) fn extend_map<S: Sync, T: Send>(
    dst: &mut Vec<T>,
    src: &[S],
    f: impl Fn(&S) -> T + Sync + Send,
) {
    if src.len() < PARALLEL_FILL_MIN {
        dst.extend(src.iter().map(f));
    } else {
        dst.par_extend(src.par_iter().map(f));
    }
}

impl Fleet {
    /// Reserves room for `devices` more devices whose ids take `id_bytes` bytes in
    /// all, so that a bulk load ([`Fleet::push_many`]) never regrows its buffers.
    pub(crate) fn reserve(&mut self, devices: usize, id_bytes: usize) {
        self.ids.reserve(devices, id_bytes);
    }

    /// Adds many devices at once, in order: `ids` and every column of `columns` give one
    /// row per device (`ids` must yield at least as many ids as the columns have rows).
    /// The same checks as [`Fleet::push`] (unique ids, at most `u32::MAX - 1`
    /// devices); on an error nothing is added and the error names the offending row of
    /// the batch.
    ///
    /// This is the import path for big fleet tables: ids go straight into the packed
    /// store and its hash index (one probe each), columns are appended whole.
    pub(crate) fn push_many<'s>(
        &mut self,
        ids: impl IntoIterator<Item = &'s str>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        self.push_columns(columns, |store, n| {
            let before = store.len();
            match store.extend(ids.into_iter().take(n)) {
                Ok(added) if added == n => Ok(()),
                Ok(added) => {
                    store.truncate(before);
                    Err((added, format!("{added} device ids for {n} devices")))
                }
                Err(e) => Err(e),
            }
        })
    }

    /// [`Fleet::push_many`] with the ids packed in one buffer: id `i` is
    /// `buf[ends[i - 1]..ends[i]]` (from 0 for the first). A fleet with no devices yet
    /// takes the buffers without copying them (the direct Parquet reader's path).
    pub(crate) fn push_packed(
        &mut self,
        buf: std::sync::Arc<String>,
        ends: std::sync::Arc<Vec<usize>>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        if ends.len() != columns.len() {
            return Err(BulkError {
                row: ends.len().min(columns.len()),
                message: format!("{} device ids for {} devices", ends.len(), columns.len()),
            });
        }
        self.push_columns(columns, |store, _| {
            store.extend_packed(buf, ends).map(|_| ())
        })
    }

    /// [`Fleet::push_many`] for devices whose ids are left unread: `ids` reads one when
    /// asked for (a warning's example), and nothing looks them up (see
    /// [`UnreadIds`](super::UnreadIds) for when the loader does this).
    pub(crate) fn push_unread(
        &mut self,
        ids: std::sync::Arc<dyn super::UnreadIds>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        self.push_columns(columns, |store, n| {
            store.add_unread(ids, n);
            Ok(())
        })
    }

    /// [`Fleet::push_many`] for synthetic devices: `ranges` give the ids of the batch's
    /// rows in order (their counts add up to the columns' rows), computed from each
    /// range's name and index instead of stored (see `fleet/ids.rs`).
    pub(crate) fn push_synthetic(
        &mut self,
        ranges: Vec<Synthetic>,
        columns: DeviceColumns,
    ) -> Result<(), BulkError> {
        let total: u64 = ranges.iter().map(|r| u64::from(r.count)).sum();
        if total != columns.len() as u64 {
            return Err(BulkError {
                row: 0,
                message: format!("{total} device ids for {} devices", columns.len()),
            });
        }
        self.push_columns(columns, |store, _| {
            let before = store.len();
            for range in ranges {
                let first = store.len() - before;
                if let Err((row, id)) = store.add_synthetic(range) {
                    store.truncate(before);
                    return Err((first + row, id));
                }
            }
            Ok(())
        })
    }

    /// The body of the bulk pushes: checks, ids by `add_ids` (given the batch size),
    /// then the columns.
    fn push_columns(
        &mut self,
        columns: DeviceColumns,
        add_ids: impl FnOnce(&mut Ids, usize) -> Result<(), (usize, String)>,
    ) -> Result<(), BulkError> {
        let n = columns.len();
        let lens = [
            columns.hardware.len(),
            columns.version.len(),
            columns.cohort.len(),
            columns.project_key.as_ref().map_or(n, Vec::len),
            columns.staged.as_ref().map_or(n, Vec::len),
            columns.release_override.as_ref().map_or(n, Vec::len),
            columns.last_seen.as_ref().map_or(n, Vec::len),
        ];
        // A damaged table can decode columns of different lengths: an input error.
        if let Some(&l) = lens.iter().find(|&&l| l != n) {
            return Err(BulkError {
                row: l.min(n),
                message: format!("columns of different lengths ({l} and {n} rows)"),
            });
        }
        if self
            .len()
            .checked_add(n)
            .is_none_or(|total| total >= u32::MAX as usize)
        {
            return Err(BulkError {
                row: (u32::MAX as usize - 1).saturating_sub(self.len()),
                message: "too many devices".to_string(),
            });
        }
        let before = self.ids.len();
        if let Err((row, id)) = add_ids(&mut self.ids, n) {
            return Err(BulkError {
                row,
                message: format!("device \"{id}\" is defined twice"),
            });
        }
        // Columns are filled in parallel: at 10M devices each is tens of megabytes of
        // fresh pages, and faulting them in is most of the cost.
        fill(&mut self.present, true, n);
        append(&mut self.software_type, columns.software_type);
        append(&mut self.hardware, columns.hardware);
        append(&mut self.version, columns.version);
        append(&mut self.cohort, columns.cohort);
        match columns.project_key {
            None => fill_zeroed(&mut self.project_key, n),
            Some(keys) => extend_map(&mut self.project_key, &keys, |&k| pack_key(k)),
        }
        match columns.staged {
            None => self.staged.extend_clear(n),
            Some(staged) => self.staged.extend_from_bools(&staged),
        }
        match columns.release_override {
            None => fill_zeroed(&mut self.release_override, n),
            Some(o) => extend_map(&mut self.release_override, &o, |r| pack_override(*r)),
        }
        // Mostly zeros, written later at a few scattered rows (`set_release_override`):
        // small pages, whatever the allocator advised when the column grew.
        crate::pages::keep_small(&self.release_override);
        match columns.last_seen {
            None => fill(&mut self.last_seen, NEVER, n),
            Some(ls) => append(&mut self.last_seen, ls),
        }
        fill_zeroed(&mut self.profile, n);
        debug_assert_eq!(self.profile.len(), before + n);
        self.keyed = None;
        self.count_rows(before);
        Ok(())
    }
}
