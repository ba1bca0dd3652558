//! The tenancy rules of InfluxDB 2.7 (`tenant/`, `authorization/`, `authorizer/`) as pure
//! functions of (store, caller, request): setup, orgs, buckets, authorizations and users'
//! passwords. The HTTP layer decodes bodies and query strings into the plain values these
//! take and encodes what they return; every check runs here, in the order 2.7 runs it, with
//! 2.7's texts (see `authorizer` for the permission each operation asks for).

pub mod authorizations;
pub mod buckets;
pub mod dbrps;
pub mod orgs;
pub mod setup;
pub mod users;

use crate::api_error::{ApiError, Code};

/// `influxdb.FindOptions` as `DecodeFindOptions` reads them (`paging.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindOptions {
    pub limit: usize,
    /// Go's `strconv.Atoi` accepts a negative offset; the kv listings skip nothing then.
    pub offset: i64,
    pub descending: bool,
    pub after: Option<crate::model::Id>,
}

/// `influxdb.DefaultPageSize` and `MaxPageSize`.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

impl Default for FindOptions {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            offset: 0,
            descending: false,
            after: None,
        }
    }
}

impl FindOptions {
    /// `DecodeFindOptions` over a query string's `offset`, `after`, `limit`, `descending`
    /// (each `None` when absent or empty).
    pub fn decode(
        offset: Option<&str>,
        after: Option<&str>,
        limit: Option<&str>,
        descending: Option<&str>,
    ) -> Result<Self, ApiError> {
        let mut o = Self::default();
        if let Some(raw) = offset {
            o.offset = go_atoi(raw).ok_or_else(|| invalid("offset is invalid"))?;
        }
        if let Some(raw) = after {
            let id = crate::model::Id::parse(raw)
                .map_err(|e| invalid(format!("decoding after: {e}")))?;
            o.after = Some(id);
        }
        if let Some(raw) = limit {
            let l = go_atoi(raw).ok_or_else(|| invalid("limit is invalid"))?;
            if l < 1 || l > MAX_PAGE_SIZE as i64 {
                return Err(invalid(format!(
                    "limit must be between 1 and {MAX_PAGE_SIZE}"
                )));
            }
            o.limit = l as usize;
        }
        if let Some(raw) = descending {
            o.descending = go_parse_bool(raw).ok_or_else(|| invalid("descending is invalid"))?;
        }
        Ok(o)
    }

    /// Entries to skip (a negative offset skips none).
    pub fn skip(&self) -> usize {
        usize::try_from(self.offset).unwrap_or(0)
    }
}

/// `strconv.Atoi`: an optional sign and decimal digits that fit an int64.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `strconv.ParseBool`.
fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::Invalid, msg)
}

pub(crate) fn not_found(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::NotFound, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_options_decode_like_go() {
        let d = |o, a, l, desc| FindOptions::decode(o, a, l, desc).map_err(|e| e.message);
        assert_eq!(d(None, None, None, None), Ok(FindOptions::default()));
        assert_eq!(
            d(Some("x"), None, None, None),
            Err("offset is invalid".into())
        );
        assert_eq!(
            d(None, None, Some("0"), None),
            Err("limit must be between 1 and 100".into())
        );
        assert_eq!(
            d(None, None, Some("1.5"), None),
            Err("limit is invalid".into())
        );
        assert_eq!(
            d(None, None, None, Some("yes")),
            Err("descending is invalid".into())
        );
        assert_eq!(
            d(None, Some("zz"), None, None),
            Err("decoding after: id must have a length of 16 bytes".into())
        );
        let o = d(Some("-3"), None, Some("+7"), Some("T")).unwrap();
        assert_eq!((o.skip(), o.limit, o.descending), (0, 7, true));
    }
}
