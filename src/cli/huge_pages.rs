//! The binary's allocator: the system one, asking Linux to back large blocks with
//! transparent huge pages.
//!
//! A 10M-device fleet is a few hundred MB of columns, written once as a table is read
//! and then read at random by the engine. With 4 KiB pages, the first write to every
//! page faults (a quarter of `otasim matrix`'s time on a 10M Parquet fleet was page
//! faults) and random reads miss the TLB. Machines commonly run THP in `madvise` mode,
//! where only memory marked with `madvise(MADV_HUGEPAGE)` gets 2 MiB pages; this marks
//! every allocation of 8 MiB or more, before it is touched. It is advice: a kernel
//! without THP ignores it, and results never depend on it. Smaller blocks are left as
//! they are, so small runs keep their small footprint.

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, with huge-page advice for large blocks.
pub struct HugePages;

const HUGE_PAGE: usize = 2 << 20;
/// Blocks from this size on get the advice: large enough that rounding to huge pages
/// wastes little, and that the one `madvise` call per block costs nothing in comparison.
const ADVISE_FROM: usize = 4 * HUGE_PAGE;

/// Marks the whole huge pages inside a block just handed out, if it is large enough;
/// returns the block.
fn advised(ptr: *mut u8, size: usize) -> *mut u8 {
    #[cfg(target_os = "linux")]
    if size >= ADVISE_FROM && !ptr.is_null() {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + size) & !(HUGE_PAGE - 1);
        if end > start {
            // SAFETY: the range lies inside a block the allocator just handed out;
            // MADV_HUGEPAGE changes how it is backed, never its contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = size;
    ptr
}

// SAFETY: every call is forwarded to `System` unchanged; `advised` only adds a hint.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        advised(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        advised(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        advised(unsafe { System.realloc(ptr, layout, new_size) }, new_size)
    }
}
