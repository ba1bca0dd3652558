//! Reading data back: a Flux interpreter modelled on Flux v0.196.1 (what InfluxDB 2.7.12 runs),
//! answering in annotated CSV (spec/v2.md §8). README.md lists the functions and packages
//! supported; anything else is a 400 naming it.
//!
//! A query runs on one thread (`crate::http::query` starts it off the async executor); the
//! store lock is taken only while series are copied out of storage into owned tables (and
//! while `to()` writes), so writes and health checks proceed while a query evaluates. A
//! [`budget::Budget`] bounds its memory, time, steps and call depth; a cancel flag stops it
//! when the client goes away.

mod ast;
pub mod budget;
pub mod csv;
mod extern_ast;
pub mod go_time;
mod interp;
mod lexer;
mod ops;
mod parser;
mod profiler;
mod stdlib;
pub mod table;
mod value;

use std::sync::Mutex;

use crate::api_error::Code;

/// How Go names the step of a query that failed, before the error's own text
/// (`query/control/controller.go` for compiling; `flux:lang/compiler.go` for the program's
/// start; `flux:execute/executor.go` for the executor). Errors found while the script is
/// evaluated (type errors, failed calls) carry none.
pub(crate) mod stage {
    /// Parsing the script, or decoding its `ast` or `extern` JSON.
    pub const COMPILE: &str = "compilation failed: ";
    /// Turning the evaluated script into a query spec (it must produce a stream).
    pub const SPEC: &str = "error in query specification while starting program: ";
    /// Planning: bounds checks, unbounded reads, duplicate `yield` names.
    pub const PLAN: &str = "error in building plan while starting program: ";
    /// Setting up the executor: buckets, result names.
    pub const EXECUTE: &str = "failed to initialize execute state: ";
}
use crate::model::Id;
use crate::storage::{Authorization, Store};

pub use budget::Limits;
pub use table::{ColType, Column, GroupKey, Table, Val};

/// The query controller's settings (`influxd` flags of the same names, `--query-timeout`
/// ours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryConfig {
    /// `--query-concurrency`: queries evaluated at once; 0 is unlimited (2.7's default 1024).
    pub concurrency: usize,
    /// `--query-queue-size`: queries waiting for a slot before new ones are refused with
    /// `queue length exceeded` (2.7's default 1024).
    pub queue_size: usize,
    /// `--query-memory-bytes`: table bytes one query may hold at once; 0 is unlimited. 2.7
    /// defaults to unlimited; the reference defaults to 1 GiB so a runaway query ends with
    /// Flux's memory error instead of exhausting the machine.
    pub memory_bytes: u64,
    /// `--query-timeout`: how long a query may run; `None` is unlimited (2.7 has no such
    /// flag).
    pub timeout: Option<std::time::Duration>,
}

impl QueryConfig {
    /// influxd's `Config.validate` (query/control/controller.go), worded as it refuses to
    /// start.
    pub fn validate(&self) -> Result<(), String> {
        let msg = if self.concurrency == 0 && self.queue_size != 0 {
            "QueueSize must be unlimited when ConcurrencyQuota is unlimited"
        } else if self.concurrency > 0 && self.queue_size == 0 {
            "QueueSize must be positive when ConcurrencyQuota is limited"
        } else {
            return Ok(());
        };
        Err(format!("invalid controller config: {msg}"))
    }
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            concurrency: 1024,
            queue_size: 1024,
            memory_bytes: 1 << 30,
            timeout: None,
        }
    }
}

/// A query failure with the platform code it maps to (`handleFluxError`). `runtime` errors
/// happen while tables are processed (they can follow results already written); the others
/// are found while the script is evaluated, before any output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxError {
    pub code: Code,
    pub message: String,
    pub runtime: bool,
    /// Already in its final wording: calls it passes through do not wrap it in
    /// `error calling function ...` (type-checker errors, which Flux reports before running).
    pub wrapped: bool,
    /// Found while compiling (parsing the script, decoding `ast` or `extern`): returned by the
    /// controller's `Query` itself, before the program starts and any encoder runs.
    pub compile: bool,
}

