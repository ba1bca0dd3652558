//! The query parameters of the three write endpoints and the name rules they apply (spec
//! `v3.md` §3.1, §3.4, §4, §5): `influxdb3_types/src/http.rs` `WriteParams`,
//! `core/iox_http/src/write/{v1.rs,v2.rs,params.rs,single_tenant/mod.rs}`,
//! `core/data_types/src/namespace_name.rs` and `influxdb3_server/src/http.rs`
//! `validate_db_name`.
//!
//! Parameters are read with `serde_urlencoded` 0.7.1 and serde's derive, as InfluxDB reads
//! them, so their error texts (`missing field`, `duplicate field`, `unknown variant ...,
//! expected one of ...`) are the libraries' own.

use serde::Deserialize;
use unicode_segmentation::UnicodeSegmentation;

use super::write::Precision;

/// `/api/v3/write_lp`'s parameters.
#[derive(Debug, Deserialize)]
pub struct WriteParams {
    pub db: String,
    pub precision: Option<Precision>,
    pub accept_partial: Option<bool>,
    pub no_sync: Option<bool>,
}

/// The v1 and v2 endpoints' precision: no `auto`, default nanoseconds
/// (`iox_http::write::Precision`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegacyPrecision {
    #[serde(alias = "s")]
    Second,
    #[serde(alias = "ms")]
    Millisecond,
    #[serde(alias = "us", alias = "u")]
    Microsecond,
    #[serde(alias = "ns", alias = "n")]
    #[default]
    Nanosecond,
}

impl From<LegacyPrecision> for Precision {
    fn from(p: LegacyPrecision) -> Self {
        match p {
            LegacyPrecision::Second => Self::Second,
            LegacyPrecision::Millisecond => Self::Millisecond,
            LegacyPrecision::Microsecond => Self::Microsecond,
            LegacyPrecision::Nanosecond => Self::Nanosecond,
        }
    }
}

/// `rp` of `/write`: lower-cased; empty, `''`, `autogen` and `default` name no policy.
#[derive(Debug, Default, PartialEq, Eq)]
pub enum RetentionPolicy {
    #[default]
    Unspecified,
    Autogen,
    Named(String),
}

impl<'de> Deserialize<'de> for RetentionPolicy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?.to_lowercase();
        Ok(match s.as_str() {
            "" | "''" => Self::Unspecified,
            "autogen" | "default" => Self::Autogen,
            _ => Self::Named(s),
        })
    }
}

/// `/write`'s parameters (`WriteParamsV1`); `p` is a field, so a repeated `p` is an error.
#[derive(Debug, Deserialize)]
pub struct WriteParamsV1 {
    pub db: String,
    #[serde(default)]
    pub precision: LegacyPrecision,
    #[serde(default)]
    pub rp: RetentionPolicy,
    #[serde(rename = "p")]
    pub _password: Option<String>,
}

/// `/api/v2/write`'s parameters (`WriteParamsV2`): `org` is read and discarded.
#[derive(Debug, Deserialize)]
pub struct WriteParamsV2 {
    #[serde(default, rename = "org")]
    pub _org: String,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub precision: LegacyPrecision,
}

/// The `p` parameter of `/query` and `/write` (`V1AuthParameters`).
#[derive(Debug, Deserialize)]
pub struct V1AuthParameters {
    pub p: Option<String>,
}

/// What the v1 and v2 endpoints hand to the shared pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyWrite {
    pub db: String,
    pub precision: Precision,
}

/// `SingleTenantExtractError` and what wraps it: the v1 and v2 parameter errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyParamError {
    #[error("no db destination provided")]
    NoDbParams,
    #[error("failed to deserialize db/rp/precision in request: {0}")]
    V1Decode(String),
    #[error("no org/bucket destination provided")]
    NoOrgBucketParams,
    #[error("failed to deserialize org/bucket/precision in request: {0}")]
    V2Decode(String),
    #[error("missing bucket value")]
    NoBucket,
    #[error(transparent)]
    Namespace(#[from] NamespaceNameError),
}

/// `parse_v1`: parameters, then the namespace name `db` or `db/rp`.
pub fn parse_v1(query: Option<&str>) -> Result<LegacyWrite, LegacyParamError> {
    let query = query.ok_or(LegacyParamError::NoDbParams)?;
    let p: WriteParamsV1 =
        serde_urlencoded::from_str(query).map_err(|e| LegacyParamError::V1Decode(e.to_string()))?;
    let db = match p.rp {
        RetentionPolicy::Unspecified | RetentionPolicy::Autogen => p.db,
        RetentionPolicy::Named(rp) => format!("{}/{rp}", p.db),
    };
    namespace_name(&db)?;
    Ok(LegacyWrite {
        db,
        precision: p.precision.into(),
    })
}

/// `parse_v2`: parameters, a non-empty bucket used verbatim, the namespace name rules.
pub fn parse_v2(query: Option<&str>) -> Result<LegacyWrite, LegacyParamError> {
    let query = query.ok_or(LegacyParamError::NoOrgBucketParams)?;
    let p: WriteParamsV2 =
        serde_urlencoded::from_str(query).map_err(|e| LegacyParamError::V2Decode(e.to_string()))?;
    if p.bucket.is_empty() {
        return Err(LegacyParamError::NoBucket);
    }
    namespace_name(&p.bucket)?;
    Ok(LegacyWrite {
        db: p.bucket,
        precision: p.precision.into(),
    })
}

