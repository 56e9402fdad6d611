//! Text columns as dictionaries: the distinct values and one code per row, so that each
//! distinct value is looked up in the catalog once, however many rows repeat it.

use std::collections::HashMap;

use polars::prelude::{DataType, Series, StringChunked};
use rayon::prelude::*;

use super::direct;
use super::place::{Check, FirstError};
use crate::ids::SoftwareTypeId;

/// A text column reduced to its distinct values: `values[0]` is `""`, standing for null
/// and for the empty string, and each row's code indexes `values`.
pub(super) struct Dict<'a> {
    pub(super) values: Vec<&'a str>,
    pub(super) codes: Codes,
}

/// A [`Dict`]'s codes: one per row, or still in a Parquet file, decoded only when they
/// are mapped to what the values resolve to ([`map_codes`]).
pub(super) enum Codes {
    Rows(Vec<u32>),
    Deferred(direct::Deferred),
}

impl Dict<'_> {
    /// Every row's code (decoded, for a deferred column).
    pub(super) fn rows(&self) -> std::borrow::Cow<'_, [u32]> {
        match &self.codes {
            Codes::Rows(codes) => std::borrow::Cow::Borrowed(codes),
            Codes::Deferred(d) => std::borrow::Cow::Owned(d.codes(self.values.len())),
        }
    }
}

/// Builds a [`Dict`]; strings are hashed once per row at most, and not at all when a row
/// repeats the row before it.
pub(super) struct DictBuilder<'a> {
    pub(super) values: Vec<&'a str>,
    pub(super) by_str: HashMap<&'a str, u32, hashbrown::DefaultHashBuilder>,
    /// Strings of up to 12 bytes live inside their 16-byte view, so the view is the
    /// string: hashing it as a `u128` is cheaper than hashing the `&str`.
    pub(super) by_view: HashMap<u128, u32, hashbrown::DefaultHashBuilder>,
    pub(super) codes: Vec<u32>,
}

impl<'a> DictBuilder<'a> {
    pub(super) fn new(rows: usize) -> DictBuilder<'a> {
        let mut by_str = HashMap::default();
        by_str.insert("", 0);
        DictBuilder {
            values: vec![""],
            by_str,
            by_view: HashMap::default(),
            codes: Vec::with_capacity(rows),
        }
    }

    pub(super) fn code_of(&mut self, s: &'a str) -> u32 {
        if let Some(&c) = self.by_str.get(s) {
            return c;
        }
        let c = self.values.len() as u32;
        self.values.push(s);
        self.by_str.insert(s, c);
        c
    }

    pub(super) fn finish(self) -> Dict<'a> {
        Dict {
            values: self.values,
            codes: Codes::Rows(self.codes),
        }
    }
}

pub(super) fn string_dict(ca: &StringChunked) -> Dict<'_> {
    let mut b = DictBuilder::new(ca.len());
    if ca.null_count() > 0 {
        for s in ca.iter() {
            let c = b.code_of(s.unwrap_or(""));
            b.codes.push(c);
        }
        return b.finish();
    }
    let mut last: Option<(u128, u32)> = None;
    for arr in ca.downcast_iter() {
        for (view, s) in arr.views().iter().zip(arr.values_iter()) {
            let c = if view.length <= 12 {
                let key = view.as_u128();
                match last {
                    Some((k, c)) if k == key => c,
                    _ => {
                        let c = match b.by_view.get(&key) {
                            Some(&c) => c,
                            None => {
                                let c = b.code_of(s);
                                b.by_view.insert(key, c);
                                c
                            }
                        };
                        last = Some((key, c));
                        c
                    }
                }
            } else {
                b.code_of(s)
            };
            b.codes.push(c);
        }
    }
    b.finish()
}

/// A categorical column: its codes are remapped through a table, one string lookup per
/// category.
pub(super) fn categorical_dict(series: &Series) -> Result<Dict<'_>, String> {
    let mapping = series.dtype().cat_mapping().map_err(|e| e.to_string())?;
    let physical = series
        .to_physical_repr()
        .cast(&DataType::UInt32)
        .map_err(|e| e.to_string())?;
    let physical = physical.u32().map_err(|e| e.to_string())?;
    let mut b = DictBuilder::new(series.len());
    let mut remap = vec![u32::MAX; mapping.num_cats_upper_bound()];
    for cat in physical.iter() {
        let c = match cat {
            None => 0,
            Some(cat) => match remap.get(cat as usize) {
                Some(&c) if c != u32::MAX => c,
                _ => {
                    let c = b.code_of(mapping.cat_to_str(cat).unwrap_or(""));
                    if let Some(slot) = remap.get_mut(cat as usize) {
                        *slot = c;
                    }
                    c
                }
            },
        };
        b.codes.push(c);
    }
    Ok(b.finish())
}

pub(super) fn dict(series: &Series) -> Result<Dict<'_>, String> {
    match series.dtype() {
        DataType::String => Ok(string_dict(series.str().map_err(|e| e.to_string())?)),
        _ => categorical_dict(series),
    }
}

/// `n` copies of `value`, written in parallel (a column of a 10M-row table).
pub(super) fn repeat<T: Copy + Send + Sync>(value: T, n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.par_extend(rayon::iter::repeat_n(value, n));
    v
}

