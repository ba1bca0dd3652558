//! `influx-conformance`: a thin binary over the library.

fn main() {
    std::process::exit(influx_conformance::cli::main());
}
