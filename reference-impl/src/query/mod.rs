//! Reading data back: the Flux subset clients use to read what they wrote, answering in
//! InfluxDB's annotated CSV (spec/v2.md §8).
//!
//! Supported: `from(bucket:|bucketID:)`, `range(start:, stop:)` (durations, RFC3339 times,
//! `now()`, unix seconds), `filter(fn:, onEmpty:)` with `==`, `!=`, `<`, `<=`, `>`, `>=`, `=~`,
//! `!~`, `and`, `or`, `not`, `exists` and parentheses, `keep`, `drop`, `rename`, `group`,
//! `sort`, `limit`, `first`, `last`, `count`, `sum`, `mean`, `min`, `max`, `distinct`,
//! `pivot`, `aggregateWindow(every:, fn:, createEmpty:)`, `yield(name:)` (several per script),
//! `buckets()`, comments and variables, and the request's `extern` (option statements with
//! literal values: how clients send query parameters). Anything else is a 400 `invalid` naming
//! the construct.

mod ast;
pub mod csv;
mod eval;
mod extern_ast;
mod parser;
pub mod table;
mod transform;

use crate::api_error::Code;
use crate::model::Id;
use crate::storage::{Authorization, Store};

pub use table::{ColType, Column, Table, Val};

/// A query failure with the platform code it maps to (`handleFluxError`). `runtime` errors can
/// occur after results were written; the others are found before any output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxError {
    pub code: Code,
    pub message: String,
    pub runtime: bool,
}

impl FluxError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: Code::Invalid,
            message: message.into(),
            runtime: false,
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: Code::Invalid,
            message: message.into(),
            runtime: true,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: Code::NotFound,
            message: message.into(),
            runtime: false,
        }
    }
}

/// One named result of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub name: String,
    pub tables: Vec<Table>,
}

/// What running a script produced: the results in yield order, and the error that stopped it
/// (if any) after those results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub results: Vec<QueryResult>,
    pub error: Option<FluxError>,
}

/// Runs `script` for `auth` in org `org_id` with "now" = `now`, after the statements of
/// `extern` (the request's Flux AST preamble; `Null` for none).
pub fn execute(
    store: &Store,
    auth: &Authorization,
    org_id: Id,
    extern_file: &serde_json::Value,
    script: &str,
    now: i64,
) -> Outcome {
    let failed = |message: String| Outcome {
        results: Vec::new(),
        error: Some(FluxError::invalid(message)),
    };
    let mut program = match extern_ast::statements(extern_file) {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    match parser::parse(script) {
        Ok(p) => program.extend(p),
        Err(e) => return failed(e.0),
    }
    eval::run(store, auth, org_id, now, &program)
}
