//! A hint to the CPU to bring memory into cache ahead of a read: the engine's polls
//! and a staged resize's probes read rows at random, and issuing the next reads early
//! lets their cache misses overlap. No effect on results.

/// Hints the CPU to bring `x` into cache (no effect on results).
#[inline(always)]
pub(crate) fn prefetch<T>(x: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86_64 baseline, and a prefetch never faults nor
        // changes memory, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(x.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Hints the CPU to bring every cache line of `xs` into cache (no effect on results).
#[inline]
pub(crate) fn prefetch_lines<T>(xs: &[T]) {
    const LINE: usize = 64;
    let (start, bytes) = (xs.as_ptr().cast::<u8>(), std::mem::size_of_val(xs));
    // A byte every line's length from the first, then the last: every line touched.
    let mut at = 0;
    while at < bytes {
        prefetch(start.wrapping_add(at));
        at += LINE;
    }
    if bytes > 0 {
        prefetch(start.wrapping_add(bytes - 1));
    }
}
