/// Timestamp precision of a write request.
///
/// `/api/v2/write` accepts exactly `ns`, `us`, `ms` and `s` (`models.ValidPrecision`); the v1
/// `/write` endpoint does not validate and treats anything unknown as nanoseconds for explicit
/// timestamps (see [`Precision::from_v1_param`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    #[default]
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
}

impl Precision {
    /// Parses the `precision` query parameter of `/api/v2/write`. An empty value is the default
    /// (`ns`); anything outside `ns|us|ms|s` is `None` (the caller answers 400).
    pub fn from_v2_param(value: &str) -> Option<Self> {
        match value {
            "" | "ns" => Some(Self::Nanosecond),
            "us" => Some(Self::Microsecond),
            "ms" => Some(Self::Millisecond),
            "s" => Some(Self::Second),
            _ => None,
        }
    }

    /// The factor an explicit timestamp is multiplied by (`models.GetPrecisionMultiplier`).
    pub fn multiplier(self) -> i64 {
        match self {
            Self::Nanosecond => 1,
            Self::Microsecond => 1_000,
            Self::Millisecond => 1_000_000,
            Self::Second => 1_000_000_000,
        }
    }

    /// The query-parameter spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nanosecond => "ns",
            Self::Microsecond => "us",
            Self::Millisecond => "ms",
            Self::Second => "s",
        }
    }
}

/// Truncates `nanos` toward negative infinity to a multiple of `unit` like Go's
/// `time.Time.Truncate` does for times after the zero time (all times this model meets).
pub fn truncate_nanos(nanos: i64, unit: i64) -> i64 {
    if unit <= 1 {
        return nanos;
    }
    nanos - nanos.rem_euclid(unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_param_accepts_only_the_four_units() {
        assert_eq!(Precision::from_v2_param(""), Some(Precision::Nanosecond));
        assert_eq!(Precision::from_v2_param("s"), Some(Precision::Second));
        for bad in ["n", "u", "m", "h", "NS", "sec", " s"] {
            assert_eq!(Precision::from_v2_param(bad), None, "{bad}");
        }
    }

    #[test]
    fn truncation_floors() {
        assert_eq!(truncate_nanos(1_234_567_891, 1_000_000_000), 1_000_000_000);
        assert_eq!(truncate_nanos(1_234_567_891, 1_000_000), 1_234_000_000);
        assert_eq!(truncate_nanos(-1, 1_000), -1_000);
    }
}
