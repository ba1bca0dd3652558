//! `influx-conformance` as the wheel ships it: the same program as `harness/src/main.rs`
//! (the command line is [`influx_conformance::cli`], the allocator the same).

influx_reference::use_mimalloc!();

fn main() {
    std::process::exit(influx_conformance::cli::main());
}
