//! Why a line failed to parse, with the exact text InfluxDB OSS 2.7.12 prints (spec §3.3).

use std::fmt;

use crate::model::text::go_lossy;

/// A reserved tag key (`models.reservedTagKeys`), rendered as Go's `%q` renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservedTagKey {
    /// `time`
    Time,
    /// `_field`
    Field,
    /// `_measurement`
    Measurement,
    /// The raw byte `\x00` (`models.MeasurementTagKey`).
    Nul,
    /// The raw byte `\xff` (`models.FieldKeyTagKey`).
    Xff,
}

impl ReservedTagKey {
    /// Matches the *raw* (still escaped) tag key bytes, as `scanKey` compares them.
    pub fn from_raw(key: &[u8]) -> Option<Self> {
        match key {
            b"time" => Some(Self::Time),
            b"_field" => Some(Self::Field),
            b"_measurement" => Some(Self::Measurement),
            b"\x00" => Some(Self::Nul),
            b"\xff" => Some(Self::Xff),
            _ => None,
        }
    }

    /// The key bytes.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Self::Time => b"time",
            Self::Field => b"_field",
            Self::Measurement => b"_measurement",
            Self::Nul => b"\x00",
            Self::Xff => b"\xff",
        }
    }

    /// Go's `fmt.Sprintf("%q", key)`: `"time"`, `"\x00"`, `"\xff"`.
    pub fn go_quoted(self) -> &'static str {
        match self {
            Self::Time => "\"time\"",
            Self::Field => "\"_field\"",
            Self::Measurement => "\"_measurement\"",
            Self::Nul => "\"\\x00\"",
            Self::Xff => "\"\\xff\"",
        }
    }
}

/// The reason a line was rejected. `Display` gives InfluxDB's exact text.
///
/// One variant per row of spec §3.3, plus two the spec does not list (see each variant):
/// [`Reason::InvalidFieldKey`] (a real parser message of `models/points.go`, `walkFields`) and
/// [`Reason::UndecodableFieldValue`] (a line the Go parser accepts but whose value its storage
/// engine cannot decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `missing measurement`
    MissingMeasurement,
    /// `missing fields`
    MissingFields,
    /// `missing tag key`
    MissingTagKey,
    /// `missing tag value`
    MissingTagValue,
    /// `invalid tag format`
    InvalidTagFormat,
    /// `duplicate tags`
    DuplicateTags,
    /// `cannot use reserved tag key "<key>"`
    ReservedTagKey(ReservedTagKey),
    /// `max key length exceeded: <n> > 65535`
    MaxKeyLength(usize),
    /// `missing field key`
    MissingFieldKey,
    /// `missing field value`
    MissingFieldValue,
    /// `invalid field format`
    InvalidFieldFormat,
    /// `unbalanced quotes`
    UnbalancedQuotes,
    /// `invalid number`
    InvalidNumber,
    /// `invalid float`
    InvalidFloat,
    /// `unable to parse integer <digits>: strconv.ParseInt: parsing "<digits>": value out of range`
    IntegerOutOfRange(String),
    /// `unable to parse unsigned <digits>: strconv.ParseUint: parsing "<digits>": value out of range`
    UnsignedOutOfRange(String),
    /// `invalid boolean`
    InvalidBoolean,
    /// `bad timestamp`
    BadTimestamp,
    /// `strconv.ParseInt: parsing "<ts>": value out of range` (timestamp beyond int64)
    TimestampOutOfRange(String),
    /// `strconv.ParseInt: parsing "<ts>": invalid syntax` (only `-` reaches it)
    TimestampSyntax(String),
    /// `time outside range -9223372036854775806 - 9223372036854775806`
    TimeOutsideRange,
    /// `point is invalid`
    PointIsInvalid,
    /// `invalid value: field-key=<raw key>`: not in spec §3.3. `walkFields` (models/points.go,
    /// the `if i > len(buf)-2` check) re-scans the fields with `scanTo(buf, 0, '=')`, whose
    /// "previous byte is a backslash" rule differs from `scanFields`' pairing of `\x` escapes;
    /// a field key ending in a backslash (`m v\\=1`) therefore has no `=` for it and the line
    /// fails with this text. The key is the raw remainder of the fields block.
    InvalidFieldKey(Vec<u8>),
    /// Not an InfluxDB parser message: the Go parser accepts the line, but the value that its
    /// field iterator (`fieldIterator.Next` / `*Value`) cuts out of the fields block cannot be
    /// decoded as the type the iterator infers (only reachable when `walkFields` and
    /// `scanFields` disagree, e.g. `m a\\="p=q"`). OSS then fails in the storage engine
    /// (HTTP 500); this model rejects the line with Go's strconv error text instead.
    UndecodableFieldValue(Vec<u8>),
}

