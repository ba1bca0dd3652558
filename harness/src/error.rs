//! The crate's one error type: configuration, loading and harness faults. What a target does
//! wrong is not an error here; it is an observation or a verdict (`error` for target faults).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A case or target file that does not load: always names file, line and column.
    #[error("{path}:{line}:{column}: {message}")]
    Load {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot start the reference: {0}")]
    Reference(#[from] influx_reference::Error),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
