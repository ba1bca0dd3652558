//! Case → verdict, in one place: what an execution produced (an observation, or a fault, or a
//! reason to skip), judged against the case's expectations, its snapshot and the target's known
//! deviations.
//!
//! Order of decision (documented in `cases/README.md`):
//! 1. a target fault is `error`, a case the target cannot run is `skipped`;
//! 2. the typed `expect` matchers decide pass or fail; when they fail, an `also_accept`
//!    alternative that matches gives its declared verdict;
//! 3. when the matchers pass, the redacted observation is compared with the profile's snapshot:
//!    equal is `pass`; different is `fail` on the reference (a regression of the source of truth)
//!    and `pass_non_strict` elsewhere;
//! 4. on other targets, a `may` or `info` case that fails is `info`;
//! 5. a known deviation of the target turns `fail` into `xfail` and a pass into `xpass`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::case::{AltVerdict, Level, LoadedCase, Profile};
use crate::compare::{self, Mismatch};
use crate::deviation::Deviation;
use crate::execute::{Exec, Executed};
use crate::fault::FaultKind;
use crate::observe::Observation;
use crate::server::TargetInfo;
use crate::snapshot::{self, SnapshotCheck, SnapshotMode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    PassNonStrict,
    Info,
    Skipped,
    Xfail,
    Xpass,
    Fail,
    Error,
}

impl Verdict {
    pub const ALL: [Verdict; 8] = [
        Verdict::Pass,
        Verdict::PassNonStrict,
        Verdict::Fail,
        Verdict::Info,
        Verdict::Skipped,
        Verdict::Xfail,
        Verdict::Xpass,
        Verdict::Error,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::PassNonStrict => "pass_non_strict",
            Self::Fail => "fail",
            Self::Info => "info",
            Self::Skipped => "skipped",
            Self::Xfail => "xfail",
            Self::Xpass => "xpass",
            Self::Error => "error",
        }
    }
    /// Whether the run fails because of it (exit code 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Fail | Self::Xpass | Self::Error)
    }
    pub fn is_pass(self) -> bool {
        matches!(self, Self::Pass | Self::PassNonStrict)
    }
}

/// Level softening for targets other than the reference.
pub fn soften(verdict: Verdict, level: Level, is_reference: bool) -> Verdict {
    if !is_reference && verdict == Verdict::Fail && matches!(level, Level::May | Level::Info) {
        Verdict::Info
    } else {
        verdict
    }
}

/// A verdict and everything it rests on.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub verdict: Verdict,
    /// The verdict before the target's known deviations were applied.
    pub raw_verdict: Verdict,
    /// One sentence: why this verdict.
    pub reason: String,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    pub fault: Option<FaultKind>,
    pub deviation: Option<Deviation>,
    /// The `curl` line of the step to look at first.
    pub reproduce: Option<String>,
    pub observation: Option<Observation>,
}

/// Where the case's snapshots are, and what to do with them.
#[derive(Debug, Clone, Copy)]
pub struct Snapshots<'a> {
    pub dir: &'a Path,
    pub mode: SnapshotMode,
}

