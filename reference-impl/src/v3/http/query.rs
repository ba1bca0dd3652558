//! `GET|POST /api/v3/query_sql`, `/api/v3/query_influxql` and v1 `/query` (spec `v3.md` §12;
//! `influxdb3_server/src/http.rs` `extract_query_request`, `query_sql`, `query_influxql`,
//! `query_influxql_inner`; `core/iox_v1_query_api`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Response};
use serde::Deserialize;

use super::error::{read_body, Error};
use super::{Incoming, Routed};
use crate::http::AppState;
use crate::v3::query::{self, influxql, sql, QueryFormat};

/// `QueryRequest` from a query string (`params` as a JSON string).
#[derive(Debug, Deserialize)]
struct QueryString<D> {
    #[serde(rename = "db")]
    database: D,
    #[serde(rename = "q")]
    query_str: String,
    format: Option<QueryFormat>,
    params: Option<String>,
}

/// `QueryRequest` from a JSON body (`params` as an object).
#[derive(Debug, Deserialize)]
struct QueryBody<D> {
    #[serde(rename = "db")]
    database: D,
    #[serde(rename = "q")]
    query_str: String,
    format: Option<QueryFormat>,
    #[serde(rename = "params")]
    _params: Option<serde_json::Map<String, serde_json::Value>>,
}

struct QueryRequest<D> {
    database: D,
    query_str: String,
    format: QueryFormat,
}

/// `extract_query_request`: the `Accept` header first (a bad one fails even with `format`), then
/// the query string (GET) or the JSON body (POST).
fn extract<D: for<'de> Deserialize<'de>>(
    state: &AppState,
    req: &Incoming,
) -> Result<QueryRequest<D>, Error> {
    let header_format = QueryFormat::from_headers(&req.headers)?;
    let (database, query_str, format) = if req.method == Method::GET {
        let q = req.query.as_deref().ok_or(Error::MissingQueryParams)?;
        let r: QueryString<D> =
            serde_urlencoded::from_str(q).map_err(|e| Error::SerdeUrlDecoding(e.to_string()))?;
        if let Some(p) = &r.params {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(p)
                .map_err(|e| Error::SerdeJson(e.to_string()))?;
        }
        (r.database, r.query_str, r.format)
    } else {
        let body = read_body(req, state.config.v3.max_request_bytes)?;
        let r: QueryBody<D> =
            serde_json::from_slice(&body).map_err(|e| Error::SerdeJson(e.to_string()))?;
        (r.database, r.query_str, r.format)
    };
    Ok(QueryRequest {
        database,
        query_str,
        format: format.unwrap_or(header_format),
    })
}

/// Runs `f` on the catalog of database `db` (404 `database not found` when it has none).
fn with_database<T>(
    state: &AppState,
    db: &str,
    f: impl FnOnce(&crate::v3::catalog::Catalog, &crate::v3::catalog::Database) -> Result<T, Error>,
) -> Result<T, Error> {
    let v3 = state.v3();
    let database = v3
        .catalog
        .database(db)
        .filter(|d| !d.deleted)
        .ok_or_else(|| Error::QueryDatabaseNotFound(db.to_string()))?;
    f(&v3.catalog, database)
}

pub async fn query_sql(state: &Arc<AppState>, req: Incoming) -> Routed {
    let run = || -> Result<Response<Body>, Error> {
        let r: QueryRequest<String> = extract(state, &req)?;
        let batch = with_database(state, &r.database, |c, d| sql::execute(c, d, &r.query_str))?;
        query::answer(r.format, &batch)
    };
    run().map_err(Error::into_response)
}

pub async fn query_influxql(state: &Arc<AppState>, req: Incoming) -> Routed {
    let run = || -> Result<Response<Body>, Error> {
        let r: QueryRequest<Option<String>> = extract(state, &req)?;
        let v3 = state.v3();
        let now = state.clock.now_nanos();
        let batch = influxql::execute_v3(&v3.catalog, r.database.as_deref(), &r.query_str, now)?;
        query::answer(r.format, &batch)
    };
    run().map_err(Error::into_response)
}

/// v1 `/query`: its errors are answers too (the CORS header is added to them).
pub async fn v1_query(state: &Arc<AppState>, req: Incoming) -> Response<Body> {
    let now = state.clock.now_nanos();
    let v3 = state.v3();
    query::v1::handle(&v3.catalog, &req, now)
}
