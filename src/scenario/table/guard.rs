//! The boundary around everything that decodes a Parquet fleet table (the direct reader
//! and polars' reader behind it): a damaged file is an input error, never a crash.
//!
//! Two layers. First, the footer's numbers that size allocations are checked against
//! the file before any page is decoded ([`check_metadata`]): the row count (at most
//! [`crate::limits::MAX_DEVICES`], and equal to the row groups' sum), every column
//! chunk's byte range (inside the file), and the uncompressed sizes the chunks claim
//! (bounded by the file's size); and before polars decodes a table, every data page's
//! value count against its row group's rows ([`check_pages`]). Second, any panic raised inside the Parquet
//! layers (polars-parquet unwraps on some damaged Thrift, slices with damaged lengths,
//! asserts on bitmaps) is caught here with [`std::panic::catch_unwind`], on this thread
//! or propagated from a worker, and reported as `error: FILE: damaged Parquet file (…)`.
//! While a boundary is active the default panic hook's message is silenced, so stderr
//! shows only that error.

use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use crate::scenario::ScenarioError;

/// Active boundaries: while non-zero, panic messages are not printed (the panic is
/// reported as an input error instead).
static SILENCED: AtomicUsize = AtomicUsize::new(0);

static HOOK: Once = Once::new();

/// Installs, once, a panic hook that stays quiet while a boundary is active and
/// otherwise behaves as the previous one.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if SILENCED.load(Ordering::SeqCst) == 0 {
                previous(info);
            }
        }));
    });
}

/// The message of a damaged file.
fn damaged(path: &Path, what: impl std::fmt::Display) -> ScenarioError {
    ScenarioError {
        file: path.to_path_buf(),
        line: None,
        message: format!("damaged Parquet file ({what})"),
    }
}

/// Runs `read` (which decodes the Parquet table at `path`) so that a panic inside it
/// becomes `damaged Parquet file (…)`.
pub fn guarded<T>(
    path: &Path,
    read: impl FnOnce() -> Result<T, ScenarioError>,
) -> Result<T, ScenarioError> {
    install_hook();
    SILENCED.fetch_add(1, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        check_metadata(path)?;
        read()
    }));
    SILENCED.fetch_sub(1, Ordering::SeqCst);
    result.unwrap_or_else(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("the decoder failed");
        let first = text.lines().next().unwrap_or("").trim();
        Err(damaged(path, first))
    })
}

/// Uncompressed bytes the column chunks of a file may claim: this much plus
/// [`MAX_RATIO`] per byte of the file. Readers size buffers by these claims (the direct
/// reader's id buffer is the id chunks' uncompressed size), so a damaged footer must
/// not claim terabytes; real tables stay far below (a 10M-row fleet unpacks to a few
/// hundred MB from tens of MB).
const MAX_UNPACKED_BASE: u64 = 1 << 30;

/// See [`MAX_UNPACKED_BASE`].
const MAX_RATIO: u64 = 1024;

/// Checks the footer's numbers that size work and allocations. A footer that cannot be
/// read at all is left to the reader, whose message says why.
fn check_metadata(path: &Path) -> Result<(), ScenarioError> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return Ok(());
    };
    let Ok(meta) = polars_parquet::parquet::read::read_metadata(&mut file) else {
        return Ok(());
    };
    let rows = meta.num_rows as u64;
    if rows > crate::limits::MAX_DEVICES {
        return Err(damaged(
            path,
            crate::limits::over(
                format!("the footer claims {rows} rows"),
                crate::limits::MAX_DEVICES,
            ),
        ));
    }
    let mut sum: u64 = 0;
    let mut unpacked: u64 = 0;
    let unpacked_limit = MAX_UNPACKED_BASE.saturating_add(len.saturating_mul(MAX_RATIO));
    for (g, group) in meta.row_groups.iter().enumerate() {
        sum = sum.saturating_add(group.num_rows() as u64);
        for chunk in group.parquet_columns() {
            unpacked = unpacked.saturating_add(chunk.uncompressed_size().max(0) as u64);
            if unpacked > unpacked_limit {
                return Err(damaged(
                    path,
                    crate::limits::over(
                        format!("the column chunks claim over {unpacked} bytes uncompressed"),
                        unpacked_limit,
                    ),
                ));
            }
            let (start, size) = (chunk.data_page_offset(), chunk.compressed_size());
            let dict = chunk.dictionary_page_offset().unwrap_or(start);
            let end = u64::try_from(start.min(dict))
                .ok()
                .zip(u64::try_from(size).ok())
                .and_then(|(s, n)| s.checked_add(n));
            if end.is_none_or(|end| end > len) || chunk.uncompressed_size() < 0 {
                return Err(damaged(
                    path,
                    format!(
                        "row group {g}: column chunk at byte {start} of {size} bytes is outside the file of {len} bytes"
                    ),
                ));
            }
        }
    }
    if sum != rows {
        return Err(damaged(
            path,
            format!("the row groups hold {sum} rows, the footer says {rows}"),
        ));
    }
    Ok(())
}