/// Assembles the verdict of one case on one target in one profile, in the documented order.
pub fn assess(
    case: &LoadedCase,
    profile: Profile,
    target: &TargetInfo,
    executed: Result<Executed, Exec>,
    snapshots: Option<Snapshots<'_>>,
) -> Assessment {
    let mut a = Assessment {
        verdict: Verdict::Error,
        raw_verdict: Verdict::Error,
        reason: String::new(),
        mismatches: Vec::new(),
        notes: Vec::new(),
        fault: None,
        deviation: None,
        reproduce: None,
        observation: None,
    };
    match executed {
        // 1. Faults and skips.
        Err(Exec::Skip(reason)) => {
            a.verdict = Verdict::Skipped;
            a.raw_verdict = Verdict::Skipped;
            a.reason = reason;
        }
        Err(Exec::Fault(f, repro)) => {
            a.fault = Some(f.kind);
            a.reason = format!("target fault ({}): {}", f.kind.as_str(), f.reason);
            a.reproduce = repro;
        }
        Ok((obs, repros)) => {
            // 2. Expectations and alternatives.
            let j = compare::judge(case, &obs);
            let mut verdict = if !j.holds {
                Verdict::Fail
            } else {
                match j.accepted {
                    None => Verdict::Pass,
                    Some(AltVerdict::PassNonStrict) => Verdict::PassNonStrict,
                    Some(AltVerdict::Info) => Verdict::Info,
                }
            };
            a.mismatches = j.mismatches;
            a.notes = j.notes;
            a.reason = match verdict {
                Verdict::Fail => {
                    let m = &a.mismatches[0];
                    format!(
                        "step {}: {} differs (expected {}, got {})",
                        m.step,
                        m.what,
                        one_line(&m.expected),
                        one_line(&m.actual)
                    )
                }
                _ => "the expectations hold".into(),
            };
            // 3. The snapshot, when the expectations pass.
            if verdict == Verdict::Pass {
                if let Some(s) = snapshots {
                    let check =
                        snapshot::check(case, profile, &obs, s.dir, target.is_reference, s.mode);
                    verdict = snapshot_verdict(check, target.is_reference, &mut a);
                }
            }
            // 4. Levels.
            verdict = soften(verdict, case.level, target.is_reference);
            if verdict == Verdict::Info && a.reason.is_empty() {
                a.reason = "an informational case".into();
            }
            a.reproduce = j
                .step
                .or(if verdict == Verdict::Fail {
                    Some(1)
                } else {
                    None
                })
                .and_then(|s| repros.get(s - 1).cloned().flatten());
            a.raw_verdict = verdict;
            a.verdict = verdict;
            a.observation = Some(obs);
        }
    }
    // 5. Known deviations.
    if let Some(d) = target.deviations.iter().find(|d| d.matches(&case.name())) {
        let v = match a.verdict {
            Verdict::Fail => Some(Verdict::Xfail),
            Verdict::Pass | Verdict::PassNonStrict => Some(Verdict::Xpass),
            Verdict::Error if d.fault.is_some() && d.fault == a.fault => Some(Verdict::Xfail),
            _ => None,
        };
        if let Some(v) = v {
            a.verdict = v;
            a.deviation = Some(d.clone());
            a.notes
                .push(format!("known deviation ({:?}): {}", d.kind, d.note));
            if v == Verdict::Xpass {
                a.reason = format!(
                    "the case passes although the target lists it as a known deviation ({}); remove the deviation",
                    d.note
                );
            }
        }
    }
    a
}

/// What the snapshot comparison means: equal passes; a difference fails on the reference (a
/// regression of the source of truth, or a snapshot not recorded yet) and is a non-strict pass
/// elsewhere (no snapshot elsewhere: a pass).
fn snapshot_verdict(check: SnapshotCheck, is_reference: bool, a: &mut Assessment) -> Verdict {
    match check {
        SnapshotCheck::Holds { blessed: None } => Verdict::Pass,
        SnapshotCheck::Holds {
            blessed: Some(path),
        } => {
            a.notes.push(format!("blessed {}", path.display()));
            Verdict::Pass
        }
        SnapshotCheck::CannotWrite { path, error } => {
            a.notes
                .push(format!("cannot write {}: {error}", path.display()));
            Verdict::Fail
        }
        SnapshotCheck::Differs {
            path,
            missing,
            mismatch,
        } => {
            if is_reference {
                a.reason = if missing {
                    format!(
                        "no snapshot at {}; run `influx-conformance bless` to record it",
                        path.display()
                    )
                } else {
                    format!(
                        "the reference's observation differs from {} (a regression, or run `influx-conformance bless` if intended)",
                        path.display()
                    )
                };
                a.mismatches.push(mismatch);
                Verdict::Fail
            } else if missing {
                Verdict::Pass
            } else {
                a.notes.push(format!(
                    "expectations hold; the observation differs from the reference's snapshot:\n{}",
                    mismatch.diff()
                ));
                a.reason = "the expectations hold, not byte for byte like the reference".into();
                Verdict::PassNonStrict
            }
        }
    }
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', "\\n");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}
