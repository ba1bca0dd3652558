//! InfluxDB 3's HTTP front (spec `v3.md` §1, §2; `influxdb3_server/src/http.rs`:
//! `route_request`, `perform_routing`, `authenticate_request`, `read_body`, the `IntoResponse`
//! impls). One handler takes every request and does what `perform_routing` does, in its order:
//! CORS preflight, the tokenless-server 405, authentication (before routing, so an unknown path
//! without a token is 401), then the exact (method, path) route, else 404 `Not found`.
//! `route_request` then adds `Access-Control-Allow-Origin: *` to what the handler returned as
//! success and `cluster-uuid` to everything.

// A handler's `Err` is a whole response (it differs from `Ok` only in the headers
// `route_request` adds afterwards), built once per request on the way out; boxing it would
// only add an allocation to every error answer.
#![allow(clippy::result_large_err)]

mod configure;
mod error;
mod query;
mod write;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;

pub use error::Error;

use crate::http::AppState;

/// A handler's answer: `Ok` gets `Access-Control-Allow-Origin: *`, `Err` does not.
pub(crate) type Routed = Result<Response<Body>, Response<Body>>;

/// The v3 flavor's whole API.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// `route_request`.
async fn handle(State(state): State<Arc<AppState>>, req: Request) -> Response<Body> {
    let mut resp = match perform_routing(&state, req).await {
        Ok(mut r) => {
            r.headers_mut().insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
            r
        }
        Err(r) => r,
    };
    let uuid = state.v3().catalog_uuid.clone();
    if let Ok(v) = HeaderValue::from_str(&uuid) {
        resp.headers_mut().insert("cluster-uuid", v);
    }
    resp
}

/// A request's parts with its body already read, as InfluxDB's transport collects every body
/// before routing. Bodies past the request size limit are not kept: `too_large` says so, and
/// the handler that reads the body answers 413 where InfluxDB does.
pub(crate) struct Incoming {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub too_large: bool,
}

/// How much of an oversized body is read (and dropped) before answering anyway, so that a
/// client still sending gets the 413 rather than a reset; past it the connection may close.
const DRAIN_BEYOND_LIMIT: usize = 64 << 20;

async fn collect(req: Request, limit: usize) -> Incoming {
    let (parts, mut body) = req.into_parts();
    let mut buf: Vec<u8> = Vec::new();
    let mut seen: usize = 0;
    let mut too_large = false;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit {
            too_large = true;
            buf = Vec::new();
            if seen > limit.saturating_add(DRAIN_BEYOND_LIMIT) {
                break;
            }
            continue;
        }
        if buf.is_empty() && seen == data.len() {
            buf = data.to_vec();
        } else {
            buf.extend_from_slice(&data);
        }
    }
    Incoming {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: as_parsed(parts.headers),
        body: Bytes::from(buf),
        too_large,
    }
}

/// Header values as InfluxDB's transport hands them to `perform_routing`: hyper 1.9 parses
/// requests with httparse 1.10.1 (both pinned in 3.10.1's `Cargo.lock`), which skips the
/// whitespace after the colon and trims trailing spaces, tabs, CR and LF from every value
/// (`parse_headers_iter_uninit`: "trim trailing whitespace in the header"). So a client's
/// `Authorization: Bearer ` reaches the server as `Bearer` (malformed, 400) and
/// `Bearer <token> ` as `Bearer <token>`. Over a socket hyper has done this already; an
/// in-process request gets the same values here.
fn as_parsed(mut headers: HeaderMap) -> HeaderMap {
    let ows = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    for v in headers.values_mut() {
        let bytes = v.as_bytes();
        let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
        let end = bytes.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
        if (start, end) != (0, bytes.len()) {
            if let Ok(t) = HeaderValue::from_bytes(&bytes[start..end]) {
                *v = t;
            }
        }
    }
    headers
}

