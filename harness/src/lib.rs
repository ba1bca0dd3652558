//! `influx-conformance`: point it at a server and learn exactly where it differs from InfluxDB.
//!
//! Data flows one way, one module per step: case YAML ([`case`]) → a [`server::Target`]
//! (in-process reference or URL) and the requests built from the steps ([`request`]) →
//! [`execute`] → [`observe::Observation`] (redacted) → [`verdict`] (expectations in [`compare`],
//! the snapshot in [`snapshot`], known deviations in [`deviation`]) → [`run::CaseResult`] →
//! [`report`]. [`run`] schedules the (case, target, profile) jobs [`select`] picks. The binary
//! (`main.rs`) is a thin layer over [`cli`], which parses and dispatches; [`bless`] and
//! [`generate`] (fuzzing) are libraries the CLI drives.

pub mod area;
pub mod bless;
pub mod case;
pub mod cli;
pub mod compare;
pub mod deviation;
mod error;
pub mod execute;
pub mod exit;
pub mod fault;
pub mod generate;
pub mod http;
pub mod observe;
pub mod report;
pub mod request;
pub mod run;
pub mod select;
pub mod server;
pub mod snapshot;
pub mod targets;
pub mod tier;
pub mod verdict;

pub use error::{Error, Result};

/// The repository's `cases/` (for tests and the default of `--cases` outside a checkout).
pub fn default_cases_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases")
}

/// The repository's `snapshots/`.
pub fn default_snapshots_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots")
}
