//! `influx-reference`: the binary. The command line is [`influx_reference::cli`].

use std::process::ExitCode;

// A write allocates and frees many small buffers on several threads (points, series keys,
// columns); mimalloc's thread-local free lists make that several times cheaper than glibc's
// arenas and keep the resident set closer to what is stored (`cargo xtask bench ingest`).
#[global_allocator]
static GLOBAL: influx_reference::allocator::MiMalloc = influx_reference::allocator::MiMalloc;

/// Returns the calling thread's free pages to mimalloc's arenas and purges the arenas' free
/// memory now instead of after the purge delay. A write thread calls it once it has been idle
/// for a moment (`influx_reference::http::write_threads`): without it, the pages a burst of
/// writes freed stay resident until the next burst.
fn release_free_memory() {
    // SAFETY: `mi_collect` takes no pointer and only walks the calling thread's own heap and
    // the process's arenas under mimalloc's locks; it may be called at any time from any
    // thread that uses mimalloc, which is the global allocator here.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn main() -> ExitCode {
    influx_reference::http::write_threads::release_memory_when_idle(release_free_memory);
    influx_reference::cli::main()
}