/// Plain text, no `Content-Type` (shape A).
pub(crate) fn plain(status: u16, body: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// A body with a `Content-Type`.
pub(crate) fn typed(status: u16, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// `ErrorMessage` (shape B): `{"error":"..."}` or `{"error":"...","data":...}`, compact.
pub(crate) fn error_message<T: serde::Serialize>(
    status: u16,
    error: &str,
    data: Option<&T>,
) -> Response<Body> {
    #[derive(serde::Serialize)]
    struct ErrorMessage<'a, T: serde::Serialize> {
        error: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a T>,
    }
    let body = serde_json::to_string(&ErrorMessage { error, data }).unwrap_or_default();
    plain(status, body)
}

/// `AuthenticationError` (shape C): hand-formatted, a space after the colon, no escaping.
fn auth_error(status: u16, message: &str) -> Response<Body> {
    plain(status, format!(r#"{{"error": "{message}"}}"#))
}

const UNAUTHENTICATED: &str = "the request was not authenticated";
const MALFORMED: &str = "Authorization header was malformed, the request was not in the form of 'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic";

/// `validate_auth_header`: `Bearer`, `Token` or `Basic` (case-sensitive), one space, the token,
/// nothing more. `Basic` carries base64 of `user:token` (split at the last `:`).
fn validate_auth_header(value: &HeaderValue) -> Result<Vec<u8>, Response<Body>> {
    let text = value
        .to_str()
        .map_err(|_| auth_error(500, "to str error: failed to convert header to a str"))?;
    let malformed = || auth_error(400, MALFORMED);
    let mut parts = text.split(' ');
    let scheme = parts.next().ok_or_else(malformed)?;
    if !matches!(scheme, "Bearer" | "Token" | "Basic") {
        return Err(malformed());
    }
    let token = parts.next().ok_or_else(malformed)?;
    if parts.next().is_some() {
        return Err(malformed());
    }
    if scheme != "Basic" {
        return Ok(token.as_bytes().to_vec());
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (user, token) = decoded.rsplit_once(':').ok_or_else(malformed)?;
    if user.contains(':') {
        return Err(malformed());
    }
    Ok(token.as_bytes().to_vec())
}

/// `extract_v1_auth_token`: on `/query` and `/write`, the `p` parameter (a query string serde
/// cannot read, e.g. with two `p`, is ignored).
fn v1_token(path: &str, query: Option<&str>) -> Option<Vec<u8>> {
    if !matches!(path, "/query" | "/write") {
        return None;
    }
    serde_urlencoded::from_str::<crate::v3::params::V1AuthParameters>(query?)
        .ok()?
        .p
        .map(String::into_bytes)
}

/// `authenticate_request`.
fn authenticate(state: &AppState, req: &mut Incoming) -> Result<(), Response<Body>> {
    let token = match v1_token(&req.path, req.query.as_deref()) {
        Some(p) => Some(p),
        None => match req.headers.remove(header::AUTHORIZATION) {
            Some(v) => Some(validate_auth_header(&v)?),
            None => None,
        },
    };
    if state.config.v3.without_auth {
        return Ok(());
    }
    let admin = state.v3().admin_token.clone();
    match token {
        Some(t) if t == admin.as_bytes() => Ok(()),
        _ => Err(auth_error(401, UNAUTHENTICATED)),
    }
}

/// `perform_routing`.
async fn perform_routing(state: &Arc<AppState>, req: Request) -> Routed {
    let limit = state.config.v3.max_request_bytes;
    let mut req = collect(req, limit).await;
    if req.method == Method::OPTIONS {
        let mut r = plain(204, "");
        let h = r.headers_mut();
        for (k, v) in [
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "*"),
            ("access-control-allow-headers", "*"),
            ("access-control-max-age", "86400"),
        ] {
            h.insert(k, HeaderValue::from_static(v));
        }
        return Ok(r);
    }
    if state.config.v3.without_auth && req.path.starts_with("/api/v3/configure/token") {
        return Err(plain(405, "endpoint disabled, started without auth"));
    }
    let exempt = req.path == "/api/v3/configure/token/admin"
        || state
            .config
            .v3
            .paths_without_authz()
            .contains(&req.path.as_str());
    if !exempt {
        authenticate(state, &mut req)?;
    }
    let method = req.method.clone();
    let path = req.path.clone();
    match (method.as_str(), path.as_str()) {
        ("POST", "/write") => write::v1_write(state, req).await,
        ("POST", "/api/v2/write") => write::v2_write(state, req).await,
        ("POST", "/api/v3/write_lp") => write::write_lp(state, req).await,
        ("GET" | "POST", "/api/v3/query_sql") => query::query_sql(state, req).await,
        ("GET" | "POST", "/api/v3/query_influxql") => query::query_influxql(state, req).await,
        // The v1 handler turns its errors into answers: they get the CORS header too.
        ("GET" | "POST", "/query") => Ok(query::v1_query(state, req).await),
        ("GET", "/health" | "/api/v1/health") => Ok(typed(200, "text/plain; charset=utf-8", "OK")),
        ("GET" | "POST", "/ping") => Ok(ping(state)),
        ("GET", "/api/v3/configure/database") => configure::show_databases(state, req).await,
        ("POST", "/api/v3/configure/database") => configure::create_database(state, req).await,
        ("PUT", "/api/v3/configure/database") => configure::update_database(state, req).await,
        ("DELETE", "/api/v3/configure/database") => configure::delete_database(state, req).await,
        ("POST", "/api/v3/configure/table") => configure::create_table(state, req).await,
        ("DELETE", "/api/v3/configure/table") => configure::delete_table(state, req).await,
        // The admin token exists from the start (`--token`): creating another is a conflict.
        ("POST", "/api/v3/configure/token/admin") => {
            Err(plain(409, "token name already exists, _admin"))
        }
        // Without `--test-mode` the handler itself answers this.
        ("GET", "/api/v3/test/telemetry_snapshot") => Ok(plain(404, "Not found")),
        // No request trigger is ever configured on the reference.
        ("GET" | "POST", p) if p.starts_with("/api/v3/engine/") => {
            match error::read_body(&req, limit) {
                Ok(_) => Ok(plain(404, "{error: \"not found\"}")),
                Err(e) => Err(e.into_response()),
            }
        }
        (m, p) if routed_but_not_modelled(m, p) => Err(plain(
            501,
            format!("influx-reference does not model {m} {p} (InfluxDB 3 Core serves it)"),
        )),
        _ => Err(plain(404, "Not found")),
    }
}

/// Routes InfluxDB 3 Core serves that the reference leaves out: metrics, profiles, tokens
/// other than the admin token, caches, the processing engine and plugins.
fn routed_but_not_modelled(method: &str, path: &str) -> bool {
    matches!(
        (method, path),
        ("GET", "/metrics")
            | ("GET" | "POST", "/debug/pprof/heap")
            | ("DELETE", "/api/v3/configure/token")
            | ("POST", "/api/v3/configure/token/admin/regenerate")
            | ("POST", "/api/v3/configure/token/named_admin")
            | (
                "POST" | "DELETE",
                "/api/v3/configure/distinct_cache" | "/api/v3/configure/last_cache"
            )
            | (
                "POST",
                "/api/v3/configure/processing_engine_trigger/disable"
            )
            | ("POST", "/api/v3/configure/processing_engine_trigger/enable")
            | (
                "POST" | "DELETE",
                "/api/v3/configure/processing_engine_trigger"
            )
            | (
                "POST",
                "/api/v3/configure/plugin_environment/install_packages"
            )
            | (
                "POST",
                "/api/v3/configure/plugin_environment/install_requirements"
            )
            | (
                "POST",
                "/api/v3/plugin_test/wal" | "/api/v3/plugin_test/schedule"
            )
            | (
                "POST" | "DELETE",
                "/api/v3/configure/database/retention_period"
            )
            | ("POST" | "PUT", "/api/v3/plugins/files")
            | ("PUT", "/api/v3/plugins/directory")
    )
}

/// `ping`: 200 JSON with the version headers, a fresh v7 `Request-Id`.
fn ping(state: &AppState) -> Response<Body> {
    let now = state.clock.now_nanos();
    let (process_id, n) = {
        let mut v3 = state.v3();
        v3.pings += 1;
        (v3.process_id.clone(), v3.pings)
    };
    /// `PingResponse`, in its field order.
    #[derive(serde::Serialize)]
    struct PingResponse<'a> {
        product_name: &'a str,
        version: &'a str,
        revision: &'a str,
        process_id: &'a str,
    }
    let body = serde_json::to_string(&PingResponse {
        product_name: crate::v3::PRODUCT_NAME,
        version: crate::v3::VERSION,
        revision: crate::v3::REVISION,
        process_id: &process_id,
    })
    .unwrap_or_default();
    let request_id = crate::v3::uuid_v7(now, n);
    let mut r = typed(200, "application/json", body);
    let h = r.headers_mut();
    for (k, v) in [
        ("request-id", request_id.as_str()),
        ("x-influxdb-build", crate::v3::BUILD),
        ("x-influxdb-version", crate::v3::VERSION),
        ("x-request-id", request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    }
    r
}
