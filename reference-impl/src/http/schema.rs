//! Cloud explicit bucket schemas: `/api/v2/buckets/{bucketID}/schema/measurements[/{id}]`
//! (cloud.md §3.2–§3.5). Served only by the cloud flavor.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value as Json};

use crate::api_error::{ApiError, Code};
use crate::model::time::format_rfc3339_nano;
use crate::model::{FieldType, Id};
use crate::storage::cloud::{ColumnKind, MeasurementSchema, SchemaColumn};
use crate::storage::{Action, Authorization, ResourceKind, SchemaType, Store};

use super::respond::{self, Encoder};
use super::{AppState, QueryParams};

fn invalid(msg: &str) -> ApiError {
    ApiError::new(Code::Invalid, msg)
}

fn schema_json(s: &MeasurementSchema) -> Json {
    let columns: Vec<Json> = s
        .columns
        .iter()
        .map(|c| {
            let mut o = json!({"name": c.name, "type": c.kind.as_str()});
            if c.kind == ColumnKind::Field {
                o["dataType"] = json!(c.data_type.unwrap_or(FieldType::String).influxql_name());
            }
            o
        })
        .collect();
    json!({
        "id": s.id.to_string(),
        "orgID": s.org_id.to_string(),
        "bucketID": s.bucket_id.to_string(),
        "name": s.name,
        "columns": columns,
        "createdAt": format_rfc3339_nano(s.created_at),
        "updatedAt": format_rfc3339_nano(s.updated_at),
    })
}

/// A version tag of the bucket's schemas: changes whenever one is created or updated.
fn etag(store: &Store, bucket: Id) -> String {
    let version: i64 = store
        .cloud
        .schemas
        .get(&bucket)
        .map(|list| {
            list.iter()
                .map(|s| s.updated_at.wrapping_add(s.id.get() as i64))
                .fold(0i64, i64::wrapping_add)
        })
        .unwrap_or(0);
    format!("\"{:016x}\"", version as u64)
}

fn ok_json(status: StatusCode, body: &Json, etag: Option<String>) -> Response<Body> {
    let mut resp = respond::json(status, body.to_string());
    if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert(header::ETAG, tag);
    }
    resp
}

/// Names: 1–128 characters, not starting with `_` or a digit, no quotes, printable.
fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=128).contains(&n)
        && !name.starts_with('_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.contains(['\'', '"'])
        && !name.chars().any(char::is_control)
}

fn parse_columns(v: Option<&Json>) -> Result<Vec<SchemaColumn>, ApiError> {
    let Some(Json::Array(items)) = v else {
        return Err(invalid("columns is required"));
    };
    if items.is_empty() {
        return Err(invalid("columns is required"));
    }
    let mut out: Vec<SchemaColumn> = Vec::new();
    for item in items {
        let name = item
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| invalid("name is invalid"))?;
        if !valid_name(name) && name != "time" {
            return Err(invalid("name is invalid"));
        }
        let kind = match item.get("type").and_then(Json::as_str) {
            Some("timestamp") => ColumnKind::Timestamp,
            Some("tag") => ColumnKind::Tag,
            Some("field") => ColumnKind::Field,
            // UNCONFIRMED wording.
            other => {
                return Err(invalid(&format!(
                    "invalid column type {:?}",
                    other.unwrap_or("")
                )))
            }
        };
        let data_type = match (kind, item.get("dataType").and_then(Json::as_str)) {
            (ColumnKind::Field, None) => None,
            (ColumnKind::Field, Some(t)) => Some(match t {
                "float" => FieldType::Float,
                "integer" => FieldType::Integer,
                "unsigned" => FieldType::Unsigned,
                "string" => FieldType::String,
                "boolean" => FieldType::Boolean,
                other => return Err(invalid(&format!("invalid column dataType {other:?}"))),
            }),
            _ => None,
        };
        if out.iter().any(|c| c.name == name) {
            return Err(invalid("Duplicate column names"));
        }
        out.push(SchemaColumn {
            name: name.to_string(),
            kind,
            data_type,
        });
    }
    match out
        .iter()
        .filter(|c| c.kind == ColumnKind::Timestamp)
        .count()
    {
        0 => return Err(invalid("Timestamp column is required")),
        1 => {}
        // UNCONFIRMED wording: the docs only say a schema has one timestamp column.
        _ => return Err(invalid("Only one timestamp column is allowed")),
    }
    if !out.iter().any(|c| c.kind == ColumnKind::Field) {
        return Err(invalid("At least one field column is required"));
    }
    Ok(out)
}

/// The bucket, if the token may act on it. A bucket the token cannot see is "not found", as
/// the CLI reports for a token without write permission.
fn bucket_for(
    store: &Store,
    auth: &Authorization,
    raw: &str,
    action: Action,
) -> Result<Id, ApiError> {
    let not_found = || ApiError::new(Code::NotFound, "bucket not found");
    let id = Id::parse(raw).map_err(|e| ApiError::new(Code::Invalid, e.to_string()))?;
    let b = store.buckets.get(&id).ok_or_else(not_found)?;
    if !auth.allows(action, ResourceKind::Buckets, b.org_id, Some(b.id)) {
        return Err(not_found());
    }
    if b.schema_type != SchemaType::Explicit {
        return Err(invalid("bucket schemaType must be explicit"));
    }
    Ok(id)
}

async fn body_json(body: Body) -> Result<Json, ApiError> {
    let bytes = super::body::read_json_body(body).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| invalid(&format!("failed to decode request body: {e}")))
}