impl FluxError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: Code::Invalid,
            message: message.into(),
            runtime: false,
            wrapped: false,
            compile: false,
        }
    }

    /// A compile error (see [`Self::compile`]), with its `compilation failed` prefix.
    pub fn compilation(message: impl std::fmt::Display) -> Self {
        Self {
            compile: true,
            ..Self::invalid(format!("{}{message}", stage::COMPILE))
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: Code::Invalid,
            message: message.into(),
            runtime: true,
            wrapped: false,
            compile: false,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            code: Code::NotFound,
            message: message.into(),
            runtime: false,
            wrapped: true,
            compile: false,
        }
    }

    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    /// Marks the message final (not wrapped by the calls it passes through).
    pub fn wrapped(mut self) -> Self {
        self.wrapped = true;
        self
    }

    pub fn with_runtime(mut self, runtime: bool) -> Self {
        self.runtime = runtime;
        self
    }
}

/// One named result of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    pub name: String,
    pub tables: Vec<Table>,
}

/// What running a script produced: the results in the order they are written, and the error
/// that stopped it (if any) after those results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub results: Vec<QueryResult>,
    pub error: Option<FluxError>,
}

/// Everything one query needs.
pub struct Request<'a> {
    pub store: &'a Mutex<Store>,
    pub auth: &'a Authorization,
    pub org_id: Id,
    /// The request's `extern` (a Flux `File` in JSON; `Null` for none).
    pub extern_file: &'a serde_json::Value,
    /// The request's `ast` (a Flux `Package` in JSON), used when `query` is empty.
    pub ast: Option<&'a serde_json::Value>,
    pub script: &'a str,
    /// The query's `now`.
    pub now: i64,
    /// The server's clock (writes by `to()`, profiler durations).
    pub clock: &'a dyn crate::clock::Clock,
    pub storage_version: crate::engine::StorageVersion,
    pub limits: Limits,
    /// Time the query waited for a slot (`QueueDuration`).
    pub queued_nanos: i64,
}

