//! Reports of a run, all rendered from one model (`model.rs`, what the JSON report holds):
//! the terminal (`terminal.rs`), JSON, JUnit (`junit.rs`), Markdown (`markdown.rs`) and a
//! self-contained HTML page (`html.rs`), for one run or several side by side. Failures are
//! grouped by cause (`causes.rs`). Tokens never appear: observations are redacted and curl
//! lines use `$INFLUX_TOKEN`.

pub mod causes;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod terminal;

pub use model::{build, json, load, Meta, ResultRecord, RunReport, JSON_SCHEMA_VERSION};

use crate::run::CaseResult;

/// Details of one result that did not pass, for the terminal and test failure messages.
pub fn failure_text(r: &CaseResult, root: &std::path::Path) -> String {
    terminal::failure_text(&ResultRecord::of(r), root)
}
