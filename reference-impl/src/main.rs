//! `influx-reference`: the binary. The command line is [`influx_reference::cli`].

use std::process::ExitCode;

// A write allocates and frees many small buffers on several threads (points, series keys,
// columns); mimalloc's thread-local free lists make that several times cheaper than glibc's
// arenas and keep the resident set closer to what is stored (`cargo xtask bench ingest`).
influx_reference::use_mimalloc!();

fn main() -> ExitCode {
    influx_reference::cli::main()
}