/// Parses and runs a query.
pub fn execute(req: Request<'_>) -> Outcome {
    let started = req.clock.now_nanos();
    let failed = |e: FluxError| Outcome {
        results: Vec::new(),
        error: Some(e),
    };
    let mut files = match extern_ast::extern_file(req.extern_file) {
        Ok(f) => vec![f],
        Err(e) => {
            return failed(FluxError::compilation(format!(
                "extern json parse error: {e}"
            )))
        }
    };
    if req.script.is_empty() {
        match req.ast.map(extern_ast::package_files) {
            Some(Ok(f)) => files.extend(f),
            Some(Err(e)) => return failed(FluxError::compilation(e)),
            None => {}
        }
    } else {
        match parser::parse_file(req.script) {
            Ok(f) => files.push(f),
            Err(e) => return failed(FluxError::compilation(e.0)),
        }
    }
    let compiled = req.clock.now_nanos();
    let budget = budget::Budget::new(req.limits.clone());
    let host = interp::Host {
        store: req.store,
        auth: req.auth,
        org_id: req.org_id,
        clock: req.clock,
        storage_version: req.storage_version,
    };
    let mut it = interp::Interp::new(host, req.now, budget);
    let run = it.run(&files);
    let mut outcome = Outcome::default();
    match run.and_then(|()| it.results()) {
        Ok(results) => outcome.results = results,
        Err(e) => {
            // Evaluation errors are found before anything is written; an execution error
            // follows the results of the statements before it.
            if e.runtime {
                if let Ok(results) = it.results() {
                    outcome.results = results;
                }
            }
            outcome.error = Some(e);
        }
    }
    if !it.profilers.is_empty() {
        let stats = profiler::Stats {
            started,
            compiled,
            finished: req.clock.now_nanos(),
            queued: req.queued_nanos,
            peak: it.budget.peak(),
            total: it.budget.total(),
            scanned_bytes: it.scanned_bytes,
            scanned_values: it.scanned_values,
            error: outcome.error.as_ref().map(|e| e.message.clone()),
        };
        if let Some(result) = profiler::result(&it.profilers, &it.ops, &stats) {
            if outcome.error.is_none() {
                outcome.results.push(result);
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::clock::ManualClock;
    use crate::storage::Status;

    /// An org and token of ID 1; no permission (the scripts here read no bucket).
    fn test_auth() -> (Id, Authorization) {
        let id = Id::new(1).unwrap_or_else(|| unreachable!());
        let auth = Authorization {
            id,
            token: "t".into(),
            org_id: id,
            user_id: id,
            status: Status::Active,
            description: String::new(),
            permissions: Vec::new(),
            created_at: 0,
            updated_at: 0,
        };
        (id, auth)
    }

    /// `script`'s answer as annotated CSV, run on this thread.
    fn run_here(script: &str) -> String {
        let store = Mutex::new(Store::new(1));
        let (id, auth) = test_auth();
        let clock = ManualClock::new(1_704_067_200_000_000_000);
        let outcome = execute(Request {
            store: &store,
            auth: &auth,
            org_id: id,
            extern_file: &serde_json::Value::Null,
            ast: None,
            script,
            now: 1_704_067_200_000_000_000,
            clock: &clock,
            storage_version: crate::engine::StorageVersion::V2_7,
            limits: Limits::default(),
            queued_nanos: 0,
        });
        let csv = csv::encode_outcome(
            &outcome.results,
            outcome.error.as_ref().map(|e| e.message.as_str()),
            &csv::Dialect::default(),
        );
        String::from_utf8_lossy(&csv.unwrap_or_else(|e| e.into_bytes())).into_owned()
    }

    /// The universe is built once per thread and shared: an `option` that changes one of its
    /// names (`now`, `location`) holds for that query only.
    #[test]
    fn an_option_on_the_universe_does_not_outlive_its_query() {
        let script = "import \"array\"\narray.from(rows: [{_value: now()}])";
        let plain = run_here(script);
        assert!(plain.contains("2024-01-01T00:00:00Z"), "{plain}");
        let changed = run_here(
            "import \"array\"\noption now = () => 2020-02-02T00:00:00Z\narray.from(rows: [{_value: now()}])",
        );
        assert!(changed.contains("2020-02-02T00:00:00Z"), "{changed}");
        assert_eq!(run_here(script), plain);
    }

    /// A query that would list 1ns windows over decades: each list chunk looks at the cancel
    /// flag, so setting it (what the HTTP handler does when the client goes away) ends the
    /// query with `context canceled`.
    #[test]
    fn a_cancelled_query_stops() {
        let store = Mutex::new(Store::new(1));
        let (id, auth) = test_auth();
        let clock = ManualClock::new(1_704_067_200_000_000_000);
        let limits = Limits {
            memory_bytes: None,
            ..Limits::default()
        };
        let cancel = limits.cancel.clone();
        let script = "import \"array\"\narray.from(rows: [{_time: 2024-01-01T00:00:00Z, _value: 1.0}]) |> range(start: 0) |> aggregateWindow(every: 1ns, fn: mean)";
        let extern_file = serde_json::Value::Null;
        let outcome = std::thread::scope(|scope| {
            let run = scope.spawn(|| {
                execute(Request {
                    store: &store,
                    auth: &auth,
                    org_id: id,
                    extern_file: &extern_file,
                    ast: None,
                    script,
                    now: 1_704_067_200_000_000_000,
                    clock: &clock,
                    storage_version: crate::engine::StorageVersion::V2_7,
                    limits,
                    queued_nanos: 0,
                })
                // The tables share their strings within the query's thread; the error is
                // what this test looks at.
                .error
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            cancel.store(true, Ordering::Relaxed);
            run.join().unwrap_or_default()
        });
        assert_eq!(
            outcome.map(|e| e.message),
            Some("context canceled".to_string())
        );
    }
}
