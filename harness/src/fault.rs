//! A target fault: the server did not give an answer the harness can judge (refused, reset,
//! timed out, unparsable, ...). Faults become the verdict `error` with the reason in words;
//! a known deviation may name the kind of fault it expects. A leaf.

/// A target fault: the server did not give an answer the harness can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// What happened and what to do, in words.
    pub reason: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Refused,
    /// The server answered, but not in valid HTTP/1.1 (a malformed header, say).
    InvalidResponse,
    Timeout,
    Reset,
    Unparsable,
    TooLarge,
    Redirect,
    Unavailable,
    Unsupported,
    Setup,
    NotSettled,
}

impl FaultKind {
    /// The kind as target files and reports spell it (`invalid_response`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::InvalidResponse => "invalid_response",
            Self::Timeout => "timeout",
            Self::Reset => "reset",
            Self::Unparsable => "unparsable",
            Self::TooLarge => "too_large",
            Self::Redirect => "redirect",
            Self::Unavailable => "unavailable",
            Self::Unsupported => "unsupported",
            Self::Setup => "setup",
            Self::NotSettled => "not_settled",
        }
    }
}

impl Fault {
    pub fn new(kind: FaultKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        use FaultKind::*;
        for k in [
            Refused,
            InvalidResponse,
            Timeout,
            Reset,
            Unparsable,
            TooLarge,
            Redirect,
            Unavailable,
            Unsupported,
            Setup,
            NotSettled,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
