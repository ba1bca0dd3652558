//! Org and bucket lookups with InfluxDB's messages (`http/requests.go`, `tenant/error_*.go`).

use crate::api_error::{ApiError, Code};
use crate::model::Id;
use crate::storage::{Bucket, Store};

pub use crate::model::go_text::quote_str as go_quote;

/// `queryOrganization`: `orgID` wins over `org`; an `org` that parses as an ID is looked up
/// only by ID.
///
/// Names are Go strings (any bytes, from the query's escapes): one that is not valid UTF-8
/// matches no stored name, and is shown back as it came.
pub fn find_org(store: &Store, org: Option<&[u8]>, org_id: Option<&[u8]>) -> Result<Id, ApiError> {
    let org_id = org_id.filter(|s| !s.is_empty());
    let org = org.filter(|s| !s.is_empty());
    if let Some(raw) = org_id {
        let id = Id::parse_bytes(raw).map_err(|e| ApiError::new(Code::Invalid, e.to_string()))?;
        return org_by_id(store, id);
    }
    let Some(name) = org else {
        return Err(ApiError::new(
            Code::Invalid,
            "Please provide either orgID or org",
        ));
    };
    if let Ok(id) = Id::parse_bytes(name) {
        return org_by_id(store, id);
    }
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| store.org_by_name(n))
        .map(|o| o.id)
        .ok_or_else(|| {
            // `%s` in literal quotes: the name's bytes as they came.
            let mut message = b"organization name \"".to_vec();
            message.extend_from_slice(name);
            message.extend_from_slice(b"\" not found");
            ApiError::from_go_bytes(Code::NotFound, message)
        })
}

fn org_by_id(store: &Store, id: Id) -> Result<Id, ApiError> {
    if store.orgs.contains_key(&id) {
        Ok(id)
    } else {
        Err(ApiError::new(Code::NotFound, "organization not found"))
    }
}

/// The write handler's `findBucket`: an ID is tried first (a bucket found by ID is used even
/// when it belongs to another org), then the name within the org.
pub fn find_bucket_for_write<'s>(
    store: &'s Store,
    org_id: Id,
    bucket: &[u8],
) -> Result<&'s Bucket, ApiError> {
    if let Ok(id) = Id::parse_bytes(bucket) {
        if let Some(b) = store.buckets.get(&id) {
            return Ok(b);
        }
    }
    std::str::from_utf8(bucket)
        .ok()
        .and_then(|n| store.bucket_by_name(org_id, n))
        .ok_or_else(|| bucket_name_not_found(bucket))
}

/// A bucket by ID or by name, within one org (how InfluxDB Cloud resolves `bucket` for the
/// token's org).
pub fn find_bucket_in_org<'s>(
    store: &'s Store,
    org: Id,
    bucket: &[u8],
) -> Result<&'s Bucket, ApiError> {
    if let Ok(id) = Id::parse_bytes(bucket) {
        if let Some(b) = store.buckets.get(&id).filter(|b| b.org_id == org) {
            return Ok(b);
        }
    }
    std::str::from_utf8(bucket)
        .ok()
        .and_then(|n| store.bucket_by_name(org, n))
        .ok_or_else(|| bucket_name_not_found(bucket))
}

/// 404 `bucket "<name>" not found` (Go `%q` of the name's bytes: an invalid byte is `\xNN`).
pub fn bucket_name_not_found(name: &[u8]) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("bucket {} not found", crate::model::go_text::quote(name)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quote_escapes_quotes_and_backslashes() {
        assert_eq!(go_quote("x"), "\"x\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\u{0}"), "\"\\x00\"");
    }

    #[test]
    fn org_lookup_messages() {
        let mut s = Store::default();
        let id = s.create_org("o", "", 0).unwrap();
        let id_text = id.to_string();
        assert_eq!(find_org(&s, Some(b"o"), None), Ok(id));
        assert_eq!(
            find_org(&s, Some(b"nope"), Some(id_text.as_bytes())),
            Ok(id)
        );
        let msg = |r: Result<Id, ApiError>| r.unwrap_err().message;
        assert_eq!(
            msg(find_org(&s, None, None)),
            "Please provide either orgID or org"
        );
        assert_eq!(
            msg(find_org(&s, Some(b"x"), None)),
            "organization name \"x\" not found"
        );
        assert_eq!(
            msg(find_org(&s, None, Some(b"abc"))),
            "id must have a length of 16 bytes"
        );
        assert_eq!(
            msg(find_org(&s, None, Some(b"zzzzzzzzzzzzzzzz"))),
            "invalid ID"
        );
        assert_eq!(
            msg(find_org(&s, Some(b"00000000000000aa"), None)),
            "organization not found"
        );
    }

    /// A name is a Go string: an invalid byte matches no stored name (not even one holding
    /// U+FFFD) and comes back as it came: raw under `%s` (JSON then writes `\ufffd`), `\xff`
    /// under `%q`. An ID's length is counted in bytes.
    #[test]
    fn names_with_invalid_utf8() {
        let mut s = Store::default();
        let org = s.create_org("\u{fffd}", "", 0).unwrap();
        s.create_bucket(
            org,
            "\u{fffd}",
            0,
            0,
            crate::storage::SchemaType::Implicit,
            0,
        )
        .unwrap();
        let e = find_org(&s, Some(b"\xffo"), None).unwrap_err();
        assert_eq!(
            e.go_bytes.as_deref(),
            Some(&b"organization name \"\xffo\" not found"[..])
        );
        assert!(e
            .compact_body()
            .contains(r#"organization name \"\ufffdo\" not found"#));
        assert_eq!(find_org(&s, Some("\u{fffd}".as_bytes()), None), Ok(org));
        let e = find_bucket_for_write(&s, org, b"\xff\"x").unwrap_err();
        assert_eq!(e.message, r#"bucket "\xff\"x" not found"#);
        assert!(find_bucket_for_write(&s, org, b"\xff").is_err());
        assert!(find_bucket_for_write(&s, org, "\u{fffd}".as_bytes()).is_ok());
        assert_eq!(
            find_org(&s, None, Some(b"\xff\xff\xff\xff\xff\xff\xff\xff"))
                .unwrap_err()
                .message,
            "id must have a length of 16 bytes"
        );
    }
}