/// Before polars decodes a table: every data page's value count, from its header, is
/// at most its row group's rows (the columns of a fleet table are flat: a value a row).
/// polars reserves memory for the count a page claims before it decodes a value, and a
/// damaged count (2^61, found by the table fuzzer) aborted the whole process on the
/// allocation, which no panic boundary catches. Reads the pages' headers only (the
/// pages are slices of the file's bytes, not decompressed); a file that cannot be read
/// this far is left to polars' own errors.
pub(super) fn check_pages(path: &Path) -> Result<(), ScenarioError> {
    use polars_parquet::parquet::page::CompressedPage;
    use polars_parquet::parquet::read::get_page_iterator;
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(());
    };
    let bytes: polars_buffer::Buffer<u8> = bytes.into();
    let Ok(meta) =
        polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(bytes.as_slice()))
    else {
        return Ok(());
    };
    for (g, group) in meta.row_groups.iter().enumerate() {
        let rows = group.num_rows();
        for chunk in group.parquet_columns() {
            let cursor = std::io::Cursor::new(bytes.clone());
            let Ok(pages) = get_page_iterator(chunk, cursor, Vec::new(), MAX_PAGE) else {
                continue;
            };
            for page in pages {
                let page = match page {
                    Ok(CompressedPage::Data(page)) => page,
                    Ok(CompressedPage::Dict(_)) => continue,
                    Err(_) => break,
                };
                if page.num_values() > rows {
                    return Err(damaged(
                        path,
                        format!(
                            "row group {g}: a page claims {} values for {rows} rows",
                            page.num_values()
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The largest page the check reads, as the direct reader's bound.
const MAX_PAGE: usize = 1 << 31;

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte range of the varint holding `num_values` in the Thrift page header at
    /// `at` (a data page: fields of i32s, then the data page header, whose first field
    /// is the count).
    fn num_values_varint(bytes: &[u8], mut at: usize) -> std::ops::Range<usize> {
        let mut id = 0;
        loop {
            let b = bytes[at];
            at += 1;
            id += b >> 4;
            match (b & 0x0F, id) {
                (5, _) => {
                    while bytes[at] & 0x80 != 0 {
                        at += 1;
                    }
                    at += 1;
                }
                (12, 5) => {
                    assert_eq!(bytes[at], 0x15, "num_values first");
                    let start = at + 1;
                    let mut end = start;
                    while bytes[end] & 0x80 != 0 {
                        end += 1;
                    }
                    return start..end + 1;
                }
                (t, id) => panic!("field {id} of type {t} in a page header"),
            }
        }
    }

    /// A page whose header claims more values than its row group has rows is a
    /// damaged file before polars reserves memory for them (the table fuzzer found a
    /// count of 2^61, which aborted the process); the same file undamaged passes.
    #[test]
    fn a_page_claiming_more_values_than_rows_is_damaged() {
        use polars::prelude::*;
        let mut df = df!("n" => (0..200i64).collect::<Vec<_>>()).unwrap();
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .with_compression(ParquetCompression::Uncompressed)
            .with_row_group_size(Some(70))
            .finish(&mut df)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(check_pages(&path), Ok(()), "undamaged");
        let meta = polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(&bytes))
            .unwrap();
        let chunk = &meta.row_groups[0].parquet_columns()[0];
        let count = num_values_varint(&bytes, chunk.data_page_offset() as usize);
        // polars cuts the 200 rows into two row groups of 100.
        assert_eq!(count.len(), 2, "100 values: a two-byte varint");
        // The largest even two-byte zigzag varint: 8,191, in the same bytes.
        bytes[count.start] = 0xFE;
        bytes[count.start + 1] = 0x7F;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(
            check_pages(&path).unwrap_err().to_string(),
            format!(
                "{}: damaged Parquet file (row group 0: a page claims 8191 values for 100 rows)",
                path.display()
            )
        );
    }

    #[test]
    fn a_panic_inside_becomes_a_damaged_file_error() {
        let path = Path::new("no/such/fleet.parquet");
        let err =
            guarded::<()>(path, || panic!("range end index 9 out of range\nmore")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no/such/fleet.parquet: damaged Parquet file (range end index 9 out of range)"
        );
    }

    #[test]
    fn a_panic_in_a_worker_thread_is_caught_too() {
        use rayon::prelude::*;
        let err = guarded::<()>(Path::new("f.parquet"), || {
            (0..64)
                .into_par_iter()
                .for_each(|i| assert!(i != 33, "bad bitmap"));
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.message, "damaged Parquet file (bad bitmap)");
        assert_eq!(guarded(Path::new("f.parquet"), || Ok(7)), Ok(7));
    }
}
