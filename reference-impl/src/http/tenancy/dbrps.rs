//! `/api/v2/dbrps` and `/api/v2/dbrps/{id}` (`dbrp/http_server_dbrp.go`): DBRP mappings,
//! answered through `kithttp.API` (tab-indented JSON, no trailing newline). A create answers
//! the bare mapping (201), a list `{"content": [...]}`, a get or a patch `{"content": {...}}`.
//! Every operation but create names its org in the query (`orgID`, else `org`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};

use crate::api_error::{ApiError, Code};
use crate::engine::tenancy::dbrps::{self, Filter, Mapping, NewMapping};
use crate::http::json_out::J;
use crate::http::{AppState, QueryParams};
use crate::model::go_json::{self, Value};
use crate::model::go_text::quote_str;
use crate::model::Id;
use crate::storage::Store;

use super::decode::{decode_struct, str_field};
use super::{authenticated, by_id, err, locked, ok, reply, Resp};

/// `influxdb.DBRPMapping` in `encoding/json`'s field order (no `links`).
fn mapping_json(m: &Mapping) -> J {
    J::Obj(vec![
        ("id", J::s(m.id.to_string())),
        ("database", J::s(&m.database)),
        ("retention_policy", J::s(&m.retention_policy)),
        ("default", J::Bool(m.default)),
        ("virtual", J::Bool(m.virtual_)),
        ("orgID", J::s(m.org_id.to_string())),
        ("bucketID", J::s(m.bucket_id.to_string())),
    ])
}

fn content(j: J) -> J {
    J::Obj(vec![("content", j)])
}

/// `invalid json structure: <decoder error>` (400).
fn invalid_json(m: String) -> ApiError {
    ApiError::new(Code::Invalid, format!("invalid json structure: {m}"))
}

/// An ID of the query or of a create body (`platform.ID.DecodeFromString`), its error wrapped
/// as `what` wraps it: `invalid org ID "x": id must have a length of 16 bytes`.
fn parse_named_id(raw: &str, what: &str) -> Result<Id, ApiError> {
    Id::parse(raw).map_err(|e| {
        ApiError::new(
            Code::Invalid,
            format!("invalid {what} ID {}: {e}", quote_str(raw)),
        )
    })
}

/// `mustGetOrgIDFromHTTPRequest`: `orgID` when given (parsed, not looked up), else the org
/// named by `org` (looked up without a permission check).
fn org_of(store: &Store, q: &QueryParams) -> Result<Id, ApiError> {
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty());
    if let Some(raw) = get("orgID") {
        return parse_named_id(raw, "org");
    }
    let name = get("org").ok_or_else(no_org)?;
    org_by_name(store, name)
}

/// `ErrNoOrgProvided`.
fn no_org() -> ApiError {
    ApiError::new(Code::Invalid, "either 'org' or 'orgID' must be provided")
}

/// `ErrOrgNotFound(name)`.
fn org_by_name(store: &Store, name: &str) -> Result<Id, ApiError> {
    store.org_by_name(name).map(|o| o.id).ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            format!("invalid org {}: organization not found", quote_str(name)),
        )
    })
}

/// `getFilterFromHTTPRequest`: the org, then `id`, `bucketID`, `db`, `rp` and `default`
/// (`strconv.ParseBool`); an empty parameter is an absent one.
fn list_filter(store: &Store, q: &QueryParams) -> Result<Filter, ApiError> {
    let get = |k: &str| q.get(k).filter(|s| !s.is_empty());
    let org_id = org_of(store, q)?;
    let id = get("id").map(|r| parse_named_id(r, "DBRP")).transpose()?;
    let bucket_id = get("bucketID")
        .map(|r| parse_named_id(r, "bucket"))
        .transpose()?;
    let default = get("default")
        .map(|raw| {
            go_parse_bool(raw)
                .ok_or_else(|| ApiError::new(Code::Invalid, "invalid default parameter"))
        })
        .transpose()?;
    Ok(Filter {
        id,
        org_id: Some(org_id),
        bucket_id,
        database: get("db").map(str::to_string),
        retention_policy: get("rp").map(str::to_string),
        default,
    })
}