/// `models.MinNanoTime`
pub const MIN_NANO_TIME: i64 = i64::MIN + 2;
/// `models.MaxNanoTime`
pub const MAX_NANO_TIME: i64 = i64::MAX - 1;
/// `models.MaxKeyLength`
pub const MAX_KEY_LENGTH: usize = 65535;

impl Reason {
    /// The reason as Go's string holds it: the bytes of a key as they came, where
    /// [`fmt::Display`] renders invalid UTF-8 as U+FFFD.
    pub fn push_go_bytes(&self, out: &mut Vec<u8>) {
        match self {
            Self::InvalidFieldKey(key) => {
                out.extend_from_slice(b"invalid value: field-key=");
                out.extend_from_slice(key);
            }
            Self::UndecodableFieldValue(msg) => out.extend_from_slice(msg),
            other => {
                use std::io::Write as _;
                let _ = write!(out, "{other}");
            }
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingMeasurement => f.write_str("missing measurement"),
            Self::MissingFields => f.write_str("missing fields"),
            Self::MissingTagKey => f.write_str("missing tag key"),
            Self::MissingTagValue => f.write_str("missing tag value"),
            Self::InvalidTagFormat => f.write_str("invalid tag format"),
            Self::DuplicateTags => f.write_str("duplicate tags"),
            Self::ReservedTagKey(k) => write!(f, "cannot use reserved tag key {}", k.go_quoted()),
            Self::MaxKeyLength(n) => write!(f, "max key length exceeded: {n} > {MAX_KEY_LENGTH}"),
            Self::MissingFieldKey => f.write_str("missing field key"),
            Self::MissingFieldValue => f.write_str("missing field value"),
            Self::InvalidFieldFormat => f.write_str("invalid field format"),
            Self::UnbalancedQuotes => f.write_str("unbalanced quotes"),
            Self::InvalidNumber => f.write_str("invalid number"),
            Self::InvalidFloat => f.write_str("invalid float"),
            Self::IntegerOutOfRange(d) => write!(
                f,
                "unable to parse integer {d}: strconv.ParseInt: parsing \"{d}\": value out of range"
            ),
            Self::UnsignedOutOfRange(d) => write!(
                f,
                "unable to parse unsigned {d}: strconv.ParseUint: parsing \"{d}\": value out of range"
            ),
            Self::InvalidBoolean => f.write_str("invalid boolean"),
            Self::BadTimestamp => f.write_str("bad timestamp"),
            Self::TimestampOutOfRange(ts) => {
                write!(f, "strconv.ParseInt: parsing \"{ts}\": value out of range")
            }
            Self::TimestampSyntax(ts) => {
                write!(f, "strconv.ParseInt: parsing \"{ts}\": invalid syntax")
            }
            Self::TimeOutsideRange => write!(
                f,
                "time outside range {MIN_NANO_TIME} - {MAX_NANO_TIME}"
            ),
            Self::PointIsInvalid => f.write_str("point is invalid"),
            Self::InvalidFieldKey(key) => {
                write!(f, "invalid value: field-key={}", go_lossy(key))
            }
            Self::UndecodableFieldValue(msg) => f.write_str(&go_lossy(msg)),
        }
    }
}

impl std::error::Error for Reason {}

pub(crate) use crate::model::go_text::quote as go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_keys_render_like_go_q() {
        assert_eq!(
            Reason::ReservedTagKey(ReservedTagKey::Nul).to_string(),
            r#"cannot use reserved tag key "\x00""#
        );
        assert_eq!(
            Reason::ReservedTagKey(ReservedTagKey::Xff).to_string(),
            r#"cannot use reserved tag key "\xff""#
        );
        assert_eq!(
            Reason::ReservedTagKey(ReservedTagKey::Time).to_string(),
            r#"cannot use reserved tag key "time""#
        );
    }
}
