//! `POST /api/v2/delete` after authentication, in the order of `http/delete_handler.go`
//! (spec/v2.md §7.2): decode (start, stop, predicate), decode again for the predicate text,
//! `influxql.ParseExpr`, the `_field` check, org, bucket, permission, storage.

use crate::api_error::{ApiError, Code};
use crate::model::go_json::{self, Value};
use crate::model::time::{parse_rfc3339_nano_wide, MAX_NANO_TIME, MIN_NANO_TIME};
use crate::model::Id;
use crate::storage::{Action, Authorization, Bucket, ResourceKind, Status, Store};

use super::delete_predicate::{self as predicate, Node};
use super::lookup::{bucket_name_not_found, find_org};

/// A request to `/api/v2/delete`, as plain values.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteRequest<'a> {
    /// The query's parameters as Go's strings hold them (any bytes).
    pub org: Option<&'a [u8]>,
    pub org_id: Option<&'a [u8]>,
    pub bucket: Option<&'a [u8]>,
    pub bucket_id: Option<&'a [u8]>,
    pub body: &'a [u8],
}

/// What the decoded body holds: inclusive bounds in Unix ns and the parsed predicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRange {
    pub start: i64,
    pub stop: i64,
    pub predicate: Option<Node>,
    /// The predicate as sent.
    pub predicate_text: String,
    /// The measurement a v2 delete walks each shard up to
    /// ([`predicate::delete_walk_stop`]); set only when the predicate names one.
    pub walk_stop: Option<String>,
}

const START_FORMAT: &str = "invalid RFC3339Nano for field start, please format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z";
const STOP_FORMAT: &str = "invalid RFC3339Nano for field stop, please format your time with RFC3339Nano format, example: 2009-01-01T23:00:00Z";
const START_TOO_SOON: &str =
    "invalid start time, start time must not be before 1677-09-21T00:12:43.145224194Z";
const STOP_TOO_LATE: &str =
    "invalid stop time, stop time must not be after 2262-04-11T23:47:16.854775806Z";

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::Invalid, msg)
}

