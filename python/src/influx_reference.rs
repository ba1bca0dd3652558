//! `influx-reference` as the wheel ships it: the same program as `reference-impl/src/main.rs`
//! (the command line is [`influx_reference::cli`], the allocator the same).

use std::process::ExitCode;

influx_reference::use_mimalloc!();

fn main() -> ExitCode {
    influx_reference::cli::main()
}
