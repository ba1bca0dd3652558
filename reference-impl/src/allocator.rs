//! The global allocator of every binary in the workspace (`influx-reference`, the wheel's copy,
//! `influx-conformance`, the benches): mimalloc, called the way Rust's own `System` allocator
//! calls glibc.
//!
//! The `mimalloc` crate's `GlobalAlloc` sends every request through `mi_malloc_aligned` and
//! `mi_realloc_aligned`, whose checks for the alignment cost about a third of each call's
//! instructions. A write allocates and frees several buffers a point, so that was ~3% of the
//! instructions of a fuzz run (909,111 allocations in 300 scenarios, ~50 instructions each).
//! Here a request whose alignment a plain `mi_malloc` already guarantees takes `mi_malloc`:
//! mimalloc rounds every block of 16 bytes or more to a multiple of 16 on 64-bit targets (its
//! `MI_ALIGN2W` size classes) and starts every page's blocks 16-aligned
//! (`MI_PAGE_MIN_START_BLOCK_ALIGN`), and every block is at least word-aligned; so, as std's
//! `System` does with `malloc`, an alignment of at most 16 that is not larger than the size
//! is met. Anything else keeps the aligned calls.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment `mi_malloc` guarantees for a block at least this large (on 64-bit targets;
/// a word on 32-bit ones, as `malloc`'s `max_align_t`).
const PLAIN_ALIGN: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

/// Whether `mi_malloc(size)` returns a block aligned to `align`.
#[inline(always)]
fn plain(align: usize, size: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

/// mimalloc as the global allocator (see the module's documentation).
pub struct MiMalloc;

/// Makes [`MiMalloc`] the global allocator of the binary whose root module invokes it. Every
/// binary of the workspace does (`tests/binaries.rs` checks each `[[bin]]`): the two the
/// wheel ships are the same programs as the crates' own, and a binary left on glibc's
/// allocator ran `fuzz` ~1.6× slower.
#[macro_export]
macro_rules! use_mimalloc {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::allocator::MiMalloc = $crate::allocator::MiMalloc;
    };
}

/// Returns the calling thread's free pages to mimalloc's arenas and purges the arenas' free
/// memory now instead of after the purge delay. An idle write thread calls it once
/// ([`crate::http::write_threads::release_memory_when_idle`], registered by
/// [`crate::cli::main`]): without it, the pages a burst of writes freed stay resident until
/// the next burst. It only touches mimalloc's own heaps, so it is harmless in a program whose
/// global allocator is another.
pub fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and only walks the calling thread's own heap and
    // the process's arenas under mimalloc's locks; it may be called at any time from any
    // thread.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

// SAFETY: every method forwards to mimalloc, which returns blocks of at least the requested
// size with the requested alignment (`plain` picks the unaligned calls only where mimalloc's
// size classes guarantee it, and the module's test checks it for every size and alignment up
// to 4 KiB), or null on failure; `mi_free` takes any block mimalloc returned, aligned or not.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions take any size and alignment.
        unsafe {
            if plain(layout.align(), layout.size()) {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if plain(layout.align(), layout.size()) {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` was returned by this allocator, that is by mimalloc.
        unsafe { libmimalloc_sys::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was returned by mimalloc; the new block keeps `layout`'s alignment
        // (`plain` for the new size, else the aligned call).
        unsafe {
            if plain(layout.align(), new_size) {
                libmimalloc_sys::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align())
                    .cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size up to 1,100 bytes, every 16th to 4 KiB and some larger ones, with every alignment up to 4 KiB gets a
    /// block with that alignment, from `alloc`, `alloc_zeroed` and `realloc`, many at once (so
    /// blocks past the first of a page are seen), and the bytes survive a `realloc`.
    #[test]
    fn blocks_have_the_requested_alignment() {
        let a = MiMalloc;
        let sizes = (1..=1100).chain((1104..=4096).step_by(16)).chain([
            4095,
            5000,
            10_000,
            70_000,
            300_000,
            5 << 20,
        ]);
        for size in sizes {
            for shift in 0..=12 {
                let align = 1usize << shift;
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                let count = if size <= 256 { 8 } else { 2 };
                let mut blocks = Vec::new();
                for i in 0..count {
                    // SAFETY: the layout's size is not zero; each block is freed below.
                    let p = unsafe {
                        if i % 2 == 0 {
                            a.alloc(layout)
                        } else {
                            a.alloc_zeroed(layout)
                        }
                    };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    if i % 2 == 1 {
                        // SAFETY: `p` holds `size` bytes.
                        let bytes = unsafe { std::slice::from_raw_parts(p, size) };
                        assert!(bytes.iter().all(|&b| b == 0), "zeroed, size {size}");
                    }
                    // SAFETY: `p` holds `size` bytes.
                    unsafe { p.write_bytes(0xa5, size) };
                    blocks.push(p);
                }
                for p in blocks {
                    let grown = size * 3 + 1;
                    // SAFETY: `p` came from `a` with `layout`; `grown` is not zero.
                    let q = unsafe { a.realloc(p, layout, grown) };
                    assert!(!q.is_null());
                    assert_eq!(
                        q as usize % align,
                        0,
                        "realloc {size} -> {grown}, align {align}"
                    );
                    // SAFETY: the first `size` bytes were kept.
                    let kept = unsafe { std::slice::from_raw_parts(q, size) };
                    assert!(kept.iter().all(|&b| b == 0xa5));
                    let shrunk = (size / 2).max(1);
                    // SAFETY: `q` came from `a` with `grown` bytes and `align`.
                    let r = unsafe {
                        a.realloc(q, Layout::from_size_align_unchecked(grown, align), shrunk)
                    };
                    assert_eq!(
                        r as usize % align,
                        0,
                        "realloc {grown} -> {shrunk}, align {align}"
                    );
                    // SAFETY: `r` came from `a` with `shrunk` bytes.
                    unsafe { a.dealloc(r, Layout::from_size_align_unchecked(shrunk, align)) };
                }
            }
        }
    }
}