pub(super) fn map_codes<T: Copy + Send + Sync>(dict: &Dict<'_>, table: &[T]) -> Vec<T> {
    match &dict.codes {
        Codes::Rows(codes) => codes
            .par_iter()
            .with_min_len(1 << 16)
            .map(|&c| table[c as usize])
            .collect(),
        Codes::Deferred(d) => d.map(table),
    }
}

/// Looks every distinct value of `dict` up once with `resolve` (code 0, null or empty,
/// included) and notes the first row whose value failed.
pub(super) fn resolve_dict<T: Copy>(
    dict: &Dict<'_>,
    fallback: T,
    errors: &mut FirstError,
    mut resolve: impl FnMut(&str) -> Result<T, (Check, String)>,
) -> Vec<T> {
    let mut table = Vec::with_capacity(dict.values.len());
    let mut failed: Vec<Option<(Check, String)>> = Vec::new();
    for (code, value) in dict.values.iter().enumerate() {
        match resolve(value) {
            Ok(t) => table.push(t),
            Err(e) => {
                table.push(fallback);
                failed.resize(dict.values.len(), None);
                failed[code] = Some(e);
            }
        }
    }
    let used = |c: usize| match &dict.codes {
        Codes::Rows(_) => true,
        Codes::Deferred(d) => d.may_use(c as u32),
    };
    if failed
        .iter()
        .enumerate()
        .any(|(c, f)| f.is_some() && used(c))
    {
        let codes = dict.rows();
        if let Some(row) = codes.iter().position(|&c| failed[c as usize].is_some()) {
            let (check, message) = failed[codes[row] as usize].take().unwrap();
            errors.note(row, check, || message);
        }
    }
    table
}

/// Resolves a column whose values depend on the row's software type (versions and
/// release overrides): one lookup per distinct (software type, value) pair.
pub(super) fn resolve_per_type<T: Copy + Send + Sync>(
    dict: &Dict<'_>,
    types: Option<&[Option<SoftwareTypeId>]>,
    fallback: T,
    errors: &mut FirstError,
    mut resolve: impl FnMut(SoftwareTypeId, &str) -> Result<T, (Check, String)>,
) -> Vec<T> {
    let Some(types) = types else {
        let table = resolve_dict(dict, fallback, errors, |v| resolve(SoftwareTypeId(0), v));
        return map_codes(dict, &table);
    };
    // Each (type, value) pair is resolved once; a row finds its pair's result by two
    // array lookups (a slot per software type seen, then the value's code), not by
    // hashing: this runs once per row of a 10M-row table. Only a table with very many
    // types and values, where that array would outgrow the table, hashes the pair.
    const UNRESOLVED: u32 = u32::MAX;
    let n_values = dict.values.len();
    // The software types the rows have, and whether every row has one: two passes over
    // every row, so in parallel.
    let (seen, all_typed) = types
        .par_chunks(1 << 16)
        .map(|chunk| {
            let (mut seen, mut all_typed) = (Vec::<bool>::new(), true);
            for st in chunk {
                match st {
                    Some(st) => {
                        if seen.len() <= st.index() {
                            seen.resize(st.index() + 1, false);
                        }
                        seen[st.index()] = true;
                    }
                    None => all_typed = false,
                }
            }
            (seen, all_typed)
        })
        .reduce(
            || (Vec::new(), true),
            |(mut a, x), (b, y)| {
                if a.len() < b.len() {
                    a.resize(b.len(), false);
                }
                a.iter_mut().zip(b).for_each(|(a, b)| *a |= b);
                (a, x && y)
            },
        );
    let mut slot_of: Vec<u32> = vec![UNRESOLVED; seen.len()];
    let mut slots = 0;
    for (s, _) in slot_of.iter_mut().zip(&seen).filter(|(_, &seen)| seen) {
        *s = slots;
        slots += 1;
    }
    if slots == 1 && all_typed {
        // One software type for every row (the usual table): the plain dictionary
        // lookup, mapped in parallel.
        let st = types[0].expect("checked");
        let table = resolve_dict(dict, fallback, errors, |v| resolve(st, v));
        return map_codes(dict, &table);
    }
    let dense = (slots as usize).saturating_mul(n_values) <= 8 * types.len() + 1024;
    let mut memo: Vec<u32> = vec![UNRESOLVED; if dense { slots as usize * n_values } else { 0 }];
    let mut sparse: hashbrown::HashMap<(u32, u32), u32> = hashbrown::HashMap::new();
    let mut results: Vec<Result<T, (Check, String)>> = Vec::new();
    let codes = dict.rows();
    let mut out = Vec::with_capacity(codes.len());
    for (row, (&code, &st)) in codes.iter().zip(types).enumerate() {
        // A row with an unknown software type already has its error.
        let Some(st) = st else {
            out.push(fallback);
            continue;
        };
        let slot = slot_of[st.index()];
        let entry = if dense {
            &mut memo[slot as usize * n_values + code as usize]
        } else {
            sparse.entry((slot, code)).or_insert(UNRESOLVED)
        };
        if *entry == UNRESOLVED {
            *entry = results.len() as u32;
            results.push(resolve(st, dict.values[code as usize]));
        }
        match &results[*entry as usize] {
            Ok(t) => out.push(*t),
            Err((check, message)) => {
                errors.note(row, *check, || message.clone());
                out.push(fallback);
            }
        }
    }
    out
}
