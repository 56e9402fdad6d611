//! Page-size advice for memory whose later use the allocator cannot know.
//!
//! The binary's allocator asks Linux for transparent huge pages on every block of
//! 8 MiB or more (`cli/huge_pages.rs`): right for the fleet's columns, written whole
//! and read at random. A column that stays almost all zeros and is written later at a
//! few scattered rows (the release overrides) is the opposite case: its untouched
//! pages read as the shared zero page, and the first write into each 2 MiB range
//! replaces it with a fresh 2 MiB page that the kernel must zero. The event-heavy
//! benchmark's 500 overrides at random rows of a 10M-device fleet zeroed the whole
//! 40 MB column that way, 0.1 s on the timeline's one thread; with 4 KiB pages they
//! zero about 2 MB. Advice only: results never depend on it.

/// Asks that the whole pages inside `column` be kept as small pages, now and when
/// they are first written (a no-op off Linux, and for memory already backed).
pub(crate) fn keep_small<T>(column: &[T]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = (column.as_ptr() as usize).next_multiple_of(PAGE);
        let end = (column.as_ptr() as usize + std::mem::size_of_val(column)) & !(PAGE - 1);
        if end > start {
            // SAFETY: the range lies inside memory `column` borrows; MADV_NOHUGEPAGE
            // changes how it is backed, never its contents.
            unsafe {
                libc::madvise(
                    start as *mut libc::c_void,
                    end - start,
                    libc::MADV_NOHUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = column;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The advice reaches the kernel: the mapping that holds the column is flagged
    /// `nh` (no huge pages) in `/proc/self/smaps`. A kernel built without transparent
    /// huge pages refuses the advice (and has no huge pages to avoid): there the
    /// column must only come back unchanged.
    #[test]
    fn keep_small_marks_the_column_no_huge_pages() {
        let column: Vec<u32> = (0..4u32 << 20).collect();
        super::keep_small(&column);
        assert!(column.iter().enumerate().all(|(i, &x)| x == i as u32));
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            return;
        }
        let at = column.as_ptr() as usize + std::mem::size_of_val(&column[..]) / 2;
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps readable");
        let mut inside = false;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((lo, hi)) = range.split_once('-') {
                    if let (Ok(lo), Ok(hi)) =
                        (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                    {
                        inside = (lo..hi).contains(&at);
                        continue;
                    }
                }
            }
            if inside {
                if let Some(f) = line.strip_prefix("VmFlags:") {
                    flags = Some(f.split_whitespace().map(str::to_string).collect::<Vec<_>>());
                }
            }
        }
        let flags = flags.expect("the column's mapping is listed");
        assert!(flags.iter().any(|f| f == "nh"), "flags: {flags:?}");
    }
}
