//! `/api/v2/swagger.json`: the API description, served as `static.NewSwaggerHandler` serves it.
//!
//! influxd embeds the OpenAPI document of the `influxdata/openapi` repository
//! (`contracts/oss.json`, fetched at build time by `scripts/fetch-swagger.sh`). That document
//! carries no licence we could redistribute it under, so the reference describes the routes
//! it serves itself: the same route (mounted for every method, `h.Mount` in
//! `http/api_handler.go`), status, and headers (`Cache-Control: public, max-age=3600` from
//! `mwSetCacheControl`; `ETag` and `Last-Modified` as `staticFileHandler` and
//! `http.ServeContent` derive them from the size and the build time, for which the reference
//! uses its start time), with a body that lists what this reference answers.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, Response, StatusCode};

use crate::config::Flavor;
use crate::model::time::{civil_from_days, format_http_date, NANOS_PER_SECOND};

use super::AppState;

/// (path, methods, summary) for every route a flavor mounts besides `/api/v2/swagger.json`.
fn routes(flavor: Flavor) -> Vec<(&'static str, &'static [&'static str], &'static str)> {
    let mut out: Vec<(&str, &[&str], &str)> = vec![
        (
            "/api/v2/write",
            &["post"],
            "Write line protocol to a bucket",
        ),
        ("/api/v2/query", &["post"], "Query data with Flux"),
        ("/api/v2/delete", &["post"], "Delete data from a bucket"),
        (
            "/api/v2/setup",
            &["get", "post"],
            "Check or run the initial setup",
        ),
        (
            "/api/v2/orgs",
            &["get", "post"],
            "List or create organizations",
        ),
        (
            "/api/v2/orgs/{orgID}",
            &["get", "patch", "delete"],
            "An organization",
        ),
        ("/api/v2/me", &["get"], "The signed-in user"),
        (
            "/api/v2/me/password",
            &["put"],
            "Change the signed-in user's password",
        ),
        ("/api/v2/users", &["get", "post"], "List or create users"),
        (
            "/api/v2/users/{userID}",
            &["get", "patch", "delete"],
            "A user",
        ),
        (
            "/api/v2/users/{userID}/permissions",
            &["get"],
            "A user's permissions",
        ),
        (
            "/api/v2/users/{userID}/password",
            &["put", "post"],
            "Change a user's password",
        ),
        (
            "/api/v2/buckets",
            &["get", "post"],
            "List or create buckets",
        ),
        (
            "/api/v2/buckets/{bucketID}",
            &["get", "patch", "delete"],
            "A bucket",
        ),
        (
            "/api/v2/authorizations",
            &["get", "post"],
            "List or create authorizations",
        ),
        (
            "/api/v2/authorizations/{authID}",
            &["get", "patch", "delete"],
            "An authorization",
        ),
        (
            "/write",
            &["post"],
            "Write line protocol (InfluxDB 1.x compatibility)",
        ),
        ("/health", &["get"], "Health of the instance"),
        ("/ready", &["get"], "Readiness of the instance"),
        ("/ping", &["get", "head"], "Version of the instance"),
    ];
    match flavor {
        Flavor::V2 => {
            out.push(("/api/v2/signin", &["post"], "Create a user session"));
            out.push(("/api/v2/signout", &["post"], "Expire a user session"));
        }
        Flavor::Cloud => {
            out.push((
                "/api/v2/buckets/{bucketID}/schema/measurements",
                &["get", "post"],
                "List or create measurement schemas of a bucket",
            ));
            out.push((
                "/api/v2/buckets/{bucketID}/schema/measurements/{measurementID}",
                &["get", "patch"],
                "A measurement schema",
            ));
        }
        Flavor::V3 => {}
    }
    out.sort_by_key(|r| r.0);
    out
}

/// The OpenAPI 3.0 document of the routes `flavor` serves.
pub fn document(flavor: Flavor, version: &str) -> String {
    let mut paths = serde_json::Map::new();
    for (path, methods, summary) in routes(flavor) {
        let mut ops = serde_json::Map::new();
        for m in methods {
            ops.insert(
                (*m).to_string(),
                serde_json::json!({"summary": summary, "responses": {"default": {"description": "InfluxDB's answer"}}}),
            );
        }
        paths.insert(path.to_string(), serde_json::Value::Object(ops));
    }
    let doc = serde_json::json!({
        "openapi": "3.0.0",
        "info": {
            "title": "InfluxDB OSS API Service (influx-reference)",
            "version": "2.0.0",
            "description": format!(
                "The routes influx-reference {version} serves, an executable model of InfluxDB's HTTP API. \
                 influxd serves the document of github.com/influxdata/openapi (contracts/oss.json) here."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
    });
    doc.to_string()
}

/// Any method on `/api/v2/swagger.json` (GET needs no token; `http.ServeContent` writes no
/// body for HEAD).
pub async fn swagger(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let body = document(state.config.flavor, env!("CARGO_PKG_VERSION"));
    let built = state.started_at;
    let secs = built.div_euclid(NANOS_PER_SECOND);
    let (_, _, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    // static.etag: `"%d%d%d%d%d"` of size, day, hour, minute, second.
    let etag = format!(
        "\"{}{}{}{}{}\"",
        body.len(),
        day,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    let len = body.len();
    let mut resp = if req.method() == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(body))
    };
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format_http_date(built)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_each_flavors_routes() {
        let v2: serde_json::Value = serde_json::from_str(&document(Flavor::V2, "0")).unwrap();
        assert_eq!(v2["openapi"], "3.0.0");
        assert!(v2["paths"]["/api/v2/signin"]["post"].is_object());
        assert!(v2["paths"]["/api/v2/write"]["post"].is_object());
        assert!(v2["paths"]["/api/v2/buckets/{bucketID}/schema/measurements"].is_null());
        let cloud: serde_json::Value = serde_json::from_str(&document(Flavor::Cloud, "0")).unwrap();
        assert!(cloud["paths"]["/api/v2/signin"].is_null());
        assert!(
            cloud["paths"]["/api/v2/buckets/{bucketID}/schema/measurements"]["get"].is_object()
        );
    }
}
