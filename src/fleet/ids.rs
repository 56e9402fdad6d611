//! Device ids by row. Ids that came as text (explicit devices, imported tables) are
//! stored ([`IdStore`]); a synthetic group's or arrival stream's ids are `<name>-<index>`
//! by construction, so they are computed from the row when asked for and found by
//! parsing, never formatted, stored or hashed: at 10M synthetic devices that is about
//! 35 bytes per device and the cost of formatting and indexing every id. A table's ids
//! that a command leaves unread ([`UnreadIds`]) are read from the file when asked for,
//! and never looked up.

use std::borrow::Cow;

use super::id_store::IdStore;

/// How a synthetic range writes its index after the prefix.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Digits {
    /// Zero-padded to this many digits (a group: `prod-000042`).
    Padded(u8),
    /// As is, no leading zeros (an arrival stream: `new0-42`).
    Plain,
}

/// A range of synthetic ids: `prefix` then index `0..count` written as `digits` say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Synthetic {
    /// `<name>-`.
    pub(crate) prefix: String,
    /// How the index is written.
    pub(crate) digits: Digits,
    /// Ids in the range.
    pub(crate) count: u32,
}

impl Synthetic {
    /// The id of index `j`.
    pub(crate) fn id(&self, j: u32) -> String {
        match self.digits {
            Digits::Padded(w) => format!("{}{j:0w$}", self.prefix, w = usize::from(w)),
            Digits::Plain => format!("{}{j}", self.prefix),
        }
    }

    /// The index whose id is `id`, if one is.
    pub(crate) fn index_of(&self, id: &str) -> Option<u32> {
        let rest = id.strip_prefix(self.prefix.as_str())?.as_bytes();
        if rest.is_empty() || !rest.iter().all(u8::is_ascii_digit) {
            return None;
        }
        match self.digits {
            Digits::Padded(w) if rest.len() != usize::from(w) => return None,
            Digits::Plain if rest.len() > 1 && rest[0] == b'0' => return None,
            _ => {}
        }
        // At most 10 digits fit a u32 index; more cannot be one.
        if rest.len() > 10 {
            return None;
        }
        let j = rest.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        (j < u64::from(self.count)).then_some(j as u32)
    }
}

/// Ids left where they came from (a fleet table's column, not decoded) and read one at
/// a time when asked for: `otasim matrix` on an imported fleet that nothing names a
/// device of never needs them, and decoding and storing 10M ids was a third of it.
pub trait UnreadIds: Send + Sync {
    /// The id of the `j`-th row of the run.
    fn id(&self, j: usize) -> String;
}

/// Where a run of rows takes its ids from.
#[derive(Clone)]
enum Source {
    /// Stored ids from this index of the store on.
    Stored(u32),
    /// Computed.
    Synthetic(Synthetic),
    /// Read when asked for; never looked up ([`Ids::add_unread`]).
    Unread(std::sync::Arc<dyn UnreadIds>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Stored(k) => f.debug_tuple("Stored").field(k).finish(),
            Source::Synthetic(s) => f.debug_tuple("Synthetic").field(s).finish(),
            Source::Unread(_) => f.write_str("Unread"),
        }
    }
}

/// A run of consecutive rows with one source.
#[derive(Clone, Debug)]
struct Segment {
    first_row: u32,
    len: u32,
    source: Source,
}

/// Every device's id, by row. Invariant: `segments` cover rows `0..len()` in order,
/// stored segments take consecutive store indices in row order, and no id is given
/// twice (a synthetic range that could repeat an id is stored instead, so the store's
/// own duplicate check sees it).
#[derive(Clone, Default)]
pub(super) struct Ids {
    stored: IdStore,
    segments: Vec<Segment>,
    rows: usize,
}

impl Ids {
    pub(super) fn len(&self) -> usize {
        self.rows
    }

