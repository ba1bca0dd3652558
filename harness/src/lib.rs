//! `influx-conformance`: point it at a server and learn exactly where it differs from InfluxDB.
//!
//! Data flow, one direction: case YAML ([`case`]) → [`target::Target`] (in-process reference
//! or URL) → [`observe::Observation`] → redactions → [`compare`] with expectations and snapshot
//! → [`compare::Verdict`] → [`report`]. The binary (`main.rs`) is a thin layer over [`cli`].

pub mod bless;
pub mod case;
pub mod cli;
pub mod compare;
mod error;
pub mod generate;
pub mod observe;
pub mod report;
pub mod run;
pub mod target;
pub mod targets;

pub use error::{Error, Result};

/// The repository's `cases/` (for tests and the default of `--cases` outside a checkout).
pub fn default_cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases")
}

/// The repository's `snapshots/`.
pub fn default_snapshots_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
}