/// Go's `strconv.ParseBool`.
fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A `bool` field of a decoded body (`go_struct` as Go's type error names it).
fn bool_field(v: &Value, key: &str, go_struct: &str) -> Result<Option<bool>, ApiError> {
    match v.field(key) {
        None => Ok(None),
        Some(x) => go_json::as_go_bool(x).map_err(|what| {
            invalid_json(go_json::struct_field_type_error(
                &what, go_struct, key, "bool",
            ))
        }),
    }
}

/// `createDBRPRequest`: `database`, `retention_policy`, `default`, `org`, `orgID` and
/// `bucketID`, the IDs as strings (each parsed with its own error).
struct CreateRequest {
    database: String,
    retention_policy: String,
    default: bool,
    org: String,
    org_id: String,
    bucket_id: String,
}

fn decode_create(body: &[u8]) -> Result<CreateRequest, ApiError> {
    const T: &str = "createDBRPRequest";
    let v = decode_struct(body, "dbrp.createDBRPRequest", invalid_json)?;
    let s = |k: &str| str_field(&v, k, T, &invalid_json).map(Option::unwrap_or_default);
    Ok(CreateRequest {
        database: s("database")?,
        retention_policy: s("retention_policy")?,
        default: bool_field(&v, "default", T)?.unwrap_or(false),
        org: s("org")?,
        org_id: s("orgID")?,
        bucket_id: s("bucketID")?,
    })
}

/// The PATCH body: an anonymous struct of `default` (`*bool`) and `retention_policy`
/// (`*string`), as Go's type errors name it.
fn decode_patch(body: &[u8]) -> Result<(Option<bool>, Option<String>), ApiError> {
    const GO_TYPE: &str = "struct { Default *bool \"json:\\\"default\\\"\"; RetentionPolicy *string \"json:\\\"retention_policy\\\"\" }";
    let v = decode_struct(body, GO_TYPE, invalid_json)?;
    let default = bool_field(&v, "default", "")?;
    let rp = str_field(&v, "retention_policy", "", &invalid_json)?;
    Ok((default, rp))
}

/// `GET` and `POST /api/v2/dbrps`.
pub async fn dbrps(State(state): State<Arc<AppState>>, req: Request) -> Resp {
    let method = req.method().clone();
    let (parts, body, auth) = match authenticated(req).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    if method == Method::POST {
        let decoded = match decode_create(&body) {
            Ok(d) => d,
            Err(e) => return err(&e),
        };
        let result = locked(&state, move |store| {
            // The org (`orgID` wins; else `org` by name), then the bucket's ID.
            let org_id = if decoded.org_id.is_empty() {
                if decoded.org.is_empty() {
                    return Err(no_org());
                }
                org_by_name(store, &decoded.org)?
            } else {
                parse_named_id(&decoded.org_id, "org")?
            };
            let bucket_id = parse_named_id(&decoded.bucket_id, "bucket")?;
            let new = NewMapping {
                org_id,
                bucket_id,
                database: decoded.database,
                retention_policy: decoded.retention_policy,
                default: decoded.default,
            };
            dbrps::create(store, &auth, new).map(|m| mapping_json(&m))
        })
        .await;
        return match result {
            Ok(j) => ok(StatusCode::CREATED, j),
            Err(e) => err(&e),
        };
    }
    let q = QueryParams::parse(parts.uri.query());
    let result = locked(&state, move |store| {
        let filter = list_filter(store, &q)?;
        let found = dbrps::list(store, &auth, &filter);
        Ok(content(J::Arr(found.iter().map(mapping_json).collect())))
    })
    .await;
    match result {
        Ok(j) => ok(StatusCode::OK, j),
        Err(e) => err(&e),
    }
}

/// `/api/v2/dbrps/{id}`: GET, PATCH and DELETE. The route's ID is parsed first (its own
/// error, as is), then the query's org; a PATCH body is decoded after the mapping is found.
pub async fn dbrp_by_id(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    req: Request,
) -> Resp {
    let query = req.uri().query().map(str::to_string);
    let (method, body, auth, id) = match by_id(req, &raw_id).await {
        Ok(x) => x,
        Err(e) => return err(&e),
    };
    let result = locked(&state, move |store| {
        let q = QueryParams::parse(query.as_deref());
        let org = org_of(store, &q)?;
        match method {
            Method::GET => {
                let m = dbrps::get(store, &auth, org, id)?;
                Ok((StatusCode::OK, Some(content(mapping_json(&m)))))
            }
            Method::DELETE => {
                dbrps::delete(store, &auth, org, id)?;
                Ok((StatusCode::NO_CONTENT, None))
            }
            _ => {
                let found = dbrps::get(store, &auth, org, id)?;
                let (default, rp) = decode_patch(&body)?;
                let m = dbrps::update(store, &auth, found, default, rp)?;
                Ok((StatusCode::OK, Some(content(mapping_json(&m)))))
            }
        }
    })
    .await;
    reply(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_bool_is_gos() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(go_parse_bool(t), Some(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(go_parse_bool(f), Some(false));
        }
        for bad in ["yes", "tRUE", "", " true"] {
            assert_eq!(go_parse_bool(bad), None);
        }
    }

    #[test]
    fn ids_name_what_they_are() {
        let e = parse_named_id("invalid", "org").unwrap_err();
        assert_eq!(
            e.message,
            "invalid org ID \"invalid\": id must have a length of 16 bytes"
        );
        let e = parse_named_id("", "bucket").unwrap_err();
        assert_eq!(
            e.message,
            "invalid bucket ID \"\": id must have a length of 16 bytes"
        );
    }
}
