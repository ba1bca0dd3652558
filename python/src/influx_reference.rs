//! `influx-reference` as the wheel ships it: the same program as `reference-impl/src/main.rs`
//! (the command line is [`influx_reference::cli`], the allocator the same).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: influx_reference::allocator::MiMalloc = influx_reference::allocator::MiMalloc;

fn main() -> ExitCode {
    influx_reference::cli::main()
}
