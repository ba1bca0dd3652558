//! `/api/v3/configure/database` and `/api/v3/configure/table` (spec `v3.md` §11;
//! `influxdb3_server/src/http.rs` `show_databases`, `create_database`, `update_database`,
//! `delete_database`, `create_table`, `delete_table`, `read_body_json`).

use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use serde::Deserialize;

use super::error::{catalog_response, read_body, Error};
use super::{plain, Incoming, Routed};
use crate::http::AppState;
use crate::v3::catalog::CatalogError;
use crate::v3::params::validate_db_name;
use crate::v3::query::{self, QueryFormat};

/// `json_content_type`: a `Content-Type` the `mime` crate reads as `application/json` or
/// `application/*+json`.
fn json_content_type(req: &Incoming) -> bool {
    let Some(Ok(text)) = req.headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let Ok(m) = text.parse::<mime::Mime>() else {
        return false;
    };
    m.type_() == "application" && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

/// `read_body_json`: the content type, the body (as `read_body`), then serde.
fn read_body_json<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    req: &Incoming,
) -> Result<T, Error> {
    if !json_content_type(req) {
        return Err(Error::InvalidContentType);
    }
    let body = read_body(req, state.config.v3.max_request_bytes)?;
    serde_json::from_slice(&body).map_err(|e| Error::SerdeJson(e.to_string()))
}

fn ok_empty() -> Routed {
    Ok(plain(200, ""))
}

#[derive(Debug, Deserialize)]
struct ShowDatabasesRequest {
    format: QueryFormat,
    #[serde(default)]
    show_deleted: bool,
}

/// `GET /api/v3/configure/database?format=...[&show_deleted=true]`.
pub async fn show_databases(state: &Arc<AppState>, req: Incoming) -> Routed {
    let q: ShowDatabasesRequest = serde_urlencoded::from_str(req.query.as_deref().unwrap_or(""))
        .map_err(|e| Error::SerdeUrlDecoding(e.to_string()).into_response())?;
    let batch = query::show_databases(&state.v3().catalog, q.show_deleted);
    query::answer(q.format, &batch).map_err(Error::into_response)
}

#[derive(Debug, Deserialize)]
struct CreateDatabaseRequest {
    db: String,
    #[serde(with = "humantime_serde", default)]
    retention_period: Option<Duration>,
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `POST /api/v3/configure/database` `{"db": ..., "retention_period": "30d"}`.
pub async fn create_database(state: &Arc<AppState>, req: Incoming) -> Routed {
    let r: CreateDatabaseRequest = read_body_json(state, &req).map_err(Error::into_response)?;
    validate_db_name(&r.db).map_err(|e| Error::DbName(e).into_response())?;
    state
        .v3()
        .catalog
        .create_database(&r.db, r.retention_period.map(nanos))
        .map_err(|e| catalog_response(&e))?;
    ok_empty()
}

#[derive(Debug, Deserialize)]
struct UpdateDatabaseRequest {
    db: String,
    #[serde(with = "humantime_serde", default)]
    retention_period: Option<Duration>,
}

/// `PUT /api/v3/configure/database`: sets or clears the retention period.
pub async fn update_database(state: &Arc<AppState>, req: Incoming) -> Routed {
    let r: UpdateDatabaseRequest = read_body_json(state, &req).map_err(Error::into_response)?;
    let mut v3 = state.v3();
    let catalog = &mut v3.catalog;
    // `require_active_db`, then the op's `active_database`.
    let i = catalog
        .database_index(&r.db)
        .ok_or_else(|| catalog_response(&CatalogError::NotFound(r.db.clone())))?;
    if catalog.databases[i].deleted {
        return Err(catalog_response(&CatalogError::AlreadyDeleted(
            r.db.clone(),
        )));
    }
    let i = catalog
        .active_database(&r.db)
        .map_err(|e| catalog_response(&e))?;
    catalog.databases[i].retention = r.retention_period.map(nanos);
    ok_empty()
}

/// `hard_delete_at`: `never`, `now`, `default` or an RFC3339 time (read by chrono).
fn check_hard_delete_at(v: Option<&str>) -> Result<(), Error> {
    match v {
        None | Some("never" | "now" | "default") => Ok(()),
        Some(ts) => chrono::DateTime::parse_from_rfc3339(ts)
            .map(|_| ())
            .map_err(|e| Error::ParsingTimestamp(e.to_string())),
    }
}

/// `DELETE /api/v3/configure/database?db=...`: a soft delete (the database is renamed).
pub async fn delete_database(state: &Arc<AppState>, req: Incoming) -> Routed {
    #[derive(Debug, Deserialize)]
    struct DeleteDatabaseRequest {
        db: String,
        hard_delete_at: Option<String>,
    }
    let r: DeleteDatabaseRequest =
        serde_urlencoded::from_str(req.query.as_deref().unwrap_or(""))
            .map_err(|e| Error::SerdeUrlDecoding(e.to_string()).into_response())?;
    check_hard_delete_at(r.hard_delete_at.as_deref()).map_err(Error::into_response)?;
    let now = state.clock.now_nanos();
    state
        .v3()
        .catalog
        .soft_delete_database(&r.db, now)
        .map_err(|e| catalog_response(&e))?;
    ok_empty()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FieldType {
    Utf8,
    Int64,
    UInt64,
    Float64,
    Bool,
}

#[derive(Debug, Deserialize)]
struct CreateTableField {
    name: String,
    r#type: FieldType,
}

#[derive(Debug, Deserialize)]
struct CreateTableRequest {
    db: String,
    table: String,
    tags: Vec<String>,
    fields: Vec<CreateTableField>,
}

/// `POST /api/v3/configure/table` `{"db","table","tags":[...],"fields":[{"name","type"}]}`.
pub async fn create_table(state: &Arc<AppState>, req: Incoming) -> Routed {
    use crate::model::FieldType as F;
    let r: CreateTableRequest = read_body_json(state, &req).map_err(Error::into_response)?;
    validate_db_name(&r.db).map_err(|e| Error::DbName(e).into_response())?;
    let fields: Vec<(String, F)> = r
        .fields
        .into_iter()
        .map(|f| {
            let t = match f.r#type {
                FieldType::Utf8 => F::String,
                FieldType::Int64 => F::Integer,
                FieldType::UInt64 => F::Unsigned,
                FieldType::Float64 => F::Float,
                FieldType::Bool => F::Boolean,
            };
            (f.name, t)
        })
        .collect();
    state
        .v3()
        .catalog
        .create_table(&r.db, &r.table, &r.tags, &fields)
        .map_err(|e| catalog_response(&e))?;
    ok_empty()
}

/// `DELETE /api/v3/configure/table?db=...&table=...`.
pub async fn delete_table(state: &Arc<AppState>, req: Incoming) -> Routed {
    #[derive(Debug, Deserialize)]
    struct DeleteTableRequest {
        db: String,
        table: String,
        hard_delete_at: Option<String>,
    }
    let r: DeleteTableRequest = serde_urlencoded::from_str(req.query.as_deref().unwrap_or(""))
        .map_err(|e| Error::SerdeUrlDecoding(e.to_string()).into_response())?;
    check_hard_delete_at(r.hard_delete_at.as_deref()).map_err(Error::into_response)?;
    let now = state.clock.now_nanos();
    state
        .v3()
        .catalog
        .soft_delete_table(&r.db, &r.table, now)
        .map_err(|e| catalog_response(&e))?;
    ok_empty()
}
