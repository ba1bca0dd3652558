//! What differs between the oracle's and the target's observation of a step: the kinds a
//! fuzz run reports, and the comparison itself. The lowest layer of the generator: the runner
//! produces differences, the regression writer and the summary read them.

use crate::observe::StepObservation;

/// What differed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    Status,
    /// The JSON error's `code` or `message`.
    Message,
    /// A body that is not a JSON error (or JSON on one side only).
    Body,
    Landed,
    RejectedPoints,
    /// The target faulted (timeout, reset, unparsable read-back) where the oracle answered.
    TargetFault,
}

impl DiffKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Message => "message",
            Self::Body => "body",
            Self::Landed => "landed",
            Self::RejectedPoints => "rejected_points",
            Self::TargetFault => "target_fault",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// 1-based step of the case.
    pub step: usize,
    pub kind: DiffKind,
    /// The reference's (oracle's) side.
    pub expected: String,
    pub actual: String,
}

fn message_of(o: &StepObservation) -> Option<(String, String)> {
    let j = o.json.as_ref()?.as_object()?;
    let text = |k: &str| match j.get(k) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    };
    j.contains_key("message")
        .then(|| (text("code"), text("message")))
}

/// Differences between the oracle's and the target's observation of one step.
pub fn compare_step(
    step: usize,
    oracle: &StepObservation,
    target: &StepObservation,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut push = |kind, expected: String, actual: String| {
        out.push(Difference {
            step,
            kind,
            expected,
            actual,
        })
    };
    if oracle.status != target.status {
        push(
            DiffKind::Status,
            format!("{:?}", oracle.status),
            format!("{:?}", target.status),
        );
    }
    match (message_of(oracle), message_of(target)) {
        (Some(o), Some(t)) => {
            if o != t {
                push(
                    DiffKind::Message,
                    format!("{}: {}", o.0, o.1),
                    format!("{}: {}", t.0, t.1),
                );
            }
        }
        _ => {
            if oracle.body != target.body {
                push(
                    DiffKind::Body,
                    oracle.body.clone().unwrap_or_default(),
                    target.body.clone().unwrap_or_default(),
                );
            }
        }
    }
    // A target without read-back (None) is not judged on what landed.
    // Rows are a set (as `landed` expectations are order-insensitive): a time redacted to
    // `<now>` may sort differently on each side.
    if let (Some(o), Some(t)) = (&oracle.landed, &target.landed) {
        let sorted = |rows: &[String]| {
            let mut rows = rows.to_vec();
            rows.sort();
            rows
        };
        let (o, t) = (sorted(o), sorted(t));
        if o != t {
            push(DiffKind::Landed, o.join("\n"), t.join("\n"));
        }
    }
    if let (Some(o), Some(t)) = (&oracle.rejected_points, &target.rejected_points) {
        if o != t {
            push(DiffKind::RejectedPoints, o.join("\n"), t.join("\n"));
        }
    }
    out
}
