//! `influx-conformance` as the wheel ships it: the same program as `harness/src/main.rs`.

fn main() {
    std::process::exit(influx_conformance::cli::main());
}