/// `NamespaceNameError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceNameError {
    #[error("namespace name {0} length must be between 1 and 64 characters")]
    Length(String),
    #[error("namespace name '{name}' contains invalid character, character number {offset} is not allowed")]
    BadChars { name: String, offset: usize },
}

/// `NamespaceName::new`: 1 to 64 bytes of Unicode alphanumerics, `/`, `_` and `-`.
pub fn namespace_name(name: &str) -> Result<(), NamespaceNameError> {
    if name.is_empty() || name.len() > 64 {
        return Err(NamespaceNameError::Length(name.to_string()));
    }
    if let Some(offset) = name
        .chars()
        .position(|c| !(c.is_alphanumeric() || matches!(c, '/' | '_' | '-')))
    {
        return Err(NamespaceNameError::BadChars {
            name: name.to_string(),
            offset,
        });
    }
    Ok(())
}

/// `ValidateDbNameError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DbNameError {
    #[error("invalid character in database or rp name: must be ASCII, containing only letters, numbers, underscores, or hyphens")]
    InvalidChar,
    #[error("db name did not start with a number or letter")]
    InvalidStartChar,
    #[error("db name with invalid retention policy, if providing a retention policy name, must be of form '<db_name>/<rp_name>'")]
    InvalidRetentionPolicy,
    #[error("db name cannot be empty")]
    Empty,
    #[error("db name too long: max 511")]
    NameTooLong,
}

/// `validate_db_name`, grapheme by grapheme: ASCII letters, digits, `_`, `-` and one `/`, a
/// letter or digit first, no `/` last, at most 511 bytes.
pub fn validate_db_name(name: &str) -> Result<(), DbNameError> {
    if name.is_empty() {
        return Err(DbNameError::Empty);
    }
    if name.len() > 511 {
        return Err(DbNameError::NameTooLong);
    }
    let mut first = true;
    let mut separator_seen = false;
    let mut last = None;
    for grapheme in name.graphemes(true) {
        let &[b] = grapheme.as_bytes() else {
            return Err(DbNameError::InvalidChar);
        };
        let c = char::from(b);
        if first {
            if !c.is_ascii_alphanumeric() {
                return Err(DbNameError::InvalidStartChar);
            }
            first = false;
        } else if c == '/' {
            if separator_seen {
                return Err(DbNameError::InvalidRetentionPolicy);
            }
            separator_seen = true;
        } else if !(c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(DbNameError::InvalidChar);
        }
        last = Some(c);
    }
    if last == Some('/') {
        return Err(DbNameError::InvalidRetentionPolicy);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(q: &str) -> String {
        match serde_urlencoded::from_str::<WriteParams>(q) {
            Ok(p) => format!("{p:?}"),
            Err(e) => format!("serde error: {e}"),
        }
    }

    #[test]
    fn serde_messages() {
        assert_eq!(v3("precision=s"), "serde error: missing field `db`");
        assert_eq!(v3("db=a&db=b"), "serde error: duplicate field `db`");
        assert_eq!(
            v3("db=a&precision=h"),
            "serde error: unknown variant `h`, expected one of `auto`, `s`, `second`, `millisecond`, `ms`, `microsecond`, `u`, `us`, `n`, `nanosecond`, `ns`"
        );
        assert_eq!(
            v3("db=a&accept_partial=1"),
            "serde error: provided string was not `true` or `false`"
        );
        assert_eq!(
            parse_v1(Some("db=a&precision=h")).unwrap_err().to_string(),
            "failed to deserialize db/rp/precision in request: unknown variant `h`, expected one of `s`, `second`, `millisecond`, `ms`, `microsecond`, `u`, `us`, `n`, `nanosecond`, `ns`"
        );
    }

    #[test]
    fn legacy_parameters() {
        assert_eq!(
            parse_v1(Some("db=mydb&rp=MyRP&precision=u")),
            Ok(LegacyWrite {
                db: "mydb/myrp".into(),
                precision: Precision::Microsecond
            })
        );
        assert_eq!(parse_v1(Some("db=mydb&rp=autogen")).unwrap().db, "mydb");
        assert_eq!(
            parse_v1(Some("db=telegraf.autogen")).unwrap_err().to_string(),
            "namespace name 'telegraf.autogen' contains invalid character, character number 8 is not allowed"
        );
        assert_eq!(
            parse_v1(Some("db=")).unwrap_err().to_string(),
            "namespace name  length must be between 1 and 64 characters"
        );
        assert_eq!(
            parse_v2(Some("org=x")).unwrap_err().to_string(),
            "missing bucket value"
        );
        assert_eq!(
            parse_v2(None).unwrap_err().to_string(),
            "no org/bucket destination provided"
        );
        assert_eq!(parse_v2(Some("bucket=a/b")).unwrap().db, "a/b");
    }

    #[test]
    fn db_names() {
        for (name, want) in [
            ("", Err(DbNameError::Empty)),
            ("a/b", Ok(())),
            ("_internal", Err(DbNameError::InvalidStartChar)),
            ("a/b/c", Err(DbNameError::InvalidRetentionPolicy)),
            ("a/", Err(DbNameError::InvalidRetentionPolicy)),
            ("a.b", Err(DbNameError::InvalidChar)),
            ("é", Err(DbNameError::InvalidChar)),
            ("/\u{301}", Err(DbNameError::InvalidChar)),
            ("a\r\n", Err(DbNameError::InvalidChar)),
            ("a b", Err(DbNameError::InvalidChar)),
        ] {
            assert_eq!(validate_db_name(name), want, "{name:?}");
        }
        assert_eq!(
            validate_db_name(&"a".repeat(512)),
            Err(DbNameError::NameTooLong)
        );
    }
}
