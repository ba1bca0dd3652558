//! `/health`, `/ready`, `/ping`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};

use crate::api_error::push_go_json_string;
use crate::model::time::{format_go_duration, format_rfc3339_nano};

use super::respond;
use super::AppState;

/// `GET /health`: the body InfluxDB writes by hand, irregular spacing and trailing newline
/// included (`http/health.go`).
pub async fn health(State(state): State<Arc<AppState>>) -> Response<Body> {
    let mut version = String::new();
    push_go_json_string(&mut version, &state.config.version);
    let mut commit = String::new();
    push_go_json_string(&mut commit, &state.config.commit);
    let body = format!(
        "{{\"name\":\"influxdb\", \"message\":\"ready for queries and writes\", \"status\":\"pass\", \"checks\":[], \"version\": {version}, \"commit\": {commit}}}\n"
    );
    respond::json(StatusCode::OK, body)
}

/// `GET /ready`: JSON indented with four spaces, then a newline (`http/ready.go`).
pub async fn ready(State(state): State<Arc<AppState>>) -> Response<Body> {
    let now = state.clock.now_nanos();
    let body = format!(
        "{{\n    \"status\": \"ready\",\n    \"started\": \"{}\",\n    \"up\": \"{}\"\n}}\n",
        format_rfc3339_nano(state.started_at),
        format_go_duration(now.saturating_sub(state.started_at))
    );
    respond::json(StatusCode::OK, body)
}

/// `GET|HEAD /ping`: 204, no body, no auth.
pub async fn ping() -> Response<Body> {
    respond::through_gzip_handler(respond::no_content())
}

/// Any other method on `/ping`. The ping handler is a bare `httprouter.New()`
/// (`http/legacy/ping_handler.go`), so its defaults answer: `OPTIONS` is 200 with the allowed
/// methods, anything else `http.Error`'s plain-text 405 (influxdata/httprouter, `ServeHTTP`
/// and `allowed`: the methods sorted, `OPTIONS` added).
pub async fn ping_other_method(method: Method) -> Response<Body> {
    const ALLOW: &str = "GET, HEAD, OPTIONS";
    let mut resp = if method == Method::OPTIONS {
        Response::new(Body::empty())
    } else {
        respond::go_http_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
    };
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    respond::through_gzip_handler(resp)
}

/// `/api/v2`: the links document (`http/api_handler.go`: `h.Handle("/api/v2",
/// serveLinksHandler(...))`, every method; only `GET` needs no token). `encodeResponse`
/// writes `apiLinks`, a Go map, so the keys come out sorted, compact, with a newline.
pub async fn api_links() -> Response<Body> {
    let links = serde_json::json!({
        "authorizations": "/api/v2/authorizations",
        "backup": "/api/v2/backup",
        "buckets": "/api/v2/buckets",
        "dashboards": "/api/v2/dashboards",
        "external": {"statusFeed": "https://www.influxdata.com/feed/json"},
        "flags": "/api/v2/flags",
        "labels": "/api/v2/labels",
        "variables": "/api/v2/variables",
        "me": "/api/v2/me",
        "notificationRules": "/api/v2/notificationRules",
        "notificationEndpoints": "/api/v2/notificationEndpoints",
        "orgs": "/api/v2/orgs",
        "query": {
            "self": "/api/v2/query",
            "ast": "/api/v2/query/ast",
            "analyze": "/api/v2/query/analyze",
            "suggestions": "/api/v2/query/suggestions",
        },
        "restore": "/api/v2/restore",
        "setup": "/api/v2/setup",
        "signin": "/api/v2/signin",
        "signout": "/api/v2/signout",
        "sources": "/api/v2/sources",
        "scrapers": "/api/v2/scrapers",
        "swagger": "/api/v2/swagger.json",
        "system": {"metrics": "/metrics", "debug": "/debug/pprof", "health": "/health"},
        "tasks": "/api/v2/tasks",
        "checks": "/api/v2/checks",
        "telegrafs": "/api/v2/telegrafs",
        "plugins": "/api/v2/telegraf/plugins",
        "users": "/api/v2/users",
        "write": "/api/v2/write",
        "delete": "/api/v2/delete",
    });
    // serde_json's map is ordered by key (no `preserve_order`), as Go's map encoding is;
    // no value holds a character Go would escape differently.
    respond::json(StatusCode::OK, format!("{links}\n"))
}