/// The three string fields of `deleteRequestDecode`, decoded as `json.Unmarshal` would:
/// `Err` carries the `UnmarshalTypeError` text.
fn decode_fields(v: &Value) -> Result<[String; 3], String> {
    const KEYS: [&str; 3] = ["start", "stop", "predicate"];
    match v {
        Value::Null => return Ok(Default::default()),
        Value::Object(_) => {}
        other => {
            return Err(go_json::value_type_error(
                other.kind_word(),
                "http.deleteRequestDecode",
            ))
        }
    }
    let mut out: [String; 3] = Default::default();
    let mut first_error = None;
    for (key, value) in v.field_keys(&KEYS) {
        match go_json::as_go_string(value) {
            Ok(Some(s)) => {
                let slot = KEYS.iter().position(|k| *k == key).unwrap_or(0);
                out[slot] = s.to_string();
            }
            Ok(None) => {}
            Err(what) => {
                first_error.get_or_insert_with(|| {
                    go_json::struct_field_type_error(&what, "deleteRequestDecode", key, "string")
                });
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// `deleteRequest.UnmarshalJSON`: the inner message (the caller adds
/// `error decoding json body: `). `Err(None)` is a Go panic (500).
fn unmarshal_delete_request(v: &Value) -> Result<DeleteRange, Option<String>> {
    let [start, stop, pred] = decode_fields(v)
        .map_err(|e| Some(format!("Invalid delete predicate node request: {e}")))?;
    let start = parse_rfc3339_nano_wide(&start).ok_or(Some(START_FORMAT.to_string()))?;
    if start < i128::from(MIN_NANO_TIME) || start > i128::from(MAX_NANO_TIME) {
        return Err(Some(START_TOO_SOON.into()));
    }
    let stop = parse_rfc3339_nano_wide(&stop).ok_or(Some(STOP_FORMAT.to_string()))?;
    if stop < i128::from(MIN_NANO_TIME) || stop > i128::from(MAX_NANO_TIME) {
        return Err(Some(STOP_TOO_LATE.into()));
    }
    let node = predicate::parse(&pred).map_err(Some)?;
    if let Some(n) = &node {
        predicate::validate(n)?;
    }
    Ok(DeleteRange {
        // Both are inside the i64 range: checked just above.
        start: start as i64,
        stop: stop as i64,
        predicate: node,
        predicate_text: pred,
        walk_stop: None,
    })
}

/// Steps 2–6 of §7.2: everything decided by the body alone.
pub fn decode_body(body: &[u8]) -> Result<DeleteRange, ApiError> {
    decode_body_with(body, false)
}

/// [`decode_body`], optionally accepting `_field` rules (InfluxDB Cloud deletes by field).
pub fn decode_body_with(body: &[u8], allow_field: bool) -> Result<DeleteRange, ApiError> {
    let first = go_json::decode_first(body)
        .map_err(|e| invalid(format!("error decoding json body: {}", e.decoder_message())))?;
    let mut range = unmarshal_delete_request(&first).map_err(|e| match e {
        Some(msg) => invalid(format!("error decoding json body: {msg}")),
        None => ApiError::internal_opaque(),
    })?;
    let whole = go_json::unmarshal(body).map_err(|e| {
        invalid(format!(
            "error decoding json body for predicate: {}",
            e.unmarshal_message()
        ))
    })?;
    let predicate_text = decode_fields(&whole)
        .map_err(|e| invalid(format!("error decoding json body for predicate: {e}")))?[2]
        .clone();
    if !predicate_text.is_empty() {
        let expr = predicate::parse_expr(&predicate_text)
            .map_err(|e| invalid(format!("invalid request; error parsing predicate: {e}")))?;
        if !allow_field && predicate::has_field_equality(&expr) {
            return Err(ApiError::new(
                Code::NotImplemented,
                "delete by field is not supported",
            ));
        }
        range.walk_stop = predicate::delete_walk_stop(&expr);
    }
    Ok(range)
}

/// `queryBucket` (`http/requests.go`): `bucket` is an ID when it parses as one (no name
/// fallback), `bucketID` overrides it; a bucket found by ID may be in any org.
pub fn query_bucket<'s>(
    store: &'s Store,
    org_id: Id,
    bucket: Option<&[u8]>,
    bucket_id: Option<&[u8]>,
) -> Result<&'s Bucket, ApiError> {
    let mut by_id = None;
    let mut by_name = None;
    if let Some(b) = bucket.filter(|b| !b.is_empty()) {
        match Id::parse_bytes(b) {
            Ok(id) => by_id = Some(id),
            Err(_) => by_name = Some(b),
        }
    }
    if let Some(raw) = bucket_id.filter(|b| !b.is_empty()) {
        by_id = Some(Id::parse_bytes(raw).map_err(|e| invalid(e.to_string()))?);
    }
    if let Some(id) = by_id {
        return store
            .buckets
            .get(&id)
            .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"));
    }
    let Some(name) = by_name else {
        return Err(invalid("Please provide either bucketID or bucket"));
    };
    std::str::from_utf8(name)
        .ok()
        .and_then(|n| store.bucket_by_name(org_id, n))
        .ok_or_else(|| bucket_name_not_found(name))
}

/// The whole endpoint after authentication.
pub fn delete(
    store: &mut Store,
    auth: &Authorization,
    req: &DeleteRequest<'_>,
) -> Result<(), ApiError> {
    let range = decode_body(req.body)?;
    let org_id = find_org(store, req.org, req.org_id)?;
    let bucket_id = query_bucket(store, org_id, req.bucket, req.bucket_id)?.id;
    // `a.PermissionSet()` fails for an inactive token; either way the message carries no
    // suffix here (unlike write's `: token is inactive`).
    let allowed = auth.status == Status::Active
        && auth.allows(
            Action::Write,
            ResourceKind::Buckets,
            org_id,
            Some(bucket_id),
        );
    if !allowed {
        return Err(ApiError::new(
            Code::Forbidden,
            "insufficient permissions to delete",
        ));
    }
    if let Some(data) = store.data.get_mut(&bucket_id) {
        let pred = range.predicate.as_ref();
        let through = range.walk_stop.as_deref().map(str::as_bytes);
        data.delete_where(range.start, range.stop, through, |series, _field| {
            pred.is_none_or(|p| predicate::matches_series(p, series))
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> (u16, String) {
        let e = decode_body(body.as_bytes()).unwrap_err();
        (e.status(), e.message)
    }

    #[test]
    fn body_errors_in_order() {
        assert_eq!(msg(""), (400, "error decoding json body: EOF".into()));
        assert_eq!(
            msg("{\"start\": 1}"),
            (400, "error decoding json body: Invalid delete predicate node request: json: cannot unmarshal number into Go struct field deleteRequestDecode.start of type string".into())
        );
        assert_eq!(
            msg("[]"),
            (400, "error decoding json body: Invalid delete predicate node request: json: cannot unmarshal array into Go value of type http.deleteRequestDecode".into())
        );
        assert_eq!(
            msg("{}"),
            (400, format!("error decoding json body: {START_FORMAT}"))
        );
        assert_eq!(
            msg(r#"{"start":"1500-01-01T00:00:00Z","stop":"2000-01-01T00:00:00Z"}"#),
            (400, format!("error decoding json body: {START_TOO_SOON}"))
        );
        assert_eq!(
            msg(r#"{"start":"2000-01-01T00:00:00Z","stop":"3000-01-01T00:00:00Z"}"#),
            (400, format!("error decoding json body: {STOP_TOO_LATE}"))
        );
        assert_eq!(
            msg(r#"{"start":"2000-01-01T00:00:00Z","stop":"2001-01-01T00:00:00Z"} x"#),
            (400, "error decoding json body for predicate: invalid character 'x' after top-level value".into())
        );
        assert_eq!(
            msg(r#"{"start":"2000-01-01T00:00:00Z","stop":"2001-01-01T00:00:00Z","predicate":"a=1 AND"}"#),
            (400, "invalid request; error parsing predicate: found EOF, expected identifier, string, number, bool at line 1, char 9".into())
        );
        assert_eq!(
            msg(
                r#"{"start":"2000-01-01T00:00:00Z","stop":"2001-01-01T00:00:00Z","predicate":"_field=\"v\""}"#
            ),
            (501, "delete by field is not supported".into())
        );
    }
}