pub async fn measurements(
    State(state): State<Arc<AppState>>,
    Path(bucket): Path<String>,
    req: Request,
) -> Response<Body> {
    let result = async {
        let (parts, body) = req.into_parts();
        let auth = caller(&parts)?;
        let name_filter = QueryParams::parse(parts.uri.query())
            .get("name")
            .map(str::to_string);
        let json_body = match parts.method {
            Method::GET => None,
            _ => Some(body_json(body).await?),
        };
        let now = state.clock.now_nanos();
        state
            .with_store(move |store| match json_body {
                None => list_schemas(store, &auth, &bucket, name_filter.as_deref()),
                Some(j) => create_schema(store, &auth, &bucket, &j, now),
            })
            .await?
    }
    .await;
    result.unwrap_or_else(|e| respond::error(&e, Encoder::Compact))
}

fn caller(parts: &axum::http::request::Parts) -> Result<Authorization, ApiError> {
    parts
        .extensions
        .get::<Authorization>()
        .cloned()
        .ok_or_else(crate::engine::auth::unauthorized_access)
}

fn list_schemas(
    store: &mut Store,
    auth: &Authorization,
    bucket: &str,
    name: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    let id = bucket_for(store, auth, bucket, Action::Read)?;
    let list: Vec<Json> = store
        .cloud
        .schemas
        .get(&id)
        .map(|l| {
            l.iter()
                .filter(|s| name.is_none_or(|n| n == s.name))
                .map(schema_json)
                .collect()
        })
        .unwrap_or_default();
    Ok(ok_json(
        StatusCode::OK,
        &json!({"measurementSchemas": list}),
        Some(etag(store, id)),
    ))
}

fn create_schema(
    store: &mut Store,
    auth: &Authorization,
    bucket: &str,
    json_body: &Json,
    now: i64,
) -> Result<Response<Body>, ApiError> {
    let id = bucket_for(store, auth, bucket, Action::Write)?;
    let name = json_body.get("name").and_then(Json::as_str).unwrap_or("");
    if !valid_name(name) {
        return Err(invalid("name is invalid"));
    }
    let columns = parse_columns(json_body.get("columns"))?;
    if store
        .cloud
        .schemas
        .get(&id)
        .is_some_and(|l| l.iter().any(|s| s.name == name))
    {
        // "Each measurement in a bucket can have one schema" (the CLI shows 422).
        return Err(ApiError::new(
            Code::Conflict,
            format!("measurement schema with name {name} already exists"),
        ));
    }
    let org_id = store
        .buckets
        .get(&id)
        .map(|b| b.org_id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "bucket not found"))?;
    let schema = MeasurementSchema {
        id: store.next_id(),
        org_id,
        bucket_id: id,
        name: name.to_string(),
        columns,
        created_at: now,
        updated_at: now,
    };
    let body = schema_json(&schema);
    store.cloud.schemas.entry(id).or_default().push(schema);
    Ok(ok_json(StatusCode::CREATED, &body, Some(etag(store, id))))
}

pub async fn measurement(
    State(state): State<Arc<AppState>>,
    Path((bucket, measurement)): Path<(String, String)>,
    req: Request,
) -> Response<Body> {
    let result = async {
        let (parts, body) = req.into_parts();
        let auth = caller(&parts)?;
        let mid =
            Id::parse(&measurement).map_err(|e| ApiError::new(Code::Invalid, e.to_string()))?;
        let json_body = match parts.method {
            Method::GET => None,
            _ => Some(body_json(body).await?),
        };
        let now = state.clock.now_nanos();
        state
            .with_store(move |store| match json_body {
                None => get_schema(store, &auth, &bucket, mid),
                Some(j) => update_schema(store, &auth, &bucket, mid, &j, now),
            })
            .await?
    }
    .await;
    result.unwrap_or_else(|e| respond::error(&e, Encoder::Compact))
}

fn schema_not_found() -> ApiError {
    ApiError::new(Code::NotFound, "measurement schema not found")
}

fn get_schema(
    store: &mut Store,
    auth: &Authorization,
    bucket: &str,
    mid: Id,
) -> Result<Response<Body>, ApiError> {
    let id = bucket_for(store, auth, bucket, Action::Read)?;
    let s = store
        .cloud
        .schemas
        .get(&id)
        .and_then(|l| l.iter().find(|s| s.id == mid))
        .ok_or_else(schema_not_found)?;
    Ok(ok_json(
        StatusCode::OK,
        &schema_json(s),
        Some(etag(store, id)),
    ))
}

fn update_schema(
    store: &mut Store,
    auth: &Authorization,
    bucket: &str,
    mid: Id,
    json_body: &Json,
    now: i64,
) -> Result<Response<Body>, ApiError> {
    let id = bucket_for(store, auth, bucket, Action::Write)?;
    let columns = parse_columns(json_body.get("columns"))?;
    let schema = store
        .cloud
        .schemas
        .get_mut(&id)
        .and_then(|l| l.iter_mut().find(|s| s.id == mid))
        .ok_or_else(schema_not_found)?;
    // Updates may only add columns: every existing column must come back unchanged.
    for old in &schema.columns {
        match columns.iter().find(|c| c.name == old.name) {
            None => return Err(invalid("Unable to delete columns from schema")),
            Some(c)
                if c.kind != old.kind
                    || c.data_type.unwrap_or(FieldType::String)
                        != old.data_type.unwrap_or(FieldType::String)
                        && c.kind == ColumnKind::Field =>
            {
                // UNCONFIRMED wording: "You can't modify or delete columns".
                return Err(invalid("Unable to modify columns in schema"));
            }
            Some(_) => {}
        }
    }
    schema.columns = columns;
    schema.updated_at = now;
    let body = schema_json(schema);
    Ok(ok_json(StatusCode::OK, &body, Some(etag(store, id))))
}
