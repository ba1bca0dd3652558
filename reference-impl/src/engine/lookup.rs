//! Org and bucket lookups with InfluxDB's messages (`http/requests.go`, `tenant/error_*.go`).

use crate::api_error::{ApiError, Code};
use crate::model::Id;
use crate::storage::{Bucket, Store};

pub use crate::model::go_text::quote_str as go_quote;

/// `queryOrganization`: `orgID` wins over `org`; an `org` that parses as an ID is looked up
/// only by ID.
pub fn find_org(store: &Store, org: Option<&str>, org_id: Option<&str>) -> Result<Id, ApiError> {
    let org_id = org_id.filter(|s| !s.is_empty());
    let org = org.filter(|s| !s.is_empty());
    if let Some(raw) = org_id {
        let id = Id::parse(raw).map_err(|e| ApiError::new(Code::Invalid, e.to_string()))?;
        return org_by_id(store, id);
    }
    let Some(name) = org else {
        return Err(ApiError::new(
            Code::Invalid,
            "Please provide either orgID or org",
        ));
    };
    if let Ok(id) = Id::parse(name) {
        return org_by_id(store, id);
    }
    store.org_by_name(name).map(|o| o.id).ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            format!("organization name \"{name}\" not found"),
        )
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
    bucket: &str,
) -> Result<&'s Bucket, ApiError> {
    if let Ok(id) = Id::parse(bucket) {
        if let Some(b) = store.buckets.get(&id) {
            return Ok(b);
        }
    }
    store
        .bucket_by_name(org_id, bucket)
        .ok_or_else(|| bucket_name_not_found(bucket))
}

/// A bucket by ID or by name, within one org (how InfluxDB Cloud resolves `bucket` for the
/// token's org).
pub fn find_bucket_in_org<'s>(
    store: &'s Store,
    org: Id,
    bucket: &str,
) -> Result<&'s Bucket, ApiError> {
    if let Ok(id) = Id::parse(bucket) {
        if let Some(b) = store.buckets.get(&id).filter(|b| b.org_id == org) {
            return Ok(b);
        }
    }
    store
        .bucket_by_name(org, bucket)
        .ok_or_else(|| bucket_name_not_found(bucket))
}

/// 404 `bucket "<name>" not found` (Go `%q`).
pub fn bucket_name_not_found(name: &str) -> ApiError {
    ApiError::new(
        Code::NotFound,
        format!("bucket {} not found", go_quote(name)),
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
        assert_eq!(find_org(&s, Some("o"), None), Ok(id));
        assert_eq!(find_org(&s, Some("nope"), Some(&id.to_string())), Ok(id));
        let msg = |r: Result<Id, ApiError>| r.unwrap_err().message;
        assert_eq!(
            msg(find_org(&s, None, None)),
            "Please provide either orgID or org"
        );
        assert_eq!(
            msg(find_org(&s, Some("x"), None)),
            "organization name \"x\" not found"
        );
        assert_eq!(
            msg(find_org(&s, None, Some("abc"))),
            "id must have a length of 16 bytes"
        );
        assert_eq!(
            msg(find_org(&s, None, Some("zzzzzzzzzzzzzzzz"))),
            "invalid ID"
        );
        assert_eq!(
            msg(find_org(&s, Some("00000000000000aa"), None)),
            "organization not found"
        );
    }
}
