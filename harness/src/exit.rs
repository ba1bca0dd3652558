//! The process's exit codes, in one place.

use crate::run::CaseResult;

/// How a command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Everything selected passed (or failed as a known deviation says).
    Pass = 0,
    /// A case failed, passed against a known deviation (`xpass`), or the target faulted; for
    /// `fuzz`, a difference from the reference; for `bless`, something left to edit by hand.
    Failures = 1,
    /// A configuration or harness error (bad flags, a case file that does not load, a target
    /// that fails the preflight): nothing was judged.
    Config = 2,
    /// Nothing matched the selection.
    NothingSelected = 4,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The exit code of a run.
    pub fn of_results(results: &[CaseResult]) -> Self {
        if results.is_empty() {
            Self::NothingSelected
        } else if results.iter().any(|r| r.verdict.is_failure()) {
            Self::Failures
        } else {
            Self::Pass
        }
    }
}
