//! `influx-reference` as the wheel ships it: the same program as `reference-impl/src/main.rs`
//! (the command line is [`influx_reference::cli`], the allocator the same).

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    influx_reference::cli::main()
}
