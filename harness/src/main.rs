//! `influx-conformance`: a thin binary over the library.

// The allocator `influx-reference serve` runs with (reference-impl/src/main.rs): the harness
// runs the reference in-process (two servers per generated scenario, a parse and a store per
// request), and under glibc's allocator `fuzz` spent about a third of its time in malloc/free.
influx_reference::use_mimalloc!();

fn main() {
    std::process::exit(influx_conformance::cli::main());
}