    fn segment_of(&self, row: usize) -> &Segment {
        let k = self
            .segments
            .partition_point(|s| s.first_row as usize <= row);
        &self.segments[k - 1]
    }

    pub(super) fn get(&self, row: usize) -> Cow<'_, str> {
        assert!(row < self.rows, "row {row} of {}", self.rows);
        let s = self.segment_of(row);
        let j = (row - s.first_row as usize) as u32;
        match &s.source {
            Source::Stored(first) => Cow::Borrowed(self.stored.get((first + j) as usize)),
            Source::Synthetic(syn) => Cow::Owned(syn.id(j)),
            Source::Unread(ids) => Cow::Owned(ids.id(j as usize)),
        }
    }

    pub(super) fn find(&self, id: &str) -> Option<u32> {
        for s in &self.segments {
            if let Source::Synthetic(syn) = &s.source {
                if let Some(j) = syn.index_of(id) {
                    return Some(s.first_row + j);
                }
            }
        }
        let k = self.stored.find(id)?;
        self.segments.iter().find_map(|s| match s.source {
            Source::Stored(first) if (first..first + s.len).contains(&k) => {
                Some(s.first_row + (k - first))
            }
            _ => None,
        })
    }

    /// Whether `id` is one of the synthetic ids.
    fn is_synthetic(&self, id: &str) -> bool {
        self.segments.iter().any(|s| match &s.source {
            Source::Synthetic(syn) => syn.index_of(id).is_some(),
            Source::Stored(_) | Source::Unread(_) => false,
        })
    }

    /// Counts `n` new stored rows (the store has them already).
    fn add_stored_rows(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let stored_before = (self.stored.len() - n) as u32;
        match self.segments.last_mut() {
            Some(Segment {
                len,
                source: Source::Stored(first),
                ..
            }) if *first + *len == stored_before => *len += n as u32,
            _ => self.segments.push(Segment {
                first_row: self.rows as u32,
                len: n as u32,
                source: Source::Stored(stored_before),
            }),
        }
        self.rows += n;
    }

    /// Adds `id` as the next row; false if it is taken.
    pub(super) fn insert(&mut self, id: &str) -> bool {
        if self.is_synthetic(id) || !self.stored.insert(id) {
            return false;
        }
        self.add_stored_rows(1);
        true
    }

    /// The first of `ids` (by position) that is a synthetic id.
    fn first_synthetic<'s>(&self, ids: impl Iterator<Item = &'s str>) -> Option<(usize, String)> {
        if !self
            .segments
            .iter()
            .any(|s| matches!(s.source, Source::Synthetic(_)))
        {
            return None;
        }
        ids.enumerate()
            .find(|(_, id)| self.is_synthetic(id))
            .map(|(k, id)| (k, id.to_string()))
    }

    /// Stored ids added by `add` (the store's bulk pushes): on a duplicate among them
    /// or with a synthetic id, everything added is taken back and the error gives the
    /// first offender's position in the batch and its id.
    fn extend_with(
        &mut self,
        add: impl FnOnce(&mut IdStore) -> Result<usize, (usize, String)>,
    ) -> Result<usize, (usize, String)> {
        let before = self.stored.len();
        let result = add(&mut self.stored);
        let added = self.stored.len() - before;
        let clash = self.first_synthetic((before..before + added).map(|k| self.stored.get(k)));
        let result = match (result, clash) {
            (Ok(n), None) => Ok(n),
            (Err(e), None) => Err(e),
            (Ok(_), Some(c)) => Err(c),
            (Err(e), Some(c)) => Err(if c.0 < e.0 { c } else { e }),
        };
        match result {
            Ok(n) => {
                self.add_stored_rows(added);
                Ok(n)
            }
            Err(e) => {
                self.stored.truncate(before);
                Err(e)
            }
        }
    }

    /// [`IdStore::extend`] for the next rows.
    pub(super) fn extend<'s>(
        &mut self,
        ids: impl IntoIterator<Item = &'s str>,
    ) -> Result<usize, (usize, String)> {
        self.extend_with(|store| store.extend(ids))
    }

    /// [`IdStore::extend_packed`] for the next rows.
    pub(super) fn extend_packed(
        &mut self,
        buf: std::sync::Arc<String>,
        ends: std::sync::Arc<Vec<usize>>,
    ) -> Result<usize, (usize, String)> {
        self.extend_with(|store| store.extend_packed(buf, ends))
    }

    /// Adds a synthetic range as the next rows. Computed, unless one of its ids could be
    /// another's (a stored id or a range with the same prefix): then its ids are stored
    /// and the store finds the duplicate, reported as for any bulk load.
    pub(super) fn add_synthetic(&mut self, range: Synthetic) -> Result<usize, (usize, String)> {
        let n = range.count as usize;
        if n == 0 {
            return Ok(0);
        }
        let shares_prefix = self.segments.iter().any(|s| match &s.source {
            Source::Synthetic(other) => {
                other.prefix.starts_with(&range.prefix) || range.prefix.starts_with(&other.prefix)
            }
            Source::Stored(_) | Source::Unread(_) => false,
        });
        let clashes_stored =
            || (0..self.stored.len()).any(|k| range.index_of(self.stored.get(k)).is_some());
        if shares_prefix || clashes_stored() {
            let ids: Vec<String> = (0..range.count).map(|j| range.id(j)).collect();
            return self.extend(ids.iter().map(String::as_str));
        }
        self.segments.push(Segment {
            first_row: self.rows as u32,
            len: range.count,
            source: Source::Synthetic(range),
        });
        self.rows += n;
        Ok(n)
    }

    /// Adds `n` rows whose ids are left unread, as the next rows. Nothing checks them
    /// against the others, and [`Ids::find`] does not see them: the loader leaves ids
    /// unread only in a fleet of that one table, which no event, arrival or flag names a
    /// device of (`scenario/lower.rs`).
    pub(super) fn add_unread(&mut self, ids: std::sync::Arc<dyn UnreadIds>, n: usize) {
        if n == 0 {
            return;
        }
        self.segments.push(Segment {
            first_row: self.rows as u32,
            len: n as u32,
            source: Source::Unread(ids),
        });
        self.rows += n;
    }

    /// Drops rows `len..` (undoing a failed bulk load).
    pub(super) fn truncate(&mut self, len: usize) {
        let mut keep_stored = self.stored.len();
        while let Some(s) = self.segments.last_mut() {
            let first = s.first_row as usize;
            if first >= len {
                if let Source::Stored(k) = s.source {
                    keep_stored = k as usize;
                }
                self.segments.pop();
                continue;
            }
            let end = first + s.len as usize;
            if end > len {
                s.len = (len - first) as u32;
                if let Source::Stored(k) = s.source {
                    keep_stored = k as usize + s.len as usize;
                }
            }
            break;
        }
        self.stored.truncate(keep_stored);
        self.rows = self.rows.min(len);
    }

    pub(super) fn reserve(&mut self, devices: usize, id_bytes: usize) {
        self.stored.reserve(devices, id_bytes);
    }

    /// Whether both give every row the same id (cheap: compares how they are made, not
    /// every id).
    pub(super) fn same_as(&self, other: &Ids) -> bool {
        self.rows == other.rows
            && self.segments.len() == other.segments.len()
            && self.segments.iter().zip(&other.segments).all(|(a, b)| {
                match (&a.source, &b.source) {
                    (Source::Synthetic(x), Source::Synthetic(y)) => {
                        a.first_row == b.first_row && x == y
                    }
                    (Source::Unread(x), Source::Unread(y)) => {
                        a.first_row == b.first_row && a.len == b.len && std::sync::Arc::ptr_eq(x, y)
                    }
                    (Source::Stored(x), Source::Stored(y)) => {
                        a.first_row == b.first_row
                            && a.len == b.len
                            && ((x == y && self.stored.shares_ids(&other.stored))
                                || (0..a.len as usize).all(|j| {
                                    let row = a.first_row as usize + j;
                                    self.get(row) == other.get(row)
                                }))
                    }
                    _ => false,
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(prefix: &str, w: u8, count: u32) -> Synthetic {
        Synthetic {
            prefix: prefix.into(),
            digits: Digits::Padded(w),
            count,
        }
    }

    #[test]
    fn synthetic_ids_are_computed_and_parsed_back() {
        let g = group("prod-", 3, 120);
        assert_eq!(g.id(7), "prod-007");
        assert_eq!(g.index_of("prod-007"), Some(7));
        assert_eq!(g.index_of("prod-7"), None, "width");
        assert_eq!(g.index_of("prod-120"), None, "beyond the range");
        assert_eq!(g.index_of("prod-0a7"), None);
        assert_eq!(g.index_of("dev-007"), None);
        let a = Synthetic {
            prefix: "new0-".into(),
            digits: Digits::Plain,
            count: 12,
        };
        assert_eq!(a.id(0), "new0-0");
        assert_eq!(a.index_of("new0-11"), Some(11));
        assert_eq!(a.index_of("new0-011"), None, "no leading zeros");
        assert_eq!(a.index_of("new0-99999999999999999999"), None);
    }

    #[test]
    fn rows_mix_stored_and_synthetic_ids() {
        let mut ids = Ids::default();
        assert!(ids.insert("SN-1"));
        assert_eq!(ids.add_synthetic(group("g-", 2, 10)), Ok(10));
        assert_eq!(ids.extend(["SN-2", "SN-3"]), Ok(2));
        assert_eq!(ids.len(), 13);
        let all: Vec<String> = (0..13).map(|i| ids.get(i).into_owned()).collect();
        assert_eq!(all[0], "SN-1");
        assert_eq!(all[1], "g-00");
        assert_eq!(all[10], "g-09");
        assert_eq!(all[12], "SN-3");
        for (row, id) in all.iter().enumerate() {
            assert_eq!(ids.find(id), Some(row as u32), "{id}");
        }
        assert_eq!(ids.find("g-10"), None);
        // A stored id that is a synthetic one is a duplicate.
        assert!(!ids.insert("g-03"));
        assert_eq!(ids.extend(["SN-4", "g-05"]), Err((1, "g-05".into())));
        assert_eq!(ids.len(), 13, "the failed batch is taken back");
        assert_eq!(ids.find("SN-4"), None);
        ids.truncate(5);
        assert_eq!(ids.len(), 5);
        assert_eq!(ids.find("SN-2"), None);
        assert!(ids.insert("SN-2"));
        assert_eq!(ids.find("SN-2"), Some(5));
    }

    #[test]
    fn a_range_that_could_repeat_an_id_is_stored_and_its_duplicate_found() {
        let mut ids = Ids::default();
        assert!(ids.insert("g-05"));
        assert_eq!(
            ids.add_synthetic(group("g-", 2, 10)),
            Err((5, "g-05".into()))
        );
        assert_eq!(ids.len(), 1);
        // Two ranges with one prefix: stored, so a repeat is a duplicate.
        let mut ids = Ids::default();
        assert_eq!(ids.add_synthetic(group("g-", 1, 3)), Ok(3));
        let plain = Synthetic {
            prefix: "g-".into(),
            digits: Digits::Plain,
            count: 2,
        };
        assert_eq!(ids.add_synthetic(plain), Err((0, "g-0".into())));
    }

    #[test]
    fn same_as_compares_how_ids_are_made() {
        let make = |n| {
            let mut ids = Ids::default();
            ids.insert("a");
            ids.add_synthetic(group("g-", 2, n)).unwrap();
            ids
        };
        assert!(make(10).same_as(&make(10)));
        assert!(!make(10).same_as(&make(11)));
    }
}
